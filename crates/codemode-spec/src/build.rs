//! Builds the [`Spec`] model from parsed documents: follows `$ref`s, merges parameters, hoists
//! schemas into named components and normalizes them to the OpenAPI 3.1 dialect.
//!
//! One bad operation, parameter or schema becomes a [`Diagnostic`]; only a document that cannot be
//! read at all, or a reference that is refused for safety, fails the load.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use crate::model::*;
use crate::names::{NameAllocator, identifier_for_route, identifier_from};
use crate::source::{DocId, Documents, RefFailure};
use crate::{Diagnostic, LoadError};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const MAX_REF_HOPS: usize = 64;
/// Schemas nested deeper than this are cut (documents are parsed with a similar recursion limit).
const MAX_SCHEMA_DEPTH: usize = 256;
/// `properties: {$ref}` splices nested deeper than this are cut: a real spec nests a handful.
const MAX_SPLICE_NESTING: usize = 32;
/// How many properties all splices together may copy. Splices copy, so a chain of maps that each
/// splice the next one twice would otherwise grow exponentially (a "billion laughs" made of refs).
const MAX_SPLICED_PROPERTIES: usize = 1_000_000;

/// A location in one of the documents: which file, and a JSON pointer inside it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Loc {
    doc: DocId,
    ptr: String,
}

impl Loc {
    fn child(&self, token: &str) -> Loc {
        Loc {
            doc: self.doc,
            ptr: format!("{}/{}", self.ptr, escape_pointer_token(token)),
        }
    }
}

/// The result of following a location to its final (non-`$ref`) value.
struct Resolved {
    loc: Loc,
    doc_value: Arc<Value>,
}

impl Resolved {
    fn value(&self) -> &Value {
        lookup(&self.doc_value, &self.loc.ptr).unwrap_or(&Value::Null)
    }
}

enum Problem {
    Fatal(LoadError),
    Tolerated(Diagnostic),
}

pub(crate) struct Builder {
    docs: Documents,
    warnings: Vec<Diagnostic>,
    /// OpenAPI 3.0 semantics (`nullable`, boolean `exclusiveMinimum`); Swagger 2.0 is converted to this.
    dialect_30: bool,
    schema_names: HashMap<Loc, String>,
    schemas: IndexMap<String, Value>,
    pending: VecDeque<(Loc, String)>,
    schema_allocator: NameAllocator,
    /// The location of the schema being imported (warnings about its `$ref`s point here).
    import_site: Loc,
    /// The `properties` maps being spliced right now, outermost first (a repeat is a cycle).
    splicing: Vec<Loc>,
    spliced_properties: usize,
}

pub(crate) fn build(mut docs: Documents) -> Result<Spec, LoadError> {
    let root = docs.root();
    let file = docs.name(0);
    let source_version = detect_version(&root, &file)?;
    let mut warnings = Vec::new();
    let swagger2 = source_version.starts_with('2');
    drop(root);
    if swagger2 {
        // Convert the parsed tree in place of the original: no copy of a multi-megabyte document.
        let original = docs.take_root();
        let converted = crate::swagger2::convert(original, &file, &mut warnings);
        docs.replace_root(converted);
    }
    let builder = Builder {
        docs,
        warnings,
        dialect_30: !source_version.starts_with("3.1"),
        schema_names: HashMap::new(),
        schemas: IndexMap::new(),
        pending: VecDeque::new(),
        schema_allocator: NameAllocator::default(),
        import_site: Loc {
            doc: 0,
            ptr: String::new(),
        },
        splicing: Vec::new(),
        spliced_properties: 0,
    };
    builder.build(source_version)
}

