//! Text to terms: splitting identifiers and prose into words, cleaning markup, stemming.
//!
//! Everything here walks `char`s, never byte offsets chosen by arithmetic, so any UTF-8 input
//! (emoji, combining marks, right-to-left text) is safe.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

/// Words too common in task sentences and API prose to tell operations apart.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "being",
    "but",
    "by",
    "can",
    "certain",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "e",
    "each",
    "eg",
    "else",
    "etc",
    "for",
    "from",
    "g",
    "given",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "ie",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "let",
    "lets",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "myself",
    "need",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "p",
    "please",
    "s",
    "same",
    "she",
    "should",
    "so",
    "some",
    "specific",
    "specified",
    "such",
    "t",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "use",
    "used",
    "using",
    "very",
    "via",
    "want",
    "was",
    "way",
    "we",
    "were",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
];

/// Turns raw text into stemmed terms.
pub(crate) struct Analyzer {
    stemmer: Stemmer,
}

impl Analyzer {
    pub(crate) fn new() -> Analyzer {
        Analyzer {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    /// The stem of one lowercase word. Non-ASCII words are kept as they are: the English
    /// stemmer has nothing useful to say about them.
    pub(crate) fn stem(&self, word: &str) -> String {
        if word.is_ascii() && word.chars().any(|c| c.is_ascii_alphabetic()) {
            self.stemmer.stem(word).into_owned()
        } else {
            word.to_string()
        }
    }

    /// Stemmed terms of `text`, stopwords removed, in order. `cache` remembers stems across
    /// calls: specs repeat the same few thousand words, and stemming dominates build time.
    pub(crate) fn terms(&self, text: &str, cache: &mut HashMap<String, String>) -> Vec<String> {
        let mut out = Vec::new();
        for_each_word(text, |word| {
            if is_stopword(word) {
                return;
            }
            match cache.get(word) {
                Some(stem) => out.push(stem.clone()),
                None => {
                    let stem = self.stem(word);
                    cache.insert(word.to_string(), stem.clone());
                    out.push(stem);
                }
            }
        });
        out
    }
}

pub(crate) fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

/// Calls `f` with every lowercase word of `text`: runs of letters and digits, further split at
/// camelCase boundaries (`listPodsForNode` → list, pods, for, node; `HTTPServer` → http, server).
/// Underscores, hyphens, slashes, braces and every other symbol separate words.
pub(crate) fn for_each_word(text: &str, mut f: impl FnMut(&str)) {
    let mut word = String::new();
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_alphanumeric() {
            flush(&mut word, &mut f);
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let next_is_lower = chars.peek().is_some_and(|n| n.is_lowercase());
            let lower_to_upper = (p.is_lowercase() || p.is_ascii_digit()) && c.is_uppercase();
            let acronym_end = p.is_uppercase() && c.is_uppercase() && next_is_lower;
            if lower_to_upper || acronym_end {
                flush(&mut word, &mut f);
            }
        }
        word.extend(c.to_lowercase());
        prev = Some(c);
    }
    flush(&mut word, &mut f);
}

/// Words that negate what follows them in their clause: "list files without cloning",
/// "post with a webhook URL, no bot token", "don't submit evidence".
const NEGATORS: &[&str] = &[
    "without",
    "not",
    "no",
    "never",
    "instead",
    "except",
    "excluding",
    "nor",
];

/// Words that end a negated stretch: a new clause starts after them.
/// Not "or": "without cloning or forking" negates both.
const CLAUSE_JOINERS: &[&str] = &["and", "but", "so", "then", "because", "while"];

/// Words that end a verb's object phrase: prepositions, conjunctions and relative words
/// ("get a *token* so ...", "show recent *events* in the namespace").
const OBJECT_ENDERS: &[&str] = &[
    "about", "across", "after", "against", "and", "as", "at", "because", "before", "between",
    "but", "by", "during", "for", "from", "if", "in", "into", "like", "of", "on", "onto", "or",
    "over", "per", "since", "so", "than", "that", "then", "through", "to", "under", "until", "via",
    "when", "whenever", "where", "which", "while", "who", "whose", "with", "within", "without",
];

/// The clauses of a task sentence that open with a verb, each as its words: the verb, then the
/// object phrase up to the first word that ends it ([`OBJECT_ENDERS`]). Clauses end at
/// sentence punctuation ("why is my pod pending? show recent events" has one such clause:
/// show, recent, events). `is_verb` says which first words are verbs.
pub(crate) fn verb_objects(query: &str, is_verb: impl Fn(&str) -> bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for clause in query.split(['.', '?', '!', ';', ',', ':']) {
        let mut words = Vec::new();
        for_each_word(clause, |word| words.push(word.to_string()));
        // ", then get its deliveries": the joiner is not the clause's verb.
        let joiners = words
            .iter()
            .take_while(|w| CLAUSE_JOINERS.contains(&w.as_str()))
            .count();
        words.drain(..joiners);
        let Some(first) = words.first() else {
            continue;
        };
        if !is_verb(first) {
            continue;
        }
        let end = words
            .iter()
            .skip(1)
            .position(|w| OBJECT_ENDERS.contains(&w.as_str()))
            .map_or(words.len(), |at| at + 1);
        words.truncate(end);
        out.push(words);
    }
    out
}

/// Whether a lowercase chunk of a sentence, edge punctuation trimmed, negates what follows it:
/// a negating word or a contraction ("don't", "can’t").
pub(crate) fn is_negator(bare: &str) -> bool {
    let contracted =
        bare.contains(['\'', '\u{2019}']) && bare.ends_with("n't") || bare.ends_with("n\u{2019}t");
    NEGATORS.contains(&bare) || contracted || bare == "dont"
}

/// A task sentence's words, split by whether the sentence asks for them or negates them.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct QueryWords {
    pub(crate) asserted: Vec<String>,
    pub(crate) negated: Vec<String>,
}

