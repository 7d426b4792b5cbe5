//! The `codemode` binary's public interface: subcommands, flags, JSON outputs and exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use codemode_test_support::output_within;
use serde_json::Value;

/// How long any one run of the binary (or of tsc) may take before the test kills it and fails:
/// far above what any of these commands needs, far below a CI timeout.
const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The binary with piped output (stdin closed unless a caller feeds it).
fn binary(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_codemode"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

pub(crate) fn codemode(args: &[&str]) -> Output {
    output_within(&mut binary(args), None, RUN_LIMIT)
}

pub(crate) fn codemode_with_stdin(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    output_within(
        binary(args).envs(env.iter().copied()),
        Some(stdin.as_bytes()),
        RUN_LIMIT,
    )
}

pub(crate) fn spec(name: &str) -> String {
    codemode_test_support::spec_path(name).display().to_string()
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The command was refused (exit code 2) with a message containing `expected`.
pub(crate) fn assert_refused(out: &Output, expected: &str) {
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

/// A tiny upstream for `run`: answers one GET /pets with a fixed list and checks the bearer
/// token. Its thread ends after that one answer, or after [`WAIT`] without a connection (then
/// it returns `false`): a `run` that never calls cannot hang the test that joins it.
fn start_upstream() -> (String, std::sync::mpsc::Receiver<bool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let (served, answered) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::{BufRead, BufReader};
        let deadline = std::time::Instant::now() + WAIT;
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break Some(stream),
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(_) => break None,
            }
        };
        let _ = served.send(stream.is_some());
        if let Some(stream) = stream {
            stream.set_nonblocking(false).unwrap();
            stream.set_read_timeout(Some(WAIT)).unwrap();
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
    (format!("http://{addr}"), answered)
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
    let called = server
        .recv_timeout(WAIT + std::time::Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("waited for the upstream thread to end: {e}"));
    assert!(
        called,
        "`codemode run` never called the upstream within {WAIT:?}"
    );
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
    output_within(
        binary(args).stdout(writer),
        Some(stdin.as_bytes()),
        RUN_LIMIT,
    )
}

#[test]
fn a_closed_stderr_loses_the_log_lines_and_nothing_else() {
    let petstore = spec("petstore3-openapi.yaml");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let code = "for (let i = 0; i < 100; i++) console.log('line', i); return 42";
    let out = output_within(
        binary(&[
            "run",
            "--spec",
            &petstore,
            "--base-url",
            "http://127.0.0.1:9",
            "-",
        ])
        .stderr(writer),
        Some(code.as_bytes()),
        RUN_LIMIT,
    );
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
    codemode_test_support::tsc_errors(files, &[])
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

/// A `codemode` process, in a process group of its own, killed with the group and reaped when
/// dropped, pass or fail, so no test leaves one running.
pub(crate) struct Running(codemode_test_support::ProcessGroup);

impl Running {
    /// Starts `command` as the leader of a new process group.
    pub(crate) fn spawn(command: &mut Command) -> Running {
        Running(
            codemode_test_support::ProcessGroup::spawn(command)
                .unwrap_or_else(|e| panic!("the binary runs: {e}")),
        )
    }

    pub(crate) fn child(&mut self) -> &mut std::process::Child {
        self.0.child()
    }
}

/// The lines a reader yields, through a channel, so each wait can have a timeout.
pub(crate) fn lines_of(
    reader: impl std::io::Read + Send + 'static,
) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub(crate) const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The first line from `lines` containing `needle`, within [`WAIT`].
pub(crate) fn wait_for_line(
    lines: &std::sync::mpsc::Receiver<String>,
    needle: &str,
    what: &str,
) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => continue,
            Err(e) => panic!("waited {WAIT:?} for {what} (a line with {needle:?}): {e}"),
        }
    }
}

/// `codemode demo` over stdio, driven as an MCP client drives it: newline-delimited JSON-RPC.
struct DemoClient {
    process: Running,
    stdin: std::process::ChildStdin,
    stdout: std::sync::mpsc::Receiver<String>,
    next_id: u64,
}

