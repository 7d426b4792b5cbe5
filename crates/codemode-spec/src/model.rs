//! The internal model of an API: what every other crate reads, whatever the source format was.
//!
//! Schemas stay JSON (`serde_json::Value`) in the OpenAPI 3.1 dialect, with every reference
//! rewritten to `#/components/schemas/<name>` and the target present in [`Spec::schemas`].
//! Nothing in the model points into a file, a URL or another document.

use indexmap::IndexMap;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;

use crate::Diagnostic;

/// A loaded API description.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `info.title`; `"API"` when the spec has none.
    pub title: String,
    /// `info.version`, the API's own version (not the OpenAPI version); empty when missing.
    pub version: String,
    /// The version string the source declared (`"3.0.3"`, `"3.1.0"`, `"2.0"`).
    pub source_version: String,
    /// `info.description`, as written (often Markdown).
    pub description: Option<String>,
    /// The spec-wide servers in document order (Swagger 2.0's `schemes`/`host`/`basePath`
    /// converted); entries without a `url` are dropped. May be empty.
    pub servers: Vec<Server>,
    /// `components.securitySchemes` (Swagger 2.0's `securityDefinitions`) by name, in document
    /// order; the names [`SecurityRequirement`]s refer to.
    pub security_schemes: IndexMap<String, SecurityScheme>,
    /// Security requirements that apply where an operation says nothing.
    pub security: Vec<SecurityRequirement>,
    /// Named schemas, referenced as `#/components/schemas/<name>`; read with
    /// [`Spec::schemas`]. Private so the model's invariant holds: every `$ref` in it names one.
    pub(crate) schemas: IndexMap<String, Value>,
    /// Every operation in document order, read-only (see [`Operations`]). [`Spec::operation`],
    /// [`Spec::iter_operations`] and [`Spec::find_id`] name them by [`OperationId`].
    pub operations: Operations,
    /// Number of distinct path templates under `paths`.
    pub path_count: usize,
    /// Defects that were tolerated while loading, each with its location.
    pub warnings: Vec<Diagnostic>,
}

/// Names one operation of a [`Spec`]: its position in document order. Only a spec hands them
/// out ([`Spec::find_id`], [`Spec::iter_operations`]), so code finds an operation by its id, never
/// by address or by scanning. An id is meaningful for the spec that gave it (and its clones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId(usize);

impl OperationId {
    /// The position in [`Spec::operations`] (document order), for tables kept beside a spec.
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A spec's operations in document order together with the index that finds them by name. The
/// list is read-only (it derefs to a slice; there is no mutable access), so the two can never
/// disagree: the reason this is a type of its own rather than a `Vec` beside a map.
#[derive(Clone, Default)]
pub struct Operations {
    list: Vec<Operation>,
    /// Name, operationId and `METHOD /path` key → operation.
    lookup: HashMap<String, OperationId>,
}

impl Operations {
    pub(crate) fn new(list: Vec<Operation>) -> Operations {
        let mut lookup = HashMap::with_capacity(list.len() * 3);
        // Insert in reverse so the first operation in document order wins on duplicates.
        for (i, op) in list.iter().enumerate().rev() {
            lookup.insert(op.key(), OperationId(i));
            if let Some(id) = &op.operation_id {
                lookup.insert(id.clone(), OperationId(i));
            }
        }
        // Names are unique and take precedence over operationIds that happen to equal another name.
        for (i, op) in list.iter().enumerate() {
            lookup.insert(op.name.clone(), OperationId(i));
        }
        Operations { list, lookup }
    }
}

impl Deref for Operations {
    type Target = [Operation];

    fn deref(&self) -> &[Operation] {
        &self.list
    }
}

impl<'a> IntoIterator for &'a Operations {
    type Item = &'a Operation;
    type IntoIter = std::slice::Iter<'a, Operation>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

/// The list only: the name index is derived from it.
impl fmt::Debug for Operations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.list).finish()
    }
}