/// Splits a task sentence into the words it asks for and the words it negates: from a negating
/// word ("without", "no", "don't") to the end of its clause. "list every file without cloning
/// the repo" asks nothing about clones; read as plain words, "cloning" would pull the clone
/// operations to the top. Negated words still say what the topic is ("don't submit evidence"
/// is about disputes), so the caller weighs them, lightly.
pub(crate) fn split_negated(query: &str) -> QueryWords {
    let mut words = QueryWords::default();
    let mut negated = false;
    for chunk in query.split_whitespace() {
        let bare = chunk
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if CLAUSE_JOINERS.contains(&bare.as_str()) {
            negated = false;
        }
        if is_negator(&bare) {
            negated = true;
        } else {
            let target = if negated {
                &mut words.negated
            } else {
                &mut words.asserted
            };
            for_each_word(chunk, |word| target.push(word.to_string()));
        }
        if chunk.ends_with([',', ';', '.', ':', '?', '!', ')']) {
            negated = false;
        }
    }
    words
}

/// Whether a word is a past form ("changed", "deleted"): in a task sentence it describes
/// things ("files changed in a pull request", "who deleted the channel") rather than asking for
/// an action, so it implies no method. A heuristic: it is only asked about intent verbs, none of
/// which ends in "ed" in its base form.
pub(crate) fn is_past_participle(word: &str) -> bool {
    word.len() > 4 && word.ends_with("ed") && !word.ends_with("eed")
}

fn flush(word: &mut String, f: &mut impl FnMut(&str)) {
    if !word.is_empty() {
        f(word);
        word.clear();
    }
}