fn detect_version(root: &Value, file: &str) -> Result<String, LoadError> {
    let unsupported = |found: &str| LoadError::UnsupportedVersion {
        file: file.to_string(),
        found: found.to_string(),
    };
    if !root.is_object() {
        return Err(LoadError::Invalid {
            file: file.to_string(),
            message: "the document is not an object".into(),
        });
    }
    if let Some(v) = root.get("openapi") {
        let v = version_text(v);
        return if v.starts_with("3.0") || v.starts_with("3.1") {
            Ok(v)
        } else {
            Err(unsupported(&v))
        };
    }
    if let Some(v) = root.get("swagger") {
        let v = version_text(v);
        return if v == "2.0" || v == "2" {
            Ok("2.0".into())
        } else {
            Err(unsupported(&v))
        };
    }
    Err(LoadError::Invalid {
        file: file.to_string(),
        message: "not an OpenAPI document: no `openapi` or `swagger` field at the top level".into(),
    })
}

fn version_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `Value::pointer` without its allocation per token (most tokens need no unescaping); lookups
/// by pointer are the builder's inner loop.
fn lookup<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(root);
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').try_fold(root, |target, token| {
        let token: std::borrow::Cow<'_, str> = if token.contains('~') {
            unescape_pointer_token(token).into()
        } else {
            token.into()
        };
        match target {
            Value::Object(map) => map.get(token.as_ref()),
            Value::Array(list) => parse_index(&token).and_then(|i| list.get(i)),
            _ => None,
        }
    })
}

