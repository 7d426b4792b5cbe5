//! Ranking sanity on a small fixture spec, the options (limit, method and tag filters), and
//! hostile or odd queries: empty, huge, unicode, regex metacharacters.

use codemode_search::{Index, MAX_QUERY_BYTES, SearchError, SearchOptions};
use codemode_spec::{Method, Spec};

const FIXTURE: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "Pets", "version": "1"},
  "paths": {
    "/pets": {
      "get": {"operationId": "listPets", "summary": "List all pets", "tags": ["pets"],
              "parameters": [{"name": "status", "in": "query",
                              "schema": {"type": "string", "enum": ["available", "sold"]}}]},
      "post": {"operationId": "createPet", "summary": "Create a pet", "tags": ["pets"],
               "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}}}}
    },
    "/pets/{petId}": {
      "get": {"operationId": "showPetById", "summary": "Info for a specific pet", "tags": ["pets"]},
      "put": {"operationId": "updatePet", "summary": "Update a pet", "tags": ["pets"]},
      "delete": {"operationId": "deletePet", "summary": "Deletes a pet", "tags": ["pets"]}
    },
    "/pets/{petId}/photos": {
      "post": {"operationId": "uploadPetPhoto", "summary": "Uploads an image of a pet", "tags": ["media"]}
    },
    "/stores/{storeId}/orders": {
      "post": {"operationId": "place_order", "description": "Places an order for a pet. Orders are billed at once.", "tags": ["store"]}
    },
    "/users/login": {
      "get": {"operationId": "loginUser", "summary": "Logs user into the system", "tags": ["user"]}
    },
    "/users/{username}": {
      "delete": {"operationId": "deleteUser", "summary": "Delete user", "tags": ["user"]}
    },
    "/legacy/pets": {
      "get": {"operationId": "listPetsLegacy", "summary": "List all pets", "deprecated": true}
    }
  },
  "components": {"schemas": {"NewPet": {"type": "object", "properties": {"name": {"type": "string"}, "nickname": {"type": "string"}}}}}
}"##;

fn fixture() -> (Spec, Index) {
    let spec = codemode_spec::load_str("fixture.json", FIXTURE).expect("fixture spec loads");
    let index = Index::build(&spec);
    (spec, index)
}

/// `METHOD /path` of the top hits for `query`.
fn top(spec: &Spec, index: &Index, query: &str, options: &SearchOptions) -> Vec<String> {
    index
        .search(query, options)
        .expect("query runs")
        .iter()
        .map(|h| spec.operation(h.operation).key())
        .collect()
}

fn first(query: &str) -> String {
    let (spec, index) = fixture();
    top(&spec, &index, query, &SearchOptions::default())
        .into_iter()
        .next()
        .unwrap_or_default()
}

#[test]
fn task_sentences_rank_the_right_operation_first() {
    let cases = [
        ("delete a pet", "DELETE /pets/{petId}"),
        ("remove a pet", "DELETE /pets/{petId}"),
        ("list all the pets", "GET /pets"),
        ("add a new pet", "POST /pets"),
        (
            "upload a photo of my dog's pet",
            "POST /pets/{petId}/photos",
        ),
        ("show one pet by id", "GET /pets/{petId}"),
        ("sign in", "GET /users/login"),
        ("remove a user account", "DELETE /users/{username}"),
        ("place an order", "POST /stores/{storeId}/orders"),
        ("which pets are sold", "GET /pets"),
        ("change a pet's nickname", "PUT /pets/{petId}"),
    ];
    for (query, expected) in cases {
        assert_eq!(first(query), expected, "query {query:?}");
    }
}

#[test]
fn deprecated_operations_rank_below_their_replacements() {
    let (spec, index) = fixture();
    let ranked = top(&spec, &index, "list pets", &SearchOptions::default());
    let current = ranked.iter().position(|k| k == "GET /pets");
    let legacy = ranked.iter().position(|k| k == "GET /legacy/pets");
    assert!(current.is_some() && legacy.is_some(), "{ranked:?}");
    assert!(current < legacy, "{ranked:?}");
}

#[test]
fn hits_are_sorted_limited_and_indices_are_valid() {
    let (spec, index) = fixture();
    for limit in [0, 1, 3, 100] {
        let options = SearchOptions {
            limit,
            ..SearchOptions::default()
        };
        let hits = index.search("pet", &options).expect("query runs");
        assert!(hits.len() <= limit);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(
            hits.iter()
                .all(|h| h.operation.index() < spec.operations.len() && h.score > 0.0)
        );
    }
    let all = index
        .search(
            "pet",
            &SearchOptions {
                limit: 100,
                ..SearchOptions::default()
            },
        )
        .expect("query runs");
    assert!(all.len() >= 7, "every pet operation matches: {all:?}");
}

