//! The fixed block that declares the sandbox globals: `api` and its helpers, `ApiError`,
//! `console`, `sleep`. Operation declarations (`interface Api { … }`) merge into it.
//!
//! `api` is typed as `WithRaw<Api>`: every method `op(args)` also gets the overload
//! `op(args, { throwOnError: false })` resolving to `{ status, headers, body }`, declared once
//! here instead of once per operation. [`FILE_TYPES`] is declared only with operations that
//! move bytes: `Binary` is how a script sends them (the file shapes
//! `codemode-upstream` accepts: `{ data, encoding? }` or `{ base64 }`, each with `filename?` and
//! `contentType?`); `BinaryResponse` is how it receives them (`{ contentType, size, base64? }`).
//! `{ base64 }` is the received shape on purpose, so a download (once its `base64` is checked
//! present: a truncated one has none) can be uploaded unchanged.

/// The helpers every API's client has (`request`, `paginate`), as interface members.
macro_rules! helper_members {
    () => {
        r#"  /** Any request; path relative to the base URL. */
  request(req: { method: string; path: string; query?: object; headers?: object; body?: unknown; contentType?: string }): Promise<unknown>;
  /** All items of `op` (array body or its data/items/result list), following Link, next, cursor, has_more or page; maxPages default 10; warns if cut short. */
  paginate(op: string | Function, args?: object, opts?: { maxItems?: number; maxPages?: number }): Promise<unknown[]>;
"#
    };
}

/// `WithRaw`, the `{ throwOnError: false }` overload of every method.
macro_rules! with_raw {
    () => {
        r#"type WithRaw<T> = { [K in keyof T]: T[K] extends (a: infer A) => Promise<infer R> ? T[K] & ((a: A, o: { throwOnError: false }) => Promise<{ status: number; headers: Record<string, string>; body: R }>) : T[K] };
"#
    };
}

/// Everything after `api`: errors, `sleep`, `console`.
macro_rules! other_globals {
    () => {
        r#"declare class ApiError extends Error { status: number; method: string; path: string; body: unknown; requestId?: string; retryAfter?: number }
declare function sleep(ms: number): Promise<void>;
interface Console { log(...a: unknown[]): void; info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void }
declare var console: Console;
"#
    };
}

/// TypeScript for the sandbox globals (≈325 o200k tokens; the generic overload is ≈70 of them). Valid on its own: `Api` is declared
/// empty here and operation declarations add members to it.
pub const GLOBALS: &str = concat!(
    "/** api.<op>(args): the 2xx body, or throws ApiError. api.<op>(args, { throwOnError: false }): { status, headers, body }. */\n",
    "interface Api {\n",
    helper_members!(),
    "}\n",
    with_raw!(),
    "declare const api: WithRaw<Api>;\n",
    other_globals!(),
);

/// The sandbox globals of an engine that serves several APIs, each under its name
/// (`api.github.<op>`): one `namespace` per API whose `Api` interface has the helpers, and which
/// a search answer's declarations for that API (`declare namespace github { interface Api { … } }`)
/// merge into. `names` must be identifiers that are not TypeScript keywords (the engine checks).
pub fn namespaced_globals(names: &[&str]) -> String {
    let mut text = String::from(concat!(
        "/** api.<api>.<op>(args): the 2xx body, or throws ApiError. api.<api>.<op>(args, { throwOnError: false }): { status, headers, body }. */\n",
        "interface ApiHelpers {\n",
        helper_members!(),
        "}\n",
        with_raw!(),
    ));
    for name in names {
        text.push_str(&format!(
            "declare namespace {name} {{ interface Api extends ApiHelpers {{}} }}\n"
        ));
    }
    let members: Vec<String> = names
        .iter()
        .map(|name| format!("{name}: WithRaw<{name}.Api>"))
        .collect();
    text.push_str(&format!(
        "declare const api: {{ {} }};\n",
        members.join("; ")
    ));
    text.push_str(other_globals!());
    text
}

/// The file shapes, declared after the operations in any declarations that send or receive
/// bytes (few do; the globals every tool list carries would pay ~140 tokens for them).
pub const FILE_TYPES: &str = r#"/** Bytes to send: `data` is text, or base64 if `encoding: "base64"` (default "utf8"); `{ base64 }` is short for that; `filename` names a multipart file. */
type Binary = { data: string; encoding?: "utf8" | "base64"; filename?: string; contentType?: string } | { base64: string; filename?: string; contentType?: string };
/** Bytes received (no base64 when truncated); one with base64 can be sent on as a Binary. */
interface BinaryResponse { contentType: string; size: number; base64?: string; truncated?: true }
"#;

/// Names [`GLOBALS`] and [`FILE_TYPES`] declare; generated type names avoid them.
pub(crate) const GLOBAL_NAMES: &[&str] = &[
    "Api",
    "ApiHelpers",
    "WithRaw",
    "ApiError",
    "Binary",
    "BinaryResponse",
    "Console",
];
