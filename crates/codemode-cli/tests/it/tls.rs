//! HTTPS end to end: `codemode run` fetches its spec from, and sends its API call to, a TLS
//! server started in the test (rustls with the ring provider, a self-signed certificate made
//! here), trusted through `SSL_CERT_FILE` as an operator trusts a private CA. The binary has no
//! aws-lc-rs: this is what shows that the ring provider it installs works for both of its HTTP
//! clients (the spec fetcher and the upstream transport), and that an untrusted certificate is
//! still refused.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use codemode_test_support::output_within;

/// How long the binary may run, and the server may wait for connections or bytes.
const LIMIT: Duration = Duration::from_secs(120);

/// A TLS server on 127.0.0.1 that answers `GET /spec.json` (a one-operation spec whose server
/// is this one) and `GET /v1/pets`. It stops accepting when dropped, or after [`LIMIT`].
struct TlsServer {
    url: String,
    cert_pem: String,
    stop: Arc<AtomicBool>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn start_tls_server() -> TlsServer {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("a self-signed certificate for 127.0.0.1");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports TLS 1.2 and 1.3")
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .expect("the key belongs to the certificate");
    let config = Arc::new(config);

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (base, stopped) = (url.clone(), stop.clone());
    std::thread::spawn(move || {
        let deadline = Instant::now() + LIMIT;
        while !stopped.load(Ordering::Relaxed) && Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => {
                    let (config, base) = (config.clone(), base.clone());
                    std::thread::spawn(move || answer(config, stream, &base));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    TlsServer {
        url,
        cert_pem: certified.cert.pem(),
        stop,
    }
}

/// One request on one connection (the answer says `connection: close`). A client that gives up
/// in the handshake (it does not trust the certificate) ends it with an error: nothing to do.
fn answer(config: Arc<rustls::ServerConfig>, stream: TcpStream, base: &str) {
    if stream.set_nonblocking(false).is_err() || stream.set_read_timeout(Some(LIMIT)).is_err() {
        return;
    }
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut request_line = String::new();
    {
        let mut reader = BufReader::new(&mut tls);
        if reader.read_line(&mut request_line).is_err() {
            return;
        }
        let mut header = String::new();
        while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
            header.clear();
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = match path {
        "/spec.json" => ("200 OK", spec(base)),
        "/v1/pets" => ("200 OK", r#"[{"name":"Rex"},{"name":"Ada"}]"#.to_string()),
        _ => ("404 Not Found", "{}".to_string()),
    };
    let _ = write!(
        tls,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

fn spec(base: &str) -> String {
    serde_json::json!({
        "openapi": "3.0.3",
        "info": { "title": "pets over TLS", "version": "1" },
        "servers": [{ "url": format!("{base}/v1") }],
        "paths": { "/pets": { "get": {
            "operationId": "listPets",
            "responses": { "200": {
                "description": "the pets",
                "content": { "application/json": { "schema": {
                    "type": "array",
                    "items": { "type": "object", "properties": { "name": { "type": "string" } } }
                } } }
            } }
        } } }
    })
    .to_string()
}

/// `codemode run --spec URL -` with `program` on stdin, trusting only `ca` (a PEM file) when
/// given, and only the system's roots when not.
fn run_over_tls(spec_url: &str, program: &str, ca: Option<&std::path::Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_codemode"));
    command
        .args(["run", "--spec", spec_url, "-"])
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(ca) = ca {
        command.env("SSL_CERT_FILE", ca);
    }
    output_within(&mut command, Some(program.as_bytes()), LIMIT)
}

#[test]
fn spec_fetch_and_api_calls_work_over_https_and_refuse_an_untrusted_certificate() {
    let server = start_tls_server();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &server.cert_pem).unwrap();
    let spec_url = format!("{}/spec.json", server.url);
    let program = "return (await api.listPets()).map(p => p.name);";

    let out = run_over_tls(&spec_url, program, Some(&ca));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"["Rex","Ada"]"#
    );
    assert!(stderr.contains("call: GET /pets → 200"), "{stderr}");

    // The same server, its certificate not trusted: the spec fetch fails in the handshake.
    let out = run_over_tls(&spec_url, program, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("certificate") && stderr.contains("UnknownIssuer"),
        "the refusal names the certificate: {stderr}"
    );
}
