//! Validation of a script's `args` against one operation, on the host, before anything is sent:
//! unknown and missing arguments, then every value against its schema with a compiled draft
//! 2020-12 validator. Messages name the operation, the pointer, what was expected and what came.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};

use codemode_spec::{
    ArgumentSource, BodyKind, MediaType, Operation, Parameter, SCHEMA_REF_PREFIX, Spec,
};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, ValidationError, Validator};
use serde_json::{Map, Value, json};

use crate::media::BodyMedia;
use crate::{CallError, CallErrorKind};

/// Everything about one operation that is worth computing once: the argument keys, how each
/// parameter's value is coerced, which arguments are required, and the compiled validator for
/// the whole `args` object. Built once per operation and cached by the [`crate::Client`], so a
/// call pays for none of this.
pub(crate) struct OperationPlan {
    pub(crate) arguments: Vec<(String, ArgumentSource)>,
    /// `None` when the spec's schemas could not be compiled (a spec defect must not block calls).
    validator: Option<Validator>,
    /// The media type(s) the body is sent as (see [`BodyMedia`]).
    pub(crate) body_media: Option<BodyMedia>,
    /// Per parameter (by index in `Operation::parameters`): its argument key and coercion rule.
    parameters: Vec<ParameterPlan>,
    /// Indices into `arguments` of the ones that must be present.
    required: Vec<usize>,
}

/// What is precomputed for one parameter.
struct ParameterPlan {
    /// The key the parameter has in `args` (`None` if the operation's argument list omits it).
    key: Option<String>,
    coercion: Coercion,
}

/// How a text-travelling parameter value is converted before validation (see
/// [`coerce_parameter`]); derived from the parameter's schema once.
enum Coercion {
    Scalar(ScalarRule),
    /// An array parameter: items follow the rule, a lone scalar becomes a one-item array.
    Array(ScalarRule),
}

/// The schema facts scalar coercion needs: the declared `type`s and whether there is an `enum`.
struct ScalarRule {
    types: Vec<String>,
    has_enum: bool,
}

impl ScalarRule {
    fn from_schema(schema: &Value) -> ScalarRule {
        ScalarRule {
            types: schema_types(schema)
                .into_iter()
                .map(str::to_string)
                .collect(),
            has_enum: schema.get("enum").is_some(),
        }
    }

    fn allows(&self, name: &str) -> bool {
        self.types.iter().any(|t| t == name)
    }

    fn is_only(&self, name: &str) -> bool {
        self.types.len() == 1 && self.types[0] == name
    }
}

impl OperationPlan {
    pub(crate) fn build(spec: &Spec, op: &Operation) -> OperationPlan {
        let arguments: Vec<(String, ArgumentSource)> = op
            .arguments()
            .into_iter()
            .map(|a| (a.key, a.source))
            .collect();
        let body_media = op
            .request_body
            .as_ref()
            .and_then(|b| BodyMedia::choose(spec, b));
        let validator = compile_arguments_validator(spec, op, &arguments, body_media.as_ref());
        let parameters = op
            .parameters
            .iter()
            .enumerate()
            .map(|(index, param)| ParameterPlan {
                key: arguments
                    .iter()
                    .find(|(_, s)| *s == ArgumentSource::Parameter(index))
                    .map(|(k, _)| k.clone()),
                coercion: coercion_for(spec, param),
            })
            .collect();
        let required = arguments
            .iter()
            .enumerate()
            .filter(|(_, (_, source))| match source {
                ArgumentSource::Parameter(i) => op.parameters.get(*i).is_some_and(|p| {
                    p.required || p.location == codemode_spec::ParameterLocation::Path
                }),
                ArgumentSource::Body => op.request_body.as_ref().is_some_and(|b| b.required),
            })
            .map(|(index, _)| index)
            .collect();
        OperationPlan {
            arguments,
            validator,
            body_media,
            parameters,
            required,
        }
    }

