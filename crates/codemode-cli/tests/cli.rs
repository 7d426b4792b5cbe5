//! The `codemode` binary's public interface: subcommands, flags, JSON outputs and exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn codemode(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn codemode_with_stdin(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn spec(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/specs")
        .join(name)
        .display()
        .to_string()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn inspect_json_summary() {
    let out = codemode(&["inspect", &spec("petstore3-openapi.yaml"), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["title"], "Swagger Petstore - OpenAPI 3.0");
    assert_eq!(v["openapi"], "3.0.4");
    assert_eq!(v["operations"], 19);
    assert_eq!(v["paths"], 13);
    assert_eq!(v["schemas"], 6);
    assert_eq!(v["servers"][0], "https://petstore3.swagger.io/api/v3");
    assert_eq!(
        v["security_schemes"],
        serde_json::json!(["petstore_auth", "api_key"])
    );
    assert!(v["load_ms"].is_number());
    assert!(v["warnings"].is_array());
}

#[test]
fn inspect_operations_one_json_object_per_line() {
    let out = codemode(&[
        "inspect",
        &spec("petstore-swagger2.json"),
        "--operations",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["name"], "listPets");
    assert_eq!(lines[0]["operationId"], "listPets");
    assert_eq!(lines[0]["method"], "GET");
    assert_eq!(lines[0]["path"], "/pets");
    assert!(lines[0]["tags"].is_array());
    let text = codemode(&["inspect", &spec("petstore-swagger2.json"), "--operations"]);
    assert_eq!(stdout(&text).lines().count(), 3);
}

#[test]
fn bad_spec_exits_2_with_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\"openapi\": \"3.0.0\", \"paths\": {").unwrap();
    let out = codemode(&["inspect", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.contains("broken.json:1:"),
        "{err}"
    );
    let out = codemode(&["inspect", "/nonexistent/spec.yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn types_for_one_operation_and_all() {
    let out = codemode(&[
        "types",
        &spec("petstore3-openapi.yaml"),
        "--op",
        "getPetById",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("getPetById(args: { petId: number })"),
        "{}",
        stdout(&out)
    );
    let out = codemode(&["types", &spec("petstore3-openapi.yaml"), "--all"]);
    assert!(stdout(&out).contains("interface Api"));
    let out = codemode(&["types", &spec("petstore3-openapi.yaml"), "--op", "noSuchOp"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no operation \"noSuchOp\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn search_text_json_and_batch() {
    let petstore = spec("petstore3-openapi.yaml");
    let out = codemode(&["search", "--spec", &petstore, "delete a pet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("DELETE /pet/{petId} → api.deletePet"),
        "{}",
        stdout(&out)
    );
    let out = codemode(&[
        "search",
        "--spec",
        &petstore,
        "--json",
        "--limit",
        "3",
        "delete a pet",
    ]);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["query"], "delete a pet");
    assert_eq!(v["results"][0]["name"], "deletePet");
    assert_eq!(v["results"][0]["method"], "DELETE");
    assert_eq!(v["results"][0]["path"], "/pet/{petId}");
    assert!(v["results"][0]["score"].is_number());
    assert!(v["results"].as_array().unwrap().len() <= 3);
    let out = codemode_with_stdin(
        &["search", "--spec", &petstore, "--batch"],
        "find pets by status\n\nplace an order\n",
        &[],
    );
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["query"], "place an order");
}

/// A tiny upstream for `run`: answers GET /pets with a fixed list and checks the bearer token.
fn start_upstream() -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        use std::io::{BufRead, BufReader};
        if let Ok((stream, _)) = listener.accept() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut authorized = false;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                authorized |= line
                    .to_ascii_lowercase()
                    .starts_with("authorization: bearer cli-secret");
                line.clear();
            }
            let body = if authorized {
                r#"[{"id":1,"name":"Rex"},{"id":2,"name":"Tom"}]"#
            } else {
                r#"{"error":"no"}"#
            };
            let status = if authorized {
                "200 OK"
            } else {
                "401 Unauthorized"
            };
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (format!("http://{addr}"), handle)
}

#[test]
fn run_prints_the_result_and_exits_by_outcome() {
    let (base, server) = start_upstream();
    let program = "const pets = await api.listPets(); console.log(pets.length); return pets.map(p => p.name);";
    let out = codemode_with_stdin(
        &[
            "run",
            "--spec",
            &spec("petstore-swagger2.json"),
            "--base-url",
            &base,
            "--bearer-env",
            "CODEMODE_CLI_TEST_TOKEN",
            "-",
        ],
        program,
        &[("CODEMODE_CLI_TEST_TOKEN", "cli-secret")],
    );
    server.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), r#"["Rex","Tom"]"#);
    let err = stderr(&out);
    assert!(err.contains("[log] 2"), "{err}");
    assert!(err.contains("GET /pets"), "{err}");
    assert!(!err.contains("cli-secret") && !stdout(&out).contains("cli-secret"));

    let out = codemode_with_stdin(
        &[
            "run",
            "--spec",
            &spec("petstore-swagger2.json"),
            "--base-url",
            "http://127.0.0.1:9",
            "-",
        ],
        "throw new Error('boom')",
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("boom"), "{}", stderr(&out));
}

#[test]
fn help_names_every_subcommand() {
    let out = codemode(&["--help"]);
    let help = stdout(&out);
    for sub in ["serve", "demo", "search", "run", "types", "inspect"] {
        assert!(help.contains(sub), "--help mentions {sub}:\n{help}");
    }
}