#[test]
fn method_and_tag_filters_restrict_results() {
    let (spec, index) = fixture();
    let deletes = SearchOptions {
        method: Some(Method::Delete),
        limit: 10,
        ..SearchOptions::default()
    };
    let mut ranked = top(&spec, &index, "pet user", &deletes);
    ranked.sort();
    assert_eq!(ranked, ["DELETE /pets/{petId}", "DELETE /users/{username}"]);

    let media = SearchOptions {
        tag: Some("MEDIA".to_string()),
        limit: 10,
        ..SearchOptions::default()
    };
    assert_eq!(
        top(&spec, &index, "pet", &media),
        ["POST /pets/{petId}/photos"]
    );

    let unknown_tag = SearchOptions {
        tag: Some("nope".to_string()),
        ..SearchOptions::default()
    };
    assert!(top(&spec, &index, "pet", &unknown_tag).is_empty());
}

#[test]
fn empty_and_blank_queries_are_errors() {
    let (_, index) = fixture();
    for query in ["", "   ", "\n\t"] {
        let err = index.search(query, &SearchOptions::default()).unwrap_err();
        assert_eq!(err, SearchError::EmptyQuery);
        assert!(err.to_string().starts_with("query is empty"));
    }
}

#[test]
fn oversized_query_is_a_clear_error() {
    let (_, index) = fixture();
    let query = "delete a pet ".repeat(10 * 1024 / 13 + 1);
    assert!(query.len() > 10_000);
    let err = index.search(&query, &SearchOptions::default()).unwrap_err();
    assert_eq!(
        err,
        SearchError::QueryTooLong {
            bytes: query.len(),
            limit: MAX_QUERY_BYTES
        }
    );
    assert!(err.to_string().contains("4096 allowed"), "{err}");
    // Just under the limit still works, and fast enough to not matter.
    let long = "delete a pet ".repeat(MAX_QUERY_BYTES / 13);
    let hits = index
        .search(&long, &SearchOptions::default())
        .expect("query runs");
    assert_eq!(hits.first().map(|h| h.operation.index()), Some(4));
}

#[test]
fn symbols_only_query_is_a_clear_error() {
    let (_, index) = fixture();
    for query in [".*", "^$|()[]{}+?\\", "!!!", "😀😀"] {
        let err = index.search(query, &SearchOptions::default()).unwrap_err();
        assert_eq!(err, SearchError::NoSearchableWords, "query {query:?}");
    }
}

#[test]
fn regex_metacharacters_are_plain_text() {
    assert_eq!(first("delete.* a (pet)+ [x]?"), "DELETE /pets/{petId}");
    assert_eq!(first("^delete$ | pet\\d"), "DELETE /pets/{petId}");
}

#[test]
fn unicode_queries_are_safe() {
    let (_, index) = fixture();
    // Accented and non-Latin words are searched without panicking; unknown words match nothing.
    for query in [
        "supprimer un animal ÉÀ",
        "ペットを削除",
        "Straße",
        "e\u{301}",
        "\u{202e}pet",
    ] {
        let result = index.search(query, &SearchOptions::default());
        assert!(
            matches!(result, Ok(_) | Err(SearchError::NoSearchableWords)),
            "{query:?}: {result:?}"
        );
    }
    assert_eq!(first("delete 😀 a pet ペット"), "DELETE /pets/{petId}");
    assert_eq!(first("DELETE a PET"), "DELETE /pets/{petId}");
}

#[test]
fn stopwords_only_query_returns_no_hits() {
    let (_, index) = fixture();
    let hits = index
        .search("the of and to", &SearchOptions::default())
        .expect("stopwords are words");
    assert!(hits.is_empty());
}

#[test]
fn an_empty_spec_gives_no_hits() {
    let spec = codemode_spec::load_str(
        "empty.json",
        r#"{"openapi": "3.0.3", "info": {"title": "E", "version": "1"}, "paths": {}}"#,
    )
    .expect("empty spec loads");
    let index = Index::build(&spec);
    assert!(index.is_empty());
    let hits = index
        .search("anything", &SearchOptions::default())
        .expect("query runs");
    assert!(hits.is_empty());
}

