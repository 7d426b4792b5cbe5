//! Parameter serialization from the spec: path templates expanded with simple/label/matrix,
//! query strings in form/spaceDelimited/pipeDelimited/deepObject, headers and cookies, each
//! with or without `explode`. Values are percent-encoded here and nowhere else.

use codemode_spec::ParameterStyle;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::Value;

/// Everything but RFC 3986 unreserved characters is encoded in a path segment or a query value.
pub(crate) const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `allowReserved` query values keep reserved characters, except the ones that would change the
/// query's structure (`&`, `=`, `#`) or the URL's.
const RESERVED_ALLOWED: &AsciiSet = &STRICT
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';');

pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    out.extend(utf8_percent_encode(text, STRICT));
    out
}

fn encode_with(text: &str, allow_reserved: bool) -> String {
    let mut out = String::with_capacity(text.len());
    push_encoded(&mut out, text, allow_reserved);
    out
}

/// Appends `text` percent-encoded (no formatting machinery, no intermediate string).
fn push_encoded(out: &mut String, text: &str, allow_reserved: bool) {
    let set = if allow_reserved {
        RESERVED_ALLOWED
    } else {
        STRICT
    };
    out.extend(utf8_percent_encode(text, set));
}

/// `key=value` with the scalar value encoded; strings are not copied first.
fn query_piece(key: &str, value: &Value, allow_reserved: bool) -> String {
    let mut piece = String::with_capacity(key.len() + 16);
    piece.push_str(key);
    piece.push('=');
    match value {
        Value::String(text) => push_encoded(&mut piece, text, allow_reserved),
        other => push_encoded(&mut piece, &scalar_text(other), allow_reserved),
    }
    piece
}

/// A scalar as text; nested objects and arrays (where a style has no notation for them) as
/// compact JSON.
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Why a value cannot go into a path segment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PathValueError {
    /// The value, once decoded, has a `.` or `..` segment.
    Traversal,
    /// The value is empty; an empty segment would change which resource is addressed.
    Empty,
}

/// Refuses values that could climb out of their segment: any `.`/`..` segment after
/// percent-decoding (repeatedly, so `%252e` counts), split on `/` and `\`.
fn check_path_text(text: &str) -> Result<(), PathValueError> {
    if text.is_empty() {
        return Err(PathValueError::Empty);
    }
    if !text.contains('%') {
        // Nothing to decode: one look at the segments settles it.
        return if text
            .split(['/', '\\'])
            .any(|segment| segment == "." || segment == "..")
        {
            Err(PathValueError::Traversal)
        } else {
            Ok(())
        };
    }
    let mut current = text.to_string();
    for _ in 0..4 {
        let dot_segment = current
            .split(['/', '\\'])
            .any(|segment| segment == "." || segment == "..");
        if dot_segment {
            return Err(PathValueError::Traversal);
        }
        let decoded = percent_decode_str(&current).decode_utf8_lossy().to_string();
        if decoded == current {
            break;
        }
        current = decoded;
    }
    Ok(())
}

/// One path parameter's expansion (already percent-encoded), per its style.
pub(crate) fn path_value(
    name: &str,
    style: ParameterStyle,
    explode: bool,
    value: &Value,
) -> Result<String, PathValueError> {
    let item = |v: &Value| -> Result<String, PathValueError> {
        match v {
            Value::String(text) => {
                check_path_text(text)?;
                Ok(encode(text))
            }
            other => {
                let text = scalar_text(other);
                check_path_text(&text)?;
                Ok(encode(&text))
            }
        }
    };
    let name = encode(name);
    let out = match (style, value) {
        (ParameterStyle::Label, Value::Array(items)) => {
            let parts = items.iter().map(item).collect::<Result<Vec<_>, _>>()?;
            let sep = if explode { "." } else { "," };
            format!(".{}", parts.join(sep))
        }
        (ParameterStyle::Label, Value::Object(map)) => {
            let parts = object_parts(map, explode, item)?;
            let sep = if explode { "." } else { "," };
            format!(".{}", parts.join(sep))
        }
        (ParameterStyle::Label, v) => format!(".{}", item(v)?),
        (ParameterStyle::Matrix, Value::Array(items)) => {
            let parts = items.iter().map(item).collect::<Result<Vec<_>, _>>()?;
            if explode {
                parts.iter().map(|p| format!(";{name}={p}")).collect()
            } else {
                format!(";{name}={}", parts.join(","))
            }
        }
        (ParameterStyle::Matrix, Value::Object(map)) => {
            let parts = object_parts(map, explode, item)?;
            if explode {
                parts.iter().map(|p| format!(";{p}")).collect()
            } else {
                format!(";{name}={}", parts.join(","))
            }
        }
        (ParameterStyle::Matrix, v) => format!(";{name}={}", item(v)?),
        // simple, and any style that makes no sense in a path
        (_, Value::Array(items)) => items
            .iter()
            .map(item)
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        (_, Value::Object(map)) => object_parts(map, explode, item)?.join(","),
        (_, v) => item(v)?,
    };
    Ok(out)
}

