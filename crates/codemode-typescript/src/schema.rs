//! JSON Schema (OpenAPI 3.1 dialect) → TypeScript type expressions.
//!
//! A [`Writer`] renders one schema at a time and records the component schemas it referenced, so
//! the caller can declare them (breadth first, to a depth budget). References are always printed
//! as the type's name; a named type is never inlined, which is also what ends cycles.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use codemode_spec::{SCHEMA_REF_PREFIX, Spec, unescape_pointer_token};
use serde_json::{Map, Value};

use crate::names::TypeNames;
use crate::text;

/// Which side of the wire a schema describes: `readOnly` properties are left out of requests,
/// `writeOnly` ones out of responses. Named declarations are shared, so they are `Neutral`
/// (readOnly properties are marked `readonly` there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Request,
    Response,
    Neutral,
}

/// How much prose to print; the token budget turns these down.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Detail {
    /// Longest description of a property or a named type, in characters (0: none).
    pub property_description: usize,
    /// Whether `@format`, `@default` and `@deprecated` are printed for properties.
    pub property_tags: bool,
    /// Inline schemas with structure (objects, arrays, compositions, enums) nested deeper than
    /// this are printed as `unknown`; references and primitives are kept at any nesting.
    pub inline_nesting: usize,
    /// Longest inline object nested in another type, in characters: over it, its largest
    /// structured members are printed as `unknown`, biggest first, until it fits (so an
    /// argument keeps `items: { price: string; quantity?: number }[]` while the deep parts
    /// of its price go). `usize::MAX`: no limit.
    pub max_object_chars: usize,
    /// Most members of a named type's own declaration: over it, the required members come
    /// first, then the others in spec order, and the rest are left to an index signature under
    /// a note saying how many there are (a large result type still shows its main fields).
    pub max_members: usize,
    /// Most members of an inline object (an argument's body, a nested field): over it, the
    /// required members and the first optional ones stay, and the other optional ones are
    /// named in a comment (`/* 38 more optional: customer, metadata, … */`). The leanest
    /// signature of an operation with a large body still declares what a call must send and
    /// what else it may, at a fifth of the tokens. `usize::MAX`: no limit.
    pub max_inline_members: usize,
}

/// Beyond this much inline nesting a schema is printed as `unknown` (guards hostile specs).
pub(crate) const MAX_INLINE_NESTING: usize = 24;

/// The JSON Schema keywords that bound a value, as JSDoc tags (`@maximum 50`,
/// `@pattern ^[a-z]+$`), in this order: what an argument must satisfy, stated where the agent
/// writes it, so a call is not refused for a bound the declaration kept quiet about.
const CONSTRAINTS: &[&str] = &[
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
];

/// A schema's value constraints as JSDoc tags, escaped for a comment; empty when it has none.
/// Bounds no agent would meet are left out as noise: a type's own range (`int64` limits), a
/// length cap of thousands of characters (Stripe caps every string at 5000), `uniqueItems` on
/// anything but an array.
pub(crate) fn constraint_tags(schema: &Value) -> Vec<String> {
    CONSTRAINTS
        .iter()
        .filter_map(|&keyword| {
            let value = schema.get(keyword)?;
            let shown = match value {
                Value::Number(n) if worth_stating(keyword, n.as_f64()?) => n.to_string(),
                Value::String(s) if keyword == "pattern" => text::truncate_chars(s, 60),
                Value::Bool(true) if keyword == "uniqueItems" => {
                    let array = schema.get("type").and_then(Value::as_str) == Some("array");
                    return array.then(|| "@uniqueItems".to_string());
                }
                // `exclusiveMinimum: true` (OpenAPI 3.0) qualifies `minimum`, shown beside it.
                Value::Bool(true) if keyword.starts_with("exclusive") => {
                    return Some(format!("@{keyword}"));
                }
                _ => return None,
            };
            Some(format!("@{keyword} {}", text::comment(&shown)))
        })
        .collect()
}

/// Lengths and counts above this are caps no call comes near.
const LARGEST_STATED_SIZE: f64 = 1000.0;

fn worth_stating(keyword: &str, value: f64) -> bool {
    match keyword {
        "maxLength" | "maxItems" => value <= LARGEST_STATED_SIZE,
        // The limits of the integer type itself say nothing the type does not.
        _ => value.abs() < f64::from(i32::MAX),
    }
}

/// Formats too common or too obvious to be worth a tag.
const QUIET_FORMATS: &[&str] = &["int32", "float", "double", "binary"];

/// Operator precedence of a rendered type, to know when to parenthesize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Union,
    Intersection,
    Atom,
}

struct Ty {
    text: String,
    prec: Prec,
}

impl Ty {
    fn atom(text: impl Into<String>) -> Ty {
        Ty {
            text: text.into(),
            prec: Prec::Atom,
        }
    }

    fn unknown() -> Ty {
        Ty::atom("unknown")
    }

    fn at_least(self, prec: Prec) -> String {
        if self.prec < prec {
            format!("({})", self.text)
        } else {
            self.text
        }
    }
}

