// Trusted setup of every run, evaluated before the prelude and the agent's code. It captures the
// built-ins it relies on, so later changes to globals by the agent cannot subvert it, installs the
// capturing console and the host functions, and returns the helpers the Rust runner drives.
// It is a module (strict mode) so each worker compiles it to bytecode once and only loads it per run.
// The module stays reachable through `import('bootstrap.js')`, so `setup` works only once per context.
let setupDone = false;
export function setup(hostAsync, hostSync, hostLog, hostTimer, hostClearTimer, asyncNames, syncNames) {
  if (setupDone) throw new TypeError("the sandbox bootstrap has already run");
  setupDone = true;
  const G = globalThis;
  const call = Function.prototype.call;
  const uncurry = (f) => call.bind(f);
  const objectKeys = Object.keys;
  const defineProperty = Object.defineProperty;
  const isArray = Array.isArray;
  const jsonStringify = JSON.stringify;
  const jsonParse = JSON.parse;
  const toTag = uncurry(Object.prototype.toString);
  const mapForEach = uncurry(Map.prototype.forEach);
  const setForEach = uncurry(Set.prototype.forEach);
  const isView = ArrayBuffer.isView;
  const StringCtor = String;
  const ErrorCtor = Error;
  const PromiseCtor = Promise;
  const promiseThen = uncurry(Promise.prototype.then);
  const MAX_DEPTH = 1000;

  // A failure of the JSON conversion itself (as opposed to an exception thrown by the agent's code).
  class ConversionFailure {
    constructor(kind, message) {
      this.kind = kind;
      this.message = message;
    }
  }

  // Convert `value` to JSON text following the rules documented on SandboxConfig. `undefined` (and
  // functions, symbols) at the top level become `null`. Throws ConversionFailure on cycles, excessive
  // depth, or when the text grows past `limit` UTF-16 units (the Rust side re-checks bytes).
  function toJson(value, limit) {
    const ancestors = [];
    let size = 0;
    const grow = (n) => {
      size += n;
      if (size > limit) throw new ConversionFailure("too_large", "the result is larger than " + limit + " bytes as JSON");
    };
    const convert = (v, key, path) => {
      if (v !== null && typeof v === "object") {
        const toJSON = v.toJSON;
        if (typeof toJSON === "function") v = call.call(toJSON, v, key);
      }
      switch (typeof v) {
        case "undefined":
        case "function":
        case "symbol":
          return undefined;
        case "string": {
          const s = jsonStringify(v);
          grow(s.length);
          return s;
        }
        case "number": {
          const s = jsonStringify(v);
          grow(s.length);
          return s;
        }
        case "boolean":
          grow(5);
          return v ? "true" : "false";
        case "bigint": {
          const s = '"' + StringCtor(v) + '"';
          grow(s.length);
          return s;
        }
      }
      if (v === null) {
        grow(4);
        return "null";
      }
      for (let i = 0; i < ancestors.length; i++) {
        if (ancestors[i] === v) throw new ConversionFailure("not_serializable", "cycle detected at " + path);
      }
      if (ancestors.length >= MAX_DEPTH) {
        throw new ConversionFailure("not_serializable", "nested deeper than " + MAX_DEPTH + " levels at " + path);
      }
      ancestors[ancestors.length] = v;
      const tag = toTag(v);
      let out;
      if (isArray(v)) {
        out = arrayJson(v, v.length, (i) => v[i], path);
      } else if (tag === "[object Map]") {
        const parts = [];
        mapForEach(v, (item, k) => {
          const name = StringCtor(k);
          const s = convert(item, name, path + "." + name);
          if (s !== undefined) {
            const quoted = jsonStringify(name);
            grow(quoted.length + 2);
            parts[parts.length] = quoted + ":" + s;
          }
        });
        out = "{" + parts.join(",") + "}";
      } else if (tag === "[object Set]") {
        const items = [];
        setForEach(v, (item) => {
          items[items.length] = item;
        });
        out = arrayJson(items, items.length, (i) => items[i], path);
      } else if (isView(v) && tag !== "[object DataView]") {
        out = arrayJson(v, v.length, (i) => v[i], path);
      } else if (tag === "[object Number]" || tag === "[object String]" || tag === "[object Boolean]") {
        out = convert(v.valueOf(), key, path);
      } else {
        const keys = objectKeys(v);
        const parts = [];
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i];
          const s = convert(v[k], k, path + "." + k);
          if (s !== undefined) {
            const quoted = jsonStringify(k);
            grow(quoted.length + 2);
            parts[parts.length] = quoted + ":" + s;
          }
        }
        out = "{" + parts.join(",") + "}";
      }
      ancestors.length = ancestors.length - 1;
      return out;
    };
    const arrayJson = (source, length, at, path) => {
      const parts = [];
      for (let i = 0; i < length; i++) {
        const s = convert(at(i), StringCtor(i), path + "[" + i + "]");
        grow(1);
        parts[i] = s === undefined ? "null" : s;
      }
      return "[" + parts.join(",") + "]";
    };
    const text = convert(value, "", "result");
    return text === undefined ? "null" : text;
  }

  // Convert the final result: [kind, payload] where kind is ok | too_large | not_serializable.
  function resultJson(value, limit) {
    try {
      return ["ok", toJson(value, limit)];
    } catch (e) {
      if (e instanceof ConversionFailure) return [e.kind, e.message];
      return ["not_serializable", "converting the result to JSON threw " + describe(e)];
    }
  }

  // A one-line description of any thrown value, robust against hostile getters.
  function describe(e) {
    try {
      if (e !== null && typeof e === "object" && e instanceof ErrorCtor) return StringCtor(e.name) + ": " + StringCtor(e.message);
      if (typeof e === "string") return "a string: " + jsonStringify(e);
      if (e === null) return "null";
      if (typeof e !== "object") return "the " + typeof e + " " + StringCtor(e);
      try {
        return "a non-Error object: " + toJson(e, 300);
      } catch (failure) {
        if (failure instanceof ConversionFailure) return "a non-Error object";
        throw failure;
      }
    } catch (_) {
      return "a value that cannot be described";
    }
  }

  const hostError = (failure) => {
    const error = new ErrorCtor(StringCtor(failure.message));
    defineProperty(error, "name", { value: StringCtor(failure.name), writable: true, configurable: true });
    const data = failure.data;
    if (data !== null && typeof data === "object" && !isArray(data)) {
      const keys = objectKeys(data);
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] === "name" || keys[i] === "message" || keys[i] === "stack") continue;
        error[keys[i]] = data[keys[i]];
      }
    }
    return error;
  };

  const argJson = (arg, name) => {
    try {
      return toJson(arg, 16 * 1024 * 1024);
    } catch (e) {
      if (e instanceof ConversionFailure) throw new TypeError("the argument of " + name + " cannot be converted to JSON: " + e.message);
      throw e;
    }
  };

  // Pending async host calls: id -> [resolve, reject], settled by the Rust runner through `settle`.
  // Tables keyed by the numeric ids the host hands out are prototype-less objects: plain property
  // access, nothing the agent can reach or patch, and cheaper per run than a Map and its methods.
  const pending = { __proto__: null };
  const install = (name, fn) => {
    defineProperty(G, name, { value: fn, writable: true, configurable: true, enumerable: false });
  };
  for (let i = 0; i < asyncNames.length; i++) {
    const name = asyncNames[i];
    install(name, {
      [name](arg) {
        const json = argJson(arg, name);
        // Captured now so a failure points at the agent's call, not at the code that settles it.
        const site = new ErrorCtor();
        const id = hostAsync(name, json);
        return new PromiseCtor((resolve, reject) => {
          const fail = (error) => {
            try {
              const lines = StringCtor(site.stack);
              defineProperty(error, "stack", { value: lines, writable: true, configurable: true });
            } catch (_) {}
            reject(error);
          };
          pending[id] = [resolve, fail];
        });
      },
    }[name]);
  }
  for (let i = 0; i < syncNames.length; i++) {
    const name = syncNames[i];
    install(name, {
      [name](arg) {
        const reply = hostSync(name, argJson(arg, name));
        const payload = jsonParse(reply.slice(1));
        if (reply[0] === "o") return payload;
        throw hostError(payload);
      },
    }[name]);
  }

  // Timers are host-backed: the worker waits for them like for host calls, within the run's deadline.
  const timers = { __proto__: null };
  // Methods rather than function expressions: named, and without a `prototype` object to create.
  const timerFunctions = {
    setTimeout(callback, delay, ...args) {
      if (typeof callback !== "function") throw new TypeError("setTimeout needs a function");
      const ms = +delay > 0 ? +delay : 0;
      const id = hostTimer(ms);
      timers[id] = true;
      const fired = new PromiseCtor((resolve) => {
        pending[id] = [resolve, resolve];
      });
      promiseThen(fired, () => {
        if (timers[id] === undefined) return;
        delete timers[id];
        callback(...args);
      });
      return id;
    },
    clearTimeout(id) {
      if (typeof id !== "number" || timers[id] === undefined) return;
      delete timers[id];
      delete pending[id];
      hostClearTimer(id);
    },
  };
  install("setTimeout", timerFunctions.setTimeout);
  install("clearTimeout", timerFunctions.clearTimeout);

  // Console: format like a terminal would, hand each line to the host until its byte budget is spent.
  let consoleOpen = true;
  const formatArg = (v) => {
    if (typeof v === "string") return v;
    if (v !== null && typeof v === "object" && v instanceof ErrorCtor) {
      try {
        return StringCtor(v.name) + ": " + StringCtor(v.message);
      } catch (_) {
        return "Error";
      }
    }
    if (typeof v === "function") return "[Function " + (v.name || "anonymous") + "]";
    if (typeof v === "symbol" || typeof v === "bigint" || v === undefined) return StringCtor(v);
    try {
      return toJson(v, 64 * 1024);
    } catch (_) {
      try {
        return StringCtor(v);
      } catch (_) {
        return "[object]";
      }
    }
  };
  // Arrow functions: no `prototype` object to create per method and run.
  const logger = (level) => (...args) => {
    if (!consoleOpen) return;
    let text = "";
    for (let i = 0; i < args.length; i++) text += (i ? " " : "") + formatArg(args[i]);
    consoleOpen = hostLog(level, text);
  };
  const consoleObject = {
    log: logger("log"),
    info: logger("info"),
    warn: logger("warn"),
    error: logger("error"),
    debug: logger("debug"),
  };
  consoleObject.trace = consoleObject.debug;
  consoleObject.dir = consoleObject.log;
  consoleObject.table = consoleObject.log;
  install("console", consoleObject);

  // The value of the agent's code: call it if it is a function, then await it. `state` is polled by Rust.
  function start(evaluated, unwrapCompletion) {
    const state = { done: false, ok: false, value: undefined };
    const run = async () => {
      let v = await evaluated;
      if (unwrapCompletion) v = v === null || v === undefined ? undefined : v.value;
      // The body form evaluates to its wrapper function, which may itself return the agent's function.
      for (let calls = 0; calls < 2 && typeof v === "function"; calls++) v = await v();
      return await v;
    };
    promiseThen(
      run(),
      (v) => {
        state.done = true;
        state.ok = true;
        state.value = v;
      },
      (e) => {
        state.done = true;
        state.value = e;
      },
    );
    return state;
  }

  // Settle an async host call: ok -> resolve with the JSON value, else reject with the host error.
  function settle(id, ok, json) {
    const entry = pending[id];
    if (entry === undefined) return;
    delete pending[id];
    const payload = jsonParse(json);
    if (ok) entry[0](payload);
    else entry[1](hostError(payload));
  }

  return { start, settle, resultJson, describe };
}
