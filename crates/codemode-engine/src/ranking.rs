//! What a search query asks for, across every API of the engine: the operations and types it
//! names, and the ranking of each step of its task, each API's ranking merged into one.
//!
//! Each API keeps its own index (its words weigh what they weigh in its own spec); the merge puts
//! the hits of all of them on one scale ([`comparable_score`]) so that a query about one API is
//! not drowned by another, larger one. Must not know how answers are worded (`answer.rs` does).

use codemode_search::{Hit, SearchOptions};

use crate::apis::Apis;
use crate::spec::OperationId;
use crate::{EngineError, answer, mentions};

/// Most names a query is read as (past that it is a sentence, or a pasted list).
pub(crate) const MAX_NAMED: usize = 20;

/// One operation of one API.
pub(crate) type Found = (usize, OperationId);

/// A ranked operation of one API.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JointHit {
    pub api: usize,
    pub operation: OperationId,
    /// On the scale shared by every API ([`comparable_score`]).
    pub score: f64,
}

/// The ranking of one step of a task, every API's hits merged, best first.
pub(crate) struct JointStep {
    /// The step as the task wrote it.
    pub written: String,
    pub hits: Vec<JointHit>,
}

/// The parts of a query that could be names: separated by commas or white space.
pub(crate) fn query_names(query: &str) -> impl Iterator<Item = &str> {
    query
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
}

/// The operations a query names, when every part of it is a name (an operation name, an
/// operationId, `METHOD /path`, each optionally qualified by its API: `stripe.getCharges`).
pub(crate) fn named_operations(apis: &Apis, query: &str) -> Option<Vec<Found>> {
    if let Some(found) = apis.find(query.trim()) {
        return Some(vec![found]);
    }
    let mut named = Vec::new();
    for part in query_names(query).take(MAX_NAMED + 1) {
        let found = apis.find(part)?;
        if !named.contains(&found) {
            named.push(found);
        }
    }
    (!named.is_empty() && named.len() <= MAX_NAMED).then_some(named)
}

/// The schemas a query names, when it names only types (`"Refund"`, `"DnsRecordsBase, Zone"`,
/// `"stripe.Customer"`): each with its API. An unqualified name is looked up in every API and
/// declared from each that has it. An answer past its budget leaves types at `unknown` and says to
/// search for their names; this is where that search lands.
pub(crate) fn named_types(apis: &Apis, query: &str) -> Option<Vec<(usize, String)>> {
    let names: Vec<&str> = query_names(query).take(MAX_NAMED + 1).collect();
    if names.is_empty() || names.len() > MAX_NAMED {
        return None;
    }
    let mut schemas: Vec<(usize, String)> = Vec::new();
    for name in names {
        let (only, bare) = split_api(apis, name.strip_prefix("api.").unwrap_or(name));
        // Type names are PascalCase; a lowercase word ("refund") is a task, even where the spec
        // has a schema of that name.
        if !bare.starts_with(|c: char| c.is_ascii_uppercase()) {
            return None;
        }
        let mut found = false;
        for (index, api) in apis.list().iter().enumerate() {
            if only.is_some_and(|only| only != index) {
                continue;
            }
            if let Some(schema) = api.catalog.type_names().schema_named(bare) {
                found = true;
                let schema = (index, schema.to_string());
                if !schemas.contains(&schema) {
                    schemas.push(schema);
                }
            }
        }
        if !found {
            return None;
        }
    }
    Some(schemas)
}

/// `stripe.Customer` → (the index of `stripe`, `Customer`); a name with no API prefix, or whose
/// prefix names no API, is unqualified.
fn split_api<'q>(apis: &Apis, name: &'q str) -> (Option<usize>, &'q str) {
    match name.split_once('.') {
        Some((api, rest)) if apis.namespaced() => match apis.index_of(Some(api)) {
            Some(index) => (Some(index), rest),
            None => (None, name),
        },
        _ => (None, name),
    }
}

