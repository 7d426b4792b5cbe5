//! Making hostile spec text safe to print: in a comment, in a string literal, as a property key;
//! and trimming prose down to a sentence or two.
//!
//! Everything that comes from a spec and lands in the output goes through one of these functions,
//! so no description, name or enum value can close a comment, end a literal or start a new line.

/// Characters that would end a line in JavaScript, or reorder what a reader sees (bidi controls),
/// or are invisible; printed as `\uXXXX` wherever they appear.
fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{0085}' | '\u{FEFF}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Text for the inside of a `/** … */` comment, on one line: whitespace runs (newlines included)
/// become one space, `*/` can never appear, and dangerous characters are spelled out.
pub(crate) fn comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || (c.is_control() && c != '\u{7f}') {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        if is_dangerous(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else if c == '/' && out.ends_with('*') {
            // `*/` would close the comment.
            out.push_str("\\/");
        } else {
            out.push(c);
        }
    }
    // A trailing `*` followed by our own ` */` is harmless, but a trailing `/` after `*` was handled.
    out
}

/// A TypeScript string literal (double quotes) for any text.
pub(crate) fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_dangerous(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `name` can be written bare as a property name or a type name (ASCII identifiers only).
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A property key: bare when it is an identifier (reserved words are fine there), quoted otherwise.
pub(crate) fn property_key(name: &str) -> String {
    if is_identifier(name) {
        name.to_string()
    } else {
        string_literal(name)
    }
}

/// Prose cut to its first sentence (two when the first is very short), at most `max_chars`
/// characters, with Markdown links and HTML tags reduced to their text. Empty when `max_chars` is 0.
pub(crate) fn summarize(text: &str, max_chars: usize) -> String {
    if max_chars == 0 {
        return String::new();
    }
    let plain = collapse_whitespace(&strip_markup(text));
    let mut end = sentence_end(&plain, 0);
    if end < 40 && end < plain.len() {
        let second = sentence_end(&plain, end);
        // A second sentence that is only a link ("More info: https://…") is not worth it.
        if !plain[end..second].contains("://") {
            end = second;
        }
    }
    let sentence = plain[..end].trim();
    truncate_chars(sentence, max_chars)
}

/// As much of `text` as fits in `max_chars`, in whole sentences kept in their order: the first
/// sentence, then the ones that state a rule (a precondition, a flag's meaning, a limit, an
/// exception: "needs `force=true`", "also returns pull requests"), then the rest of the prose.
/// A sentence longer than what is left is skipped, not cut, unless nothing was kept yet. Up to
/// [`BRIEF_CHARS`] this is [`summarize`]: the first sentence or two.
pub(crate) fn select_sentences(text: &str, max_chars: usize) -> String {
    if max_chars <= BRIEF_CHARS {
        return summarize(text, max_chars);
    }
    let plain = collapse_whitespace(&strip_markup(&strip_admonitions(text)));
    if plain.chars().count() <= max_chars {
        return plain;
    }
    let sentences = sentences(&plain);
    let mut kept = vec![false; sentences.len()];
    let mut used = 0usize;
    // Three passes, each keeping what fits in order: the first sentence, the rules, the rest.
    for pass in [Pass::First, Pass::Rules, Pass::Rest] {
        for (i, sentence) in sentences.iter().enumerate() {
            let wanted = match pass {
                Pass::First => i == 0,
                Pass::Rules => states_a_rule(sentence),
                Pass::Rest => true,
            };
            let chars = sentence.chars().count() + 1;
            if !kept[i] && wanted && used + chars <= max_chars {
                kept[i] = true;
                used += chars;
            }
        }
    }
    if used == 0 {
        return truncate_chars(&plain, max_chars);
    }
    let mut out: Vec<&str> = Vec::new();
    for (i, sentence) in sentences.iter().enumerate() {
        if kept[i] {
            out.push(sentence);
        } else if out.last() != Some(&"…") {
            out.push("…");
        }
    }
    out.join(" ")
}

/// What a pass of [`select_sentences`] keeps.
enum Pass {
    First,
    Rules,
    Rest,
}

/// Longest text [`select_sentences`] treats as a brief: the first sentence or two.
pub(crate) const BRIEF_CHARS: usize = 200;

/// Words that mark a sentence as a rule an agent must follow, not background prose.
const RULE_WORDS: &[&str] = &[
    "must",
    "required",
    "requires",
    "require",
    "need",
    "needs",
    "only",
    "cannot",
    "can't",
    "not",
    "never",
    "unless",
    "if",
    "when",
    "before",
    "after",
    "first",
    "also",
    "note",
    "important",
    "warning",
    "instead",
    "otherwise",
    "maximum",
    "minimum",
    "least",
    "most",
    "limit",
    "limited",
    "default",
    "defaults",
    "force",
    "fails",
    "fail",
    "error",
    "returns",
    "deprecated",
    "except",
    "includes",
    "including",
    "until",
    "always",
];

fn states_a_rule(sentence: &str) -> bool {
    sentence
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .any(|word| RULE_WORDS.contains(&word.to_ascii_lowercase().as_str()))
        || sentence.contains('=')
}

/// The sentences of already collapsed text.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let end = sentence_end(text, start);
        let sentence = text[start..end].trim();
        if !sentence.is_empty() {
            out.push(sentence);
        }
        start = end;
    }
    out
}

