//! The inverted index: operations turned into weighted fields at build time, BM25F term weights
//! precomputed into postings, and a query path that only adds up floats.

use std::collections::{HashMap, HashSet};

use codemode_spec::{Method, Operation, OperationId, Spec};
use serde_json::Value;

use crate::text::{self, Analyzer, QueryWords};
use crate::vocabulary::{self, SYNONYM_GROUPS};
use crate::{Hit, SearchError, SearchOptions, StepHits, split_steps};

mod stats;
pub use stats::TermStats;

/// Longest query accepted, in bytes. Task sentences are short; anything longer is a mistake
/// (a pasted document) and would only cost time.
pub const MAX_QUERY_BYTES: usize = 4096;

/// The ranking's knobs. [`Tuning::default`] is what [`Index::build`] uses; the evaluation
/// example overrides fields to compare settings on the development set.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    /// Field weights, in [`Field`] order: name, path, resource, method, summary, opening,
    /// description, tags, params, body, enum values, schema, input docs.
    pub field_weights: [f32; Field::COUNT],
    /// BM25 saturation: how quickly repeated matches stop adding score.
    pub k1: f32,
    /// How much a synonym match counts relative to the word itself.
    pub synonym_weight: f32,
    /// Weight of a pair of adjacent query words found adjacent in a name, path or summary.
    pub bigram_weight: f32,
    /// How much matching every query word multiplies the score (matching none: 1.0).
    pub coverage_bonus: f32,
    /// Whether coverage weighs each query word by its idf (1) or counts words (0).
    pub coverage_by_idf: f32,
    /// Score multiplier for DELETE operations when the query has no word asking to delete:
    /// they are short (so score high on length normalization) and dangerous to suggest.
    pub unasked_delete_factor: f32,
    /// Score multiplier for operations whose method none of the query's verbs asks for, when
    /// the query has such verbs at all ("create ..." prefers POST and PUT).
    pub method_mismatch_factor: f32,
    /// Score multiplier for a GET of one item (path ends in a parameter) when the query asks for
    /// many ("list ...", "which ...", "all ...").
    pub single_item_factor: f32,
    /// Score multiplier for test-helper operations (a `test_helpers`-like path segment) when the
    /// query does not mention testing.
    pub test_helper_factor: f32,
    /// Score multiplier for deprecated operations: still findable, but behind their replacements.
    pub deprecated_factor: f32,
    /// A synonym's idf is capped at this multiple of the query word's own idf.
    pub synonym_idf_cap: f32,
    /// How many first-stage candidates the second stage re-ranks.
    pub rerank_depth: f32,
    /// Weight of the second stage: how much of an operation's identity (summary and resource
    /// words) the query explains.
    pub identity_weight: f32,
    /// Whether identity words weigh their idf (1) or count alike (0).
    pub identity_by_idf: f32,
    /// Score multiplier for writes to one existing item (the path ends in a parameter) when
    /// the query only asks to create something.
    pub create_on_item_factor: f32,
    /// How much a word the query negates ("without cloning") counts: it still names the topic,
    /// but it is not what is asked for.
    pub negated_weight: f32,
    /// How much a word of the same family counts ("registration" for "register").
    pub kin_weight: f32,
    /// Score multiplier for a write to the resource a query's first word names when that word
    /// is used as a verb ("*charge* a card" creates a charge, "*fork* a repository" a fork).
    /// Zero turns the reading off (the word then asks for no method either).
    pub verbed_resource_factor: f32,
    /// How much the rule and policy resources count when a query's verb asks to block, allow
    /// or ban (see [`vocabulary::ACCESS_VERBS`]).
    pub access_rule_weight: f32,
    /// Score multiplier for an operation whose resource (the head noun of its path) is what
    /// the query's verb acts on: "spin up a new Ubuntu *VM*" → `POST /v2/droplets`, "open a new
    /// *issue* in a repository" → `POST /repos/{owner}/{repo}/issues`. One is no effect.
    pub object_factor: f32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            field_weights: [
                2.0, 1.5, 1.5, 0.8, 3.0, 1.5, 0.6, 1.0, 0.3, 0.25, 0.3, 0.3, 0.2,
            ],
            k1: 2.0,
            synonym_weight: 0.7,
            bigram_weight: 0.3,
            coverage_bonus: 1.0,
            coverage_by_idf: 1.0,
            deprecated_factor: 0.6,
            unasked_delete_factor: 0.6,
            method_mismatch_factor: 0.6,
            single_item_factor: 0.8,
            test_helper_factor: 0.8,
            synonym_idf_cap: 1.5,
            rerank_depth: 50.0,
            identity_weight: 0.25,
            identity_by_idf: 0.0,
            create_on_item_factor: 0.8,
            negated_weight: 0.3,
            kin_weight: 0.5,
            verbed_resource_factor: 1.5,
            access_rule_weight: 0.8,
            object_factor: 1.1,
        }
    }
}

impl Tuning {
    /// Applies `name=value` overrides separated by commas (`k1=1.5,w.summary=3`).
    pub fn with_overrides(mut self, spec: &str) -> Result<Tuning, String> {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| format!("tuning override {item:?} is not name=value"))?;
            let value: f32 = value
                .parse()
                .map_err(|_| format!("tuning value {value:?} is not a number"))?;
            let slot = match name {
                "k1" => &mut self.k1,
                "syn" => &mut self.synonym_weight,
                "bigram" => &mut self.bigram_weight,
                "coverage" => &mut self.coverage_bonus,
                "coverage_idf" => &mut self.coverage_by_idf,
                "deprecated" => &mut self.deprecated_factor,
                "delete" => &mut self.unasked_delete_factor,
                "mismatch" => &mut self.method_mismatch_factor,
                "item" => &mut self.single_item_factor,
                "testhelper" => &mut self.test_helper_factor,
                "syncap" => &mut self.synonym_idf_cap,
                "depth" => &mut self.rerank_depth,
                "identity" => &mut self.identity_weight,
                "identity_idf" => &mut self.identity_by_idf,
                "create_item" => &mut self.create_on_item_factor,
                "negated" => &mut self.negated_weight,
                "kin" => &mut self.kin_weight,
                "verbed" => &mut self.verbed_resource_factor,
                "access" => &mut self.access_rule_weight,
                "object" => &mut self.object_factor,
                other => {
                    let field = ALL_FIELDS
                        .iter()
                        .position(|f| format!("w.{}", f.label()) == other)
                        .ok_or_else(|| format!("unknown tuning knob {other:?}"))?;
                    &mut self.field_weights[field]
                }
            };
            *slot = value;
        }
        Ok(self)
    }
}

/// The fields an operation is indexed under, with their weight and length normalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// operationId (or the generated name) split into words.
    Name,
    /// Literal path segments.
    Path,
    /// The last literal path segment: the resource or action the operation is about.
    Resource,
    /// Intent words for the method (GET → get, list, show ...).
    Method,
    Summary,
    /// The first sentence of the description.
    Opening,
    /// The rest of the description's beginning.
    Description,
    Tags,
    /// Parameter names, path parameters included.
    Params,
    /// Property names of the request body.
    Body,
    /// Allowed values of enumerated parameters and body properties (`status`: available, sold).
    EnumValues,
    /// Title and description opening of the response and request schemas.
    Schema,
    /// The opening of each parameter's and body property's description.
    InputDocs,
}