/// Operations a task sentence's words all appear in, but with extra words of their own
/// ("issue type", "issue field"), rank below the one whose summary the sentence explains.
const ISSUES_FIXTURE: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "Issues", "version": "1"},
  "paths": {
    "/orgs/{org}/issue-types": {
      "post": {"operationId": "orgs/create-issue-type", "summary": "Create issue type for an organization",
               "description": "Create a new issue type for an organization."}
    },
    "/orgs/{org}/issue-fields": {
      "post": {"operationId": "orgs/create-issue-field", "summary": "Create issue field for an organization",
               "description": "Create a new issue field for an organization."}
    },
    "/repos/{owner}/{repo}/issues": {
      "post": {"operationId": "issues/create", "summary": "Create an issue",
               "description": "Any user with pull access to a repository can create an issue."}
    },
    "/repos/{owner}/{repo}/pulls/{pull_number}": {
      "patch": {"operationId": "pulls/update", "summary": "Update a pull request",
                "description": "Draft pull requests are available in public repositories."}
    },
    "/repos/{owner}/{repo}/pulls/{pull_number}/files": {
      "get": {"operationId": "pulls/list-files", "summary": "List pull requests files",
              "description": "Lists the files in a specified pull request."}
    },
    "/repos/{owner}/{repo}/secrets": {
      "post": {"operationId": "secrets/create", "summary": "Create a secret"}
    },
    "/repos/{owner}/{repo}/secrets/{name}": {
      "put": {"operationId": "secrets/replace", "summary": "Replace the specified secret"}
    }
  }
}"##;

fn issues_first(query: &str) -> String {
    let spec = codemode_spec::load_str("issues.json", ISSUES_FIXTURE).expect("fixture spec loads");
    let index = Index::build(&spec);
    top(&spec, &index, query, &SearchOptions::default())
        .into_iter()
        .next()
        .unwrap_or_default()
}

#[test]
fn the_operation_the_query_fully_explains_beats_more_specific_ones() {
    assert_eq!(
        issues_first("open a new issue in a repository"),
        "POST /repos/{owner}/{repo}/issues"
    );
}

#[test]
fn past_participles_describe_rather_than_ask_for_a_method() {
    // "changed" is no request to change anything: the read of the files wins.
    assert_eq!(
        issues_first("files changed in a pull request"),
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/files"
    );
}

#[test]
fn creating_prefers_the_collection_over_writing_one_item() {
    assert_eq!(
        issues_first("store a new secret"),
        "POST /repos/{owner}/{repo}/secrets"
    );
}

/// Words the query negates, words the stemmer keeps apart from their family, and verbs used as
/// adjectives.
const PHRASING_FIXTURE: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "Repos", "version": "1"},
  "paths": {
    "/repos/{owner}/{repo}/clones/files": {
      "get": {"operationId": "repos/list-clone-files", "summary": "List the files of repository clones"}
    },
    "/repos/{owner}/{repo}/files": {
      "get": {"operationId": "repos/list-files", "summary": "List repository files"}
    },
    "/runners/{runner_id}/remove-token": {
      "post": {"operationId": "runners/create-remove-token", "summary": "Create a remove token for a runner"}
    },
    "/runners/{runner_id}/registration-token": {
      "post": {"operationId": "runners/create-registration-token", "summary": "Create a registration token for a runner"}
    },
    "/repos/{owner}/{repo}/pulls": {
      "get": {"operationId": "pulls/list", "summary": "List pull requests", "description": "Lists pull requests in a repository."}
    },
    "/repos/{owner}/{repo}/stacks/{stack}/add": {
      "post": {"operationId": "stacks/add", "summary": "Add pull requests to a pull request stack", "description": "Appends an ordered list of pull requests onto the top of a stack of pull requests."}
    }
  }
}"##;

fn phrasing_first(query: &str, tuning: &str) -> String {
    let spec =
        codemode_spec::load_str("phrasing.json", PHRASING_FIXTURE).expect("fixture spec loads");
    let tuning = codemode_search::Tuning::default()
        .with_overrides(tuning)
        .expect("valid tuning");
    let index = Index::build_tuned(&spec, &tuning);
    top(&spec, &index, query, &SearchOptions::default())
        .into_iter()
        .next()
        .unwrap_or_default()
}

#[test]
fn negated_words_do_not_pull_their_operations_up() {
    let query = "list the repository files without cloning it";
    assert_eq!(phrasing_first(query, ""), "GET /repos/{owner}/{repo}/files");
    // Read as a plain word, "cloning" wins: the case above holds because of the negation.
    assert_eq!(
        phrasing_first(query, "negated=1"),
        "GET /repos/{owner}/{repo}/clones/files"
    );
}

