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

/// The command was refused (exit code 2) with a message containing `expected`.
fn assert_refused(out: &Output, expected: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(stderr(out).contains(expected), "{}", stderr(out));
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
    assert_refused(&out, "no operation \"noSuchOp\"");
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
    // What the answer declares: here the best hit first.
    assert_eq!(v["declared"][0]["name"], "deletePet");
    let out = codemode(&[
        "search",
        "--spec",
        &petstore,
        "--json",
        "add a new pet to the store, then upload an image of it",
    ]);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let declared: Vec<&str> = v["declared"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    for step in ["addPet", "uploadFile"] {
        assert!(declared.contains(&step), "{step} not in {declared:?}");
    }
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
    assert!(err.contains("call: GET /pets → 200 ("), "{err}");
    assert!(err.contains(" ms, 2 items)"), "{err}");
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

/// Runs the binary with stdout a pipe whose reading end is already closed, as `| head -1` leaves
/// it once head has its line: every write to stdout fails with a broken pipe.
fn codemode_into_closed_pipe(args: &[&str], stdin: &str) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The program may end before it reads stdin; that is not what is tested here.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stderr_loses_the_log_lines_and_nothing_else() {
    let petstore = spec("petstore3-openapi.yaml");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_codemode"))
        .args([
            "run",
            "--spec",
            &petstore,
            "--base-url",
            "http://127.0.0.1:9",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(writer)
        .spawn()
        .unwrap();
    let code = "for (let i = 0; i < 100; i++) console.log('line', i); return 42";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(code.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).trim(), "42");
}

#[test]
fn a_closed_stdout_ends_every_printing_subcommand_quietly() {
    let petstore = spec("petstore3-openapi.yaml");
    let cases: [(&[&str], &str); 9] = [
        (&["types", &petstore, "--all"], ""),
        (&["types", &petstore, "--op", "getPetById"], ""),
        (&["search", "--spec", &petstore, "delete a pet"], ""),
        (
            &["search", "--spec", &petstore, "--json", "delete a pet"],
            "",
        ),
        (
            &["search", "--spec", &petstore, "--batch"],
            "find pets\nplace an order\n",
        ),
        (&["inspect", &petstore], ""),
        (&["inspect", &petstore, "--operations", "--json"], ""),
        (
            &[
                "run",
                "--spec",
                &petstore,
                "--base-url",
                "http://127.0.0.1:9",
                "-",
            ],
            "return [1, 2, 3]",
        ),
        (
            &[
                "run",
                "--spec",
                &petstore,
                "--base-url",
                "http://127.0.0.1:9",
                "-",
            ],
            "console.log('to stderr'); return 'x'.repeat(100000)",
        ),
    ];
    for (args, stdin) in cases {
        let out = codemode_into_closed_pipe(args, stdin);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe") && !err.contains("error"),
            "{args:?}: {err}"
        );
    }
}

/// Type-checks `files` together under `tsc --strict --noEmit`; returns tsc's diagnostics.
fn tsc_errors(files: &[&std::path::Path]) -> String {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin");
    let tsc = bin.join("tsc");
    assert!(
        tsc.exists(),
        "TypeScript is not installed at {}: run `npm ci` at the repository root",
        tsc.display()
    );
    // tsc is a node script: its node (installed beside it) goes first on PATH.
    let mut paths = vec![bin.clone()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let out = Command::new(&tsc)
        .env("PATH", std::env::join_paths(paths).unwrap())
        .args([
            "--strict", "--noEmit", "--target", "es2022", "--pretty", "false",
        ])
        .args(files)
        .output()
        .expect("tsc runs");
    if out.status.success() {
        String::new()
    } else {
        format!("{}{}", stdout(&out), stderr(&out))
    }
}

/// Agent code as a user would check it against the declarations `types` prints.
const AGENT_TS: &str = r#"
async function agent(): Promise<string> {
  const pet = await api.getPetById({ petId: 1 });
  const image: Binary = { contentType: "image/png", base64: "iVBORw0KGgo=" };
  const uploaded = await api.uploadFile({ petId: pet.id ?? 1, body: image });
  const raw = await api.getPetById({ petId: 2 }, { throwOnError: false });
  await sleep(10);
  console.log(raw.status, uploaded.message);
  try {
    await api.request({ method: "GET", path: "/store/inventory" });
  } catch (e) {
    if (e instanceof ApiError) return `${e.status}`;
  }
  return pet.name;
}
"#;

#[test]
fn types_prints_a_dts_that_type_checks_on_its_own() {
    let petstore = spec("petstore3-openapi.yaml");
    let dir = tempfile::tempdir().unwrap();
    let agent = dir.path().join("agent.ts");
    std::fs::write(&agent, AGENT_TS).unwrap();
    let selections: [&[&str]; 2] = [&["--all"], &["--op", "uploadFile", "--op", "getPetById"]];
    for selection in selections {
        let mut args = vec!["types", petstore.as_str()];
        args.extend_from_slice(selection);
        let out = codemode(&args);
        assert!(out.status.success(), "{selection:?}: {}", stderr(&out));
        let dts = stdout(&out);
        for global in [
            "declare const api",
            "interface Binary",
            "declare function sleep",
        ] {
            assert!(
                dts.contains(global),
                "{selection:?} declares {global}:\n{dts}"
            );
        }
        let declarations = dir.path().join("api.d.ts");
        std::fs::write(&declarations, &dts).unwrap();
        let alone = tsc_errors(&[&declarations]);
        assert!(alone.is_empty(), "{selection:?} alone:\n{alone}\n{dts}");
        let with_agent = tsc_errors(&[&declarations, &agent]);
        assert!(
            with_agent.is_empty(),
            "{selection:?} with agent code:\n{with_agent}"
        );
    }
}

#[test]
fn types_without_a_selection_asks_for_op_or_all() {
    let out = codemode(&["types", &spec("petstore3-openapi.yaml")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("--op") && err.contains("--all"), "{err}");
    let help = stdout(&codemode(&["types", "--help"]));
    assert!(
        help.contains("One of --op or --all is required") && help.contains("sandbox globals"),
        "{help}"
    );
}

/// An upstream for `run` that answers `GET /pets` after `delay`, on its own thread and runtime.
fn start_slow_upstream(delay: std::time::Duration) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = axum::Router::new().route(
                "/pets",
                axum::routing::get(move || async move {
                    tokio::time::sleep(delay).await;
                    axum::Json(serde_json::json!([{ "id": 1, "name": "Rex" }]))
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = axum::serve(listener, app).await;
        });
    });
    format!("http://{addr}")
}

#[test]
fn run_takes_the_spec_and_base_url_from_the_config_file() {
    let base = start_slow_upstream(std::time::Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cm.toml");
    std::fs::write(
        &config,
        format!(
            "spec = {:?}\nbase_url = {base:?}\n",
            spec("petstore-swagger2.json")
        ),
    )
    .unwrap();
    let out = codemode_with_stdin(
        &["run", "--config", config.to_str().unwrap(), "-"],
        "const pets = await api.listPets(); return pets[0].name;",
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), r#""Rex""#);
    // Without a spec anywhere, the error says where one may come from.
    std::fs::write(&config, format!("base_url = {base:?}\n")).unwrap();
    let out = codemode_with_stdin(
        &["run", "--config", config.to_str().unwrap(), "-"],
        "return 1",
        &[],
    );
    assert_refused(
        &out,
        "pass --spec FILE|URL (or `spec = …` in the config file)",
    );
}

#[test]
fn out_of_range_numbers_are_refused_naming_the_range() {
    let petstore = spec("petstore3-openapi.yaml");
    for limit in ["0", "21", "50"] {
        let out = codemode(&["search", "--spec", &petstore, "--limit", limit, "pets"]);
        assert_eq!(out.status.code(), Some(2), "--limit {limit}");
        assert!(stderr(&out).contains("1..=20"), "{}", stderr(&out));
    }
    let refused = [
        ("--timeout-ms", "0", "1..=3600000"),
        ("--memory-mb", "0", "1..=65536"),
        ("--memory-mb", "18446744073709551615", "1..=65536"),
        ("--max-calls", "0", "1..=100000"),
        ("--workers", "0", "1..=1024"),
    ];
    for (flag, value, range) in refused {
        let args = ["run", "--spec", &petstore, flag, value, "-"];
        let out = codemode_with_stdin(&args, "return 1", &[]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = stderr(&out);
        assert!(err.contains(flag) && err.contains(range), "{flag}: {err}");
    }
    let out = codemode(&["serve", "--spec", &petstore, "--output-tokens", "5"]);
    assert_refused(&out, "100..=1000000");
    // The same ranges hold in the config file.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cm.toml");
    let file_cases = [
        (
            "timeout_ms = 0",
            "limits.timeout_ms must be in 1..=3600000, got 0",
        ),
        ("workers = 0", "limits.workers must be in 1..=1024, got 0"),
        (
            "max_calls = 0",
            "limits.max_calls must be in 1..=100000, got 0",
        ),
        (
            "search_tokens = 1",
            "limits.search_tokens must be in 100..=1000000, got 1",
        ),
    ];
    for (line, message) in file_cases {
        std::fs::write(&config, format!("[limits]\n{line}\n")).unwrap();
        let args = [
            "run",
            "--spec",
            &petstore,
            "--config",
            config.to_str().unwrap(),
        ];
        let out = codemode_with_stdin(&[&args[..], &["-"]].concat(), "return 1", &[]);
        assert_eq!(out.status.code(), Some(2), "{line}");
        assert!(stderr(&out).contains(message), "{line}: {}", stderr(&out));
    }
    // In range still runs.
    let out = codemode_with_stdin(
        &[
            "run",
            "--spec",
            &petstore,
            "--timeout-ms",
            "5000",
            "--workers",
            "1",
            "--max-calls",
            "1",
            "-",
        ],
        "return 1 + 1",
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "2");
}

#[test]
fn audit_lines_carry_the_time_of_their_own_call() {
    // Each answer takes 40 ms, so three calls made one after another start ≥ 40 ms apart.
    let base = start_slow_upstream(std::time::Duration::from_millis(40));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cm.toml");
    let log = dir.path().join("audit.jsonl");
    std::fs::write(
        &config,
        format!(
            "spec = {:?}\nbase_url = {base:?}\naudit_log = {:?}\n",
            spec("petstore-swagger2.json"),
            log.display().to_string()
        ),
    )
    .unwrap();
    let out = codemode_with_stdin(
        &["run", "--config", config.to_str().unwrap(), "-"],
        "for (let i = 0; i < 3; i++) await api.listPets(); return 'done';",
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&log).unwrap();
    let times: Vec<String> = text
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            v["time"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(times.len(), 3, "{text}");
    // `…THH:MM:SS.mmmZ` → milliseconds of the day (the calls are well under a day apart).
    let ms_of_day = |t: &str| -> i64 {
        let clock = &t[11..23];
        let (h, m) = (&clock[0..2], &clock[3..5]);
        let (s, ms) = (&clock[6..8], &clock[9..12]);
        [(h, 3_600_000), (m, 60_000), (s, 1000), (ms, 1)]
            .iter()
            .map(|(part, unit)| part.parse::<i64>().unwrap() * unit)
            .sum()
    };
    for pair in times.windows(2) {
        let gap = (ms_of_day(&pair[1]) - ms_of_day(&pair[0])).rem_euclid(86_400_000);
        assert!(
            (35..5_000).contains(&gap),
            "{gap} ms between {pair:?}\n{text}"
        );
    }
}

/// Serves `files` (path → body) over HTTP/1.1 on 127.0.0.1 for the rest of the test process;
/// returns the base URL. Each connection gets one answer and is closed.
fn serve_spec_files(files: Vec<(&'static str, String)>) -> String {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // A client that stops talking must not stall the server for the next one.
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let response = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
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

const URL_SPEC: &str = r##"{"openapi": "3.0.0", "info": {"title": "Remote pets", "version": "1"},
  "paths": {"/pets": {"get": {"operationId": "listPets", "summary": "List pets",
    "responses": {"200": {"description": "ok", "content": {"application/json":
      {"schema": {"type": "array", "items": {"$ref": "models.json#/Pet"}}}}}}}}}}"##;
const URL_MODELS: &str =
    r#"{"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}}"#;

#[test]
fn a_spec_at_a_url_loads_with_its_relative_refs_when_allowed() {
    let base = serve_spec_files(vec![
        ("/api/spec.json", URL_SPEC.to_string()),
        ("/api/models.json", URL_MODELS.to_string()),
    ]);
    let url = format!("{base}/api/spec.json");
    let out = codemode(&[
        "search",
        "--spec",
        &url,
        "--allow-remote-refs",
        "--json",
        "list pets",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["results"][0]["name"], "listPets");

    // Without the flag the spec itself is fetched, and its relative reference refused.
    let out = codemode(&["search", "--spec", &url, "list pets"]);
    assert_refused(
        &out,
        "$ref \"models.json#/Pet\": refused: a spec loaded from a URL may only use relative \
         references with --allow-remote-refs",
    );

    let out = codemode(&["search", "--spec", &format!("{base}/absent.json"), "x"]);
    assert_refused(&out, "/absent.json: fetch failed: HTTP 404 Not Found");
}

#[test]
fn a_spec_url_that_cannot_be_reached_says_why() {
    // A port nothing listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/spec.json");
    let out = codemode(&["search", "--spec", &url, "list pets"]);
    let err = stderr(&out);
    assert_refused(
        &out,
        &format!("error: cannot read {url}: fetch failed: error sending request"),
    );
    // The cause, once: not "error sending request" alone, and not repeated.
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert_eq!(err.matches("error sending request").count(), 1, "{err}");
    assert_eq!(err.matches("onnection refused").count(), 1, "{err}");
}
