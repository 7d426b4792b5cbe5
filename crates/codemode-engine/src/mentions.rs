//! Operation and type names inside a task sentence: "getParcel, then list manifests by
//! vehicle", "refund a Charge", "call POST /v1/refunds". The names are declared as asked; the
//! rest of the sentence is ranked as usual.

use codemode_typescript::TypeNames;

use crate::spec::{Method, OperationId, Spec};

/// What a query names, and what is left of it to rank.
#[derive(Debug, Default)]
pub(crate) struct Mentions {
    /// Operations named, in the order the query names them.
    pub operations: Vec<OperationId>,
    /// Component schemas named by their TypeScript (or spec) name.
    pub types: Vec<String>,
    /// The query without the operation names (type names stay: they are words of the task too).
    pub rest: String,
}

/// Most names taken from one query (a pasted list should not declare a spec).
const MAX_MENTIONS: usize = 8;

pub(crate) fn find(spec: &Spec, type_names: &TypeNames, query: &str) -> Mentions {
    let words: Vec<&str> = query.split_whitespace().collect();
    let mut mentions = Mentions::default();
    let mut rest: Vec<&str> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let word = bare(words[i]);
        let budget_left = mentions.operations.len() + mentions.types.len() < MAX_MENTIONS;
        // `POST /v1/refunds`: a method word and a path.
        if budget_left
            && Method::parse(word).is_some()
            && word.chars().all(|c| c.is_ascii_uppercase())
            && let Some(path) = words.get(i + 1).map(|w| bare(w))
            && let Some(id) = spec.find_id(&format!("{word} {path}"))
        {
            push_unique(&mut mentions.operations, id);
            i += 2;
            continue;
        }
        if budget_left
            && looks_like_operation_name(word)
            && let Some(id) = spec.find_id(word)
        {
            push_unique(&mut mentions.operations, id);
            i += 1;
            continue;
        }
        // A word that opens a sentence may be a capitalized verb ("… Then Label it").
        let opens_sentence = i == 0 || words[i - 1].ends_with(['.', '!', '?', ';']);
        if budget_left
            && looks_like_type_name(word, opens_sentence)
            && let Some(schema) = type_names.schema_named(word)
            && !mentions.types.iter().any(|t| t == schema)
        {
            mentions.types.push(schema.to_string());
        }
        rest.push(words[i]);
        i += 1;
    }
    mentions.rest = rest.join(" ");
    mentions
}

fn push_unique(list: &mut Vec<OperationId>, id: OperationId) {
    if !list.contains(&id) {
        list.push(id);
    }
}

/// A word without the punctuation a sentence puts around a name (`getParcel,` `"Refund"`
/// `` `pullsList()` ``).
fn bare(word: &str) -> &str {
    // Braces stay: they are part of a path template (`/pets/{petId}`).
    let word = word.trim_matches(|c: char| {
        matches!(
            c,
            ',' | '.' | ';' | ':' | '!' | '?' | '"' | '\'' | '`' | '(' | ')'
        )
    });
    word.strip_suffix("()").unwrap_or(word)
}

/// camelCase, snake_case or dotted: a word no sentence uses as plain English ("list" may be an
/// operationId too, but then it is the task's verb).
fn looks_like_operation_name(word: &str) -> bool {
    let inner_upper = word.chars().skip(1).any(|c| c.is_ascii_uppercase());
    let joined = word.contains(['_', '.', '/']) && !word.starts_with('/');
    word.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && (inner_upper || joined)
}

/// PascalCase; the first word of a sentence only when it could not be a capitalized verb
/// ("Create a customer" is a task, "PullRequestSimple fields" names a type).
fn looks_like_type_name(word: &str, first: bool) -> bool {
    let mut chars = word.chars();
    let starts_upper = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    let identifier = word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let inner_upper = word.chars().skip(1).any(|c| c.is_ascii_uppercase());
    let has_lower = word.chars().any(|c| c.is_ascii_lowercase());
    starts_upper && identifier && has_lower && (!first || inner_upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_told_from_words() {
        assert!(looks_like_operation_name("getParcel"));
        assert!(looks_like_operation_name("issues/create"));
        assert!(looks_like_operation_name("repos_get"));
        assert!(!looks_like_operation_name("list"));
        assert!(!looks_like_operation_name("/v1/charges"));
        assert!(looks_like_type_name("Refund", false));
        assert!(!looks_like_type_name("Create", true));
        assert!(looks_like_type_name("PullRequestSimple", true));
        assert!(!looks_like_type_name("API", false));
        assert_eq!(bare("`pullsList()`,"), "pullsList");
        assert_eq!(bare("/pets/{petId},"), "/pets/{petId}");
    }
}
