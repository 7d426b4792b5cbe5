//! Splitting a task sentence into the actions it asks for, so that each is ranked on its own:
//! "create a customer and subscribe her to a price" → "create a customer", "subscribe customer
//! to a price". Ranked as one bag of words, a two-step sentence finds one step and buries the
//! other.
//!
//! The rules are plain English and the general API vocabulary (`vocabulary`), never tuned to
//! particular queries. A sentence splits at `;`, `.`, "then", arrows and numbered items always,
//! and at "and", commas and "after/before doing" only where both sides hold an action (a verb
//! the vocabulary knows, in its base form: orders are given in the base form, so "… and issues"
//! joins nouns while "… and issue a refund" starts an action). A clause then takes what it
//! leaves out from the one before: a pronoun ("it", "them", "the first one") becomes the thing
//! it stands for, a clause with no noun gets the previous clause's, one with no verb the
//! previous verb. Waiting ("wait", "poll the job") is reading the thing's state again, or
//! nothing when it names nothing. A sentence with one action is one step, the whole sentence
//! unchanged, so ranking it is ranking the sentence.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::text;
use crate::vocabulary;

/// Most steps a sentence is split into; a longer list's remaining clauses join the last step
/// (each step is one ranking).
pub const MAX_STEPS: usize = 8;

/// Most words of a noun phrase carried into another clause: a long phrase is a description,
/// not a name, and carrying it would drown the clause's own words.
const MAX_CARRIED_WORDS: usize = 4;

/// One action of a task sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What to rank for the action: its clause as written, with a pronoun replaced by what it
    /// refers to and a missing noun or verb taken from the clause before.
    pub clause: String,
    /// The clause as the sentence has it ("confirm it"): what an answer shows a person or an
    /// agent, who know what "it" is; `clause` is for ranking only.
    pub written: String,
}

/// The actions of a task sentence, in the order they are to be done; one step holding the
/// whole sentence when it asks for one action (or for none the rules recognize).
pub fn split_steps(query: &str) -> Vec<Step> {
    let clauses = cut_clauses(&tokenize(query));
    let mut steps = resolve(clauses.iter().map(Clause::analyze).collect());
    if steps.len() <= 1 {
        return vec![Step {
            clause: query.to_string(),
            written: query.to_string(),
        }];
    }
    if steps.len() > MAX_STEPS {
        let rest: Vec<Step> = steps.drain(MAX_STEPS - 1..).collect();
        let join = |part: fn(&Step) -> &str| rest.iter().map(part).collect::<Vec<_>>().join(" ");
        steps.push(Step {
            clause: join(|s| &s.clause),
            written: join(|s| &s.written),
        });
    }
    steps
}

/// Words that join clauses without meaning anything themselves; dropped at a clause's edges.
const CONNECTORS: &[&str] = &[
    "also",
    "and",
    "afterwards",
    "finally",
    "i",
    "immediately",
    "just",
    "lastly",
    "next",
    "please",
    "so",
    "then",
    "we",
];

/// Chunks that stand between two steps on their own.
const ARROWS: &[&str] = &["->", "→", "=>", "then"];

/// Words that introduce an earlier or later action: "after creating the domain, ...".
const AFTER: &str = "after";
const BEFORE: &str = "before";

/// Words that stand for a thing named earlier, and what they stand for.
const PRONOUNS: &[(&str, Referent)] = &[
    ("it", Referent::One),
    ("its", Referent::One),
    ("her", Referent::Person),
    ("him", Referent::Person),
    ("them", Referent::Many),
    ("their", Referent::Many),
    ("ones", Referent::Many),
];

/// Words before "one" that make it a pronoun ("the first one", "each one").
const ONE_LEADERS: &[&str] = &[
    "the", "first", "last", "latest", "newest", "oldest", "each", "every", "that", "this", "new",
    "old", "other",
];

/// Words that end a noun phrase without belonging to it: ordinals, quantities, and words that
/// introduce a name ("a role called moderators").
const PHRASE_BREAKERS: &[&str] = &[
    "again", "another", "both", "called", "each", "every", "few", "first", "five", "four", "last",
    "latest", "named", "newest", "oldest", "ones", "second", "several", "third", "three", "two",
];