pub(crate) struct Writer<'a> {
    spec: &'a Spec,
    names: &'a TypeNames,
    detail: Detail,
    /// Component schemas referenced so far, in first-seen order.
    referenced: Vec<String>,
    referenced_set: HashSet<String>,
    /// The component schema whose declaration is being written.
    declaring: Option<String>,
    /// How many object or array types enclose the current position; TypeScript resolves
    /// references there lazily, so only references at 0 can make a type alias circular.
    deferred: usize,
    /// Alias-loop answers already worked out: (from, to) → whether `from` reaches `to`.
    reaches: HashMap<(String, String), bool>,
    /// Whether anything written uses `Binary` or `BinaryResponse` ([`crate::FILE_TYPES`]).
    uses_file_types: bool,
    /// Whether some object's optional members were named in a comment rather than typed
    /// ([`Detail::max_inline_members`]).
    named_optional_members: bool,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(spec: &'a Spec, names: &'a TypeNames, detail: Detail) -> Writer<'a> {
        Writer {
            spec,
            names,
            detail,
            referenced: Vec::new(),
            referenced_set: HashSet::new(),
            declaring: None,
            deferred: 0,
            reaches: HashMap::new(),
            uses_file_types: false,
            named_optional_members: false,
        }
    }

    /// Notes that what is being written uses the file shapes.
    pub(crate) fn use_file_types(&mut self) {
        self.uses_file_types = true;
    }

    /// Whether anything written so far uses the file shapes.
    pub(crate) fn uses_file_types(&self) -> bool {
        self.uses_file_types
    }

    /// Whether anything written so far names optional members instead of typing them.
    pub(crate) fn named_optional_members(&self) -> bool {
        self.named_optional_members
    }

    /// Component schemas referenced since the last call, in first-seen order.
    pub(crate) fn take_referenced(&mut self) -> Vec<String> {
        self.referenced_set.clear();
        std::mem::take(&mut self.referenced)
    }

    /// A type expression for `schema`; `indent` is the indentation of the line it starts on.
    pub(crate) fn type_of(&mut self, schema: &Value, mode: Mode, indent: usize) -> String {
        self.render(schema, mode, indent, 0).text
    }

    /// A whole declaration for the component schema `schema_name`: `interface X { … }` when it is
    /// a plain object, `type X = …;` otherwise, with its description as JSDoc.
    pub(crate) fn declaration(&mut self, schema_name: &str) -> String {
        let ident = self.names.get(schema_name);
        let Some(schema) = self.spec.schemas().get(schema_name) else {
            return format!("type {ident} = unknown;\n");
        };
        let mut out = String::new();
        if let Some(doc) = self.schema_doc(schema) {
            out.push_str(&format!("/** {doc} */\n"));
        }
        self.declaring = Some(schema_name.to_string());
        if let Some(object) = schema.as_object().filter(|o| is_plain_object(o)) {
            let body = self.object_members(object, Mode::Neutral, 0, 0);
            out.push_str(&format!("interface {ident} {body}\n"));
        } else {
            let ty = self.render(schema, Mode::Neutral, 0, 0).text;
            out.push_str(&format!("type {ident} = {ty};\n"));
        }
        self.declaring = None;
        out
    }

    fn schema_doc(&self, schema: &Value) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(d) = schema.get("description").and_then(Value::as_str) {
            let d = text::summarize(d, self.detail.property_description);
            if !d.is_empty() {
                parts.push(text::comment(&d));
            }
        }
        if schema.get("deprecated") == Some(&Value::Bool(true)) {
            parts.push("@deprecated".into());
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    fn render(&mut self, schema: &Value, mode: Mode, indent: usize, nesting: usize) -> Ty {
        if nesting > MAX_INLINE_NESTING {
            return Ty::unknown();
        }
        let object = match schema {
            Value::Bool(true) => return Ty::unknown(),
            Value::Bool(false) => return Ty::atom("never"),
            Value::Object(object) => object,
            _ => return Ty::unknown(),
        };
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            return self.reference(reference, mode);
        }
        if nesting > self.detail.inline_nesting && has_structure(object) {
            return Ty::unknown();
        }
        if let Some(value) = object.get("const") {
            return literal(value);
        }
        if let Some(Value::Array(values)) = object.get("enum")
            && !values.is_empty()
        {
            return union(values.iter().map(literal).collect());
        }
        let mut parts: Vec<Ty> = Vec::new();
        if let Some(base) = self.base_type(object, mode, indent, nesting) {
            parts.push(base);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(alternatives) = self.alternatives(object, key, mode, indent, nesting) {
                parts.push(alternatives);
            }
        }
        if let Some(Value::Array(all)) = object.get("allOf") {
            for member in all.iter().filter(|m| is_structural(m)) {
                let member = with_outer_required(member, object.get("required"));
                parts.push(self.render(&member, mode, indent, nesting + 1));
            }
        }
        if parts.iter().any(|p| p.text == "never") {
            return Ty::atom("never");
        }
        parts.retain(|p| p.text != "unknown");
        // `type: integer` with `oneOf` of consts: the literals alone say it (`0 | 1 | 2`).
        if parts.len() == 2
            && matches!(parts[0].text.as_str(), "number" | "string" | "boolean")
            && is_literal_union(&parts[1].text)
        {
            parts.remove(0);
        }
        intersection(parts)
    }

    /// The type from `type` (or from `properties` / `items` when `type` is missing). `None` when
    /// the schema says nothing about its own shape, or only "object" while a composition says more.
    fn base_type(
        &mut self,
        object: &Map<String, Value>,
        mode: Mode,
        indent: usize,
        nesting: usize,
    ) -> Option<Ty> {
        let composed = ["oneOf", "anyOf", "allOf"].iter().any(|k| {
            object
                .get(*k)
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(is_structural))
        });
        let types: Vec<&str> = match object.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ if has_object_keywords(object) => vec!["object"],
            _ if object.contains_key("items") || object.contains_key("prefixItems") => {
                vec!["array"]
            }
            _ => return None,
        };
        if types.is_empty() {
            return None;
        }
        let bare_object = !has_object_keywords(object);
        if composed && types.iter().all(|t| *t == "object" || *t == "null") && bare_object {
            // `type: object` next to `oneOf`/`allOf` adds nothing but an index signature.
            if types.contains(&"null") {
                return Some(Ty::atom("null"));
            }
            return None;
        }
        if composed && types.contains(&"null") && types.len() == 1 {
            return None;
        }
        let mut alternatives = Vec::with_capacity(types.len());
        let mut seen = HashSet::new();
        for t in types {
            if seen.insert(t) {
                alternatives.push(self.single_type(t, object, mode, indent, nesting));
            }
        }
        Some(union(alternatives))
    }

    fn single_type(
        &mut self,
        type_name: &str,
        object: &Map<String, Value>,
        mode: Mode,
        indent: usize,
        nesting: usize,
    ) -> Ty {
        match type_name {
            "string" if is_binary_string(object) => {
                if mode == Mode::Response {
                    Ty::atom("string")
                } else {
                    self.use_file_types();
                    Ty {
                        text: "string | Binary".into(),
                        prec: Prec::Union,
                    }
                }
            }
            "string" => Ty::atom("string"),
            "integer" | "number" => Ty::atom("number"),
            "boolean" => Ty::atom("boolean"),
            "null" => Ty::atom("null"),
            "array" => self.array(object, mode, indent, nesting),
            "object" => self.object(object, mode, indent, nesting),
            _ => Ty::unknown(),
        }
    }

    fn array(
        &mut self,
        object: &Map<String, Value>,
        mode: Mode,
        indent: usize,
        nesting: usize,
    ) -> Ty {
        self.deferred += 1;
        let ty = self.array_inner(object, mode, indent, nesting);
        self.deferred -= 1;
        ty
    }

    fn array_inner(
        &mut self,
        object: &Map<String, Value>,
        mode: Mode,
        indent: usize,
        nesting: usize,
    ) -> Ty {
        if let Some(Value::Array(prefix)) = object.get("prefixItems") {
            let min = object.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
            let mut elements: Vec<String> = prefix
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let ty = self.render(item, mode, indent, nesting + 1);
                    if i < min {
                        ty.text
                    } else {
                        format!("{}?", ty.at_least(Prec::Atom))
                    }
                })
                .collect();
            match object.get("items") {
                Some(Value::Bool(false)) => {}
                Some(rest) => {
                    let ty = self.render(rest, mode, indent, nesting + 1);
                    elements.push(format!("...{}[]", ty.at_least(Prec::Atom)));
                }
                None => elements.push("...unknown[]".into()),
            }
            return Ty::atom(format!("[{}]", elements.join(", ")));
        }
        let item = match object.get("items") {
            Some(items) => self.render(items, mode, indent, nesting + 1),
            None => Ty::unknown(),
        };
        Ty::atom(format!("{}[]", item.at_least(Prec::Atom)))
    }

    fn object(
        &mut self,
        object: &Map<String, Value>,
        mode: Mode,
        indent: usize,
        nesting: usize,
    ) -> Ty {
        self.deferred += 1;
        let ty = self.object_inner(object, mode, indent, nesting);
        self.deferred -= 1;
        ty
    }

    fn object_inner(
        &mut self,
        object: &Map<String, Value>,
        mode: Mode,
        indent: usize,
        nesting: usize,
    ) -> Ty {
        let extra = self.index_type(object, mode, indent, nesting);
        let has_properties = object
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty());
        match extra {
            Some(extra) if !has_properties => {
                Ty::atom(format!("{{ [key: string]: {} }}", extra.text))
            }
            Some(extra) if extra.text != "unknown" => {
                // Named properties must fit an index signature; an intersection keeps both exact.
                let members = self.object_members(object, mode, indent, nesting);
                Ty {
                    text: format!("{members} & {{ [key: string]: {} }}", extra.text),
                    prec: Prec::Intersection,
                }
            }
            _ => Ty::atom(self.object_members(object, mode, indent, nesting)),
        }
    }

    /// The index signature's value type: `None` for a closed object, or one whose extra keys the
    /// spec leaves unsaid while naming properties (TypeScript allows extra keys structurally).
    fn index_type(
        &mut self,
        object: &Map<String, Value>,
        mode: Mode,
        indent: usize,
        nesting: usize,
    ) -> Option<Ty> {
        let has_properties = object
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty());
        match object.get("additionalProperties") {
            Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(Ty::unknown()),
            Some(schema @ Value::Object(_)) => Some(self.render(schema, mode, indent, nesting + 1)),
            _ if object.contains_key("patternProperties") => Some(Ty::unknown()),
            _ if has_properties => None,
            _ => Some(Ty::unknown()),
        }
    }

    /// `{ a: string; b?: number }` on one line, or one member per line when any has a comment.
    fn object_members(
        &mut self,
        object: &Map<String, Value>,
        mode: Mode,
        indent: usize,
        nesting: usize,
    ) -> String {
        let required: HashSet<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        // (doc, `key?: `, type)
        let mut members: Vec<(Option<String>, String, String)> = Vec::new();
        let first_reference = self.referenced.len();
        if let Some(Value::Object(properties)) = object.get("properties") {
            for (name, property) in properties {
                let read_only = flag(property, "readOnly");
                if (mode == Mode::Request && read_only)
                    || (mode == Mode::Response && flag(property, "writeOnly"))
                {
                    continue;
                }
                let ty = self.render(property, mode, indent + 2, nesting + 1).text;
                // A shared (Neutral) declaration types requests too, and a request never sends
                // a readOnly property: it is `readonly` and optional there (`Omit<…>` drops it
                // from a directly referenced interface, but not from one reached through
                // `allOf`, a union or a nested object).
                let required_here =
                    required.contains(name.as_str()) && !(read_only && mode == Mode::Neutral);
                let optional = if required_here { "" } else { "?" };
                let readonly = if mode == Mode::Neutral && read_only {
                    "readonly "
                } else {
                    ""
                };
                let key = text::property_key(name);
                members.push((
                    self.property_doc(property, mode),
                    format!("{readonly}{key}{optional}: "),
                    ty,
                ));
            }
        }
        let collapsed = nesting > 0 && collapse_largest(&mut members, self.detail.max_object_chars);
        let left_out = if nesting == 0 && self.declaring.is_some() {
            keep_main_members(&mut members, self.detail.max_members)
        } else {
            0
        };
        // Any object but the top of a named type's own declaration (an operation's body is
        // written at nesting 0 too, with no type being declared).
        let named_only = if nesting > 0 || self.declaring.is_none() {
            name_extra_optional_members(&mut members, self.detail.max_inline_members)
        } else {
            Vec::new()
        };
        if collapsed || left_out > 0 || !named_only.is_empty() {
            self.forget_unshown_references(first_reference, &members);
        }
        let mut members: Vec<(Option<String>, String)> = members
            .into_iter()
            .map(|(doc, head, ty)| (doc, format!("{head}{ty};")))
            .collect();
        if left_out > 0 {
            let name = self
                .declaring
                .as_deref()
                .map(|n| self.names.get(n))
                .unwrap_or_default();
            // A line comment, not an index signature: `Omit<Name, "k">` of a type with an index
            // signature loses every named member.
            members.push((
                None,
                format!(
                    "// {left_out} more fields: search for {} to see them all.",
                    text::comment(&name)
                ),
            ));
        }
        if !named_only.is_empty() {
            self.named_optional_members = true;
            members.push((None, optional_names_comment(&named_only)));
        }
        let open = match object.get("additionalProperties") {
            Some(Value::Bool(true)) => true,
            Some(Value::Object(o)) => o.is_empty(),
            _ => false,
        };
        if open && !members.is_empty() {
            members.push((None, "[key: string]: unknown;".into()));
        }
        if members.is_empty() {
            return "{}".into();
        }
        let multiline = indent == 0 && nesting == 0 || members.iter().any(|(doc, _)| doc.is_some());
        if !multiline {
            let inner: Vec<&str> = members
                .iter()
                .map(|(_, m)| m.trim_end_matches(';'))
                .collect();
            return format!("{{ {} }}", inner.join("; "));
        }
        let pad = " ".repeat(indent + 2);
        let mut out = String::from("{\n");
        for (doc, member) in members {
            if let Some(doc) = doc {
                out.push_str(&format!("{pad}/** {doc} */\n"));
            }
            out.push_str(&format!("{pad}{member}\n"));
        }
        out.push_str(&" ".repeat(indent));
        out.push('}');
        out
    }

    /// One-line JSDoc for a property: description, format, default, deprecation, and (for what
    /// a request may send) the value constraints the upstream client will hold it to.
    pub(crate) fn property_doc(&self, property: &Value, mode: Mode) -> Option<String> {
        let mut parts = Vec::new();
        let description = property
            .get("description")
            .and_then(Value::as_str)
            .map(|d| text::summarize(d, self.detail.property_description))
            .filter(|d| !d.is_empty());
        if let Some(d) = description {
            parts.push(text::comment(&d));
        }
        if self.detail.property_tags {
            if let Some(format) = property.get("format").and_then(Value::as_str)
                && !QUIET_FORMATS.contains(&format)
            {
                parts.push(format!(
                    "@format {}",
                    text::comment(&text::truncate_chars(format, 40))
                ));
            }
            if let Some(default) = property.get("default") {
                let shown = serde_json::to_string(default).unwrap_or_default();
                parts.push(format!(
                    "@default {}",
                    text::comment(&text::truncate_chars(&shown, 60))
                ));
            }
            if flag(property, "deprecated") {
                parts.push("@deprecated".into());
            }
        }
        // Bounds are rules a request is held to, not decoration: stated at every level.
        if mode != Mode::Response {
            parts.extend(constraint_tags(property));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// `oneOf` / `anyOf` as a union; with a discriminator mapping, each referenced member is
    /// narrowed by its tag value so TypeScript can discriminate.
    fn alternatives(
        &mut self,
        object: &Map<String, Value>,
        key: &str,
        mode: Mode,
        indent: usize,
        nesting: usize,
    ) -> Option<Ty> {
        let members: Vec<&Value> = object
            .get(key)?
            .as_array()?
            .iter()
            .filter(|m| is_structural(m))
            .collect();
        if members.is_empty() {
            return None;
        }
        let discriminator = object.get("discriminator");
        let property = discriminator
            .and_then(|d| d.get("propertyName"))
            .and_then(Value::as_str);
        let mapping = discriminator
            .and_then(|d| d.get("mapping"))
            .and_then(Value::as_object);
        let mut rendered = Vec::with_capacity(members.len());
        for member in members {
            let ty = self.render(member, mode, indent, nesting + 1);
            let tags: Vec<&String> = match (property, mapping, member.get("$ref")) {
                (Some(_), Some(mapping), Some(target)) => mapping
                    .iter()
                    .filter(|(_, to)| *to == target)
                    .map(|(tag, _)| tag)
                    .collect(),
                _ => Vec::new(),
            };
            match property {
                Some(property) if !tags.is_empty() => {
                    let values: Vec<String> =
                        tags.iter().map(|t| text::string_literal(t)).collect();
                    rendered.push(Ty {
                        text: format!(
                            "{} & {{ {}: {} }}",
                            ty.at_least(Prec::Intersection),
                            text::property_key(property),
                            values.join(" | ")
                        ),
                        prec: Prec::Intersection,
                    });
                }
                _ => rendered.push(ty),
            }
        }
        Some(union(rendered))
    }

    fn reference(&mut self, reference: &str, mode: Mode) -> Ty {
        let Some(name) = reference.strip_prefix(SCHEMA_REF_PREFIX) else {
            return Ty::unknown();
        };
        let name = unescape_pointer_token(name);
        let Some(target) = self.spec.schemas().get(&name) else {
            return Ty::unknown();
        };
        if self.referenced_set.insert(name.clone()) {
            self.referenced.push(name.clone());
        }
        if self.deferred == 0
            && let Some(declaring) = self.declaring.clone()
            && self.spec.schemas().get_index_of(&name)
                <= self.spec.schemas().get_index_of(&declaring)
            && self.alias_reaches_cached(&name, &declaring)
        {
            // `type A = B | …; type B = A | …` is an error in TypeScript. Every such loop has a
            // step back to a schema listed no later in the spec; that step becomes `unknown`.
            return Ty::unknown();
        }
        let ident = self.names.get(&name);
        let hidden_flag = match mode {
            Mode::Request => "readOnly",
            Mode::Response => "writeOnly",
            Mode::Neutral => return Ty::atom(ident),
        };
        let hidden: Vec<String> = target
            .as_object()
            .filter(|o| is_plain_object(o))
            .and_then(|o| o.get("properties"))
            .and_then(Value::as_object)
            .map(|properties| {
                properties
                    .iter()
                    .filter(|(_, p)| flag(p, hidden_flag))
                    .map(|(k, _)| text::string_literal(k))
                    .collect()
            })
            .unwrap_or_default();
        if hidden.is_empty() {
            Ty::atom(ident)
        } else {
            Ty::atom(format!("Omit<{ident}, {}>", hidden.join(" | ")))
        }
    }
}

impl Writer<'_> {
    /// Forgets the schemas first referenced since `first` that no kept member names any more
    /// (they were only in members collapsed to `unknown` or left out), so an answer neither
    /// declares nor stubs them.
    fn forget_unshown_references(
        &mut self,
        first: usize,
        members: &[(Option<String>, String, String)],
    ) {
        let Some(added) = self.referenced.get(first..) else {
            return;
        };
        let unshown: Vec<String> = added
            .iter()
            .filter(|name| {
                let ident = self.names.get(name);
                !members
                    .iter()
                    .any(|(_, head, ty)| names_type(head, &ident) || names_type(ty, &ident))
            })
            .cloned()
            .collect();
        for name in &unshown {
            self.referenced_set.remove(name);
        }
        self.referenced.retain(|name| !unshown.contains(name));
    }

    fn alias_reaches_cached(&mut self, from: &str, to: &str) -> bool {
        let key = (from.to_string(), to.to_string());
        if let Some(&known) = self.reaches.get(&key) {
            return known;
        }
        let answer = self.alias_reaches(from, to);
        self.reaches.insert(key, answer);
        answer
    }

    /// Whether the type alias of `from` refers to `to` through a chain of aliases, each naming
    /// the next outside any object or array type (a loop TypeScript cannot resolve).
    fn alias_reaches(&self, from: &str, to: &str) -> bool {
        let mut stack = vec![from.to_string()];
        let mut visited = HashSet::new();
        while let Some(name) = stack.pop() {
            if !visited.insert(name.clone()) {
                continue;
            }
            let Some(schema) = self.spec.schemas().get(&name) else {
                continue;
            };
            if schema.as_object().is_some_and(is_plain_object) {
                continue; // an interface: its members are resolved lazily
            }
            let mut next = Vec::new();
            bare_references(schema, &mut next, 0);
            for target in next {
                if target == to {
                    return true;
                }
                stack.push(target);
            }
        }
        false
    }
}

