//! The two code-mode tools, `search` and `execute`, as typed rmcp [`Tool`]s, with their arguments
//! as typed structs whose JSON Schema is derived (schemars), and [`check_tool_definition`], the
//! MCP rules every tool this crate lists must pass.
//!
//! Descriptions are static: built only from the API name and the engine's fixed globals
//! declaration, never from a user, a credential or a request. They are deliberately small: both
//! definitions together must stay within 1,000 o200k tokens (a test counts them), because every
//! agent pays for them on every turn.

use std::borrow::Cow;
use std::sync::Arc;

use codemode_engine::Engine;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde::Deserialize;
use serde_json::Value;

use crate::per_operation::{MAX_TOOL_NAME_LEN, is_valid_tool_name};

pub(crate) const SEARCH_TOOL: &str = "search";
pub(crate) const EXECUTE_TOOL: &str = "execute";

/// "Bookshop API", "GitHub v3 REST API": the spec title, with "API" added only when the title
/// does not already end with it. With several APIs, "APIs github (GitHub v3 REST API), stripe
/// (Stripe API)": each API's name as programs call it, and its title.
pub(crate) fn api_label(engine: &Engine) -> String {
    if !engine.namespaced() {
        return titled(engine.api_name());
    }
    let apis: Vec<String> = engine
        .apis()
        .map(|api| {
            format!(
                "{} ({})",
                api.namespace().unwrap_or_default(),
                titled(api.title())
            )
        })
        .collect();
    format!("APIs {}", apis.join(", "))
}

fn titled(title: &str) -> String {
    let name = title.trim();
    let name: String = name.chars().take(MAX_TITLE_CHARS).collect();
    if name.to_ascii_lowercase().ends_with("api") {
        name
    } else {
        format!("{name} API")
    }
}

/// Longest spec title a tool description repeats, in characters (a spec's title is its own
/// text: it must not grow every agent's context without bound).
const MAX_TITLE_CHARS: usize = 60;

/// How a program calls an operation, for the descriptions.
fn call_form(engine: &Engine) -> &'static str {
    if engine.namespaced() {
        "api.<api>.<operation>(args)"
    } else {
        "api.<operation>(args)"
    }
}

/// The arguments of `search`: `query` or `code`.
#[derive(Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// What to search for ([`codemode_engine::SearchRequest::query`]); exactly one of `query`
    /// and `code` must be given. Blank counts as absent.
    #[serde(default)]
    #[schemars(
        with = "String",
        description = "the task in words (several steps in one query are fine); or operation or type names to declare"
    )]
    pub query: Option<String>,
    /// How many operations to declare: default 5, clamped to 20. Ignored with `code`.
    #[serde(default)]
    #[schemars(
        with = "Integer",
        range(min = 1, max = 20),
        description = "how many operations (default 5)"
    )]
    pub limit: Option<usize>,
    /// A discovery program run by [`codemode_engine::Engine::search_code`] (the `spec.*`
    /// helpers, no API access). Blank counts as absent.
    #[serde(default)]
    #[schemars(
        with = "String",
        description = "instead of query: JS using spec.search(q, limit), spec.operations(), spec.operation(name), spec.declare(names); `return` a value"
    )]
    pub code: Option<String>,
    /// With several APIs, search only this one (its name); listed in the schema only then, with
    /// the names as its `enum`.
    #[serde(default)]
    #[schemars(skip)]
    pub api: Option<String>,
}

/// The arguments of `execute`: the program, and optionally its result budget and a dry run.
#[derive(Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub struct ExecuteArgs {
    /// The program to run ([`codemode_engine::ExecuteRequest::code`]); required and not blank.
    #[schemars(description = "the program; `return` the result")]
    pub code: String,
    /// Token budget (o200k) of this call's result; `None`: the server's
    /// [`ServerConfig::output_budget_tokens`](crate::ServerConfig::output_budget_tokens).
    #[serde(default)]
    #[schemars(
        with = "Integer",
        range(min = 1),
        description = "result budget in tokens"
    )]
    pub max_tokens: Option<usize>,
    /// Plan mutating calls instead of sending them ([`codemode_engine::ExecuteRequest::dry_run`]);
    /// `None` means false.
    #[serde(default)]
    #[schemars(
        with = "bool",
        description = "plan mutating calls without sending them"
    )]
    pub dry_run: Option<bool>,
}