    /// False when the operation's schemas could not be compiled and only argument names and
    /// required-ness are checked.
    pub(crate) fn has_validator(&self) -> bool {
        self.validator.is_some()
    }

    pub(crate) fn parameter_key(&self, index: usize) -> Option<&str> {
        self.parameters.get(index)?.key.as_deref()
    }

    fn source_of(&self, key: &str) -> Option<ArgumentSource> {
        self.arguments
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, source)| *source)
    }
}

/// Checks `args` and returns them normalized: nulls dropped, numeric and boolean strings in
/// parameters converted to what the schema says, a lone value wrapped for an array parameter.
/// When nothing needs normalizing (the common case) the caller's map is borrowed, not copied.
pub(crate) fn check_arguments<'a>(
    spec: &Spec,
    op: &Operation,
    plan: &OperationPlan,
    args: &'a Value,
) -> Result<Cow<'a, Map<String, Value>>, CallError> {
    static EMPTY: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let args = match args {
        Value::Null => EMPTY.get_or_init(|| Value::Object(Map::new())),
        Value::Object(_) => args,
        other => {
            return Err(CallError::validation(
                format!(
                    "{}: args must be an object, got {}",
                    op.name,
                    json_type_name(other)
                ),
                "",
                "object",
                other.clone(),
            ));
        }
    };
    let Value::Object(given) = args else {
        return Ok(Cow::Owned(Map::new()));
    };
    // First pass: refuse unknown keys and find what normalizing would change.
    let mut has_null = false;
    let mut replacements: Vec<(usize, Value)> = Vec::new();
    for (position, (key, value)) in given.iter().enumerate() {
        let Some(source) = plan.source_of(key) else {
            return Err(unknown_argument(op, plan, key));
        };
        if value.is_null() {
            has_null = true;
            continue;
        }
        if let ArgumentSource::Parameter(i) = source
            && let Some(parameter) = plan.parameters.get(i)
            && let Some(coerced) = coerce_parameter(&parameter.coercion, value)
        {
            replacements.push((position, coerced));
        }
    }
    let normalized = if !has_null && replacements.is_empty() {
        Cow::Borrowed(given)
    } else {
        Cow::Owned(normalize(given, replacements))
    };
    check_required(spec, op, plan, &normalized)?;
    if let Some(validator) = &plan.validator {
        // `is_valid` short-circuits and builds no errors: the common case stays cheap.
        let owned_instance;
        let instance = match &normalized {
            Cow::Borrowed(_) => args,
            Cow::Owned(map) => {
                owned_instance = Value::Object(map.clone());
                &owned_instance
            }
        };
        if !validator.is_valid(instance)
            && let Some(error) = validator.iter_errors(instance).next()
        {
            return Err(schema_error(&op.name, &error));
        }
    }
    Ok(normalized)
}

/// The given arguments without nulls and with the coerced values put in.
fn normalize(given: &Map<String, Value>, replacements: Vec<(usize, Value)>) -> Map<String, Value> {
    let mut replacements = replacements.into_iter().peekable();
    let mut normalized = Map::with_capacity(given.len());
    for (position, (key, value)) in given.iter().enumerate() {
        if value.is_null() {
            continue;
        }
        let value = match replacements.next_if(|(p, _)| *p == position) {
            Some((_, coerced)) => coerced,
            None => value.clone(),
        };
        normalized.insert(key.clone(), value);
    }
    normalized
}

fn unknown_argument(op: &Operation, plan: &OperationPlan, key: &str) -> CallError {
    let keys: Vec<&str> = plan.arguments.iter().map(|(k, _)| k.as_str()).collect();
    let suggestions = did_you_mean(key, keys.iter().copied());
    let message = if !suggestions.is_empty() {
        format!(
            "unknown argument {key:?} for {}; did you mean {}?",
            op.name,
            quote_list(&suggestions)
        )
    } else if keys.is_empty() {
        format!(
            "unknown argument {key:?} for {}; it takes no arguments",
            op.name
        )
    } else {
        format!(
            "unknown argument {key:?} for {}; expected one of {}",
            op.name,
            quote_list(&keys.iter().take(12).copied().collect::<Vec<_>>())
        )
    };
    CallError::validation(
        message,
        &format!("/{}", escape_token(key)),
        &format!("one of {}", keys.join(", ")),
        Value::String(key.to_string()),
    )
}

