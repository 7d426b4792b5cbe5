//! What an agent may call: read-only mode, allow/deny rules and confirmation rules, decided per
//! operation before anything reaches the network.
//!
//! Rules are checked against the spec when the policy is built: a method that is not an HTTP
//! method, a tag no operation carries or an operation the spec does not have is an error naming
//! the rule and the nearest real name, because a misspelt deny rule would otherwise be off
//! without a word.

use std::fmt;

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;

use crate::caller::Caller;
use crate::spec::{Method, Operation, Spec};

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
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Block every mutating operation (anything but GET, HEAD, OPTIONS, TRACE) unless an allow
    /// rule matches it. Default false.
    #[serde(default)]
    pub read_only: bool,
    /// When not empty, only operations some rule matches may be called (read-only mode aside:
    /// there, reads pass anyway and a rule lets a mutating operation through). Default empty.
    #[serde(default)]
    pub allow: Vec<RuleSpec>,
    /// Operations any rule matches are blocked, whatever the allow rules say. Default empty.
    #[serde(default)]
    pub deny: Vec<RuleSpec>,
    /// Operations any rule matches need the user's confirmation before each call. Default empty.
    #[serde(default)]
    pub confirm: Vec<RuleSpec>,
    /// Ask before every mutating call (when the client can be asked).
    #[serde(default)]
    pub confirm_mutating: bool,
    /// What happens when a confirmation is needed but the client cannot ask: `deny` (default) or `allow`.
    #[serde(default)]
    pub confirm_fallback: ConfirmFallback,
    /// The scope an authenticated caller's token must grant for mutating calls. A caller
    /// without it gets this API read-only: mutating calls fail naming the scope, and search
    /// answers mark them blocked for that caller. A run or search with no authenticated caller
    /// ([`ExecuteRequest::caller`](crate::ExecuteRequest::caller) `None`) gets it read-only
    /// too: scopes nobody checked cannot grant anything. Default none.
    #[serde(default)]
    pub write_scope: Option<String>,
}

/// What happens to a call that needs confirmation when the client cannot ask the user.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ConfirmFallback {
    /// The call is not sent and fails (the default).
    #[default]
    Deny,
    /// The call is sent, and the run's log says it went out unconfirmed.
    Allow,
}

/// Which list a rule is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleTable {
    /// `[[allow]]`, [`PolicyConfig::allow`].
    Allow,
    /// `[[deny]]`, [`PolicyConfig::deny`].
    Deny,
    /// `[[confirm]]`, [`PolicyConfig::confirm`].
    Confirm,
}

impl RuleTable {
    /// The table's name in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleTable::Allow => "allow",
            RuleTable::Deny => "deny",
            RuleTable::Confirm => "confirm",
        }
    }
}

/// Where a rule is: its table and its place in it, printed as in the config file
/// (`[[deny]] entry 2`, counting from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleLocation {
    /// The list the rule is in.
    pub table: RuleTable,
    /// Index in the table, from 0.
    pub index: usize,
}

impl fmt::Display for RuleLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[[{}]] entry {}", self.table.as_str(), self.index + 1)
    }
}

/// A rule that cannot mean what was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The rule's `path` is not a valid glob.
    #[error("{rule}: invalid path glob {glob:?}")]
    PathGlob {
        /// Which rule: its table and place (`[[deny]] entry 2`).
        rule: RuleLocation,
        /// The rule's `path`, as written.
        glob: String,
        /// What globset found wrong with it.
        #[source]
        source: globset::Error,
    },
    /// The rule's `method` is not an HTTP method (a misspelt one would match nothing).
    #[error(
        "{rule}: method {name:?} is not an HTTP method{}",
        did_you_mean(suggestion)
    )]
    UnknownMethod {
        /// Which rule: its table and place (`[[deny]] entry 2`).
        rule: RuleLocation,
        /// The method as written.
        name: String,
        /// The nearest real name, when it is near enough to be a typo of `name`.
        suggestion: Option<String>,
    },
    /// No operation of the spec carries the rule's `tag`.
    #[error(
        "{rule}: no operation has the tag {name:?}{}",
        did_you_mean(suggestion)
    )]
    UnknownTag {
        /// Which rule: its table and place (`[[deny]] entry 2`).
        rule: RuleLocation,
        /// The tag as written.
        name: String,
        /// The nearest real name, when it is near enough to be a typo of `name`.
        suggestion: Option<String>,
    },
    /// The rule's `operation` is neither an operation name nor an operationId of the spec.
    #[error(
        "{rule}: the spec has no operation {name:?}{}",
        did_you_mean(suggestion)
    )]
    UnknownOperation {
        /// Which rule: its table and place (`[[deny]] entry 2`).
        rule: RuleLocation,
        /// The operation as written.
        name: String,
        /// The nearest real name, when it is near enough to be a typo of `name`.
        suggestion: Option<String>,
    },
}

