//! Specs and `$ref`s over http: served by a tiny HTTP/1.1 server on 127.0.0.1:0 inside the test.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;

use codemode_spec::{LoadOptions, load};

/// Serves `files` (path → body) until the test process ends; returns the base URL.
fn serve(files: Vec<(&'static str, String)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let response = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_string(),
            };
            let mut stream = reader.into_inner();
            let _ = stream.write_all(response.as_bytes());
        }
    });
    base
}

const ROOT: &str = "openapi: 3.0.0\ninfo: {title: remote, version: '1'}\npaths:\n  /pets:\n    get:\n      operationId: listPets\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: 'models.yaml#/Pet'}\n";
const MODELS: &str = "Pet: {type: object, properties: {name: {type: string}}}\n";

fn allow_remote() -> LoadOptions {
    LoadOptions {
        allow_remote_refs: true,
        ..LoadOptions::default()
    }
}

#[test]
fn spec_from_url_with_relative_refs_when_allowed() {
    let base = serve(vec![
        ("/api/root.yaml", ROOT.into()),
        ("/api/models.yaml", MODELS.into()),
    ]);
    let url = format!("{base}/api/root.yaml");
    let spec = load(&url, &allow_remote()).unwrap().spec;
    assert_eq!(spec.operations[0].name, "listPets");
    assert_eq!(
        spec.schemas
            .get("Pet")
            .map(|s| s["properties"]["name"]["type"].clone()),
        Some(serde_json::json!("string"))
    );

    let refused = load(&url, &LoadOptions::default())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        refused.map(|m| m.replace(&base, "<base>")),
        Some("<base>/api/root.yaml#/paths/~1pets/get/responses/200/content/application~1json/schema: $ref \"models.yaml#/Pet\": refused: a spec loaded from a URL may only use relative references with --allow-remote-refs".to_string())
    );
}

#[test]
fn remote_ref_from_a_file_spec_when_allowed() {
    let base = serve(vec![("/models.yaml", MODELS.into())]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.yaml");
    std::fs::write(
        &path,
        ROOT.replace("models.yaml", &format!("{base}/models.yaml")),
    )
    .unwrap();
    let spec = load(&path.to_string_lossy(), &allow_remote()).unwrap().spec;
    assert!(spec.schemas.contains_key("Pet"));
}

#[test]
fn missing_and_oversized_urls_are_errors() {
    let big = format!("openapi: 3.0.0\nx: '{}'\n", "a".repeat(4096));
    let base = serve(vec![("/big.yaml", big)]);
    let missing = load(&format!("{base}/absent.yaml"), &LoadOptions::default())
        .err()
        .map(|e| e.to_string().replace(&base, "<base>"));
    assert_eq!(
        missing.as_deref(),
        Some("cannot read <base>/absent.yaml: fetch failed: HTTP 404 Not Found")
    );
    let small = LoadOptions {
        max_bytes: 1024,
        ..LoadOptions::default()
    };
    let oversized = load(&format!("{base}/big.yaml"), &small)
        .err()
        .map(|e| e.to_string().replace(&base, "<base>"));
    assert_eq!(
        oversized.as_deref(),
        Some("<base>/big.yaml is larger than the limit of 1024 bytes")
    );
}
