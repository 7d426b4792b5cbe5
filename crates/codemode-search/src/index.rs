//! The inverted index: operations turned into weighted fields at build time, BM25F term weights
//! precomputed into postings, and a query path that only adds up floats.

use std::collections::HashMap;

use codemode_spec::{Method, Operation, Spec};
use serde_json::Value;

use crate::text::{self, Analyzer};
use crate::vocabulary::{self, SYNONYM_GROUPS, SYNONYM_WEIGHT};
use crate::{Hit, SearchError, SearchOptions};

/// Longest query accepted, in bytes. Task sentences are short; anything longer is a mistake
/// (a pasted document) and would only cost time.
pub const MAX_QUERY_BYTES: usize = 4096;

/// BM25 saturation: how quickly repeated matches stop adding score.
const K1: f32 = 1.2;

/// Weight of a pair of adjacent query words found adjacent in a name, path or summary.
const BIGRAM_WEIGHT: f32 = 0.6;

/// Score multiplier for deprecated operations: still findable, but behind their replacements.
const DEPRECATED_FACTOR: f32 = 0.6;

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
}

impl Field {
    const COUNT: usize = 10;

    fn weight(self) -> f32 {
        match self {
            Field::Name => 2.0,
            Field::Path => 1.5,
            Field::Resource => 1.5,
            Field::Method => 0.8,
            Field::Summary => 2.5,
            Field::Opening => 1.5,
            Field::Description => 0.4,
            Field::Tags => 1.0,
            Field::Params => 0.3,
            Field::Body => 0.25,
        }
    }

    /// BM25 `b`: how much a long field is discounted.
    fn length_normalization(self) -> f32 {
        match self {
            Field::Method | Field::Resource | Field::Tags => 0.0,
            Field::Description | Field::Params | Field::Body => 0.5,
            _ => 0.75,
        }
    }
}

/// Characters of the description indexed: the opening, then the rest of this prefix.
const DESCRIPTION_CHARS: usize = 600;
const OPENING_CHARS: usize = 240;
/// Request-body properties indexed per operation (huge bodies would drown the other fields).
const MAX_BODY_PROPERTIES: usize = 60;

#[derive(Debug, Clone, Copy)]
struct Posting {
    operation: u32,
    weight: f32,
}

/// A search index over one spec's operations. Build once, query many times; it is immutable,
/// so it can be shared between threads.
pub struct Index {
    analyzer: Analyzer,
    term_ids: HashMap<Box<str>, u32>,
    /// Per term: the operations containing it, with the BM25F pseudo term frequency.
    postings: Vec<Vec<Posting>>,
    idf: Vec<f32>,
    /// Per stemmed word (indexed or not): related indexed terms (synonyms) and their weight.
    related: HashMap<Box<str>, Vec<(u32, f32)>>,
    methods: Vec<Method>,
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
];

fn bigram(a: &str, b: &str) -> String {
    format!("{a} {b}")
}

impl Document {
    fn new(spec: &Spec, op: &Operation, analyzer: &Analyzer) -> Document {
        let mut fields: [Vec<String>; Field::COUNT] = Default::default();
        let mut push = |field: Field, text: &str| {
            fields[field as usize].extend(analyzer.terms(text));
        };

        push(
            Field::Name,
            op.operation_id.as_deref().unwrap_or(op.name.as_str()),
        );

        let literal_segments: Vec<&str> = op
            .path
            .split('/')
            .filter(|s| !s.is_empty() && !s.contains('{'))
            .collect();
        for segment in &literal_segments {
            push(Field::Path, segment);
        }
        if let Some(last) = literal_segments.last() {
            push(Field::Resource, last);
        }
        for segment in op.path.split('/').filter(|s| s.contains('{')) {
            push(Field::Params, segment);
        }

        let collection = !op.path.trim_end_matches('/').ends_with('}');
        for intent in vocabulary::method_intents(op.method, collection) {
            push(Field::Method, intent);
        }

        if let Some(summary) = &op.summary {
            push(Field::Summary, &text::strip_markup(summary));
        }
        if let Some(description) = &op.description {
            let cleaned = text::strip_markup(text::prefix_chars(description, DESCRIPTION_CHARS * 2));
            let cleaned = cleaned.trim();
            let opening = text::opening(cleaned, OPENING_CHARS);
            push(Field::Opening, opening);
            let rest = cleaned.get(opening.len()..).unwrap_or("");
            push(Field::Description, text::prefix_chars(rest, DESCRIPTION_CHARS));
        }
        for tag in &op.tags {
            push(Field::Tags, tag);
        }
        for param in &op.parameters {
            push(Field::Params, &param.name);
        }
        for name in body_property_names(spec, op) {
            push(Field::Body, &name);
        }

        let mut bigrams = Vec::new();
        for field in [Field::Name, Field::Path, Field::Summary, Field::Opening] {
            for pair in fields[field as usize].windows(2) {
                bigrams.push(bigram(&pair[0], &pair[1]));
            }
        }
        bigrams.sort_unstable();
        bigrams.dedup();
        Document { fields, bigrams }
    }
}