/// `k=v` pieces for an exploded object, `k,v` pieces otherwise (keys encoded like values).
fn object_parts<E>(
    map: &serde_json::Map<String, Value>,
    explode: bool,
    item: impl Fn(&Value) -> Result<String, E>,
) -> Result<Vec<String>, E> {
    let mut parts = Vec::with_capacity(map.len() * 2);
    for (k, v) in map {
        let value = item(v)?;
        if explode {
            parts.push(format!("{}={value}", encode(k)));
        } else {
            parts.push(encode(k));
            parts.push(value);
        }
    }
    Ok(parts)
}

/// One query parameter as `name=value` pieces (already percent-encoded), per its style.
pub(crate) fn query_pieces(
    name: &str,
    style: ParameterStyle,
    explode: bool,
    allow_reserved: bool,
    value: &Value,
    out: &mut Vec<String>,
) {
    let enc = |v: &Value| encode_with(&scalar_text(v), allow_reserved);
    let key = encode(name);
    match (style, value) {
        (ParameterStyle::DeepObject, v) => bracket_pieces(&key, v, false, out),
        (ParameterStyle::SpaceDelimited, Value::Array(items)) if !explode => {
            let joined: Vec<String> = items.iter().map(enc).collect();
            out.push(format!("{key}={}", joined.join("%20")));
        }
        (ParameterStyle::PipeDelimited, Value::Array(items)) if !explode => {
            let joined: Vec<String> = items.iter().map(enc).collect();
            out.push(format!("{key}={}", joined.join("|")));
        }
        (_, Value::Array(items)) => {
            if explode {
                out.extend(items.iter().map(|v| query_piece(&key, v, allow_reserved)));
            } else {
                let joined: Vec<String> = items.iter().map(enc).collect();
                out.push(format!("{key}={}", joined.join(",")));
            }
        }
        (ParameterStyle::SpaceDelimited | ParameterStyle::PipeDelimited, Value::Object(map))
            if !explode =>
        {
            let sep = if style == ParameterStyle::SpaceDelimited {
                "%20"
            } else {
                "|"
            };
            let parts: Vec<String> = map.iter().flat_map(|(k, v)| [encode(k), enc(v)]).collect();
            out.push(format!("{key}={}", parts.join(sep)));
        }
        (_, Value::Object(map)) => {
            if explode {
                out.extend(map.iter().map(|(k, v)| format!("{}={}", encode(k), enc(v))));
            } else {
                let parts: Vec<String> =
                    map.iter().flat_map(|(k, v)| [encode(k), enc(v)]).collect();
                out.push(format!("{key}={}", parts.join(",")));
            }
        }
        (_, v) => out.push(query_piece(&key, v, allow_reserved)),
    }
}

/// Nested bracket notation, as Stripe and `deepObject` use it: `a[b][c]=v`, `a[]=v` for an
/// array of scalars, `a[0][b]=v` for an array of objects. `prefix` is already encoded.
/// `null_as_empty`: a null becomes `a=` (form bodies: Stripe reads it as "unset"); otherwise
/// nulls are left out.
pub(crate) fn bracket_pieces(
    prefix: &str,
    value: &Value,
    null_as_empty: bool,
    out: &mut Vec<String>,
) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                bracket_pieces(&format!("{prefix}[{}]", encode(k)), v, null_as_empty, out);
            }
        }
        Value::Array(items) => {
            let all_scalars = items.iter().all(|v| !v.is_object() && !v.is_array());
            for (i, v) in items.iter().enumerate() {
                if all_scalars {
                    bracket_pieces(&format!("{prefix}[]"), v, null_as_empty, out);
                } else {
                    bracket_pieces(&format!("{prefix}[{i}]"), v, null_as_empty, out);
                }
            }
        }
        Value::Null if !null_as_empty => {}
        scalar => out.push(format!("{prefix}={}", encode(&scalar_text(scalar)))),
    }
}

/// A header parameter's value (style simple). `None` when it holds CR, LF or NUL.
pub(crate) fn header_value(explode: bool, value: &Value) -> Option<String> {
    let text = match value {
        Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(","),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                if explode {
                    vec![format!("{k}={}", scalar_text(v))]
                } else {
                    vec![k.clone(), scalar_text(v)]
                }
            })
            .collect::<Vec<_>>()
            .join(","),
        v => scalar_text(v),
    };
    (!text.contains(['\r', '\n', '\0'])).then_some(text)
}