fn check_required(
    spec: &Spec,
    op: &Operation,
    plan: &OperationPlan,
    args: &Map<String, Value>,
) -> Result<(), CallError> {
    for &index in &plan.required {
        let Some((key, source)) = plan.arguments.get(index) else {
            continue;
        };
        if !args.contains_key(key) {
            return Err(missing_argument(spec, op, plan, key, *source));
        }
    }
    Ok(())
}

/// The error for a required argument that is absent (cold path: describes the schema).
fn missing_argument(
    spec: &Spec,
    op: &Operation,
    plan: &OperationPlan,
    key: &str,
    source: ArgumentSource,
) -> CallError {
    match source {
        ArgumentSource::Parameter(i) => {
            let Some(param) = op.parameters.get(i) else {
                return CallError::validation(
                    format!("{}: missing required parameter {key:?}", op.name),
                    &format!("/{}", escape_token(key)),
                    "a value",
                    Value::Null,
                );
            };
            let expected = describe_schema(spec, &param.schema);
            CallError::validation(
                format!(
                    "{}: missing required parameter {key:?} ({}, {expected})",
                    op.name, param.location
                ),
                &format!("/{}", escape_token(key)),
                &expected,
                Value::Null,
            )
        }
        ArgumentSource::Body => {
            let expected = plan
                .body_media
                .as_ref()
                .map(|m| &m.default)
                .map(|m| format!("{}, {}", m.media_type, describe_schema(spec, &m.schema)))
                .unwrap_or_else(|| "a value".to_string());
            CallError::validation(
                format!(
                    "{}: missing required argument \"body\" ({expected})",
                    op.name
                ),
                "/body",
                &expected,
                Value::Null,
            )
        }
    }
}

fn coercion_for(spec: &Spec, param: &Parameter) -> Coercion {
    let schema = spec.deref_schema(&param.schema);
    if schema_types(schema) == ["array"] {
        let items = schema
            .get("items")
            .map(|items| spec.deref_schema(items))
            .unwrap_or(&Value::Null);
        return Coercion::Array(ScalarRule::from_schema(items));
    }
    Coercion::Scalar(ScalarRule::from_schema(schema))
}

/// Query, path and header values travel as text, so `"42"` for an integer (or `42` for a
/// string) is what the caller meant; convert such values (and wrap a lone value for an array)
/// before validating. `None` when the value stays as it is.
fn coerce_parameter(coercion: &Coercion, value: &Value) -> Option<Value> {
    match coercion {
        Coercion::Array(items) => match value {
            Value::Array(values) => {
                let first_change = values
                    .iter()
                    .position(|v| coerce_scalar(items, v).is_some())?;
                let converted = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        if i < first_change {
                            v.clone()
                        } else {
                            coerce_scalar(items, v).unwrap_or_else(|| v.clone())
                        }
                    })
                    .collect();
                Some(Value::Array(converted))
            }
            // A lone value for an array parameter is a one-item array.
            single @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
                let item = coerce_scalar(items, single).unwrap_or_else(|| single.clone());
                Some(Value::Array(vec![item]))
            }
            _ => None,
        },
        Coercion::Scalar(rule) => coerce_scalar(rule, value),
    }
}