impl Field {
    const COUNT: usize = 13;

    fn label(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Path => "path",
            Field::Resource => "resource",
            Field::Method => "method",
            Field::Summary => "summary",
            Field::Opening => "opening",
            Field::Description => "description",
            Field::Tags => "tags",
            Field::Params => "params",
            Field::Body => "body",
            Field::EnumValues => "enum",
            Field::Schema => "schema",
            Field::InputDocs => "inputs",
        }
    }

    /// BM25 `b`: how much a long field is discounted.
    fn length_normalization(self) -> f32 {
        match self {
            Field::Method | Field::Resource | Field::Tags => 0.0,
            Field::Description
            | Field::Params
            | Field::Body
            | Field::EnumValues
            | Field::Schema
            | Field::InputDocs => 0.5,
            _ => 0.75,
        }
    }
}

/// Characters of the description indexed: the opening, then the rest of this prefix.
const DESCRIPTION_CHARS: usize = 1500;
const OPENING_CHARS: usize = 240;
/// Request-body properties indexed per operation (huge bodies would drown the other fields).
const MAX_BODY_PROPERTIES: usize = 60;
/// Enum values indexed per parameter.
const MAX_ENUM_VALUES: usize = 12;

/// Shortest stem [`Index::word_kin`] relates to longer ones, and the longest ending it allows
/// between them: "port" must not reach "portal", nor "user" "username".
const MIN_KIN_STEM: usize = 5;
const MAX_KIN_ENDING: usize = 3;

#[derive(Debug, Clone, Copy)]
struct Posting {
    operation: u32,
    weight: f32,
}

/// A search index over one spec's operations. Build once, query many times; it is immutable,
/// so it can be shared between threads.
pub struct Index {
    analyzer: Analyzer,
    k1: f32,
    coverage_bonus: f32,
    coverage_by_idf: bool,
    unasked_delete_factor: f32,
    method_mismatch_factor: f32,
    single_item_factor: f32,
    test_helper_factor: f32,
    synonym_idf_cap: f32,
    rerank_depth: usize,
    identity_weight: f32,
    identity_by_idf: bool,
    create_on_item_factor: f32,
    negated_weight: f32,
    kin_weight: f32,
    verbed_resource_factor: f32,
    access_rule_weight: f32,
    object_factor: f32,
    /// Stems of [`vocabulary::ACCESS_VERBS`], and the indexed terms of
    /// [`vocabulary::ACCESS_RESOURCES`] with their synonyms.
    access_verbs: Vec<String>,
    access_terms: Vec<u32>,
    /// Per operation: the head noun of its resource (the last word of its last literal path
    /// segment: `rules` of `access_rules`), what a write to it creates or does.
    heads: Vec<Option<u32>>,
    /// Indexed single-word terms in byte order, for [`Index::word_kin`]'s prefix lookups.
    sorted_terms: Vec<(Box<str>, u32)>,
    /// Stems of verbs asking to create, and of verbs asking to change.
    create_words: Vec<String>,
    update_words: Vec<String>,
    /// Per operation: the path ends in a parameter (it acts on one existing item) and it is no
    /// upsert (see [`upserts`]).
    on_item: Vec<bool>,
    /// Per operation: the terms saying what it is (its summary, else its name), each with
    /// whether it is a verb (verbs only count when the query uses them: methods are judged
    /// apart).
    identity: Vec<Vec<(u32, bool)>>,
    /// Per operation: a GET of one item (path ends in a parameter).
    single_item: Vec<bool>,
    /// Per operation: a test helper (path segment like `test_helpers`).
    test_helper: Vec<bool>,
    /// Stems of words asking for many items, and of words mentioning tests.
    list_words: Vec<String>,
    test_words: Vec<String>,
    /// Stems of verbs that ask for a kind of method, with the methods they ask for.
    intent_words: HashMap<String, Vec<Method>>,
    term_ids: HashMap<Box<str>, u32>,
    /// Per term: the operations containing it, with the BM25F pseudo term frequency.
    postings: Vec<Vec<Posting>>,
    idf: Vec<f32>,
    /// Per stemmed word (indexed or not): related indexed terms (synonyms) and their weight.
    related: HashMap<Box<str>, Vec<(u32, f32)>>,
    methods: Vec<Method>,
    /// Per operation: its id in the spec, what hits carry.
    ids: Vec<OperationId>,
    /// Lowercased tags per operation, for the tag filter.
    tags: Vec<Vec<String>>,
    /// Query-independent score multiplier per operation.
    prior: Vec<f32>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("operations", &self.methods.len())
            .field("terms", &self.postings.len())
            .finish()
    }
}

/// Stemmed terms of one operation, per field.
struct Document {
    fields: [Vec<String>; Field::COUNT],
    /// Adjacent term pairs from the name, path and summary.
    bigrams: Vec<String>,
    /// The last term of the last literal path segment.
    head: Option<String>,
}

const ALL_FIELDS: [Field; Field::COUNT] = [
    Field::Name,
    Field::Path,
    Field::Resource,
    Field::Method,
    Field::Summary,
    Field::Opening,
    Field::Description,
    Field::Tags,
    Field::Params,
    Field::Body,
    Field::EnumValues,
    Field::Schema,
    Field::InputDocs,
];

fn bigram(a: &str, b: &str) -> String {
    format!("{a} {b}")
}

impl Document {
    fn new(
        spec: &Spec,
        op: &Operation,
        analyzer: &Analyzer,
        cache: &mut HashMap<String, String>,
        known_words: &HashSet<String>,
        upsert: bool,
    ) -> Document {
        let head = op
            .path
            .split('/')
            .rfind(|s| !s.is_empty() && !s.contains('{'))
            .and_then(|last| analyzer.terms(last, cache).pop());
        let mut fields: [Vec<String>; Field::COUNT] = Default::default();
        let mut push = |field: Field, text: &str| {
            fields[field as usize].extend(analyzer.terms(text, cache));
        };

        let name = op.operation_id.as_deref().unwrap_or(op.name.as_str());
        push(Field::Name, name);
        push(Field::Name, &compound_parts(name, known_words));

        let literal_segments: Vec<&str> = op
            .path
            .split('/')
            .filter(|s| !s.is_empty() && !s.contains('{'))
            .collect();
        for segment in &literal_segments {
            push(Field::Path, segment);
            push(Field::Path, &compound_parts(segment, known_words));
        }
        if let Some(last) = literal_segments.last() {
            push(Field::Resource, last);
            push(Field::Resource, &compound_parts(last, known_words));
        }
        for segment in op.path.split('/').filter(|s| s.contains('{')) {
            push(Field::Params, segment);
        }

        let collection = !op.path.trim_end_matches('/').ends_with('}');
        for intent in vocabulary::method_intents(op.method, collection) {
            push(Field::Method, intent);
        }
        // An API that upserts creates with the PUT to the item (Cloudflare uploads a Worker's
        // script to `/workers/scripts/{script_name}`): that PUT is how to create one.
        if upsert {
            for intent in vocabulary::method_intents(Method::Post, true) {
                push(Field::Method, intent);
            }
        }

        if let Some(summary) = &op.summary {
            push(Field::Summary, &text::strip_markup(summary));
        }
        if let Some(description) = &op.description {
            let cleaned =
                text::strip_markup(text::prefix_chars(description, DESCRIPTION_CHARS * 2));
            let cleaned = cleaned.trim();
            let opening = text::opening(cleaned, OPENING_CHARS);
            push(Field::Opening, opening);
            let rest = cleaned.get(opening.len()..).unwrap_or("");
            push(
                Field::Description,
                text::prefix_chars(rest, DESCRIPTION_CHARS),
            );
        }
        for tag in &op.tags {
            push(Field::Tags, tag);
        }
        for param in &op.parameters {
            push(Field::Params, &param.name);
            if let Some(doc) = &param.description {
                push(Field::InputDocs, &input_doc(doc));
            }
            for value in enum_values(spec, &param.schema) {
                push(Field::EnumValues, value);
            }
        }
        for (name, schema) in body_properties(spec, op) {
            push(Field::Body, name);
            if let Some(doc) = schema.get("description").and_then(Value::as_str) {
                push(Field::InputDocs, &input_doc(doc));
            }
            for value in enum_values(spec, schema) {
                push(Field::EnumValues, value);
            }
        }
        for text in schema_descriptions(spec, op) {
            push(Field::Schema, &text);
        }

        let mut bigrams = Vec::new();
        for field in [Field::Name, Field::Path, Field::Summary, Field::Opening] {
            for pair in fields[field as usize].windows(2) {
                bigrams.push(bigram(&pair[0], &pair[1]));
            }
        }
        bigrams.sort_unstable();
        bigrams.dedup();
        Document {
            fields,
            bigrams,
            head,
        }
    }
}

