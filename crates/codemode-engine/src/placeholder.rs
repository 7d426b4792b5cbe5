//! Dry-run placeholders: what a planned (not sent) call answers with, shaped from the
//! operation's success response schema, so a program can go on to plan the calls that use the
//! result (create a customer, then a subscription for `customer: created.id`).
//!
//! Only what later calls need is filled in: id-like fields ([`is_id_like`]), fields the schema
//! fixes to one value (`const`, a one-value `enum`, such as Stripe's `object: "customer"`), and
//! the envelopes that hold them (`result`, `data`, `items`, `metadata`, …), as far as the schema
//! goes. A string id is `dryrun_<operation>_<field>_<n>`, a `format: uuid` one
//! `00000000-0000-4000-8000-<n, 12 digits>`, an integer one `990000000 + n`; `n` is the call's
//! place in the run's planned list (from 1), so ids from different calls differ and each names
//! the planned request it came from.

use codemode_spec::{Operation, Spec};
use serde_json::{Map, Value};

/// The integer ids of placeholders are this plus the placeholder's number: recognisable,
/// positive, and within 32 bits.
pub(crate) const INTEGER_ID_BASE: i64 = 990_000_000;

/// `$ref` hops and nested envelopes followed before giving up (schemas may be cyclic).
const MAX_DEPTH: usize = 12;

/// Properties a placeholder looks inside for more ids: the envelopes APIs wrap resources in.
const ENVELOPES: [&str; 7] = [
    "data", "result", "results", "items", "item", "metadata", "resource",
];

/// The placeholder for a planned call of `op`: `None` when its success response declares no
/// JSON object or array to shape one from, or nothing to put in it (an empty placeholder would
/// hide that the call was not sent, and gives a program nothing to go on).
pub(crate) fn placeholder(spec: &Spec, op: &Operation, n: u32) -> Option<Value> {
    let media = op.success.as_ref()?.preferred()?;
    if media.kind != codemode_spec::BodyKind::Json {
        return None;
    }
    let shaper = Shaper {
        spec,
        operation: &op.name,
        n,
    };
    shaper.shape(&media.schema, 0).filter(|v| match v {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => items
            .first()
            .is_some_and(|item| item != &Value::Object(Map::new())),
        _ => false,
    })
}

/// The success status a placeholder pretends to have come with (`201` for a create that says so).
pub(crate) fn success_status(op: &Operation) -> u16 {
    op.success
        .as_ref()
        .and_then(|r| r.status.parse().ok())
        .unwrap_or(200)
}

/// Whether a property names an id a later call may need: `id`, `uuid`, `guid`, `*_id`, `*Id`,
/// `*ID`, `*Uuid` (and `number`, the key of GitHub's issues and pulls, when it is an integer).
fn is_id_like(key: &str) -> bool {
    matches!(key, "id" | "uuid" | "guid" | "number")
        || key.ends_with("_id")
        || key.ends_with("_uuid")
        || (key.len() > 2 && (key.ends_with("Id") || key.ends_with("ID")))
        || (key.len() > 4 && key.ends_with("Uuid"))
}

/// Whether a property names a list of ids: `ids`, `*_ids`, `*Ids`, `*IDs`.
fn is_id_list(key: &str) -> bool {
    key == "ids"
        || key.ends_with("_ids")
        || (key.len() > 3 && (key.ends_with("Ids") || key.ends_with("IDs")))
}

/// What kind of value a schema holds, as far as an id needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    Integer,
    Uuid,
    Text,
    /// An object or array only: not an id.
    Other,
}

struct Shaper<'s> {
    spec: &'s Spec,
    operation: &'s str,
    n: u32,
}

impl Shaper<'_> {
    /// The placeholder for one schema; `None` for a scalar (nothing to stand in for).
    fn shape(&self, schema: &Value, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let schema = self.spec.deref_schema(schema);
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for part in parts {
                if let Some(Value::Object(map)) = self.shape(part, depth + 1) {
                    merged.extend(map);
                }
            }
            self.fill_properties(schema, depth, &mut merged);
            return Some(Value::Object(merged));
        }
        if let Some(first) = alternatives(schema).find_map(|part| self.shape(part, depth + 1)) {
            return Some(first);
        }
        if let Some(items) = schema.get("items").filter(|_| has_type(schema, "array")) {
            return Some(Value::Array(
                self.shape(items, depth + 1).into_iter().collect(),
            ));
        }
        if schema.get("properties").is_some() || has_type(schema, "object") {
            let mut map = Map::new();
            self.fill_properties(schema, depth, &mut map);
            return Some(Value::Object(map));
        }
        None
    }

    fn fill_properties(&self, schema: &Value, depth: usize, into: &mut Map<String, Value>) {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (key, property) in properties {
            let resolved = self.spec.deref_schema(property);
            let value = if let Some(fixed) = fixed_value(resolved) {
                Some(fixed)
            } else if is_id_like(key) {
                self.id(key, resolved)
            } else if is_id_list(key) && has_type(resolved, "array") {
                // `valveIds: ["vl_1"]`: one placeholder id, so `zone.valveIds[0]` plans on.
                resolved
                    .get("items")
                    .and_then(|items| self.id(key, self.spec.deref_schema(items)))
                    .map(|id| Value::Array(vec![id]))
            } else if ENVELOPES.contains(&key.as_str()) {
                self.shape(resolved, depth + 1)
            } else {
                None
            };
            if let Some(value) = value {
                into.insert(key.clone(), value);
            }
        }
    }

    /// The placeholder id for a property, of the type its schema says.
    fn id(&self, key: &str, schema: &Value) -> Option<Value> {
        match (scalar_kind(self.spec, schema, 0), key) {
            (Scalar::Integer, _) => Some(Value::from(INTEGER_ID_BASE + i64::from(self.n))),
            (_, "number") | (Scalar::Other, _) => None,
            (Scalar::Uuid, _) => Some(Value::String(format!(
                "00000000-0000-4000-8000-{:012}",
                self.n
            ))),
            (Scalar::Text, _) => {
                let max = schema
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .map_or(usize::MAX, |m| m as usize);
                // The longest form that fits the schema's maxLength.
                let n = self.n;
                let forms = [
                    format!("dryrun_{}_{key}_{n}", self.operation),
                    format!("dryrun_{key}_{n}"),
                    format!("dryrun_{n}"),
                ];
                let text = match forms.iter().find(|form| form.len() <= max) {
                    Some(form) => form.clone(),
                    None => forms[2].chars().take(max.max(1)).collect(),
                };
                Some(Value::String(text))
            }
        }
    }
}

