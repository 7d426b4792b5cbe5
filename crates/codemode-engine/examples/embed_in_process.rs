//! Embeds the engine in a program whose API is an axum `Router` in the same process: the
//! upstream is reached through the in-process transport, so no socket is opened and no name is
//! resolved (the base URL is `http://bookshop.invalid`). A JavaScript program calls two
//! operations and its result is printed.
//!
//! `cargo run -p codemode-engine --example embed_in_process`
//!
//! `tests/it/embed_in_process.rs` runs this same code and checks the result.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use codemode_engine::upstream::{InProcess, UpstreamConfig};
use codemode_engine::{Engine, EngineConfig, ExecuteRequest};
use serde_json::{Value, json};

/// The API as the agent sees it: two operations.
pub const SPEC: &str = r##"
openapi: 3.0.3
info: {title: Bookshop, version: "1"}
servers: [{url: "http://bookshop.invalid/v1"}]
paths:
  /books:
    get:
      operationId: listBooks
      summary: List books, optionally of one genre
      parameters:
        - {name: genre, in: query, schema: {type: string}}
      responses:
        "200":
          description: the books
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Book"}}
  /books/{id}:
    get:
      operationId: getBook
      summary: One book with its stock
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: the book
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Book"}
        "404": {description: no such book}
components:
  schemas:
    Book:
      type: object
      properties:
        id: {type: integer}
        title: {type: string}
        genre: {type: string}
        stock: {type: integer}
"##;

/// What the agent would send to `execute`.
pub const PROGRAM: &str = r#"
const science = await api.listBooks({ genre: "science" });
const inStock = [];
for (const book of science) {
  const detail = await api.getBook({ id: book.id });
  if (detail.stock > 0) inStock.push(detail.title);
}
return { science: science.length, inStock };
"#;

fn books() -> Vec<Value> {
    vec![
        json!({"id": 1, "title": "A Brief History of Time", "genre": "science", "stock": 3}),
        json!({"id": 2, "title": "The Selfish Gene", "genre": "science", "stock": 0}),
        json!({"id": 3, "title": "Middlemarch", "genre": "fiction", "stock": 5}),
    ]
}

#[derive(serde::Deserialize)]
struct Filter {
    genre: Option<String>,
}

/// The embedder's own API: plain axum handlers, never bound to a port.
pub fn bookshop() -> Router {
    Router::new()
        .route(
            "/v1/books",
            get(|Query(filter): Query<Filter>| async move {
                let wanted = |book: &Value| match &filter.genre {
                    Some(genre) => book["genre"] == genre.as_str(),
                    None => true,
                };
                Json(books().into_iter().filter(wanted).collect::<Vec<_>>())
            }),
        )
        .route(
            "/v1/books/{id}",
            get(|Path(id): Path<u64>| async move {
                match books().into_iter().find(|book| book["id"] == id) {
                    Some(book) => Json(book).into_response(),
                    None => not_found(id),
                }
            }),
        )
}

fn not_found(id: u64) -> Response {
    let message = format!("no book with id {id}");
    (StatusCode::NOT_FOUND, Json(json!({ "message": message }))).into_response()
}

/// An engine whose upstream is `router`, called in process.
pub fn engine(router: Router) -> Result<Engine, Box<dyn std::error::Error>> {
    let spec = codemode_engine::spec::load_str("bookshop.yaml", SPEC)?;
    let config = EngineConfig {
        upstream: Some(UpstreamConfig {
            base_url: "http://bookshop.invalid/v1".into(),
            transport: Some(Arc::new(InProcess::new(router))),
            ..UpstreamConfig::default()
        }),
        ..EngineConfig::default()
    };
    Ok(Engine::new(spec, config)?)
}

/// Runs [`PROGRAM`] against the in-process bookshop: its result, and the calls it made.
pub async fn run() -> Result<(Value, Vec<String>), Box<dyn std::error::Error>> {
    let engine = engine(bookshop())?;
    let outcome = engine
        .execute(ExecuteRequest {
            code: PROGRAM.into(),
            ..ExecuteRequest::default()
        })
        .await;
    let calls = outcome.calls.iter().map(ToString::to_string).collect();
    match outcome.result {
        Ok(value) => Ok((value, calls)),
        Err(failure) => {
            Err(format!("the program failed ({}): {}", failure.kind, failure.message).into())
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (result, calls) = run().await?;
    for call in &calls {
        println!("{call}");
    }
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
