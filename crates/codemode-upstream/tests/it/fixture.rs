//! The fixture spec and the recording test server shared by every test.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use codemode_spec::Spec;
use codemode_upstream::{Client, Credential, Session, SessionLimits, UpstreamConfig};

/// What one request to the test server carried.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

type Responder = dyn Fn(&Captured, usize) -> Response + Send + Sync;

/// A server that records every request and answers with `respond(request, index)`.
pub struct TestServer {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Captured>>>,
}

impl TestServer {
    pub async fn start(
        respond: impl Fn(&Captured, usize) -> Response + Send + Sync + 'static,
    ) -> TestServer {
        let requests: Arc<Mutex<Vec<Captured>>> = Arc::default();
        let respond: Arc<Responder> = Arc::new(respond);
        let recorded = requests.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let recorded = recorded.clone();
                let respond = respond.clone();
                async move {
                    let captured = Captured {
                        method: method.to_string(),
                        path: uri.path().to_string(),
                        query: uri.query().map(str::to_string),
                        headers,
                        body: body.to_vec(),
                    };
                    let index = {
                        let mut all = recorded.lock().expect("lock");
                        all.push(captured.clone());
                        all.len() - 1
                    };
                    respond(&captured, index)
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
        TestServer {
            url: format!("http://{addr}"),
            requests,
        }
    }

    /// A server answering every request with 200 `{"ok":true}`.
    pub async fn ok() -> TestServer {
        TestServer::start(|_, _| json_response(StatusCode::OK, r#"{"ok":true}"#)).await
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.requests.lock().expect("lock").clone()
    }

    pub fn only_request(&self) -> Captured {
        let all = self.requests();
        assert_eq!(all.len(), 1, "expected exactly one request, got {all:?}");
        all[0].clone()
    }
}

pub fn json_response(status: StatusCode, body: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// One of the real specs (`codemode_test_support::spec_path`).
pub fn real_spec(file: &str) -> Arc<Spec> {
    let path = codemode_test_support::spec_path(file);
    let loaded = codemode_spec::load(&path.to_string_lossy(), &Default::default())
        .unwrap_or_else(|error| panic!("{file} loads: {error}"));
    Arc::new(loaded.spec)
}

pub fn spec() -> Arc<Spec> {
    Arc::new(codemode_spec::load_str("fixture.json", FIXTURE).expect("fixture spec loads"))
}

pub fn client(server: &TestServer, credentials: Vec<Credential>) -> Client {
    client_with(server, |c| c.credentials = credentials)
}

pub fn client_with(server: &TestServer, adjust: impl FnOnce(&mut UpstreamConfig)) -> Client {
    let mut config = UpstreamConfig {
        base_url: format!("{}/v1", server.url),
        ..UpstreamConfig::default()
    };
    adjust(&mut config);
    Client::new(spec(), config).expect("client builds")
}

pub fn session(server: &TestServer) -> Session {
    client(server, vec![]).session(SessionLimits::default())
}

/// A small OpenAPI 3.1 document exercising every style, body kind and auth scheme.
pub const FIXTURE: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "fixture", "version": "1"},
  "servers": [{"url": "https://api.example.test/v1"}],
  "components": {
    "securitySchemes": {
      "bearer": {"type": "http", "scheme": "bearer"},
      "basic": {"type": "http", "scheme": "basic"},
      "headerKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
      "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"},
      "cookieKey": {"type": "apiKey", "in": "cookie", "name": "sid"},
      "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://auth.example.test/token", "scopes": {"read": "r", "write": "w"}}}}
    },
    "schemas": {
      "Pet": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
          "id": {"type": "integer", "readOnly": true},
          "name": {"type": "string", "minLength": 1},
          "tag": {"type": "string"},
          "status": {"type": "string", "enum": ["available", "pending", "sold"]},
          "age": {"type": "integer", "minimum": 0},
          "owner": {"$ref": "#/components/schemas/Owner"},
          "born": {"type": "string", "format": "date"}
        }
      },
      "Owner": {
        "type": "object",
        "properties": {"email": {"type": "string", "format": "email"}, "phones": {"type": "array", "items": {"type": "string"}}}
      }
    }
  },
  "paths": {
    "/pets/{petId}": {
      "get": {
        "operationId": "getPet",
        "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}
      },
      "delete": {
        "operationId": "deletePet",
        "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "integer"}}],
        "responses": {"204": {"description": "gone"}}
      }
    },
    "/pets": {
      "post": {
        "operationId": "createPet",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
        "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}
      }
    },
    "/files/{path}": {
      "get": {
        "operationId": "getFile",
        "parameters": [{"name": "path", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/styles/{m}/{l}/{s}": {
      "get": {
        "operationId": "styles",
        "parameters": [
          {"name": "m", "in": "path", "required": true, "style": "matrix", "explode": true, "schema": {"type": "object"}},
          {"name": "l", "in": "path", "required": true, "style": "label", "schema": {"type": "array", "items": {"type": "integer"}}},
          {"name": "s", "in": "path", "required": true, "schema": {"type": "array", "items": {"type": "string"}}},
          {"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}},
          {"name": "tags", "in": "query", "explode": false, "schema": {"type": "array", "items": {"type": "string"}}},
          {"name": "words", "in": "query", "style": "spaceDelimited", "explode": false, "schema": {"type": "array", "items": {"type": "string"}}},
          {"name": "pipes", "in": "query", "style": "pipeDelimited", "explode": false, "schema": {"type": "array", "items": {"type": "string"}}},
          {"name": "filter", "in": "query", "style": "deepObject", "explode": true, "schema": {"type": "object"}},
          {"name": "point", "in": "query", "schema": {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}}},
          {"name": "redirect", "in": "query", "allowReserved": true, "schema": {"type": "string"}},
          {"name": "q", "in": "query", "schema": {"type": "string"}},
          {"name": "X-Trace", "in": "header", "schema": {"type": "array", "items": {"type": "string"}}},
          {"name": "session", "in": "cookie", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
          {"name": "flag", "in": "query", "schema": {"type": "boolean"}}
        ],
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/search/{where}": {
      "get": {
        "operationId": "searchByContent",
        "parameters": [
          {"name": "where", "in": "path", "required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"region": {"type": "string"}}}}}},
          {"name": "filter", "in": "query", "required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"type": "string", "enum": ["open", "closed"]}, "ids": {"type": "array", "items": {"type": "integer"}}}}}}},
          {"name": "note", "in": "query", "content": {"text/plain": {"schema": {"type": "string"}}}},
          {"name": "X-Context", "in": "header", "content": {"application/json": {"schema": {"type": "object"}}}}
        ],
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/orgs/{org}/repos": {
      "get": {
        "operationId": "reposListForOrg",
        "parameters": [
          {"name": "org", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "type", "in": "query", "schema": {"type": "string", "enum": ["all", "public", "private"]}},
          {"name": "per_page", "in": "query", "schema": {"type": "integer"}},
          {"name": "page", "in": "query", "schema": {"type": "integer"}}
        ],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array"}}}}}
      }
    },
    "/customers": {
      "post": {
        "operationId": "PostCustomers",
        "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {
          "schema": {"type": "object", "required": ["email"], "properties": {
            "email": {"type": "string"},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            "expand": {"type": "array", "items": {"type": "string"}},
            "items": {"type": "array", "items": {"type": "object", "properties": {"price": {"type": "string"}, "quantity": {"type": "integer"}}}}
          }},
          "encoding": {"expand": {"style": "deepObject", "explode": true}, "metadata": {"style": "deepObject", "explode": true}}
        }}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}
      },
      "get": {
        "operationId": "GetCustomers",
        "parameters": [
          {"name": "starting_after", "in": "query", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "schema": {"type": "integer"}},
          {"name": "expand", "in": "query", "style": "deepObject", "explode": true, "schema": {"type": "array", "items": {"type": "string"}}}
        ],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}
      }
    },
    "/uploads": {
      "post": {
        "operationId": "upload",
        "requestBody": {"required": true, "content": {"multipart/form-data": {
          "schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "note": {"type": "string"},
            "meta": {"type": "object"}
          }}
        }}},
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/blobs/{name}": {
      "put": {
        "operationId": "putBlob",
        "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
        "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {"200": {"description": "ok", "content": {"application/octet-stream": {}}}}
      }
    },
    "/notes": {
      "post": {
        "operationId": "postNote",
        "requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}},
        "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}}
      }
    },
    "/vnd": {
      "post": {
        "operationId": "postVnd",
        "requestBody": {"content": {"application/vnd.api+json": {"schema": {"type": "object"}}}},
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/zones": {
      "get": {
        "operationId": "listZones",
        "parameters": [{"name": "page", "in": "query", "schema": {"type": "number"}}, {"name": "per_page", "in": "query", "schema": {"type": "number"}}],
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/pods": {
      "get": {
        "operationId": "listPods",
        "parameters": [{"name": "continue", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/files": {
      "get": {
        "operationId": "listFiles",
        "parameters": [{"name": "after", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok"}}
      }
    },
    "/issues": {
      "get": {
        "operationId": "listIssues",
        "parameters": [{"name": "per_page", "in": "query", "schema": {"type": "integer"}}, {"name": "page", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok"}}
      }
    }
  }
}"##;
