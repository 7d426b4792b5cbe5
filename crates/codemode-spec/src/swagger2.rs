//! Converts a Swagger 2.0 document into the OpenAPI 3.0 shape, so one builder reads both.
//!
//! `in: body` becomes a request body, `formData` a form or multipart body, `definitions` become
//! component schemas, `host`/`basePath`/`schemes` become servers and `securityDefinitions` become
//! security schemes. References are rewritten to their OpenAPI 3 locations.

use serde_json::{Map, Value, json};

use crate::Diagnostic;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub(crate) fn convert(mut doc: Value, file: &str, warnings: &mut Vec<Diagnostic>) -> Value {
    rewrite_refs(&mut doc);
    let Value::Object(mut root) = doc else {
        return doc;
    };
    let consumes = string_list(root.get("consumes"));
    let produces = string_list(root.get("produces"));
    let shared_params = root
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();

    let mut out = Map::new();
    out.insert("openapi".into(), json!("3.0.0"));
    if let Some(info) = root.get("info") {
        out.insert("info".into(), info.clone());
    }
    out.insert("servers".into(), Value::Array(servers(&root)));
    for key in ["security", "tags", "externalDocs"] {
        if let Some(v) = root.get(key) {
            out.insert(key.into(), v.clone());
        }
    }

    let mut components = Map::new();
    if let Some(defs) = root.remove("definitions") {
        components.insert("schemas".into(), defs);
    }
    let mut params = Map::new();
    for (name, p) in &shared_params {
        if !matches!(
            p.get("in").and_then(Value::as_str),
            Some("body" | "formData")
        ) {
            params.insert(name.clone(), convert_parameter(p));
        }
    }
    components.insert("parameters".into(), Value::Object(params));
    if let Some(Value::Object(responses)) = root.get("responses") {
        let converted = responses
            .iter()
            .map(|(k, r)| (k.clone(), convert_response(r, &produces)))
            .collect();
        components.insert("responses".into(), Value::Object(converted));
    }
    if let Some(Value::Object(defs)) = root.get("securityDefinitions") {
        let converted = defs
            .iter()
            .map(|(k, d)| (k.clone(), convert_security_scheme(d)))
            .collect();
        components.insert("securitySchemes".into(), Value::Object(converted));
    }
    out.insert("components".into(), Value::Object(components));

    let mut paths = Map::new();
    if let Some(Value::Object(items)) = root.remove("paths") {
        for (path, item) in &items {
            let ctx = Ctx {
                shared_params: &shared_params,
                consumes: &consumes,
                produces: &produces,
                file,
                path,
            };
            paths.insert(path.clone(), convert_path_item(item, &ctx, warnings));
        }
    }
    out.insert("paths".into(), Value::Object(paths));
    Value::Object(out)
}

struct Ctx<'a> {
    shared_params: &'a Map<String, Value>,
    consumes: &'a [String],
    produces: &'a [String],
    file: &'a str,
    path: &'a str,
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                for (old, new) in [
                    ("#/definitions/", "#/components/schemas/"),
                    ("#/parameters/", "#/components/parameters/"),
                    ("#/responses/", "#/components/responses/"),
                ] {
                    if let Some(rest) = r.strip_prefix(old) {
                        *r = format!("{new}{rest}");
                        break;
                    }
                }
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn servers(root: &Map<String, Value>) -> Vec<Value> {
    let base_path = root.get("basePath").and_then(Value::as_str).unwrap_or("");
    let Some(host) = root.get("host").and_then(Value::as_str) else {
        let url = if base_path.is_empty() { "/" } else { base_path };
        return vec![json!({ "url": url })];
    };
    let mut schemes = string_list(root.get("schemes"));
    if schemes.is_empty() {
        schemes.push("https".into());
    }
    schemes
        .iter()
        .map(|s| json!({ "url": format!("{s}://{host}{base_path}") }))
        .collect()
}

fn convert_path_item(item: &Value, ctx: &Ctx<'_>, warnings: &mut Vec<Diagnostic>) -> Value {
    let Value::Object(item) = item else {
        return item.clone();
    };
    let path_params = item
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Map::new();
    for (key, value) in item {
        if METHODS.contains(&key.as_str()) {
            out.insert(
                key.clone(),
                convert_operation(value, &path_params, ctx, key, warnings),
            );
        } else if key != "parameters" {
            out.insert(key.clone(), value.clone());
        }
    }
    // Path-level parameters that are plain stay on the path item; body/form ones moved into operations.
    let plain: Vec<Value> = path_params
        .iter()
        .filter(|p| !is_body_like(resolve_param(p, ctx)))
        .map(|p| {
            if p.get("$ref").is_some() {
                p.clone()
            } else {
                convert_parameter(p)
            }
        })
        .collect();
    if !plain.is_empty() {
        out.insert("parameters".into(), Value::Array(plain));
    }
    Value::Object(out)
}

