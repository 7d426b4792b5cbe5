//! Reading spec documents: files (JSON or YAML, optionally gzipped), bytes in memory, the sibling
//! files a multi-file spec references, and http(s) URLs through the caller's [`Fetch`]. This is
//! the only module that does IO, and it does no network IO of its own.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::{Fetch, FetchError, LoadError};

/// How a spec is loaded.
#[derive(Clone)]
pub struct LoadOptions {
    /// Largest document accepted, after decompression. Default 100 MiB.
    pub max_bytes: u64,
    /// Allow `$ref`s to http(s) URLs (and relative refs inside a spec loaded from a URL). Default off.
    pub allow_remote_refs: bool,
    /// Reads http(s) URLs: the spec itself when [`crate::load`] is given a URL, and remote `$ref`s
    /// when they are allowed. Without one (the default), a URL fails the load with
    /// [`LoadError::NoFetcher`]. Its timeout and redirect policy are the fetcher's own.
    pub fetcher: Option<Arc<dyn Fetch>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_bytes: 100 * 1024 * 1024,
            allow_remote_refs: false,
            fetcher: None,
        }
    }
}

/// Says whether there is a fetcher, not what it holds (its client, headers or credentials).
impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("max_bytes", &self.max_bytes)
            .field("allow_remote_refs", &self.allow_remote_refs)
            .field("fetcher", &self.fetcher.as_ref().map(|_| "dyn Fetch"))
            .finish()
    }
}

/// Where one document came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Origin {
    File(PathBuf),
    Url(String),
    /// Text handed in directly (tests, embedded specs); has no siblings.
    Inline(String),
}

impl Origin {
    pub(crate) fn display(&self) -> String {
        match self {
            Origin::File(p) => p.display().to_string(),
            Origin::Url(u) => u.clone(),
            Origin::Inline(name) => name.clone(),
        }
    }
}

pub(crate) type DocId = usize;

/// Why a `$ref` could not be followed: refused or unreadable (the load fails), or just missing
/// (a warning; the part that needed it is dropped).
pub(crate) enum RefFailure {
    Fatal(LoadError),
    Missing(LoadError),
}

/// Removes `.` and `..` components without touching the file system.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Every document a load has read, the root first. Documents are parsed once and shared.
pub(crate) struct Documents {
    docs: Vec<(Origin, Arc<Value>)>,
    by_origin: HashMap<Origin, DocId>,
    /// Relative file refs must stay inside this directory (the root spec's).
    root_dir: Option<PathBuf>,
    options: LoadOptions,
}