impl PolicyError {
    /// The rule the error is about.
    pub fn rule(&self) -> RuleLocation {
        match self {
            PolicyError::PathGlob { rule, .. }
            | PolicyError::UnknownMethod { rule, .. }
            | PolicyError::UnknownTag { rule, .. }
            | PolicyError::UnknownOperation { rule, .. } => *rule,
        }
    }
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(name) => format!(" (did you mean {name:?}?)"),
        None => String::new(),
    }
}

/// The candidate nearest to `name` (case aside), when it is near enough to be a typo of it.
fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let wanted = name.to_lowercase();
    // One edit in four characters: `DELTE` is `DELETE`, but `FETCH` is not `PATCH`.
    let most = (wanted.chars().count() / 4).max(1);
    candidates
        .into_iter()
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&wanted, &candidate.to_lowercase());
            (distance, candidate)
        })
        .filter(|(distance, _)| *distance <= most)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.to_string())
}

/// Compiles a rule's path glob.
fn path_matcher(
    rule: &RuleSpec,
    location: RuleLocation,
) -> Result<Option<GlobMatcher>, PolicyError> {
    let Some(glob) = &rule.path else {
        return Ok(None);
    };
    let matcher = GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map_err(|source| PolicyError::PathGlob {
            rule: location,
            glob: glob.clone(),
            source,
        })?
        .compile_matcher();
    Ok(Some(matcher))
}

/// Checks one rule's path glob, and the names it uses against the spec.
fn check_rule(spec: &Spec, rule: &RuleSpec, location: RuleLocation) -> Result<(), PolicyError> {
    path_matcher(rule, location)?;
    if let Some(name) = &rule.method
        && Method::parse(name).is_none()
    {
        return Err(PolicyError::UnknownMethod {
            rule: location,
            name: name.clone(),
            suggestion: nearest(name, Method::ALL.map(Method::as_str)),
        });
    }
    if let Some(name) = &rule.tag {
        let mut tags = spec.operations.iter().flat_map(|op| op.tags.iter());
        if !tags.any(|tag| tag == name) {
            let tags = spec.operations.iter().flat_map(|op| &op.tags);
            return Err(PolicyError::UnknownTag {
                rule: location,
                name: name.clone(),
                suggestion: nearest(name, tags.map(String::as_str)),
            });
        }
    }
    if let Some(name) = &rule.operation
        && !spec.operations.iter().any(|op| names_operation(name, op))
    {
        let names = spec
            .operations
            .iter()
            .flat_map(|op| std::iter::once(op.name.as_str()).chain(op.operation_id.as_deref()));
        return Err(PolicyError::UnknownOperation {
            rule: location,
            name: name.clone(),
            suggestion: nearest(name, names),
        });
    }
    Ok(())
}

fn names_operation(name: &str, op: &Operation) -> bool {
    name == op.name || op.operation_id.as_deref() == Some(name)
}

impl PolicyConfig {
    /// Checks that every rule's path glob compiles and that it names real methods, tags and
    /// operations of `spec`; the first rule that does not is the error.
    pub fn check(&self, spec: &Spec) -> Result<(), PolicyError> {
        for (table, rules) in self.tables() {
            for (index, rule) in rules.iter().enumerate() {
                check_rule(spec, rule, RuleLocation { table, index })?;
            }
        }
        Ok(())
    }