/// One callable operation: a method on a path template.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Unique, stable, a valid JavaScript identifier: how scripts call it (`api.<name>`).
    pub name: String,
    /// The operationId exactly as the spec wrote it.
    pub operation_id: Option<String>,
    /// The HTTP method (the key under the path item).
    pub method: Method,
    /// The path template as written under `paths`, e.g. `/repos/{owner}/{repo}`.
    pub path: String,
    /// The one-line `summary`, as written.
    pub summary: Option<String>,
    /// The longer `description`, as written (often Markdown).
    pub description: Option<String>,
    /// The operation's `tags` in document order (non-string entries dropped).
    pub tags: Vec<String>,
    /// Whether the spec marks the operation `deprecated: true`.
    pub deprecated: bool,
    /// Path-level and operation-level parameters, merged (operation wins on name + location).
    pub parameters: Vec<Parameter>,
    /// The `requestBody` (Swagger 2.0's `in: body` / `in: formData` parameters converted), `None`
    /// when the operation takes no body.
    pub request_body: Option<RequestBody>,
    /// The first 2xx response (by status code), or `default` when no 2xx is declared.
    pub success: Option<Response>,
    /// `None` means the spec-wide requirements apply; `Some(vec![])` means no auth.
    pub security: Option<Vec<SecurityRequirement>>,
    /// Operation- or path-level servers; empty means the spec-wide servers apply.
    pub servers: Vec<Server>,
    /// `x-*` extensions of the operation (pagination hints and the like).
    pub extensions: IndexMap<String, Value>,
}

impl Operation {
    /// The `METHOD /path` key, e.g. `GET /pets/{petId}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Whether the operation may change state upstream (anything but GET, HEAD, OPTIONS, TRACE).
    pub fn is_mutating(&self) -> bool {
        self.method.is_mutating()
    }

    /// How a script passes this operation's inputs: one `args` object whose keys are listed here.
    ///
    /// Every parameter is keyed by its own name, and the request body by `body`. Where a name is
    /// taken (the same name in two locations, or a parameter called `body` when there is a request
    /// body), the later parameter is keyed `<location>_<name>` instead (`query_body`, `header_id`).
    /// The TypeScript declarations and the upstream client both read this, so they always agree.
    pub fn arguments(&self) -> Vec<Argument> {
        let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
        if self.request_body.is_some() {
            taken.insert(BODY_ARGUMENT.to_string());
        }
        let mut out = Vec::with_capacity(self.parameters.len() + 1);
        for (index, param) in self.parameters.iter().enumerate() {
            let key = if taken.contains(&param.name) {
                format!("{}_{}", param.location, param.name)
            } else {
                param.name.clone()
            };
            taken.insert(key.clone());
            out.push(Argument {
                key,
                source: ArgumentSource::Parameter(index),
            });
        }
        if self.request_body.is_some() {
            out.push(Argument {
                key: BODY_ARGUMENT.to_string(),
                source: ArgumentSource::Body,
            });
        }
        out
    }

    /// The parameter with this exact name in this location, if the operation declares one.
    pub fn parameter(&self, name: &str, location: ParameterLocation) -> Option<&Parameter> {
        self.parameters
            .iter()
            .find(|p| p.name == name && p.location == location)
    }
}

/// The key under which a script passes the request body.
pub const BODY_ARGUMENT: &str = "body";

/// One key of an operation's `args` object; see [`Operation::arguments`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argument {
    /// The key in `args`: the parameter's name, [`BODY_ARGUMENT`], or `<location>_<name>` where
    /// the plain name is taken.
    pub key: String,
    /// What the value under that key becomes in the request.
    pub source: ArgumentSource,
}

/// Where an [`Argument`]'s value goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgumentSource {
    /// Index into [`Operation::parameters`].
    Parameter(usize),
    /// The operation's [`Operation::request_body`].
    Body,
}