/// Read words of the vocabulary that are not verbs.
const NOT_VERBS: &[&str] = &[
    "did", "history", "many", "much", "new", "recent", "what", "whether", "which", "who",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Number {
    One,
    Many,
}

/// What a pronoun stands for. "the first one" and "each one" pick from many things named
/// before; "her" is a person, whom a sentence names as a singular or a plural ("search
/// customers by email and cancel her subscription").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Referent {
    One,
    Many,
    Person,
}

/// Whether a lowercase word is an action verb in its base form.
fn is_verb(word: &str) -> bool {
    static VERBS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    VERBS
        .get_or_init(|| {
            [
                vocabulary::CREATE_WORDS,
                vocabulary::UPDATE_WORDS,
                vocabulary::DELETE_WORDS,
                vocabulary::READ_WORDS,
                vocabulary::ACTION_VERBS,
                vocabulary::WAIT_VERBS,
            ]
            .into_iter()
            .flatten()
            .copied()
            .filter(|w| !NOT_VERBS.contains(w))
            .collect()
        })
        .contains(word)
}

/// Whether a lowercase word is the "-ing" form of an action verb ("creating", "adding",
/// "running").
fn is_gerund(word: &str) -> bool {
    let Some(base) = word
        .strip_suffix("ing")
        .filter(|b| b.len() >= 2 && b.is_ascii())
    else {
        return false;
    };
    let undoubled = base
        .len()
        .checked_sub(1)
        .filter(|&cut| base.as_bytes()[cut] == base.as_bytes()[cut - 1])
        .map(|cut| &base[..cut]);
    is_verb(base) || is_verb(&format!("{base}e")) || undoubled.is_some_and(is_verb)
}

fn is_wait_verb(word: &str) -> bool {
    vocabulary::WAIT_VERBS.contains(&word)
}

/// One whitespace-separated piece of the sentence.
#[derive(Debug, Clone)]
struct Chunk<'q> {
    /// As written, without the punctuation that ends it.
    text: &'q str,
    /// Lowercase, punctuation trimmed from both ends: what the rules compare.
    bare: String,
    /// Its lowercase words, camelCase and hyphens split (`getCharges` → get, charges).
    words: Vec<String>,
    /// The punctuation that ended it (`,` `;` `.` ...).
    end: Option<char>,
    /// A list item's number ("1)", "(2)", "3.").
    marker: bool,
}

impl Chunk<'_> {
    /// Whether the chunk is (or, written as one identifier, starts with) an action verb, and
    /// how many of its words the verb takes.
    fn verb_words(&self) -> Option<usize> {
        let joined: String = self.bare.chars().filter(|&c| c != '-').collect();
        if self.words.len() > 1 && (is_verb(&joined) || is_gerund(&joined)) {
            return Some(self.words.len());
        }
        let first = self.words.first()?;
        (is_verb(first) || is_gerund(first)).then_some(1)
    }

    fn is_connector(&self) -> bool {
        CONNECTORS.contains(&self.bare.as_str())
    }
}

const ENDINGS: [char; 6] = [',', ';', '.', '!', '?', ':'];

fn tokenize(query: &str) -> Vec<Chunk<'_>> {
    let mut chunks: Vec<Chunk<'_>> = Vec::new();
    for raw in query.split_whitespace() {
        let text = raw.trim_end_matches(ENDINGS);
        let end = raw[text.len()..].chars().next();
        let mut words = Vec::new();
        text::for_each_word(text, |w| words.push(w.to_string()));
        let bare = text
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if words.is_empty() && !ARROWS.contains(&text) {
            // Lone punctuation (" , ") belongs to the chunk before it.
            if let (Some(last), Some(end)) = (chunks.last_mut(), end) {
                last.end = Some(end);
            }
            continue;
        }
        chunks.push(Chunk {
            text,
            bare: if ARROWS.contains(&text) {
                text.to_string()
            } else {
                bare
            },
            marker: is_marker(raw),
            words,
            end,
        });
    }
    chunks
}

/// "1)", "(2)", "3.", "4:": a numbered list's item marker.
fn is_marker(raw: &str) -> bool {
    let inner = raw.strip_prefix('(').unwrap_or(raw);
    let digits = inner.chars().take_while(char::is_ascii_digit).count();
    let rest = &inner[digits..];
    (1..=2).contains(&digits) && matches!(rest, ")" | "." | ":")
}