    fn tables(&self) -> [(RuleTable, &[RuleSpec]); 3] {
        [
            (RuleTable::Allow, &self.allow),
            (RuleTable::Deny, &self.deny),
            (RuleTable::Confirm, &self.confirm),
        ]
    }
}

struct Rule {
    method: Option<Method>,
    tag: Option<String>,
    path: Option<GlobMatcher>,
    operation: Option<String>,
    /// An empty rule matches nothing, so that a rule with no keys cannot allow everything.
    empty: bool,
}

impl Rule {
    /// Compiles a rule [`PolicyConfig::check`] has accepted.
    fn compile(spec: &RuleSpec, location: RuleLocation) -> Result<Rule, PolicyError> {
        let path = path_matcher(spec, location)?;
        Ok(Rule {
            method: spec.method.as_deref().and_then(Method::parse),
            tag: spec.tag.clone(),
            path,
            operation: spec.operation.clone(),
            empty: spec.method.is_none()
                && spec.tag.is_none()
                && spec.path.is_none()
                && spec.operation.is_none(),
        })
    }

    fn matches(&self, op: &Operation) -> bool {
        if self.empty {
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
                .is_none_or(|n| names_operation(n, op))
    }
}

/// A compiled [`PolicyConfig`].
pub(crate) struct Policy {
    read_only: bool,
    allow: Vec<Rule>,
    deny: Vec<Rule>,
    confirm: Vec<Rule>,
    confirm_mutating: bool,
    pub(crate) confirm_fallback: ConfirmFallback,
    /// The scope an authenticated caller needs for mutating calls.
    write_scope: Option<String>,
    /// Whose rules these are, as messages name them: "the server", or with several APIs "the
    /// stripe API" (the server as a whole is not read-only when one of its APIs is).
    owner: String,
}

/// The verdict for one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The operation may be called.
    Allowed {
        /// Each call needs the user's confirmation first (a confirm rule matched, or
        /// `confirm_mutating` and the operation is mutating).
        confirm: bool,
    },
    /// Why, in words a model understands.
    Blocked(String),
}

impl Policy {
    /// Checks the rules against `spec` ([`PolicyConfig::check`]) and compiles them.
    pub(crate) fn new(config: &PolicyConfig, spec: &Spec) -> Result<Policy, PolicyError> {
        config.check(spec)?;
        let compile = |table: RuleTable, rules: &[RuleSpec]| {
            rules
                .iter()
                .enumerate()
                .map(|(index, rule)| Rule::compile(rule, RuleLocation { table, index }))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Policy {
            read_only: config.read_only,
            allow: compile(RuleTable::Allow, &config.allow)?,
            deny: compile(RuleTable::Deny, &config.deny)?,
            confirm: compile(RuleTable::Confirm, &config.confirm)?,
            confirm_mutating: config.confirm_mutating,
            confirm_fallback: config.confirm_fallback,
            write_scope: config.write_scope.clone(),
            owner: "the server".into(),
        })
    }

    /// The same rules, named in messages as `api`'s (one API of several).
    pub(crate) fn of_api(mut self, api: &str) -> Policy {
        self.owner = format!("the {api} API");
        self
    }

    pub(crate) fn read_only(&self) -> bool {
        self.read_only
    }

    pub(crate) fn write_scope(&self) -> Option<&str> {
        self.write_scope.as_deref()
    }

    /// [`Policy::verdict`] for one caller: a mutating operation the rules allow is blocked when
    /// a `write_scope` is set and the caller's token does not grant it, or when nobody
    /// authenticated the caller at all (fail closed: a server that checks no tokens cannot let
    /// a scope rule pass).
    pub(crate) fn verdict_for(&self, op: &Operation, caller: Option<&Caller>) -> Verdict {
        let verdict = self.verdict(op);
        let (Verdict::Allowed { .. }, Some(scope)) = (&verdict, &self.write_scope) else {
            return verdict;
        };
        if !op.is_mutating() {
            return verdict;
        }
        let who = match caller {
            Some(caller) if caller.scopes.contains(scope) => return verdict,
            Some(_) => "this caller's token does not grant it",
            None => "this request carries no authenticated caller",
        };
        Verdict::Blocked(format!(
            "{} ({}) changes data, which {} allows only to callers whose token has the \
             `{scope}` scope; {who}",
            op.name,
            op.key(),
            self.owner
        ))
    }

