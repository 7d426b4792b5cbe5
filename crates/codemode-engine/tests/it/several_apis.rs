//! Several APIs behind one engine (issue 16): one program calls two real HTTP upstreams on
//! 127.0.0.1, each with its own canary credential, and neither credential reaches the other
//! upstream, the result, the logs or an error; per-API policy; the errors of a program that
//! names an API wrongly; search across three real shared specs.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method, Uri};
use axum::response::IntoResponse;
use codemode_engine::upstream::{Credential, Secret, UpstreamConfig};
use codemode_engine::{
    ApiSetup, Engine, EngineConfig, EngineError, ExecuteOutcome, ExecuteRequest, PolicyConfig,
    RuleSpec, SearchRequest,
};
use serde_json::{Value, json};

use crate::agent_slips::execute;

const SHOP: &str = r#"
openapi: 3.0.3
info: {title: Shop, version: "1"}
paths:
  /orders:
    get:
      operationId: listOrders
      responses: {"200": {description: ok, content: {application/json: {schema: {type: array, items: {type: object}}}}}}
    post:
      operationId: createOrder
      requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {item: {type: string}}}}}}
      responses: {"201": {description: ok, content: {application/json: {schema: {type: object}}}}}
"#;

const TICKETS: &str = r#"
openapi: 3.0.3
info: {title: Tickets, version: "1"}
paths:
  /tickets:
    get:
      operationId: listTickets
      responses: {"200": {description: ok, content: {application/json: {schema: {type: array, items: {type: object}}}}}}
    post:
      operationId: createTicket
      requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {title: {type: string}}}}}}
      responses: {"201": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /tickets/{id}:
    delete:
      operationId: deleteTicket
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"204": {description: gone}}
"#;

const SHOP_TOKEN: &str = "canary-shop-7f3a9c";
const TICKETS_TOKEN: &str = "canary-tickets-2b8e41";

/// Every request one upstream received: `METHOD /path` and its Authorization header.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, String)>>>);

impl Received {
    fn list(&self) -> Vec<(String, String)> {
        self.0.lock().unwrap().clone()
    }
}

/// A real HTTP upstream that records each request and echoes the Authorization header it got
/// (so a leak into a response would reach the program, and the test would see it). `/fail`
/// answers 400 with the header in its error body; `/elsewhere` redirects to `redirect_to`.
async fn upstream() -> (String, Received) {
    upstream_redirecting(None).await
}