/// Prose with markup removed: HTML tags, URLs and Markdown link targets, which would otherwise
/// contribute words like `https`, `docs` and `github` to every description.
pub(crate) fn strip_markup(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '<'
            && let Some(len) = tag_length(&chars[i..])
        {
            out.push(' ');
            i += len;
            continue;
        }
        if starts_url(&chars[i..]) {
            while i < chars.len() && !matches!(chars[i], ' ' | '\n' | '\t' | ')' | ']' | '"') {
                i += 1;
            }
            out.push(' ');
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Length of an HTML tag starting at `chars[0] == '<'`, if it looks like one.
fn tag_length(chars: &[char]) -> Option<usize> {
    let second = *chars.get(1)?;
    if !(second.is_ascii_alphabetic() || second == '/' || second == '!') {
        return None;
    }
    chars
        .iter()
        .take(200)
        .position(|&c| c == '>')
        .map(|end| end + 1)
}

fn starts_url(chars: &[char]) -> bool {
    const PREFIXES: [&str; 2] = ["http://", "https://"];
    PREFIXES.iter().any(|p| {
        p.chars().count() <= chars.len()
            && p.chars()
                .zip(chars.iter())
                .all(|(a, &b)| a == b.to_ascii_lowercase())
    })
}

/// The first `max_chars` characters of `text`, cut at a char boundary.
pub(crate) fn prefix_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The opening of a description: its first sentence (or line), at most `max_chars` characters.
pub(crate) fn opening(text: &str, max_chars: usize) -> &str {
    let head = prefix_chars(text.trim_start(), max_chars);
    let mut end = head.len();
    for (i, c) in head.char_indices() {
        let at_sentence_end = c == '.'
            && head[i + 1..]
                .chars()
                .next()
                .is_none_or(|n| n.is_whitespace());
        if at_sentence_end || c == '\n' {
            end = i;
            break;
        }
    }
    &head[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_word(text, |w| out.push(w.to_string()));
        out
    }

    #[test]
    fn a_verbs_object_runs_to_the_first_preposition() {
        let is_verb = |w: &str| ["show", "get", "create"].contains(&w);
        assert_eq!(
            verb_objects(
                "why is my pod stuck in Pending? show recent events in the namespace",
                is_verb
            ),
            vec![words("show recent events")]
        );
        assert_eq!(
            verb_objects("get a token so a new runner can register", is_verb),
            vec![words("get a token")]
        );
        assert_eq!(
            verb_objects("create a webhook, then get its deliveries", is_verb),
            vec![words("create a webhook"), words("get its deliveries")]
        );
        assert!(verb_objects("which pods are pending", is_verb).is_empty());
    }

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        let mut sorted = STOPWORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, STOPWORDS);
    }

    #[test]
    fn splits_identifier_styles() {
        assert_eq!(
            words("listPodsForNode repos/list-for-org snake_case HTTPServer v1beta1"),
            [
                "list", "pods", "for", "node", "repos", "list", "for", "org", "snake", "case",
                "http", "server", "v1beta1"
            ]
        );
    }

    #[test]
    fn negated_words_are_told_apart_until_the_clause_ends() {
        let split = |query: &str| {
            let words = split_negated(query);
            (words.asserted.join(" "), words.negated.join(" "))
        };
        assert_eq!(
            split("list files without cloning it, recursively"),
            ("list files recursively".into(), "cloning it".into())
        );
        assert_eq!(
            split("accept the chargeback and don't submit evidence"),
            ("accept the chargeback and".into(), "submit evidence".into())
        );
        assert_eq!(
            split("post using a webhook URL, no bot token"),
            ("post using a webhook url".into(), "bot token".into())
        );
        assert_eq!(
            split("pause it without deleting and restart"),
            ("pause it and restart".into(), "deleting".into())
        );
        assert_eq!(
            split("list files without cloning or forking"),
            ("list files".into(), "cloning or forking".into())
        );
        assert_eq!(split("notify me"), ("notify me".into(), String::new()));
    }

    #[test]
    fn past_participles_are_told_from_verbs() {
        for word in ["changed", "deleted", "created", "updated"] {
            assert!(is_past_participle(word), "{word}");
        }
        for word in ["change", "need", "seed", "feed", "red", "send"] {
            assert!(!is_past_participle(word), "{word}");
        }
    }

    #[test]
    fn unicode_is_safe() {
        assert_eq!(
            words("Ünïcödé café 😀 日本語"),
            ["ünïcödé", "café", "日本語"]
        );
        let analyzer = Analyzer::new();
        let mut cache = HashMap::new();
        assert_eq!(
            analyzer.terms("Straße ÉCOLES", &mut cache),
            ["straße", "écoles"]
        );
        assert_eq!(prefix_chars("日本語", 2), "日本");
        assert_eq!(opening("é. Second", 100), "é");
    }

    #[test]
    fn strips_tags_and_urls() {
        let cleaned = strip_markup("<p>Creates a [pet](https://x.io/a_b). See http://y</p>");
        let terms = Analyzer::new().terms(&cleaned, &mut HashMap::new());
        assert_eq!(terms, ["creat", "pet", "see"]);
    }
}
