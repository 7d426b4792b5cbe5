//! Per-operation mode: one MCP tool per allowed operation, each with a real, self-contained JSON
//! Schema for its input.
//!
//! The input object has one property per [`Operation::arguments`] key (parameters by name, the
//! request body as `body`), so it is the same shape a script passes to `api.<name>(args)` and
//! `Engine::call_operation` accepts it unchanged. Component schemas the input refers to are copied
//! under `$defs` (references rewritten to `#/$defs/<name>`), following references transitively
//! with a visited set so recursive schemas terminate.

use std::collections::{HashMap, HashSet, VecDeque};

use std::sync::Arc;

use codemode_engine::Engine;
use codemode_engine::spec::{self, ArgumentSource, Method, Operation, Spec};
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

/// The longest tool name MCP clients accept.
pub const MAX_TOOL_NAME_LEN: usize = 64;

/// Longest description of one per-operation tool, in characters.
const MAX_DESCRIPTION_CHARS: usize = 400;
/// Longest description copied onto one input property, in characters.
const MAX_PROPERTY_DESCRIPTION_CHARS: usize = 200;

/// The per-operation tools, computed once at server start.
#[derive(Debug, Clone, Default)]
pub(crate) struct OperationTools {
    /// Tool definitions in spec order, exactly as tools/list returns them (moved into the
    /// `ToolSet` when it is built).
    pub tools: Vec<Tool>,
    /// Tool name → the operation's name as `Engine::call_operation` takes it (`Operation::name`,
    /// or `api.name` with several APIs).
    pub operation_by_tool: HashMap<String, String>,
}

/// Builds one tool per operation the engine allows. With several APIs, each tool's name starts
/// with its API's (`github_issuesCreate`), and it calls the operation by its qualified name
/// (`github.issuesCreate`).
pub(crate) fn operation_tools(engine: &Engine) -> OperationTools {
    let mut names = ToolNames::default();
    let mut out = OperationTools::default();
    for api in engine.apis() {
        let spec = api.spec();
        for operation in &spec.operations {
            if !api.is_allowed(operation) {
                continue;
            }
            let (name, called) = match api.namespace() {
                Some(prefix) => (
                    names.allocate(&format!("{prefix}_{}", operation.name)),
                    format!("{prefix}.{}", operation.name),
                ),
                None => (names.allocate(&operation.name), operation.name.clone()),
            };
            out.tools.push(operation_tool(spec, operation, &name));
            out.operation_by_tool.insert(name, called);
        }
    }
    out
}

fn operation_tool(spec: &Spec, operation: &Operation, name: &str) -> Tool {
    let mutating = operation.method.is_mutating();
    Tool::new(
        name.to_string(),
        operation_description(operation),
        Arc::new(input_schema(spec, operation)),
    )
    .with_annotations(
        ToolAnnotations::new()
            .read_only(!mutating)
            .destructive(mutating)
            .idempotent(is_idempotent(operation.method))
            .open_world(true),
    )
}

fn is_idempotent(method: Method) -> bool {
    !matches!(method, Method::Post | Method::Patch)
}

fn operation_description(operation: &Operation) -> String {
    let mut text = format!("{} {}", operation.method, operation.path);
    let about = operation
        .summary
        .as_deref()
        .or(operation.description.as_deref())
        .map(str::trim)
        .unwrap_or("");
    if !about.is_empty() {
        text.push_str(": ");
        text.push_str(about);
    }
    if operation.deprecated {
        text.push_str(" (deprecated)");
    }
    clip_chars(&text, MAX_DESCRIPTION_CHARS)
}

fn clip_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The input schema: an object keyed like `Operation::arguments`, with referenced components
/// copied under `$defs`.
pub(crate) fn input_schema(spec: &Spec, operation: &Operation) -> Map<String, Value> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for argument in operation.arguments() {
        let (schema, description, is_required) = match argument.source {
            ArgumentSource::Parameter(index) => {
                let Some(parameter) = operation.parameters.get(index) else {
                    continue;
                };
                (
                    parameter.schema.clone(),
                    parameter.description.clone(),
                    parameter.required,
                )
            }
            ArgumentSource::Body => {
                let Some(body) = &operation.request_body else {
                    continue;
                };
                let schema = body
                    .preferred()
                    .map(|media| media.schema.clone())
                    .unwrap_or(json!({}));
                (schema, body.description.clone(), body.required)
            }
        };
        let mut schema = sanitize_schema(&schema);
        if let (Some(text), Value::Object(map)) = (description, &mut schema)
            && !map.contains_key("description")
            && !map.contains_key("$ref")
        {
            map.insert(
                "description".into(),
                Value::String(clip_chars(text.trim(), MAX_PROPERTY_DESCRIPTION_CHARS)),
            );
        }
        if is_required {
            required.push(Value::String(argument.key.clone()));
        }
        properties.insert(argument.key, schema);
    }
    let mut root = Map::new();
    root.insert("type".into(), json!("object"));
    root.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        root.insert("required".into(), Value::Array(required));
    }
    let defs = collect_defs(spec, &Value::Object(root.clone()));
    if !defs.is_empty() {
        root.insert("$defs".into(), Value::Object(defs));
    }
    root
}