/// What a sentence names, in every API: the operations and types, and the rest of the sentence
/// to rank.
pub(crate) struct JointMentions {
    pub operations: Vec<Found>,
    pub types: Vec<(usize, String)>,
    pub rest: String,
}

/// Operation and type names inside a task sentence, looked up in each API in turn (a name one
/// API takes is not offered to the next). With several APIs, a name may carry its API
/// (`stripe.getCharges`, `api.stripe.getCharges`).
pub(crate) fn mentions(apis: &Apis, query: &str) -> JointMentions {
    let mut joint = JointMentions {
        operations: Vec::new(),
        types: Vec::new(),
        rest: query.to_string(),
    };
    for (index, api) in apis.list().iter().enumerate() {
        let text = match apis.namespace(index) {
            Some(name) => unqualify(&joint.rest, name),
            None => joint.rest.clone(),
        };
        let found = mentions::find(&api.spec, api.catalog.type_names(), &text);
        if found.operations.is_empty() && found.types.is_empty() {
            continue;
        }
        joint
            .operations
            .extend(found.operations.into_iter().map(|id| (index, id)));
        joint
            .types
            .extend(found.types.into_iter().map(|name| (index, name)));
        joint.rest = found.rest;
    }
    joint
}

/// The sentence with `api.NAME.` and `NAME.` taken off the front of each word: what API `NAME`'s
/// own lookup understands.
fn unqualify(text: &str, name: &str) -> String {
    let long = format!("api.{name}.");
    let short = format!("{name}.");
    text.split(' ')
        .map(|word| {
            word.strip_prefix(long.as_str())
                .or_else(|| word.strip_prefix(short.as_str()))
                .filter(|rest| !rest.is_empty())
                .unwrap_or(word)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The ranking of each step of a task (one step, the whole query, for most queries), every
/// API's hits merged by [`comparable_score`], at most `limit` per step.
/// `only`: rank that API alone (a search narrowed by its `api`).
pub(crate) fn steps(
    apis: &Apis,
    only: Option<usize>,
    query: &str,
    limit: usize,
) -> Result<Vec<JointStep>, EngineError> {
    let options = SearchOptions {
        limit,
        ..Default::default()
    };
    let mut per_api = Vec::with_capacity(apis.list().len());
    for (index, api) in apis.list().iter().enumerate() {
        let steps = if only.is_none_or(|only| only == index) {
            api.index
                .search_steps(query, &options)
                .map_err(EngineError::Search)?
        } else {
            Vec::new()
        };
        per_api.push(steps);
    }
    let Some(splitting) = per_api.iter().find(|steps| !steps.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut joint: Vec<JointStep> = Vec::new();
    // Every API splits the same sentence the same way: the steps line up.
    for (position, step) in splitting.iter().enumerate() {
        let rankings: Vec<&[Hit]> = per_api
            .iter()
            .map(|steps| steps.get(position).map_or(&[][..], |s| &s.hits[..]))
            .collect();
        joint.push(JointStep {
            written: step.written.clone(),
            hits: merge(apis, only, &step.clause, &rankings),
        });
    }
    for step in &mut joint {
        step.hits.truncate(limit);
    }
    Ok(joint)
}

/// The ranking alone, every API merged, at most `limit`.
pub(crate) fn ranked(
    apis: &Apis,
    only: Option<usize>,
    query: &str,
    limit: usize,
) -> Result<Vec<JointHit>, EngineError> {
    let options = SearchOptions {
        limit,
        ..Default::default()
    };
    let mut rankings = Vec::with_capacity(apis.list().len());
    for (index, api) in apis.list().iter().enumerate() {
        if only.is_some_and(|only| only != index) {
            rankings.push(Vec::new());
            continue;
        }
        rankings.push(
            api.index
                .search(query, &options)
                .map_err(EngineError::Search)?,
        );
    }
    let rankings: Vec<&[Hit]> = rankings.iter().map(Vec::as_slice).collect();
    let mut hits = merge(apis, only, query, &rankings);
    hits.truncate(limit);
    Ok(hits)
}

/// Every API's ranking of `query` (in the engine's order) as one list on one scale, best first.
/// Narrowed to one API (`only`), that API's ranking as it is.
fn merge(apis: &Apis, only: Option<usize>, query: &str, rankings: &[&[Hit]]) -> Vec<JointHit> {
    let relevance = match only {
        Some(_) => Relevance::default(),
        None => api_weights(apis, query),
    };
    let mut hits: Vec<JointHit> = Vec::new();
    for (api, ranking) in rankings.iter().enumerate() {
        let weight = relevance.weights.get(api).copied();
        if weight == Some(0.0) {
            continue;
        }
        hits.extend(ranking.iter().map(|hit| JointHit {
            api,
            operation: hit.operation,
            score: comparable_score(weight, hit.score) / idf_scale(apis, api),
        }));
    }
    best_first(&mut hits);
    promote_owners(&mut hits, &relevance.owns);
    hits
}

/// Moves the best hit of each API that owns a word of the query into the first
/// [`OWNERS_WITHIN`] places, keeping everything else in order: the first such API's at the last
/// of those places, the next one's just above it, and so on.
fn promote_owners(hits: &mut Vec<JointHit>, owns: &[bool]) {
    let within = OWNERS_WITHIN.min(hits.len());
    let mut promoted = 0;
    for (api, _) in owns.iter().enumerate().filter(|(_, owns)| **owns) {
        let Some(best) = hits.iter().position(|hit| hit.api == api) else {
            continue;
        };
        if best < within {
            continue;
        }
        let hit = hits.remove(best);
        hits.insert(within.saturating_sub(1 + promoted), hit);
        promoted += 1;
    }
}

/// How much each API is about what `query` asks, 0..=1; `None` with one API.
///
/// Each word the query asks for weighs its rarity across all the APIs' operations together (its
/// idf over the union, so "pet" outweighs "list"), and an API is credited with a word by how
/// much of it is about it compared with the API most about it: the square root of its share of
/// operations holding the word over the largest share any API has (a large spec holds almost
/// any word somewhere, in a few of its operations). Words no API holds say nothing.
fn api_weights(apis: &Apis, query: &str) -> Relevance {
    if !apis.namespaced() {
        return Relevance::default();
    }
    let stats: Vec<Vec<codemode_search::TermStats>> = apis
        .list()
        .iter()
        .map(|api| api.index.term_stats(query))
        .collect();
    let sizes: Vec<f64> = apis
        .list()
        .iter()
        .map(|api| api.index.len().max(1) as f64)
        .collect();
    let total: f64 = sizes.iter().sum();
    let words = stats.first().map_or(0, Vec::len);
    let named = named_apis(apis, query);
    let mut weights = vec![0f64; stats.len()];
    let mut owns = vec![false; stats.len()];
    let mut mass = 0f64;
    for word in 0..words {
        let df: f64 = stats.iter().map(|s| f64::from(s[word].operations)).sum();
        if df == 0.0 {
            continue;
        }
        let idf = (1.0 + (total - df + 0.5) / (df + 0.5)).ln();
        mass += idf;
        let shares: Vec<f64> = stats
            .iter()
            .zip(&sizes)
            .map(|(s, size)| f64::from(s[word].operations) / size)
            .collect();
        let top_share = shares.iter().copied().fold(0.0, f64::max);
        for (api, share) in shares.iter().enumerate() {
            let credit = (share / top_share).sqrt();
            weights[api] += idf * credit;
        }
        // The API that is most about a word few operations anywhere hold owns it.
        if idf >= OWNED_WORD_IDF
            && let Some(owner) = owner_of(&shares)
        {
            owns[owner] = true;
        }
    }
    if mass > 0.0 {
        weights.iter_mut().for_each(|w| *w /= mass);
    }
    // "create a GitHub issue": a query that names APIs is about those.
    if !named.is_empty() {
        for (api, weight) in weights.iter_mut().enumerate() {
            if !named.contains(&api) {
                *weight = 0.0;
                owns[api] = false;
            }
        }
    }
    Relevance { weights, owns }
}

/// How much each API is about a query ([`api_weights`]).
#[derive(Default)]
struct Relevance {
    /// Per API, 0..=1; empty with one API.
    weights: Vec<f64>,
    /// Per API: it is the one most about some word of the query that few operations hold
    /// ("text" for an SMS API beside a payments API). Its best operation belongs near the top
    /// even when other APIs explain more of the query: a task that spans APIs in one clause
    /// ("text the owner of every unpaid booking") needs an operation of each.
    owns: Vec<bool>,
}

/// Idf over all APIs' operations above which a word is specific enough to be owned: held by at
/// most about one operation in eight. With [`OWNER_DOMINANCE`], measured on the dev set (GitHub,
/// Stripe and Cloudflare together, and all eight dev APIs): idf 2 to 3 and dominance 5 to 50 were
/// within one query of each other; without dominance, promoting owners cost three queries.
const OWNED_WORD_IDF: f64 = 2.0;

/// How many times more of its operations the owner of a word must hold it than any other API.
const OWNER_DOMINANCE: f64 = 5.0;

/// The API whose operations hold a word [`OWNER_DOMINANCE`] times more often than any other's.
fn owner_of(shares: &[f64]) -> Option<usize> {
    let owner = (0..shares.len()).max_by(|&a, &b| shares[a].total_cmp(&shares[b]))?;
    let second = shares
        .iter()
        .enumerate()
        .filter(|&(api, _)| api != owner)
        .map(|(_, share)| *share)
        .fold(0.0, f64::max);
    (shares[owner] > 0.0 && shares[owner] >= OWNER_DOMINANCE * second).then_some(owner)
}

/// The first places of a merged ranking, where the best operation of every API that owns a
/// word of the query is moved if it ranked below.
const OWNERS_WITHIN: usize = 5;

/// Tried instead of the relative share (dev set, GitHub + Stripe + Cloudflare / all eight):
/// crediting a word fully once 10% of an API's operations hold it (0.003–0.1 tried) gave recall@5
/// 0.767 / 0.706 against 0.778 / 0.713; the relative share without the square root 0.778 / 0.694.
/// How sharply an API's weight separates its scores from other APIs' (the weight's exponent).
/// 2 was best of 1, 2, 3, 5 and 8 on both dev runs; higher lets one word decide the API.
const WEIGHT_EXPONENT: i32 = 2;

/// The APIs a query names by their configured name, as a word of its own ("GitHub", "stripe's").
fn named_apis(apis: &Apis, query: &str) -> Vec<usize> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    apis.list()
        .iter()
        .enumerate()
        .filter(|(_, api)| {
            api.name
                .as_deref()
                .is_some_and(|name| words.iter().any(|w| w.eq_ignore_ascii_case(name)))
        })
        .map(|(index, _)| index)
        .collect()
}

/// Best first; between equal scores, the API configured first, then each API's own order (the
/// sort is stable).
fn best_first(hits: &mut [JointHit]) {
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.api.cmp(&b.api)));
}

/// A hit's score on the scale every API shares: its own score times how much its API is about
/// the query, to the [`WEIGHT_EXPONENT`]. With one API (`weight` `None`), the score itself.
///
/// Tried and dropped (dev set, GitHub + Stripe + Cloudflare): the score relative to its API's
/// best (CORI-style min-max) times the weight: recall@5 0.68 against 0.73, since it throws away
/// how well the best of each API matches.
fn comparable_score(weight: Option<f64>, score: f64) -> f64 {
    match weight {
        Some(weight) => score * weight.powi(WEIGHT_EXPONENT),
        None => score,
    }
}

/// How large an API's scores run for its size: BM25's idf grows with the log of the number of
/// operations, so a 3-operation API's best match scores a fraction of a 600-operation API's
/// passing one. Scores are divided by the square root of that log: measured on the dev set
/// (GitHub + Stripe + Cloudflare / all eight), no division gave recall@5 0.778 / 0.713, the log
/// itself 0.778 / 0.706 with hit@1 0.494, its square root 0.778 / 0.706 with hit@1 0.512; and on
/// a private 3-operation API beside Stripe, only the divided scores kept its third operation
/// (the one the task needed) in the top five.
fn idf_scale(apis: &Apis, api: usize) -> f64 {
    let operations = apis.get(api).index.len();
    if apis.namespaced() && operations > 0 {
        (1.0 + operations as f64).ln().sqrt()
    } else {
        1.0
    }
}

/// Adds the ranked operations of every step after `candidates` (the operations the query
/// named): the best of each step first, as primaries in the task's order, then the rest of
/// the steps' rankings taken in turns.
pub(crate) fn merge_steps(candidates: &mut Vec<answer::Candidate>, steps: &[JointStep]) {
    let multi_step = steps.len() > 1;
    let listed = |candidates: &[answer::Candidate], hit: &JointHit| {
        candidates
            .iter()
            .any(|c| c.api == hit.api && c.operation == hit.operation)
    };
    // Each step's best operation that is not already there (two steps may rank the same
    // operation first; the second then gets its next best).
    for step in steps {
        if let Some(best) = step.hits.iter().find(|hit| !listed(candidates, hit)) {
            candidates.push(answer::Candidate {
                primary: true,
                step: multi_step.then(|| step.written.clone()),
                ..answer::Candidate::ranked(best.api, best.operation, best.score)
            });
        }
    }
    let longest = steps.iter().map(|s| s.hits.len()).max().unwrap_or(0);
    for rank in 1..longest {
        for hit in steps.iter().filter_map(|step| step.hits.get(rank)) {
            if !listed(candidates, hit) {
                candidates.push(answer::Candidate::ranked(hit.api, hit.operation, hit.score));
            }
        }
    }
}

/// Puts after the first `declare` candidates the operations that list what the primaries' id
/// inputs refer to (see [`crate::lookups`]), [`MAX_LOOKUPS`](crate::lookups::MAX_LOOKUPS) at
/// most, moving one up when it is ranked lower; one already among the first `declare` stays.
/// Returns how many were added or moved up, which the answer declares on top of the ranked
/// ones.
pub(crate) fn add_lookups(
    apis: &Apis,
    candidates: &mut Vec<answer::Candidate>,
    declare: usize,
) -> usize {
    let primaries = candidates.iter().take_while(|c| c.primary).count();
    let mut wanted: Vec<(usize, OperationId)> = Vec::new();
    let mut made: Vec<String> = Vec::new();
    for primary in &candidates[..primaries] {
        let api = apis.get(primary.api);
        let op = api.spec.operation(primary.operation);
        for source in api.lookups.sources(&api.spec, op, &made) {
            if !wanted.contains(&(primary.api, source)) {
                wanted.push((primary.api, source));
            }
        }
        // A later step takes the id of what this one makes from its result.
        made.extend(crate::lookups::made_by(op));
    }
    let mut added = 0;
    for (api, operation) in wanted {
        if added == crate::lookups::MAX_LOOKUPS {
            break;
        }
        let at = candidates
            .iter()
            .position(|c| c.api == api && c.operation == operation);
        if at.is_some_and(|at| at < declare) {
            continue;
        }
        let lookup = match at {
            Some(at) => candidates.remove(at),
            None => answer::Candidate::ranked(api, operation, 0.0),
        };
        candidates.insert((declare + added).min(candidates.len()), lookup);
        added += 1;
    }
    added
}

#[cfg(test)]
mod tests {
    use super::unqualify;

    #[test]
    fn qualified_names_lose_their_api_only_for_that_api() {
        assert_eq!(
            unqualify(
                "api.stripe.getCharges, then stripe.postRefunds for github.x",
                "stripe"
            ),
            "getCharges, then postRefunds for github.x"
        );
        assert_eq!(
            unqualify("stripe. is a word", "stripe"),
            "stripe. is a word"
        );
    }
}
