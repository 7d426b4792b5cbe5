//! `[auth.from_request]` through the binary: a server whose users each bring their own upstream
//! credential in a header of each MCP request, driven by the official Python MCP SDK over
//! streamable HTTP; and the config mistakes that would make such a server unsafe or useless,
//! each refused at start.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use codemode_test_support::{LoopbackServer, http_response, output_within};
use serde_json::Value;

use crate::cli::{Running, WAIT, assert_refused, codemode_with_stdin, lines_of, wait_for_line};
use crate::several_apis::NOTES;

/// A directory with the spec and `config`, in which `SPEC` stands for the spec's path.
fn config_dir(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("notes.yaml");
    std::fs::write(&spec, NOTES).unwrap();
    let config = config.replace("SPEC", &spec.display().to_string());
    std::fs::write(dir.path().join("codemode.toml"), config).unwrap();
    dir
}

fn config_path(dir: &tempfile::TempDir) -> String {
    dir.path().join("codemode.toml").display().to_string()
}

#[test]
fn unsafe_or_useless_hosting_configs_are_refused_at_start() {
    let base = "spec = \"SPEC\"\nbase_url = \"http://127.0.0.1:9\"\n";
    for (auth, expected) in [
        (
            "[auth.from_request]\nheader = \"Authorization\"",
            "its own credentials or connection), so it is never passed on",
        ),
        (
            "[auth]\nbearer = \"static-token\"\n[auth.from_request]\nheader = \"X-Upstream-Authorization\"",
            "a bearer, basic or OAuth2 credential is configured too; keep one",
        ),
        ("[auth.from_request]\nrequired = false", "maps no header"),
        (
            "[auth]\nbearer = \"static-token\"\n[auth.from_request]\nheaders = { Authorization = \"X-Mine\" }",
            "sends \"X-Mine\" as Authorization, which a configured credential (or `header`) sets too",
        ),
        (
            "[auth.from_request]\nheader = \"X-Upstream-Authorization\"\nheadrs = {}",
            "unknown field `headrs`",
        ),
    ] {
        let dir = config_dir(&format!("{base}{auth}"));
        let out = codemode_with_stdin(
            &["run", "--config", &config_path(&dir), "-"],
            "return 1",
            &[],
        );
        assert_refused(&out, expected);
    }
    // Two APIs reading one header would send each user's token for one to the other too.
    let dir = config_dir(
        "[apis.a]\nspec = \"SPEC\"\nbase_url = \"http://127.0.0.1:9/a\"\n\
         [apis.a.auth.from_request]\nheader = \"X-Token\"\n\
         [apis.b]\nspec = \"SPEC\"\nbase_url = \"http://127.0.0.1:9/b\"\n\
         [apis.b.auth.from_request]\nheader = \"x-token\"\n",
    );
    let out = codemode_with_stdin(
        &["run", "--config", &config_path(&dir), "-"],
        "return 1",
        &[],
    );
    assert_refused(
        &out,
        "APIs \"a\" and \"b\" both take credentials from the request header \"x-token\"",
    );
    // Over stdio there are no request headers: every call would fail, so it does not start.
    let dir = config_dir(&format!(
        "{base}[auth.from_request]\nheader = \"X-Upstream-Authorization\""
    ));
    let out = serve_once(&dir, &[]);
    assert_refused(&out, "stdio has no request headers: serve over --http");
    // Scope rules with nobody's scopes checked would let every caller write.
    let dir = config_dir(&format!("{base}write_scope = \"write\""));
    let out = serve_once(&dir, &["--http", "127.0.0.1:0"]);
    assert_refused(&out, "write_scope = \"write\" needs [oauth]");
}

/// `codemode serve --config` in `dir` with `args`, expected to stop at start: its output.
fn serve_once(dir: &tempfile::TempDir, args: &[&str]) -> std::process::Output {
    output_within(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--config", &config_path(dir)])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        None,
        WAIT,
    )
}