/// How a clause relates in time to the one it is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    AsWritten,
    /// "after doing X, ...": X comes first.
    After,
    /// "... before doing X": X comes last.
    Before,
}

/// A clause's chunks, connectors and markers dropped, and how it began.
#[derive(Debug)]
struct Cut<'q> {
    chunks: Vec<Chunk<'q>>,
    /// The first clause, or one after a sentence end, `;`, "then" or a list marker.
    starts_sentence: bool,
    order: Order,
}

/// Where one action ends and the next begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Boundary {
    /// Always a new clause (unless what follows negates: it qualifies the clause before).
    Strong,
    /// A new clause only when both sides hold an action.
    Weak,
}

fn boundary_before(chunks: &[Chunk<'_>], i: usize) -> Option<Boundary> {
    let chunk = &chunks[i];
    let after_end = i > 0 && matches!(chunks[i - 1].end, Some(';' | '.' | '!' | '?'));
    if chunk.marker || after_end || ARROWS.contains(&chunk.bare.as_str()) {
        return Some(Boundary::Strong);
    }
    let after_comma = i > 0 && chunks[i - 1].end == Some(',');
    let joins = matches!(chunk.bare.as_str(), "and" | AFTER | BEFORE);
    (after_comma || joins).then_some(Boundary::Weak)
}

/// The first chunk from `i` that is not a connector or a list marker.
fn first_content<'c, 'q>(chunks: &'c [Chunk<'q>], i: usize) -> Option<(usize, &'c Chunk<'q>)> {
    chunks
        .iter()
        .enumerate()
        .skip(i)
        .find(|(_, c)| !c.is_connector() && !c.marker && !ARROWS.contains(&c.bare.as_str()))
}

/// Whether the words from `i` start an action: a verb, or "after/before" and a verb's "-ing".
fn starts_action(chunks: &[Chunk<'_>], i: usize) -> bool {
    let Some((at, chunk)) = first_content(chunks, i) else {
        return false;
    };
    if chunk.bare == AFTER || chunk.bare == BEFORE {
        return chunks
            .get(at + 1)
            .and_then(|next| next.words.first())
            .is_some_and(|w| is_gerund(w));
    }
    chunk.verb_words().is_some()
}

fn starts_negated(chunks: &[Chunk<'_>], i: usize) -> bool {
    first_content(chunks, i).is_some_and(|(_, c)| text::is_negator(&c.bare))
}

fn cut_clauses<'q>(chunks: &[Chunk<'q>]) -> Vec<Cut<'q>> {
    let mut cuts = vec![Cut {
        chunks: Vec::new(),
        starts_sentence: true,
        order: Order::AsWritten,
    }];
    for (i, chunk) in chunks.iter().enumerate() {
        let current = cuts.last().map_or(&[][..], |c| &c.chunks[..]);
        let has_content = current.iter().any(|c| !c.is_connector());
        let split = match boundary_before(chunks, i) {
            Some(Boundary::Strong) => has_content && !starts_negated(chunks, i),
            Some(Boundary::Weak) => {
                current.iter().any(|c| c.verb_words().is_some()) && starts_action(chunks, i)
            }
            None => false,
        };
        if split {
            let order = match first_content(chunks, i).map(|(_, c)| c.bare.as_str()) {
                Some(AFTER) => Order::After,
                Some(BEFORE) => Order::Before,
                _ => Order::AsWritten,
            };
            cuts.push(Cut {
                chunks: Vec::new(),
                starts_sentence: boundary_before(chunks, i) == Some(Boundary::Strong),
                order,
            });
        }
        if let Some(cut) = cuts.last_mut()
            && !chunk.marker
            && !ARROWS.contains(&chunk.bare.as_str())
        {
            cut.chunks.push(chunk.clone());
        }
    }
    for cut in &mut cuts {
        trim_connectors(&mut cut.chunks);
        if cut
            .chunks
            .first()
            .is_some_and(|c| [AFTER, BEFORE].contains(&c.bare.as_str()))
        {
            cut.order = if cut.chunks[0].bare == AFTER {
                Order::After
            } else {
                Order::Before
            };
            cut.chunks.remove(0);
        }
    }
    cuts.retain(|cut| cut.chunks.iter().any(|c| !c.words.is_empty()));
    cuts
}