/// A cookie parameter as `name=value` pieces (style form; values encoded).
pub(crate) fn cookie_pieces(name: &str, explode: bool, value: &Value, out: &mut Vec<String>) {
    let key = encode(name);
    match value {
        Value::Array(items) if explode => {
            out.extend(
                items
                    .iter()
                    .map(|v| format!("{key}={}", encode(&scalar_text(v)))),
            );
        }
        Value::Array(items) => {
            let joined: Vec<String> = items.iter().map(|v| encode(&scalar_text(v))).collect();
            out.push(format!("{key}={}", joined.join(",")));
        }
        Value::Object(map) if explode => {
            out.extend(
                map.iter()
                    .map(|(k, v)| format!("{}={}", encode(k), encode(&scalar_text(v)))),
            );
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .flat_map(|(k, v)| [encode(k), encode(&scalar_text(v))])
                .collect();
            out.push(format!("{key}={}", parts.join(",")));
        }
        v => out.push(format!("{key}={}", encode(&scalar_text(v)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(style: ParameterStyle, explode: bool, value: Value) -> String {
        let mut out = Vec::new();
        query_pieces("id", style, explode, false, &value, &mut out);
        out.join("&")
    }

    fn path(style: ParameterStyle, explode: bool, value: Value) -> String {
        path_value("id", style, explode, &value).unwrap_or_else(|e| format!("{e:?}"))
    }

    // The examples of the OpenAPI 3.1 style table, row by row.
    #[test]
    fn path_styles_follow_the_openapi_table() {
        use ParameterStyle::*;
        let arr = json!([3, 4, 5]);
        let obj = json!({"role": "admin", "firstName": "Alex"});
        assert_eq!(path(Simple, false, json!(5)), "5");
        assert_eq!(path(Simple, false, arr.clone()), "3,4,5");
        assert_eq!(
            path(Simple, false, obj.clone()),
            "role,admin,firstName,Alex"
        );
        assert_eq!(path(Simple, true, obj.clone()), "role=admin,firstName=Alex");
        assert_eq!(path(Label, false, json!(5)), ".5");
        assert_eq!(path(Label, false, arr.clone()), ".3,4,5");
        assert_eq!(path(Label, true, arr.clone()), ".3.4.5");
        assert_eq!(
            path(Label, false, obj.clone()),
            ".role,admin,firstName,Alex"
        );
        assert_eq!(path(Label, true, obj.clone()), ".role=admin.firstName=Alex");
        assert_eq!(path(Matrix, false, json!(5)), ";id=5");
        assert_eq!(path(Matrix, false, arr.clone()), ";id=3,4,5");
        assert_eq!(path(Matrix, true, arr), ";id=3;id=4;id=5");
        assert_eq!(
            path(Matrix, false, obj.clone()),
            ";id=role,admin,firstName,Alex"
        );
        assert_eq!(path(Matrix, true, obj), ";role=admin;firstName=Alex");
    }

    #[test]
    fn query_styles_follow_the_openapi_table() {
        use ParameterStyle::*;
        let arr = json!([3, 4, 5]);
        let obj = json!({"role": "admin", "firstName": "Alex"});
        assert_eq!(query(Form, true, json!(5)), "id=5");
        assert_eq!(query(Form, true, arr.clone()), "id=3&id=4&id=5");
        assert_eq!(query(Form, false, arr.clone()), "id=3,4,5");
        assert_eq!(query(Form, true, obj.clone()), "role=admin&firstName=Alex");
        assert_eq!(
            query(Form, false, obj.clone()),
            "id=role,admin,firstName,Alex"
        );
        assert_eq!(query(SpaceDelimited, false, arr.clone()), "id=3%204%205");
        assert_eq!(query(PipeDelimited, false, arr.clone()), "id=3|4|5");
        assert_eq!(
            query(DeepObject, true, obj),
            "id[role]=admin&id[firstName]=Alex"
        );
        assert_eq!(query(DeepObject, true, arr), "id[]=3&id[]=4&id[]=5");
    }

    #[test]
    fn path_values_cannot_traverse() {
        use ParameterStyle::Simple;
        for bad in [
            "..",
            ".",
            "../etc",
            "a/../b",
            "..%2F",
            "%2e%2e",
            "%252e%252e",
            "a\\..\\b",
        ] {
            assert_eq!(
                path_value("p", Simple, false, &json!(bad)),
                Err(PathValueError::Traversal),
                "{bad}"
            );
        }
        assert_eq!(path(Simple, false, json!("a/b c")), "a%2Fb%20c");
        assert_eq!(path(Simple, false, json!("..a")), "..a");
        assert_eq!(path(Simple, false, json!("%2F")), "%252F");
    }

    #[test]
    fn headers_refuse_line_breaks() {
        assert_eq!(header_value(false, &json!("a\r\nX-Evil: 1")), None);
        assert_eq!(header_value(false, &json!([1, 2])).as_deref(), Some("1,2"));
    }
}
