//! One engine over two APIs (issue 16): the bookshop of `embed_in_process.rs` and a small
//! warehouse API, each an axum `Router` in this process behind its own in-process transport and
//! its own credential. One program uses both (`api.shop.*`, `api.warehouse.*`); a search ranks
//! both APIs and declares each in its namespace.
//!
//! `cargo run -p codemode-engine --example several_apis`
//!
//! `tests/it/several_apis.rs` runs this same code and checks the result.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use codemode_engine::upstream::{Credential, InProcess, Secret, UpstreamConfig};
use codemode_engine::{ApiSetup, Engine, EngineConfig, ExecuteRequest, SearchRequest};
use serde_json::{Value, json};

#[allow(dead_code)]
#[path = "embed_in_process.rs"]
mod bookshop;

/// The warehouse: one operation, restocking a book.
pub const WAREHOUSE_SPEC: &str = r##"
openapi: 3.0.3
info: {title: Warehouse, version: "1"}
paths:
  /restock:
    post:
      operationId: restockBook
      summary: Order more copies of a book from the warehouse
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [bookId, copies]
              properties: {bookId: {type: integer}, copies: {type: integer, minimum: 1}}
      responses:
        "201":
          description: the order
          content: {application/json: {schema: {type: object, properties: {orderId: {type: string}}}}}
"##;

/// What the agent would send to `execute`: books out of stock in the shop are reordered from the
/// warehouse.
pub const PROGRAM: &str = r#"
const science = await api.shop.listBooks({ genre: "science" });
const ordered = [];
for (const book of science) {
  const detail = await api.shop.getBook({ id: book.id });
  if (detail.stock === 0) {
    const order = await api.warehouse.restockBook({ body: { bookId: book.id, copies: 5 } });
    ordered.push({ title: detail.title, order: order.orderId });
  }
}
return ordered;
"#;

/// The warehouse's handler: answers an order and keeps the Authorization header each request
/// carried, so a caller can check which credential reached it.
pub fn warehouse(seen: Arc<Mutex<Vec<String>>>) -> Router {
    Router::new().route(
        "/restock",
        post(
            move |headers: HeaderMap, Json(order): Json<Value>| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                seen.lock().expect("not poisoned").push(auth);
                let id = format!("order-{}", order["bookId"]);
                (
                    axum::http::StatusCode::CREATED,
                    Json(json!({ "orderId": id })),
                )
            },
        ),
    )
}

/// The engine: the shop under `api.shop`, the warehouse under `api.warehouse`, each with its own
/// bearer token and nothing else in common.
pub fn engine(
    seen_by_warehouse: Arc<Mutex<Vec<String>>>,
) -> Result<Engine, Box<dyn std::error::Error>> {
    let api = |name: &str, spec: &str, base_url: &str, token: &str, router: Router| {
        Ok::<_, Box<dyn std::error::Error>>(ApiSetup {
            name: name.into(),
            spec: codemode_engine::spec::load_str(&format!("{name}.yaml"), spec)?,
            upstream: Some(UpstreamConfig {
                base_url: base_url.into(),
                credentials: vec![Credential::Bearer(Secret::new(token))],
                transport: Some(Arc::new(InProcess::new(router))),
                ..UpstreamConfig::default()
            }),
            policy: Default::default(),
            session: Default::default(),
        })
    };
    let apis = vec![
        api(
            "shop",
            bookshop::SPEC,
            "http://bookshop.invalid/v1",
            "shop-token",
            bookshop::bookshop(),
        )?,
        api(
            "warehouse",
            WAREHOUSE_SPEC,
            "http://warehouse.invalid",
            "warehouse-token",
            warehouse(seen_by_warehouse),
        )?,
    ];
    Ok(Engine::with_apis(apis, EngineConfig::default())?)
}

/// Runs [`PROGRAM`]: its result, its calls, and the Authorization headers the warehouse saw.
pub async fn run() -> Result<(Value, Vec<String>, Vec<String>), Box<dyn std::error::Error>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let engine = engine(seen.clone())?;
    let outcome = engine
        .execute(ExecuteRequest {
            code: PROGRAM.into(),
            ..ExecuteRequest::default()
        })
        .await;
    let calls = outcome.calls.iter().map(ToString::to_string).collect();
    let result = outcome.result.map_err(|failure| failure.message)?;
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    Ok((result, calls, seen))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (result, calls, _) = run().await?;
    println!("result: {result}");
    for call in calls {
        println!("call: {call}");
    }
    let engine = engine(Arc::default())?;
    let answer = engine.search(&SearchRequest {
        query: "find out-of-stock books, then reorder them from the warehouse".into(),
        limit: None,
        api: None,
        ..Default::default()
    })?;
    println!("\n{}", answer.text);
    Ok(())
}
