// The trusted prelude of every execute run: defines `api`, `ApiError` and `sleep` on top of the
// raw host functions, then hides those. Runs before the agent's code in the same context.
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

  // Each method knows its operation's name, so `api.paginate(api.pullsList, …)` works like
  // `api.paginate("pullsList", …)`.
  const operation = (name) => {
    const call = (args, options) =>
      hostCall({ name, args: args === undefined ? {} : args, options: options === undefined ? {} : options }).then(reply, rethrow);
    Object.defineProperty(call, "operationName", { value: name });
    return call;
  };
  const operationName = (op) => (typeof op === "function" && typeof op.operationName === "string" ? op.operationName : op);

  const helpers = {
    request: (req, options) => hostRequest({ request: req, options: options === undefined ? {} : options }).then(reply, rethrow),
    paginate: (op, args, limits) =>
      hostPaginate({ name: operationName(op), args: args === undefined ? {} : args, limits: limits === undefined ? {} : limits }).catch(
        rethrow,
      ),
  };

  // Operation methods are resolved lazily: thousands of operations cost nothing per run.
  const api = new Proxy(Object.create(null), {
    get(_target, name) {
      if (typeof name !== "string") return undefined;
      if (name === "then") return undefined; // `await api` must not look like a thenable
      if (Object.prototype.hasOwnProperty.call(helpers, name)) return helpers[name];
      return operation(name);
    },
    has: () => true,
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    getPrototypeOf: () => null,
    setPrototypeOf: () => false,
  });

  const sleep = (ms) => hostSleep({ ms: Number(ms) || 0 });

  Object.defineProperty(g, "api", { value: api, writable: false, configurable: false, enumerable: false });
  Object.defineProperty(g, "ApiError", { value: ApiError, writable: false, configurable: false, enumerable: false });
  Object.defineProperty(g, "sleep", { value: sleep, writable: false, configurable: false, enumerable: false });
})();
