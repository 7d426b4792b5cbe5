//! What an agent may call: read-only mode, allow/deny rules and confirmation rules, decided per
//! operation before anything reaches the network.

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;

use crate::spec::{Method, Operation};

/// One rule as written in the config file. Every field given must match; an empty rule matches
/// nothing (so a typo cannot allow everything).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// An HTTP method, any case.
    pub method: Option<String>,
    /// A tag the operation carries.
    pub tag: Option<String>,
    /// A glob over the path template: `*` is one segment, `**` any number (`/repos/*/issues/**`).
    pub path: Option<String>,
    /// An operation name or original operationId.
    pub operation: Option<String>,
}

/// The policy configuration: `--read-only` plus `[[allow]]`, `[[deny]]` and `[[confirm]]` rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub allow: Vec<RuleSpec>,
    #[serde(default)]
    pub deny: Vec<RuleSpec>,
    #[serde(default)]
    pub confirm: Vec<RuleSpec>,
    /// Ask before every mutating call (when the client can be asked).
    #[serde(default)]
    pub confirm_mutating: bool,
    /// What happens when a confirmation is needed but the client cannot ask: `deny` (default) or `allow`.
    #[serde(default)]
    pub confirm_fallback: ConfirmFallback,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ConfirmFallback {
    #[default]
    Deny,
    Allow,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid path glob {glob:?}: {message}")]
pub struct PolicyError {
    glob: String,
    message: String,
}

struct Rule {
    method: Option<Method>,
    tag: Option<String>,
    path: Option<GlobMatcher>,
    operation: Option<String>,
    always_false: bool,
}

impl Rule {
    fn compile(spec: &RuleSpec) -> Result<Rule, PolicyError> {
        let path = match &spec.path {
            Some(glob) => Some(
                GlobBuilder::new(glob)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| PolicyError {
                        glob: glob.clone(),
                        message: e.to_string(),
                    })?
                    .compile_matcher(),
            ),
            None => None,
        };
        let method = spec.method.as_deref().map(Method::parse);
        Ok(Rule {
            // An unknown method name can never match.
            always_false: matches!(method, Some(None))
                || (spec.method.is_none()
                    && spec.tag.is_none()
                    && spec.path.is_none()
                    && spec.operation.is_none()),
            method: method.flatten(),
            tag: spec.tag.clone(),
            path,
            operation: spec.operation.clone(),
        })
    }

    fn matches(&self, op: &Operation) -> bool {
        if self.always_false {
            return false;
        }
        self.method.is_none_or(|m| m == op.method)
            && self
                .tag
                .as_ref()
                .is_none_or(|t| op.tags.iter().any(|x| x == t))
            && self.path.as_ref().is_none_or(|g| g.is_match(&op.path))
            && self
                .operation
                .as_ref()
                .is_none_or(|n| *n == op.name || op.operation_id.as_deref() == Some(n))
    }
}

/// A compiled [`PolicyConfig`].
pub struct Policy {
    read_only: bool,
    allow: Vec<Rule>,
    deny: Vec<Rule>,
    confirm: Vec<Rule>,
    confirm_mutating: bool,
    pub(crate) confirm_fallback: ConfirmFallback,
}

/// The verdict for one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed {
        confirm: bool,
    },
    /// Why, in words a model understands.
    Blocked(String),
}

