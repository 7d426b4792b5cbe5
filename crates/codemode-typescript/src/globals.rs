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

/// TypeScript for the sandbox globals (≈325 o200k tokens; the generic overload is ≈70 of them). Valid on its own: `Api` is declared
/// empty here and operation declarations add members to it.
pub const GLOBALS: &str = r#"/** api.<op>(args): the 2xx body, or throws ApiError. api.<op>(args, { throwOnError: false }): { status, headers, body }. */
interface Api {
  /** Any request; path relative to the base URL. */
  request(req: { method: string; path: string; query?: object; headers?: object; body?: unknown; contentType?: string }): Promise<unknown>;
  /** All items of `op` (array body or its data/items/result list), following Link, next, cursor, has_more or page; maxPages default 10; warns if cut short. */
  paginate(op: string | Function, args?: object, opts?: { maxItems?: number; maxPages?: number }): Promise<unknown[]>;
}
type WithRaw<T> = { [K in keyof T]: T[K] extends (a: infer A) => Promise<infer R> ? T[K] & ((a: A, o: { throwOnError: false }) => Promise<{ status: number; headers: Record<string, string>; body: R }>) : T[K] };
declare const api: WithRaw<Api>;
declare class ApiError extends Error { status: number; method: string; path: string; body: unknown; requestId?: string; retryAfter?: number }
declare function sleep(ms: number): Promise<void>;
interface Console { log(...a: unknown[]): void; info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void }
declare var console: Console;
"#;

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
    "WithRaw",
    "ApiError",
    "Binary",
    "BinaryResponse",
    "Console",
];
