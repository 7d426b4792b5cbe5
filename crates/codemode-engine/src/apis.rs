//! The APIs one engine serves: one, called as `api.<operation>` exactly as before there could be
//! more, or several, each under its name (`api.github.<operation>`, `api.stripe.<operation>`).
//!
//! Owns what each API has on its own (spec, search index, declaration catalog, upstream client
//! with its credentials, policy, per-run call limits), the rules for API names, and the lookup of
//! operation names that may be qualified by an API (`stripe.getCharges`). Must not know the
//! sandbox, MCP or how answers are worded.
//!
//! **Invariant:** an API's credentials live only in its own upstream client, which sends only to
//! its own base URL's origin: nothing here lets a call made through one API use another's client.

use std::sync::Arc;

use crate::lines::LineTokens;
use crate::policy::{Policy, PolicyConfig, Verdict};
use crate::spec::{Operation, OperationId, Spec};
use crate::{EngineError, SessionSettings, upstream};

/// One API of an engine that serves several ([`crate::Engine::with_apis`]): its name, its spec
/// and everything that applies to its calls alone.
#[derive(Debug)]
pub struct ApiSetup {
    /// The name programs call it by (`api.<name>`): a short JavaScript identifier, unique within
    /// the engine (see [`check_api_name`]).
    pub name: String,
    /// The API's spec.
    pub spec: Spec,
    /// Where its calls go and with which credentials; `None`: calls fail with a clear message.
    pub upstream: Option<upstream::UpstreamConfig>,
    /// What may be called and what needs confirmation, for this API's operations only.
    pub policy: PolicyConfig,
    /// Limits on this API's calls in each run.
    pub session: SessionSettings,
}

/// Longest API name, in characters: it is typed in every call of a program.
pub const MAX_API_NAME_CHARS: usize = 32;

/// Words an API name cannot be besides JavaScript's reserved words (which
/// `codemode_spec::names::is_identifier` refuses): the client's own helpers (`request`,
/// `paginate`), `then` (an `api` with it would be awaited as a promise), the names every object
/// has, and TypeScript's type keywords (answers declare each API as a `namespace` of its name).
const RESERVED_API_NAMES: &[&str] = &[
    "any",
    "boolean",
    "constructor",
    "declare",
    "global",
    "hasOwnProperty",
    "module",
    "namespace",
    "never",
    "number",
    "object",
    "paginate",
    "prototype",
    "request",
    "string",
    "symbol",
    "then",
    "toString",
    "type",
    "unknown",
    "valueOf",
];

/// Checks that `name` can name an API: 1 to [`MAX_API_NAME_CHARS`] ASCII letters, digits and `_`,
/// not starting with a digit or `__`, and not a reserved word. Returns what is wrong, in words.
pub fn check_api_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err("an API name cannot be empty".into());
    };
    if name.chars().count() > MAX_API_NAME_CHARS {
        return Err(format!(
            "an API name has at most {MAX_API_NAME_CHARS} characters"
        ));
    }
    if !(first.is_ascii_alphabetic() || first == '_')
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(
            "an API name is a JavaScript identifier: letters, digits and _, not starting with a digit (e.g. github, stripe_test)"
                .into(),
        );
    }
    if name.starts_with("__") {
        return Err("an API name cannot start with __ (the sandbox's own names do)".into());
    }
    if RESERVED_API_NAMES.contains(&name) || !crate::spec::names::is_identifier(name) {
        return Err(format!(
            "{name:?} is a reserved word of JavaScript, TypeScript or the api client"
        ));
    }
    Ok(())
}

/// Everything one API has on its own, built once with the engine.
pub(crate) struct Api {
    /// The name it was configured under; `None` for an engine built from one spec
    /// ([`crate::Engine::new`]).
    pub(crate) name: Option<String>,
    pub(crate) spec: Arc<Spec>,
    pub(crate) index: codemode_search::Index,
    /// Declaration pieces of the spec (and its TypeScript type names), made once and reused by
    /// every search answer.
    pub(crate) catalog: codemode_typescript::Catalog,
    /// The list operations that give the ids other operations take.
    pub(crate) lookups: crate::lookups::Lookups,
    /// Token counts of the lines that name operations in answers.
    pub(crate) line_tokens: LineTokens,
    pub(crate) client: Option<upstream::Client>,
    pub(crate) session: SessionSettings,
    pub(crate) policy: Policy,
}

