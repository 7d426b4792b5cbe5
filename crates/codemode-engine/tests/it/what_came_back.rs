//! What a run tells the agent about its calls, against a real HTTP server on 127.0.0.1: a
//! pagination that stopped before the end of the list says so in the log, a dry run's planned
//! creates answer with placeholders later calls can use, and each call line names the resource
//! it touched and how many items came back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use codemode_engine::upstream::{Credential, Secret, UpstreamConfig};
use codemode_engine::{Engine, EngineConfig, ExecuteOutcome, ExecuteRequest};
use serde_json::{Value, json};

const SPEC: &str = r##"
openapi: 3.0.3
info: {title: Billing, version: "1"}
components:
  schemas:
    Customer:
      type: object
      required: [id]
      properties:
        id: {type: string}
        object: {type: string, enum: [customer]}
        email: {type: string}
    Envelope:
      type: object
      properties:
        success: {type: boolean}
        result: {$ref: "#/components/schemas/Subscription"}
    Subscription:
      type: object
      properties:
        id: {type: integer}
        customer_id: {type: string}
paths:
  /customers:
    get:
      operationId: listCustomers
      parameters:
        - {name: starting_after, in: query, schema: {type: string}}
        - {name: limit, in: query, schema: {type: integer}}
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
    post:
      operationId: createCustomer
      requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {email: {type: string}}}}}}
      responses: {"201": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Customer"}}}}}
  /customers/{id}:
    get:
      operationId: getCustomer
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Customer"}}}}}
    post:
      operationId: updateCustomer
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      requestBody: {content: {application/json: {schema: {type: object, properties: {email: {type: string}}}}}}
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Customer"}}}}}
  /subscriptions:
    post:
      operationId: createSubscription
      requestBody: {required: true, content: {application/json: {schema: {type: object, required: [customer_id], properties: {customer_id: {type: string}}}}}}
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Envelope"}}}}}
  /subscriptions/{sub}:
    delete:
      operationId: cancelSubscription
      parameters: [{name: sub, in: path, required: true, schema: {type: integer}}]
      responses: {"204": {description: gone}}
"##;

const TOKEN: &str = "billing-canary-3c9d1f";

type Responder = dyn Fn(&str, usize) -> Value + Send + Sync;

/// An upstream answering each request with `respond(path_and_query, index)` as JSON, and the
/// list of what it received.
async fn upstream(
    respond: impl Fn(&str, usize) -> Value + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = received.clone();
    let respond: Arc<Responder> = Arc::new(respond);
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, _body: Bytes| {
        let (log, respond) = (log.clone(), respond.clone());
        async move {
            let target = uri.path_and_query().map_or("", |p| p.as_str()).to_string();
            let index = {
                let mut all = log.lock().unwrap();
                all.push(format!("{method} {target}"));
                all.len() - 1
            };
            (StatusCode::OK, axum::Json(respond(&target, index)))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

fn engine(spec: codemode_engine::spec::Spec, base_url: &str) -> Engine {
    let config = EngineConfig {
        upstream: Some(UpstreamConfig {
            base_url: base_url.to_string(),
            credentials: vec![Credential::Bearer(Secret::new(TOKEN))],
            ..UpstreamConfig::default()
        }),
        ..EngineConfig::default()
    };
    Engine::new(spec, config).unwrap()
}

fn billing(base_url: &str) -> Engine {
    engine(
        codemode_engine::spec::load_str("billing.yaml", SPEC).unwrap(),
        base_url,
    )
}

/// Runs a program; one that does not end within 20 s fails the test.
async fn run(engine: &Engine, code: &str, dry_run: bool) -> ExecuteOutcome {
    let request = ExecuteRequest {
        code: code.into(),
        dry_run,
        confirm: None,
        ..Default::default()
    };
    tokio::time::timeout(Duration::from_secs(20), engine.execute(request))
        .await
        .expect("the run ends")
}

fn warnings(outcome: &ExecuteOutcome) -> Vec<&str> {
    outcome
        .logs
        .iter()
        .filter(|l| l.level == "warn")
        .map(|l| l.text.as_str())
        .collect()
}

// ----- api.paginate is never silently partial -----

#[tokio::test]
async fn paginate_warns_when_the_api_has_more_but_no_cursor() {
    // `has_more`, but the items have no `id` to start after.
    let (base, received) =
        upstream(|_, _| json!({"data": [{"name": "a"}, {"name": "b"}], "has_more": true})).await;
    let outcome = run(
        &billing(&base),
        "return (await api.paginate(api.listCustomers)).length",
        false,
    )
    .await;
    assert_eq!(outcome.result.clone().unwrap(), json!(2));
    assert_eq!(
        warnings(&outcome),
        [
            "api.paginate(api.listCustomers) returned 2 items from 1 page, not the whole list: the API said there was more but gave no cursor or next link to follow"
        ]
    );
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn paginate_stops_at_a_repeating_page_and_warns() {
    // Every page is the first: the API ignores `starting_after`.
    let (base, received) =
        upstream(|_, _| json!({"data": [{"id": "cus_1"}], "has_more": true})).await;
    let outcome = run(
        &billing(&base),
        "return await api.paginate(api.listCustomers, { limit: 1 })",
        false,
    )
    .await;
    assert_eq!(
        outcome.result.clone().unwrap(),
        json!([{"id": "cus_1"}]),
        "no copies of the repeated page"
    );
    assert_eq!(
        warnings(&outcome),
        [
            "api.paginate(api.listCustomers) returned 1 item from 2 pages, not the whole list: a page repeated the previous one item for item (the API ignored the paging parameter); the repeat was dropped"
        ]
    );
    assert_eq!(
        *received.lock().unwrap(),
        [
            "GET /customers?limit=1",
            "GET /customers?starting_after=cus_1&limit=1"
        ]
    );
}

#[tokio::test]
async fn paginate_at_its_page_limit_warns_how_to_raise_it() {
    let (base, _) =
        upstream(|_, index| json!({"data": [{"id": format!("cus_{index}")}], "has_more": true}))
            .await;
    let engine = billing(&base);
    let outcome = run(
        &engine,
        "return (await api.paginate(api.listCustomers)).length",
        false,
    )
    .await;
    assert_eq!(outcome.result.clone().unwrap(), json!(10));
    assert_eq!(
        warnings(&outcome),
        [
            "api.paginate(api.listCustomers) returned 10 items from 10 pages, not the whole list: the limit of 10 pages was reached while the API said there was more; for more, api.paginate(api.listCustomers, args, { maxPages: 20 }) (each page is one of the run's 50 calls)"
        ]
    );
    // A list that ends within the limit says nothing.
    let (base, _) = upstream(
        |_, index| json!({"data": [{"id": format!("cus_{index}")}], "has_more": index < 2}),
    )
    .await;
    let outcome = run(
        &billing(&base),
        r#"return (await api.paginate("listCustomers", {}, { maxPages: 3 })).length"#,
        false,
    )
    .await;
    assert_eq!(outcome.result.clone().unwrap(), json!(3));
    assert!(warnings(&outcome).is_empty(), "{:?}", outcome.logs);
}

// ----- dry runs that chain -----

#[tokio::test]
async fn a_dry_run_create_answers_with_ids_the_next_calls_can_use() {
    let (base, received) = upstream(|_, _| json!({})).await;
    let code = r#"
        const customer = await api.createCustomer({ body: { email: "a@example.test" } });
        const updated = await api.updateCustomer({ id: customer.id, body: { email: "b@example.test" } });
        const sub = await api.createSubscription({ body: { customer_id: customer.id } });
        await api.cancelSubscription({ sub: sub.result.id });
        const raw = await api.createCustomer({ body: {} }, { throwOnError: false });
        return {
            customer, sub, spread: { ...customer },
            flags: [customer.dryRun, customer.planned.method, updated.id === customer.id],
            raw: [raw.status, raw.body.id, raw.dryRun],
        };
    "#;
    let outcome = run(&billing(&base), code, true).await;
    let result = outcome.result.clone().expect("the run succeeds");
    assert_eq!(
        result["customer"],
        json!({"id": "dryrun_createCustomer_id_1", "object": "customer"}),
        "dryRun and planned are not enumerable"
    );
    assert_eq!(result["spread"], result["customer"]);
    assert_eq!(
        result["sub"],
        json!({"result": {"id": 990000003, "customer_id": "dryrun_createSubscription_customer_id_3"}})
    );
    assert_eq!(result["flags"], json!([true, "POST", false]));
    assert_eq!(
        result["raw"],
        json!([201, "dryrun_createCustomer_id_5", true])
    );
    let planned: Vec<(String, Option<Value>)> = outcome
        .planned
        .iter()
        .map(|p| (format!("{} {}", p.method, p.path), p.body.clone()))
        .collect();
    assert_eq!(
        planned,
        [
            (
                "POST /customers".into(),
                Some(json!({"email": "a@example.test"}))
            ),
            (
                "POST /customers/dryrun_createCustomer_id_1".into(),
                Some(json!({"email": "b@example.test"}))
            ),
            (
                "POST /subscriptions".into(),
                Some(json!({"customer_id": "dryrun_createCustomer_id_1"}))
            ),
            ("DELETE /subscriptions/990000003".into(), None),
            ("POST /customers".into(), Some(json!({}))),
        ]
    );
    assert!(received.lock().unwrap().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_stripe_dry_run_plans_a_subscription_for_the_customer_it_planned() {
    let path = codemode_test_support::spec_path("stripe-spec3.yaml");
    let spec = codemode_engine::spec::load(&path.to_string_lossy(), &Default::default())
        .unwrap()
        .spec;
    // Nothing listens on port 9: a request sent would fail the run.
    let engine = engine(spec, "http://127.0.0.1:9");
    let code = r#"
        const c = await api.postCustomers({ body: { email: "jo@example.test" } });
        const s = await api.postSubscriptions({ body: { customer: c.id, items: [{ price: "price_1" }] } });
        return [c.id, c.object, s.object];
    "#;
    let outcome = run(&engine, code, true).await;
    assert_eq!(
        outcome.result.clone().expect("the run succeeds"),
        json!(["dryrun_postCustomers_id_1", "customer", "subscription"])
    );
    assert_eq!(outcome.planned.len(), 2, "{:?}", outcome.planned);
    assert_eq!(outcome.planned[0].path, "/v1/customers");
    assert_eq!(outcome.planned[1].path, "/v1/subscriptions");
    let body = outcome.planned[1].body.clone().expect("a body");
    assert_eq!(
        body["customer"],
        json!("dryrun_postCustomers_id_1"),
        "{body}"
    );
    assert!(outcome.calls.is_empty(), "{:?}", outcome.calls);
}

// ----- call lines -----

#[tokio::test]
async fn call_lines_name_the_resource_and_count_the_items() {
    let (base, _) = upstream(|target, _| {
        if target.starts_with("/customers?") || target == "/customers" {
            json!({"object": "list", "data": [{"id": "cus_1"}, {"id": "cus_2"}, {"id": "cus_3"}], "has_more": false})
        } else {
            json!({"id": "cus_1", "object": "customer"})
        }
    })
    .await;
    let code = format!(
        r#"
        await api.listCustomers({{ limit: 3 }});
        await api.getCustomer({{ id: "cus_1" }});
        await api.getCustomer({{ id: "cus_01HGZ3K4TQ8M9V2XWJ5N7R6P1B" }});
        await api.getCustomer({{ id: "{TOKEN}" }});
        return null;
    "#
    );
    let outcome = run(&billing(&base), &code, false).await;
    assert_eq!(outcome.result.clone().unwrap(), Value::Null);
    // The times vary; everything else is exact.
    let lines: Vec<String> = outcome
        .calls
        .iter()
        .map(|call| {
            let line = call.to_string();
            line.replacen(&format!("({} ms", call.ms), "(_ ms", 1)
        })
        .collect();
    assert_eq!(
        lines,
        [
            "GET /customers → 200 (_ ms, 3 items)",
            "GET /customers/cus_1 → 200 (_ ms)",
            "GET /customers/cus_01HGZ3K4… → 200 (_ ms)",
            "GET /customers/[redacted] → 200 (_ ms)",
        ]
    );
    let json = serde_json::to_value(&outcome.calls).unwrap();
    assert_eq!(json[0]["path"], "/customers", "the template stays");
    assert_eq!(json[0]["items"], 3);
    assert_eq!(json[1]["path"], "/customers/{id}");
    assert_eq!(json[1]["resolved_path"], "/customers/cus_1");
    assert!(!json.to_string().contains(TOKEN), "{json}");
}
