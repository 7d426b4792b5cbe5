// The trusted prelude of a `search` program: read-only helpers over the spec, no API access.
(() => {
  "use strict";
  const g = globalThis;
  const search = g.__spec_search;
  const operations = g.__spec_operations;
  const operation = g.__spec_operation;
  const declare = g.__spec_declare;
  for (const name of ["__spec_search", "__spec_operations", "__spec_operation", "__spec_declare"]) delete g[name];
  const spec = Object.freeze({
    search: (query, limit) => search({ query: String(query), limit: limit === undefined ? 10 : limit }),
    operations: () => operations(null),
    operation: (name) => operation({ name: String(name) }),
    declare: (names) => declare({ names: Array.isArray(names) ? names.map(String) : [String(names)] }),
  });
  Object.defineProperty(g, "spec", { value: spec, writable: false, configurable: false, enumerable: false });
  // An agent that mixes up the two tools gets told which one it needs.
  Object.defineProperty(g, "api", {
    get() {
      throw new ReferenceError(
        "api is not available in a search program, which sees only `spec`: call operations with the execute tool",
      );
    },
    configurable: false,
    enumerable: false,
  });
})();