/// Lowercase words the spec uses on their own (in paths, names, summaries and description
/// openings): the parts [`compound_parts`] may split a run-together word into.
fn known_words(spec: &Spec) -> HashSet<String> {
    let mut words = HashSet::new();
    let mut add = |text: &str| {
        text::for_each_word(text, |w| {
            if w.len() >= MIN_COMPOUND_PART && w.chars().all(|c| c.is_ascii_alphabetic()) {
                words.insert(w.to_string());
            }
        });
    };
    for op in &spec.operations {
        add(&op.path);
        add(op.operation_id.as_deref().unwrap_or(&op.name));
        add(op.summary.as_deref().unwrap_or(""));
        add(text::prefix_chars(
            op.description.as_deref().unwrap_or(""),
            OPENING_CHARS,
        ));
    }
    words
}

/// Shortest part of a run-together word that [`compound_parts`] splits off.
const MIN_COMPOUND_PART: usize = 3;

/// The parts of run-together words in `text` (`healthchecks` → "health checks",
/// `networkpolicies` → "network policies"), when both parts are words the spec uses on their
/// own; empty when nothing splits.
fn compound_parts(text: &str, known: &HashSet<String>) -> String {
    let mut out = String::new();
    text::for_each_word(text, |word| {
        if word.len() < 2 * MIN_COMPOUND_PART + 1 || !word.is_ascii() {
            return;
        }
        let is_known = |part: &str| {
            known.contains(part) || part.strip_suffix('s').is_some_and(|p| known.contains(p))
        };
        // Prefer the longest known first part: "rolebindings" → role + bindings.
        let split = (MIN_COMPOUND_PART..=word.len() - MIN_COMPOUND_PART)
            .rev()
            .find(|&i| known.contains(&word[..i]) && is_known(&word[i..]));
        if let Some(i) = split {
            out.push_str(&word[..i]);
            out.push(' ');
            out.push_str(&word[i..]);
            out.push(' ');
        }
    });
    out
}

/// Top-level properties of the request body's preferred schema (following `$ref`s and one
/// level of `allOf`/`oneOf`/`anyOf`), as (name, schema).
fn body_properties<'a>(spec: &'a Spec, op: &'a Operation) -> Vec<(&'a str, &'a Value)> {
    let Some(media) = op.request_body.as_ref().and_then(|b| b.preferred()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let root = spec.deref_schema(&media.schema);
    collect_properties(root, &mut out);
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = root.get(key).and_then(Value::as_array) {
            for part in parts {
                collect_properties(spec.deref_schema(part), &mut out);
            }
        }
    }
    out.truncate(MAX_BODY_PROPERTIES);
    out
}

fn collect_properties<'a>(schema: &'a Value, out: &mut Vec<(&'a str, &'a Value)>) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        out.extend(props.iter().map(|(k, v)| (k.as_str(), v)));
    }
}

/// The title and the description's opening of the schemas an operation returns and accepts:
/// what kind of object it is about ("Each customer has a balance ..."). Arrays describe their
/// items.
fn schema_descriptions(spec: &Spec, op: &Operation) -> Vec<String> {
    let mut out = Vec::new();
    let response = op
        .success
        .as_ref()
        .and_then(|r| r.preferred())
        .map(|m| &m.schema);
    let request = op
        .request_body
        .as_ref()
        .and_then(|b| b.preferred())
        .map(|m| &m.schema);
    for schema in response.into_iter().chain(request) {
        let mut schema = spec.deref_schema(schema);
        if let Some(items) = schema.get("items") {
            schema = spec.deref_schema(items);
        }
        for key in ["title", "description"] {
            if let Some(text) = schema.get(key).and_then(Value::as_str) {
                out.push(text::opening(&text::strip_markup(text), OPENING_CHARS).to_string());
            }
        }
    }
    out
}

/// The opening of a parameter's or property's description, markup removed.
fn input_doc(doc: &str) -> String {
    text::opening(&text::strip_markup(text::prefix_chars(doc, 400)), 160).to_string()
}

/// String values of an `enum` (directly or on array items), a few at most.
fn enum_values<'a>(spec: &'a Spec, schema: &'a Value) -> impl Iterator<Item = &'a str> {
    let schema = spec.deref_schema(schema);
    let items = schema.get("items").map(|i| spec.deref_schema(i));
    let values = schema
        .get("enum")
        .or_else(|| items.and_then(|i| i.get("enum")))
        .and_then(Value::as_array);
    values
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .take(MAX_ENUM_VALUES)
}

/// Builds the postings of one collection of documents.
struct Builder {
    term_ids: HashMap<Box<str>, u32>,
    postings: Vec<Vec<Posting>>,
}

impl Builder {
    fn term_id(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.term_ids.get(term) {
            return id;
        }
        let id = self.postings.len() as u32;
        self.term_ids.insert(term.into(), id);
        self.postings.push(Vec::new());
        id
    }
}

impl Index {
    /// Indexes every operation of `spec`.
    pub fn build(spec: &Spec) -> Index {
        Index::build_tuned(spec, &Tuning::default())
    }