impl SearchArgs {
    /// Reads the arguments of a call, with messages the model can act on. Blank strings count as
    /// absent; which of `query` and `code` is needed is the caller's rule.
    pub fn parse(args: &JsonObject) -> Result<SearchArgs, String> {
        Ok(SearchArgs {
            query: non_empty_string(args, "query"),
            limit: optional_count(args, "limit")?,
            code: non_empty_string(args, "code"),
            api: non_empty_string(args, "api"),
        })
    }
}

impl ExecuteArgs {
    /// Reads the arguments of a call, with messages the model can act on.
    pub fn parse(args: &JsonObject) -> Result<ExecuteArgs, String> {
        let Some(code) = non_empty_string(args, "code") else {
            return Err("invalid arguments: `execute` needs `code`, the program to run".into());
        };
        let max_tokens = optional_count(args, "max_tokens")?;
        let dry_run = match args.get("dry_run") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(flag)) => Some(*flag),
            Some(_) => return Err("invalid arguments: `dry_run` must be a boolean".into()),
        };
        Ok(ExecuteArgs {
            code,
            max_tokens,
            dry_run,
        })
    }
}

fn non_empty_string(args: &JsonObject, key: &str) -> Option<String> {
    args.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

/// A positive integer argument, absent or null meaning "not given".
fn optional_count(args: &JsonObject, key: &str) -> Result<Option<usize>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_u64() {
            Some(n) if n > 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            _ => Err(format!(
                "invalid arguments: `{key}` must be a positive integer, got {value}"
            )),
        },
    }
}

/// A JSON integer with no `format`: the model needs the range, not the Rust width.
struct Integer;

impl JsonSchema for Integer {
    fn schema_name() -> Cow<'static, str> {
        "Integer".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer"})
    }
}

/// The input schema of `T` as a tool lists it: draft 2020-12, without the root's `$schema`,
/// `title` and `description` (the Rust type's name and doc are noise to a model).
pub(crate) fn input_schema_for<T: JsonSchema>() -> JsonObject {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let mut object = match schema.to_value() {
        Value::Object(object) => object,
        // A struct's schema is always an object; a `true`/`false` schema is not, and would be
        // caught by `check_tool_definition` as a missing `"type": "object"`.
        _ => JsonObject::new(),
    };
    for key in ["$schema", "title", "description"] {
        object.shift_remove(key);
    }
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        properties.values_mut().for_each(tidy_property);
    }
    object
}

/// A property as the tool definitions have always been written: no `"default": null` (which
/// `#[serde(default)]` on an `Option` adds and which says nothing), and the description last.
fn tidy_property(property: &mut Value) {
    let Value::Object(property) = property else {
        return;
    };
    if property.get("default") == Some(&Value::Null) {
        property.shift_remove("default");
    }
    if let Some(description) = property.shift_remove("description") {
        property.insert("description".into(), description);
    }
}

/// `search`: ranked operations as TypeScript declarations, or a discovery program over the spec.
pub(crate) fn search_tool(engine: &Engine) -> Tool {
    // With several APIs, their titles are in `execute`'s description (and their names in the
    // `api` argument's enum): here, the names alone.
    let api = if engine.namespaced() {
        let names: Vec<&str> = engine.apis().filter_map(|api| api.namespace()).collect();
        format!("APIs {}", names.join(", "))
    } else {
        api_label(engine)
    };
    let description = format!(
        "Find operations of the {api}. Returns the best matches as TypeScript declarations \
         of `api.*` functions. Call this before `execute`. Pass `query` (plain keywords), or \
         `code`: a read-only program over the spec that returns what you want to know."
    );
    let mut schema = input_schema_for::<SearchArgs>();
    if engine.namespaced() {
        let names: Vec<&str> = engine.apis().filter_map(|api| api.namespace()).collect();
        if let Some(Value::Object(properties)) = schema.get_mut("properties") {
            properties.insert(
                "api".into(),
                serde_json::json!({ "type": "string", "enum": names, "description": "search only this API" }),
            );
        }
    }
    Tool::new(SEARCH_TOOL, description, Arc::new(schema)).with_annotations(
        ToolAnnotations::new()
            .read_only(true)
            .destructive(false)
            .idempotent(true)
            .open_world(false),
    )
}