/// An HTTP method an OpenAPI path item can declare an operation under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `GET`: read.
    Get,
    /// `PUT`: replace or create at a known location.
    Put,
    /// `POST`: create or act.
    Post,
    /// `DELETE`: remove.
    Delete,
    /// `OPTIONS`: ask what the resource allows.
    Options,
    /// `HEAD`: `GET` without the body.
    Head,
    /// `PATCH`: change part of a resource.
    Patch,
    /// `TRACE`: echo the request back.
    Trace,
}

impl Method {
    /// Every method, in the order OpenAPI lists them in a path item.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
        Method::Trace,
    ];

    /// Parses a method name in any case (`get`, `GET`).
    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }

    /// The upper-case name as it goes on the wire (`"GET"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
        }
    }

    /// Whether a call may change state upstream: anything but GET, HEAD, OPTIONS and TRACE.
    pub fn is_mutating(self) -> bool {
        !matches!(
            self,
            Method::Get | Method::Head | Method::Options | Method::Trace
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a parameter goes in the request (OpenAPI `in`; Swagger 2.0's `body` and `formData`
/// become the request body instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParameterLocation {
    /// Substituted for `{name}` in the path template; always required.
    Path,
    /// In the query string.
    Query,
    /// A request header.
    Header,
    /// In the `Cookie` header.
    Cookie,
}

impl ParameterLocation {
    /// Parses an OpenAPI `in` value (`"path"`, `"query"`, `"header"`, `"cookie"`; exact case).
    pub fn parse(name: &str) -> Option<ParameterLocation> {
        match name {
            "path" => Some(ParameterLocation::Path),
            "query" => Some(ParameterLocation::Query),
            "header" => Some(ParameterLocation::Header),
            "cookie" => Some(ParameterLocation::Cookie),
            _ => None,
        }
    }

    /// The OpenAPI `in` value (`"query"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterLocation::Path => "path",
            ParameterLocation::Query => "query",
            ParameterLocation::Header => "header",
            ParameterLocation::Cookie => "cookie",
        }
    }
}

impl fmt::Display for ParameterLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a parameter value is written into the URL or a header (OpenAPI `style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParameterStyle {
    /// `name=value`; arrays `a=1&a=2` exploded or `a=1,2`. Default for query and cookie.
    Form,
    /// Comma-separated values, `1,2`. Default for path and header.
    Simple,
    /// Path values after a dot: `.1,2`, exploded `.1.2`.
    Label,
    /// Path values as parameters: `;id=1,2`, exploded `;id=1;id=2`.
    Matrix,
    /// Query objects as `name[key]=value`.
    DeepObject,
    /// Query arrays joined by spaces, `a=1%202`.
    SpaceDelimited,
    /// Query arrays joined by pipes, `a=1|2`.
    PipeDelimited,
}

impl ParameterStyle {
    /// Parses an OpenAPI `style` value (`"form"`, `"deepObject"`, …; exact case).
    pub fn parse(name: &str) -> Option<ParameterStyle> {
        match name {
            "form" => Some(ParameterStyle::Form),
            "simple" => Some(ParameterStyle::Simple),
            "label" => Some(ParameterStyle::Label),
            "matrix" => Some(ParameterStyle::Matrix),
            "deepObject" => Some(ParameterStyle::DeepObject),
            "spaceDelimited" => Some(ParameterStyle::SpaceDelimited),
            "pipeDelimited" => Some(ParameterStyle::PipeDelimited),
            _ => None,
        }
    }

    /// The default style for a location (OpenAPI 3: form for query and cookie, simple otherwise).
    pub fn default_for(location: ParameterLocation) -> ParameterStyle {
        match location {
            ParameterLocation::Query | ParameterLocation::Cookie => ParameterStyle::Form,
            ParameterLocation::Path | ParameterLocation::Header => ParameterStyle::Simple,
        }
    }
}

/// One parameter of an [`Operation`] (path, query, header or cookie), `$ref`s resolved.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// The name as the spec wrote it (case kept, also for headers).
    pub name: String,
    /// Where the value goes.
    pub location: ParameterLocation,
    /// Whether the spec requires it; always `true` for path parameters, whatever the spec says.
    pub required: bool,
    /// Whether the spec marks it `deprecated: true`.
    pub deprecated: bool,
    /// The `description`, as written.
    pub description: Option<String>,
    /// How the value is written; the location's default ([`ParameterStyle::default_for`]) when
    /// the spec gives none or an unknown one.
    pub style: ParameterStyle,
    /// OpenAPI `explode`: arrays and objects as separate `name=value` pairs. Defaults to `true`
    /// for [`ParameterStyle::Form`], `false` otherwise.
    pub explode: bool,
    /// OpenAPI `allowReserved`: reserved characters (`:/?#[]@!$&'()*+,;=`) go into the query
    /// unescaped. Default `false`.
    pub allow_reserved: bool,
    /// The parameter's schema (`{}` when the spec gave none).
    pub schema: Value,
    /// Set when the spec describes the value by `content` (a media type, usually
    /// `application/json`) instead of `schema`: the value then goes on the wire as that media
    /// type's text, not by `style`.
    pub content_type: Option<String>,
}

