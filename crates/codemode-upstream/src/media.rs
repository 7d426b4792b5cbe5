//! Which of an operation's request media types a call is sent as.
//!
//! Most operations offer one media type, or several where the spec's preferred one (JSON first,
//! then form, multipart, …) is right. PATCH is different: where an operation offers patch formats
//! and no plain JSON, the body's shape decides ([`RequestBody::patch_media`]): an array goes as
//! JSON Patch, anything else as the best object patch type offered.

use codemode_spec::{BodyKind, MediaType, RequestBody, Spec};
use serde_json::{Value, json};

/// The media type(s) a request body may go as, fixed once per operation.
#[derive(Debug, Clone)]
pub(crate) struct BodyMedia {
    /// What the body is sent as, unless `for_arrays` applies.
    pub(crate) default: MediaType,
    /// JSON Patch, for an array body, when the default is an object patch type.
    pub(crate) for_arrays: Option<MediaType>,
}

impl BodyMedia {
    pub(crate) fn choose(spec: &Spec, body: &RequestBody) -> Option<BodyMedia> {
        let preferred = body.preferred()?;
        let Some(patch) = body.patch_media() else {
            return Some(BodyMedia::single(preferred));
        };
        let json_patch = patch.json_patch.map(|m| with_json_patch_schema(spec, m));
        match (patch.object, json_patch) {
            (Some(object), for_arrays) => Some(BodyMedia {
                default: as_json(object),
                for_arrays,
            }),
            (None, Some(json_patch)) => Some(BodyMedia {
                default: json_patch,
                for_arrays: None,
            }),
            (None, None) => Some(BodyMedia::single(preferred)),
        }
    }

    fn single(media: &MediaType) -> BodyMedia {
        BodyMedia {
            default: media.clone(),
            for_arrays: None,
        }
    }

    /// The media type this body value goes as.
    pub(crate) fn for_value(&self, value: &Value) -> &MediaType {
        match (&self.for_arrays, value) {
            (Some(json_patch), Value::Array(_)) => json_patch,
            _ => &self.default,
        }
    }

    /// The schema `args.body` is validated against: the one of the media type the value will
    /// be sent as (JSON Schema `if`/`then`/`else` on the value's type when that depends on it).
    pub(crate) fn schema(&self, schema_of: impl Fn(&MediaType) -> Value) -> Value {
        match &self.for_arrays {
            None => schema_of(&self.default),
            Some(json_patch) => json!({
                "if": { "type": "array" },
                "then": schema_of(json_patch),
                "else": schema_of(&self.default),
            }),
        }
    }
}

/// An object patch type sent as JSON text: `apply-patch+yaml` takes JSON as it is (JSON is
/// YAML), though its name does not say JSON.
fn as_json(media: &MediaType) -> MediaType {
    MediaType {
        kind: BodyKind::Json,
        ..media.clone()
    }
}

/// JSON Patch media with its schema as RFC 6902 defines the body (an array of operations) when
/// the spec's schema cannot be an array (Kubernetes gives every patch type the same opaque
/// `type: object` schema).
fn with_json_patch_schema(spec: &Spec, media: &MediaType) -> MediaType {
    let mut media = as_json(media);
    if !allows_arrays(spec.deref_schema(&media.schema)) {
        media.schema = json!({
            "type": "array",
            "items": {
                "type": "object",
                "required": ["op", "path"],
                "properties": {
                    "op": { "enum": ["add", "remove", "replace", "move", "copy", "test"] },
                    "path": { "type": "string" },
                    "from": { "type": "string" }
                }
            }
        });
    }
    media
}

/// False when the schema's `type` rules arrays out.
fn allows_arrays(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "array",
        Some(Value::Array(types)) => types.iter().any(|t| t == "array"),
        _ => true,
    }
}