/// Component schemas a type alias names outside any object or array type.
fn bare_references(schema: &Value, out: &mut Vec<String>, nesting: usize) {
    if nesting > MAX_INLINE_NESTING {
        return;
    }
    let Some(object) = schema.as_object() else {
        return;
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        if let Some(name) = reference.strip_prefix(SCHEMA_REF_PREFIX) {
            out.push(unescape_pointer_token(name));
        }
        return;
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(members)) = object.get(key) {
            for member in members {
                bare_references(member, out, nesting + 1);
            }
        }
    }
}

/// An inline `allOf` member with the names of the enclosing schema's `required` list that it
/// declares added to its own list: `{ allOf: [{ properties: { name } }, { $ref }], required:
/// [name] }` means `name` is required, which the member alone would not say. Members that are
/// references, or declare none of the names, come back as they are.
fn with_outer_required<'v>(member: &'v Value, outer: Option<&Value>) -> Cow<'v, Value> {
    let (Some(Value::Array(outer)), Some(object)) = (outer, member.as_object()) else {
        return Cow::Borrowed(member);
    };
    let Some(Value::Object(properties)) = object.get("properties") else {
        return Cow::Borrowed(member);
    };
    let own: Vec<&Value> = match object.get("required") {
        Some(Value::Array(own)) => own.iter().collect(),
        _ => Vec::new(),
    };
    let added: Vec<Value> = outer
        .iter()
        .filter(|name| {
            name.as_str().is_some_and(|n| properties.contains_key(n)) && !own.contains(name)
        })
        .cloned()
        .collect();
    if added.is_empty() {
        return Cow::Borrowed(member);
    }
    let mut object = object.clone();
    let mut required: Vec<Value> = own.into_iter().cloned().collect();
    required.extend(added);
    object.insert("required".into(), Value::Array(required));
    Cow::Owned(Value::Object(object))
}

