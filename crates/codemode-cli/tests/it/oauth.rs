//! `serve` with an `[oauth]` section: refused loudly at start when it cannot work (stdio, a static
//! token beside it, `alg: none`), and over HTTP the binary serves the RFC 9728 document and
//! answers `/mcp` without a token with the 401 challenge that points at it.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::cli::{Running, WAIT, assert_refused, lines_of, spec, wait_for_line};

fn config(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("codemode.toml");
    std::fs::write(&path, text).expect("write the config");
    path.to_str().expect("utf-8").to_string()
}

fn serve(args: &[&str]) -> std::process::Output {
    crate::cli::codemode(args)
}

const OAUTH: &str = r#"
[oauth]
issuer = "https://id.example.com/realms/team"
resource = "http://127.0.0.1:PORT/mcp"
required_scopes = ["mcp"]
jwks_url = "https://id.example.com/realms/team/protocol/openid-connect/certs"
"#;

#[test]
fn oauth_that_cannot_work_stops_the_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let petstore = spec("petstore-swagger2.json");
    let oauth = OAUTH.replace("PORT", "8080");
    let file = config(dir.path(), &oauth);
    let out = serve(&["serve", "--spec", &petstore, "--config", &file]);
    assert_refused(
        &out,
        "[oauth] protects the HTTP endpoint, and this server would use stdio: serve HTTP with --http HOST:PORT",
    );

    let file = config(
        dir.path(),
        &format!("{oauth}algorithms = [\"RS256\", \"none\"]\n"),
    );
    let out = serve(&[
        "serve",
        "--spec",
        &petstore,
        "--config",
        &file,
        "--http",
        "127.0.0.1:0",
    ]);
    assert_refused(&out, "config: invalid [oauth] section");
    assert_refused(
        &out,
        "algorithm \"none\" is never accepted: it accepts unsigned tokens",
    );

    let file = config(
        dir.path(),
        &format!("[server]\nauth_token_env = \"PATH\"\n{oauth}"),
    );
    let out = serve(&[
        "serve",
        "--spec",
        &petstore,
        "--config",
        &file,
        "--http",
        "127.0.0.1:0",
    ]);
    assert_refused(&out, "and [oauth]; choose one");

    let file = config(dir.path(), &oauth.replace("resource = ", "resourse = "));
    let out = serve(&[
        "serve",
        "--spec",
        &petstore,
        "--config",
        &file,
        "--http",
        "127.0.0.1:0",
    ]);
    assert_refused(&out, "unknown field `resourse`");
}

/// One HTTP/1.1 exchange on a fresh connection; the whole answer as text.
fn exchange(addr: &str, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("the server listens");
    stream.set_read_timeout(Some(WAIT)).expect("a timeout");
    stream.write_all(request.as_bytes()).expect("sent");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).expect("an answer within the timeout");
    answer
}

#[test]
fn over_http_the_binary_serves_the_metadata_and_the_challenge() {
    // The resource URL must be written before the start, so the port is picked first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = config(dir.path(), &OAUTH.replace("PORT", &port.to_string()));
    let petstore = spec("petstore-swagger2.json");
    let addr = format!("127.0.0.1:{port}");
    let mut server = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args([
                "serve", "--spec", &petstore, "--config", &file, "--http", &addr,
            ])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let lines = lines_of(server.child().stderr.take().expect("stderr"));
    wait_for_line(&lines, "streamable HTTP on http://", "serve to listen");

    let answer = exchange(
        &addr,
        "GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nhost: anything\r\nconnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    let document: serde_json::Value = serde_json::from_str(body).expect("JSON");
    assert_eq!(
        document,
        serde_json::json!({
            "resource": format!("http://127.0.0.1:{port}/mcp"),
            "authorization_servers": ["https://id.example.com/realms/team"],
            "scopes_supported": ["mcp"],
            "bearer_methods_supported": ["header"],
        })
    );

    let call = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let answer = exchange(
        &addr,
        &format!(
            "POST /mcp HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{call}",
            call.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let expected = format!(
        "www-authenticate: Bearer scope=\"mcp\", resource_metadata=\"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp\""
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains(&expected.to_ascii_lowercase()),
        "{answer}"
    );
    // The refusal is logged with its reason.
    wait_for_line(&lines, "no bearer token", "the refusal's log line");
}