async fn upstream_redirecting(redirect_to: Option<String>) -> (String, Received) {
    let received = Received::default();
    let log = received.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let log = log.clone();
        let redirect_to = redirect_to.clone();
        async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            log.0
                .lock()
                .unwrap()
                .push((format!("{method} {}", uri.path()), auth.clone()));
            if uri.path() == "/fail" {
                let body = json!({"error": format!("bad request from {auth}")});
                return (axum::http::StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
            if let (Some(target), "/elsewhere") = (&redirect_to, uri.path()) {
                return axum::response::Redirect::temporary(target).into_response();
            }
            let status = if method == Method::POST {
                axum::http::StatusCode::CREATED
            } else {
                axum::http::StatusCode::OK
            };
            let body = if method == Method::GET {
                json!([{"id": 1, "seen_auth": auth}])
            } else {
                json!({"id": 2, "seen_auth": auth})
            };
            (status, axum::Json(body)).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

fn setup(name: &str, spec: &str, base_url: &str, token: &str, policy: PolicyConfig) -> ApiSetup {
    ApiSetup {
        name: name.into(),
        spec: codemode_engine::spec::load_str(&format!("{name}.yaml"), spec).unwrap(),
        upstream: Some(UpstreamConfig {
            base_url: base_url.into(),
            credentials: vec![Credential::Bearer(Secret::new(token))],
            ..UpstreamConfig::default()
        }),
        policy,
        session: Default::default(),
    }
}

struct Two {
    engine: Engine,
    shop: Received,
    tickets: Received,
    shop_url: String,
}

async fn two_apis(tickets_policy: PolicyConfig) -> Two {
    let (shop_url, shop) = upstream().await;
    let (tickets_url, tickets) = upstream_redirecting(Some(format!("{shop_url}/orders"))).await;
    let engine = Engine::with_apis(
        vec![
            setup("shop", SHOP, &shop_url, SHOP_TOKEN, PolicyConfig::default()),
            setup(
                "tickets",
                TICKETS,
                &tickets_url,
                TICKETS_TOKEN,
                tickets_policy,
            ),
        ],
        EngineConfig::default(),
    )
    .unwrap();
    Two {
        engine,
        shop,
        tickets,
        shop_url,
    }
}

/// Everything a run hands back, as one string to search for secrets.
fn everything(outcome: &ExecuteOutcome) -> String {
    format!(
        "{:?} {:?} {:?} {:?}",
        outcome.result, outcome.logs, outcome.calls, outcome.planned
    )
}

fn error_message(outcome: &ExecuteOutcome) -> String {
    match &outcome.result {
        Ok(value) => panic!("the run succeeded: {value}"),
        Err(failure) => failure.message.clone(),
    }
}

#[tokio::test]
async fn one_program_uses_two_apis_and_each_upstream_sees_only_its_own_token() {
    let two = two_apis(PolicyConfig::default()).await;
    let outcome = execute(
        &two.engine,
        r#"
        const orders = await api.shop.listOrders();
        const ticket = await api.tickets.createTicket({ body: { title: `order ${orders[0].id}` } });
        const raw = await api.tickets.request({ method: "GET", path: "/tickets" });
        return { orders: orders.length, ticket: ticket.id, raw: raw.length, auth: [orders[0].seen_auth, ticket.seen_auth] };
        "#,
    )
    .await;
    let result = outcome.result.clone().expect("the program runs");
    assert_eq!(result["orders"], 1);
    assert_eq!(result["ticket"], 2);
    assert_eq!(result["raw"], 1);
    assert_eq!(
        two.shop.list(),
        vec![("GET /orders".to_string(), format!("Bearer {SHOP_TOKEN}"))]
    );
    assert_eq!(
        two.tickets.list(),
        vec![
            (
                "POST /tickets".to_string(),
                format!("Bearer {TICKETS_TOKEN}")
            ),
            (
                "GET /tickets".to_string(),
                format!("Bearer {TICKETS_TOKEN}")
            ),
        ]
    );
    // The upstreams echoed the tokens back; every API's secret is redacted from what returns.
    let all = everything(&outcome);
    for token in [SHOP_TOKEN, TICKETS_TOKEN] {
        assert!(!all.contains(token), "{token} in {all}");
    }
    let calls: Vec<String> = outcome.calls.iter().map(ToString::to_string).collect();
    assert!(calls[0].starts_with("shop: GET /orders → 200"), "{calls:?}");
    assert!(
        calls[1].starts_with("tickets: POST /tickets → 201"),
        "{calls:?}"
    );
    assert_eq!(outcome.calls[1].api.as_deref(), Some("tickets"));
}

#[tokio::test]
async fn a_call_through_one_api_never_reaches_the_other_origin() {
    let two = two_apis(PolicyConfig::default()).await;
    for path in [
        "/elsewhere".to_string(),
        format!("{}/orders", two.shop_url),
        format!("//{}/orders", two.shop_url.trim_start_matches("http://")),
        "/../../orders".to_string(),
    ] {
        let code = format!(
            "return await api.tickets.request({{ method: 'GET', path: {} }});",
            serde_json::to_string(&path).unwrap()
        );
        let outcome = execute(&two.engine, &code).await;
        assert!(!everything(&outcome).contains(SHOP_TOKEN));
        assert!(!everything(&outcome).contains(TICKETS_TOKEN));
        // Each is refused: the host change before sending, the redirect when it comes back.
        let failure = outcome
            .result
            .as_ref()
            .expect_err(&format!("{path} was sent somewhere"));
        assert_eq!(failure.kind, "exception", "{path}: {}", failure.message);
    }
    // The redirect case did reach the tickets upstream (and was not followed from there); the
    // others never left the engine.
    assert_eq!(
        two.tickets.list(),
        [(
            "GET /elsewhere".to_string(),
            format!("Bearer {TICKETS_TOKEN}")
        )]
    );
    assert!(
        two.shop.list().is_empty(),
        "the shop upstream was reached through tickets: {:?}",
        two.shop.list()
    );
}

#[tokio::test]
async fn policy_applies_to_its_own_api_only() {
    let policy = PolicyConfig {
        read_only: true,
        deny: vec![RuleSpec {
            operation: Some("listTickets".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let two = two_apis(policy).await;
    let blocked = execute(
        &two.engine,
        "return await api.tickets.createTicket({ body: { title: 'x' } });",
    )
    .await;
    assert_eq!(blocked.result.as_ref().unwrap_err().kind, "exception");
    assert!(
        error_message(&blocked).contains("changes data and the tickets API is read-only"),
        "{}",
        error_message(&blocked)
    );
    let denied = execute(&two.engine, "return await api.tickets.listTickets();").await;
    assert!(
        error_message(&denied).contains("is denied by the tickets API's policy"),
        "{}",
        error_message(&denied)
    );
    // The shop API is neither read-only nor denied anything.
    let allowed = execute(
        &two.engine,
        "return (await api.shop.createOrder({ body: { item: 'book' } })).id;",
    )
    .await;
    assert_eq!(allowed.result.expect("shop writes are allowed"), json!(2));
    assert!(two.tickets.list().is_empty(), "{:?}", two.tickets.list());
    assert!(!two.engine.read_only(), "one API still writes");
}

#[tokio::test]
async fn a_program_that_names_an_api_wrongly_is_told_the_names() {
    let two = two_apis(PolicyConfig::default()).await;
    let cases = [
        (
            "return await api.shopp.listOrders();",
            vec![
                "no API is named \"shopp\"",
                "shop, tickets",
                "did you mean api.shop",
            ],
        ),
        (
            "return await api.listOrders();",
            vec!["listOrders is an operation", "api.shop.listOrders("],
        ),
        (
            "return await api.request({ method: 'GET', path: '/orders' });",
            vec!["say which one", "api.<api>.request"],
        ),
        (
            "return await api.paginate('listOrders');",
            vec!["say which one", "api.<api>.paginate"],
        ),
    ];
    for (code, wanted) in cases {
        let outcome = execute(&two.engine, code).await;
        let message = error_message(&outcome);
        for part in wanted {
            assert!(message.contains(part), "{code}: {message}");
        }
    }
    // A function taken from a namespace carries its API into the top-level helper.
    let pages = execute(
        &two.engine,
        "return (await api.paginate(api.shop.listOrders)).length;",
    )
    .await;
    assert_eq!(pages.result.expect("paginate runs"), json!(1));
    assert!(two.tickets.list().is_empty());
}

#[tokio::test]
async fn per_operation_calls_and_dry_runs_carry_the_api() {
    let two = two_apis(PolicyConfig::default()).await;
    let outcome = two
        .engine
        .call_operation("tickets.listTickets", json!({}), None)
        .await;
    assert_eq!(outcome.result.expect("the call runs")[0]["id"], 1);
    let planned = two
        .engine
        .execute(ExecuteRequest {
            code: "return await api.shop.createOrder({ body: { item: 'pen' } });".into(),
            dry_run: true,
            confirm: None,
            ..Default::default()
        })
        .await;
    assert_eq!(planned.planned.len(), 1);
    let plan = serde_json::to_value(&planned.planned[0]).unwrap();
    assert_eq!(plan["api"], "shop");
    assert_eq!(plan["method"], "POST");
    assert!(
        two.shop.list().is_empty(),
        "a dry run sent {:?}",
        two.shop.list()
    );
}

#[tokio::test]
async fn bad_api_names_and_settings_fail_at_start_with_the_name() {
    let spec = || codemode_engine::spec::load_str("shop.yaml", SHOP).unwrap();
    let named = |name: &str| ApiSetup {
        name: name.into(),
        spec: spec(),
        upstream: None,
        policy: PolicyConfig::default(),
        session: Default::default(),
    };
    let error = |apis: Vec<ApiSetup>, config: EngineConfig| match Engine::with_apis(apis, config) {
        Ok(_) => panic!("the engine was built"),
        Err(error) => error,
    };
    assert!(matches!(
        error(vec![named("my-shop")], EngineConfig::default()),
        EngineError::ApiName { .. }
    ));
    assert!(matches!(
        error(vec![named("shop"), named("shop")], EngineConfig::default()),
        EngineError::DuplicateApi(name) if name == "shop"
    ));
    assert!(matches!(
        error(Vec::new(), EngineConfig::default()),
        EngineError::NoApis
    ));
    let shared_policy = EngineConfig {
        policy: PolicyConfig {
            read_only: true,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(matches!(
        error(vec![named("a"), named("b")], shared_policy),
        EngineError::SharedApiSettings
    ));
    let mut bad_rule = named("tickets");
    bad_rule.policy.deny = vec![RuleSpec {
        operation: Some("listOrder".into()),
        ..Default::default()
    }];
    let failure = error(vec![named("shop"), bad_rule], EngineConfig::default());
    let printed = format!("{:#}", anyhow::Error::from(failure));
    assert!(
        printed.starts_with("API \"tickets\": invalid policy: [[deny]] entry 1"),
        "{printed}"
    );
    assert!(printed.contains("did you mean \"listOrders\""), "{printed}");
}

/// GitHub, Stripe and Cloudflare behind one engine, as the issue asks.
fn three_real_apis() -> Option<Engine> {
    let load = |name: &str, file: &str| {
        let spec = codemode_engine::spec::load(
            codemode_test_support::spec_path(file).to_str().unwrap(),
            &Default::default(),
        )
        .unwrap()
        .spec;
        ApiSetup {
            name: name.into(),
            spec,
            upstream: None,
            policy: PolicyConfig::default(),
            session: Default::default(),
        }
    };
    let apis = vec![
        load("github", "github-api.github.com.json.gz"),
        load("stripe", "stripe-spec3.yaml"),
        load("cloudflare", "cloudflare-openapi.json"),
    ];
    Some(Engine::with_apis(apis, EngineConfig::default()).unwrap())
}

#[tokio::test]
async fn search_ranks_across_real_apis_and_declares_each_in_its_namespace() {
    let Some(engine) = three_real_apis() else {
        return;
    };
    let best = |query: &str| {
        let hits = engine
            .rank(&SearchRequest {
                query: query.into(),
                limit: Some(5),
                api: None,
                ..Default::default()
            })
            .unwrap();
        let top = &hits[0];
        (top.api.clone().unwrap_or_default(), top.name.clone())
    };
    assert_eq!(best("refund a charge").0, "stripe");
    assert_eq!(best("list pull requests of a repository").0, "github");
    assert_eq!(best("create a DNS record in a zone").0, "cloudflare");
    // A query that names an API keeps to it.
    assert_eq!(best("list github webhooks").0, "github");

    let answer = engine
        .search(&SearchRequest {
            query: "refund a charge, then open a github issue about it".into(),
            limit: None,
            api: None,
            ..Default::default()
        })
        .unwrap();
    assert!(
        answer.text.contains("declare namespace stripe {"),
        "{}",
        answer.text
    );
    assert!(
        answer.text.contains("declare namespace github {"),
        "{}",
        answer.text
    );
    assert!(answer.text.contains("→ api.stripe."), "{}", answer.text);
    assert!(
        answer.text.contains("await api.<api>.<name>(args)"),
        "{}",
        answer.text
    );
    let apis: Vec<&str> = answer
        .hits
        .iter()
        .filter_map(|h| h.api.as_deref())
        .collect();
    assert!(
        apis.contains(&"stripe") && apis.contains(&"github"),
        "{apis:?}"
    );

    // Narrowed to one API, the ranking is that API's alone.
    let narrowed = engine
        .rank(&SearchRequest {
            query: "list webhooks".into(),
            limit: Some(10),
            api: Some("cloudflare".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(
        narrowed
            .iter()
            .all(|h| h.api.as_deref() == Some("cloudflare"))
    );
    let unknown = engine.rank(&SearchRequest {
        query: "list webhooks".into(),
        limit: None,
        api: Some("gitlab".into()),
        ..Default::default()
    });
    let message = unknown.expect_err("no such API").to_string();
    assert_eq!(
        message,
        "no API is named \"gitlab\" (APIs: github, stripe, cloudflare)"
    );

    // Qualified names declare exactly that operation; types may be qualified too.
    let named = engine
        .search(&SearchRequest {
            query: "stripe.getCharges".into(),
            limit: None,
            api: None,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(named.hits.len(), 1);
    assert_eq!(named.hits[0].api.as_deref(), Some("stripe"));
    let types = engine
        .search(&SearchRequest {
            query: "stripe.Charge".into(),
            limit: None,
            api: None,
            ..Default::default()
        })
        .unwrap();
    let declared = types.text.split_once("declare namespace stripe {\n");
    assert!(
        declared.is_some_and(|(_, inside)| inside.contains("\ninterface Charge {")),
        "{}",
        types.text
    );

    // The globals give each API its client; answers' namespaces merge into them.
    let globals = engine.globals_declaration();
    assert!(
        globals.contains(
            "declare const api: { github: WithRaw<github.Api>; stripe: WithRaw<stripe.Api>; cloudflare: WithRaw<cloudflare.Api> };"
        ),
        "{globals}"
    );
}

#[tokio::test]
async fn search_programs_see_every_api() {
    let Some(engine) = three_real_apis() else {
        return;
    };
    let outcome = engine
        .search_code(
            r#"
            const hits = spec.search("refund a charge", 3);
            const op = spec.operation("stripe.getCharges");
            const declared = spec.declare(["github.issuesCreate", "stripe.Charge"]);
            return { first: hits[0].api, op: [op.api, op.name], declared };
            "#
            .into(),
        )
        .await;
    let value: Value = outcome.result.expect("the program runs");
    assert_eq!(value["first"], "stripe");
    assert_eq!(value["op"], json!(["stripe", "getCharges"]));
    let declared = value["declared"].as_str().unwrap();
    assert!(
        declared.contains("declare namespace github {"),
        "{declared}"
    );
    assert!(
        declared.contains("declare namespace stripe {"),
        "{declared}"
    );
    assert!(declared.contains("issuesCreate("), "{declared}");
}

#[tokio::test]
async fn an_answer_across_apis_type_checks_with_the_globals_and_a_program_using_both() {
    let Some(engine) = three_real_apis() else {
        return;
    };
    let answer = engine
        .search(&SearchRequest {
            query: "refund a charge, then open a github issue about it".into(),
            limit: None,
            api: None,
            ..Default::default()
        })
        .unwrap();
    let code = answer
        .text
        .split_once("```ts\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(code, _)| code)
        .expect("the answer has a TypeScript block");
    let dir = tempfile::tempdir().unwrap();
    let declarations = dir.path().join("api.ts");
    std::fs::write(
        &declarations,
        format!("{}{code}", engine.globals_declaration()),
    )
    .unwrap();
    let agent = dir.path().join("agent.ts");
    std::fs::write(
        &agent,
        r#"
async function agent(): Promise<number> {
  const refund = await api.stripe.postChargesChargeRefunds({ charge: "ch_1" });
  const issue = await api.github.issuesCreate({ owner: "o", repo: "r", body: { title: `refund ${refund.id}` } });
  const raw = await api.stripe.postChargesChargeRefunds({ charge: "ch_2" }, { throwOnError: false });
  const pages = await api.github.paginate(api.github.issuesCreate, {});
  await api.stripe.request({ method: "GET", path: "/v1/charges" });
  console.log(raw.status, pages.length);
  return issue.number;
}
"#,
    )
    .unwrap();
    let errors = codemode_test_support::tsc_errors(&[&declarations, &agent], &["--skipLibCheck"]);
    assert!(errors.is_empty(), "{errors}\n{}", answer.text);
}

#[tokio::test]
async fn an_error_echoing_a_token_is_redacted_and_limits_are_per_api() {
    let (shop_url, _shop) = upstream().await;
    let (tickets_url, tickets) = upstream().await;
    let mut tickets_setup = setup(
        "tickets",
        TICKETS,
        &tickets_url,
        TICKETS_TOKEN,
        PolicyConfig::default(),
    );
    tickets_setup.session.max_calls = 1;
    let engine = Engine::with_apis(
        vec![
            setup("shop", SHOP, &shop_url, SHOP_TOKEN, PolicyConfig::default()),
            tickets_setup,
        ],
        EngineConfig::default(),
    )
    .unwrap();
    let failed = execute(
        &engine,
        "return await api.shop.request({ method: 'GET', path: '/fail' });",
    )
    .await;
    let message = error_message(&failed);
    assert!(message.contains("400"), "{message}");
    assert!(
        !everything(&failed).contains(SHOP_TOKEN),
        "{}",
        everything(&failed)
    );
    // Tickets allows one call per run; the shop's own limit (50) is untouched by it.
    let limited = execute(
        &engine,
        r#"
        await api.tickets.listTickets();
        let second = "sent";
        try { await api.tickets.listTickets(); } catch (e) { second = e.message; }
        const orders = await api.shop.listOrders();
        const more = await api.shop.listOrders();
        return { second, shop: orders.length + more.length };
        "#,
    )
    .await;
    let value = limited
        .result
        .expect("the run goes on after the refused call");
    assert!(
        value["second"].as_str().unwrap().contains("limit"),
        "{value}"
    );
    assert_eq!(value["shop"], 2);
    assert_eq!(tickets.list().len(), 1, "{:?}", tickets.list());
}

// The example's `main` is not called here. The example includes `embed_in_process.rs` for its
// bookshop (an example builds on its own), which `embed_in_process` tests include too.
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../../examples/several_apis.rs"]
mod example;

#[tokio::test]
async fn the_several_apis_example_reorders_from_the_warehouse_with_its_own_token() {
    let (result, calls, seen) =
        tokio::time::timeout(std::time::Duration::from_secs(30), example::run())
            .await
            .expect("timed out after 30 s waiting for the program")
            .expect("the program runs");
    assert_eq!(
        result,
        json!([{"title": "The Selfish Gene", "order": "order-2"}])
    );
    assert!(calls[0].starts_with("shop: GET /books → 200"), "{calls:?}");
    assert!(
        calls
            .last()
            .unwrap()
            .starts_with("warehouse: POST /restock → 201"),
        "{calls:?}"
    );
    assert_eq!(seen, ["Bearer warehouse-token"]);
}
