//! The code forms a model writes, normalized into one source text, and the mapping of positions in the
//! text QuickJS runs back to the code the agent sent.

use crate::typescript::TsMap;
use std::sync::Arc;

/// The agent's code after unwrapping a Markdown fence and rewriting `export default`.
#[derive(Debug, Clone)]
pub(crate) struct AgentSource {
    pub code: String,
    /// Lines that preceded `code` in what the agent sent (the opening fence and any prose before it).
    pub line_offset: u32,
    /// The fence said `ts`/`typescript`: skip the JavaScript attempt.
    pub typescript: bool,
}

/// Prefix of the function-body form; kept on the first line so line numbers do not move.
pub(crate) const BODY_PREFIX: &str = "(async function () {";
/// Suffix of the function-body form, on its own line so a trailing `//` comment cannot swallow it.
pub(crate) const BODY_SUFFIX: &str = "\n})";

/// Unwrap the first fenced block (if any) and turn `export default X` into `return X`.
pub(crate) fn normalize(code: &str) -> AgentSource {
    let (code, line_offset, typescript) = match unfence(code) {
        Some((body, offset, lang)) => (
            body,
            offset,
            matches!(lang.as_str(), "ts" | "typescript" | "tsx" | "mts"),
        ),
        None => (code.to_string(), 0, false),
    };
    AgentSource {
        code: rewrite_export_default(&code),
        line_offset,
        typescript,
    }
}

/// The first ``` fenced block: its body, the number of lines before the body, and the language tag.
fn unfence(code: &str) -> Option<(String, u32, String)> {
    let lines: Vec<&str> = code.split('\n').collect();
    let open = lines
        .iter()
        .position(|line| line.trim_start().starts_with("```"))?;
    let lang = lines[open]
        .trim()
        .trim_start_matches('`')
        .trim()
        .to_ascii_lowercase();
    let rest = &lines[open + 1..];
    let close = rest
        .iter()
        .position(|line| line.trim() == "```")
        .unwrap_or(rest.len());
    let body = rest[..close].join("\n");
    Some((body, u32::try_from(open + 1).unwrap_or(u32::MAX), lang))
}

/// Replace a statement-leading `export default` by `return` padded to the same width, so columns hold.
fn rewrite_export_default(code: &str) -> String {
    const EXPORT_DEFAULT: &str = "export default";
    let mut out = String::with_capacity(code.len());
    let mut replaced = false;
    for (index, line) in code.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let follows = trimmed[EXPORT_DEFAULT.len().min(trimmed.len())..]
            .chars()
            .next();
        if !replaced
            && trimmed.starts_with(EXPORT_DEFAULT)
            && follows.is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != '$')
        {
            out.push_str(&line[..indent]);
            out.push_str("return        ");
            out.push_str(&trimmed[EXPORT_DEFAULT.len()..]);
            replaced = true;
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Maps a 1-based (line, col) in the text QuickJS ran to a 1-based (line, col) in the agent's code.
#[derive(Debug, Clone, Default)]
pub(crate) struct Locator {
    pub line_offset: u32,
    /// Columns the wrapper prefix added to the first line.
    pub first_line_shift: u32,
    pub typescript: Option<Arc<TsMap>>,
}

impl Locator {
    pub(crate) fn locate(&self, line: u32, col: u32) -> (u32, u32) {
        let col = if line == 1 {
            col.saturating_sub(self.first_line_shift).max(1)
        } else {
            col
        };
        let (line, col) = match &self.typescript {
            Some(map) => map.original(line, col),
            None => (line, col),
        };
        (line.saturating_add(self.line_offset), col)
    }
}

/// Keep only the agent's frames of a QuickJS stack (`    at f (agent.js:3:5)`), with mapped locations.
/// Returns the trimmed stack and the location of its first frame.
pub(crate) fn trim_stack(
    stack: &str,
    file: &str,
    locator: &Locator,
) -> (String, Option<(u32, u32)>) {
    let mut kept = Vec::new();
    let mut first = None;
    let marker = format!("{file}:");
    for line in stack.lines() {
        let Some(at) = line.find(&marker) else {
            continue;
        };
        let location = &line[at + marker.len()..];
        let digits: String = location
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ':')
            .collect();
        let mut numbers = digits.split(':').filter_map(|n| n.parse::<u32>().ok());
        let (Some(l), Some(c)) = (numbers.next(), numbers.next()) else {
            continue;
        };
        let (l, c) = locator.locate(l, c);
        first.get_or_insert((l, c));
        let name = line
            .trim_start()
            .strip_prefix("at ")
            .unwrap_or("")
            .split(" (")
            .next()
            .unwrap_or("");
        let name = if name.starts_with(file)
            || name == "<eval>"
            || name.is_empty()
            || name == "<anonymous>"
        {
            "<main>"
        } else {
            name
        };
        kept.push(format!("    at {name} (line {l}:{c})"));
    }
    (kept.join("\n"), first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfences_and_counts_lines() {
        let source = normalize("Here you go:\n```ts\nconst a: number = 1;\nreturn a;\n```\nthanks");
        assert_eq!(source.code, "const a: number = 1;\nreturn a;");
        assert_eq!(source.line_offset, 2);
        assert!(source.typescript);
    }

    #[test]
    fn export_default_keeps_columns() {
        let source = normalize("export default async () => 1");
        assert_eq!(source.code, "return         async () => 1");
        assert_eq!(normalize("export defaultish").code, "export defaultish");
    }

    #[test]
    fn trims_foreign_frames() {
        let locator = Locator {
            line_offset: 1,
            first_line_shift: 0,
            typescript: None,
        };
        let (stack, first) = trim_stack(
            "    at f (agent.js:3:5)\n    at g (prelude.js:1:1)\n    at <eval> (agent.js:7:1)\n",
            "agent.js",
            &locator,
        );
        assert_eq!(stack, "    at f (line 4:5)\n    at <main> (line 8:1)");
        assert_eq!(first, Some((4, 5)));
    }
}
