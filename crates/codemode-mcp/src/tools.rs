//! The two code-mode tool definitions, `search` and `execute`, as the JSON tools/list returns.
//!
//! Descriptions are static: built only from the API name and the engine's fixed globals
//! declaration, never from a user, a credential or a request. They are deliberately small: both
//! definitions together must stay within 1,000 o200k tokens (a test counts them), because every
//! agent pays for them on every turn.

use codemode_engine::Engine;
use serde_json::{Value, json};

pub const SEARCH_TOOL: &str = "search";

/// "the Bookshop API", "the GitHub v3 REST API": the spec title, with "API" added only when the
/// title does not already end with it.
pub fn api_label(engine: &Engine) -> String {
    let name = engine.api_name().trim();
    if name.to_ascii_lowercase().ends_with("api") {
        name.to_string()
    } else {
        format!("{name} API")
    }
}
pub const EXECUTE_TOOL: &str = "execute";

/// `search`: ranked operations as TypeScript declarations, or a discovery program over the spec.
pub fn search_tool(engine: &Engine) -> Value {
    let api = api_label(engine);
    json!({
        "name": SEARCH_TOOL,
        "description": format!(
            "Find operations of the {api}. Returns the best matches as TypeScript declarations \
             of `api.*` functions. Call this before `execute`. Pass `query` (plain keywords), or \
             `code`: a read-only program over the spec that returns what you want to know."
        ),
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "the task in words (several steps in one query are fine); or operation or type names to declare"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 20, "description": "how many operations (default 5)"},
                "code": {"type": "string", "description": "instead of query: JS using spec.search(q, limit), spec.operations(), spec.operation(name), spec.declare(names); `return` a value"}
            }
        },
        "annotations": {
            "readOnlyHint": true,
            "destructiveHint": false,
            "idempotentHint": true,
            "openWorldHint": false
        }
    })
}

/// `execute`: one program that does the whole task against the typed client.
pub fn execute_tool(engine: &Engine) -> Value {
    let api = api_label(engine);
    let read_only = engine.read_only();
    let mut description = format!(
        "Run one JavaScript program against the {api} and return its result as JSON. \
         Use `search` first to learn the operations. Then write one program that does the whole \
         task: `await api.<operation>(args)`, loop, filter and aggregate in code, and `return` \
         only what is needed (large results are cut). `console.log` lines are returned too."
    );
    let globals = engine.globals_declaration().trim();
    if !globals.is_empty() {
        description.push_str("\nGlobals:\n");
        description.push_str(globals);
    }
    json!({
        "name": EXECUTE_TOOL,
        "description": description,
        "inputSchema": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "the program; `return` the result"},
                "max_tokens": {"type": "integer", "minimum": 1, "description": "result budget in tokens"},
                "dry_run": {"type": "boolean", "description": "plan mutating calls without sending them"}
            },
            "required": ["code"]
        },
        "annotations": {
            "readOnlyHint": read_only,
            "destructiveHint": !read_only,
            "idempotentHint": false,
            "openWorldHint": true
        }
    })
}
