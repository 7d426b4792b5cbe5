//! Request bodies: JSON (any `+json` type), `application/x-www-form-urlencoded` with Stripe's
//! bracket nesting, `multipart/form-data`, raw bytes and text.
//!
//! File values (multipart parts, binary bodies) take this shape on the script side (declared as
//! `Binary` in the TypeScript globals):
//! `{ data: string | number[], encoding?: "base64" | "utf8", filename?: string,
//!    contentType?: string }` — `data` is text (utf8, the default), base64, or an array of byte
//! values — or `{ base64: string, filename?, contentType? }`, short for
//! `{ data, encoding: "base64" }`; that is also the shape a binary *response* comes back in
//! (`{ contentType, size, base64 }`), so a downloaded file can be sent on as it is. A plain
//! string is also accepted wherever a file is expected. Where the schema says a multipart field
//! is binary, any other object is an error: it is never sent as the JSON text of the object.

use base64::Engine as _;
use codemode_spec::{BodyKind, MediaType, Spec};
use serde_json::{Map, Value, json};

use crate::serialize::{bracket_pieces, encode, scalar_text};

/// A body ready for the wire, plus what to show for it in dry runs and confirmations.
#[derive(Debug)]
pub(crate) struct EncodedBody {
    pub(crate) bytes: Vec<u8>,
    pub(crate) content_type: String,
    /// `None` when the preview is the body value itself (JSON): it is then cloned only if a
    /// preview is wanted.
    pub(crate) preview: Option<Value>,
}

/// Why a body could not be encoded: where, and the message tail.
#[derive(Debug)]
pub(crate) struct BodyError {
    pub(crate) pointer: String,
    pub(crate) expected: String,
    pub(crate) message: String,
}

/// `spec` resolves the `$ref`s of a multipart schema (to know which fields are files); `None`
/// when there is no spec to ask (raw requests).
pub(crate) fn encode_body(
    spec: Option<&Spec>,
    media: &MediaType,
    value: &Value,
) -> Result<EncodedBody, BodyError> {
    match media.kind {
        BodyKind::Json => {
            let content_type = if media.media_type.contains('*') {
                "application/json".to_string()
            } else {
                media.media_type.clone()
            };
            Ok(EncodedBody {
                bytes: serde_json::to_vec(value).unwrap_or_default(),
                content_type,
                preview: None,
            })
        }
        BodyKind::Form => encode_form(media, value),
        BodyKind::Multipart => encode_multipart(spec, media, value),
        BodyKind::Text => encode_text(&media.media_type, value),
        BodyKind::Binary => encode_binary(&media.media_type, value),
    }
}

/// Encodes a body for a raw request, choosing the encoding from the content type.
pub(crate) fn encode_raw(
    content_type: Option<&str>,
    value: &Value,
) -> Result<EncodedBody, BodyError> {
    let media_type = content_type.unwrap_or(match value {
        Value::String(_) => "text/plain; charset=utf-8",
        _ => "application/json",
    });
    let media = MediaType {
        media_type: media_type.to_string(),
        kind: BodyKind::classify(media_type),
        schema: json!({}),
        encoding: Default::default(),
    };
    encode_body(None, &media, value)
}

fn encode_form(media: &MediaType, value: &Value) -> Result<EncodedBody, BodyError> {
    let Value::Object(map) = value else {
        return Err(BodyError {
            pointer: "/body".to_string(),
            expected: "object".to_string(),
            message: format!(
                "body: expected object (application/x-www-form-urlencoded), got {}",
                crate::validate::json_type_name(value)
            ),
        });
    };
    let mut pieces = Vec::new();
    for (key, v) in map {
        let style = media
            .encoding
            .get(key)
            .and_then(|e| e.get("style"))
            .and_then(Value::as_str);
        let explode = media
            .encoding
            .get(key)
            .and_then(|e| e.get("explode"))
            .and_then(Value::as_bool);
        form_field(key, v, style, explode, &mut pieces);
    }
    Ok(EncodedBody {
        bytes: pieces.join("&").into_bytes(),
        content_type: "application/x-www-form-urlencoded".to_string(),
        preview: Some(value.clone()),
    })
}

/// One top-level form field. Bracket nesting unless the spec's `encoding` asks for plain `form`
/// style (repeated keys, or comma-joined without explode) or a delimited style.
fn form_field(
    key: &str,
    value: &Value,
    style: Option<&str>,
    explode: Option<bool>,
    out: &mut Vec<String>,
) {
    let name = encode(key);
    match (style, value) {
        (Some("form"), Value::Array(items)) if explode.unwrap_or(true) => {
            out.extend(
                items
                    .iter()
                    .map(|v| format!("{name}={}", encode(&scalar_text(v)))),
            );
        }
        (Some(style @ ("form" | "spaceDelimited" | "pipeDelimited")), Value::Array(items)) => {
            let sep = match style {
                "spaceDelimited" => "%20",
                "pipeDelimited" => "|",
                _ => ",",
            };
            let joined: Vec<String> = items.iter().map(|v| encode(&scalar_text(v))).collect();
            out.push(format!("{name}={}", joined.join(sep)));
        }
        _ => bracket_pieces(&name, value, true, out),
    }
}