fn trim_connectors(chunks: &mut Vec<Chunk<'_>>) {
    let lead = chunks.iter().take_while(|c| c.is_connector()).count();
    chunks.drain(..lead);
    while chunks.last().is_some_and(Chunk::is_connector) {
        chunks.pop();
    }
}

/// A noun phrase: consecutive words naming a thing ("payment intent", "open issues").
#[derive(Debug, Clone, PartialEq, Eq)]
struct Phrase(Vec<String>);

impl Phrase {
    fn number(&self) -> Number {
        let plural = self
            .0
            .last()
            .is_some_and(|w| w.ends_with('s') && !w.ends_with("ss"));
        if plural { Number::Many } else { Number::One }
    }

    fn text(&self) -> String {
        let start = self.0.len().saturating_sub(MAX_CARRIED_WORDS);
        self.0[start..].join(" ")
    }
}

/// A clause with what the rules need to know about it.
#[derive(Debug)]
struct Clause<'c, 'q> {
    cut: &'c Cut<'q>,
    /// The chunk holding the verb, and how many of its words the verb takes.
    verb: Option<(usize, usize)>,
    phrases: Vec<Phrase>,
}

impl<'c, 'q> Clause<'c, 'q> {
    fn analyze(cut: &'c Cut<'q>) -> Clause<'c, 'q> {
        let verb = cut
            .chunks
            .iter()
            .enumerate()
            .find_map(|(i, c)| c.verb_words().map(|n| (i, n)));
        Clause {
            cut,
            verb,
            phrases: noun_phrases(&cut.chunks, verb),
        }
    }

    fn verb_text(&self) -> Option<String> {
        let (at, taken) = self.verb?;
        let chunk = &self.cut.chunks[at];
        Some(if taken == chunk.words.len() {
            chunk.text.to_string()
        } else {
            chunk.words[..taken].join(" ")
        })
    }

    fn waits(&self) -> bool {
        self.verb
            .is_some_and(|(at, _)| is_wait_verb(&self.cut.chunks[at].words[0]))
    }

    /// Where pronouns stand, with what they stand for.
    fn pronouns(&self) -> Vec<(usize, Referent)> {
        let chunks = &self.cut.chunks;
        chunks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let listed = PRONOUNS.iter().find(|(p, _)| *p == c.bare).map(|&(_, n)| n);
                let one =
                    c.bare == "one" && i > 0 && ONE_LEADERS.contains(&chunks[i - 1].bare.as_str());
                listed
                    .or(one.then_some(Referent::Many))
                    .map(|referent| (i, referent))
            })
            .collect()
    }
}

