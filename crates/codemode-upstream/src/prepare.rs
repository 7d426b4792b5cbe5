//! Preparing a call with no network: a script's `args` validated against an operation and
//! serialized into a [`PreparedRequest`] (path, query, headers, cookies, body), and an
//! `api.request` call ([`RawRequest`]) checked and serialized the same way. Must not know
//! sessions, credentials or sending: a prepared request is what a script may see.

use std::borrow::Cow;

use codemode_spec::{
    BodyKind, MediaType, Method, Operation, OperationId, Parameter, ParameterLocation,
    ParameterStyle, Spec,
};
use serde_json::{Map, Value, json};

use crate::body::{self, BodyError};
use crate::egress;
use crate::error::{CallError, CallErrorKind};
use crate::plan::{CallPlan, PathPiece};
use crate::request::{PreparedRequest, Preview, RawRequest};
use crate::serialize::{self, PathValueError};
use crate::upstream::Upstream;
use crate::validate::{self, OperationPlan};

/// Validates `args` for an operation of the spec and serializes the request, its body as
/// `content_type` when given (one of the media types the operation offers).
pub(crate) fn prepare_operation(
    upstream: &Upstream,
    op_id: OperationId,
    args: &Value,
    preview: Preview,
    content_type: Option<&str>,
) -> Result<PreparedRequest, CallError> {
    let spec = &upstream.spec;
    let Some((op, plan)) = upstream.operation(op_id) else {
        return Err(CallError::new(
            CallErrorKind::UnknownOperation,
            format!("operation {op_id} is not in the spec"),
        ));
    };
    let args = validate::check_arguments(spec, op, &plan.arguments, args)?;
    let path = expand_path(op, plan, &args)?;
    let mut query_pieces = Vec::new();
    let mut headers: Vec<(String, String)> = vec![("accept".to_string(), plan.accept.clone())];
    let mut cookies = Vec::new();
    for (index, param) in op.parameters.iter().enumerate() {
        let Some(value) = plan
            .arguments
            .parameter_key(index)
            .and_then(|k| args.get(k))
        else {
            continue;
        };
        let (style, explode, value) = wire_form(param, value);
        match param.location {
            ParameterLocation::Path => {}
            ParameterLocation::Query => serialize::query_pieces(
                &param.name,
                style,
                explode,
                param.allow_reserved,
                &value,
                &mut query_pieces,
            ),
            ParameterLocation::Header => {
                add_header_parameter(op, &param.name, explode, &value, &mut headers)?
            }
            ParameterLocation::Cookie => {
                serialize::cookie_pieces(&param.name, explode, &value, &mut cookies)
            }
        }
    }
    if !cookies.is_empty() {
        headers.push(("cookie".to_string(), cookies.join("; ")));
    }
    let encoded = match (
        &plan.arguments.body_media,
        args.get(codemode_spec::BODY_ARGUMENT),
    ) {
        (Some(media), Some(value)) => {
            let chosen = match content_type {
                Some(wanted) => offered_media(op, wanted)?,
                None => Cow::Borrowed(media.for_value(value)),
            };
            Some((
                body::encode_body(Some(spec), &chosen, value)
                    .map_err(|e| body_error(&op.name, e))?,
                value,
            ))
        }
        _ => None,
    };
    let query = (!query_pieces.is_empty()).then(|| query_pieces.join("&"));
    Ok(assemble(
        upstream,
        Some(op),
        op.method,
        op.path.clone(),
        &path,
        query,
        headers,
        encoded,
        preview,
    ))
}

/// Validates and serializes an `api.request` call; a path that matches an operation's template
/// is logged under that operation.
pub(crate) fn prepare_raw(
    upstream: &Upstream,
    request: &RawRequest,
) -> Result<PreparedRequest, CallError> {
    let method = Method::parse(request.method.trim()).ok_or_else(|| {
        CallError::validation(
            format!(
                "request: unknown method {:?}; use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS",
                request.method
            ),
            "/method",
            "an http method",
            json!(request.method),
        )
    })?;
    let (path, inline_query) = egress::check_raw_path(&request.path)?;
    let mut query_pieces: Vec<String> = inline_query.into_iter().collect();
    match &request.query {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                if value.is_null() {
                    continue;
                }
                let style = if value.is_object() {
                    codemode_spec::ParameterStyle::DeepObject
                } else {
                    codemode_spec::ParameterStyle::Form
                };
                serialize::query_pieces(key, style, true, false, value, &mut query_pieces);
            }
        }
        Some(other) => {
            return Err(CallError::validation(
                format!(
                    "request: query must be an object, got {}",
                    validate::json_type_name(other)
                ),
                "/query",
                "object",
                other.clone(),
            ));
        }
    }
    let mut headers: Vec<(String, String)> =
        vec![("accept".to_string(), "application/json".to_string())];
    match &request.headers {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                add_raw_header(name, value, &mut headers)?;
            }
        }
        Some(other) => {
            return Err(CallError::validation(
                format!(
                    "request: headers must be an object, got {}",
                    validate::json_type_name(other)
                ),
                "/headers",
                "object",
                other.clone(),
            ));
        }
    }
    let encoded = match &request.body {
        None | Some(Value::Null) => None,
        Some(value) => Some((
            body::encode_raw(request.content_type.as_deref(), value)
                .map_err(|e| body_error("request", e))?,
            value,
        )),
    };
    let spec = &upstream.spec;
    let matched = match_operation(spec, method, &path).map(|id| spec.operation(id));
    let template = matched
        .map(|op| op.path.clone())
        .unwrap_or_else(|| path.clone());
    let query = (!query_pieces.is_empty()).then(|| query_pieces.join("&"));
    Ok(assemble(
        upstream,
        matched,
        method,
        template,
        &path,
        query,
        headers,
        encoded,
        Preview::Build,
    ))
}