/// An operation's request body: the media types it accepts, each with a schema.
#[derive(Debug, Clone)]
pub struct RequestBody {
    /// Whether the spec requires a body (`required: true`); default `false`.
    pub required: bool,
    /// The `description`, as written.
    pub description: Option<String>,
    /// One entry per declared media type, in document order.
    pub content: Vec<MediaType>,
}

impl RequestBody {
    /// The media type a client should send by default: JSON first, then form, multipart, the rest.
    pub fn preferred(&self) -> Option<&MediaType> {
        self.content.iter().min_by_key(|m| m.kind.preference())
    }

    /// The offered media type with this essence (`type/subtype`, compared without parameters,
    /// ignoring case).
    pub fn offered(&self, essence: &str) -> Option<&MediaType> {
        self.content.iter().find(|m| {
            m.media_type
                .split(';')
                .next()
                .is_some_and(|e| e.trim().eq_ignore_ascii_case(essence))
        })
    }

    /// How a body goes when its media types are patch formats (PATCH, in practice) and plain JSON is not
    /// offered: Kubernetes offers `application/json-patch+json` (RFC 6902: the body is an *array*
    /// of operations) first, then `merge-patch+json` (RFC 7386: the partial *object*),
    /// strategic merge and apply. Sending an object as JSON Patch is always rejected, so the
    /// body's shape decides: an array goes as JSON Patch, anything else as the best object patch
    /// type offered. `None` when plain `application/json` is offered (it stays the choice) or
    /// no patch format is.
    pub fn patch_media(&self) -> Option<PatchMedia<'_>> {
        if self.offered("application/json").is_some() {
            return None;
        }
        let json_patch = self.offered(JSON_PATCH);
        let object = OBJECT_PATCHES
            .iter()
            .find_map(|essence| self.offered(essence));
        (json_patch.is_some() || object.is_some()).then_some(PatchMedia { object, json_patch })
    }
}

/// RFC 6902 JSON Patch: the body is an array of operations.
pub const JSON_PATCH: &str = "application/json-patch+json";

/// Patch media types that take the partial object, best first (apply needs the whole object and
/// a field manager, so it comes last).
pub const OBJECT_PATCHES: [&str; 4] = [
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+json",
    "application/apply-patch+yaml",
];

/// The patch formats a body offers (see [`RequestBody::patch_media`]).
#[derive(Debug, Clone, Copy)]
pub struct PatchMedia<'a> {
    /// The best object patch type offered, for a body that is not an array.
    pub object: Option<&'a MediaType>,
    /// JSON Patch, for an array body.
    pub json_patch: Option<&'a MediaType>,
}

