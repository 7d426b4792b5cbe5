//! TypeScript type names for component schemas: valid, unique and deterministic per spec.
//!
//! `io.k8s.api.core.v1.Pod` → `IoK8sApiCoreV1Pod`, `pull-request-merge-result` →
//! `PullRequestMergeResult`. A name that would clash with a global of TypeScript's standard
//! library (`Error`, `Response`, `Record`…) or of the sandbox (`Api`, `ApiError`…) gets a `_`
//! suffix; names that still collide get `2`, `3`… in the order the spec lists its schemas.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use codemode_spec::Spec;

use crate::globals::GLOBAL_NAMES;

/// Global names of TypeScript 5.9's `lib.*.d.ts` that start with a capital (see the file header).
const TYPESCRIPT_GLOBALS: &str = include_str!("reserved_globals.txt");

fn reserved() -> &'static HashSet<&'static str> {
    static RESERVED: OnceLock<HashSet<&'static str>> = OnceLock::new();
    RESERVED.get_or_init(|| {
        TYPESCRIPT_GLOBALS
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .chain(GLOBAL_NAMES.iter().copied())
            .collect()
    })
}

/// The type names of every component schema of one spec.
#[derive(Debug, Clone)]
pub struct TypeNames {
    by_schema: HashMap<String, String>,
    /// TypeScript name → schema name (names in a query are looked up here).
    by_type: HashMap<String, String>,
}

impl TypeNames {
    /// Names every component schema of `spec`: its name as a PascalCase identifier, with `2`,
    /// `3`, … appended in document order where two schemas would get the same one.
    pub fn new(spec: &Spec) -> TypeNames {
        let mut taken: HashSet<String> = HashSet::with_capacity(spec.schemas().len());
        let mut by_schema = HashMap::with_capacity(spec.schemas().len());
        for schema_name in spec.schemas().keys() {
            let base = pascal_identifier(schema_name);
            let mut name = base.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{base}{n}");
                n += 1;
            }
            taken.insert(name.clone());
            by_schema.insert(schema_name.clone(), name);
        }
        let by_type = by_schema
            .iter()
            .map(|(schema, name)| (name.clone(), schema.clone()))
            .collect();
        TypeNames { by_schema, by_type }
    }

    /// The component schema a name stands for: its TypeScript name, or the spec's own name.
    pub fn schema_named(&self, name: &str) -> Option<&str> {
        if let Some((schema, _)) = self.by_schema.get_key_value(name) {
            return Some(schema);
        }
        self.by_type.get(name).map(String::as_str)
    }

    /// The type name of a component schema; a schema the spec does not have gets a fresh
    /// identifier derived the same way (it can then not be guaranteed unique).
    pub fn get(&self, schema_name: &str) -> String {
        self.by_schema
            .get(schema_name)
            .cloned()
            .unwrap_or_else(|| pascal_identifier(schema_name))
    }
}

/// `io.k8s.api.core.v1.Pod` → `IoK8sApiCoreV1Pod`; never empty, never a reserved global.
fn pascal_identifier(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.is_empty() {
        out.push_str("Schema");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if reserved().contains(out.as_str()) {
        out.push('_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_pascal_case_identifiers() {
        let cases = [
            ("io.k8s.api.core.v1.Pod", "IoK8sApiCoreV1Pod"),
            ("pull-request-merge-result", "PullRequestMergeResult"),
            ("customer", "Customer"),
            ("3d_secure", "_3dSecure"),
            ("Error", "Error_"),
            ("response", "Response_"),
            ("ApiError", "ApiError_"),
            ("??", "Schema"),
            ("ünïcode name", "NCodeName"),
        ];
        for (input, expected) in cases {
            assert_eq!(pascal_identifier(input), expected, "for {input:?}");
            assert!(crate::text::is_identifier(expected));
        }
    }

    #[test]
    fn collisions_get_numbers_in_spec_order() {
        let spec = codemode_spec::load_str(
            "t.json",
            r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{},
            "components":{"schemas":{"a-b":{},"a_b":{},"AB":{},"AB2":{}}}}"#,
        )
        .unwrap();
        let names = TypeNames::new(&spec);
        assert_eq!(names.get("a-b"), "AB");
        assert_eq!(names.get("a_b"), "AB2");
        assert_eq!(names.get("AB"), "AB3");
        assert_eq!(names.get("AB2"), "AB22");
    }
}
