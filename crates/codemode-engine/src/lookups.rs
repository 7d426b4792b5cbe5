//! Where the ids a search answer's operations take come from. A task names things the way
//! people do ("check Rex in", "the staging zone", "each open pull request"); the operation that
//! does it takes their id (`dog_id` in its body, `{zone_id}`, `{pull_number}` in its path). The
//! answer then also declares the operation that lists those things (`GET /dogs`, `GET /zones`,
//! `GET /repos/{owner}/{repo}/pulls`), so the program can find the id without a second search.
//!
//! Read from the spec's shape alone: an id input names its resource (`zone_id` → zone), and a
//! `GET` on a collection of that name (`/zones`) whose path needs no input the operation does
//! not already have lists them. Built once per API.

use std::collections::HashMap;

use crate::spec::{Method, Operation, OperationId, Spec};
use serde_json::Value;

/// Endings that make an input an id of the resource before them (`zone_id`, `issue_number`,
/// `clusterUuid`). An input without one (`{customer}`, `{repo}`) is left alone: many are names
/// the task already gives.
const ID_ENDINGS: &[&str] = &["id", "ids", "number", "uuid", "identifier"];

/// Lookups added to one answer at most: the innermost ids of the best operations.
pub(crate) const MAX_LOOKUPS: usize = 2;

/// The list operations of one spec by the resource they list.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    /// Singular resource word (`zone`, `dnsrecord`) → the `GET`s of such a collection, each
    /// with its path parameters.
    lists: HashMap<String, Vec<(OperationId, Vec<String>)>>,
}

impl Lookups {
    pub(crate) fn build(spec: &Spec) -> Lookups {
        let mut lists: HashMap<String, Vec<(OperationId, Vec<String>)>> = HashMap::new();
        for (id, op) in spec.iter_operations() {
            let path = op.path.trim_end_matches('/');
            if op.method != Method::Get || path.ends_with('}') {
                continue;
            }
            let Some(last) = path.rsplit('/').next().filter(|s| !s.is_empty()) else {
                continue;
            };
            lists
                .entry(singular(&word_of(last)))
                .or_default()
                .push((id, path_parameters(&op.path)));
        }
        Lookups { lists }
    }

    /// The operations listing what `op`'s id inputs refer to, the innermost first (the last
    /// path parameter, then earlier ones, then required body fields). None lists what `op`
    /// itself is (a list is not its own lookup), nor what `made` holds: the resources the
    /// task's earlier steps create, whose ids come from those steps' results.
    pub(crate) fn sources(&self, spec: &Spec, op: &Operation, made: &[String]) -> Vec<OperationId> {
        let have = path_parameters(&op.path);
        let mut inputs: Vec<&str> = have.iter().rev().map(String::as_str).collect();
        inputs.extend(required_body_fields(spec, op));
        let mut out: Vec<OperationId> = Vec::new();
        for input in inputs {
            let Some(resource) = resource_of(input).filter(|r| !made.contains(r)) else {
                continue;
            };
            let Some(candidates) = self.lists.get(&resource) else {
                continue;
            };
            let usable = candidates
                .iter()
                .filter(|(_, needs)| needs.iter().all(|n| have.contains(n)))
                .filter(|(id, _)| spec.operation(*id).path != op.path);
            // The collection the operation's own item lives in, else the list scoped most
            // like the operation (`/repos/{owner}/{repo}/commits` before `/search/commits`).
            let best = usable.min_by_key(|(id, needs)| {
                let path = &spec.operation(*id).path;
                (
                    !op.path.starts_with(path.as_str()),
                    std::cmp::Reverse(needs.len()),
                    path.len(),
                )
            });
            if let Some(&(id, _)) = best
                && !out.contains(&id)
            {
                out.push(id);
            }
        }
        out
    }
}

/// The resource a `POST` or `PUT` to a collection makes (`POST /channels/{id}/messages` →
/// `message`), as [`singular`] word.
pub(crate) fn made_by(op: &Operation) -> Option<String> {
    let path = op.path.trim_end_matches('/');
    if !matches!(op.method, Method::Post | Method::Put) || path.ends_with('}') {
        return None;
    }
    let last = path.rsplit('/').next().filter(|s| !s.is_empty())?;
    Some(singular(&word_of(last)))
}