pub(crate) fn is_url(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

impl Documents {
    pub(crate) fn open(source: &str, options: &LoadOptions) -> Result<Documents, LoadError> {
        let (origin, root_dir) = if is_url(source) {
            (Origin::Url(source.to_string()), None)
        } else {
            let path = Path::new(source);
            let canonical = path.canonicalize().map_err(|source_error| LoadError::Io {
                file: source.to_string(),
                source: source_error,
            })?;
            let dir = canonical.parent().map(Path::to_path_buf);
            (Origin::File(canonical), dir)
        };
        let mut docs = Documents {
            docs: Vec::new(),
            by_origin: HashMap::new(),
            root_dir,
            options: options.clone(),
        };
        docs.load(origin)?;
        Ok(docs)
    }

    /// One document from bytes in memory (JSON or YAML, optionally gzipped), with no siblings.
    pub(crate) fn from_bytes(name: &str, bytes: &[u8]) -> Result<Documents, LoadError> {
        let origin = Origin::Inline(name.to_string());
        let options = LoadOptions::default();
        if bytes.len() as u64 > options.max_bytes {
            return Err(LoadError::TooLarge {
                file: name.to_string(),
                limit_bytes: options.max_bytes,
            });
        }
        let bytes = maybe_gunzip(name, bytes, options.max_bytes)?;
        let value = parse_document(name, &bytes, name)?;
        let mut docs = Documents {
            docs: Vec::new(),
            by_origin: HashMap::new(),
            root_dir: None,
            options,
        };
        docs.by_origin.insert(origin.clone(), 0);
        docs.docs.push((origin, Arc::new(value)));
        Ok(docs)
    }

    pub(crate) fn root(&self) -> Arc<Value> {
        self.docs[0].1.clone()
    }

    pub(crate) fn value(&self, doc: DocId) -> Arc<Value> {
        self.docs[doc].1.clone()
    }

    /// Takes the root document out (leaving `null` until [`Documents::replace_root`]); copies it
    /// only if someone else still holds it.
    pub(crate) fn take_root(&mut self) -> Value {
        let root = std::mem::replace(&mut self.docs[0].1, Arc::new(Value::Null));
        Arc::try_unwrap(root).unwrap_or_else(|shared| (*shared).clone())
    }

    pub(crate) fn replace_root(&mut self, value: Value) {
        self.docs[0].1 = Arc::new(value);
    }

    pub(crate) fn name(&self, doc: DocId) -> String {
        self.docs[doc].0.display()
    }

    /// A short name for the document, for naming schemas hoisted out of it (`models/app.yml` → `app`).
    pub(crate) fn stem(&self, doc: DocId) -> String {
        let full = self.name(doc);
        let last = full.rsplit(['/', '\\']).next().unwrap_or(&full);
        last.split('.').next().unwrap_or(last).to_string()
    }

    /// Resolves a `$ref` string found in document `from` into the document and JSON pointer it names,
    /// loading the target document on first use.
    pub(crate) fn resolve(
        &mut self,
        from: DocId,
        reference: &str,
    ) -> Result<(DocId, String), RefFailure> {
        let (file_part, fragment) = match reference.split_once('#') {
            Some((file, fragment)) => (file, fragment),
            None => (reference, ""),
        };
        let pointer = percent_decode(fragment);
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(RefFailure::Missing(self.ref_error(
                from,
                reference,
                "only JSON-pointer fragments (#/…) are supported",
            )));
        }
        if file_part.is_empty() {
            return Ok((from, pointer));
        }
        let origin = self.target_origin(from, file_part, reference)?;
        let doc = self.load(origin).map_err(RefFailure::Fatal)?;
        Ok((doc, pointer))
    }

    fn target_origin(
        &self,
        from: DocId,
        file_part: &str,
        reference: &str,
    ) -> Result<Origin, RefFailure> {
        let refused = |message: &str| RefFailure::Fatal(self.ref_error(from, reference, message));
        let has_scheme = file_part.split_once(':').is_some_and(|(scheme, _)| {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        });
        if has_scheme {
            if !is_url(file_part) {
                return Err(refused("refused: only http(s) references are allowed"));
            }
            if !self.options.allow_remote_refs {
                return Err(refused(
                    "refused: remote references are off (allow them with --allow-remote-refs)",
                ));
            }
            if self.options.fetcher.is_none() {
                return Err(refused(NO_FETCHER_FOR_REFS));
            }
            return Ok(Origin::Url(file_part.to_string()));
        }
        match &self.docs[from].0 {
            Origin::Url(base) => {
                if !self.options.allow_remote_refs {
                    return Err(refused(
                        "refused: a spec loaded from a URL may only use relative references with --allow-remote-refs",
                    ));
                }
                if self.options.fetcher.is_none() {
                    return Err(refused(NO_FETCHER_FOR_REFS));
                }
                let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
                Ok(Origin::Url(format!("{base}/{file_part}")))
            }
            Origin::Inline(_) => Err(refused(
                "refused: a spec given as text cannot reference files",
            )),
            Origin::File(path) => {
                let dir = path.parent().unwrap_or(Path::new("/"));
                let joined = dir.join(percent_decode(file_part));
                let root = self.root_dir.as_deref().unwrap_or(Path::new("/"));
                // Canonicalize to see through `..` and symlinks before the containment check.
                // Check containment on the lexical path first, so a missing file outside the
                // directory is still reported as an escape rather than as missing.
                if !lexically_normal(&joined).starts_with(root) {
                    return Err(refused(&format!(
                        "refused: the reference escapes the spec's directory {}",
                        root.display()
                    )));
                }
                let canonical = joined.canonicalize().map_err(|e| {
                    RefFailure::Missing(self.ref_error(
                        from,
                        reference,
                        &format!("cannot read {}: {e}", joined.display()),
                    ))
                })?;
                if !canonical.starts_with(root) {
                    return Err(refused(&format!(
                        "refused: the reference escapes the spec's directory {}",
                        root.display()
                    )));
                }
                // A FIFO or device would block or never end; a referenced document must be a file.
                if !canonical.is_file() {
                    return Err(refused(
                        "refused: the reference does not name a regular file",
                    ));
                }
                Ok(Origin::File(canonical))
            }
        }
    }

    fn ref_error(&self, from: DocId, reference: &str, message: &str) -> LoadError {
        LoadError::reference(self.name(from), reference, message)
    }

    fn load(&mut self, origin: Origin) -> Result<DocId, LoadError> {
        if let Some(&id) = self.by_origin.get(&origin) {
            return Ok(id);
        }
        let name = origin.display();
        let bytes = match &origin {
            Origin::File(path) => read_file(path, self.options.max_bytes)?,
            Origin::Url(url) => fetch_url(url, &self.options)?,
            Origin::Inline(_) => {
                return Err(LoadError::Invalid {
                    file: name,
                    message: "inline documents cannot be loaded by reference".into(),
                });
            }
        };
        let bytes = maybe_gunzip(&name, &bytes, self.options.max_bytes)?;
        let value = parse_document(&name, &bytes, &name)?;
        let id = self.docs.len();
        self.by_origin.insert(origin.clone(), id);
        self.docs.push((origin, Arc::new(value)));
        Ok(id)
    }
}