fn encode_text(media_type: &str, value: &Value) -> Result<EncodedBody, BodyError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(_) | Value::Bool(_) => scalar_text(value),
        other => {
            return Err(BodyError {
                pointer: "/body".to_string(),
                expected: "string".to_string(),
                message: format!(
                    "body: expected string ({media_type}), got {}",
                    crate::validate::json_type_name(other)
                ),
            });
        }
    };
    let preview = Value::String(crate::validate::truncate(&text, 2000));
    Ok(EncodedBody {
        bytes: text.into_bytes(),
        content_type: media_type.to_string(),
        preview: Some(preview),
    })
}

fn encode_binary(media_type: &str, value: &Value) -> Result<EncodedBody, BodyError> {
    let file = FilePart::from_value(value, "/body")?;
    let content_type = file
        .content_type
        .clone()
        .unwrap_or_else(|| media_type.to_string());
    let preview = json!({ "contentType": content_type, "size": file.bytes.len() });
    Ok(EncodedBody {
        bytes: file.bytes,
        content_type,
        preview: Some(preview),
    })
}

/// A file value decoded from its script-side shape.
struct FilePart {
    bytes: Vec<u8>,
    filename: Option<String>,
    content_type: Option<String>,
}

/// What a file value looks like, for messages.
const FILE_SHAPE: &str =
    "{ data, encoding?, filename?, contentType? } or { base64, filename?, contentType? }";

/// Keys a file object may carry. `size` is there because a binary response
/// (`{ contentType, size, base64 }`) can be sent on as a file unchanged.
const FILE_KEYS: [&str; 6] = [
    "data",
    "base64",
    "encoding",
    "filename",
    "contentType",
    "size",
];

impl FilePart {
    /// An object that is meant as a file: it has `data` or `base64` and no keys a file lacks.
    fn is_file_shape(value: &Value) -> bool {
        let Value::Object(map) = value else {
            return false;
        };
        (map.contains_key("data") || map.contains_key("base64"))
            && map.keys().all(|k| FILE_KEYS.contains(&k.as_str()))
    }

    fn from_value(value: &Value, pointer: &str) -> Result<FilePart, BodyError> {
        let invalid = |message: String| BodyError {
            pointer: pointer.to_string(),
            expected: FILE_SHAPE.to_string(),
            message,
        };
        let label = pointer.trim_start_matches('/');
        match value {
            Value::String(s) => Ok(FilePart {
                bytes: s.clone().into_bytes(),
                filename: None,
                content_type: None,
            }),
            Value::Array(items) => Ok(FilePart {
                bytes: byte_array(items).ok_or_else(|| {
                    invalid(format!("{label}: expected an array of byte values 0-255"))
                })?,
                filename: None,
                content_type: None,
            }),
            Value::Object(map) if Self::is_file_shape(value) => {
                let bytes = file_bytes(map, label).map_err(invalid)?;
                Ok(FilePart {
                    bytes,
                    filename: map
                        .get("filename")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    content_type: map
                        .get("contentType")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                })
            }
            Value::Object(map) => Err(invalid(not_a_file_message(map, label))),
            other => Err(invalid(format!(
                "{label}: expected a file ({FILE_SHAPE}) or string, got {}",
                crate::validate::json_type_name(other)
            ))),
        }
    }
}

/// The bytes of a file object (`data` with its `encoding`, or `base64`).
fn file_bytes(map: &Map<String, Value>, label: &str) -> Result<Vec<u8>, String> {
    let decode_base64 = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| format!("{label}: invalid base64 data ({e})"))
    };
    match (map.get("data"), map.get("base64")) {
        (Some(_), Some(_)) => Err(format!("{label}: give either data or base64, not both")),
        (None, Some(Value::String(s))) => decode_base64(s),
        (None, Some(other)) => Err(format!(
            "{label}/base64: expected string, got {}",
            crate::validate::json_type_name(other)
        )),
        (Some(data), None) => {
            let encoding = match map.get("encoding") {
                None | Some(Value::Null) => "utf8",
                Some(Value::String(e)) => e.as_str(),
                Some(other) => {
                    return Err(format!(
                        "{label}/encoding: expected \"base64\" or \"utf8\", got {}",
                        crate::validate::json_type_name(other)
                    ));
                }
            };
            match (data, encoding) {
                (Value::String(s), "base64") => decode_base64(s),
                (Value::String(s), "utf8" | "utf-8" | "text") => Ok(s.clone().into_bytes()),
                (Value::String(_), other) => Err(format!(
                    "{label}/encoding: expected \"base64\" or \"utf8\", got {other:?}"
                )),
                (Value::Array(items), _) => byte_array(items)
                    .ok_or_else(|| format!("{label}/data: expected an array of byte values 0-255")),
                _ => Err(format!("{label}/data: expected string or array of bytes")),
            }
        }
        (None, None) => Err(format!("{label}: expected data or base64")),
    }
}