/// The response an operation gives on success (see [`Operation::success`]).
#[derive(Debug, Clone)]
pub struct Response {
    /// `"200"`, `"2XX"` or `"default"`.
    pub status: String,
    /// The `description`, as written (required by OpenAPI, often just "OK").
    pub description: Option<String>,
    /// One entry per declared media type, in document order; empty for a response with no body.
    pub content: Vec<MediaType>,
}

impl Response {
    /// Whether the response declares no body (e.g. a `204 No Content`).
    pub fn is_empty(&self) -> bool {
        self.content.is_empty()
    }

    /// The media type a client should expect by default: JSON first, then form, multipart, the
    /// rest.
    pub fn preferred(&self) -> Option<&MediaType> {
        self.content.iter().min_by_key(|m| m.kind.preference())
    }
}

/// One media type a body is offered in (an entry of OpenAPI `content`).
#[derive(Debug, Clone)]
pub struct MediaType {
    /// The media type as written, e.g. `application/vnd.github+json`.
    pub media_type: String,
    /// Its family, from [`BodyKind::classify`].
    pub kind: BodyKind,
    /// The schema (`{}` when the spec gave none).
    pub schema: Value,
    /// Per-property encoding for form and multipart bodies (OpenAPI `encoding`), kept as JSON.
    pub encoding: IndexMap<String, Value>,
}

/// What family a media type belongs to; decides serialization and the declared TypeScript type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// `application/json` and any `+json` suffix.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/*`.
    Multipart,
    /// `text/*`, and XML.
    Text,
    /// Everything else: octet-stream, images, archives.
    Binary,
}

impl BodyKind {
    /// The family of a media type, by its essence (parameters and case ignored); `*/*` counts as
    /// JSON.
    pub fn classify(media_type: &str) -> BodyKind {
        let essence = media_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence == "application/json" || essence.ends_with("+json") || essence == "*/*" {
            BodyKind::Json
        } else if essence == "application/x-www-form-urlencoded" {
            BodyKind::Form
        } else if essence.starts_with("multipart/") {
            BodyKind::Multipart
        } else if essence.starts_with("text/")
            || essence.ends_with("/xml")
            || essence.ends_with("+xml")
        {
            BodyKind::Text
        } else {
            BodyKind::Binary
        }
    }

    fn preference(self) -> u8 {
        match self {
            BodyKind::Json => 0,
            BodyKind::Form => 1,
            BodyKind::Multipart => 2,
            BodyKind::Text => 3,
            BodyKind::Binary => 4,
        }
    }
}

/// A base URL the API is served at (an entry of OpenAPI `servers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// The URL as written, possibly with `{variable}`s and possibly relative (`/v1`).
    pub url: String,
    /// The `description`, as written (e.g. "production").
    pub description: Option<String>,
    /// Server variables with their default values.
    pub variables: IndexMap<String, String>,
}

impl Server {
    /// The URL with every `{variable}` replaced by its default.
    pub fn default_url(&self) -> String {
        let mut url = self.url.clone();
        for (name, value) in &self.variables {
            url = url.replace(&format!("{{{name}}}"), value);
        }
        url
    }
}

/// Alternatives: any one requirement satisfies the operation; within one, every scheme is needed.
pub type SecurityRequirement = IndexMap<String, Vec<String>>;