/// Converts a scalar to the (single) scalar type a schema wants, when that is lossless;
/// `None` when it stays as it is.
fn coerce_scalar(rule: &ScalarRule, value: &Value) -> Option<Value> {
    match value {
        Value::String(s) => {
            if rule.allows("string") || rule.types.is_empty() {
                return None;
            }
            if rule.allows("integer")
                && let Ok(n) = s.trim().parse::<i64>()
            {
                return Some(json!(n));
            }
            if rule.allows("number")
                && let Ok(n) = s.trim().parse::<f64>()
                && let Some(n) = serde_json::Number::from_f64(n)
            {
                return Some(Value::Number(n));
            }
            if rule.allows("boolean") && (s == "true" || s == "false") {
                return Some(Value::Bool(s == "true"));
            }
            None
        }
        // `since: 20240101` for a string parameter: it is sent as text either way.
        Value::Number(_) | Value::Bool(_) if rule.is_only("string") && !rule.has_enum => {
            Some(Value::String(crate::serialize::scalar_text(value)))
        }
        _ => None,
    }
}

fn schema_types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A short human description of what a schema accepts: `integer`, `array of string`,
/// `"open" | "closed"`.
pub(crate) fn describe_schema(spec: &Spec, schema: &Value) -> String {
    describe_schema_depth(spec, schema, 0)
}

fn describe_schema_depth(spec: &Spec, schema: &Value, depth: usize) -> String {
    let schema = spec.deref_schema(schema);
    if depth > 2 {
        return "value".to_string();
    }
    if let Some(Value::Array(options)) = schema.get("enum") {
        let shown: Vec<String> = options.iter().take(6).map(compact).collect();
        let more = if options.len() > 6 { " | …" } else { "" };
        return format!("{}{more}", shown.join(" | "));
    }
    let types = schema_types(schema);
    if types.len() == 1 && types[0] == "array" {
        let items = schema.get("items").cloned().unwrap_or(json!({}));
        return format!(
            "array of {}",
            describe_schema_depth(spec, &items, depth + 1)
        );
    }
    if !types.is_empty() {
        return types.join(" | ");
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(Value::Array(options)) = schema.get(keyword) {
            let parts: Vec<String> = options
                .iter()
                .take(4)
                .map(|o| describe_schema_depth(spec, o, depth + 1))
                .collect();
            return parts.join(" | ");
        }
    }
    if schema.get("properties").is_some() {
        return "object".to_string();
    }
    "any".to_string()
}

/// Turns the first schema violation into a one-line message: `op: body/a/b: expected X, got Y`.
fn schema_error(operation: &str, error: &ValidationError<'_>) -> CallError {
    let (pointer, expected, given, detail) = explain(error);
    let label = if pointer.is_empty() {
        "args".to_string()
    } else {
        pointer.trim_start_matches('/').to_string()
    };
    let message = match detail {
        Some(detail) => format!("{operation}: {label}: {detail}"),
        None => format!(
            "{operation}: {label}: expected {expected}, got {}",
            truncate(&compact(&given), 80)
        ),
    };
    CallError::validation(message, &pointer, &expected, given)
}