impl Api {
    /// Builds the index, the catalog, the upstream client and the policy of one API.
    pub(crate) fn build(
        name: Option<String>,
        spec: Spec,
        upstream: Option<upstream::UpstreamConfig>,
        policy: &PolicyConfig,
        session: SessionSettings,
        search_budget_tokens: usize,
    ) -> Result<Api, EngineError> {
        let index = codemode_search::Index::build(&spec);
        let setup = ApiSetup {
            name: String::new(),
            spec,
            upstream,
            policy: policy.clone(),
            session,
        };
        Api::with_index(name, setup, index, search_budget_tokens)
    }

    /// Builds every API of `setups`, their search indexes (the bulk of the work: tens of
    /// milliseconds for a large spec) on a thread each. An API that cannot be built fails all,
    /// with its name.
    pub(crate) fn build_all(
        setups: Vec<ApiSetup>,
        search_budget_tokens: usize,
    ) -> Result<Vec<Api>, EngineError> {
        let indexes: Vec<codemode_search::Index> = std::thread::scope(|scope| {
            let building: Vec<_> = setups
                .iter()
                .map(|setup| scope.spawn(|| codemode_search::Index::build(&setup.spec)))
                .collect();
            building
                .into_iter()
                .map(|thread| {
                    thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        setups
            .into_iter()
            .zip(indexes)
            .map(|(setup, index)| {
                let name = setup.name.clone();
                Api::with_index(Some(name.clone()), setup, index, search_budget_tokens).map_err(
                    |error| EngineError::Api {
                        name,
                        source: Box::new(error),
                    },
                )
            })
            .collect()
    }

    fn with_index(
        name: Option<String>,
        setup: ApiSetup,
        index: codemode_search::Index,
        search_budget_tokens: usize,
    ) -> Result<Api, EngineError> {
        let spec = Arc::new(setup.spec);
        let catalog = codemode_typescript::Catalog::new(spec.clone(), search_budget_tokens);
        let line_tokens = LineTokens::new(spec.operations.len());
        let lookups = crate::lookups::Lookups::build(&spec);
        let client = setup
            .upstream
            .map(|config| upstream::Client::new(spec.clone(), config))
            .transpose()
            .map_err(EngineError::Upstream)?;
        let mut policy = Policy::new(&setup.policy, &spec).map_err(EngineError::Policy)?;
        if let Some(name) = &name {
            policy = policy.of_api(name);
        }
        Ok(Api {
            name,
            spec,
            index,
            catalog,
            lookups,
            line_tokens,
            client,
            session: setup.session,
            policy,
        })
    }

    /// Declares operations in TypeScript with the names worked out at start.
    pub(crate) fn declare(
        &self,
        operations: &[&Operation],
        options: &codemode_typescript::DeclareOptions,
    ) -> codemode_typescript::Declarations {
        codemode_typescript::Declarer::with_names(&self.spec, self.catalog.type_names())
            .declare_operations(operations, options)
    }

    /// Component schemas by name (TypeScript or spec name); also returns the names that are
    /// neither.
    pub(crate) fn declare_types(
        &self,
        names: &[&str],
        options: &codemode_typescript::DeclareOptions,
    ) -> (codemode_typescript::Declarations, Vec<String>) {
        codemode_typescript::Declarer::with_names(&self.spec, self.catalog.type_names())
            .declare_types(names, options)
    }
}

/// The APIs of an engine, with how programs and answers name them.
pub(crate) struct Apis {
    list: Vec<Api>,
}

impl Apis {
    pub(crate) fn new(list: Vec<Api>) -> Apis {
        Apis { list }
    }

    /// Whether programs call operations as `api.<api>.<operation>` (several APIs) rather than
    /// `api.<operation>`.
    pub(crate) fn namespaced(&self) -> bool {
        self.list.len() > 1
    }

    pub(crate) fn list(&self) -> &[Api] {
        &self.list
    }

    pub(crate) fn get(&self, index: usize) -> &Api {
        &self.list[index]
    }

    /// The first API: the only one of an engine built from one spec.
    pub(crate) fn first(&self) -> &Api {
        &self.list[0]
    }

    /// The index of the API a program named (`api.<name>`); with one API, `None` (no name) is it.
    pub(crate) fn index_of(&self, name: Option<&str>) -> Option<usize> {
        match name {
            None if !self.namespaced() => Some(0),
            None => None,
            Some(name) => self
                .list
                .iter()
                .position(|api| api.name.as_deref() == Some(name)),
        }
    }

    /// The configured names, in order, comma-separated: for messages.
    pub(crate) fn names(&self) -> String {
        self.list
            .iter()
            .filter_map(|api| api.name.as_deref())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// How a program calls an operation of API `index`: `getCharges`, or `stripe.getCharges`
    /// when there are several APIs (always after `api.`).
    pub(crate) fn qualified(&self, index: usize, operation: &str) -> String {
        match self.namespace(index) {
            Some(api) => format!("{api}.{operation}"),
            None => operation.to_string(),
        }
    }

    /// The name programs use for API `index`, when there are several.
    pub(crate) fn namespace(&self, index: usize) -> Option<&str> {
        if self.namespaced() {
            self.list[index].name.as_deref()
        } else {
            None
        }
    }

    /// Finds an operation by any name a query or a caller may use for it: its name, its
    /// operationId or `METHOD /path`, qualified by its API (`stripe.getCharges`,
    /// `api.stripe.getCharges`) or not. An unqualified name is looked up in every API, in order,
    /// and the first that has it wins.
    pub(crate) fn find(&self, name: &str) -> Option<(usize, OperationId)> {
        let name = name.strip_prefix("api.").unwrap_or(name);
        if let Some((api, rest)) = name.split_once('.')
            && let Some(index) = self.index_of(Some(api))
        {
            return self.list[index].spec.find_id(rest).map(|id| (index, id));
        }
        self.list
            .iter()
            .enumerate()
            .find_map(|(index, api)| api.spec.find_id(name).map(|id| (index, id)))
    }

    /// The APIs (their names) that have an operation called `name`: for a hint when a program
    /// forgets the API's name.
    pub(crate) fn having(&self, name: &str) -> Vec<&str> {
        self.list
            .iter()
            .filter(|api| api.spec.find(name).is_some())
            .filter_map(|api| api.name.as_deref())
            .collect()
    }
}

/// One API of an engine, as front ends see it (tool descriptions, per-operation tools).
#[derive(Clone, Copy)]
pub struct ApiRef<'e> {
    pub(crate) api: &'e Api,
    pub(crate) namespaced: bool,
}

impl<'e> ApiRef<'e> {
    /// The name programs call it by (`api.<name>`), when the engine serves several APIs; `None`
    /// when it serves one (programs call `api.<operation>`).
    pub fn namespace(&self) -> Option<&'e str> {
        self.namespaced
            .then_some(self.api.name.as_deref())
            .flatten()
    }

    /// The name it was configured under, even when it is the only one.
    pub fn name(&self) -> Option<&'e str> {
        self.api.name.as_deref()
    }

    /// Its spec.
    pub fn spec(&self) -> &'e Spec {
        &self.api.spec
    }

    /// Its display name (the spec title).
    pub fn title(&self) -> &'e str {
        &self.api.spec.title
    }