/// Copies every component schema reachable from `root` (transitively, each once), sanitized.
fn collect_defs(spec: &Spec, root: &Value) -> Map<String, Value> {
    let mut defs = Map::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    for_each_ref(root, &mut |name| {
        if seen.insert(name.clone()) {
            queue.push_back(name);
        }
    });
    while let Some(name) = queue.pop_front() {
        // A dangling reference gets an empty (accept-anything) schema so `$ref` still resolves.
        let schema = spec
            .schemas()
            .get(&name)
            .map(sanitize_schema)
            .unwrap_or(json!({}));
        for_each_ref(&schema, &mut |next| {
            if seen.insert(next.clone()) {
                queue.push_back(next);
            }
        });
        defs.insert(name, schema);
    }
    defs
}

/// OpenAPI-only keywords that JSON Schema validators in strict mode reject.
const OPENAPI_ONLY_KEYWORDS: &[&str] = &["discriminator", "xml", "externalDocs", "example"];

/// Keywords whose value is a schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
    "contentSchema",
];
/// Keywords whose value is an array of schemas.
const SCHEMA_ARRAY_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to schemas.
const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];

/// Rewrites component references to `#/$defs/…` and drops OpenAPI-only and `x-` keywords,
/// walking only schema positions (a property *named* `example` is kept).
fn sanitize_schema(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        if key.starts_with("x-") || OPENAPI_ONLY_KEYWORDS.contains(&key.as_str()) {
            continue;
        }
        let cleaned = if key == "$ref" {
            match value
                .as_str()
                .and_then(|r| r.strip_prefix(spec::SCHEMA_REF_PREFIX))
            {
                Some(token) => Value::String(format!("#/$defs/{token}")),
                None => value.clone(),
            }
        } else if SCHEMA_KEYWORDS.contains(&key.as_str()) {
            sanitize_schema(value)
        } else if SCHEMA_ARRAY_KEYWORDS.contains(&key.as_str()) {
            match value {
                Value::Array(items) => Value::Array(items.iter().map(sanitize_schema).collect()),
                other => other.clone(),
            }
        } else if SCHEMA_MAP_KEYWORDS.contains(&key.as_str()) {
            match value {
                Value::Object(entries) => Value::Object(
                    entries
                        .iter()
                        .map(|(name, s)| (name.clone(), sanitize_schema(s)))
                        .collect(),
                ),
                other => other.clone(),
            }
        } else {
            value.clone()
        };
        out.insert(key.clone(), cleaned);
    }
    Value::Object(out)
}

/// Calls `visit` with the component name of every `#/$defs/<name>` reference in a sanitized schema.
fn for_each_ref(schema: &Value, visit: &mut impl FnMut(String)) {
    let Value::Object(map) = schema else {
        return;
    };
    for (key, value) in map {
        if key == "$ref" {
            if let Some(token) = value.as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
                visit(spec::unescape_pointer_token(token));
            }
        } else if key == "$defs" {
            // Only the root carries $defs, and those are what we are building.
        } else if SCHEMA_KEYWORDS.contains(&key.as_str()) {
            for_each_ref(value, visit);
        } else if SCHEMA_ARRAY_KEYWORDS.contains(&key.as_str()) {
            if let Value::Array(items) = value {
                items.iter().for_each(|s| for_each_ref(s, visit));
            }
        } else if SCHEMA_MAP_KEYWORDS.contains(&key.as_str())
            && let Value::Object(entries) = value
        {
            entries.values().for_each(|s| for_each_ref(s, visit));
        }
    }
}

/// Allocates unique tool names: at most 64 characters of `[A-Za-z0-9_.-]`.
#[derive(Default)]
pub(crate) struct ToolNames {
    taken: HashSet<String>,
}

impl ToolNames {
    pub(crate) fn allocate(&mut self, operation_name: &str) -> String {
        let base = tool_name_base(operation_name);
        if self.taken.insert(base.clone()) {
            return base;
        }
        for n in 2.. {
            let suffix = format!("_{n}");
            let keep = MAX_TOOL_NAME_LEN - suffix.len();
            let candidate = format!("{}{suffix}", &base[..base.len().min(keep)]);
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("an unbounded counter always finds a free name")
    }
}

/// The operation name with every character outside `[A-Za-z0-9_.-]` replaced, cut to 64.
fn tool_name_base(operation_name: &str) -> String {
    let mut name: String = operation_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_TOOL_NAME_LEN)
        .collect();
    if name.is_empty() {
        name.push_str("operation");
    }
    name
}

/// Whether `name` is a valid MCP tool name as this crate produces them.
pub fn is_valid_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOOL_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized_cut_and_unique() {
        let mut names = ToolNames::default();
        assert_eq!(names.allocate("listPets"), "listPets");
        assert_eq!(names.allocate("listPets"), "listPets_2");
        assert_eq!(names.allocate("$weird name"), "_weird_name");
        let long = "a".repeat(100);
        let first = names.allocate(&long);
        let second = names.allocate(&long);
        assert_eq!(first.len(), 64);
        assert_eq!(second.len(), 64);
        assert_ne!(first, second);
        assert!(is_valid_tool_name(&first) && is_valid_tool_name(&second));
        assert_eq!(names.allocate(""), "operation");
    }

    #[test]
    fn sanitizing_keeps_properties_named_like_keywords() {
        let schema = json!({
            "type": "object",
            "example": {"a": 1},
            "x-internal": true,
            "properties": {"example": {"type": "string", "example": "x"}, "child": {"$ref": "#/components/schemas/Pet"}}
        });
        let clean = sanitize_schema(&schema);
        assert_eq!(
            clean,
            json!({"type": "object", "properties": {"example": {"type": "string"}, "child": {"$ref": "#/$defs/Pet"}}})
        );
    }
}
