//! Test-only helpers shared by the workspace's tests (a dev-dependency only; nothing in a
//! release build links it): where the real specs and the dev query sets are, and a loopback
//! HTTP server for fixed files, and child processes that die whole (their process group) and
//! within a time limit, for `std` and for tokio commands.
//!
//! The real specs are found, in order, in `$CODEMODE_SPECS_DIR`, in `../shared/specs` beside the
//! repository (this machine and CI), or in the cache `scripts/fetch-specs` fills (a fresh clone
//! elsewhere: `scripts/test` runs it when `../shared` is absent). Nothing is downloaded from
//! here: a test that cannot find a spec fails and says how to get it.
//!
//! Must not know any codemode crate: it sits below all of them.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The repository root (this crate sits in `crates/codemode-test-support`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// The folder beside the repository that holds the dev sets and the specs, when it is there.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = workspace_root().join("../shared");
    dir.is_dir().then_some(dir)
}

/// A file of the shared folder (a dev query set such as `search-dev.tsv`), when it is there.
/// The dev sets are ours and not published: on a clone without `../shared`, tests that score
/// them say so and pass (see [`skip_without_shared`]).
pub fn shared_file(name: &str) -> Option<PathBuf> {
    shared_dir()
        .map(|dir| dir.join(name))
        .filter(|path| path.is_file())
}

/// Prints why a test that needs a shared file has nothing to check here. Returns the file's
/// path when it exists, so tests read `let Some(path) = skip_without_shared(..) else { return };`.
pub fn skip_without_shared(name: &str) -> Option<PathBuf> {
    let found = shared_file(name);
    if found.is_none() {
        eprintln!(
            "skipped: ../shared/{name} is not beside the repository (the dev sets are not \
             published; CI has them)"
        );
    }
    found
}

/// The directory of the real specs (see the crate doc for where it looks). Panics, naming the
/// places it looked and the command that fills the cache, when none has them.
pub fn specs_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CODEMODE_SPECS_DIR") {
        return PathBuf::from(dir);
    }
    let shared = workspace_root().join("../shared/specs");
    if shared.is_dir() {
        return shared;
    }
    let cache = specs_cache();
    if cache.join(PINNED_PROBE).is_file() {
        return cache;
    }
    panic!(
        "the real specs are not here: looked in $CODEMODE_SPECS_DIR, {} and {}; run \
         `scripts/fetch-specs` (it needs network) or put the shared folder beside the repository",
        shared.display(),
        cache.display()
    );
}

/// One real spec file by name (`stripe-spec3.yaml`), from [`specs_dir`].
pub fn spec_path(file: &str) -> PathBuf {
    specs_dir().join(file)
}

/// The last file `scripts/fetch-specs` writes (the last line of `scripts/specs.lock`), so its
/// presence means a completed run.
const PINNED_PROBE: &str = "digitalocean-openapi.tar.gz";

/// Where `scripts/fetch-specs` puts the specs by default (keep the two in step).
pub fn specs_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("CODEMODE_SPECS_CACHE") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("codemode").join("specs")
}