    /// Deny wins; in read-only mode only non-mutating operations and explicitly allowed ones pass;
    /// otherwise, once any allow rule exists, only what it matches passes.
    pub(crate) fn verdict(&self, op: &Operation) -> Verdict {
        if self.deny.iter().any(|r| r.matches(op)) {
            return Verdict::Blocked(format!(
                "{} ({}) is denied by {}'s policy",
                op.name,
                op.key(),
                self.owner
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
                    "{} ({}) changes data and {} is read-only",
                    op.name,
                    op.key(),
                    self.owner
                )
            } else {
                format!(
                    "{} ({}) is not in {}'s allow list",
                    op.name,
                    op.key(),
                    self.owner
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
        let policy = Policy::new(&config, &spec).unwrap();
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
    fn empty_rules_match_nothing() {
        let v = verdicts(PolicyConfig {
            deny: vec![RuleSpec::default()],
            ..Default::default()
        });
        assert_eq!(allowed(&v).len(), 3);
    }

    /// The error for one rule in `table`, which must be refused.
    fn refused(table: RuleTable, rule: RuleSpec) -> PolicyError {
        let mut config = PolicyConfig::default();
        // A good rule first, so the location must count.
        let good = RuleSpec {
            method: Some("GET".into()),
            ..Default::default()
        };
        let list = match table {
            RuleTable::Allow => &mut config.allow,
            RuleTable::Deny => &mut config.deny,
            RuleTable::Confirm => &mut config.confirm,
        };
        list.extend([good, rule]);
        match Policy::new(&config, &spec()) {
            Ok(_) => panic!("the rule was accepted"),
            Err(error) => error,
        }
    }

    #[test]
    fn a_misspelt_method_fails_with_its_place_and_the_real_name() {
        let error = refused(
            RuleTable::Deny,
            RuleSpec {
                method: Some("DELTE".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            error.to_string(),
            r#"[[deny]] entry 2: method "DELTE" is not an HTTP method (did you mean "DELETE"?)"#
        );
        assert_eq!(
            error.rule(),
            RuleLocation {
                table: RuleTable::Deny,
                index: 1
            }
        );
        let error = refused(
            RuleTable::Allow,
            RuleSpec {
                method: Some("FETCH".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            error.to_string(),
            r#"[[allow]] entry 2: method "FETCH" is not an HTTP method"#
        );
    }

    #[test]
    fn an_unknown_tag_fails_with_its_place_and_the_real_name() {
        let error = refused(
            RuleTable::Confirm,
            RuleSpec {
                tag: Some("admn".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            error.to_string(),
            r#"[[confirm]] entry 2: no operation has the tag "admn" (did you mean "admin"?)"#
        );
    }

    #[test]
    fn an_unknown_operation_fails_with_its_place_and_the_real_name() {
        let error = refused(
            RuleTable::Deny,
            RuleSpec {
                operation: Some("deletePets".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            error.to_string(),
            r#"[[deny]] entry 2: the spec has no operation "deletePets" (did you mean "deletePet"?)"#
        );
        let error = refused(
            RuleTable::Allow,
            RuleSpec {
                operation: Some("somethingElseEntirely".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            error.to_string(),
            r#"[[allow]] entry 2: the spec has no operation "somethingElseEntirely""#
        );
    }

    #[test]
    fn a_bad_glob_keeps_its_cause() {
        let error = refused(
            RuleTable::Deny,
            RuleSpec {
                path: Some("/pets/[".into()),
                ..Default::default()
            },
        );
        assert!(
            error
                .to_string()
                .starts_with("[[deny]] entry 2: invalid path glob"),
            "{error}"
        );
        assert!(std::error::Error::source(&error).is_some());
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