static NULL: Value = Value::Null;

/// The parameter itself, or the shared parameter its `$ref` names (`null` when there is none).
fn resolve_param<'a>(p: &'a Value, ctx: &Ctx<'a>) -> &'a Value {
    match p
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/parameters/"))
    {
        Some(name) => ctx.shared_params.get(name).unwrap_or(&NULL),
        None => p,
    }
}

fn is_body_like(p: &Value) -> bool {
    matches!(
        p.get("in").and_then(Value::as_str),
        Some("body" | "formData")
    )
}

fn convert_operation(
    op: &Value,
    path_params: &[Value],
    ctx: &Ctx<'_>,
    method: &str,
    warnings: &mut Vec<Diagnostic>,
) -> Value {
    let Value::Object(op) = op else {
        return op.clone();
    };
    let consumes = op
        .get("consumes")
        .map(|v| string_list(Some(v)))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| ctx.consumes.to_vec());
    let produces = op
        .get("produces")
        .map(|v| string_list(Some(v)))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| ctx.produces.to_vec());
    let own_params: &[Value] = op
        .get("parameters")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);

    let mut plain = Vec::new();
    let mut body: Option<Value> = None;
    let mut form_fields: Vec<Value> = Vec::new();
    // Body and form parameters declared at path level apply too, unless the operation redeclares them.
    let body_like_from_path = path_params
        .iter()
        .map(|p| resolve_param(p, ctx))
        .filter(|p| is_body_like(p));
    let own_resolved: Vec<(&Value, &Value)> = own_params
        .iter()
        .map(|p| (p, resolve_param(p, ctx)))
        .collect();
    for param in body_like_from_path {
        let name = param.get("name");
        if !own_resolved
            .iter()
            .any(|(_, r)| r.get("name") == name && is_body_like(r))
        {
            classify(param, &mut body, &mut form_fields);
        }
    }
    for (raw, resolved) in own_resolved {
        if is_body_like(resolved) {
            classify(resolved, &mut body, &mut form_fields);
        } else if raw.get("$ref").is_some() {
            plain.push(raw.clone());
        } else {
            plain.push(convert_parameter(raw));
        }
    }

    let mut out = Map::new();
    for (key, value) in op {
        match key.as_str() {
            "parameters" | "consumes" | "produces" | "responses" | "schemes" => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if !plain.is_empty() {
        out.insert("parameters".into(), Value::Array(plain));
    }
    if let Some(body) = body {
        let media: Vec<String> = if consumes.is_empty() {
            vec!["application/json".into()]
        } else {
            consumes.clone()
        };
        let schema = body.get("schema").cloned().unwrap_or(json!({}));
        let content: Map<String, Value> = media
            .into_iter()
            .map(|m| (m, json!({ "schema": schema })))
            .collect();
        let mut rb = Map::new();
        rb.insert("content".into(), Value::Object(content));
        if body.get("required").and_then(Value::as_bool) == Some(true) {
            rb.insert("required".into(), json!(true));
        }
        if let Some(d) = body.get("description") {
            rb.insert("description".into(), d.clone());
        }
        out.insert("requestBody".into(), Value::Object(rb));
    } else if !form_fields.is_empty() {
        out.insert("requestBody".into(), form_body(&form_fields, &consumes));
    }
    if let Some(Value::Object(responses)) = op.get("responses") {
        let converted = responses
            .iter()
            .map(|(k, r)| (k.clone(), convert_response(r, &produces)))
            .collect();
        out.insert("responses".into(), Value::Object(converted));
    } else {
        warnings.push(Diagnostic {
            file: ctx.file.to_string(),
            pointer: format!(
                "/paths/{}/{method}",
                crate::model::escape_pointer_token(ctx.path)
            ),
            message: "operation has no responses".into(),
        });
    }
    Value::Object(out)
}

fn classify(param: &Value, body: &mut Option<Value>, form_fields: &mut Vec<Value>) {
    match param.get("in").and_then(Value::as_str) {
        Some("body") => *body = Some(param.clone()),
        Some("formData") => form_fields.push(param.clone()),
        _ => {}
    }
}

fn form_body(fields: &[Value], consumes: &[String]) -> Value {
    let has_file = fields
        .iter()
        .any(|f| f.get("type").and_then(Value::as_str) == Some("file"));
    let multipart = has_file || consumes.iter().any(|c| c.starts_with("multipart/"));
    let media = if multipart {
        "multipart/form-data"
    } else {
        "application/x-www-form-urlencoded"
    };
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in fields {
        let Some(name) = f.get("name").and_then(Value::as_str) else {
            continue;
        };
        properties.insert(name.to_string(), parameter_schema(f));
        if f.get("required").and_then(Value::as_bool) == Some(true) {
            required.push(json!(name));
        }
    }
    let mut schema = json!({ "type": "object", "properties": properties });
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    // A form with a required field cannot be sent empty: the body itself is required.
    let body_required = schema.get("required").is_some();
    json!({ "required": body_required, "content": { media: { "schema": schema } } })
}

/// The schema keywords a Swagger 2.0 non-body parameter carries inline.
const SCHEMA_KEYS: [&str; 17] = [
    "type",
    "format",
    "items",
    "enum",
    "default",
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "x-nullable",
];

fn parameter_schema(p: &Value) -> Value {
    let mut schema = Map::new();
    if let Value::Object(map) = p {
        for key in SCHEMA_KEYS {
            if let Some(v) = map.get(key) {
                schema.insert(key.to_string(), v.clone());
            }
        }
    }
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".into(), json!("string"));
        schema.insert("format".into(), json!("binary"));
    }
    Value::Object(schema)
}