/// The noun phrases of a clause, in order: runs of words that are not stopwords, quantities or
/// the verb. A past participle after a noun ends its phrase ("issues labelled bug"); words after
/// a negation name what is not wanted, so they name nothing to carry.
fn noun_phrases(chunks: &[Chunk<'_>], verb: Option<(usize, usize)>) -> Vec<Phrase> {
    let mut phrases = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut negated = false;
    for (i, chunk) in chunks.iter().enumerate() {
        negated = negated || text::is_negator(&chunk.bare);
        let skip = verb.filter(|&(at, _)| at == i).map_or(0, |(_, n)| n);
        for word in chunk.words.iter().skip(skip) {
            let breaks = negated
                || text::is_stopword(word)
                || PHRASE_BREAKERS.contains(&word.as_str())
                || word.chars().all(|c| c.is_ascii_digit())
                || (!current.is_empty() && text::is_past_participle(word));
            if breaks {
                end_phrase(&mut current, &mut phrases);
            } else {
                current.push(word.clone());
            }
        }
        if skip > 0 || chunk.end.is_some() {
            end_phrase(&mut current, &mut phrases);
        }
        if chunk.end == Some(',') {
            negated = false;
        }
    }
    end_phrase(&mut current, &mut phrases);
    phrases
}

fn end_phrase(current: &mut Vec<String>, phrases: &mut Vec<Phrase>) {
    if !current.is_empty() {
        phrases.push(Phrase(std::mem::take(current)));
    }
}

/// The phrase a pronoun most likely stands for: the first one of its number (the object of
/// the clause before: "create a branch from main, commit a file to *it*"), else the first one.
fn antecedent(phrases: &[Phrase], referent: Referent) -> Option<&Phrase> {
    let number = match referent {
        Referent::One => Number::One,
        Referent::Many => Number::Many,
        Referent::Person => return phrases.first(),
    };
    phrases
        .iter()
        .find(|p| p.number() == number)
        .or(phrases.first())
}

/// A clause made complete, before ordering.
struct Resolved {
    clause: String,
    written: String,
    phrases: Vec<Phrase>,
    starts_sentence: bool,
    order: Order,
}

/// Fills each clause's gaps from the clauses around it, drops waits that name nothing, and
/// puts the clauses in the order they are to be done.
fn resolve(clauses: Vec<Clause<'_, '_>>) -> Vec<Step> {
    let mut resolved: Vec<Resolved> = Vec::new();
    let mut previous_verb: Option<String> = None;
    for clause in &clauses {
        let before = resolved.iter().rev().find(|r| !r.phrases.is_empty());
        let before_phrases = before.map_or(&[][..], |r| &r.phrases[..]);
        if let Some(done) = complete(clause, before_phrases, previous_verb.as_deref()) {
            previous_verb = clause.verb_text().or(previous_verb);
            resolved.push(done);
        }
    }
    borrow_from_next(&mut resolved);
    put_in_order(&mut resolved);
    resolved
        .into_iter()
        .map(|r| Step {
            clause: r.clause,
            written: r.written,
        })
        .collect()
}

/// One clause with its pronoun, missing noun or missing verb filled in from the clause before;
/// `None` for a wait that names nothing to wait for.
fn complete(clause: &Clause<'_, '_>, before: &[Phrase], verb: Option<&str>) -> Option<Resolved> {
    let mut pieces: Vec<String> = clause
        .cut
        .chunks
        .iter()
        .map(|c| c.text.to_string())
        .collect();
    let mut phrases = clause.phrases.clone();
    let pronouns = clause.pronouns();
    let referent = pronouns
        .first()
        .and_then(|&(_, referent)| antecedent(before, referent));
    if let (Some(&(at, _)), Some(referent)) = (pronouns.first(), referent) {
        pieces[at] = referent.text();
        for &(other, _) in &pronouns[1..] {
            pieces[other].clear();
        }
        // The clause's own object comes first: it is what the next clause's pronoun most
        // likely means ("start a job with *it*, then poll the job").
        phrases.push(referent.clone());
    }
    if clause.waits() {
        // A bare "wait" names nothing to read again.
        let object = fuller(phrases.first()?, before);
        pieces = vec!["get".to_string(), object.text()];
    } else if phrases.is_empty()
        && let Some(first) = before.first()
    {
        pieces.push(first.text());
        phrases.push(first.clone());
    }
    if clause.verb.is_none()
        && let Some(verb) = verb
    {
        pieces.insert(0, verb.to_string());
    }
    pieces.retain(|p| !p.is_empty());
    let written = clause
        .cut
        .chunks
        .iter()
        .map(|c| c.text)
        .collect::<Vec<_>>()
        .join(" ");
    Some(Resolved {
        clause: pieces.join(" "),
        written,
        phrases,
        starts_sentence: clause.cut.starts_sentence,
        order: clause.cut.order,
    })
}

/// The earlier phrase a short one repeats ("the job" after "a fine-tuning job"), else itself.
fn fuller<'p>(phrase: &'p Phrase, before: &'p [Phrase]) -> &'p Phrase {
    before
        .iter()
        .find(|p| p.0.len() > phrase.0.len() && p.0.ends_with(&phrase.0))
        .unwrap_or(phrase)
}

/// A leading clause that names nothing ("create and delete a pet") takes the noun of the next.
fn borrow_from_next(resolved: &mut [Resolved]) {
    for i in (0..resolved.len().saturating_sub(1)).rev() {
        if resolved[i].phrases.is_empty()
            && let Some(next) = resolved[i + 1].phrases.first().cloned()
        {
            resolved[i].clause.push(' ');
            resolved[i].clause.push_str(&next.text());
            resolved[i].phrases.push(next);
        }
    }
}

/// "X after doing Y" and "before doing Y, X" are done Y then X... in the first case; X then Y
/// in the second: moves such clauses to where they happen.
fn put_in_order(resolved: &mut [Resolved]) {
    for i in 0..resolved.len() {
        let moves_back = resolved[i].order == Order::After && !resolved[i].starts_sentence;
        if moves_back && i > 0 {
            resolved.swap(i - 1, i);
        }
    }
    for i in (0..resolved.len()).rev() {
        let moves_on = resolved[i].order == Order::Before && resolved[i].starts_sentence;
        if moves_on && i + 1 < resolved.len() {
            resolved.swap(i, i + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, expected: &[&str]) {
        let steps: Vec<String> = split_steps(query).into_iter().map(|s| s.clause).collect();
        assert_eq!(steps, expected, "{query}");
    }

    #[test]
    fn a_step_keeps_its_clause_as_written_for_showing() {
        let steps = split_steps("create a payment intent, confirm it, then capture the funds");
        let written: Vec<&str> = steps.iter().map(|s| s.written.as_str()).collect();
        assert_eq!(
            written,
            ["create a payment intent", "confirm it", "capture the funds"]
        );
        assert_eq!(steps[1].clause, "confirm payment intent");
        let one = split_steps("list open pull requests");
        assert_eq!(one[0].written, "list open pull requests");
    }

    #[test]
    fn one_action_is_the_whole_sentence() {
        for query in [
            "list open pull requests and issues",
            "create a customer with a name and an email",
            "accept the chargeback and don't submit evidence",
            "list events after a timestamp",
            "wait",
            "  ",
            "",
        ] {
            check(query, &[query]);
        }
    }

    #[test]
    fn pronouns_stand_for_the_thing_named_before() {
        check(
            "create a customer and subscribe her to a price",
            &["create a customer", "subscribe customer to a price"],
        );
        check(
            "find the open issues labelled bug, close them",
            &["find the open issues labelled bug", "close open issues"],
        );
        check(
            "getCharges, then refund the first one",
            &["getCharges", "refund the first charges"],
        );
    }

    #[test]
    fn a_clause_without_noun_or_verb_borrows_one() {
        check(
            "create a KV namespace and then write",
            &["create a KV namespace", "write kv namespace"],
        );
        check(
            "list customers; invoices",
            &["list customers", "list invoices"],
        );
        check("create and delete a pet", &["create pet", "delete a pet"]);
    }

    #[test]
    fn waiting_reads_state_or_is_dropped() {
        check(
            "request a report, wait, download it",
            &["request a report", "download report"],
        );
        check(
            "start a fine-tuning job, then poll the job until it is done",
            &["start a fine-tuning job", "get fine tuning job"],
        );
    }

    #[test]
    fn lists_arrows_and_after_before_clauses_split_in_time_order() {
        check(
            "1) create a repo 2) add a label (3) open an issue",
            &["create a repo", "add a label", "open an issue"],
        );
        check(
            "create a zone -> list its records",
            &["create a zone", "list zone records"],
        );
        check(
            "add a record after creating the domain",
            &["creating the domain", "add a record"],
        );
        check(
            "before deleting the volume, snapshot it",
            &["snapshot volume", "deleting the volume"],
        );
    }

    #[test]
    fn negation_stays_with_its_clause() {
        check(
            "delete the branch and close the pull request without merging it",
            &[
                "delete the branch",
                "close the pull request without merging branch",
            ],
        );
        check(
            "archive the repo; don't delete it",
            &["archive the repo; don't delete it"],
        );
    }

    #[test]
    fn odd_input_never_panics() {
        let long = "create a thing and delete it, ".repeat(400);
        for query in [
            long.as_str(),
            "and and and , , ; ; then then",
            "1) 2) 3)",
            "ünïcödé und löschen 😀 and delete 日本語, then 🎉",
            "\u{0}\u{200b}and\u{200b}then",
            "() (1) 99. 100) -> → =>",
            "it them her one ones",
            "getting ing ng g",
        ] {
            let steps = split_steps(query);
            assert!(!steps.is_empty() && steps.len() <= MAX_STEPS, "{query:?}");
        }
    }
}