    /// The policy's verdict for one of its operations.
    pub fn verdict(&self, operation: &Operation) -> Verdict {
        self.api.policy.verdict(operation)
    }

    /// Whether calling one of its operations is allowed by read-only mode and allow/deny rules.
    pub fn is_allowed(&self, operation: &Operation) -> bool {
        matches!(self.verdict(operation), Verdict::Allowed { .. })
    }

    /// Whether it refuses mutating calls.
    pub fn read_only(&self) -> bool {
        self.api.policy.read_only()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_are_short_identifiers_that_cannot_break_the_client() {
        for good in ["github", "stripe_test", "_internal", "v2", "A"] {
            assert_eq!(check_api_name(good), Ok(()), "{good}");
        }
        let long = "a".repeat(MAX_API_NAME_CHARS + 1);
        for (bad, why) in [
            ("", "cannot be empty"),
            ("2fa", "JavaScript identifier"),
            ("my-api", "JavaScript identifier"),
            ("stripe.test", "JavaScript identifier"),
            ("ünicode", "JavaScript identifier"),
            ("__proto__", "cannot start with __"),
            ("then", "reserved word"),
            ("request", "reserved word"),
            ("paginate", "reserved word"),
            ("constructor", "reserved word"),
            ("delete", "reserved word"),
            (long.as_str(), "at most 32 characters"),
        ] {
            let problem = check_api_name(bad).expect_err(bad);
            assert!(problem.contains(why), "{bad:?}: {problem}");
        }
    }
}