/// A loopback HTTP/1.1 server on one thread: each request gets the raw bytes `respond(base,
/// path)` returns (status line, headers and body; `base` is `http://127.0.0.1:PORT`, for
/// redirects), then its connection is closed. It stops when dropped.
pub struct LoopbackServer {
    addr: SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LoopbackServer {
    /// Serves on 127.0.0.1 at a free port.
    pub fn start(respond: impl Fn(&str, &str) -> Vec<u8> + Send + 'static) -> LoopbackServer {
        LoopbackServer::start_seeing_headers(move |base, path, _| respond(base, path))
    }

    /// [`LoopbackServer::start`], where `respond(base, path, headers)` also gets the request's
    /// header lines as sent (to check which credentials reached this server).
    pub fn start_seeing_headers(
        respond: impl Fn(&str, &str, &str) -> Vec<u8> + Send + 'static,
    ) -> LoopbackServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let base = format!("http://{addr}");
        let thread = std::thread::spawn(move || {
            while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => answer(stream, &base, &respond),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        LoopbackServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A [`LoopbackServer`] answering `GET /path` with fixed bodies (404 otherwise).
pub struct FileServer(LoopbackServer);

impl FileServer {
    /// Serves `files` (path → body) on 127.0.0.1 at a free port.
    pub fn start(files: Vec<(String, Vec<u8>)>) -> FileServer {
        FileServer(LoopbackServer::start(move |_, path| {
            match files.iter().find(|(p, _)| p == path) {
                Some((_, body)) => http_response("200 OK", body),
                None => http_response("404 Not Found", b"not found"),
            }
        }))
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.0.url()
    }
}

/// A whole HTTP/1.1 response: the status (`"200 OK"`), a length, `connection: close`, the body.
pub fn http_response(status: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn answer(stream: TcpStream, base: &str, respond: &dyn Fn(&str, &str, &str) -> Vec<u8>) {
    // A client that never sends its request line must not hold the server forever.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // The headers, up to the blank line (a body, if any, is left unread).
    let mut headers = String::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        headers.push_str(&line);
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let mut stream = &stream;
    let _ = stream.write_all(&respond(base, path, &headers));
}

/// A child process started in a process group of its own, killed with everything it started
/// when dropped (pass or fail). Wrappers such as `node_modules/.bin/steady` start the real server
/// as their own child: killing only the wrapper would leave the server running after the test.
pub struct ProcessGroup {
    child: std::process::Child,
}

impl ProcessGroup {
    /// Spawns `command` as the leader of a new process group.
    pub fn spawn(command: &mut std::process::Command) -> std::io::Result<ProcessGroup> {
        use std::os::unix::process::CommandExt;
        let child = command.process_group(0).spawn()?;
        Ok(ProcessGroup { child })
    }

    /// The group leader's process id (also the group id).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The leader, for its pipes and its exit status.
    pub fn child(&mut self) -> &mut std::process::Child {
        &mut self.child
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends SIGKILL to every process of the group `pgid`. `kill -KILL -- -PGID` because std can
/// only kill the leader and the workspace forbids `unsafe` (so no `libc::killpg`). A group whose
/// processes are all gone is no error.
fn kill_group(pgid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Kills the process group it names when dropped: after a normal end (a grandchild the leader
/// left behind goes too), at a timeout, or when a test unwinds.
struct GroupGuard(u32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

/// `program arg arg…`, for failure messages.
fn describe(command: &std::process::Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tokio flavour of [`output_within`]: runs `command` (stdin closed, stdout and stderr
/// collected) as the leader of a process group of its own, within `limit`. The whole group is
/// killed when the leader ends, when the limit passes (the test then fails naming the command),
/// and when the calling future is dropped: a client wrapper (`npx`, a Python SDK client) cannot
/// leave the server it started running after the test.
pub async fn output_within_async(
    command: &mut tokio::process::Command,
    limit: Duration,
) -> std::process::Output {
    let what = describe(command.as_std());
    command
        .process_group(0)
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    let _group = GroupGuard(child.id().expect("a child not yet waited on has an id"));
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(output) => output.unwrap_or_else(|e| panic!("cannot wait on `{what}`: {e}")),
        Err(_) => panic!("waited {limit:?} for `{what}` to end; killed it with its process group"),
    }
}

/// Runs `command` to its end with `stdin` written to it (when given), its piped stdout and
/// stderr collected, within `limit`. A child still running at the limit is killed with its
/// process group and the test fails, naming the command: no test waits forever on a process.
pub fn output_within(
    command: &mut std::process::Command,
    stdin: Option<&[u8]>,
    limit: Duration,
) -> std::process::Output {
    use std::io::Read;
    let what = describe(command);
    if stdin.is_some() {
        command.stdin(std::process::Stdio::piped());
    }
    let mut group =
        ProcessGroup::spawn(command).unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    let child = group.child();
    // Written and drained on threads of their own: a child that fills a pipe, or reads its
    // input only after writing, cannot block the wait.
    let writer = stdin.zip(child.stdin.take()).map(|(bytes, mut pipe)| {
        let bytes = bytes.to_vec();
        // A child that ends (or refuses its flags) before reading closes the pipe: not an error.
        std::thread::spawn(move || drop(pipe.write_all(&bytes)))
    });
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait on the child") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            drop(group);
            panic!("waited {limit:?} for `{what}` to end; killed it");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

#[cfg(test)]
mod fetch_specs_script;

/// Type-checks `files` together under `tsc --strict --noEmit --target es2022` (plus `extra`
/// flags) with the repository's TypeScript (`node_modules/.bin/tsc`, from `npm ci`); returns
/// tsc's diagnostics, empty when they compile. A tsc that hangs fails the test, naming the
/// command. (`--skipLibCheck` is faster, but skips every `.d.ts` given too: pass it only for
/// `.ts` files.)
pub fn tsc_errors(files: &[&std::path::Path], extra: &[&str]) -> String {
    let bin = workspace_root().join("node_modules/.bin");
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
    let output = output_within(
        std::process::Command::new(&tsc)
            .env("PATH", std::env::join_paths(paths).expect("PATH"))
            .args([
                "--strict", "--noEmit", "--target", "es2022", "--pretty", "false",
            ])
            .args(extra)
            .args(files)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped()),
        None,
        // Far above what tsc needs on the largest spec, even on a busy machine.
        Duration::from_secs(600),
    );
    if output.status.success() {
        return String::new();
    }
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if report.trim().is_empty() {
        format!("tsc failed ({}) without output", output.status)
    } else {
        report
    }
}

#[cfg(test)]
mod process_group {
    //! A process group dies whole: the grandchild a wrapper started is gone after the drop.

    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use super::ProcessGroup;

    fn alive(pid: &str) -> bool {
        // A zombie is dead for our purpose: `ps -o stat=` shows `Z`, or nothing once reaped.
        let out = Command::new("ps").args(["-o", "stat=", "-p", pid]).output();
        out.is_ok_and(|o| {
            let stat = String::from_utf8_lossy(&o.stdout);
            !stat.trim().is_empty() && !stat.trim().starts_with('Z')
        })
    }

    #[test]
    fn output_within_collects_and_feeds_the_child() {
        let out = super::output_within(
            Command::new("sh")
                .args(["-c", "cat; echo err >&2"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            Some(b"hello"),
            Duration::from_secs(30),
        );
        assert!(out.status.success());
        assert_eq!(out.stdout, b"hello");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn output_within_kills_a_child_that_outlives_its_limit() {
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| {
            super::output_within(
                Command::new("sleep").arg("300"),
                None,
                Duration::from_millis(200),
            )
        });
        let message = *outcome
            .expect_err("the wait gives up")
            .downcast::<String>()
            .expect("a message");
        assert!(message.contains("`sleep 300`"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// The async flavour: a wrapper whose grandchild outlives the limit fails the wait, naming
    /// the command, and the grandchild is gone with it.
    #[tokio::test]
    async fn output_within_async_kills_the_whole_group_at_its_limit() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let pid_file = dir.path().join("grandchild.pid");
        let script = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
        let started = Instant::now();
        let waited = tokio::spawn(async move {
            super::output_within_async(
                tokio::process::Command::new("sh").args(["-c", &script]),
                Duration::from_millis(500),
            )
            .await
        })
        .await;
        let message = *waited
            .expect_err("the wait gives up")
            .into_panic()
            .downcast::<String>()
            .expect("a message");
        assert!(message.contains("`sh -c sleep 300 &"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let grandchild = std::fs::read_to_string(&pid_file).expect("the wrapper wrote the pid");
        gone_within_10_s(grandchild.trim());
    }

    #[tokio::test]
    async fn output_within_async_collects_the_output() {
        let out = super::output_within_async(
            tokio::process::Command::new("sh").args(["-c", "echo out; echo err >&2"]),
            Duration::from_secs(30),
        )
        .await;
        assert!(out.status.success());
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }

    fn gone_within_10_s(pid: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive(pid) {
            assert!(
                Instant::now() < deadline,
                "the grandchild {pid} outlived its group by 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn dropping_the_group_kills_the_grandchild_too() {
        // The wrapper starts a long sleep in the background, prints its pid, then waits.
        let mut group = ProcessGroup::spawn(
            Command::new("sh")
                .args(["-c", "sleep 300 & echo $!; wait"])
                .stdout(Stdio::piped()),
        )
        .expect("sh starts");
        let mut line = String::new();
        let stdout = group.child().stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("the wrapper prints the grandchild's pid");
        let grandchild = line.trim().to_string();
        assert!(alive(&grandchild), "the grandchild runs");
        drop(group);
        gone_within_10_s(&grandchild);
    }
}
