//! What a program sees end to end, against a real HTTP server on 127.0.0.1: files written in
//! the `Binary` shapes the globals declare, PATCH bodies sent as the media type their shape fits,
//! and API errors with HTML bodies (a short message, `e.body` the page as a plain string).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use codemode_engine::upstream::UpstreamConfig;
use codemode_engine::{Engine, EngineConfig, ExecuteOutcome, ExecuteRequest};
use serde_json::{Value, json};

const SPEC: &str = r##"
openapi: 3.0.3
info: {title: Files, version: "1"}
paths:
  /files:
    post:
      operationId: createFile
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file, purpose]
              properties:
                file: {type: string, format: binary}
                purpose: {type: string}
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /deployments/{name}/scale:
    patch:
      operationId: patchScale
      parameters: [{name: name, in: path, required: true, schema: {type: string}}]
      requestBody:
        required: true
        content:
          application/json-patch+json: {schema: {$ref: "#/components/schemas/Patch"}}
          application/merge-patch+json: {schema: {$ref: "#/components/schemas/Patch"}}
          application/strategic-merge-patch+json: {schema: {$ref: "#/components/schemas/Patch"}}
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /broken:
    get:
      operationId: broken
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
components:
  schemas:
    Patch: {type: object}
"##;

/// Method, path, content type and body of one request the upstream received.
type Seen = (String, String, String, Vec<u8>);

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Seen>>>);

impl Received {
    fn list(&self) -> Vec<Seen> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn error_page() -> String {
    format!(
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>\
         <h1>Bad Gateway</h1><p>nginx</p><!-- {} --></body></html>",
        "padding ".repeat(700)
    )
}

async fn start() -> (Engine, Received) {
    let received = Received::default();
    let log = received.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            async move {
                let content_type = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                if let Ok(mut list) = log.0.lock() {
                    list.push((
                        method.to_string(),
                        uri.path().to_string(),
                        content_type,
                        body.to_vec(),
                    ));
                }
                if uri.path() == "/broken" {
                    return (
                        StatusCode::BAD_GATEWAY,
                        [("content-type", "text/html")],
                        error_page(),
                    )
                        .into_response();
                }
                (StatusCode::OK, axum::Json(json!({"ok": true}))).into_response()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let spec = codemode_engine::spec::load_str("files.yaml", SPEC).expect("spec");
    let config = EngineConfig {
        upstream: Some(UpstreamConfig {
            base_url: format!("http://{addr}"),
            ..UpstreamConfig::default()
        }),
        ..EngineConfig::default()
    };
    (Engine::new(spec, config).expect("engine"), received)
}

async fn run(engine: &Engine, code: &str) -> ExecuteOutcome {
    engine
        .execute(ExecuteRequest {
            code: code.into(),
            dry_run: false,
            confirm: None,
            ..Default::default()
        })
        .await
}

fn value(outcome: &ExecuteOutcome) -> Value {
    match &outcome.result {
        Ok(v) => v.clone(),
        Err(f) => panic!("the program failed: {} ({})", f.message, f.kind),
    }
}

#[tokio::test]
async fn files_in_the_declared_binary_shapes_arrive_as_file_parts() {
    let (engine, received) = start().await;
    let outcome = run(
        &engine,
        r#"await api.createFile({ body: { file: { contentType: "application/jsonl", base64: btoa('{"a":1}') }, purpose: "fine-tune" } });
await api.createFile({ body: { file: { data: '{"b":2}', filename: "train.jsonl" }, purpose: "fine-tune" } });
try {
  await api.createFile({ body: { file: { content: "x" }, purpose: "fine-tune" } });
  return "sent";
} catch (e) {
  return e.name + ": " + e.message;
}"#,
    )
    .await;
    let refused = value(&outcome);
    assert!(
        refused
            .as_str()
            .is_some_and(|m| m.starts_with("ValidationError: ")
                && m.contains("got an object without data or base64")),
        "{refused}"
    );
    let seen = received.list();
    assert_eq!(seen.len(), 2, "the bad file is not sent");
    let first = String::from_utf8_lossy(&seen[0].3).into_owned();
    assert!(
        first.contains(
            "name=\"file\"; filename=\"file\"\r\nContent-Type: application/jsonl\r\n\r\n{\"a\":1}\r\n"
        ),
        "{first}"
    );
    let second = String::from_utf8_lossy(&seen[1].3).into_owned();
    assert!(
        second.contains("filename=\"train.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n{\"b\":2}\r\n"),
        "{second}"
    );
}

#[tokio::test]
async fn patch_bodies_go_as_the_media_type_their_shape_fits() {
    let (engine, received) = start().await;
    let outcome = run(
        &engine,
        r#"await api.patchScale({ name: "web", body: { spec: { replicas: 3 } } });
await api.patchScale({ name: "web", body: [{ op: "replace", path: "/spec/replicas", value: 4 }] });
return "ok";"#,
    )
    .await;
    assert_eq!(value(&outcome), json!("ok"));
    let types: Vec<(String, String)> = received
        .list()
        .into_iter()
        .map(|(method, _, content_type, body)| {
            (
                format!("{method} {content_type}"),
                String::from_utf8_lossy(&body).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            (
                "PATCH application/merge-patch+json".to_string(),
                r#"{"spec":{"replicas":3}}"#.to_string()
            ),
            (
                "PATCH application/json-patch+json".to_string(),
                r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#.to_string()
            ),
        ]
    );
}

#[tokio::test]
async fn html_error_pages_give_a_short_message_and_a_plain_string_body() {
    let (engine, _) = start().await;
    let page = error_page();
    let outcome = run(
        &engine,
        r#"let caught;
try { await api.broken(); } catch (e) { caught = e; }
const raw = await api.broken({}, { throwOnError: false });
return { message: caught.message, body: caught.body, rawBody: raw.body };"#,
    )
    .await;
    let result = value(&outcome);
    assert_eq!(
        result["message"],
        json!(format!(
            "GET /broken failed: 502 bad gateway: 502 Bad Gateway Bad Gateway nginx (text/html, {} bytes)",
            page.len()
        ))
    );
    let body = result["body"].as_str().expect("e.body is a string");
    let shown: String = page.chars().take(4000).collect();
    assert_eq!(
        body,
        format!(
            "{shown}… [truncated: first 4000 of {} characters]",
            page.chars().count()
        )
    );
    assert_eq!(result["rawBody"], json!(page));

    // Uncaught, the run fails with the same short message.
    let outcome = run(&engine, "await api.broken();").await;
    let failure = outcome.result.expect_err("uncaught ApiError");
    assert!(
        failure
            .message
            .contains("502 Bad Gateway Bad Gateway nginx (text/html,"),
        "{}",
        failure.message
    );
    assert!(!failure.message.contains('<'), "{}", failure.message);
}