fn convert_parameter(p: &Value) -> Value {
    let Value::Object(map) = p else {
        return p.clone();
    };
    let mut out = Map::new();
    for key in [
        "name",
        "in",
        "description",
        "required",
        "deprecated",
        "allowEmptyValue",
    ] {
        if let Some(v) = map.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    for (key, value) in map {
        if key.starts_with("x-") && key != "x-nullable" {
            out.insert(key.clone(), value.clone());
        }
    }
    out.insert("schema".into(), parameter_schema(p));
    let location = map.get("in").and_then(Value::as_str).unwrap_or("query");
    match map.get("collectionFormat").and_then(Value::as_str) {
        Some("multi") => {
            out.insert("style".into(), json!("form"));
            out.insert("explode".into(), json!(true));
        }
        Some("ssv") => {
            out.insert("style".into(), json!("spaceDelimited"));
            out.insert("explode".into(), json!(false));
        }
        Some("pipes") => {
            out.insert("style".into(), json!("pipeDelimited"));
            out.insert("explode".into(), json!(false));
        }
        _ if map.get("type").and_then(Value::as_str) == Some("array") => {
            // csv (the Swagger 2.0 default) is comma-joined: form without explode, or simple.
            let style = if matches!(location, "query" | "cookie") {
                "form"
            } else {
                "simple"
            };
            out.insert("style".into(), json!(style));
            out.insert("explode".into(), json!(false));
        }
        _ => {}
    }
    Value::Object(out)
}

fn convert_response(r: &Value, produces: &[String]) -> Value {
    let Value::Object(map) = r else {
        return r.clone();
    };
    if map.contains_key("$ref") {
        return r.clone();
    }
    let mut out = Map::new();
    out.insert(
        "description".into(),
        map.get("description").cloned().unwrap_or(json!("")),
    );
    if let Some(schema) = map.get("schema") {
        let media: Vec<String> = if produces.is_empty() {
            vec!["application/json".into()]
        } else {
            produces.to_vec()
        };
        let content: Map<String, Value> = media
            .into_iter()
            .map(|m| (m, json!({ "schema": schema })))
            .collect();
        out.insert("content".into(), Value::Object(content));
    }
    if let Some(Value::Object(headers)) = map.get("headers") {
        let converted = headers
            .iter()
            .map(|(k, h)| {
                (
                    k.clone(),
                    json!({ "schema": parameter_schema(h), "description": h.get("description") }),
                )
            })
            .collect();
        out.insert("headers".into(), Value::Object(converted));
    }
    Value::Object(out)
}

fn convert_security_scheme(d: &Value) -> Value {
    match d.get("type").and_then(Value::as_str) {
        Some("basic") => json!({ "type": "http", "scheme": "basic" }),
        Some("oauth2") => {
            let flow = match d.get("flow").and_then(Value::as_str) {
                Some("application") => "clientCredentials",
                Some("accessCode") => "authorizationCode",
                Some("password") => "password",
                _ => "implicit",
            };
            let mut f = Map::new();
            for key in ["authorizationUrl", "tokenUrl", "scopes"] {
                if let Some(v) = d.get(key) {
                    f.insert(key.into(), v.clone());
                }
            }
            json!({ "type": "oauth2", "flows": { flow: f } })
        }
        _ => d.clone(),
    }
}
