//! Reading a request's query parameters, path ids and JSON body into typed values, with an
//! `ApiError` naming the parameter or field when one is missing, unknown or of the wrong type.
//! Knows the shapes of values, not the shop's rules (which ids exist, how much stock there is).

use serde_json::{Map, Value};

use super::error::ApiError;

/// The query string's parameters, checked against the names an operation accepts.
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Refuses a parameter the operation does not declare: a misspelt filter that was silently
    /// ignored would answer a different question than the one asked.
    pub(crate) fn new(pairs: Vec<(String, String)>, known: &[&str]) -> Result<Query, ApiError> {
        if let Some((name, _)) = pairs
            .iter()
            .find(|(name, _)| !known.contains(&name.as_str()))
        {
            return Err(ApiError::bad_request(
                name.clone(),
                format!(
                    "unknown query parameter {name:?} (this operation takes {})",
                    known.join(", ")
                ),
            ));
        }
        Ok(Query { pairs })
    }

    /// The last value given for `name`.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn integer(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        let value = text.trim().parse::<i64>().map_err(|_| {
            ApiError::bad_request(
                name,
                format!("query parameter {name} must be an integer, got {text:?}"),
            )
        })?;
        if !range.contains(&value) {
            return Err(ApiError::bad_request(
                name,
                format!(
                    "query parameter {name} must be in {}..={}, got {value}",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(Some(value))
    }

    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.text(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::bad_request(
                name,
                format!("query parameter {name} must be true or false, got {other:?}"),
            )),
        }
    }

    pub(crate) fn one_of(
        &self,
        name: &str,
        allowed: &[&'static str],
    ) -> Result<Option<&'static str>, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        match allowed.iter().find(|a| **a == text) {
            Some(found) => Ok(Some(found)),
            None => Err(ApiError::bad_request(
                name,
                format!(
                    "query parameter {name} must be one of {}, got {text:?}",
                    allowed.join(", ")
                ),
            )),
        }
    }
}

/// A numeric id from the path (`/books/{book_id}`).
pub(crate) fn path_id(name: &str, text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().map_err(|_| {
        ApiError::bad_request(
            name,
            format!("path parameter {name} must be a positive integer, got {text:?}"),
        )
    })
}

/// A JSON object: the request body, or one element of an array in it. Fields are named in errors
/// by their path from the body (`items[0].quantity`).
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
}

/// Parses the body as a JSON object whose keys are all in `known`.
pub(crate) fn body_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed(
            "the request body is empty; send a JSON object",
        ));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::malformed(format!(
            "the request body must be a JSON object, got {}",
            kind(&other)
        ))),
        Err(e) => Err(ApiError::malformed(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

impl<'a> Fields<'a> {
    /// The fields of `map`, refusing any key not in `known` (a read-only `id`, a misspelling).
    pub(crate) fn new(
        map: &'a Map<String, Value>,
        prefix: &str,
        known: &[&str],
    ) -> Result<Fields<'a>, ApiError> {
        let fields = Fields {
            map,
            prefix: prefix.to_string(),
        };
        if let Some(key) = map.keys().find(|key| !known.contains(&key.as_str())) {
            let name = fields.name(key);
            return Err(ApiError::bad_request(
                name.clone(),
                format!("unknown field {name} (expected {})", known.join(", ")),
            ));
        }
        Ok(fields)
    }

    /// The path of `key` in the body, as errors name it.
    pub(crate) fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn present(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn required(&self, key: &str) -> Result<&'a Value, ApiError> {
        self.present(key).ok_or_else(|| {
            ApiError::bad_request(self.name(key), format!("{} is required", self.name(key)))
        })
    }

    fn wrong_type(&self, key: &str, expected: &str, got: &Value) -> ApiError {
        let name = self.name(key);
        ApiError::bad_request(
            name.clone(),
            format!("{name} must be {expected}, got {}", kind(got)),
        )
    }

    pub(crate) fn string(&self, key: &str) -> Result<&'a str, ApiError> {
        let value = self.required(key)?;
        value
            .as_str()
            .ok_or_else(|| self.wrong_type(key, "a string", value))
    }

    pub(crate) fn optional_string(&self, key: &str) -> Result<Option<&'a str>, ApiError> {
        match self.present(key) {
            None => Ok(None),
            Some(value) => value
                .as_str()
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, "a string", value)),
        }
    }

    pub(crate) fn integer(&self, key: &str) -> Result<i64, ApiError> {
        let value = self.required(key)?;
        value
            .as_i64()
            .ok_or_else(|| self.wrong_type(key, "an integer", value))
    }

    pub(crate) fn optional_integer(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.present(key) {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, "an integer", value)),
        }
    }

    pub(crate) fn number(&self, key: &str) -> Result<f64, ApiError> {
        let value = self.required(key)?;
        value
            .as_f64()
            .ok_or_else(|| self.wrong_type(key, "a number", value))
    }

    pub(crate) fn array(&self, key: &str) -> Result<&'a Vec<Value>, ApiError> {
        let value = self.required(key)?;
        value
            .as_array()
            .ok_or_else(|| self.wrong_type(key, "an array", value))
    }
}

/// What a JSON value is, for "must be an integer, got a string (\"two\")".
fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) if s.chars().count() <= 40 => format!("a string ({s:?})"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}