/// How the API authenticates a caller (an entry of `components.securitySchemes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityScheme {
    /// `Authorization: Bearer …` (`type: http, scheme: bearer`, or an OAuth2/OpenID scheme used as one).
    Bearer {
        /// The `bearerFormat` hint (e.g. `JWT`); documentation only.
        format: Option<String>,
    },
    /// `Authorization: Basic …` (`type: http, scheme: basic`).
    Basic,
    /// A key sent as a header, query parameter or cookie (`type: apiKey`).
    ApiKey {
        /// The header, query parameter or cookie name; `Authorization` when the spec gives none.
        name: String,
        /// Where the key goes; a header when the spec's `in` is missing or unknown.
        location: ApiKeyLocation,
    },
    /// `type: oauth2`, any flows.
    OAuth2 {
        /// Token URL of the client-credentials flow, when the spec declares one.
        client_credentials_token_url: Option<String>,
        /// Every scope any flow declares, sorted and deduplicated.
        scopes: Vec<String>,
    },
    /// `type: openIdConnect`.
    OpenIdConnect {
        /// The `openIdConnectUrl` (discovery document); empty when missing.
        url: String,
    },
    /// A scheme this model does not understand (kept so requirements that name it still resolve).
    Other {
        /// The spec's `type`, with the scheme for `http` (e.g. `"http digest"`, `"mutualTLS"`).
        kind: String,
    },
}

/// Where an API key goes ([`SecurityScheme::ApiKey`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyLocation {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
}

impl Spec {
    /// Named schemas, referenced as `#/components/schemas/<name>`, in document order. Every
    /// `$ref` anywhere in the model names one of them (references to other places were hoisted
    /// in at load), which is why the map is read-only.
    pub fn schemas(&self) -> &IndexMap<String, Value> {
        &self.schemas
    }

    /// The operation `id` names.
    ///
    /// # Panics
    /// If `id` came from another spec with more operations (ids are only handed out by a spec).
    pub fn operation(&self, id: OperationId) -> &Operation {
        &self.operations.list[id.0]
    }

    /// Every operation with its id, in document order.
    pub fn iter_operations(&self) -> impl ExactSizeIterator<Item = (OperationId, &Operation)> {
        self.operations
            .list
            .iter()
            .enumerate()
            .map(|(i, op)| (OperationId(i), op))
    }

    /// The id of every operation, in document order.
    pub fn operation_ids(&self) -> impl ExactSizeIterator<Item = OperationId> + use<> {
        (0..self.operations.len()).map(OperationId)
    }

    /// Finds an operation by name, by original operationId, or by `METHOD /path` key.
    pub fn find(&self, key: &str) -> Option<&Operation> {
        self.find_id(key).map(|id| self.operation(id))
    }

    /// [`Spec::find`], as the operation's id.
    pub fn find_id(&self, key: &str) -> Option<OperationId> {
        if let Some(&id) = self.operations.lookup.get(key) {
            return Some(id);
        }
        let (method, path) = key.trim().split_once(' ')?;
        let path = path.trim();
        // Only a path can match: a sentence that starts with "get" or "delete" is no key.
        if !path.starts_with('/') {
            return None;
        }
        let method = Method::parse(method)?;
        // A key with odd spacing or method case ("get  /pets"): the exact form is in the index.
        self.operations
            .lookup
            .get(&format!("{method} {path}"))
            .copied()
    }

    /// The target of a `#/components/schemas/<name>` reference.
    pub fn schema_by_ref(&self, reference: &str) -> Option<&Value> {
        let name = reference.strip_prefix(SCHEMA_REF_PREFIX)?;
        self.schemas.get(&unescape_pointer_token(name))
    }

    /// Follows `$ref`s (at most a few hops) to the schema they name; other schemas come back as given.
    pub fn deref_schema<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(r) => match self.schema_by_ref(r) {
                    Some(target) => schema = target,
                    None => return schema,
                },
                None => return schema,
            }
        }
        schema
    }

    /// The base URL requests go to by default: the first server, variables filled with defaults.
    pub fn default_server_url(&self) -> Option<String> {
        self.servers.first().map(Server::default_url)
    }
}

/// The prefix of every schema reference in the model.
pub const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// The reference string for a named schema.
pub fn schema_ref(name: &str) -> String {
    format!("{SCHEMA_REF_PREFIX}{}", escape_pointer_token(name))
}

/// Escapes one JSON pointer token (RFC 6901): `~` → `~0`, `/` → `~1`.
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Undoes [`escape_pointer_token`]: `~1` → `/`, then `~0` → `~`.
pub fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}