/// Top-level property names of the request body's preferred schema (following `$ref`s and one
/// level of `allOf`/`oneOf`/`anyOf`).
fn body_property_names(spec: &Spec, op: &Operation) -> Vec<String> {
    let Some(media) = op.request_body.as_ref().and_then(|b| b.preferred()) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    let root = spec.deref_schema(&media.schema);
    collect_properties(spec, root, &mut names);
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = root.get(key).and_then(Value::as_array) {
            for part in parts {
                collect_properties(spec, spec.deref_schema(part), &mut names);
            }
        }
    }
    names.truncate(MAX_BODY_PROPERTIES);
    names
}

fn collect_properties(_spec: &Spec, schema: &Value, names: &mut Vec<String>) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        names.extend(props.keys().cloned());
    }
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
        let analyzer = Analyzer::new();
        let documents: Vec<Document> = spec
            .operations
            .iter()
            .map(|op| Document::new(spec, op, &analyzer))
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
                let b = field.length_normalization();
                let norm = 1.0 - b + b * terms.len() as f32 / average_length[field as usize];
                let per_occurrence = field.weight() / norm;
                for term in terms {
                    *weights.entry(builder.term_id(term)).or_default() += per_occurrence;
                }
            }
            for pair in &doc.bigrams {
                *weights.entry(builder.term_id(pair)).or_default() += BIGRAM_WEIGHT;
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
        let related = related_terms(&analyzer, &builder.term_ids);

        Index {
            analyzer,
            term_ids: builder.term_ids,
            postings: builder.postings,
            idf,
            related,
            methods: spec.operations.iter().map(|op| op.method).collect(),
            tags: spec
                .operations
                .iter()
                .map(|op| op.tags.iter().map(|t| t.to_lowercase()).collect())
                .collect(),
            prior: spec
                .operations
                .iter()
                .map(|op| if op.deprecated { DEPRECATED_FACTOR } else { 1.0 })
                .collect(),
        }
    }

    /// Number of operations indexed.
    pub fn len(&self) -> usize {
        self.methods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.methods.is_empty()
    }

    /// Approximate heap memory held by the index, in bytes.
    pub fn memory_bytes(&self) -> usize {
        let postings: usize = self
            .postings
            .iter()
            .map(|p| p.capacity() * std::mem::size_of::<Posting>() + std::mem::size_of::<Vec<Posting>>())
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
        postings + terms + related + tags + self.idf.capacity() * 4 + self.prior.capacity() * 5
    }

    /// Ranked hits, best first, at most `options.limit`.
    pub fn search(&self, query: &str, options: &SearchOptions) -> Result<Vec<Hit>, SearchError> {
        if query.trim().is_empty() {
            return Err(SearchError::EmptyQuery);
        }
        if query.len() > MAX_QUERY_BYTES {
            return Err(SearchError::QueryTooLong {
                bytes: query.len(),
                limit: MAX_QUERY_BYTES,
            });
        }
        let groups = self.query_groups(query);
        if groups.is_empty() {
            return Err(SearchError::NoSearchableWords);
        }
        if options.limit == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        let scores = self.score(&groups);
        Ok(self.top(&scores, options))
    }

    /// The query as groups of alternatives: each query word with its synonyms, and each pair of
    /// adjacent words. Words unknown to the index are dropped (they cannot change the ranking).
    fn query_groups(&self, query: &str) -> Vec<Vec<(u32, f32)>> {
        let mut stems: Vec<String> = Vec::new();
        text::for_each_word(query, |word| {
            if !text::is_stopword(word) {
                stems.push(self.analyzer.stem(word));
            }
        });
        let mut groups: Vec<Vec<(u32, f32)>> = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for stem in &stems {
            if seen.contains(&stem.as_str()) {
                continue;
            }
            seen.push(stem);
            let mut group: Vec<(u32, f32)> = Vec::new();
            if let Some(&id) = self.term_ids.get(stem.as_str()) {
                group.push((id, 1.0));
            }
            if let Some(related) = self.related.get(stem.as_str()) {
                group.extend(related.iter().copied());
            }
            if !group.is_empty() {
                groups.push(group);
            }
        }
        for pair in stems.windows(2) {
            if let Some(&id) = self.term_ids.get(bigram(&pair[0], &pair[1]).as_str()) {
                groups.push(vec![(id, 1.0)]);
            }
        }
        groups
    }

    /// BM25F scores per operation. Within a group the best alternative counts, so a word and its
    /// synonym matching the same operation are not counted twice.
    fn score(&self, groups: &[Vec<(u32, f32)>]) -> Vec<f32> {
        let n = self.len();
        let mut total = vec![0f32; n];
        let mut best = vec![0f32; n];
        let mut touched: Vec<u32> = Vec::new();
        for group in groups {
            for &(term, factor) in group {
                let idf = self.idf[term as usize] * factor;
                for posting in &self.postings[term as usize] {
                    let tf = posting.weight;
                    let value = idf * tf * (K1 + 1.0) / (tf + K1);
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
            }
            touched.clear();
        }
        for (score, prior) in total.iter_mut().zip(&self.prior) {
            *score *= prior;
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
                operation: op as usize,
                score: f64::from(score),
            })
            .collect()
    }
}

/// For every word of a synonym group (stemmed), the indexed terms of the other words of its
/// groups. Words the spec never uses are keys too, so `remove` finds `delete` operations.
fn related_terms(
    analyzer: &Analyzer,
    term_ids: &HashMap<Box<str>, u32>,
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
                    list.push((id, SYNONYM_WEIGHT));
                }
            }
        }
    }
    related.retain(|_, list| !list.is_empty());
    related
}