/// An array index as JSON pointer allows it: digits, no leading zero, no sign.
fn parse_index(token: &str) -> Option<usize> {
    if token.is_empty()
        || (token.len() > 1 && token.starts_with('0'))
        || !token.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    token.parse().ok()
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

impl Builder {
    fn build(mut self, source_version: String) -> Result<Spec, LoadError> {
        let root = self.docs.root();
        let info = root.get("info").cloned().unwrap_or(Value::Null);
        self.register_component_schemas(&root);
        let servers = parse_servers(root.get("servers"));
        let security = parse_security(root.get("security")).unwrap_or_default();
        let security_schemes = self.security_schemes(&root)?;
        let (mut operations, path_count) = self.operations(&root)?;
        self.drain_pending_schemas()?;
        self.assign_names(&mut operations);
        if operations.is_empty() {
            self.warn(0, "/paths", "the spec declares no operations");
        }
        Ok(Spec {
            title: str_field(&info, "title").unwrap_or_else(|| "API".into()),
            version: info.get("version").map(version_text).unwrap_or_default(),
            source_version,
            description: str_field(&info, "description"),
            servers,
            security_schemes,
            security,
            schemas: self.schemas,
            operations: Operations::new(operations),
            path_count,
            warnings: self.warnings,
        })
    }

    fn warn(&mut self, doc: DocId, pointer: &str, message: impl Into<String>) {
        self.warnings.push(Diagnostic {
            file: self.docs.name(doc),
            pointer: pointer.to_string(),
            message: message.into(),
        });
    }

    fn tolerate<T>(&mut self, result: Result<T, Problem>) -> Result<Option<T>, LoadError> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(Problem::Fatal(e)) => Err(e),
            Err(Problem::Tolerated(d)) => {
                self.warnings.push(d);
                Ok(None)
            }
        }
    }

    /// Follows `$ref`s from `loc` until a value that is not a reference.
    fn follow(&mut self, loc: Loc) -> Result<Resolved, Problem> {
        let mut loc = loc;
        let mut seen = HashSet::new();
        for _ in 0..MAX_REF_HOPS {
            let doc_value = self.docs.value(loc.doc);
            let Some(value) = lookup(&doc_value, &loc.ptr) else {
                return Err(self.missing(&loc, "the reference target does not exist"));
            };
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                return Ok(Resolved { loc, doc_value });
            };
            if !seen.insert(loc.clone()) {
                return Err(self.missing(&loc, "reference cycle"));
            }
            let reference = reference.to_string();
            loc = self.resolve_ref(&loc, &reference)?;
        }
        Err(self.missing(&loc, "reference chain is too long (cycle?)"))
    }

    /// Resolves a `$ref` written at `at`; failures are reported at `at`.
    fn resolve_ref(&mut self, at: &Loc, reference: &str) -> Result<Loc, Problem> {
        let site = at.clone();
        self.resolve_ref_reported_at(at, reference, &site)
    }

    /// Resolves a `$ref` written in document `at.doc`; a refusal names `site` (where the `$ref`
    /// is, or the schema that holds it) rather than the reference string alone.
    fn resolve_ref_reported_at(
        &mut self,
        at: &Loc,
        reference: &str,
        site: &Loc,
    ) -> Result<Loc, Problem> {
        match self.docs.resolve(at.doc, reference) {
            Ok((doc, ptr)) => Ok(Loc { doc, ptr }),
            Err(RefFailure::Fatal(LoadError::Reference { message, .. })) => {
                Err(Problem::Fatal(LoadError::reference(
                    self.docs.name(site.doc),
                    site.ptr.clone(),
                    format!("$ref {reference:?}: {message}"),
                )))
            }
            Err(RefFailure::Fatal(e)) => Err(Problem::Fatal(e)),
            Err(RefFailure::Missing(LoadError::Reference { message, .. })) => {
                Err(self.missing(at, &format!("$ref {reference:?}: {message}")))
            }
            Err(RefFailure::Missing(e)) => Err(self.missing(at, &e.to_string())),
        }
    }

    fn missing(&self, loc: &Loc, message: &str) -> Problem {
        Problem::Tolerated(Diagnostic {
            file: self.docs.name(loc.doc),
            pointer: loc.ptr.clone(),
            message: message.to_string(),
        })
    }

    // ----- security -----

    fn security_schemes(
        &mut self,
        root: &Value,
    ) -> Result<IndexMap<String, SecurityScheme>, LoadError> {
        let mut out = IndexMap::new();
        let Some(Value::Object(defs)) = root.pointer("/components/securitySchemes") else {
            return Ok(out);
        };
        let base = Loc {
            doc: 0,
            ptr: "/components/securitySchemes".into(),
        };
        for name in defs.keys() {
            let followed = self.follow(base.child(name));
            let Some(resolved) = self.tolerate(followed)? else {
                continue;
            };
            out.insert(name.clone(), parse_security_scheme(resolved.value()));
        }
        Ok(out)
    }

    // ----- operations -----

    fn operations(&mut self, root: &Value) -> Result<(Vec<Operation>, usize), LoadError> {
        let mut operations = Vec::new();
        let Some(Value::Object(paths)) = root.get("paths") else {
            if root.get("paths").is_some() {
                self.warn(0, "/paths", "`paths` is not an object");
            }
            return Ok((operations, 0));
        };
        let base = Loc {
            doc: 0,
            ptr: "/paths".into(),
        };
        for path in paths.keys() {
            let followed = self.follow(base.child(path));
            let Some(item) = self.tolerate(followed)? else {
                continue;
            };
            if !item.value().is_object() {
                self.warn(item.loc.doc, &item.loc.ptr, "path item is not an object");
                continue;
            }
            let path_params = self.parameters(&item.loc.child("parameters"))?;
            let path_servers = parse_servers(item.value().get("servers"));
            for method_name in METHODS {
                if item.value().get(method_name).is_none() {
                    continue;
                }
                let op_loc = item.loc.child(method_name);
                let followed = self.follow(op_loc);
                let Some(op) = self.tolerate(followed)? else {
                    continue;
                };
                let Some(method) = Method::parse(method_name) else {
                    continue;
                };
                let operation = self.operation(path, method, &op, &path_params, &path_servers)?;
                operations.push(operation);
            }
        }
        Ok((operations, paths.len()))
    }

    fn operation(
        &mut self,
        path: &str,
        method: Method,
        op: &Resolved,
        path_params: &[Parameter],
        path_servers: &[Server],
    ) -> Result<Operation, LoadError> {
        let value = op.value();
        let own_params = self.parameters(&op.loc.child("parameters"))?;
        let mut parameters: Vec<Parameter> = path_params
            .iter()
            .filter(|p| {
                !own_params
                    .iter()
                    .any(|o| o.name == p.name && o.location == p.location)
            })
            .cloned()
            .collect();
        parameters.extend(own_params);
        let request_body = if value.get("requestBody").is_some() {
            self.request_body(op.loc.child("requestBody"))?
        } else {
            None
        };
        let success = self.success_response(&op.loc.child("responses"), value.get("responses"))?;
        let mut servers = parse_servers(value.get("servers"));
        if servers.is_empty() {
            servers = path_servers.to_vec();
        }
        let extensions = value
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.starts_with("x-") && *k != "x-codeSamples")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Operation {
            name: String::new(),
            operation_id: str_field(value, "operationId").filter(|s| !s.trim().is_empty()),
            method,
            path: path.to_string(),
            summary: str_field(value, "summary"),
            description: str_field(value, "description"),
            tags: value
                .get("tags")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            deprecated: value
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            parameters,
            request_body,
            success,
            security: parse_security(value.get("security")),
            servers,
            extensions,
        })
    }

    fn parameters(&mut self, list: &Loc) -> Result<Vec<Parameter>, LoadError> {
        let doc_value = self.docs.value(list.doc);
        let count = match lookup(&doc_value, &list.ptr) {
            Some(Value::Array(items)) => items.len(),
            Some(_) => {
                self.warn(list.doc, &list.ptr, "`parameters` is not an array");
                0
            }
            None => 0,
        };
        let mut out: Vec<Parameter> = Vec::new();
        for i in 0..count {
            let followed = self.follow(list.child(&i.to_string()));
            let Some(resolved) = self.tolerate(followed)? else {
                continue;
            };
            let Some(param) = self.parameter(&resolved)? else {
                continue;
            };
            // A later duplicate (same name and location) replaces the earlier one.
            out.retain(|p| !(p.name == param.name && p.location == param.location));
            out.push(param);
        }
        Ok(out)
    }

    fn parameter(&mut self, resolved: &Resolved) -> Result<Option<Parameter>, LoadError> {
        let value = resolved.value();
        let loc = &resolved.loc;
        let Some(name) = str_field(value, "name") else {
            self.warn(loc.doc, &loc.ptr, "parameter has no name; skipped");
            return Ok(None);
        };
        let Some(location) = value
            .get("in")
            .and_then(Value::as_str)
            .and_then(ParameterLocation::parse)
        else {
            self.warn(
                loc.doc,
                &loc.ptr,
                format!("parameter {name:?} has no valid `in`; skipped"),
            );
            return Ok(None);
        };
        let style = match value.get("style").and_then(Value::as_str) {
            Some(s) => ParameterStyle::parse(s).unwrap_or_else(|| {
                self.warn(
                    loc.doc,
                    &loc.ptr,
                    format!("unknown style {s:?}; using the default"),
                );
                ParameterStyle::default_for(location)
            }),
            None => ParameterStyle::default_for(location),
        };
        let explode = value
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style == ParameterStyle::Form);
        // `content` (one media type) replaces `schema` and `style` for values a style cannot
        // express, e.g. a JSON filter object in the query.
        let content = match value.get("schema") {
            Some(_) => None,
            None => value
                .get("content")
                .and_then(Value::as_object)
                .and_then(|c| c.iter().next()),
        };
        let schema = match (value.get("schema"), content) {
            (Some(s), _) => self.import_root(&loc.child("schema"), s)?,
            (None, Some((media, m))) => match m.get("schema") {
                Some(s) => {
                    let at = loc.child("content").child(media).child("schema");
                    self.import_root(&at, s)?
                }
                None => json!({}),
            },
            (None, None) => json!({}),
        };
        let content_type = content.map(|(media, _)| media.clone());
        Ok(Some(Parameter {
            name,
            location,
            // Path parameters are always required, whatever the spec says.
            required: location == ParameterLocation::Path
                || value
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            deprecated: value
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            description: str_field(value, "description"),
            style,
            explode,
            allow_reserved: value
                .get("allowReserved")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            schema,
            content_type,
        }))
    }

    fn request_body(&mut self, loc: Loc) -> Result<Option<RequestBody>, LoadError> {
        let followed = self.follow(loc);
        let Some(resolved) = self.tolerate(followed)? else {
            return Ok(None);
        };
        let value = resolved.value().clone();
        let content = self.content(&resolved.loc, value.get("content"))?;
        Ok(Some(RequestBody {
            required: value
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            description: str_field(&value, "description"),
            content,
        }))
    }

    fn success_response(
        &mut self,
        loc: &Loc,
        responses: Option<&Value>,
    ) -> Result<Option<Response>, LoadError> {
        let Some(Value::Object(responses)) = responses else {
            return Ok(None);
        };
        let mut codes: Vec<&String> = responses.keys().filter(|k| k.starts_with('2')).collect();
        codes.sort();
        let status = match codes.first() {
            Some(code) => (*code).clone(),
            None if responses.contains_key("default") => "default".to_string(),
            None => return Ok(None),
        };
        let followed = self.follow(loc.child(&status));
        let Some(resolved) = self.tolerate(followed)? else {
            return Ok(None);
        };
        let value = resolved.value().clone();
        let content = self.content(&resolved.loc, value.get("content"))?;
        Ok(Some(Response {
            status,
            description: str_field(&value, "description"),
            content,
        }))
    }

    fn content(
        &mut self,
        owner: &Loc,
        content: Option<&Value>,
    ) -> Result<Vec<MediaType>, LoadError> {
        let Some(Value::Object(content)) = content else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(content.len());
        for (media_type, media) in content {
            let media_loc = owner.child("content").child(media_type);
            let schema = match media.get("schema") {
                Some(s) => self.import_root(&media_loc.child("schema"), s)?,
                None => json!({}),
            };
            let encoding = media
                .get("encoding")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            out.push(MediaType {
                media_type: media_type.clone(),
                kind: BodyKind::classify(media_type),
                schema,
                encoding,
            });
        }
        Ok(out)
    }

    fn assign_names(&mut self, operations: &mut [Operation]) {
        let mut allocator = NameAllocator::default();
        let mut seen_ids: HashMap<String, String> = HashMap::new();
        for op in operations.iter_mut() {
            let base = match &op.operation_id {
                Some(id) => {
                    if let Some(first) = seen_ids.get(id) {
                        let message =
                            format!("duplicate operationId {id:?} (also on {first}); named apart");
                        self.warnings.push(Diagnostic {
                            file: self.docs.name(0),
                            pointer: format!(
                                "/paths/{}/{}",
                                escape_pointer_token(&op.path),
                                op.method.as_str().to_ascii_lowercase()
                            ),
                            message,
                        });
                    } else {
                        seen_ids.insert(id.clone(), op.key());
                    }
                    identifier_from(id)
                }
                None => identifier_for_route(op.method, &op.path),
            };
            op.name = allocator.allocate(&base);
        }
    }

    // ----- schemas -----

    fn register_component_schemas(&mut self, root: &Value) {
        let Some(Value::Object(schemas)) = root.pointer("/components/schemas") else {
            return;
        };
        for name in schemas.keys() {
            let allocated = self.schema_allocator.allocate(name);
            let loc = Loc {
                doc: 0,
                ptr: format!("/components/schemas/{}", escape_pointer_token(name)),
            };
            self.schema_names.insert(loc.clone(), allocated.clone());
            self.pending.push_back((loc, allocated));
        }
    }

    fn drain_pending_schemas(&mut self) -> Result<(), LoadError> {
        while let Some((loc, name)) = self.pending.pop_front() {
            let doc_value = self.docs.value(loc.doc);
            let schema = match lookup(&doc_value, &loc.ptr) {
                Some(value) => self.import_root(&loc, value)?,
                None => json!({}),
            };
            self.schemas.insert(name, schema);
        }
        Ok(())
    }

    /// Imports the schema found at `site` (see [`Builder::import_schema`]).
    fn import_root(&mut self, site: &Loc, value: &Value) -> Result<Value, LoadError> {
        self.import_site.clone_from(site);
        self.import_schema(site.doc, value, 0)
    }

    fn warn_at_import_site(&mut self, message: String) {
        let (doc, pointer) = (self.import_site.doc, self.import_site.ptr.clone());
        self.warn(doc, &pointer, message);
    }

    /// Copies a schema into the model: references become `#/components/schemas/<name>` (queueing
    /// their targets), and 3.0 keywords become their 3.1 forms. Never recurses through a `$ref`,
    /// so cycles cost nothing.
    fn import_schema(
        &mut self,
        doc: DocId,
        value: &Value,
        depth: usize,
    ) -> Result<Value, LoadError> {
        if depth > MAX_SCHEMA_DEPTH {
            return Ok(json!({}));
        }
        let Value::Object(map) = value else {
            return Ok(value.clone());
        };
        let mut out = Map::with_capacity(map.len());
        for (key, child) in map {
            let converted = match key.as_str() {
                "$ref" => match child.as_str() {
                    Some(reference) => match self.schema_ref_for(doc, reference)? {
                        Some(r) => Value::String(r),
                        None => continue,
                    },
                    None => continue,
                },
                "properties" | "patternProperties" | "dependentSchemas" | "$defs"
                | "definitions" => self.import_schema_map(doc, child, depth)?,
                "items"
                | "additionalProperties"
                | "not"
                | "if"
                | "then"
                | "else"
                | "contains"
                | "propertyNames"
                | "unevaluatedProperties"
                | "unevaluatedItems"
                | "additionalItems" => {
                    if child.is_object() {
                        self.import_schema(doc, child, depth + 1)?
                    } else {
                        child.clone()
                    }
                }
                "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                    self.import_schema_list(doc, child, depth)?
                }
                "discriminator" => self.import_discriminator(doc, child)?,
                "nullable" | "x-nullable" if self.dialect_30 => continue,
                "exclusiveMinimum" | "exclusiveMaximum"
                    if self.dialect_30 && child.is_boolean() =>
                {
                    continue;
                }
                "minimum"
                    if self.dialect_30
                        && map.get("exclusiveMinimum") == Some(&Value::Bool(true)) =>
                {
                    out.insert("exclusiveMinimum".into(), child.clone());
                    continue;
                }
                "maximum"
                    if self.dialect_30
                        && map.get("exclusiveMaximum") == Some(&Value::Bool(true)) =>
                {
                    out.insert("exclusiveMaximum".into(), child.clone());
                    continue;
                }
                _ => child.clone(),
            };
            out.insert(key.clone(), converted);
        }
        if map.get("$ref").is_some() && !out.contains_key("$ref") {
            // The reference could not be followed: leave an honest "anything" schema.
            out.insert(
                "description".into(),
                Value::String("unresolved reference".into()),
            );
        }
        let nullable = self.dialect_30
            && (map.get("nullable") == Some(&Value::Bool(true))
                || map.get("x-nullable") == Some(&Value::Bool(true)));
        Ok(if nullable {
            make_nullable(out)
        } else {
            Value::Object(out)
        })
    }

    fn import_schema_map(
        &mut self,
        doc: DocId,
        value: &Value,
        depth: usize,
    ) -> Result<Value, LoadError> {
        if let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            // A whole `properties` map behind a reference (DigitalOcean does this): splice it in.
            let at = Loc {
                doc,
                ptr: String::new(),
            };
            let site = self.import_site.clone();
            let target = self
                .resolve_ref_reported_at(&at, reference, &site)
                .and_then(|loc| self.follow(loc));
            let Some(resolved) = self.tolerate(target)? else {
                return Ok(json!({}));
            };
            if self.splicing.contains(&resolved.loc) {
                self.warn_at_import_site(format!(
                    "$ref {reference:?}: the properties map includes itself; cut"
                ));
                return Ok(json!({}));
            }
            if self.splicing.len() >= MAX_SPLICE_NESTING {
                self.warn_at_import_site(format!(
                    "$ref {reference:?}: properties maps nest deeper than {MAX_SPLICE_NESTING}; cut"
                ));
                return Ok(json!({}));
            }
            let size = resolved.value().as_object().map_or(0, Map::len);
            if self.spliced_properties.saturating_add(size) > MAX_SPLICED_PROPERTIES {
                self.warn_at_import_site(format!(
                    "$ref {reference:?}: spliced properties exceed {MAX_SPLICED_PROPERTIES}; cut"
                ));
                return Ok(json!({}));
            }
            self.spliced_properties += size;
            let (target_doc, target_value) = (resolved.loc.doc, resolved.value().clone());
            self.splicing.push(resolved.loc);
            let spliced = self.import_schema_map(target_doc, &target_value, depth + 1);
            self.splicing.pop();
            return spliced;
        }
        let Value::Object(map) = value else {
            return Ok(value.clone());
        };
        let mut out = Map::with_capacity(map.len());
        for (k, v) in map {
            out.insert(k.clone(), self.import_schema(doc, v, depth + 1)?);
        }
        Ok(Value::Object(out))
    }

    fn import_schema_list(
        &mut self,
        doc: DocId,
        value: &Value,
        depth: usize,
    ) -> Result<Value, LoadError> {
        let Value::Array(items) = value else {
            return Ok(value.clone());
        };
        let mut out = Vec::with_capacity(items.len());
        for v in items {
            out.push(self.import_schema(doc, v, depth + 1)?);
        }
        Ok(Value::Array(out))
    }

    fn import_discriminator(&mut self, doc: DocId, value: &Value) -> Result<Value, LoadError> {
        let mut out = value.clone();
        if let Some(Value::Object(mapping)) = value.get("mapping") {
            let mut converted = Map::new();
            for (k, v) in mapping {
                let target = match v.as_str() {
                    // A bare name means a component schema of the root document.
                    Some(name)
                        if !name.contains('#') && !name.contains('/') && !name.contains('.') =>
                    {
                        Some(schema_ref(name))
                    }
                    Some(reference) => self.schema_ref_for(doc, reference)?,
                    None => None,
                };
                if let Some(target) = target {
                    converted.insert(k.clone(), Value::String(target));
                }
            }
            out["mapping"] = Value::Object(converted);
        }
        Ok(out)
    }

    /// The model reference for a `$ref` written in document `doc`; queues the target for import.
    /// `None` (with a warning) when the target is missing.
    fn schema_ref_for(&mut self, doc: DocId, reference: &str) -> Result<Option<String>, LoadError> {
        let at = Loc {
            doc,
            ptr: String::new(),
        };
        let site = self.import_site.clone();
        let target = match self.resolve_ref_reported_at(&at, reference, &site) {
            Ok(target) => target,
            Err(Problem::Fatal(e)) => return Err(e),
            Err(Problem::Tolerated(d)) => {
                self.warn_at_import_site(d.message);
                return Ok(None);
            }
        };
        if let Some(name) = self.schema_names.get(&target) {
            return Ok(Some(schema_ref(name)));
        }
        if lookup(&self.docs.value(target.doc), &target.ptr).is_none() {
            self.warn_at_import_site(format!("$ref {reference:?}: the target does not exist"));
            return Ok(None);
        }
        let base = match target.ptr.rsplit('/').next() {
            Some(token) if !token.is_empty() => unescape_pointer_token(token),
            _ => self.docs.stem(target.doc),
        };
        let name = self.schema_allocator.allocate(&base);
        self.schema_names.insert(target.clone(), name.clone());
        self.pending.push_back((target, name.clone()));
        Ok(Some(schema_ref(&name)))
    }
}

