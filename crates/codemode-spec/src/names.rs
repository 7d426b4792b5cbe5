//! Operation names: unique, stable, valid JavaScript identifiers, made from the operationId or,
//! when there is none, from the method and path.

use std::collections::HashSet;

use crate::model::Method;

/// Words that cannot be identifiers in strict-mode JavaScript (or are confusing as ones).
const RESERVED: &[&str] = &[
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "arguments",
    "eval",
    "undefined",
];

/// Turns arbitrary text into a camelCase identifier: `repos/get-content` → `reposGetContent`,
/// `GetCustomers` → `getCustomers`, `apps_list` → `appsList`. Never returns an empty string.
pub fn identifier_from(text: &str) -> String {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = String::with_capacity(text.len());
    for (i, word) in words.iter().enumerate() {
        let mut chars = word.chars();
        let Some(first) = chars.next() else { continue };
        if i == 0 {
            // Lower a leading capital unless it starts an acronym (`URLs` stays as it is).
            let second_is_upper = word.chars().nth(1).is_some_and(|c| c.is_ascii_uppercase());
            if second_is_upper {
                out.push(first)
            } else {
                out.push(first.to_ascii_lowercase())
            }
        } else {
            out.push(first.to_ascii_uppercase());
        }
        out.push_str(chars.as_str());
    }
    if out.is_empty() {
        out.push_str("operation");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if RESERVED.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// A name for an operation without an operationId: `GET /pets/{petId}` → `getPetsPetId`.
pub fn identifier_for_route(method: Method, path: &str) -> String {
    identifier_from(&format!(
        "{} {}",
        method.as_str().to_ascii_lowercase(),
        path
    ))
}

/// Hands out unique names in the order asked: the first keeps the base name, later ones get `2`, `3`, ….
#[derive(Default)]
pub struct NameAllocator {
    taken: HashSet<String>,
}

impl NameAllocator {
    /// `base` if no one has it yet, else `base` followed by the smallest number from 2 up that
    /// makes it unique; the name returned is taken from then on.
    pub fn allocate(&mut self, base: &str) -> String {
        if self.taken.insert(base.to_string()) {
            return base.to_string();
        }
        let name = (2..)
            .map(|n| format!("{base}{n}"))
            .find(|candidate| !self.taken.contains(candidate))
            .unwrap_or_else(|| base.to_string());
        self.taken.insert(name.clone());
        name
    }
}

/// Whether `name` is a valid JavaScript identifier in the ASCII subset we generate.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !RESERVED.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_from_real_operation_ids() {
        let cases = [
            ("repos/get-content", "reposGetContent"),
            ("GetCustomers", "getCustomers"),
            ("apps_list", "appsList"),
            ("URLsList", "URLsList"),
            ("listCoreV1NamespacedPod", "listCoreV1NamespacedPod"),
            ("3d-secure", "_3dSecure"),
            ("delete", "delete_"),
            ("", "operation"),
            ("??", "operation"),
            (
                "zone-level-access-applications-list",
                "zoneLevelAccessApplicationsList",
            ),
        ];
        for (input, expected) in cases {
            let got = identifier_from(input);
            assert_eq!(got, expected, "for {input:?}");
            assert!(is_identifier(&got), "{got:?} is not an identifier");
        }
    }

    #[test]
    fn route_names_and_collisions() {
        assert_eq!(
            identifier_for_route(Method::Get, "/pets/{petId}"),
            "getPetsPetId"
        );
        let mut names = NameAllocator::default();
        assert_eq!(names.allocate("a"), "a");
        assert_eq!(names.allocate("a"), "a2");
        assert_eq!(names.allocate("a2"), "a22");
        assert_eq!(names.allocate("a"), "a3");
    }
}