/// The prepared request from its parts: the URL under the base URL, and the body with its
/// redacted display copy when `preview` asks for one.
#[allow(clippy::too_many_arguments)]
fn assemble(
    upstream: &Upstream,
    op: Option<&Operation>,
    method: Method,
    path_template: String,
    path: &str,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<(body::EncodedBody, &Value)>,
    preview: Preview,
) -> PreparedRequest {
    let prefix = &upstream.base.prefix;
    let query_len = query.as_ref().map_or(0, |q| q.len() + 1);
    let mut url = String::with_capacity(prefix.len() + path.len() + query_len);
    url.push_str(prefix);
    url.push_str(path);
    if let Some(query) = &query {
        url.push('?');
        url.push_str(query);
    }
    let (body, content_type, body_preview) = match body {
        Some((encoded, value)) => {
            let shown = match preview {
                Preview::Build => {
                    let redactor = &upstream.redactor;
                    let shown = match encoded.preview {
                        Some(mut preview) => {
                            redactor.redact_value(&mut preview);
                            preview
                        }
                        None => {
                            // The preview is the value whose JSON text is `bytes`: with no
                            // escapes there, its strings are verbatim slices of it, so one
                            // scan of the bytes replaces a walk over every string.
                            let mut preview = value.clone();
                            let verbatim = !encoded.bytes.contains(&b'\\');
                            if !(verbatim && redactor.is_absent_from(&encoded.bytes)) {
                                redactor.redact_value(&mut preview);
                            }
                            preview
                        }
                    };
                    Some(shown)
                }
                Preview::Skip => None,
            };
            (Some(encoded.bytes), Some(encoded.content_type), shown)
        }
        None => (None, None, None),
    };
    PreparedRequest {
        operation: op.map(|o| o.name.clone()),
        method,
        path_template,
        url,
        query,
        headers,
        body,
        content_type,
        body_preview,
    }
}

/// The operation's request media type named `wanted` (without parameters, any case); a JSON
/// patch body goes as JSON text, `application/apply-patch+yaml` included (JSON is YAML).
fn offered_media<'o>(op: &'o Operation, wanted: &str) -> Result<Cow<'o, MediaType>, CallError> {
    let essence = |t: &str| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let offered: Vec<&MediaType> = op
        .request_body
        .iter()
        .flat_map(|b| b.content.iter())
        .collect();
    let found = offered
        .iter()
        .find(|m| essence(&m.media_type) == essence(wanted));
    match found {
        Some(media) if essence(wanted) == "application/apply-patch+yaml" => {
            Ok(Cow::Owned(MediaType {
                kind: BodyKind::Json,
                ..(*media).clone()
            }))
        }
        Some(media) => Ok(Cow::Borrowed(*media)),
        None => {
            let names: Vec<&str> = offered.iter().map(|m| m.media_type.as_str()).collect();
            Err(CallError::validation(
                format!(
                    "{}: content type {wanted:?} is not offered; the operation takes {}",
                    op.name,
                    if names.is_empty() {
                        "no request body".to_string()
                    } else {
                        validate::quote_list(&names)
                    }
                ),
                "/contentType",
                &names.join(", "),
                json!(wanted),
            ))
        }
    }
}

fn body_error(operation: &str, error: BodyError) -> CallError {
    CallError::validation(
        format!("{operation}: {}", error.message),
        &error.pointer,
        &error.expected,
        Value::Null,
    )
}

/// Header parameters; `Authorization` and `Content-Type` are ignored as OpenAPI says (the host
/// owns them), `Accept` replaces the default.
fn add_header_parameter(
    op: &Operation,
    name: &str,
    explode: bool,
    value: &Value,
    headers: &mut Vec<(String, String)>,
) -> Result<(), CallError> {
    let lower = name.to_ascii_lowercase();
    if lower == "authorization" || lower == "content-type" {
        return Ok(());
    }
    let text = serialize::header_value(explode, value).ok_or_else(|| {
        CallError::validation(
            format!(
                "{}: {name}: header values cannot contain line breaks",
                op.name
            ),
            &format!("/{}", codemode_spec::escape_pointer_token(name)),
            "text without line breaks",
            value.clone(),
        )
    })?;
    headers.retain(|(n, _)| *n != lower);
    headers.push((lower, text));
    Ok(())
}

