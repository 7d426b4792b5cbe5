//! Test-only helpers shared by the workspace's tests (a dev-dependency only; nothing in a
//! release build links it): where the real specs and the dev query sets are, and a loopback
//! HTTP server for fixed files.
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

/// A loopback HTTP/1.1 server answering `GET /path` with fixed bodies (404 otherwise), one
/// thread, every connection closed after its answer. It stops when dropped.
pub struct FileServer {
    addr: SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FileServer {
    /// Serves `files` (path → body) on 127.0.0.1 at a free port.
    pub fn start(files: Vec<(String, Vec<u8>)>) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => answer(stream, &files),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FileServer {
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

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(stream: TcpStream, files: &[(String, Vec<u8>)]) {
    // A client that never sends its request line must not hold the server forever.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Drain the headers up to the blank line.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let (status, body): (&str, &[u8]) = match files.iter().find(|(p, _)| p == path) {
        Some((_, body)) => ("200 OK", body),
        None => ("404 Not Found", b"not found"),
    };
    let mut stream = &stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(body);
}

#[cfg(test)]
mod fetch_specs_script;