/// Why an object is not a file, naming what is wrong with it.
fn not_a_file_message(map: &Map<String, Value>, label: &str) -> String {
    if map.get("truncated") == Some(&Value::Bool(true)) {
        return format!(
            "{label}: this binary response was too large to keep its bytes (truncated: true), so it cannot be sent as a file"
        );
    }
    let unknown: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| !FILE_KEYS.contains(k))
        .collect();
    if map.contains_key("data") || map.contains_key("base64") {
        format!(
            "{label}: a file has no {} (expected a file: {FILE_SHAPE})",
            crate::validate::quote_list(&unknown)
        )
    } else {
        format!(
            "{label}: expected a file ({FILE_SHAPE}) or string, got an object without data or base64"
        )
    }
}

fn byte_array(items: &[Value]) -> Option<Vec<u8>> {
    items
        .iter()
        .map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()))
        .collect()
}

/// What the multipart schema says about one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    /// A binary string: the value must be a file (or a string, or bytes).
    File,
    /// An array of binary strings: every item is a file, each sent as its own part.
    Files,
    /// Declared, not binary: sent as text (scalars) or JSON (objects, arrays).
    Value,
    /// Not declared (or no spec at hand): a file if it looks like one.
    Undeclared,
}

fn field_kind(spec: Option<&Spec>, media: &MediaType, name: &str) -> FieldKind {
    let Some(spec) = spec else {
        return FieldKind::Undeclared;
    };
    let Some(property) = spec
        .deref_schema(&media.schema)
        .get("properties")
        .and_then(|p| p.get(name))
        .map(|p| spec.deref_schema(p))
    else {
        return FieldKind::Undeclared;
    };
    let is_binary = |schema: &Value| {
        schema
            .as_object()
            .is_some_and(crate::validate::is_binary_string)
    };
    if is_binary(property) {
        return FieldKind::File;
    }
    match property.get("items").map(|items| spec.deref_schema(items)) {
        Some(items) if is_binary(items) => FieldKind::Files,
        _ => FieldKind::Value,
    }
}

fn encode_multipart(
    spec: Option<&Spec>,
    media: &MediaType,
    value: &Value,
) -> Result<EncodedBody, BodyError> {
    let Value::Object(map) = value else {
        return Err(BodyError {
            pointer: "/body".to_string(),
            expected: "object".to_string(),
            message: format!(
                "body: expected object (multipart/form-data), got {}",
                crate::validate::json_type_name(value)
            ),
        });
    };
    let boundary = format!("codemode-{:032x}", rand::random::<u128>());
    let mut bytes = Vec::new();
    let mut preview = Map::new();
    for (name, v) in map {
        let declared_type = media
            .encoding
            .get(name)
            .and_then(|e| e.get("contentType"))
            .and_then(Value::as_str);
        let kind = field_kind(spec, media, name);
        // An array is one part per item, except a file given as an array of byte values.
        let repeated = match (v, kind) {
            (Value::Array(items), FieldKind::File) => !items.iter().all(Value::is_number),
            (Value::Array(_), FieldKind::Value) => false,
            (Value::Array(_), _) => true,
            _ => false,
        };
        let item_kind = match kind {
            FieldKind::Files => FieldKind::File,
            other => other,
        };
        let items: Vec<(usize, &Value)> = match v {
            Value::Array(items) if repeated => items.iter().enumerate().collect(),
            single => vec![(0, single)],
        };
        let mut shown = Vec::new();
        for (i, item) in &items {
            let pointer = if repeated {
                format!("/body/{name}/{i}")
            } else {
                format!("/body/{name}")
            };
            let part = Part {
                name,
                value: item,
                kind: item_kind,
                declared_type,
                pointer: &pointer,
            };
            shown.push(write_part(&mut bytes, &boundary, &part)?);
        }
        let shown = if repeated {
            Value::Array(shown)
        } else {
            shown.pop().unwrap_or(Value::Null)
        };
        preview.insert(name.clone(), shown);
    }
    bytes.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(EncodedBody {
        bytes,
        content_type: format!("multipart/form-data; boundary={boundary}"),
        preview: Some(Value::Object(preview)),
    })
}

