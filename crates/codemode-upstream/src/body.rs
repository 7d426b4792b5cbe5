//! Request bodies: JSON (any `+json` type), `application/x-www-form-urlencoded` with Stripe's
//! bracket nesting, `multipart/form-data`, raw bytes and text.
//!
//! File values (multipart parts, binary bodies) take this shape on the script side:
//! `{ data: string | number[], encoding?: "base64" | "utf8", filename?: string,
//!    contentType?: string }` — `data` is text (utf8, the default), base64, or an array of byte
//! values. A plain string is also accepted wherever a file is expected.

use base64::Engine as _;
use codemode_spec::{BodyKind, MediaType};
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

pub(crate) fn encode_body(media: &MediaType, value: &Value) -> Result<EncodedBody, BodyError> {
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
        BodyKind::Multipart => encode_multipart(media, value),
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
    encode_body(&media, value)
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

impl FilePart {
    fn is_file_shape(value: &Value) -> bool {
        let Value::Object(map) = value else {
            return false;
        };
        map.contains_key("data")
            && map
                .keys()
                .all(|k| matches!(k.as_str(), "data" | "encoding" | "filename" | "contentType"))
    }

    fn from_value(value: &Value, pointer: &str) -> Result<FilePart, BodyError> {
        let invalid = |message: String| BodyError {
            pointer: pointer.to_string(),
            expected: "{ data, encoding?, filename?, contentType? }".to_string(),
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
                let encoding = map
                    .get("encoding")
                    .and_then(Value::as_str)
                    .unwrap_or("utf8");
                let bytes = match (map.get("data"), encoding) {
                    (Some(Value::String(s)), "base64") => base64::engine::general_purpose::STANDARD
                        .decode(s.trim())
                        .map_err(|e| invalid(format!("{label}: invalid base64 data ({e})")))?,
                    (Some(Value::String(s)), "utf8" | "utf-8" | "text") => s.clone().into_bytes(),
                    (Some(Value::String(_)), other) => {
                        return Err(invalid(format!(
                            "{label}/encoding: expected \"base64\" or \"utf8\", got {other:?}"
                        )));
                    }
                    (Some(Value::Array(items)), _) => byte_array(items).ok_or_else(|| {
                        invalid(format!(
                            "{label}/data: expected an array of byte values 0-255"
                        ))
                    })?,
                    _ => {
                        return Err(invalid(format!(
                            "{label}/data: expected string or array of bytes"
                        )));
                    }
                };
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
            other => Err(invalid(format!(
                "{label}: expected a file ({{ data, encoding?, filename?, contentType? }}) or string, got {}",
                crate::validate::json_type_name(other)
            ))),
        }
    }
}

fn byte_array(items: &[Value]) -> Option<Vec<u8>> {
    items
        .iter()
        .map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()))
        .collect()
}

fn encode_multipart(media: &MediaType, value: &Value) -> Result<EncodedBody, BodyError> {
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
        let items: Vec<(usize, &Value)> = match v {
            Value::Array(items) if !FilePart::is_file_shape(v) => {
                items.iter().enumerate().collect()
            }
            single => vec![(0, single)],
        };
        let mut shown = Vec::new();
        for (i, item) in &items {
            let pointer = if matches!(v, Value::Array(_)) {
                format!("/body/{name}/{i}")
            } else {
                format!("/body/{name}")
            };
            shown.push(write_part(
                &mut bytes,
                &boundary,
                name,
                item,
                declared_type,
                &pointer,
            )?);
        }
        let shown = if matches!(v, Value::Array(_)) && !FilePart::is_file_shape(v) {
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

/// Writes one part and returns its preview.
fn write_part(
    out: &mut Vec<u8>,
    boundary: &str,
    name: &str,
    value: &Value,
    declared_type: Option<&str>,
    pointer: &str,
) -> Result<Value, BodyError> {
    out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    let disposition = format!(
        "Content-Disposition: form-data; name=\"{}\"",
        header_quote(name)
    );
    if FilePart::is_file_shape(value) {
        let file = FilePart::from_value(value, pointer)?;
        let filename = file.filename.clone().unwrap_or_else(|| name.to_string());
        let content_type = file
            .content_type
            .clone()
            .or_else(|| declared_type.map(str::to_string))
            .unwrap_or_else(|| "application/octet-stream".to_string());
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
    let (text, content_type) = match value {
        Value::Object(_) | Value::Array(_) => (
            serde_json::to_string(value).unwrap_or_default(),
            Some(declared_type.unwrap_or("application/json")),
        ),
        scalar => (scalar_text(scalar), declared_type),
    };
    out.extend_from_slice(disposition.as_bytes());
    if let Some(content_type) = content_type {
        out.extend_from_slice(
            format!("\r\nContent-Type: {}", header_quote(content_type)).as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
    Ok(value.clone())
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
}