/// GitHub's `> [!NOTE]` callouts as plain words ("Note:"), and quote markers at line starts
/// dropped.
fn strip_admonitions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line.trim_start().trim_start_matches('>').trim_start();
        match line
            .strip_prefix("[!")
            .and_then(|rest| rest.split_once(']'))
        {
            Some((kind, rest)) => {
                let mut chars = kind.chars();
                if let Some(first) = chars.next() {
                    out.push(first.to_ascii_uppercase());
                    out.push_str(&chars.as_str().to_ascii_lowercase());
                    out.push(':');
                }
                out.push_str(rest);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Text cut into lines of at most `width` characters at spaces (a longer word gets a line of
/// its own).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The first sentence of already collapsed text.
pub(crate) fn first_sentence(text: &str) -> &str {
    text[..sentence_end(text, 0)].trim()
}

/// Cuts at a word boundary to at most `max_chars` characters, marking the cut with `…`.
pub(crate) fn truncate_chars(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let keep = max_chars.saturating_sub(1);
    let cut: String = text.chars().take(keep).collect();
    let ends_on_word = text.chars().nth(keep).is_some_and(char::is_whitespace);
    let at_word = match cut.rfind(' ') {
        Some(i) if !ends_on_word && i > cut.len() / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end_matches([',', ';', ':', ' ']))
}

/// The byte index just past the sentence that starts at `from` (or the end of the text).
fn sentence_end(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        if matches!(b, b'.' | b'!' | b'?') {
            let next = bytes.get(i + 1).copied();
            if next.is_none() || next == Some(b' ') {
                // "e.g. " and "i.e. " do not end a sentence.
                let before = &text[from..i];
                if !(before.ends_with("e.g") || before.ends_with("i.e") || before.ends_with("etc"))
                {
                    return i + 1;
                }
            }
        }
        i += 1;
    }
    bytes.len()
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `[text](url)` → `text`, `<tag attr>` → nothing, `**bold**` → `bold`.
fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '['
            && let Some(close) = rest.find("](")
            && !rest[1..close].contains(['[', '\n'])
            && let Some(paren) = rest[close + 2..].find(')')
        {
            out.push_str(&rest[1..close]);
            rest = &rest[close + 2 + paren + 1..];
            continue;
        }
        if c == '<'
            && rest[1..].starts_with(|n: char| n.is_ascii_alphabetic() || n == '/')
            && let Some(close) = rest.find('>')
            && !rest[1..close].contains(['\n', '<'])
        {
            rest = &rest[close + 1..];
            continue;
        }
        if rest.starts_with("**") {
            rest = &rest[2..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_cannot_be_closed_or_broken() {
        let hostile = "a */ b \u{2028} c\nd\r\ne\u{0}f\u{202e}g**/";
        let safe = comment(hostile);
        assert!(!safe.contains("*/"), "{safe}");
        assert!(
            !safe.contains(['\n', '\r', '\u{2028}', '\u{0}', '\u{202e}']),
            "{safe}"
        );
        // U+2028 is whitespace: it becomes a plain space like any line break.
        assert_eq!(safe, "a *\\/ b c d e f\\u202eg**\\/");
    }

    #[test]
    fn literals_escape_everything_that_ends_them() {
        assert_eq!(
            string_literal("a\"b\\c\nd\u{2029}`${x}`"),
            "\"a\\\"b\\\\c\\nd\\u2029`${x}`\""
        );
    }

    #[test]
    fn keys_are_quoted_only_when_needed() {
        assert_eq!(property_key("default"), "default");
        assert_eq!(property_key("x-rate"), "\"x-rate\"");
        assert_eq!(property_key("1a"), "\"1a\"");
        assert_eq!(property_key(""), "\"\"");
        assert_eq!(property_key("$ref"), "$ref");
    }

    #[test]
    fn long_selections_keep_rules_before_prose() {
        let description = "Cancels a shipment. Shipments are packed in the warehouse by a team of \
            people who care a lot about parcels and their journeys across the country. \
            A shipment on a manifest needs `force=true`. Our depots are open every day of the \
            week and the vans leave in the morning at seven. Cancelled shipments are archived.";
        for max in [201, 210, 260] {
            let kept = select_sentences(description, max);
            assert!(kept.starts_with("Cancels a shipment. "), "{kept}");
            assert!(
                kept.contains(" A shipment on a manifest needs `force=true`."),
                "{kept}"
            );
            assert!(kept.contains('…'), "{kept}");
            // Each kept sentence counts one separator; the `…` marks are extra.
            assert!(kept.replace(" …", "").chars().count() <= max, "{kept}");
        }
        assert_eq!(select_sentences("Short. Whole.", 300), "Short. Whole.");
        // Brief selections are the first sentence, as before.
        assert_eq!(
            select_sentences(description, 60),
            summarize(description, 60)
        );
        assert_eq!(
            select_sentences("> [!NOTE]\n> This list also returns pull requests.", 300),
            "Note: This list also returns pull requests."
        );
    }

    #[test]
    fn wrapping_keeps_every_word() {
        let text = "word ".repeat(60);
        let lines = wrap(&text, 23);
        assert!(lines.iter().all(|l| l.len() <= 23), "{lines:?}");
        assert_eq!(lines.join(" "), text.trim_end());
        assert_eq!(wrap("", 10), Vec::<String>::new());
    }

    #[test]
    fn summaries_keep_a_sentence_or_two() {
        assert_eq!(
            summarize(
                "Merges a pull request into the base branch. This endpoint triggers notifications.",
                200
            ),
            "Merges a pull request into the base branch."
        );
        assert_eq!(
            summarize("Short one. Then a second sentence. Third.", 200),
            "Short one. Then a second sentence."
        );
        assert_eq!(
            summarize(
                "See [the docs](https://x.y/z) for <b>more</b>, e.g. this.",
                200
            ),
            "See the docs for more, e.g. this."
        );
        assert_eq!(
            summarize("word ".repeat(50).as_str(), 20),
            "word word word word…"
        );
        assert_eq!(summarize("anything", 0), "");
    }
}