/// The branches of a `oneOf`/`anyOf`, nulls last (a nullable id is still an id).
fn alternatives(schema: &Value) -> impl Iterator<Item = &Value> {
    let parts = |key| {
        schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    let is_null = |part: &&Value| has_type(part, "null") && part.get("properties").is_none();
    let all = || parts("oneOf").chain(parts("anyOf"));
    all()
        .filter(move |p| !is_null(p))
        .chain(all().filter(is_null))
}

/// A value the schema allows and nothing else: `const`, or an `enum` of one.
fn fixed_value(schema: &Value) -> Option<Value> {
    if let Some(value) = schema.get("const") {
        return Some(value.clone());
    }
    match schema.get("enum").and_then(Value::as_array)?.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    }
}

fn has_type(schema: &Value, name: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(types)) => types.iter().any(|t| t == name),
        _ => false,
    }
}

/// The kind of an id's schema: integer or number before text (a string id can hold anything,
/// but a number id must be a number), uuid by format; the first branch of a union that is one.
fn scalar_kind(spec: &Spec, schema: &Value, depth: usize) -> Scalar {
    let schema = spec.deref_schema(schema);
    if has_type(schema, "string") {
        let uuid = schema.get("format").and_then(Value::as_str) == Some("uuid");
        return if uuid { Scalar::Uuid } else { Scalar::Text };
    }
    if has_type(schema, "integer") || has_type(schema, "number") {
        return Scalar::Integer;
    }
    if depth < MAX_DEPTH
        && let Some(kind) = alternatives(schema)
            .map(|part| scalar_kind(spec, part, depth + 1))
            .find(|kind| *kind != Scalar::Other)
    {
        return kind;
    }
    if schema.get("type").is_some() || schema.get("properties").is_some() {
        Scalar::Other
    } else {
        // No type at all: anything goes, and text is what ids usually are.
        Scalar::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        codemode_spec::load_str(
            "shapes.yaml",
            r##"
openapi: 3.1.0
info: {title: shapes, version: "1"}
components:
  schemas:
    Zone:
      type: object
      properties:
        id: {type: string, maxLength: 12}
        name: {type: string}
        account_id: {type: integer}
        owner: {anyOf: [{type: string}, {$ref: "#/components/schemas/Zone"}]}
        kind: {type: string, enum: [zone]}
        tokenUuid: {type: string, format: uuid}
        valveIds: {type: array, items: {type: string}}
        tags: {type: array, items: {type: string}}
    Envelope:
      type: object
      properties:
        success: {type: boolean}
        result: {$ref: "#/components/schemas/Zone"}
paths:
  /zones:
    post:
      operationId: createZone
      responses: {"201": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Envelope"}}}}}
    get:
      operationId: listZones
      responses: {"200": {description: ok, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Zone"}}}}}}
  /zones/{id}:
    delete:
      operationId: deleteZone
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"204": {description: gone}}
"##,
        )
        .expect("the spec loads")
    }

    fn check(operation: &str, n: u32) -> Option<Value> {
        let spec = spec();
        let op = spec.find(operation).expect("operation");
        placeholder(&spec, op, n)
    }

    #[test]
    fn ids_are_filled_inside_the_envelope_the_schema_declares() {
        assert_eq!(
            check("createZone", 3),
            Some(json!({
                "result": {
                    "id": "dryrun_id_3", // the schema's maxLength of 12 leaves out the operation
                    "account_id": 990000003,
                    "kind": "zone",
                    "tokenUuid": "00000000-0000-4000-8000-000000000003",
                    "valveIds": ["dryrun_createZone_valveIds_3"],
                }
            }))
        );
    }

    #[test]
    fn a_list_gets_one_placeholder_item_and_no_schema_gets_none() {
        let listed = check("listZones", 1).expect("an array");
        assert_eq!(listed[0]["id"], json!("dryrun_id_1"));
        assert_eq!(listed.as_array().map(Vec::len), Some(1));
        assert_eq!(check("deleteZone", 1), None);
        assert_eq!(success_status(spec().find("createZone").unwrap()), 201);
    }

    #[test]
    fn id_like_names() {
        for yes in [
            "id",
            "uuid",
            "customer_id",
            "customerId",
            "zoneID",
            "number",
        ] {
            assert!(is_id_like(yes), "{yes}");
        }
        for no in ["paid", "valid", "name", "Id", "identity"] {
            assert!(!is_id_like(no), "{no}");
        }
        for yes in ["ids", "valveIds", "member_ids", "userIDs"] {
            assert!(is_id_list(yes), "{yes}");
        }
        for no in ["Ids", "bids", "kids", "name"] {
            assert!(!is_id_list(no), "{no}");
        }
    }
}