fn read_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, LoadError> {
    let file_name = path.display().to_string();
    let io = |source: std::io::Error| LoadError::Io {
        file: file_name.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // A regular file's size is known up front: refuse an oversized one without reading it.
    let metadata = file.metadata().map_err(io)?;
    if metadata.is_file() && metadata.len() > max_bytes {
        return Err(LoadError::TooLarge {
            file: file_name,
            limit_bytes: max_bytes,
        });
    }
    let mut bytes = Vec::new();
    // Read one byte past the limit so an oversized file is detected without reading all of it.
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(LoadError::TooLarge {
            file: file_name,
            limit_bytes: max_bytes,
        });
    }
    Ok(bytes)
}

/// Why a remote `$ref` is refused when remote references are allowed but nothing can fetch them.
const NO_FETCHER_FOR_REFS: &str =
    "refused: remote references need a fetcher (LoadOptions::fetcher), and none was given";

/// Reads a URL through the caller's fetcher, holding it to the size limit whatever it does.
fn fetch_url(url: &str, options: &LoadOptions) -> Result<Vec<u8>, LoadError> {
    let Some(fetcher) = &options.fetcher else {
        return Err(LoadError::NoFetcher {
            url: url.to_string(),
        });
    };
    let too_large = || LoadError::TooLarge {
        file: url.to_string(),
        limit_bytes: options.max_bytes,
    };
    match fetcher.fetch(url, options.max_bytes) {
        Ok(bytes) if bytes.len() as u64 > options.max_bytes => Err(too_large()),
        Ok(bytes) => Ok(bytes),
        Err(FetchError::TooLarge { .. }) => Err(too_large()),
        Err(source) => Err(LoadError::Fetch {
            url: url.to_string(),
            source,
        }),
    }
}

