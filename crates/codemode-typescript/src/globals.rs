//! The fixed block that declares the sandbox globals: `api` and its helpers, `ApiError`,
//! `console`, `sleep`. Operation declarations (`interface Api { … }`) merge into it.
//!
//! `api` is typed as `WithRaw<Api> & ApiHelpers`: every operation method `op(args)` also gets
//! the overload `op(args, { throwOnError: false })` resolving to `RawResponse`, declared once
//! here instead of once per operation.

/// TypeScript for the sandbox globals (≈200 o200k tokens). Valid on its own: `Api` is declared
/// empty here and operation declarations add members to it.
pub const GLOBALS: &str = r#"/** Every operation is a method: `await api.<name>(args)` resolves to the 2xx body, or throws ApiError. */
interface Api {}
interface ApiHelpers {
  /** Escape hatch: any request; `path` is relative to the API base URL. */
  request(req: { method: string; path: string; query?: Record<string, unknown>; headers?: Record<string, string>; body?: unknown; contentType?: string }): Promise<unknown>;
  /** Calls operation `name` page after page; resolves to all items. */
  paginate(name: string, args?: object, opts?: { maxItems?: number; maxPages?: number }): Promise<unknown[]>;
}
/** What `api.<name>(args, { throwOnError: false })` resolves to, whatever the status (body is the error body when not 2xx). */
interface RawResponse<T> { status: number; headers: Record<string, string>; body: T }
type WithRaw<T> = { [K in keyof T]: T[K] extends (args: infer A) => Promise<infer R> ? T[K] & ((args: A, opts: { throwOnError: false }) => Promise<RawResponse<R>>) : T[K] };
declare const api: WithRaw<Api> & ApiHelpers;
/** Thrown on a non-2xx response. */
declare class ApiError extends Error { status: number; method: string; path: string; body: unknown; requestId?: string; retryAfter?: number }
/** A binary body: base64 bytes with their media type. */
interface Binary { contentType: string; base64: string }
declare function sleep(ms: number): Promise<void>;
interface Console { log(...args: unknown[]): void; info(...args: unknown[]): void; warn(...args: unknown[]): void; error(...args: unknown[]): void }
declare var console: Console;
"#;

/// Names [`GLOBALS`] declares; generated type names avoid them.
pub(crate) const GLOBAL_NAMES: &[&str] = &[
    "Api",
    "ApiHelpers",
    "RawResponse",
    "WithRaw",
    "ApiError",
    "Binary",
    "Console",
];