/// An upstream that answers every GET with a one-item list echoing the `Authorization` it got,
/// and keeps `"<path> <authorization>"` of each request.
fn echoing_upstream() -> (LoopbackServer, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let upstream = LoopbackServer::start_seeing_headers(move |_, path, headers| {
        let auth = headers
            .lines()
            .find_map(|l| l.strip_prefix("authorization: "))
            .unwrap_or("")
            .trim()
            .to_string();
        log.lock().unwrap().push(format!("{path} {auth}"));
        // An echo of the credential, which the program must only ever see redacted.
        http_response(
            "200 OK",
            format!(r#"[{{"id": 1, "seen": "{auth}"}}]"#).as_bytes(),
        )
    });
    (upstream, seen)
}

/// `codemode serve --http` on `config`, and its `/mcp` URL once it listens.
fn serve_http(config: &str, env: &[(&str, &str)]) -> (Running, String, tempfile::TempDir) {
    let dir = config_dir(config);
    let mut server = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args([
                "serve",
                "--config",
                &config_path(&dir),
                "--http",
                "127.0.0.1:0",
            ])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let stderr = lines_of(server.child().stderr.take().unwrap());
    let started = wait_for_line(&stderr, "streamable HTTP on ", "the server to start");
    let url = started
        .rsplit("streamable HTTP on ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    (server, url, dir)
}

/// Runs `code` through `url` with the official Python SDK (2.x), sending `headers`; its report.
fn python_execute(url: &str, headers: Value, code: &str) -> Value {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = output_within(
        Command::new(format!("{root}/.venv-mcp2/bin/python"))
            .arg(format!("{root}/tests/clients/py_execute.py"))
            .args([url, headers.to_string().as_str(), code])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        None,
        WAIT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("one JSON line")
}

/// With several APIs each maps its own header, or keeps its configured credential.
#[test]
fn each_api_takes_its_own_header_or_keeps_its_configured_credential() {
    let (upstream, seen) = echoing_upstream();
    let url = upstream.url();
    let config = format!(
        "[apis.notes]\nspec = \"SPEC\"\nbase_url = \"{url}/a\"\n\
         [apis.notes.auth.from_request]\nheader = \"X-Notes-Authorization\"\n\
         [apis.shared]\nspec = \"SPEC\"\nbase_url = \"{url}/b\"\n\
         [apis.shared.auth]\nbearer = \"shared-static-token\"\n"
    );
    let (server, mcp, _dir) = serve_http(&config, &[]);
    let report = python_execute(
        &mcp,
        serde_json::json!({ "X-Notes-Authorization": "Bearer notes-user-token" }),
        "return [await api.notes.listNotes(), await api.shared.listNotes()]",
    );
    assert_eq!(report["isError"], false, "{report}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            "/a/notes Bearer notes-user-token".to_string(),
            "/b/notes Bearer shared-static-token".to_string(),
        ]
    );
    drop(server);
}

/// The Python SDK sends the endpoint's token and the user's own upstream credential; the
/// upstream gets the user's, never the endpoint's, and the program's answer holds neither.
#[test]
fn a_python_sdk_client_brings_its_own_upstream_credential() {
    const ENDPOINT_TOKEN: &str = "endpoint-token-a41f";
    const USER_CREDENTIAL: &str = "token user-credential-93bd";
    let (upstream, seen) = echoing_upstream();
    let config = format!(
        "spec = \"SPEC\"\nbase_url = \"{}\"\n[server]\nauth_token_env = \"HOSTED_MCP_TOKEN\"\n\
         [auth.from_request]\nheader = \"X-Upstream-Authorization\"",
        upstream.url()
    );
    let (server, url, _dir) = serve_http(&config, &[("HOSTED_MCP_TOKEN", ENDPOINT_TOKEN)]);
    let report = python_execute(
        &url,
        serde_json::json!({
            "Authorization": format!("Bearer {ENDPOINT_TOKEN}"),
            "X-Upstream-Authorization": USER_CREDENTIAL,
        }),
        "return await api.listNotes()",
    );
    assert_eq!(report["isError"], false, "{report}");
    let text = report["text"].to_string();
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.contains("user-credential-93bd"), "{text}");
    assert!(!text.contains(ENDPOINT_TOKEN), "{text}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![format!("/notes {USER_CREDENTIAL}")],
        "the upstream got the user's credential, once"
    );
    drop(server);
}

/// `api_key_header`: the value of a request header goes where the spec's apiKey scheme says
/// (here a header of its own name), and nowhere else.
#[test]
fn a_forwarded_api_key_goes_where_the_spec_says() {
    const KEYED: &str = r#"
openapi: 3.0.3
info: {title: Keyed, version: "1"}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
security: [{key: []}]
paths:
  /notes:
    get:
      operationId: listNotes
      responses: {"200": {description: ok, content: {application/json: {schema: {type: array, items: {type: object}}}}}}
"#;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let upstream = LoopbackServer::start_seeing_headers(move |_, path, headers| {
        let key = headers
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("x-api-key")
                    .then(|| value.trim().to_string())
            })
            .unwrap_or_default();
        log.lock().unwrap().push(format!("{path} {}", key.trim()));
        http_response("200 OK", b"[]")
    });
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("keyed.yaml");
    std::fs::write(&spec, KEYED).unwrap();
    let config = format!(
        "spec = \"{}\"\nbase_url = \"{}\"\n[auth.from_request]\napi_key_header = \"X-Upstream-Api-Key\"",
        spec.display(),
        upstream.url()
    );
    let (server, url, _dir) = serve_http(&config, &[]);
    let report = python_execute(
        &url,
        serde_json::json!({ "X-Upstream-Api-Key": "Key-Of-Ana-8d1E" }),
        "return await api.listNotes()",
    );
    assert_eq!(report["isError"], false, "{report}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["/notes Key-Of-Ana-8d1E".to_string()]
    );
    drop(server);
}