/// Headers a script may not set: framing and routing belong to the HTTP client.
fn is_forbidden_header(lower: &str) -> bool {
    matches!(
        lower,
        "host"
            | "content-length"
            | "transfer-encoding"
            | "connection"
            | "upgrade"
            | "te"
            | "trailer"
            | "keep-alive"
            | "expect"
    ) || lower.starts_with("proxy-")
}

fn add_raw_header(
    name: &str,
    value: &Value,
    headers: &mut Vec<(String, String)>,
) -> Result<(), CallError> {
    let lower = name.to_ascii_lowercase();
    let pointer = format!("/headers/{}", codemode_spec::escape_pointer_token(name));
    if is_forbidden_header(&lower) || http::HeaderName::from_bytes(lower.as_bytes()).is_err() {
        return Err(CallError::validation(
            format!("request: header {name:?} cannot be set by a script"),
            &pointer,
            "another header name",
            json!(name),
        ));
    }
    if value.is_null() {
        return Ok(());
    }
    let text = serialize::header_value(false, value).ok_or_else(|| {
        CallError::validation(
            format!("request: header {name:?}: values cannot contain line breaks"),
            &pointer,
            "text without line breaks",
            value.clone(),
        )
    })?;
    headers.retain(|(n, _)| *n != lower);
    headers.push((lower, text));
    Ok(())
}

/// Expands the operation's path template with its path parameters (encoded, checked).
fn expand_path(
    op: &Operation,
    plan: &CallPlan,
    args: &Map<String, Value>,
) -> Result<String, CallError> {
    let mut out = String::with_capacity(op.path.len() + 16);
    for piece in &plan.path {
        match piece {
            PathPiece::Literal(text) => out.push_str(text),
            PathPiece::Parameter(index) => {
                out.push_str(&path_parameter(op, &plan.arguments, args, *index)?)
            }
            PathPiece::Undeclared(name) => {
                return Err(CallError::new(
                    CallErrorKind::Validation,
                    format!(
                        "{}: the spec's path {} uses {{{name}}} but declares no such path parameter",
                        op.name, op.path
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// How a parameter goes on the wire: by its style, except that one described by `content` (a media
/// type instead of a schema) is sent as that media type's text in the location's default style: a
/// JSON value as its JSON text, anything else as its text.
fn wire_form<'v>(param: &Parameter, value: &'v Value) -> (ParameterStyle, bool, Cow<'v, Value>) {
    let Some(media) = &param.content_type else {
        return (param.style, param.explode, Cow::Borrowed(value));
    };
    let text = match value {
        Value::String(text) if BodyKind::classify(media) != BodyKind::Json => text.clone(),
        other => other.to_string(),
    };
    let style = ParameterStyle::default_for(param.location);
    (style, false, Cow::Owned(Value::String(text)))
}

fn path_parameter(
    op: &Operation,
    plan: &OperationPlan,
    args: &Map<String, Value>,
    index: usize,
) -> Result<String, CallError> {
    let Some(param) = op.parameters.get(index) else {
        return Err(CallError::new(
            CallErrorKind::Validation,
            format!("{}: path parameter #{index} is not declared", op.name),
        ));
    };
    let name = param.name.as_str();
    let key = plan.parameter_key(index).unwrap_or(name);
    let Some(value) = args.get(key) else {
        return Err(CallError::validation(
            format!("{}: missing required parameter {key:?} (path)", op.name),
            &format!("/{key}"),
            "a value",
            Value::Null,
        ));
    };
    let (style, explode, wire_value) = wire_form(param, value);
    serialize::path_value(name, style, explode, &wire_value).map_err(|e| {
        let why = match e {
            PathValueError::Traversal => "cannot contain . or .. segments",
            PathValueError::Empty => "cannot be empty",
        };
        CallError::validation(
            format!(
                "{}: path parameter {key:?} {why}, got {}",
                op.name,
                compact(value)
            ),
            &format!("/{}", codemode_spec::escape_pointer_token(key)),
            "a path segment value",
            value.clone(),
        )
    })
}

fn compact(value: &Value) -> String {
    validate::truncate(&serde_json::to_string(value).unwrap_or_default(), 80)
}

/// The spec operation whose template matches a raw path, if any (same method).
fn match_operation(spec: &Spec, method: Method, path: &str) -> Option<OperationId> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    spec.iter_operations().find_map(|(id, op)| {
        if op.method != method {
            return None;
        }
        let template: Vec<&str> = op.path.trim_end_matches('/').split('/').collect();
        let matches = template.len() == segments.len()
            && template.iter().zip(&segments).all(|(t, s)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !s.is_empty()
                } else {
                    t == s
                }
            });
        matches.then_some(id)
    })
}