/// Turns a 3.0 `nullable: true` schema into its 3.1 form.
fn make_nullable(mut schema: Map<String, Value>) -> Value {
    match schema.get("type").cloned() {
        Some(Value::String(t)) => {
            schema.insert("type".into(), json!([t, "null"]));
            if let Some(Value::Array(values)) = schema.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            Value::Object(schema)
        }
        Some(Value::Array(mut types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
            schema.insert("type".into(), Value::Array(types));
            Value::Object(schema)
        }
        _ => {
            // No single type to widen (a $ref, a composition): say "this, or null".
            let description = schema.remove("description");
            let mut wrapper = Map::new();
            wrapper.insert(
                "anyOf".into(),
                json!([Value::Object(schema), { "type": "null" }]),
            );
            if let Some(d) = description {
                wrapper.insert("description".into(), d);
            }
            Value::Object(wrapper)
        }
    }
}

fn parse_servers(value: Option<&Value>) -> Vec<Server> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|s| {
            let url = str_field(s, "url")?;
            let variables = s
                .get("variables")
                .and_then(Value::as_object)
                .map(|vars| {
                    vars.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.get("default").map(version_text).unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(Server {
                url,
                description: str_field(s, "description"),
                variables,
            })
        })
        .collect()
}

fn parse_security(value: Option<&Value>) -> Option<Vec<SecurityRequirement>> {
    let Value::Array(items) = value? else {
        return None;
    };
    Some(
        items
            .iter()
            .filter_map(Value::as_object)
            .map(|req| {
                req.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(Value::as_str)
                                        .map(str::to_string)
                                        .collect()
                                })
                                .unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .collect(),
    )
}

fn parse_security_scheme(v: &Value) -> SecurityScheme {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "http" => match v
            .get("scheme")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("bearer") => SecurityScheme::Bearer {
                format: str_field(v, "bearerFormat"),
            },
            Some("basic") => SecurityScheme::Basic,
            Some(other) => SecurityScheme::Other {
                kind: format!("http {other}"),
            },
            None => SecurityScheme::Other {
                kind: "http".into(),
            },
        },
        "apiKey" => {
            let location = match v.get("in").and_then(Value::as_str) {
                Some("query") => ApiKeyLocation::Query,
                Some("cookie") => ApiKeyLocation::Cookie,
                _ => ApiKeyLocation::Header,
            };
            SecurityScheme::ApiKey {
                name: str_field(v, "name").unwrap_or_else(|| "Authorization".into()),
                location,
            }
        }
        "oauth2" => {
            let flows = v.get("flows");
            let client_credentials_token_url = flows
                .and_then(|f| f.pointer("/clientCredentials/tokenUrl"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let scopes = flows
                .and_then(Value::as_object)
                .map(|f| {
                    let mut scopes: Vec<String> = f
                        .values()
                        .filter_map(|flow| flow.get("scopes").and_then(Value::as_object))
                        .flat_map(|s| s.keys().cloned())
                        .collect();
                    scopes.sort();
                    scopes.dedup();
                    scopes
                })
                .unwrap_or_default();
            SecurityScheme::OAuth2 {
                client_credentials_token_url,
                scopes,
            }
        }
        "openIdConnect" => SecurityScheme::OpenIdConnect {
            url: str_field(v, "openIdConnectUrl").unwrap_or_default(),
        },
        other => SecurityScheme::Other {
            kind: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_agrees_with_json_pointer() {
        let doc = json!({
            "paths": {"/a/{id}": {"get": {"parameters": [{"name": "x"}, {"name": "y"}]}}},
            "m~n": {"": 1},
            "list": [0, 1, 2],
        });
        for pointer in [
            "",
            "/",
            "/paths/~1a~1{id}/get/parameters/1/name",
            "/paths/~1a~1{id}/get/parameters/01",
            "/paths/~1a~1{id}/get/parameters/-1",
            "/paths/~1a~1{id}/get/parameters/2",
            "/m~0n/",
            "/list/+1",
            "/list/2",
            "/list/2/deeper",
            "no-slash",
            "/absent",
        ] {
            assert_eq!(lookup(&doc, pointer), doc.pointer(pointer), "{pointer:?}");
        }
    }
}