/// Prints the largest member types that hold an object as `unknown`, biggest first, until the
/// members take at most `max_chars` (or no such member is left). Enums and arrays of
/// primitives stay: they are small and say what values are allowed.
fn collapse_largest(members: &mut [(Option<String>, String, String)], max_chars: usize) -> bool {
    let size = |members: &[(Option<String>, String, String)]| -> usize {
        members
            .iter()
            .map(|(doc, head, ty)| doc.as_ref().map_or(0, String::len) + head.len() + ty.len() + 2)
            .sum()
    };
    // An inline object type, not a string literal that happens to hold a brace.
    let holds_object =
        |ty: &str| ty.len() > COLLAPSED.len() && ty.contains('{') && !ty.starts_with('"');
    let mut total = size(members);
    let mut collapsed = false;
    while total > max_chars {
        let largest = members
            .iter_mut()
            .filter(|(_, _, ty)| holds_object(ty))
            .max_by_key(|(_, _, ty)| ty.len());
        let Some((_, _, ty)) = largest else {
            break;
        };
        total = total.saturating_sub(ty.len() - COLLAPSED.len());
        *ty = COLLAPSED.to_string();
        collapsed = true;
    }
    collapsed
}

/// Whether `ident` appears in `text` as a whole word (type names are identifiers).
fn names_type(text: &str, ident: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    text.match_indices(ident).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + ident.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Keeps at most `max` members, the required ones (no `?`) first, then the others in order;
/// returns how many were left out.
fn keep_main_members(members: &mut Vec<(Option<String>, String, String)>, max: usize) -> usize {
    if members.len() <= max {
        return 0;
    }
    let optional = |head: &str| head.trim_end().trim_end_matches(':').ends_with('?');
    let mut keep = vec![false; members.len()];
    let mut kept = 0;
    for pass_optional in [false, true] {
        for (i, (_, head, _)) in members.iter().enumerate() {
            if kept < max && optional(head) == pass_optional && !keep[i] {
                keep[i] = true;
                kept += 1;
            }
        }
    }
    let before = members.len();
    let mut index = 0;
    members.retain(|_| {
        let kept = keep[index];
        index += 1;
        kept
    });
    before - members.len()
}

/// Names beyond this many are left out of an optional-members comment too (`…`).
const MAX_NAMED_OPTIONAL: usize = 40;

/// Keeps the required members and the first optional ones, `max` in all (required members stay
/// even past it), and returns the keys of the optional members taken out, in spec order.
fn name_extra_optional_members(
    members: &mut Vec<(Option<String>, String, String)>,
    max: usize,
) -> Vec<String> {
    if members.len() <= max {
        return Vec::new();
    }
    let optional = |head: &str| head.trim_end().trim_end_matches(':').ends_with('?');
    let required = members
        .iter()
        .filter(|(_, head, _)| !optional(head))
        .count();
    let mut optional_room = max.saturating_sub(required);
    let mut named = Vec::new();
    members.retain(|(_, head, _)| {
        if !optional(head) {
            return true;
        }
        if optional_room > 0 {
            optional_room -= 1;
            return true;
        }
        let key = head
            .trim_end()
            .trim_end_matches(':')
            .trim_end_matches('?')
            .trim_start_matches("readonly ");
        named.push(key.to_string());
        false
    });
    named
}

/// `/* 38 more optional: a, b, … */`: valid inside an object type on one line or several.
fn optional_names_comment(names: &[String]) -> String {
    let shown: Vec<&str> = names
        .iter()
        .take(MAX_NAMED_OPTIONAL)
        .map(String::as_str)
        .collect();
    let more = if names.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    format!(
        "/* {} more optional: {}{more} */",
        names.len(),
        text::comment(&shown.join(", "))
    )
}

/// What a collapsed member type prints as.
const COLLAPSED: &str = "unknown";

fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key) == Some(&Value::Bool(true))
}