impl Policy {
    pub fn new(config: &PolicyConfig) -> Result<Policy, PolicyError> {
        let compile = |rules: &[RuleSpec]| {
            rules
                .iter()
                .map(Rule::compile)
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Policy {
            read_only: config.read_only,
            allow: compile(&config.allow)?,
            deny: compile(&config.deny)?,
            confirm: compile(&config.confirm)?,
            confirm_mutating: config.confirm_mutating,
            confirm_fallback: config.confirm_fallback,
        })
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Deny wins; in read-only mode only non-mutating operations and explicitly allowed ones pass;
    /// otherwise, once any allow rule exists, only what it matches passes.
    pub fn verdict(&self, op: &Operation) -> Verdict {
        if self.deny.iter().any(|r| r.matches(op)) {
            return Verdict::Blocked(format!(
                "{} ({}) is denied by the server's policy",
                op.name,
                op.key()
            ));
        }
        let explicitly_allowed = self.allow.iter().any(|r| r.matches(op));
        let allowed = explicitly_allowed
            || if self.read_only {
                !op.is_mutating()
            } else {
                self.allow.is_empty()
            };
        if !allowed {
            return Verdict::Blocked(if self.read_only {
                format!(
                    "{} ({}) changes data and the server is read-only",
                    op.name,
                    op.key()
                )
            } else {
                format!(
                    "{} ({}) is not in the server's allow list",
                    op.name,
                    op.key()
                )
            });
        }
        let confirm = (self.confirm_mutating && op.is_mutating())
            || self.confirm.iter().any(|r| r.matches(op));
        Verdict::Allowed { confirm }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> crate::spec::Spec {
        crate::spec::load_str(
            "policy.yaml",
            r#"
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /pets:
    get: {operationId: listPets, tags: [pets], responses: {"200": {description: ok}}}
    post: {operationId: createPet, tags: [pets], responses: {"201": {description: ok}}}
  /pets/{id}:
    delete: {operationId: deletePet, tags: [admin], responses: {"204": {description: ok}}}
"#,
        )
        .unwrap()
    }

    fn verdicts(config: PolicyConfig) -> Vec<(String, Verdict)> {
        let spec = spec();
        let policy = Policy::new(&config).unwrap();
        spec.operations
            .iter()
            .map(|op| (op.name.clone(), policy.verdict(op)))
            .collect()
    }

    fn allowed(v: &[(String, Verdict)]) -> Vec<&str> {
        v.iter()
            .filter(|(_, v)| matches!(v, Verdict::Allowed { .. }))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    #[test]
    fn default_allows_everything() {
        assert_eq!(
            allowed(&verdicts(PolicyConfig::default())),
            ["listPets", "createPet", "deletePet"]
        );
    }

    #[test]
    fn read_only_allows_reads_and_explicit_exceptions() {
        let v = verdicts(PolicyConfig {
            read_only: true,
            ..Default::default()
        });
        assert_eq!(allowed(&v), ["listPets"]);
        assert_eq!(
            v[1].1,
            Verdict::Blocked(
                "createPet (POST /pets) changes data and the server is read-only".into()
            )
        );
        let v = verdicts(PolicyConfig {
            read_only: true,
            allow: vec![RuleSpec {
                operation: Some("createPet".into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert_eq!(allowed(&v), ["listPets", "createPet"]);
    }

    #[test]
    fn deny_wins_over_allow() {
        let v = verdicts(PolicyConfig {
            allow: vec![RuleSpec {
                tag: Some("pets".into()),
                ..Default::default()
            }],
            deny: vec![RuleSpec {
                method: Some("post".into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert_eq!(allowed(&v), ["listPets"]);
    }

    #[test]
    fn path_globs_match_segments() {
        let v = verdicts(PolicyConfig {
            deny: vec![RuleSpec {
                path: Some("/pets/*".into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert_eq!(allowed(&v), ["listPets", "createPet"]);
        let v = verdicts(PolicyConfig {
            deny: vec![RuleSpec {
                path: Some("/**".into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert!(allowed(&v).is_empty());
    }

    #[test]
    fn empty_or_unknown_rules_match_nothing() {
        let v = verdicts(PolicyConfig {
            deny: vec![
                RuleSpec::default(),
                RuleSpec {
                    method: Some("FETCH".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
        assert_eq!(allowed(&v).len(), 3);
    }

    #[test]
    fn confirm_rules() {
        let v = verdicts(PolicyConfig {
            confirm_mutating: true,
            ..Default::default()
        });
        assert_eq!(v[0].1, Verdict::Allowed { confirm: false });
        assert_eq!(v[1].1, Verdict::Allowed { confirm: true });
        let v = verdicts(PolicyConfig {
            confirm: vec![RuleSpec {
                tag: Some("admin".into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert_eq!(v[2].1, Verdict::Allowed { confirm: true });
        assert_eq!(v[1].1, Verdict::Allowed { confirm: false });
    }
}