    /// [`Index::build`] with other ranking settings (for evaluation).
    #[doc(hidden)]
    pub fn build_tuned(spec: &Spec, tuning: &Tuning) -> Index {
        let analyzer = Analyzer::new();
        let mut stems = HashMap::new();
        let known_words = known_words(spec);
        let upserts = upserts(spec);
        let documents: Vec<Document> = spec
            .operations
            .iter()
            .zip(&upserts)
            .map(|(op, &upsert)| {
                Document::new(spec, op, &analyzer, &mut stems, &known_words, upsert)
            })
            .collect();

        let count = documents.len().max(1) as f32;
        let mut average_length = [0f32; Field::COUNT];
        for doc in &documents {
            for field in ALL_FIELDS {
                average_length[field as usize] += doc.fields[field as usize].len() as f32;
            }
        }
        for avg in &mut average_length {
            *avg = (*avg / count).max(1.0);
        }

        let mut builder = Builder {
            term_ids: HashMap::new(),
            postings: Vec::new(),
        };
        let mut weights: HashMap<u32, f32> = HashMap::new();
        for (operation, doc) in documents.iter().enumerate() {
            weights.clear();
            for field in ALL_FIELDS {
                let terms = &doc.fields[field as usize];
                if tuning.field_weights[field as usize] <= 0.0 {
                    continue;
                }
                let b = field.length_normalization();
                let norm = 1.0 - b + b * terms.len() as f32 / average_length[field as usize];
                let per_occurrence = tuning.field_weights[field as usize] / norm;
                for term in terms {
                    *weights.entry(builder.term_id(term)).or_default() += per_occurrence;
                }
            }
            for pair in &doc.bigrams {
                *weights.entry(builder.term_id(pair)).or_default() += tuning.bigram_weight;
            }
            for (&term, &weight) in &weights {
                builder.postings[term as usize].push(Posting {
                    operation: operation as u32,
                    weight,
                });
            }
        }

        let idf = builder
            .postings
            .iter()
            .map(|list| {
                let df = list.len() as f32;
                (1.0 + (count - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        let intent_words = intent_words(&analyzer);
        let list_words = vocabulary::LIST_WORDS
            .iter()
            .map(|w| analyzer.stem(w))
            .collect();
        let test_words = ["test", "testing", "sandbox", "simulate", "mock"]
            .iter()
            .map(|w| analyzer.stem(w))
            .collect();
        let related = related_terms(&analyzer, &builder.term_ids, tuning.synonym_weight);
        let stems_of =
            |words: &[&str]| -> Vec<String> { words.iter().map(|w| analyzer.stem(w)).collect() };
        let create_words = stems_of(vocabulary::CREATE_WORDS);
        let update_words = stems_of(vocabulary::UPDATE_WORDS);
        let access_verbs = stems_of(vocabulary::ACCESS_VERBS);
        let access_terms = vocabulary::ACCESS_RESOURCES
            .iter()
            .filter_map(|w| builder.term_ids.get(analyzer.stem(w).as_str()).copied())
            .collect();
        let identity = identity_terms(&documents, &builder.term_ids, &intent_words, &analyzer);

        Index {
            analyzer,
            k1: tuning.k1,
            coverage_bonus: tuning.coverage_bonus,
            coverage_by_idf: tuning.coverage_by_idf > 0.5,
            unasked_delete_factor: tuning.unasked_delete_factor,
            method_mismatch_factor: tuning.method_mismatch_factor,
            single_item_factor: tuning.single_item_factor,
            test_helper_factor: tuning.test_helper_factor,
            synonym_idf_cap: tuning.synonym_idf_cap,
            rerank_depth: tuning.rerank_depth as usize,
            identity_weight: tuning.identity_weight,
            identity_by_idf: tuning.identity_by_idf > 0.5,
            create_on_item_factor: tuning.create_on_item_factor,
            negated_weight: tuning.negated_weight,
            kin_weight: tuning.kin_weight,
            verbed_resource_factor: tuning.verbed_resource_factor,
            access_rule_weight: tuning.access_rule_weight,
            object_factor: tuning.object_factor,
            access_verbs,
            access_terms,
            heads: documents
                .iter()
                .map(|doc| {
                    doc.head
                        .as_ref()
                        .and_then(|h| builder.term_ids.get(h.as_str()).copied())
                })
                .collect(),
            sorted_terms: sorted_words(&builder.term_ids),
            create_words,
            update_words,
            // An upsert is how its API creates: "create" asks for it, not for a collection's POST.
            on_item: spec
                .operations
                .iter()
                .zip(&upserts)
                .map(|(op, &upsert)| op.path.trim_end_matches('/').ends_with('}') && !upsert)
                .collect(),
            identity,
            single_item: spec
                .operations
                .iter()
                .map(|op| op.method == Method::Get && op.path.trim_end_matches('/').ends_with('}'))
                .collect(),
            test_helper: spec.operations.iter().map(is_test_helper).collect(),
            list_words,
            test_words,
            intent_words,
            term_ids: builder.term_ids,
            postings: builder.postings,
            idf,
            related,
            methods: spec.operations.iter().map(|op| op.method).collect(),
            ids: spec.operation_ids().collect(),
            tags: spec
                .operations
                .iter()
                .map(|op| op.tags.iter().map(|t| t.to_lowercase()).collect())
                .collect(),
            prior: spec
                .operations
                .iter()
                .map(|op| {
                    if is_deprecated(op) {
                        tuning.deprecated_factor
                    } else {
                        1.0
                    }
                })
                .collect(),
        }
    }

    /// Number of operations indexed.
    pub fn len(&self) -> usize {
        self.methods.len()
    }

    /// Whether the spec had no operations to index (every search then returns no hits).
    pub fn is_empty(&self) -> bool {
        self.methods.is_empty()
    }

    /// Approximate heap memory held by the index, in bytes.
    pub fn memory_bytes(&self) -> usize {
        let postings: usize = self
            .postings
            .iter()
            .map(|p| {
                p.capacity() * std::mem::size_of::<Posting>() + std::mem::size_of::<Vec<Posting>>()
            })
            .sum();
        let terms: usize = self
            .term_ids
            .keys()
            .map(|k| k.len() + std::mem::size_of::<(Box<str>, u32)>() + 8)
            .sum();
        let related: usize = self
            .related
            .iter()
            .map(|(k, v)| k.len() + v.capacity() * 8 + 40)
            .sum();
        let tags: usize = self
            .tags
            .iter()
            .map(|t| t.iter().map(|s| s.capacity() + 24).sum::<usize>() + 24)
            .sum();
        let identity: usize = self
            .identity
            .iter()
            .map(|t| t.capacity() * std::mem::size_of::<(u32, bool)>() + 24)
            .sum();
        postings
            + terms
            + related
            + tags
            + identity
            + self.idf.capacity() * 4
            + self.prior.capacity() * 5
            + self.on_item.capacity()
            + self.heads.capacity() * std::mem::size_of::<Option<u32>>()
            + self.ids.capacity() * std::mem::size_of::<OperationId>()
    }

    /// Ranked hits, best first, at most `options.limit`.
    pub fn search(&self, query: &str, options: &SearchOptions) -> Result<Vec<Hit>, SearchError> {
        check_query(query)?;
        Ok(self.rank(query, options))
    }

    /// Ranked hits for each action of a task sentence ("create a customer and subscribe her to
    /// a price"), in the order they are to be done, at most `options.limit` each; see
    /// [`split_steps`]. A sentence with one action gives one [`StepHits`] holding exactly
    /// [`Index::search`]'s hits.
    pub fn search_steps(
        &self,
        query: &str,
        options: &SearchOptions,
    ) -> Result<Vec<StepHits>, SearchError> {
        check_query(query)?;
        Ok(split_steps(query)
            .into_iter()
            .map(|step| StepHits {
                hits: self.rank(&step.clause, options),
                clause: step.clause,
                written: step.written,
            })
            .collect())
    }

    /// [`Index::search`] for a query already checked. A clause completed from its neighbours
    /// may be longer than the sentence it came from; it was checked as part of the sentence.
    fn rank(&self, query: &str, options: &SearchOptions) -> Vec<Hit> {
        let words = text::split_negated(query);
        let (groups, word_groups) = self.query_groups(&words);
        if groups.is_empty() || options.limit == 0 || self.is_empty() {
            return Vec::new();
        }
        let mut scores = self.score(&groups, word_groups);
        let query_terms: Vec<u32> = groups[..word_groups]
            .iter()
            .flatten()
            .map(|&(term, _)| term)
            .collect();
        let own_terms: Vec<u32> = groups[..word_groups]
            .iter()
            .filter_map(|group| group.first())
            .filter(|&&(_, factor)| factor == 1.0)
            .map(|&(term, _)| term)
            .collect();
        let verbs: Vec<String> = self.acting_verbs(&words.asserted);
        let object = self.object_terms(query);
        self.apply_method_intent(&verbs, &own_terms, &object, &mut scores);
        self.rerank_by_identity(&query_terms, &mut scores);
        self.top(&scores, options)
    }

    /// The query as groups of alternatives: each asked-for word with its synonyms, each pair of
    /// adjacent words, and each negated word at [`Index::negated_weight`]. Words unknown to the
    /// index are dropped (they cannot change the ranking). Returns the groups and how many of
    /// them are asked-for words (the rest neither count for coverage nor say what is asked).
    fn query_groups(&self, words: &QueryWords) -> (Vec<Vec<(u32, f32)>>, usize) {
        let asserted = &words.asserted;
        let stems: Vec<String> = self
            .content_stems(asserted)
            .chain(phrase_words(asserted).map(|w| self.analyzer.stem(w)))
            .collect();
        // Two words that the spec writes as one ("log in" → login, "web hook" → webhook).
        let compounds = asserted
            .windows(2)
            .map(|pair| self.analyzer.stem(&format!("{}{}", pair[0], pair[1])))
            .filter(|joined| {
                self.term_ids.contains_key(joined.as_str())
                    || self.related.contains_key(joined.as_str())
            });
        let candidates: Vec<String> = stems.iter().cloned().chain(compounds).collect();

        let modifiers = self.modifier_stems(asserted);
        let mut groups: Vec<Vec<(u32, f32)>> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for stem in candidates {
            if seen.contains(&stem) {
                continue;
            }
            let group = if modifiers.contains(&stem) {
                self.term_ids
                    .get(stem.as_str())
                    .map(|&id| vec![(id, 1.0)])
                    .unwrap_or_default()
            } else {
                self.term_group(&stem)
            };
            seen.insert(stem);
            if !group.is_empty() {
                groups.push(group);
            }
        }
        let word_groups = groups.len();
        for pair in stems.windows(2) {
            if let Some(&id) = self.term_ids.get(bigram(&pair[0], &pair[1]).as_str()) {
                groups.push(vec![(id, 1.0)]);
            }
        }
        // Blocking, allowing and banning are done by creating rules and policies.
        if self.controls_access(&self.acting_verbs(asserted)) {
            for &term in &self.access_terms {
                groups.push(vec![(term, self.access_rule_weight)]);
            }
        }
        for stem in self.content_stems(&words.negated) {
            if seen.contains(&stem) {
                continue;
            }
            let mut group = self.term_group(&stem);
            group
                .iter_mut()
                .for_each(|(_, f)| *f *= self.negated_weight);
            seen.insert(stem);
            if !group.is_empty() {
                groups.push(group);
            }
        }
        (groups, word_groups)
    }

    /// Which of the query's words act as verbs, in order: every word but a method word that
    /// directly follows another one (see [`Index::modifier_stems`]).
    fn acting_verbs(&self, words: &[String]) -> Vec<String> {
        let modifiers = self.modifier_positions(words);
        words
            .iter()
            .zip(modifiers)
            .filter(|(_, modifier)| !modifier)
            .map(|(word, _)| word.clone())
            .collect()
    }

    /// Stems of method words that describe a noun rather than ask for an action: "list *open*
    /// pull requests", "show *new* messages", "get *all* *running* jobs". A method word directly
    /// after another method word (determiners between them aside) is an adjective there; read as
    /// a verb, "open" would ask to create pull requests. Such words match as themselves only,
    /// without their synonyms, and imply no method.
    /// A stem used as a verb anywhere in the query keeps its synonyms ("open the open issues").
    fn modifier_stems(&self, words: &[String]) -> HashSet<String> {
        let mut modifiers = HashSet::new();
        let mut verbs = HashSet::new();
        for (word, modifier) in words.iter().zip(self.modifier_positions(words)) {
            let stem = self.analyzer.stem(word);
            if modifier {
                modifiers.insert(stem);
            } else {
                verbs.insert(stem);
            }
        }
        modifiers.retain(|stem| !verbs.contains(stem));
        modifiers
    }

    fn modifier_positions(&self, words: &[String]) -> Vec<bool> {
        let mut after_verb = false;
        words
            .iter()
            .map(|word| {
                // "all" and "every" are also list words; here they only lead to the adjective.
                if DETERMINERS.contains(&word.as_str()) {
                    return false;
                }
                let is_method_word = self.intent_words.contains_key(&self.analyzer.stem(word));
                let modifier = is_method_word && after_verb;
                after_verb = is_method_word;
                modifier
            })
            .collect()
    }

    /// Indexed words of the same family as `stem` that the stemmer keeps apart: one is the other
    /// plus a short ending ("register" and "registration" stem to `regist` and `registr`,
    /// "queue" and "queueing" to `queue` and `queu`, "auto" heads "automatically").
    fn word_kin<'s>(&'s self, stem: &'s str) -> impl Iterator<Item = u32> + 's {
        let usable = stem.len() >= MIN_KIN_STEM && stem.bytes().all(|b| b.is_ascii_lowercase());
        let longer = usable
            .then(|| {
                let start = self.sorted_terms.partition_point(|(t, _)| &**t < stem);
                self.sorted_terms[start..]
                    .iter()
                    .take_while(move |(t, _)| t.starts_with(stem))
                    .filter(move |(t, _)| {
                        t.len() > stem.len() && t.len() <= stem.len() + MAX_KIN_ENDING
                    })
                    .map(|&(_, id)| id)
            })
            .into_iter()
            .flatten();
        let shorter = (MIN_KIN_STEM..stem.len())
            .filter(move |&len| usable && stem.len() - len <= MAX_KIN_ENDING)
            .filter_map(move |len| self.term_ids.get(&stem[..len]).copied());
        longer.chain(shorter)
    }

    /// Stems of the words that can tell operations apart. Bare numbers in a task sentence are
    /// quantities ("every 5 minutes", "30 days"), not names.
    fn content_stems<'w>(&'w self, words: &'w [String]) -> impl Iterator<Item = String> + 'w {
        words
            .iter()
            .filter(|w| !text::is_stopword(w) && !w.chars().all(|c| c.is_ascii_digit()))
            .map(|w| self.analyzer.stem(w))
    }

    /// One query stem with its synonyms, each with the factor its matches count at.
    fn term_group(&self, stem: &str) -> Vec<(u32, f32)> {
        let mut group: Vec<(u32, f32)> = Vec::new();
        if let Some(&id) = self.term_ids.get(stem) {
            group.push((id, 1.0));
        }
        let related = self.related.get(stem).into_iter().flatten().copied();
        let kin = self.word_kin(stem).map(|id| (id, self.kin_weight));
        {
            // A synonym is evidence for the same concept, never stronger evidence than the
            // word itself: a rarer synonym ("domain" for "zone") must not outrank operations
            // named with the very word the query used.
            let own_idf = group.first().map(|&(id, _)| self.idf[id as usize]);
            for (id, factor) in related.chain(kin) {
                if group.iter().any(|&(have, _)| have == id) {
                    continue;
                }
                let factor = match own_idf {
                    Some(own) => {
                        factor * (self.synonym_idf_cap * own / self.idf[id as usize]).min(1.0)
                    }
                    None => factor,
                };
                group.push((id, factor));
            }
        }
        group
    }

    /// Second stage: among the best first-stage candidates, prefer operations whose identity
    /// (summary words) the query explains. "open a new issue" should find "Create an issue"
    /// before "Create issue type for an organization": both match every query word, but the
    /// second is about a "type" of an "organization" nobody asked for. Operations outside the
    /// candidates get the lowest factor, so the first stage's order between them holds.
    fn rerank_by_identity(&self, query_terms: &[u32], scores: &mut [f32]) {
        if self.identity_weight <= 0.0 || self.rerank_depth == 0 {
            return;
        }
        let mut candidates: Vec<(u32, f32)> = scores
            .iter()
            .enumerate()
            .filter(|&(_, &score)| score > 0.0)
            .map(|(op, &score)| (op as u32, score))
            .collect();
        let by_score = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if candidates.len() > self.rerank_depth {
            candidates.select_nth_unstable_by(self.rerank_depth - 1, by_score);
            candidates.truncate(self.rerank_depth);
        }
        let floor = 1.0 - self.identity_weight;
        for score in scores.iter_mut() {
            *score *= floor;
        }
        for (op, _) in candidates {
            let explained = self.identity_explained(op as usize, query_terms);
            scores[op as usize] *= (floor + self.identity_weight * explained) / floor.max(1e-6);
        }
    }

    /// The share (0..=1) of an operation's identity words the query uses; verbs the query does
    /// not use are left out rather than counted against it.
    fn identity_explained(&self, op: usize, query_terms: &[u32]) -> f32 {
        let mut total = 0f32;
        let mut matched = 0f32;
        for &(term, is_verb) in &self.identity[op] {
            let hit = query_terms.contains(&term);
            if is_verb && !hit {
                continue;
            }
            let weight = if self.identity_by_idf {
                self.idf[term as usize]
            } else {
                1.0
            };
            total += weight;
            if hit {
                matched += weight;
            }
        }
        if total == 0.0 { 1.0 } else { matched / total }
    }

    /// Verbs imply methods: DELETE operations rank lower unless a word asks to delete, and
    /// when the query's verbs ask for some methods, operations with other methods rank lower.
    /// An operation whose own summary uses one of the query's verbs (or a synonym: "Cancel a
    /// subscription" for "stop ...") is asked for whatever its method. Operations on the
    /// verb's `object` ([`Index::object_terms`]) rank higher.
    fn apply_method_intent(
        &self,
        words: &[String],
        query_terms: &[u32],
        object: &[u32],
        scores: &mut [f32],
    ) {
        let mut wanted: Vec<Method> = Vec::new();
        let mut wants_many = false;
        let mut mentions_tests = false;
        let (mut wants_create, mut wants_update) = (false, false);
        let verbed = self.verbed_resource(words);
        if self.controls_access(words) {
            wanted.extend([Method::Post, Method::Put]);
        }
        if verbed.is_some() {
            wanted.extend([Method::Post, Method::Put]);
            wants_create = true;
        }
        for word in words {
            let stem = self.analyzer.stem(word);
            if let Some(methods) = self.intent_words.get(&stem)
                && !text::is_past_participle(word)
            {
                wanted.extend(methods.iter().copied());
                wants_create = wants_create || self.create_words.contains(&stem);
                wants_update = wants_update || self.update_words.contains(&stem);
            }
            wants_many = wants_many || self.list_words.contains(&stem);
            mentions_tests = mentions_tests || self.test_words.contains(&stem);
        }
        for (op, (score, method)) in scores.iter_mut().zip(&self.methods).enumerate() {
            if verbed.is_some() && self.heads[op] == verbed && is_write(*method) {
                *score *= self.verbed_resource_factor;
            }
            if self.heads[op].is_some_and(|h| object.contains(&h)) {
                *score *= self.object_factor;
            }
            if wants_many && self.single_item[op] {
                *score *= self.single_item_factor;
            }
            if !mentions_tests && self.test_helper[op] {
                *score *= self.test_helper_factor;
            }
            // "create a secret" wants the collection's POST, not a write to one secret.
            if wants_create && !wants_update && self.on_item[op] && *method != Method::Get {
                *score *= self.create_on_item_factor;
            }
            if wanted.contains(method) || self.summary_verb_asked(op, query_terms) {
                continue;
            }
            if *method == Method::Delete {
                *score *= self.unasked_delete_factor;
            } else if !wanted.is_empty() {
                *score *= self.method_mismatch_factor;
            }
        }
    }

    /// The terms naming what the query's first verb acts on: the last content word of its
    /// object phrase, with its synonyms ("get an installation access *token* for my app",
    /// "why is my pod pending? show recent *events*"). A sentence that opens with no verb
    /// asking for a method has none; nor has one that blocks or allows (what is blocked is what
    /// a rule is about, not what the request makes).
    fn object_terms(&self, query: &str) -> Vec<u32> {
        if self.object_factor == 1.0 {
            return Vec::new();
        }
        let is_verb = |word: &str| {
            let stem = self.analyzer.stem(word);
            self.intent_words.contains_key(&stem) || self.access_verbs.contains(&stem)
        };
        let Some(phrase) = text::verb_objects(query, is_verb).into_iter().next() else {
            return Vec::new();
        };
        if self.access_verbs.contains(&self.analyzer.stem(&phrase[0])) {
            return Vec::new();
        }
        let Some(head) = phrase[1..]
            .iter()
            .rev()
            .find(|w| !text::is_stopword(w) && !w.chars().all(|c| c.is_ascii_digit()))
        else {
            return Vec::new();
        };
        self.term_group(&self.analyzer.stem(head))
            .into_iter()
            .map(|(term, _)| term)
            .collect()
    }

    /// The resource the query's first word names when it is used as a verb: "*charge* a card"
    /// asks to create a charge, "*fork* a repository" a fork, "*pin* a message" a pin. Only a
    /// word that asks for no method itself, and only when the spec writes to such a resource.
    fn verbed_resource(&self, words: &[String]) -> Option<u32> {
        if self.verbed_resource_factor <= 0.0 {
            return None;
        }
        let first = words.first()?;
        if text::is_stopword(first) {
            return None;
        }
        let stem = self.analyzer.stem(first);
        if self.intent_words.contains_key(&stem) {
            return None;
        }
        let term = *self.term_ids.get(stem.as_str())?;
        self.heads
            .iter()
            .zip(&self.methods)
            .any(|(&head, &method)| head == Some(term) && is_write(method))
            .then_some(term)
    }

    /// Whether the query asks to block, allow or ban: an access verb comes before any other
    /// verb asking for a method ("which IP ranges should my firewall allowlist" asks to read).
    fn controls_access(&self, verbs: &[String]) -> bool {
        if self.access_rule_weight <= 0.0 {
            return false;
        }
        verbs
            .iter()
            .map(|w| self.analyzer.stem(w))
            .find(|stem| self.access_verbs.contains(stem) || self.intent_words.contains_key(stem))
            .is_some_and(|stem| self.access_verbs.contains(&stem))
    }

    fn summary_verb_asked(&self, op: usize, query_terms: &[u32]) -> bool {
        self.identity[op]
            .first()
            .is_some_and(|&(term, is_verb)| is_verb && query_terms.contains(&term))
    }

    /// Debugging aid: each query term's contribution to one operation's score (before the
    /// coverage and prior multipliers).
    #[doc(hidden)]
    pub fn explain(&self, query: &str, operation: OperationId) -> Vec<(String, f32)> {
        let names: HashMap<u32, &str> = self.term_ids.iter().map(|(k, &v)| (v, &**k)).collect();
        let (groups, _) = self.query_groups(&text::split_negated(query));
        let mut out = Vec::new();
        for group in &groups {
            for &(term, factor) in group {
                if let Some(p) = self.postings[term as usize]
                    .iter()
                    .find(|p| p.operation as usize == operation.index())
                {
                    let tf = p.weight;
                    let value =
                        self.idf[term as usize] * factor * tf * (self.k1 + 1.0) / (tf + self.k1);
                    out.push((names.get(&term).unwrap_or(&"?").to_string(), value));
                }
            }
        }
        out
    }

    /// BM25F scores per operation. Within a group the best alternative counts, so a word and its
    /// synonym matching the same operation are not counted twice.
    fn score(&self, groups: &[Vec<(u32, f32)>], word_groups: usize) -> Vec<f32> {
        let n = self.len();
        let mut total = vec![0f32; n];
        let mut best = vec![0f32; n];
        // Per operation, the share of the query it matches: each word weighs its rarity (idf),
        // or 1 when `coverage_by_idf` is off.
        let mut matched = vec![0f32; n];
        let mut query_mass = 0f32;
        let mut touched: Vec<u32> = Vec::new();
        for (group_index, group) in groups.iter().enumerate() {
            let is_word = group_index < word_groups;
            let mass = if self.coverage_by_idf {
                group
                    .iter()
                    .map(|&(term, factor)| self.idf[term as usize] * factor)
                    .fold(0f32, f32::max)
            } else {
                1.0
            };
            if is_word {
                query_mass += mass;
            }
            for &(term, factor) in group {
                let idf = self.idf[term as usize] * factor;
                for posting in &self.postings[term as usize] {
                    let tf = posting.weight;
                    let value = idf * tf * (self.k1 + 1.0) / (tf + self.k1);
                    let slot = &mut best[posting.operation as usize];
                    if *slot == 0.0 {
                        touched.push(posting.operation);
                    }
                    if value > *slot {
                        *slot = value;
                    }
                }
            }
            for &op in &touched {
                total[op as usize] += best[op as usize];
                best[op as usize] = 0.0;
                if is_word {
                    matched[op as usize] += mass;
                }
            }
            touched.clear();
        }
        // Operations that match more of the query's words beat ones that match one rare word
        // strongly: a task sentence names several aspects of the operation it wants.
        let query_mass = query_mass.max(f32::EPSILON);
        for ((score, prior), &hits) in total.iter_mut().zip(&self.prior).zip(&matched) {
            let coverage = hits / query_mass;
            *score *= prior * (1.0 + self.coverage_bonus * coverage);
        }
        total
    }

    /// The best `options.limit` operations passing the filters, best first; ties keep document
    /// order so results are deterministic.
    fn top(&self, scores: &[f32], options: &SearchOptions) -> Vec<Hit> {
        let tag = options.tag.as_ref().map(|t| t.to_lowercase());
        let mut hits: Vec<(u32, f32)> = scores
            .iter()
            .enumerate()
            .filter(|&(op, &score)| {
                score > 0.0
                    && options.method.is_none_or(|m| self.methods[op] == m)
                    && tag
                        .as_ref()
                        .is_none_or(|t| self.tags[op].iter().any(|have| have == t))
            })
            .map(|(op, &score)| (op as u32, score))
            .collect();
        let by_rank = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if hits.len() > options.limit {
            hits.select_nth_unstable_by(options.limit - 1, by_rank);
            hits.truncate(options.limit);
        }
        hits.sort_unstable_by(by_rank);
        hits.into_iter()
            .map(|(op, score)| Hit {
                operation: self.ids[op as usize],
                score: f64::from(score),
            })
            .collect()
    }
}

/// Refuses a query that is empty, too long, or without a word to search for.
fn check_query(query: &str) -> Result<(), SearchError> {
    if query.trim().is_empty() {
        return Err(SearchError::EmptyQuery);
    }
    if query.len() > MAX_QUERY_BYTES {
        return Err(SearchError::QueryTooLong {
            bytes: query.len(),
            limit: MAX_QUERY_BYTES,
        });
    }
    if !query.chars().any(char::is_alphanumeric) {
        return Err(SearchError::NoSearchableWords);
    }
    Ok(())
}

/// Identity words taken from a summary or description opening: its first words say what the
/// operation is; a long first sentence goes on to conditions and details.
const MAX_IDENTITY_TERMS: usize = 8;

/// Per operation, its identity terms (see [`Index::identity`]): the summary's terms, or the
/// name's when there is no summary, deduplicated, each marked as a verb or not.
fn identity_terms(
    documents: &[Document],
    term_ids: &HashMap<Box<str>, u32>,
    intent_words: &HashMap<String, Vec<Method>>,
    analyzer: &Analyzer,
) -> Vec<Vec<(u32, bool)>> {
    let mut verbs: HashSet<String> = intent_words.keys().cloned().collect();
    for method in [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
    ] {
        for collection in [true, false] {
            for word in vocabulary::method_intents(method, collection) {
                verbs.insert(analyzer.stem(word));
            }
        }
    }
    documents
        .iter()
        .map(|doc| {
            // Without a summary, the description's first words say what the operation does
            // (Stripe: "Cancels a customer's subscription ..."); generated names often carry
            // path noise ("DeleteSubscriptionsSubscriptionExposedId").
            let source = [Field::Summary, Field::Opening, Field::Name]
                .iter()
                .map(|&field| &doc.fields[field as usize])
                .find(|terms| !terms.is_empty())
                .map_or(&[][..], |terms| {
                    &terms[..terms.len().min(MAX_IDENTITY_TERMS)]
                });
            let mut terms: Vec<(u32, bool)> = Vec::new();
            for term in source {
                let Some(&id) = term_ids.get(term.as_str()) else {
                    continue;
                };
                if !terms.iter().any(|&(t, _)| t == id) {
                    terms.push((id, verbs.contains(term)));
                }
            }
            terms
        })
        .collect()
}

/// Per operation: whether it is a `PUT` to an item path (ending in a parameter) whose collection
/// has no `POST`, so the API creates items by putting them (an upsert).
fn upserts(spec: &Spec) -> Vec<bool> {
    let posted: HashSet<&str> = spec
        .operations
        .iter()
        .filter(|op| op.method == Method::Post)
        .map(|op| op.path.trim_end_matches('/'))
        .collect();
    spec.operations
        .iter()
        .map(|op| {
            let path = op.path.trim_end_matches('/');
            op.method == Method::Put
                && path.ends_with('}')
                && path
                    .rsplit_once('/')
                    .is_some_and(|(collection, _)| !posted.contains(collection))
        })
        .collect()
}

/// Whether a method creates or acts (what a resource named as a verb asks for).
fn is_write(method: Method) -> bool {
    matches!(method, Method::Post | Method::Put)
}

/// Whether an operation is deprecated: flagged so, or saying so near the start of its summary or
/// description (Kubernetes marks its `watch` operations only in prose).
fn is_deprecated(op: &Operation) -> bool {
    let says_so = |text: &Option<String>| {
        text.as_deref().is_some_and(|t| {
            let head = text::prefix_chars(t, 200).to_lowercase();
            head.starts_with("deprecated")
                || head.contains(" deprecated:")
                || head.contains("(deprecated)")
        })
    };
    op.deprecated || says_so(&op.summary) || says_so(&op.description)
}

/// Whether an operation exists for testing an integration (`/v1/test_helpers/...`).
fn is_test_helper(op: &Operation) -> bool {
    op.path.split('/').any(|segment| {
        let lower = segment.to_ascii_lowercase();
        lower.starts_with("test_helper")
            || lower.starts_with("test-helper")
            || lower == "testhelpers"
    })
}

/// Stemmed intent verbs and the methods each asks for.
fn intent_words(analyzer: &Analyzer) -> HashMap<String, Vec<Method>> {
    const DELETE: &[Method] = &[Method::Delete];
    const CREATE: &[Method] = &[Method::Post, Method::Put];
    const UPDATE: &[Method] = &[Method::Put, Method::Patch, Method::Post];
    const READ: &[Method] = &[Method::Get, Method::Head];
    let lists: [(&[&str], &'static [Method]); 4] = [
        (vocabulary::DELETE_WORDS, DELETE),
        (vocabulary::CREATE_WORDS, CREATE),
        (vocabulary::UPDATE_WORDS, UPDATE),
        (vocabulary::READ_WORDS, READ),
    ];
    let mut out: HashMap<String, Vec<Method>> = HashMap::new();
    for (words, methods) in lists {
        for word in words {
            let entry = out.entry(analyzer.stem(word)).or_default();
            entry.extend(
                methods
                    .iter()
                    .filter(|m| !entry.contains(m))
                    .collect::<Vec<_>>(),
            );
        }
    }
    out
}

/// Words that may stand between a verb and the adjective after it ("list *all the* open ...").
const DETERMINERS: &[&str] = &[
    "the", "a", "an", "all", "every", "each", "my", "our", "your", "their", "its", "some", "any",
];

/// The single words standing for multi-word phrases of the query ("turn off" → disable).
/// "who changed/deleted/created ..." asks for a history of actions: an audit log.
fn phrase_words(words: &[String]) -> impl Iterator<Item = &'static str> + '_ {
    let phrases = vocabulary::PHRASES
        .iter()
        .filter_map(move |(phrase, word)| {
            words
                .windows(phrase.len())
                .any(|w| w.iter().zip(phrase.iter()).all(|(a, b)| a == b))
                .then_some(*word)
        });
    let who_did = words
        .windows(2)
        .any(|w| w[0] == "who" && w[1].len() > 4 && w[1].ends_with("ed"))
        .then_some("audit");
    phrases.chain(who_did)
}

/// The single-word terms (bigrams have a space) in byte order.
fn sorted_words(term_ids: &HashMap<Box<str>, u32>) -> Vec<(Box<str>, u32)> {
    let mut words: Vec<(Box<str>, u32)> = term_ids
        .iter()
        .filter(|(term, _)| !term.contains(' '))
        .map(|(term, &id)| (term.clone(), id))
        .collect();
    words.sort_unstable();
    words
}

/// For every word of a synonym group (stemmed), the indexed terms of the other words of its
/// groups. Words the spec never uses are keys too, so `remove` finds `delete` operations.
fn related_terms(
    analyzer: &Analyzer,
    term_ids: &HashMap<Box<str>, u32>,
    synonym_weight: f32,
) -> HashMap<Box<str>, Vec<(u32, f32)>> {
    let mut related: HashMap<Box<str>, Vec<(u32, f32)>> = HashMap::new();
    for group in SYNONYM_GROUPS {
        let stems: Vec<String> = group.iter().map(|w| analyzer.stem(w)).collect();
        for stem in &stems {
            let own = term_ids.get(stem.as_str()).copied();
            let list = related.entry(stem.as_str().into()).or_default();
            for other in &stems {
                let Some(&id) = term_ids.get(other.as_str()) else {
                    continue;
                };
                if Some(id) != own && !list.iter().any(|(t, _)| *t == id) {
                    list.push((id, synonym_weight));
                }
            }
        }
    }
    related.retain(|_, list| !list.is_empty());
    related
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_together_words_split_into_known_parts() {
        let known: HashSet<String> = ["health", "check", "role", "binding", "network", "policy"]
            .iter()
            .map(|w| w.to_string())
            .collect();
        assert_eq!(
            compound_parts("healthchecks rolebindings", &known),
            "health checks role bindings "
        );
        assert_eq!(compound_parts("networkpolicy", &known), "network policy ");
        assert_eq!(compound_parts("unknownword short", &known), "");
        assert_eq!(compound_parts("ünïcödéwörds", &known), "");
    }

    #[test]
    fn phrases_and_who_did_questions_map_to_words() {
        let words = |s: &str| -> Vec<String> { s.split(' ').map(str::to_string).collect() };
        let found: Vec<&str> = phrase_words(&words("turn off the nightly build")).collect();
        assert_eq!(found, ["disable"]);
        let found: Vec<&str> = phrase_words(&words("who deleted the channel")).collect();
        assert_eq!(found, ["audit"]);
        assert_eq!(phrase_words(&words("who is online")).count(), 0);
    }

    #[test]
    fn tuning_overrides_parse_and_reject_unknown_knobs() {
        let tuned = Tuning::default()
            .with_overrides("k1=1.5, w.summary=4")
            .expect("valid overrides");
        assert_eq!(tuned.k1, 1.5);
        assert_eq!(tuned.field_weights[Field::Summary as usize], 4.0);
        assert!(Tuning::default().with_overrides("nope=1").is_err());
        assert!(Tuning::default().with_overrides("k1=abc").is_err());
        assert!(Tuning::default().with_overrides("k1").is_err());
    }
}
