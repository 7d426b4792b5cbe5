//! What an agent sees in search answers over a query set (issue 15), per API and overall:
//! - gold declared: the share of gold operations declared in the one answer (every gold of a
//!   multi-step task counts; for the single-step dev set, a query counts when any gold is);
//! - result visible: of the answers whose best hit is gold, the share whose best hit's result
//!   type is shown with its fields (every type its `Promise<…>` names is declared, not
//!   `unknown`, and so is the element type of a list envelope it names);
//! - the answer's token count as the engine adds it up, against an exact count of the text
//!   (the largest shortfall, which must be ≤ 0 for the budget to hold) and the budget.
//!
//! `cargo run --release -p codemode-engine --example answer_eval -- [--all-gold] TSV [SPECS_DIR]`
//! e.g. `-- ../shared/search-dev.tsv` or
//! `-- --all-gold crates/codemode-search/examples/multistep.tsv` (specs default: where the tests find
//! them, `codemode_test_support::specs_dir`).

#[path = "../../codemode-search/tests/it/support/devset.rs"]
mod devset;

use std::collections::BTreeMap;
use std::path::PathBuf;

use codemode_engine::{Engine, EngineConfig, SearchAnswer, SearchRequest};
use devset::{Error, Query};

#[derive(Default)]
struct Tally {
    queries: usize,
    gold: usize,
    gold_declared: usize,
    top_right: usize,
    result_visible: usize,
    over_budget: usize,
    /// Largest (exact − estimated) tokens seen.
    worst_shortfall: i64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.queries += other.queries;
        self.gold += other.gold;
        self.gold_declared += other.gold_declared;
        self.top_right += other.top_right;
        self.result_visible += other.result_visible;
        self.over_budget += other.over_budget;
        self.worst_shortfall = self.worst_shortfall.max(other.worst_shortfall);
    }

    fn print(&self, label: &str) {
        let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        println!(
            "  {label:<13} gold declared {:.3} ({}/{})  result visible {:.3} ({}/{} top hits right)  over budget {}  worst token shortfall {}",
            share(self.gold_declared, self.gold),
            self.gold_declared,
            self.gold,
            share(self.result_visible, self.top_right),
            self.result_visible,
            self.top_right,
            self.over_budget,
            self.worst_shortfall
        );
    }
}

fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let all_gold = args.first().is_some_and(|a| a == "--all-gold");
    if all_gold {
        args.remove(0);
    }
    let tsv = PathBuf::from(
        args.first()
            .ok_or("usage: answer_eval [--all-gold] TSV [SPECS_DIR]")?,
    );
    let specs_dir = args
        .get(1)
        .map_or_else(codemode_test_support::specs_dir, PathBuf::from);
    let queries = devset::read_queries(&tsv)?;
    let specs = devset::load_specs(&queries, &specs_dir)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let _guard = runtime.enter();
    let mut per_api: BTreeMap<String, Tally> = BTreeMap::new();
    // VERBOSE=gold prints answers that miss a gold operation, VERBOSE=result those whose best
    // hit is right but its result is not shown.
    let verbose = std::env::var("VERBOSE").unwrap_or_default();
    for (api, spec) in specs {
        let engine = Engine::new(spec, EngineConfig::default())?;
        let tally = per_api.entry(api.clone()).or_default();
        for query in queries.iter().filter(|q| q.api == api) {
            let answer = engine.search(&SearchRequest {
                query: query.text.clone(),
                limit: None,
                api: None,
                ..Default::default()
            })?;
            let one = score(query, &answer, all_gold);
            if one.worst_shortfall > 0 {
                println!(
                    "token estimate short by {} for [{api}] {}",
                    one.worst_shortfall, query.text
                );
            }
            if (verbose == "gold" && one.gold_declared < one.gold)
                || (verbose == "result" && one.result_visible < one.top_right)
            {
                println!(
                    "--- [{api}] {} (gold {:?})\n{}",
                    query.text, query.gold, answer.text
                );
            }
            tally.add(&one);
        }
    }
    let mut all = Tally::default();
    for (api, tally) in &per_api {
        tally.print(api);
        all.add(tally);
    }
    all.print("overall");
    Ok(())
}

fn score(query: &Query, answer: &SearchAnswer, all_gold: bool) -> Tally {
    let declared: Vec<String> = answer
        .hits
        .iter()
        .map(|h| format!("{} {}", h.method, h.path))
        .collect();
    let found = query.gold.iter().filter(|g| declared.contains(g)).count();
    let (gold, gold_declared) = if all_gold {
        (query.gold.len(), found)
    } else {
        (1, usize::from(found > 0))
    };
    let top_right = declared.first().is_some_and(|k| query.gold.contains(k));
    let visible = top_right
        && answer
            .hits
            .first()
            .is_some_and(|h| result_visible(&answer.text, &h.name));
    let exact = codemode_engine::typescript::count_tokens(&answer.text);
    Tally {
        queries: 1,
        gold,
        gold_declared,
        top_right: usize::from(top_right),
        result_visible: usize::from(visible),
        over_budget: usize::from(exact > codemode_engine::DEFAULT_SEARCH_BUDGET_TOKENS),
        worst_shortfall: exact as i64 - answer.tokens as i64,
    }
}

/// Whether every type the operation's `Promise<…>` names is declared with its fields (and the
/// element type of a list envelope among them too).
fn result_visible(text: &str, operation: &str) -> bool {
    // The signature may span lines (documented argument members); its result ends the last.
    let Some(result) = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(&format!("{operation}(")))
        .find_map(|l| l.rsplit_once("): Promise<"))
        .map(|(_, r)| r.trim_end_matches(">;"))
    else {
        return false;
    };
    type_names(result).iter().all(|name| {
        declared(text, name)
            && envelope_items(text, name)
                .iter()
                .all(|item| declared(text, item))
    })
}

const BUILTINS: &[&str] = &[
    "Promise",
    "Record",
    "Omit",
    "Array",
    "Partial",
    "BinaryResponse",
];

fn type_names(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()) && !BUILTINS.contains(w))
        .map(str::to_string)
        .collect()
}

fn declared(text: &str, name: &str) -> bool {
    text.contains(&format!("interface {name} "))
        || (text.contains(&format!("type {name} = "))
            && !text.contains(&format!("type {name} = unknown;")))
}

/// The element types named by `items` / `data` / `result` arrays of `interface name { … }`.
fn envelope_items(text: &str, name: &str) -> Vec<String> {
    let Some(start) = text.find(&format!("interface {name} {{")) else {
        return Vec::new();
    };
    let body = &text[start..];
    let body = &body[..body.find("\n}").unwrap_or(body.len())];
    body.lines()
        .filter_map(|line| {
            let (key, ty) = line.trim().split_once(": ")?;
            let key = key.trim_end_matches('?');
            ["items", "data", "result", "results"]
                .contains(&key)
                .then(|| {
                    ty.trim_end_matches(';')
                        .strip_suffix("[]")
                        .map(str::to_string)
                })
                .flatten()
        })
        .flat_map(|ty| type_names(&ty))
        .collect()
}
