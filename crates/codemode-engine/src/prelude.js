// The trusted prelude of every execute run: defines `api`, `ApiError` and `sleep` on top of the
// raw host functions, then hides those. Runs before the agent's code in the same context.
// `API_NAMES` (spliced in before this file by the engine) lists the APIs of an engine that
// serves several, called as `api.<api>.<operation>`; it is `null` with one (`api.<operation>`).
(() => {
  "use strict";
  const g = globalThis;
  const hostCall = g.__codemode_call;
  const hostRequest = g.__codemode_request;
  const hostPaginate = g.__codemode_paginate;
  const hostSleep = g.__codemode_sleep;
  for (const name of ["__codemode_call", "__codemode_request", "__codemode_paginate", "__codemode_sleep"]) {
    delete g[name];
  }

  class ApiError extends Error {
    constructor(message, data) {
      super(message);
      this.name = "ApiError";
      if (data && typeof data === "object") Object.assign(this, data);
    }
  }

  // Host errors arrive as plain Errors carrying their data as properties; give API failures their
  // class so `e instanceof ApiError` works, and keep every other error as it is.
  const rethrow = (e) => {
    if (e && e.name === "ApiError" && !(e instanceof ApiError)) {
      const data = {};
      for (const key of Object.keys(e)) data[key] = e[key];
      throw new ApiError(e.message, data);
    }
    throw e;
  };

  // The host answers `{ value }`, plus `planned` when the value is a dry run's placeholder: the
  // request that was not sent goes on the placeholder as non-enumerable `dryRun` and `planned`,
  // so the placeholder spreads and serializes as the resource it stands for.
  const reply = (r) => {
    const value = r.value;
    if (r.planned !== undefined && value !== null && typeof value === "object" && !Object.prototype.hasOwnProperty.call(value, "dryRun")) {
      Object.defineProperty(value, "dryRun", { value: true });
      Object.defineProperty(value, "planned", { value: r.planned });
    }
    return value;
  };

  // Each method knows its operation's name (and its API's, with several), so
  // `api.paginate(api.pullsList, …)` works like `api.paginate("pullsList", …)`.
  const operation = (apiName, name) => {
    const call = (args, options) =>
      hostCall({ api: apiName, name, args: args === undefined ? {} : args, options: options === undefined ? {} : options }).then(
        reply,
        rethrow,
      );
    Object.defineProperty(call, "operationName", { value: name });
    Object.defineProperty(call, "apiName", { value: apiName });
    return call;
  };
  const target = (op, apiName) =>
    typeof op === "function" && typeof op.operationName === "string" ? { api: op.apiName, name: op.operationName } : { api: apiName, name: op };

  const helpersOf = (apiName) => ({
    request: (req, options) =>
      hostRequest({ api: apiName, request: req, options: options === undefined ? {} : options }).then(reply, rethrow),
    paginate: (op, args, limits) => {
      const t = target(op, apiName);
      return hostPaginate({
        api: t.api,
        name: t.name,
        args: args === undefined ? {} : args,
        limits: limits === undefined ? {} : limits,
      }).catch(rethrow);
    },
  });

  const frozen = {
    has: () => true,
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    getPrototypeOf: () => null,
    setPrototypeOf: () => false,
  };
  const own = (object, name) => Object.prototype.hasOwnProperty.call(object, name);

  // One API's client. Operation methods are resolved lazily: thousands of operations cost
  // nothing per run.
  const client = (apiName) => {
    const helpers = helpersOf(apiName);
    return new Proxy(Object.create(null), {
      ...frozen,
      get(_target, name) {
        if (typeof name !== "string") return undefined;
        if (name === "then") return undefined; // `await api` must not look like a thenable
        if (own(helpers, name)) return helpers[name];
        return operation(apiName, name);
      },
    });
  };

  // With several APIs, `api.<api>` is each one's client. Any other name is a callable client of
  // an API that does not exist: calling it, or an operation on it, gets the host's explanation
  // (the API names, or the API that has the operation a program called without one).
  const namespaced = () => {
    const clients = Object.create(null);
    for (const name of API_NAMES) clients[name] = client(name);
    const helpers = helpersOf(null);
    const unknown = (apiName) =>
      new Proxy(() => undefined, {
        ...frozen,
        get(_target, name) {
          if (typeof name !== "string" || name === "then") return undefined;
          return operation(apiName, name);
        },
        apply: (_target, _this, args) => operation(apiName, null)(args[0], args[1]),
      });
    return new Proxy(Object.create(null), {
      ...frozen,
      get(_target, name) {
        if (typeof name !== "string") return undefined;
        if (name === "then") return undefined;
        if (own(clients, name)) return clients[name];
        if (own(helpers, name)) return helpers[name];
        return unknown(name);
      },
    });
  };
  const api = API_NAMES === null ? client(null) : namespaced();

  const sleep = (ms) => hostSleep({ ms: Number(ms) || 0 });

  Object.defineProperty(g, "api", { value: api, writable: false, configurable: false, enumerable: false });
  Object.defineProperty(g, "ApiError", { value: ApiError, writable: false, configurable: false, enumerable: false });
  Object.defineProperty(g, "sleep", { value: sleep, writable: false, configurable: false, enumerable: false });
})();