#[test]
fn words_of_one_family_match_across_the_stemmer() {
    // "register" stems to `regist`, "registration" to `registr`: only their kinship tells
    // the two token operations apart (on a tie the first in the spec wins).
    let query = "create a token so a runner can register";
    assert_eq!(
        phrasing_first(query, ""),
        "POST /runners/{runner_id}/registration-token"
    );
    assert_eq!(
        phrasing_first(query, "kin=0"),
        "POST /runners/{runner_id}/remove-token"
    );
}

#[test]
fn a_method_word_right_after_a_verb_describes_rather_than_asks() {
    // "open" here is a state, not "open (create) a pull request": read as a verb, its synonym
    // "add" and its POST intent put the stack operation first.
    assert_eq!(
        phrasing_first("list all open pull requests of a repo", ""),
        "GET /repos/{owner}/{repo}/pulls"
    );
    // As the query's own verb, "open" still asks to create.
    assert_eq!(
        phrasing_first("open pull requests stack", ""),
        "POST /repos/{owner}/{repo}/stacks/{stack}/add"
    );
}

/// How APIs do things their summaries do not say: create by putting an item (upsert), name an
/// action with a resource ("charge"), block and allow with rules.
const CONVENTIONS_FIXTURE: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "Conventions", "version": "1"},
  "paths": {
    "/accounts/{account_id}/workers/scripts": {
      "get": {"operationId": "worker-script-list-workers", "summary": "List Workers"}
    },
    "/accounts/{account_id}/workers/scripts/{script_name}": {
      "put": {"operationId": "worker-script-upload-worker-module", "summary": "Upload Worker Module"},
      "get": {"operationId": "worker-script-download-worker", "summary": "Download Worker"}
    },
    "/accounts/{account_id}/workers/scripts/{script_name}/content": {
      "get": {"operationId": "worker-script-get-content", "summary": "Get script content of a Worker"}
    },
    "/v1/charges": {
      "get": {"operationId": "GetCharges", "description": "Returns a list of charges you've previously created."},
      "post": {"operationId": "PostCharges", "description": "Use the Payment Intents API to initiate a new payment instead. This method creates a charge object."}
    },
    "/v1/charges/{charge}/dispute": {
      "get": {"operationId": "GetChargesChargeDispute", "description": "Retrieve the dispute for a specified charge."},
      "post": {"operationId": "PostChargesChargeDispute", "description": "Update the dispute for a specified charge, for example with evidence."}
    },
    "/accounts/{account_id}/firewall/access_rules/rules": {
      "get": {"operationId": "list-ip-access-rules", "summary": "List IP Access rules"},
      "post": {"operationId": "create-an-ip-access-rule", "summary": "Create an IP Access rule",
               "description": "Creates a new IP Access rule for an account."}
    },
    "/accounts/{account_id}/intel/ip": {
      "get": {"operationId": "ip-intelligence-get-ip-overview", "summary": "Get IP Overview",
              "description": "Gets the geolocation, ASN and risk of an IP address."}
    }
  }
}"##;

fn conventions_first(query: &str, tuning: &str) -> String {
    let spec = codemode_spec::load_str("conventions.json", CONVENTIONS_FIXTURE)
        .expect("fixture spec loads");
    let tuning = codemode_search::Tuning::default()
        .with_overrides(tuning)
        .expect("valid tuning");
    let index = Index::build_tuned(&spec, &tuning);
    top(&spec, &index, query, &SearchOptions::default())
        .into_iter()
        .next()
        .unwrap_or_default()
}

#[test]
fn creating_an_item_whose_collection_has_no_post_is_its_put() {
    // The collection has no POST: the API creates a Worker by uploading it to its own path.
    assert_eq!(
        conventions_first("create a worker", ""),
        "PUT /accounts/{account_id}/workers/scripts/{script_name}"
    );
}

#[test]
fn a_resource_used_as_a_verb_asks_to_create_it() {
    assert_eq!(conventions_first("charge a card", ""), "POST /v1/charges");
    // Read as a plain noun, "charge" finds the dispute, whose text says "card".
    assert_ne!(
        conventions_first("charge a card", "verbed=0"),
        "POST /v1/charges"
    );
}

#[test]
fn blocking_and_allowing_are_done_with_rules() {
    let rules = "POST /accounts/{account_id}/firewall/access_rules/rules";
    assert_eq!(conventions_first("block an IP address", ""), rules);
    assert_eq!(conventions_first("allow an IP address", ""), rules);
    // A question about what is allowed asks to read, not to create a rule.
    assert_ne!(
        conventions_first("which IP addresses does my firewall allow", ""),
        rules
    );
}