/// The bytes, gunzipped when they start with the gzip magic (borrowed as they are otherwise).
fn maybe_gunzip<'b>(
    name: &str,
    bytes: &'b [u8],
    max_bytes: u64,
) -> Result<std::borrow::Cow<'b, [u8]>, LoadError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(max_bytes + 1)
        .read_to_end(&mut out)
        .map_err(|source| LoadError::Gzip {
            file: name.to_string(),
            source,
        })?;
    if out.len() as u64 > max_bytes {
        return Err(LoadError::TooLarge {
            file: name.to_string(),
            limit_bytes: max_bytes,
        });
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Parses JSON or YAML (JSON when the first non-blank byte is `{` or `[`), with located errors.
pub(crate) fn parse_document(name: &str, bytes: &[u8], file: &str) -> Result<Value, LoadError> {
    if let Some(kind) = archive_kind(bytes) {
        return Err(LoadError::Parse {
            file: file.to_string(),
            message: format!(
                "this is a {kind} archive, not a spec document: extract it and pass its root \
                 document (the file with `openapi:` or `swagger:` at the top); files it \
                 references are read from beside it"
            ),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col(bytes, e.valid_up_to());
        LoadError::Syntax {
            file: file.to_string(),
            line,
            column,
            message: "the file is not valid UTF-8".into(),
        }
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.trim_start().chars().next();
    let looks_json = matches!(first, Some('{') | Some('['));
    if looks_json || name.ends_with(".json") {
        serde_json::from_str(text).map_err(|e| LoadError::Syntax {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message: format!(
                "invalid JSON: {}",
                without_location(&e.to_string(), e.line(), e.column())
            ),
        })
    } else {
        parse_yaml(text, file)
    }
}

/// "tar" or "zip" when `bytes` (already gunzipped) are an archive of files rather than one
/// document: a multi-file spec is often shipped that way (DigitalOcean's is a `.tar.gz`).
fn archive_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(257..262) == Some(b"ustar") {
        Some("tar")
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some("zip")
    } else {
        None
    }
}

/// How many values a YAML document may expand to: generous for anchors used as intended, far
/// below what an alias bomb ("billion laughs") needs. Without aliases a value takes at least one
/// byte of text, so a document never comes near this by itself.
fn yaml_value_budget(text: &str) -> usize {
    text.len().saturating_mul(4).saturating_add(100_000)
}

fn parse_yaml(text: &str, file: &str) -> Result<Value, LoadError> {
    use serde::de::DeserializeSeed;
    let budget = yaml_value_budget(text);
    let seed = LenientSeed {
        remaining: &std::cell::Cell::new(budget),
    };
    let parsed = seed.deserialize(yaml_serde::Deserializer::from_str(text));
    let lenient = parsed.map_err(|e| match e.location() {
        Some(loc) => LoadError::Syntax {
            file: file.to_string(),
            line: loc.line(),
            column: loc.column(),
            message: format!(
                "invalid YAML: {}",
                without_location(&e.to_string(), loc.line(), loc.column())
            ),
        },
        None => LoadError::Parse {
            file: file.to_string(),
            message: match e.to_string().as_str() {
                // yaml_serde's own alias guard: say what it means.
                "repetition limit exceeded" => {
                    "invalid YAML: aliases expand too far (repetition limit exceeded)".to_string()
                }
                other => format!("invalid YAML: {other}"),
            },
        },
    })?;
    Ok(lenient)
}

/// Reads a JSON value from YAML, accepting what YAML allows and JSON does not: integers beyond
/// 64 bits (OpenAI writes `minimum: -9223372036854776000`; they become floats) and non-string
/// keys (`200:` for a status code; they become their text). Counts every value it builds against
/// a budget shared by the whole document, so aliases cannot expand without bound.
#[derive(Clone, Copy)]
struct LenientSeed<'b> {
    remaining: &'b std::cell::Cell<usize>,
}

impl LenientSeed<'_> {
    fn spend<E: serde::de::Error>(self) -> Result<(), E> {
        match self.remaining.get().checked_sub(1) {
            Some(left) => {
                self.remaining.set(left);
                Ok(())
            }
            None => Err(E::custom(
                "the document expands to too many values (YAML alias bomb?)",
            )),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for LenientSeed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for LenientSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::from(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::from(v))
    }
    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Value, E> {
        self.spend()?;
        Ok(float(v as f64))
    }
    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
        self.spend()?;
        Ok(float(v as f64))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        self.spend()?;
        Ok(float(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::String(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.spend()?;
        // The hint comes from the input: never trust it for an allocation size.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.spend()?;
        let mut out = serde_json::Map::new();
        while let Some((key, value)) = map.next_entry_seed(self, self)? {
            let key = match key {
                Value::String(s) => s,
                other => other.to_string(),
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// NaN and infinities have no JSON form; they become null.
fn float(v: f64) -> Value {
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The parser's message without the trailing " at line L column C" that the error already
/// carries as `file:line:column`.
fn without_location(message: &str, line: usize, column: usize) -> &str {
    message
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(message)
}

fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