/// The names of a path template's parameters, in order.
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_string)
        .collect()
}

/// The required top-level fields of the operation's JSON body.
fn required_body_fields<'s>(spec: &'s Spec, op: &'s Operation) -> Vec<&'s str> {
    let Some(media) = op.request_body.as_ref().and_then(|b| b.preferred()) else {
        return Vec::new();
    };
    spec.deref_schema(&media.schema)
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The resource an id input refers to, as [`singular`] word: `zone_id` → `zone`,
/// `dns_record_identifier` → `dnsrecord`, `pullNumber` → `pull`; `None` for an input that is
/// no id (`name`, `customer`, a bare `id`).
fn resource_of(input: &str) -> Option<String> {
    let words = codemode_search::words(input);
    let (last, rest) = words.split_last()?;
    if rest.is_empty() || !ID_ENDINGS.contains(&last.as_str()) {
        return None;
    }
    Some(singular(&rest.concat()))
}

/// A path segment as one lowercase word (`dns_records` → `dnsrecords`).
fn word_of(segment: &str) -> String {
    codemode_search::words(segment).concat()
}

/// A plural's singular, for matching a collection to its id (`zones` → `zone`, `policies` →
/// `policy`, `addresses` → `address`); a singular stays as it is.
fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for ending in ["sses", "shes", "ches", "xes"] {
        if word.ends_with(ending) {
            return word[..word.len() - 2].to_string();
        }
    }
    match word.strip_suffix('s') {
        Some(stem) if !stem.ends_with('s') => stem.to_string(),
        _ => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KENNEL: &str = r#"
openapi: 3.0.3
info: {title: Kennel, version: "1"}
paths:
  /dogs:
    get: {operationId: listDogs, responses: {"200": {description: ok}}}
  /stays:
    get: {operationId: listStays, responses: {"200": {description: ok}}}
    post:
      operationId: bookStay
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [dog_id], properties: {dog_id: {type: integer}}}
      responses: {"201": {description: ok}}
  /stays/{stay_id}/settle:
    post:
      operationId: settleStay
      parameters: [{name: stay_id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok}}
"#;

    fn lookups_of(name: &str, made: &[String]) -> Vec<String> {
        let spec = crate::spec::load_str("kennel.yaml", KENNEL).expect("fixture loads");
        let lookups = Lookups::build(&spec);
        let op = spec.operation(spec.find_id(name).expect("operation"));
        lookups
            .sources(&spec, op, made)
            .into_iter()
            .map(|id| spec.operation(id).name.clone())
            .collect()
    }

    #[test]
    fn path_and_body_ids_lead_to_their_lists() {
        assert_eq!(lookups_of("bookStay", &[]), ["listDogs"]);
        assert_eq!(lookups_of("settleStay", &[]), ["listStays"]);
        assert!(lookups_of("listStays", &[]).is_empty());
    }

    #[test]
    fn an_id_an_earlier_step_makes_comes_from_its_result() {
        let spec = crate::spec::load_str("kennel.yaml", KENNEL).expect("fixture loads");
        let book = spec.operation(spec.find_id("bookStay").expect("bookStay"));
        let made: Vec<String> = made_by(book).into_iter().collect();
        assert_eq!(made, ["stay"]);
        assert!(lookups_of("settleStay", &made).is_empty());
    }

    #[test]
    fn an_id_input_names_its_resource() {
        assert_eq!(resource_of("zone_id").as_deref(), Some("zone"));
        assert_eq!(resource_of("issue_number").as_deref(), Some("issue"));
        assert_eq!(resource_of("pullNumber").as_deref(), Some("pull"));
        assert_eq!(
            resource_of("dns_record_identifier").as_deref(),
            Some("dnsrecord")
        );
        assert_eq!(resource_of("id"), None);
        assert_eq!(resource_of("customer"), None);
        assert_eq!(resource_of("name"), None);
    }

    #[test]
    fn collections_match_their_ids_in_the_singular() {
        assert_eq!(singular(&word_of("dns_records")), "dnsrecord");
        assert_eq!(singular("policies"), "policy");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("access"), "access");
    }
}