/// `execute`: one program that does the whole task against the typed client.
pub(crate) fn execute_tool(engine: &Engine) -> Tool {
    let api = api_label(engine);
    let read_only = engine.read_only();
    let call = call_form(engine);
    let mut description = format!(
        "Run one JavaScript program against the {api} and return its result as JSON. \
         Use `search` first to learn the operations. Then write one program that does the whole \
         task: `await {call}`, loop, filter and aggregate in code, and `return` \
         only what is needed (large results are cut). `console.log` lines are returned too."
    );
    let globals = engine.globals_declaration().trim();
    if !globals.is_empty() {
        description.push_str("\nGlobals:\n");
        description.push_str(globals);
    }
    Tool::new(
        EXECUTE_TOOL,
        description,
        Arc::new(input_schema_for::<ExecuteArgs>()),
    )
    .with_annotations(
        ToolAnnotations::new()
            .read_only(read_only)
            .destructive(!read_only)
            .idempotent(false)
            .open_world(true),
    )
}

/// Why a tool definition breaks the MCP rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tool {name:?}: {problem}")]
pub struct ToolDefinitionError {
    /// The tool's name, cut to 80 characters.
    pub name: String,
    /// The rule broken, in words: e.g. the name's length or characters, a missing description,
    /// an input schema that is not an object schema.
    pub problem: String,
}

/// Checks one tool against the MCP rules for tool definitions as this crate follows them: a name
/// of 1 to 64 characters of `[A-Za-z0-9_.-]`, a non-empty description, and an input schema that
/// is an object schema (`"type": "object"`, `properties` an object of schemas, `required` a list
/// of unique names of those properties) whose `$ref`s all point inside it (`#/$defs/…`). Whether
/// the schema is valid JSON Schema as a whole is a test's job (a meta-schema check).
pub fn check_tool_definition(tool: &Tool) -> Result<(), ToolDefinitionError> {
    let fail = |problem: String| ToolDefinitionError {
        name: tool.name.chars().take(80).collect(),
        problem,
    };
    if !is_valid_tool_name(&tool.name) {
        return Err(fail(format!(
            "the name must be 1 to {MAX_TOOL_NAME_LEN} characters of A-Z, a-z, 0-9, `_`, `.` and `-`"
        )));
    }
    if tool
        .description
        .as_deref()
        .is_none_or(|d| d.trim().is_empty())
    {
        return Err(fail("the description is missing".into()));
    }
    check_input_schema(&tool.input_schema).map_err(fail)
}

fn check_input_schema(schema: &JsonObject) -> Result<(), String> {
    if schema.get("type") != Some(&Value::String("object".into())) {
        return Err("inputSchema must have \"type\": \"object\"".into());
    }
    let empty = JsonObject::new();
    let properties = match schema.get("properties") {
        None => &empty,
        Some(Value::Object(properties)) => properties,
        Some(_) => return Err("inputSchema.properties must be an object".into()),
    };
    if let Some((name, _)) = properties
        .iter()
        .find(|(_, s)| !matches!(s, Value::Object(_) | Value::Bool(_)))
    {
        return Err(format!("inputSchema.properties.{name} is not a schema"));
    }
    if let Some(required) = schema.get("required") {
        let Value::Array(names) = required else {
            return Err("inputSchema.required must be an array".into());
        };
        let mut seen = std::collections::HashSet::new();
        for name in names {
            let Some(name) = name.as_str() else {
                return Err("inputSchema.required must hold strings".into());
            };
            if !seen.insert(name) {
                return Err(format!("inputSchema.required lists {name:?} twice"));
            }
            if !properties.contains_key(name) {
                return Err(format!(
                    "inputSchema.required names {name:?}, which is not a property"
                ));
            }
        }
    }
    let defs = schema.get("$defs").and_then(Value::as_object);
    let mut dangling = None;
    for_each_ref(&Value::Object(schema.clone()), &mut |reference| {
        let resolves = reference
            .strip_prefix("#/$defs/")
            .map(|token| token.replace("~1", "/").replace("~0", "~"))
            .is_some_and(|name| defs.is_some_and(|defs| defs.contains_key(&name)));
        if !resolves && dangling.is_none() {
            dangling = Some(reference.to_string());
        }
    });
    match dangling {
        Some(reference) => Err(format!(
            "inputSchema refers to {reference:?}, which is not in its own $defs"
        )),
        None => Ok(()),
    }
}