/// Whether a rendered type is only literals (`"a" | 1 | true`), with no quotes inside strings
/// (a conservative check: anything unusual answers false).
fn is_literal_union(text: &str) -> bool {
    text.split(" | ").all(|member| {
        let quoted = member.len() >= 2
            && member.starts_with('"')
            && member.ends_with('"')
            && !member[1..member.len() - 1].contains(['"', '\\']);
        quoted
            || member == "true"
            || member == "false"
            || (!member.is_empty()
                && member
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E' | '+')))
    })
}

/// Whether printing the schema inline may take more than a word.
fn has_structure(object: &Map<String, Value>) -> bool {
    [
        "properties",
        "additionalProperties",
        "items",
        "prefixItems",
        "oneOf",
        "anyOf",
        "allOf",
        "enum",
    ]
    .iter()
    .any(|k| object.contains_key(*k))
}

fn has_object_keywords(object: &Map<String, Value>) -> bool {
    object.contains_key("properties")
        || object.contains_key("additionalProperties")
        || object.contains_key("patternProperties")
}

/// A schema that says what a value looks like, not just which keys are required (a `oneOf` of
/// `{required: [a]}` / `{required: [b]}` constrains, it does not describe alternatives).
fn is_structural(schema: &Value) -> bool {
    match schema {
        Value::Bool(_) => true,
        Value::Object(o) => [
            "$ref",
            "type",
            "properties",
            "items",
            "prefixItems",
            "enum",
            "const",
            "oneOf",
            "anyOf",
            "allOf",
            "additionalProperties",
        ]
        .iter()
        .any(|k| o.contains_key(*k)),
        _ => false,
    }
}

/// A schema declared as an `interface`: an object with named properties and nothing that an
/// interface cannot say (compositions, other types, a typed index signature).
fn is_plain_object(object: &Map<String, Value>) -> bool {
    let is_object_type = match object.get("type") {
        Some(Value::String(t)) => t == "object",
        None => true,
        _ => false,
    };
    let composed = ["oneOf", "anyOf", "allOf", "$ref", "enum", "const"]
        .iter()
        .any(|k| object.contains_key(*k));
    let simple_extra = match object.get("additionalProperties") {
        None | Some(Value::Bool(_)) => true,
        Some(other) => other.as_object().is_some_and(|o| o.is_empty()),
    };
    is_object_type
        && !composed
        && simple_extra
        && !object.contains_key("patternProperties")
        && object
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
}

fn is_binary_string(object: &Map<String, Value>) -> bool {
    let format = object.get("format").and_then(Value::as_str);
    let media = object.get("contentMediaType").and_then(Value::as_str);
    format == Some("binary")
        || media.is_some_and(|m| !m.starts_with("text/") && !m.contains("json"))
}

fn literal(value: &Value) -> Ty {
    match value {
        Value::String(s) => Ty::atom(text::string_literal(s)),
        Value::Number(n) => Ty::atom(n.to_string()),
        Value::Bool(b) => Ty::atom(b.to_string()),
        Value::Null => Ty::atom("null"),
        _ => Ty::unknown(),
    }
}

fn union(mut members: Vec<Ty>) -> Ty {
    let mut seen = HashSet::new();
    members.retain(|m| seen.insert(m.text.clone()));
    // `number | 1` is `number`: a literal beside its own primitive says nothing more (Cloudflare's
    // TTL, "seconds, or 1 for automatic", rendered as `number & (number | 1)`).
    let has = |primitive: &str| members.iter().any(|m| m.text == primitive);
    let (numbers, strings, booleans) = (has("number"), has("string"), has("boolean"));
    members.retain(|m| {
        let text = m.text.as_str();
        !(numbers && text.parse::<f64>().is_ok()
            || strings && text.starts_with('"')
            || booleans && (text == "true" || text == "false"))
    });
    if members.iter().any(|m| m.text == "unknown") {
        return Ty::unknown();
    }
    if members.len() > 1 {
        members.retain(|m| m.text != "never");
    }
    match members.len() {
        0 => Ty::atom("never"),
        1 => members.pop().unwrap_or_else(Ty::unknown),
        _ => Ty {
            text: members
                .into_iter()
                .map(|m| m.text)
                .collect::<Vec<_>>()
                .join(" | "),
            prec: Prec::Union,
        },
    }
}

fn intersection(mut members: Vec<Ty>) -> Ty {
    let mut seen = HashSet::new();
    members.retain(|m| seen.insert(m.text.clone()));
    match members.len() {
        0 => Ty::unknown(),
        1 => members.pop().unwrap_or_else(Ty::unknown),
        _ => Ty {
            text: members
                .into_iter()
                .map(|m| m.at_least(Prec::Intersection))
                .collect::<Vec<_>>()
                .join(" & "),
            prec: Prec::Intersection,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r##"
openapi: 3.1.0
info: { title: t, version: "1" }
paths: {}
components:
  schemas:
    Deep: { type: object, properties: { a: { type: string } } }
    Kept: { type: object, properties: { b: { type: string } } }
    Body:
      type: object
      properties:
        outer:
          type: object
          properties:
            big:
              type: object
              properties:
                one: { type: string, description: a long enough description for this member }
                two: { type: string, description: a long enough description for this member }
                deep: { $ref: "#/components/schemas/Deep" }
            small: { $ref: "#/components/schemas/Kept" }
"##;

    /// No prose, nesting to the limit, no cut but what a test sets.
    pub(super) fn bare_detail() -> Detail {
        Detail {
            property_description: 0,
            property_tags: false,
            inline_nesting: MAX_INLINE_NESTING,
            max_object_chars: usize::MAX,
            max_members: usize::MAX,
            max_inline_members: usize::MAX,
        }
    }

    #[test]
    fn collapsed_members_leave_no_references_behind() {
        let spec = codemode_spec::load_str("t.yaml", SPEC).expect("spec loads");
        let names = TypeNames::new(&spec);
        let detail = Detail {
            max_object_chars: 60,
            ..bare_detail()
        };
        let mut writer = Writer::new(&spec, &names, detail);
        let text = writer.declaration("Body");
        assert!(text.contains("big?: unknown"), "{text}");
        assert!(text.contains("small?: Kept"), "{text}");
        // `Deep` was only inside the collapsed member: nothing needs it any more.
        assert_eq!(writer.take_referenced(), ["Kept"]);
    }
}

#[cfg(test)]
mod skeleton_tests {
    //! A large inline object keeps its required members and its first optional ones, and names
    //! the rest in a comment that a hostile key cannot close.

    use super::*;

    const SPEC: &str = r##"
openapi: 3.1.0
info: { title: t, version: "1" }
paths: {}
components:
  schemas:
    Linked: { type: object, properties: { z: { type: string } } }
    Outer:
      type: object
      properties:
        body:
          type: object
          required: [needed]
          properties:
            a: { type: string }
            b: { type: string }
            c: { $ref: "#/components/schemas/Linked" }
            "x*/y": { type: string }
            needed: { type: integer }
"##;

    fn declare(max_inline_members: usize) -> (String, Vec<String>, bool) {
        let spec = codemode_spec::load_str("t.yaml", SPEC).expect("spec loads");
        let names = TypeNames::new(&spec);
        let detail = Detail {
            max_inline_members,
            ..super::tests::bare_detail()
        };
        let mut writer = Writer::new(&spec, &names, detail);
        let text = writer.declaration("Outer");
        let named = writer.named_optional_members();
        (text, writer.take_referenced(), named)
    }

    #[test]
    fn required_members_stay_and_the_rest_are_named_in_a_closed_comment() {
        let (text, referenced, named) = declare(2);
        assert!(named);
        assert!(
            text.contains(
                "{ a?: string; needed: number; /* 3 more optional: b, c, \"x*\\/y\" */ }"
            ),
            "{text}"
        );
        // `c` is only named now: its type is not needed.
        assert!(referenced.is_empty(), "{referenced:?}");
    }

    #[test]
    fn small_objects_are_untouched() {
        let (text, referenced, named) = declare(usize::MAX);
        assert!(!named);
        assert!(!text.contains("more optional"), "{text}");
        assert_eq!(referenced, ["Linked"]);
    }
}