impl DemoClient {
    fn start() -> DemoClient {
        let mut process = Running::spawn(
            Command::new(env!("CARGO_BIN_EXE_codemode"))
                .arg("demo")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let stdin = process.child().stdin.take().unwrap();
        let stdout = lines_of(process.child().stdout.take().unwrap());
        let mut client = DemoClient {
            process,
            stdin,
            stdout,
            next_id: 1,
        };
        client.request(
            "initialize",
            serde_json::json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "cli-test", "version": "0" }
            }),
        );
        client
            .send(&serde_json::json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
        client
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").expect("the demo reads stdin");
        self.stdin.flush().unwrap();
    }

    /// Sends a request and waits (at most [`WAIT`]) for the response with its id.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(
            &serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }),
        );
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self.stdout.recv_timeout(left).unwrap_or_else(|e| {
                panic!("waited {WAIT:?} for the demo's answer to {method} (id {id}): {e}")
            });
            let message: Value = serde_json::from_str(&line).expect("JSON-RPC on stdout");
            if message["id"] == id {
                return message;
            }
        }
    }

    /// Runs a program with the execute tool: (isError, the first text block).
    fn execute(&mut self, code: &str) -> (bool, String) {
        let response = self.request(
            "tools/call",
            serde_json::json!({ "name": "execute", "arguments": { "code": code } }),
        );
        let result = &response["result"];
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        (result["isError"] == true, text.to_string())
    }
}

/// Runs the binary with stdin closed, for commands that serve (and so would run until stdin
/// closes, or forever over HTTP, if they started): waits at most [`WAIT`] for it to end, and
/// kills it and fails the test if it does not.
fn codemode_bounded(args: &[&str]) -> Output {
    output_within(&mut binary(args), None, WAIT)
}

#[test]
fn demo_answers_which_science_books_are_in_stock() {
    let mut demo = DemoClient::start();
    let (failed, text) = demo.execute(
        "const books = await api.listBooks({ genre: 'science', in_stock: true }); \
         return books.map(b => ({ title: b.title, genre: b.genre, in_stock: b.in_stock }));",
    );
    assert!(!failed, "{text}");
    let books: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
    let titles: Vec<&str> = books.iter().filter_map(|b| b["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "Cosmos",
            "Surely You're Joking, Mr. Feynman!",
            "Silent Spring"
        ]
    );
    for book in &books {
        assert_eq!(book["genre"], "science", "{book}");
        assert!(book["in_stock"].as_u64().unwrap() > 0, "{book}");
    }
    drop(demo.process);
}

#[test]
fn demo_orders_take_stock_and_missing_ids_are_404() {
    let mut demo = DemoClient::start();
    let (failed, text) = demo.execute(
        "const before = (await api.getBook({ book_id: 4 })).in_stock; \
         const order = await api.createOrder({ body: { items: [{ book_id: 4, quantity: 1 }] } }); \
         const after = (await api.getBook({ book_id: 4 })).in_stock; \
         return { before, after, items: order.items, total: order.total };",
    );
    assert!(!failed, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["before"], 5, "{v}");
    assert_eq!(v["after"], 4, "{v}");
    assert_eq!(
        v["items"],
        serde_json::json!([{ "book_id": 4, "quantity": 1 }])
    );
    assert_eq!(v["total"], 18.0);
    // The state lasts as long as the server: the next program sees the stock taken.
    let (_, text) = demo.execute("return (await api.getBook({ book_id: 4 })).in_stock;");
    assert_eq!(text, "4");
    // A missing book is a 404 with a JSON error body, caught or not.
    let (failed, text) = demo.execute(
        "try { await api.getBook({ book_id: 999 }); return 'found'; } \
         catch (e) { return { status: e.status, code: e.body.code, message: e.body.message }; }",
    );
    assert!(!failed, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], 404, "{v}");
    assert_eq!(v["code"], "not_found", "{v}");
    assert_eq!(v["message"], "no book with id 999", "{v}");
    let (failed, text) = demo.execute("return await api.getBook({ book_id: 999 });");
    assert!(failed, "{text}");
    assert!(text.contains("404"), "{text}");
    // Ordering more than the stock is refused and takes nothing.
    let (failed, text) = demo.execute(
        "const r = await api.createOrder({ body: { items: [{ book_id: 8, quantity: 5 }] } }, { throwOnError: false }); \
         return { status: r.status, field: r.body.field, left: (await api.getBook({ book_id: 8 })).in_stock };",
    );
    assert!(!failed, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        serde_json::json!({ "status": 409, "field": "items[0].quantity", "left": 1 })
    );
}

