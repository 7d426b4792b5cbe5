//! An HTTP server that answers every operation of a spec with the example its success response
//! declares. Serves `codemode demo` (the embedded bookshop API) so a newcomer can try search and
//! execute offline, with no credentials of their own.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One operation the server answers.
struct Route {
    method: Method,
    segments: Vec<Segment>,
    status: StatusCode,
    example: Option<Value>,
}

enum Segment {
    Literal(String),
    Parameter,
}

impl Route {
    fn matches(&self, method: &Method, path: &str) -> bool {
        let parts: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        self.method == method
            && parts.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(&parts)
                .all(|(segment, part)| match segment {
                    Segment::Literal(text) => text == part,
                    Segment::Parameter => true,
                })
    }
}

/// Reads the routes and examples from a parsed OpenAPI 3 document.
fn routes(spec: &Value) -> Vec<Route> {
    let mut out = Vec::new();
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let segments = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.starts_with('{') {
                    Segment::Parameter
                } else {
                    Segment::Literal(s.to_string())
                }
            })
            .collect::<Vec<_>>();
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                continue;
            };
            let Some((code, response)) = responses.iter().find(|(code, _)| code.starts_with('2'))
            else {
                continue;
            };
            let status = code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::OK);
            let example = response
                .pointer("/content/application~1json/example")
                .cloned();
            out.push(Route {
                method: method.clone(),
                segments: segments
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(t) => Segment::Literal(t.clone()),
                        Segment::Parameter => Segment::Parameter,
                    })
                    .collect(),
                status,
                example,
            });
        }
    }
    out
}

pub struct ExampleUpstream {
    pub base_url: String,
    pub token: &'static str,
}

/// Starts the server on 127.0.0.1 (a free port) in the current tokio runtime.
/// `base_path` is the server URL's path (`/v1`); requests must carry `Bearer <token>`.
pub async fn start(
    spec: &Value,
    base_path: &str,
    token: &'static str,
) -> anyhow::Result<ExampleUpstream> {
    let routes = Arc::new(routes(spec));
    let prefix = base_path.trim_end_matches('/').to_string();
    let handler_prefix = prefix.clone();
    let app = axum::Router::new().fallback(move |request: Request<Body>| {
        let routes = routes.clone();
        let prefix = handler_prefix.clone();
        async move { answer(&routes, &prefix, token, request) }
    });
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(ExampleUpstream {
        base_url: format!("http://{addr}{prefix}"),
        token,
    })
}

fn answer(routes: &[Route], prefix: &str, token: &str, request: Request<Body>) -> Response {
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {token}"));
    if !authorized {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let path = request.uri().path();
    let Some(path) = path.strip_prefix(prefix) else {
        return error(StatusCode::NOT_FOUND, "no such path");
    };
    match routes.iter().find(|r| r.matches(request.method(), path)) {
        Some(route) if route.status == StatusCode::NO_CONTENT => {
            StatusCode::NO_CONTENT.into_response()
        }
        Some(route) => (
            route.status,
            axum::Json(route.example.clone().unwrap_or(Value::Null)),
        )
            .into_response(),
        None => error(StatusCode::NOT_FOUND, "no such operation"),
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}