/// (pointer, expected, given, a complete message tail when "expected X, got Y" does not fit).
fn explain(error: &ValidationError<'_>) -> (String, String, Value, Option<String>) {
    let pointer = error.instance_path().as_str().to_string();
    let given = error.instance().clone().into_owned();
    let expected = match error.kind() {
        ValidationErrorKind::Type { kind } => type_kind_names(kind),
        ValidationErrorKind::Enum { options } => match options.as_ref() {
            Value::Array(values) => {
                let shown: Vec<String> = values.iter().take(8).map(compact).collect();
                let more = if values.len() > 8 { ", …" } else { "" };
                format!("one of {}{more}", shown.join(", "))
            }
            other => format!("one of {}", compact(other)),
        },
        ValidationErrorKind::Constant { expected_value } => compact(expected_value),
        ValidationErrorKind::Format { format } => format!("a valid {format}"),
        ValidationErrorKind::Minimum { limit } => format!(">= {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("<= {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("> {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("< {limit}"),
        ValidationErrorKind::MinLength { limit } => format!("at least {limit} characters"),
        ValidationErrorKind::MaxLength { limit } => format!("at most {limit} characters"),
        ValidationErrorKind::MinItems { limit } => format!("at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("at most {limit} items"),
        ValidationErrorKind::MinProperties { limit } => format!("at least {limit} properties"),
        ValidationErrorKind::MaxProperties { limit } => format!("at most {limit} properties"),
        ValidationErrorKind::Pattern { pattern } => format!("a string matching /{pattern}/"),
        ValidationErrorKind::MultipleOf { multiple_of } => format!("a multiple of {multiple_of}"),
        ValidationErrorKind::UniqueItems => "unique items".to_string(),
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default().to_string();
            let detail = format!("missing required property {name:?}");
            return (
                pointer,
                format!("object with {name:?}"),
                given,
                Some(detail),
            );
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let names = quote_list(&unexpected.iter().map(String::as_str).collect::<Vec<_>>());
            let detail = format!("unknown property {names}");
            return (
                pointer,
                "no other properties".to_string(),
                given,
                Some(detail),
            );
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            return explain_alternatives(pointer, given, context);
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            "exactly one of the oneOf alternatives (several match)".to_string()
        }
        _ => {
            let detail = error.to_string();
            return (pointer, detail.clone(), given, Some(detail));
        }
    };
    (pointer, expected, given, None)
}

/// For anyOf/oneOf: if no alternative even has the right type, list the types; otherwise
/// report the error of the alternative that got furthest (deepest pointer).
fn explain_alternatives(
    pointer: String,
    given: Value,
    context: &[Vec<ValidationError<'static>>],
) -> (String, String, Value, Option<String>) {
    let all_type_errors_here = context.iter().all(|branch| {
        branch.iter().any(|e| {
            e.instance_path().as_str() == pointer
                && matches!(e.kind(), ValidationErrorKind::Type { .. })
        })
    });
    if all_type_errors_here && !context.is_empty() {
        let mut names: Vec<String> = Vec::new();
        for branch in context {
            for e in branch {
                if let ValidationErrorKind::Type { kind } = e.kind() {
                    let n = type_kind_names(kind);
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
            }
        }
        return (pointer, names.join(" or "), given, None);
    }
    // The alternative the value was meant for is the one whose enums and consts it satisfies
    // (a `type: "A"` discriminator, say); among those, the one that got furthest.
    let misses_a_literal = |branch: &Vec<ValidationError<'static>>| {
        branch.iter().any(|e| {
            matches!(
                e.kind(),
                ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. }
            )
        })
    };
    let deepest = context
        .iter()
        .filter_map(|branch| Some((!misses_a_literal(branch), branch.first()?)))
        .max_by_key(|(fits_literals, e)| (*fits_literals, e.instance_path().as_str().len()))
        .map(|(_, e)| e);
    match deepest {
        Some(e) => explain(e),
        None => (
            pointer,
            "one of the allowed shapes".to_string(),
            given,
            None,
        ),
    }
}

fn type_kind_names(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => t.to_string(),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// Compiles one validator for the whole `args` object: each key's schema under `properties`,
/// with the referenced component schemas copied alongside so `#/components/schemas/X` resolves.
fn compile_arguments_validator(
    spec: &Spec,
    op: &Operation,
    arguments: &[(String, ArgumentSource)],
    body_media: Option<&BodyMedia>,
) -> Option<Validator> {
    let relax_binary = matches!(
        body_media.map(|m| m.default.kind),
        Some(BodyKind::Multipart | BodyKind::Binary)
    );
    let mut properties = Map::new();
    for (key, source) in arguments {
        let schema = match source {
            ArgumentSource::Parameter(i) => op.parameters.get(*i).map(|p| p.schema.clone()),
            ArgumentSource::Body => body_media.map(|m| m.schema(body_schema)),
        };
        if let Some(schema) = schema {
            properties.insert(key.clone(), schema);
        }
    }
    let mut root = json!({ "type": "object", "properties": properties });
    let mut components = referenced_schemas(spec, &root);
    prepare_for_requests(spec, &mut root, relax_binary);
    for schema in components.values_mut() {
        prepare_for_requests(spec, schema, relax_binary);
    }
    if !components.is_empty() {
        root["components"] = json!({ "schemas": components });
    }
    compile(&root).or_else(|| {
        // Specs carry regexes in dialects Rust cannot compile; validate without patterns rather
        // than not at all.
        strip_keyword(&mut root, "pattern");
        compile(&root)
    })
}

fn body_schema(media: &MediaType) -> Value {
    match media.kind {
        BodyKind::Json | BodyKind::Form | BodyKind::Multipart => media.schema.clone(),
        // Text bodies are strings; binary bodies are checked when they are encoded.
        BodyKind::Text => json!({ "type": "string" }),
        BodyKind::Binary => json!({}),
    }
}

fn compile(root: &Value) -> Option<Validator> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(true)
        .build(root)
        .ok()
}

/// Copies every component schema reachable from `root` through `$ref`s.
fn referenced_schemas(spec: &Spec, root: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    collect_refs(root, &mut queue);
    while let Some(reference) = queue.pop_front() {
        let Some(name) = reference.strip_prefix(SCHEMA_REF_PREFIX) else {
            continue;
        };
        if !seen.insert(name.to_string()) {
            continue;
        }
        let Some(schema) = spec.schema_by_ref(&reference) else {
            continue;
        };
        collect_refs(schema, &mut queue);
        out.insert(codemode_spec::unescape_pointer_token(name), schema.clone());
    }
    out
}

fn collect_refs(value: &Value, out: &mut VecDeque<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push_back(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Request-side adjustments: `readOnly` properties are never required in a request (OpenAPI
/// says so; see [`drop_read_only_requirements`]); for multipart and binary bodies, binary string
/// fields accept the file-part shape. A readOnly property a script sends anyway is passed
/// through (checked against its schema like any other): the server decides whether to ignore
/// it.
fn prepare_for_requests(spec: &Spec, schema: &mut Value, relax_binary: bool) {
    match schema {
        Value::Object(map) => {
            if relax_binary && is_binary_string(map) {
                map.clear();
                return;
            }
            drop_read_only_requirements(spec, map);
            map.values_mut()
                .for_each(|v| prepare_for_requests(spec, v, relax_binary));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| prepare_for_requests(spec, v, relax_binary)),
        _ => {}
    }
}

/// Removes readOnly properties from a schema's `required` list, wherever the properties are
/// declared: its own `properties` or the `allOf`/`oneOf`/`anyOf` members it is composed of
/// (through `$ref`s). A `required` list beside alternatives (`oneOf`/`anyOf`, no properties of
/// its own) that names readOnly properties describes the resource as the server returns it
/// (Cloudflare's DNS record requires `id`, `proxiable`, `created_on`… next to one alternative
/// per record type); it goes entirely, since each alternative carries its own request-side list.
fn drop_read_only_requirements(spec: &Spec, map: &mut Map<String, Value>) {
    let Some(Value::Array(required)) = map.get("required") else {
        return;
    };
    if required.is_empty() {
        return;
    }
    let mut read_only = HashSet::new();
    collect_read_only(spec, map, &mut read_only, &mut HashSet::new(), 0);
    if read_only.is_empty() {
        return;
    }
    let names_read_only = required
        .iter()
        .any(|r| r.as_str().is_some_and(|r| read_only.contains(r)));
    if !names_read_only {
        return;
    }
    let beside_alternatives = !map.contains_key("properties")
        && ["oneOf", "anyOf"]
            .iter()
            .any(|k| map.get(*k).is_some_and(Value::is_array));
    if beside_alternatives {
        map.remove("required");
    } else if let Some(Value::Array(required)) = map.get_mut("required") {
        required.retain(|r| r.as_str().is_none_or(|r| !read_only.contains(r)));
    }
}

/// The names of readOnly properties a schema declares itself or through its compositions.
/// Each schema object is visited once: a hostile spec can compose a schema of itself many times
/// over (`A: {allOf: [$ref A, $ref A, …]}`), which a depth limit alone would let grow
/// exponentially. The depth limit bounds the native stack on a long chain of distinct schemas.
fn collect_read_only<'s>(
    spec: &'s Spec,
    map: &'s Map<String, Value>,
    out: &mut HashSet<String>,
    visited: &mut HashSet<*const Map<String, Value>>,
    depth: usize,
) {
    if depth > 32 || !visited.insert(map as *const _) {
        return;
    }
    if let Some(Value::Object(properties)) = map.get("properties") {
        for (name, property) in properties {
            let flagged = |p: &Value| p.get("readOnly") == Some(&Value::Bool(true));
            if flagged(property) || flagged(spec.deref_schema(property)) {
                out.insert(name.clone());
            }
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(members)) = map.get(key) {
            for member in members {
                if let Some(member) = spec.deref_schema(member).as_object() {
                    collect_read_only(spec, member, out, visited, depth + 1);
                }
            }
        }
    }
    if let Some(Value::String(reference)) = map.get("$ref")
        && let Some(target) = spec.schema_by_ref(reference).and_then(Value::as_object)
    {
        collect_read_only(spec, target, out, visited, depth + 1);
    }
}

pub(crate) fn is_binary_string(map: &Map<String, Value>) -> bool {
    let format = map.get("format").and_then(Value::as_str);
    matches!(format, Some("binary" | "byte" | "base64"))
        || map.contains_key("contentMediaType")
        || map.contains_key("contentEncoding")
}

fn strip_keyword(schema: &mut Value, keyword: &str) {
    match schema {
        Value::Object(map) => {
            if map.get(keyword).is_some_and(Value::is_string) {
                map.remove(keyword);
            }
            map.values_mut().for_each(|v| strip_keyword(v, keyword));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip_keyword(v, keyword)),
        _ => {}
    }
}

/// Up to three candidates close to `given` (case-insensitive edit distance), best first.
pub(crate) fn did_you_mean<'a>(
    given: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Vec<&'a str> {
    let lower = given.to_ascii_lowercase();
    let limit = (given.chars().count() / 3).clamp(1, 4);
    let mut scored: Vec<(usize, &str)> = candidates
        .filter_map(|c| {
            let candidate_lower = c.to_ascii_lowercase();
            let distance = edit_distance(&lower, &candidate_lower);
            let is_affix = candidate_lower.len() >= 3
                && lower.len() >= 3
                && (candidate_lower.starts_with(&lower) || lower.starts_with(&candidate_lower));
            (distance <= limit || is_affix).then_some((distance, c))
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

pub(crate) fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut: String = text.chars().take(max_chars).collect();
    format!("{cut}…")
}

fn escape_token(key: &str) -> String {
    codemode_spec::escape_pointer_token(key)
}

/// Used when the operation name itself is wrong.
pub(crate) fn unknown_operation(spec: &Spec, name: &str) -> CallError {
    let suggestions = did_you_mean(name, spec.operations.iter().map(|o| o.name.as_str()));
    let message = if suggestions.is_empty() {
        format!("unknown operation {name:?}; use search to find operation names")
    } else {
        format!(
            "unknown operation {name:?}; did you mean {}?",
            quote_list(&suggestions)
        )
    };
    CallError::new(CallErrorKind::UnknownOperation, message).with_data(json!({
        "operation": name,
        "suggestions": suggestions,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_names_best_first() {
        let names = ["per_page", "page", "org", "direction"];
        assert_eq!(did_you_mean("per_pag", names.iter().copied()), ["per_page"]);
        assert_eq!(
            did_you_mean("drection", names.iter().copied()),
            ["direction"]
        );
        assert!(did_you_mean("zzzzzz", names.iter().copied()).is_empty());
    }

    #[test]
    fn transpositions_cost_one() {
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