/// One multipart part to write.
struct Part<'a> {
    name: &'a str,
    value: &'a Value,
    kind: FieldKind,
    /// The part's media type from the spec's `encoding`, if it names one.
    declared_type: Option<&'a str>,
    pointer: &'a str,
}

/// Writes one part and returns its preview.
fn write_part(out: &mut Vec<u8>, boundary: &str, part: &Part<'_>) -> Result<Value, BodyError> {
    let as_file = match part.kind {
        FieldKind::File | FieldKind::Files => true,
        FieldKind::Value => false,
        FieldKind::Undeclared => FilePart::is_file_shape(part.value),
    };
    let disposition = format!(
        "Content-Disposition: form-data; name=\"{}\"",
        header_quote(part.name)
    );
    if as_file {
        // Decoded before anything is written: a bad file leaves no half-written part.
        let file = FilePart::from_value(part.value, part.pointer)?;
        let filename = file
            .filename
            .clone()
            .unwrap_or_else(|| part.name.to_string());
        let content_type = file
            .content_type
            .clone()
            .or_else(|| part.declared_type.map(str::to_string))
            .unwrap_or_else(|| "application/octet-stream".to_string());
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        out.extend_from_slice(
            format!(
                "{disposition}; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                header_quote(&filename),
                header_quote(&content_type)
            )
            .as_bytes(),
        );
        out.extend_from_slice(&file.bytes);
        out.extend_from_slice(b"\r\n");
        return Ok(json!({
            "filename": filename,
            "contentType": content_type,
            "size": file.bytes.len(),
        }));
    }
    let (text, content_type) = match part.value {
        Value::Object(_) | Value::Array(_) => (
            serde_json::to_string(part.value).unwrap_or_default(),
            Some(part.declared_type.unwrap_or("application/json")),
        ),
        scalar => (scalar_text(scalar), part.declared_type),
    };
    out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    out.extend_from_slice(disposition.as_bytes());
    if let Some(content_type) = content_type {
        out.extend_from_slice(
            format!("\r\nContent-Type: {}", header_quote(content_type)).as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
    Ok(part.value.clone())
}

/// Makes text safe inside a quoted header parameter: no quotes, no line breaks.
fn header_quote(text: &str) -> String {
    text.replace('"', "%22").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(value: Value) -> String {
        let media = MediaType {
            media_type: "application/x-www-form-urlencoded".into(),
            kind: BodyKind::Form,
            schema: json!({}),
            encoding: Default::default(),
        };
        let body = encode_form(&media, &value).unwrap_or_else(|e| panic!("{}", e.message));
        String::from_utf8(body.bytes).unwrap_or_default()
    }

    #[test]
    fn form_bodies_use_stripe_brackets() {
        assert_eq!(
            form(json!({
                "email": "a b@x.io",
                "metadata": {"order id": "7"},
                "expand": ["customer", "invoice"],
                "items": [{"price": "p_1", "quantity": 2}],
                "description": null,
                "tax_exempt": true,
            })),
            "email=a%20b%40x.io&metadata[order%20id]=7&expand[]=customer&expand[]=invoice\
             &items[0][price]=p_1&items[0][quantity]=2&description=&tax_exempt=true"
        );
    }

    #[test]
    fn file_shapes_decode() {
        let part = FilePart::from_value(
            &json!({"data": "aGk=", "encoding": "base64", "filename": "a.txt"}),
            "/body/file",
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(part.bytes, b"hi");
        assert_eq!(part.filename.as_deref(), Some("a.txt"));
        let bad = FilePart::from_value(&json!({"data": "%%%", "encoding": "base64"}), "/body/file");
        assert!(bad.is_err_and(|e| e.message.starts_with("body/file: invalid base64 data")));
        let bytes = FilePart::from_value(&json!([104, 105]), "/body").map(|p| p.bytes);
        assert_eq!(bytes.ok(), Some(b"hi".to_vec()));
    }

    #[test]
    fn base64_is_short_for_data_with_base64_encoding() {
        let part = FilePart::from_value(
            &json!({"base64": "aGk=", "contentType": "text/plain", "size": 2}),
            "/body/file",
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(part.bytes, b"hi");
        assert_eq!(part.content_type.as_deref(), Some("text/plain"));
        let both = FilePart::from_value(&json!({"data": "a", "base64": "aGk="}), "/body/file");
        assert!(
            both.is_err_and(|e| e.message == "body/file: give either data or base64, not both")
        );
        let old_shape = FilePart::from_value(&json!({"contentType": "image/png"}), "/body");
        assert!(old_shape.is_err_and(|e| e.message.contains("without data or base64")));
    }
}