#[test]
fn inspect_and_types_take_the_spec_as_a_flag_too() {
    let petstore = spec("petstore3-openapi.yaml");
    let flag = codemode(&["inspect", "--spec", &petstore, "--json"]);
    assert!(flag.status.success(), "{}", stderr(&flag));
    let positional = codemode(&["inspect", &petstore, "--json"]);
    let (a, b): (Value, Value) = (
        serde_json::from_str(&stdout(&flag)).unwrap(),
        serde_json::from_str(&stdout(&positional)).unwrap(),
    );
    assert_eq!(a["operations"], b["operations"]);
    let out = codemode(&["types", "--spec", &petstore, "--op", "getPetById"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("getPetById(args: { petId: number })"));
    // Not both, and not neither.
    let out = codemode(&["inspect", "--spec", &petstore, &petstore]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = codemode(&["types", "--all"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--spec"), "{}", stderr(&out));
    // The hint of an unknown operation is a command that works as written.
    let out = codemode(&["types", "--spec", &petstore, "--op", "noSuchOp"]);
    assert_refused(
        &out,
        &format!("codemode inspect --spec {petstore} --operations"),
    );
}

/// A spec whose only server URL is `server`, in `dir`.
fn spec_with_server(dir: &std::path::Path, server: &str) -> String {
    let path = dir.join("relative.json");
    let text = serde_json::json!({
        "openapi": "3.0.3",
        "info": { "title": "T", "version": "1" },
        "servers": [{ "url": server }],
        "paths": { "/things": { "get": { "operationId": "listThings", "responses": { "200": { "description": "ok" } } } } }
    });
    std::fs::write(&path, text.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn serve_refuses_at_start_a_base_url_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let relative = spec_with_server(dir.path(), "/api/v3");
    let out = codemode_bounded(&["serve", "--spec", &relative]);
    assert_refused(
        &out,
        "the spec's server URL \"/api/v3\" cannot be the base URL: it is not an absolute http(s) URL with a host",
    );
    assert!(stderr(&out).contains("--base-url"), "{}", stderr(&out));
    let petstore = spec("petstore-swagger2.json");
    for bad in ["/v1", "ftp://example.com/v1", "http://", "example.com/v1"] {
        let out = codemode_bounded(&["serve", "--spec", &petstore, "--base-url", bad]);
        assert_refused(&out, &format!("--base-url {bad:?} cannot be the base URL"));
    }
    let config = dir.path().join("cm.toml");
    std::fs::write(&config, "base_url = \"/v2\"\n").unwrap();
    let out = codemode_bounded(&[
        "serve",
        "--spec",
        &petstore,
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_refused(
        &out,
        "base_url in the config file \"/v2\" cannot be the base URL",
    );
    // A relative spec server with a usable --base-url is fine (the server starts, then ends on
    // the closed stdin).
    let out = codemode_bounded(&[
        "serve",
        "--spec",
        &relative,
        "--base-url",
        "http://127.0.0.1:9/api",
    ]);
    assert!(
        !stderr(&out).contains("cannot be the base URL"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("1 operations loaded"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn http_takes_a_host_name() {
    let petstore = spec("petstore-swagger2.json");
    let mut server = Running::spawn(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--spec", &petstore, "--http", "localhost:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let lines = lines_of(server.child().stderr.take().unwrap());
    let line = wait_for_line(
        &lines,
        "streamable HTTP on http://",
        "serve --http localhost:0 to listen",
    );
    // localhost means the IPv4 loopback, which every client reaches.
    assert!(line.contains("http://127.0.0.1:"), "{line}");
    let addr = line
        .rsplit("http://")
        .next()
        .and_then(|rest| rest.strip_suffix("/mcp"))
        .expect("an address");
    let mut stream = std::net::TcpStream::connect(addr).expect("the server listens");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).expect("an answer within the timeout");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A name without a port says what it wants.
    let out = codemode_bounded(&["serve", "--spec", &petstore, "--http", "localhost"]);
    assert_refused(
        &out,
        "--http wants HOST:PORT (e.g. 127.0.0.1:8080 or localhost:8080), got \"localhost\"",
    );
}

#[test]
fn errors_show_their_cause_once() {
    // A port already taken: the error says what was being done, and why it failed, once.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let petstore = spec("petstore-swagger2.json");
    let cases: [&[&str]; 2] = [
        &["demo", "--http", &addr],
        &["serve", "--spec", &petstore, "--http", &addr],
    ];
    for args in cases {
        let out = codemode_bounded(args);
        let err = stderr(&out);
        assert_refused(&out, &format!("cannot listen on {addr}"));
        let last = err.lines().last().unwrap_or_default().to_ascii_lowercase();
        assert_eq!(
            last.matches("address already in use").count(),
            1,
            "{args:?}: {err}"
        );
    }
}

#[test]
fn the_types_help_recipe_works_when_copied() {
    let help = stdout(&codemode(&["types", "--help"]));
    // The two commands between backticks after "type-checks on its own:".
    let recipe = help
        .split("type-checks on its own:")
        .nth(1)
        .expect("a recipe");
    let commands: Vec<&str> = recipe.split('`').skip(1).step_by(2).take(2).collect();
    assert!(
        commands[0].starts_with("codemode types") && commands[1].starts_with("tsc "),
        "{commands:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(spec("petstore3-openapi.yaml"), dir.path().join("spec.yaml")).unwrap();
    std::fs::write(dir.path().join("agent.ts"), AGENT_TS).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_codemode"));
    let node_bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin");
    assert!(
        node_bin.join("tsc").exists(),
        "TypeScript is not installed: run `npm ci` at the repository root"
    );
    let mut paths = vec![bin.parent().unwrap().to_path_buf(), node_bin];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    for command in commands {
        let out = output_within(
            Command::new("sh")
                .args(["-c", command])
                .current_dir(dir.path())
                .env("PATH", std::env::join_paths(&paths).unwrap())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            None,
            RUN_LIMIT,
        );
        assert!(
            out.status.success(),
            "`{command}`:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
    }
}

#[test]
fn a_policy_typo_in_the_config_file_stops_serve_naming_the_rule() {
    let petstore = spec("petstore3-openapi.yaml");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cm.toml");
    let config_arg = config.to_str().unwrap();
    let cases = [
        (
            "[[deny]]\nmethod = \"DELETE\"\n[[deny]]\nmethod = \"DELTE\"\n",
            r#"[[deny]] entry 2: method "DELTE" is not an HTTP method (did you mean "DELETE"?)"#,
        ),
        (
            "[[allow]]\ntag = \"pets\"\n",
            r#"[[allow]] entry 1: no operation has the tag "pets" (did you mean "pet"?)"#,
        ),
        (
            "[[confirm]]\noperation = \"deletPet\"\n",
            r#"[[confirm]] entry 1: the spec has no operation "deletPet" (did you mean "deletePet"?)"#,
        ),
    ];
    for (text, message) in cases {
        std::fs::write(&config, text).unwrap();
        let args = ["serve", "--spec", &petstore, "--config", config_arg];
        let out = codemode_bounded(&args);
        assert_refused(&out, message);
        assert_refused(&out, &format!("invalid policy in config file {config_arg}"));
    }
    // A misspelt key is refused by name, too.
    std::fs::write(&config, "[[deny]]\nmethdo = \"DELETE\"\n").unwrap();
    let args = ["serve", "--spec", &petstore, "--config", config_arg];
    let out = codemode_bounded(&args);
    assert_refused(&out, "methdo");
}

const URL_SPEC: &str = r##"{"openapi": "3.0.0", "info": {"title": "Remote pets", "version": "1"},
  "paths": {"/pets": {"get": {"operationId": "listPets", "summary": "List pets",
    "responses": {"200": {"description": "ok", "content": {"application/json":
      {"schema": {"type": "array", "items": {"$ref": "models.json#/Pet"}}}}}}}}}}"##;
const URL_MODELS: &str =
    r#"{"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}}"#;

#[test]
fn a_spec_at_a_url_loads_with_its_relative_refs_when_allowed() {
    let server = codemode_test_support::FileServer::start(vec![
        ("/api/spec.json".into(), URL_SPEC.into()),
        ("/api/models.json".into(), URL_MODELS.into()),
    ]);
    let base = server.url();
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

/// The approval key fails loudly at start when it is too short, naming the variable, and so do
/// approval settings out of range.
#[test]
fn a_short_approval_key_stops_serve_at_start() {
    let petstore = spec("petstore3-openapi.yaml");
    let args = [
        "serve",
        "--spec",
        &petstore,
        "--approval-key-env",
        "CM_TEST_APPROVAL_KEY",
    ];
    let out = codemode_with_stdin(&args, "", &[("CM_TEST_APPROVAL_KEY", "too-short")]);
    assert_refused(
        &out,
        "environment variable CM_TEST_APPROVAL_KEY (the approval key): the approval key has 9 bytes, at least 32 are needed",
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cm.toml");
    std::fs::write(&config, "[server]\napproval_ttl_secs = 0\n").unwrap();
    let out = codemode(&[
        "serve",
        "--spec",
        &petstore,
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_refused(&out, "server.approval_ttl_secs must be 1–86400, got 0");
}
