//! Several APIs behind one `codemode` (issue 16), through the binary: `--api NAME=SPEC`,
//! `[apis.NAME]` tables with their own credentials, `search --json` with `"api"`, and the
//! mistakes a config file can make, each refused at start with the API's name.

use std::sync::{Arc, Mutex};

use codemode_test_support::{LoopbackServer, http_response};
use serde_json::Value;

use crate::cli::{assert_refused, codemode, codemode_with_stdin, spec, stderr, stdout};

pub(crate) const NOTES: &str = r#"
openapi: 3.0.3
info: {title: Notes, version: "1"}
paths:
  /notes:
    get:
      operationId: listNotes
      responses: {"200": {description: ok, content: {application/json: {schema: {type: array, items: {type: object}}}}}}
"#;

const ALERTS: &str = r#"
openapi: 3.0.3
info: {title: Alerts, version: "1"}
paths:
  /alerts:
    get:
      operationId: listAlerts
      responses: {"200": {description: ok, content: {application/json: {schema: {type: array, items: {type: object}}}}}}
"#;

/// An upstream that answers every GET with a one-item list and keeps the Authorization header
/// of each request it got.
fn upstream() -> (LoopbackServer, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = LoopbackServer::start_seeing_headers(move |_, path, headers| {
        let auth = headers
            .lines()
            .find_map(|line| {
                line.strip_prefix("authorization: ")
                    .or_else(|| line.strip_prefix("Authorization: "))
            })
            .unwrap_or("")
            .trim()
            .to_string();
        log.lock().unwrap().push(format!("{path} {auth}"));
        http_response("200 OK", br#"[{"id": 1}]"#)
    });
    (server, seen)
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(files: &[(&str, &str)]) -> Files {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Files { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

#[test]
fn one_program_calls_two_apis_each_with_its_own_token_from_the_config() {
    let (notes, notes_seen) = upstream();
    let (alerts, alerts_seen) = upstream();
    let files = Files::new(&[("notes.yaml", NOTES), ("alerts.yaml", ALERTS)]);
    let config = format!(
        r#"
[limits]
timeout_ms = 20000

[apis.notes]
spec = "{notes_spec}"
base_url = "{notes_url}"
[apis.notes.auth]
bearer = "${{NOTES_TOKEN}}"

[apis.alerts]
spec = "{alerts_spec}"
base_url = "{alerts_url}"
max_calls = 5
[apis.alerts.auth]
bearer = "${{ALERTS_TOKEN}}"
"#,
        notes_spec = files.path("notes.yaml"),
        notes_url = notes.url(),
        alerts_spec = files.path("alerts.yaml"),
        alerts_url = alerts.url(),
    );
    std::fs::write(files.dir.path().join("codemode.toml"), config).unwrap();
    let out = codemode_with_stdin(
        &["run", "--config", &files.path("codemode.toml"), "-"],
        "const n = await api.notes.listNotes(); const a = await api.alerts.listAlerts(); return n.length + a.length;",
        &[
            ("NOTES_TOKEN", "canary-notes-51fd"),
            ("ALERTS_TOKEN", "canary-alerts-9c2e"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "2");
    assert_eq!(
        notes_seen.lock().unwrap().clone(),
        ["/notes Bearer canary-notes-51fd"]
    );
    assert_eq!(
        alerts_seen.lock().unwrap().clone(),
        ["/alerts Bearer canary-alerts-9c2e"]
    );
    let printed = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!printed.contains("canary"), "{printed}");
    assert!(
        printed.contains("call: notes: GET /notes → 200"),
        "{printed}"
    );
    assert!(
        printed.contains("call: alerts: GET /alerts → 200"),
        "{printed}"
    );
}

#[test]
fn search_json_names_the_api_of_every_result() {
    let out = codemode(&[
        "search",
        "--api",
        &format!("github={}", spec("github-api.github.com.json.gz")),
        "--api",
        &format!("stripe={}", spec("stripe-spec3.yaml")),
        "--json",
        "refund a charge",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let value: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    let results = value["results"].as_array().expect("results");
    assert_eq!(results[0]["api"], "stripe", "{value}");
    assert!(results.iter().all(|r| r["api"].is_string()), "{value}");
    assert!(
        value["declared"].as_array().expect("declared")[0]["api"].is_string(),
        "{value}"
    );
    // One API as before: no "api" anywhere.
    let single = codemode(&[
        "search",
        "--spec",
        &spec("stripe-spec3.yaml"),
        "--json",
        "refund a charge",
    ]);
    let value: Value = serde_json::from_str(&stdout(&single)).expect("one JSON object");
    assert!(value["results"][0].get("api").is_none(), "{value}");
}

#[test]
fn config_mistakes_are_refused_with_the_api_named() {
    let files = Files::new(&[("notes.yaml", NOTES), ("broken.yaml", "openapi: [")]);
    let notes = files.path("notes.yaml");
    let cases: Vec<(String, &str)> = vec![
        (
            format!("[apis.my-notes]\nspec = \"{notes}\""),
            "[apis.my-notes]: an API name is a JavaScript identifier",
        ),
        (
            format!("[apis.then]\nspec = \"{notes}\""),
            "\"then\" is a reserved word",
        ),
        (
            "[apis.notes]\nbase_url = \"http://127.0.0.1:9\"".to_string(),
            "[apis.notes] has no spec",
        ),
        (
            format!("read_only = true\n[apis.notes]\nspec = \"{notes}\""),
            "read_only belongs in each API's table",
        ),
        (
            format!(
                "[apis.notes]\nspec = \"{notes}\"\nbase_url = \"http://127.0.0.1:9\"\n[[apis.notes.deny]]\noperation = \"listNote\""
            ),
            "invalid policy in [apis.notes]",
        ),
        (
            format!(
                "[apis.notes]\nspec = \"{notes}\"\nbase_url = \"http://127.0.0.1:9\"\n[apis.broken]\nspec = \"{}\"",
                files.path("broken.yaml")
            ),
            "API \"broken\": cannot load its spec",
        ),
        (
            format!("[apis.notes]\nspec = \"{notes}\"\nbase_url = \"/relative\""),
            "API \"notes\": \"/relative\" cannot be the base URL",
        ),
        (
            format!(
                "[apis.notes]\nspec = \"{notes}\"\nbase_url = \"http://127.0.0.1:9\"\nmax_call = 5"
            ),
            "unknown field `max_call`",
        ),
    ];
    for (config, expected) in cases {
        std::fs::write(files.dir.path().join("codemode.toml"), &config).unwrap();
        let out = codemode_with_stdin(
            &["run", "--config", &files.path("codemode.toml"), "-"],
            "return 1",
            &[],
        );
        assert_refused(&out, expected);
    }
    // Flags: a bad name, a name twice, credentials that would not say which API they are for.
    let flag = |name: &str| format!("{name}={notes}");
    for (args, expected) in [
        (
            vec!["--api".to_string(), flag("bad name")],
            "JavaScript identifier",
        ),
        (
            vec!["--api".into(), flag("a"), "--api".into(), flag("a")],
            "--api a is given twice",
        ),
        (
            vec!["--api".into(), flag("a"), "--bearer-env".into(), "X".into()],
            "credentials are set per API",
        ),
        (
            vec!["--api".into(), flag("a"), "--spec".into(), notes.clone()],
            "--spec and --api cannot go together",
        ),
    ] {
        let mut all = vec!["run".to_string()];
        all.extend(args);
        all.push("-".into());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        assert_refused(&codemode_with_stdin(&all, "return 1", &[]), expected);
    }
}

#[test]
fn an_optional_api_that_fails_to_load_is_left_out_with_a_warning() {
    let files = Files::new(&[("notes.yaml", NOTES), ("broken.yaml", "openapi: [")]);
    let config = format!(
        "[apis.notes]\nspec = \"{}\"\nbase_url = \"http://127.0.0.1:9\"\n[apis.broken]\nspec = \"{}\"\noptional = true\n",
        files.path("notes.yaml"),
        files.path("broken.yaml")
    );
    std::fs::write(files.dir.path().join("codemode.toml"), config).unwrap();
    let out = codemode(&[
        "search",
        "--config",
        &files.path("codemode.toml"),
        "--json",
        "list notes",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: API \"broken\" is left out (optional)"),
        "{}",
        stderr(&out)
    );
    let value: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(value["results"][0]["name"], "listNotes", "{value}");
}

#[test]
fn two_apis_with_one_base_url_and_different_credentials_start_with_a_warning() {
    let files = Files::new(&[("notes.yaml", NOTES), ("alerts.yaml", ALERTS)]);
    let config = format!(
        "[apis.notes]\nspec = \"{}\"\nbase_url = \"http://127.0.0.1:9\"\n[apis.notes.auth]\nbearer = \"canary-one-4d1\"\n\
         [apis.alerts]\nspec = \"{}\"\nbase_url = \"http://127.0.0.1:9/\"\n[apis.alerts.auth]\nbearer = \"canary-two-8e0\"\n",
        files.path("notes.yaml"),
        files.path("alerts.yaml")
    );
    std::fs::write(files.dir.path().join("codemode.toml"), config).unwrap();
    let out = codemode_with_stdin(
        &["run", "--config", &files.path("codemode.toml"), "-"],
        "return 1",
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("APIs \"notes\" and \"alerts\" share the base URL http://127.0.0.1:9 with different credentials"),
        "{err}"
    );
    assert!(!err.contains("canary"), "{err}");
}