/// Every `$ref` string in a schema, skipping values that hold data rather than schemas.
fn for_each_ref(value: &Value, visit: &mut impl FnMut(&str)) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("$ref", Value::String(reference)) => visit(reference),
                    ("default" | "enum" | "const" | "examples", _) => {}
                    _ => for_each_ref(item, visit),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| for_each_ref(item, visit)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> JsonObject {
        match value {
            Value::Object(object) => object,
            other => panic!("not an object: {other}"),
        }
    }

    fn tool(name: &str, schema: Value) -> Tool {
        Tool::new(name.to_string(), "does a thing", Arc::new(object(schema)))
    }

    #[test]
    fn malformed_definitions_are_refused() {
        let good =
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
        assert_eq!(
            check_tool_definition(&tool("a.b-c_d", good.clone())),
            Ok(())
        );
        let cases = [
            (tool(&"x".repeat(65), good.clone()), "the name must be"),
            (tool("has space", good.clone()), "the name must be"),
            (tool("", good.clone()), "the name must be"),
            (tool("t", json!({"type": "string"})), "\"type\": \"object\""),
            (tool("t", json!({"properties": {}})), "\"type\": \"object\""),
            (
                tool("t", json!({"type": "object", "properties": []})),
                "properties must be an object",
            ),
            (
                tool("t", json!({"type": "object", "properties": {"a": 1}})),
                "properties.a is not a schema",
            ),
            (
                tool("t", json!({"type": "object", "required": ["a"]})),
                "not a property",
            ),
            (
                tool(
                    "t",
                    json!({"type": "object", "properties": {"a": {}}, "required": ["a", "a"]}),
                ),
                "twice",
            ),
            (
                tool(
                    "t",
                    json!({"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}}),
                ),
                "not in its own $defs",
            ),
            (
                tool(
                    "t",
                    json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}),
                ),
                "not in its own $defs",
            ),
        ];
        for (tool, problem) in cases {
            let error = check_tool_definition(&tool).expect_err(&tool.name);
            assert!(error.problem.contains(problem), "{error}");
        }
        let mut no_description = tool("t", good);
        no_description.description = None;
        assert!(check_tool_definition(&no_description).is_err());
    }

    #[test]
    fn derived_schemas_are_what_clients_have_always_seen() {
        let search = Value::Object(input_schema_for::<SearchArgs>());
        assert_eq!(
            search.to_string(),
            json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "the task in words (several steps in one query are fine); or operation or type names to declare"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 20, "description": "how many operations (default 5)"},
                    "code": {"type": "string", "description": "instead of query: JS using spec.search(q, limit), spec.operations(), spec.operation(name), spec.declare(names); `return` a value"}
                }
            })
            .to_string()
        );
        let execute = Value::Object(input_schema_for::<ExecuteArgs>());
        assert_eq!(
            execute.to_string(),
            json!({
                "type": "object",
                "properties": {
                    "code": {"type": "string", "description": "the program; `return` the result"},
                    "max_tokens": {"type": "integer", "minimum": 1, "description": "result budget in tokens"},
                    "dry_run": {"type": "boolean", "description": "plan mutating calls without sending them"}
                },
                "required": ["code"]
            })
            .to_string()
        );
    }

    #[test]
    fn arguments_read_into_the_typed_structs() {
        let args = object(json!({"query": "list pets", "limit": 3, "code": "  "}));
        assert_eq!(
            SearchArgs::parse(&args),
            Ok(SearchArgs {
                query: Some("list pets".into()),
                limit: Some(3),
                code: None,
                api: None,
            })
        );
        let error = SearchArgs::parse(&object(json!({"limit": 0}))).expect_err("zero");
        assert_eq!(
            error,
            "invalid arguments: `limit` must be a positive integer, got 0"
        );
        let args = object(json!({"code": "return 1", "dry_run": true}));
        assert_eq!(
            ExecuteArgs::parse(&args),
            Ok(ExecuteArgs {
                code: "return 1".into(),
                max_tokens: None,
                dry_run: Some(true),
            })
        );
        // What the schema promises, serde reads too.
        let typed: ExecuteArgs =
            serde_json::from_value(json!({"code": "return 1", "max_tokens": 50})).expect("reads");
        assert_eq!(typed.max_tokens, Some(50));
    }
}
