//! `scripts/fetch-specs` against a local HTTP server: every kind of lock entry lands with the
//! bytes the tests read, a wrong sha256 writes nothing and fails, a file that checks out is
//! kept without the network, and an unreachable mirror is a clear failure.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::{FileServer, workspace_root};

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut archive = tar::Builder::new(encoder);
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        archive
            .append_data(&mut header, path, *content)
            .expect("tar entry");
    }
    archive
        .into_inner()
        .expect("tar ends")
        .finish()
        .expect("gzip ends")
}

fn untar_gz(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut out = Vec::new();
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        let path = entry.path().expect("path").display().to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("content");
        out.push((path, content));
    }
    out.sort();
    out
}

/// Runs the script with a deadline; a script that hangs is killed and fails the test.
fn fetch_specs(args: &[&str]) -> Output {
    let script = workspace_root().join("scripts/fetch-specs");
    crate::output_within(
        Command::new("python3")
            .arg(&script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        None,
        Duration::from_secs(60),
    )
}

struct Fixture {
    raw: Vec<u8>,
    member: Vec<u8>,
    npm: Vec<u8>,
    repo: Vec<u8>,
    tree_digest: String,
}

fn fixture() -> Fixture {
    let raw = br#"{"openapi":"3.0.0","info":{"title":"raw","version":"1"},"paths":{}}"#.to_vec();
    let member = br#"{"openapi":"3.0.3","paths":{}}"#.to_vec();
    let npm = tar_gz(&[
        ("package/package.json", b"{}"),
        ("package/generated/api.json", &member),
    ]);
    let one: &[u8] = b"openapi: 3.0.0\n";
    let two: &[u8] = b"type: object\n";
    let repo = tar_gz(&[
        ("openapi-abc123/README.md", b"not part of the tree"),
        ("openapi-abc123/specification/root.yaml", one),
        ("openapi-abc123/specification/models/two.yaml", two),
    ]);
    let lines = format!(
        "{}  specification/models/two.yaml\n{}  specification/root.yaml\n",
        sha256_hex(two),
        sha256_hex(one)
    );
    Fixture {
        tree_digest: sha256_hex(lines.as_bytes()),
        raw,
        member,
        npm,
        repo,
    }
}

fn write_lock(dir: &Path, fixture: &Fixture, raw_sha: &str) -> std::path::PathBuf {
    let lock = dir.join("specs.lock");
    let mut file = std::fs::File::create(&lock).expect("lock file");
    writeln!(file, "# test lock").unwrap();
    writeln!(
        file,
        "raw.json\traw\thttps://example.test/raw.json\t{raw_sha}"
    )
    .unwrap();
    writeln!(
        file,
        "api.json.gz\tnpm-gzip\thttps://registry.example.test/pkg.tgz\t{}\tpackage/generated/api.json",
        sha256_hex(&fixture.member)
    )
    .unwrap();
    writeln!(
        file,
        "tree.tar.gz\ttree-tar\thttps://codeload.example.test/repo.tar.gz\t{}\tspecification\tmy-tree",
        fixture.tree_digest
    )
    .unwrap();
    lock
}

fn serve(fixture: &Fixture) -> FileServer {
    FileServer::start(vec![
        ("/example.test/raw.json".into(), fixture.raw.clone()),
        ("/registry.example.test/pkg.tgz".into(), fixture.npm.clone()),
        (
            "/codeload.example.test/repo.tar.gz".into(),
            fixture.repo.clone(),
        ),
    ])
}

#[test]
fn every_kind_lands_checked_and_a_second_run_needs_no_network() {
    let fixture = fixture();
    let scratch = tempfile::tempdir().unwrap();
    let lock = write_lock(scratch.path(), &fixture, &sha256_hex(&fixture.raw));
    let dest = scratch.path().join("cache");
    let dest_arg = dest.to_str().unwrap();
    let lock_arg = lock.to_str().unwrap();
    {
        let server = serve(&fixture);
        let out = fetch_specs(&[
            "--lock",
            lock_arg,
            "--dest",
            dest_arg,
            "--mirror",
            &server.url(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "fetch-specs failed: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout.lines().last(),
            Some(dest_arg),
            "last line is the directory"
        );
    }
    assert_eq!(std::fs::read(dest.join("raw.json")).unwrap(), fixture.raw);
    let gz = std::fs::read(dest.join("api.json.gz")).unwrap();
    let mut member = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut member)
        .unwrap();
    assert_eq!(member, fixture.member);
    let tree = untar_gz(&std::fs::read(dest.join("tree.tar.gz")).unwrap());
    let names: Vec<&str> = tree.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "my-tree/specification/models/two.yaml",
            "my-tree/specification/root.yaml"
        ]
    );

    // The server is gone: everything checks out from the cache.
    let out = fetch_specs(&[
        "--lock",
        lock_arg,
        "--dest",
        dest_arg,
        "--mirror",
        "http://127.0.0.1:9",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "a second run fetched again: {stderr}");
    assert_eq!(stderr.matches("present, checks out").count(), 3, "{stderr}");
}

#[test]
fn a_wrong_sha256_fails_and_writes_nothing() {
    let fixture = fixture();
    let scratch = tempfile::tempdir().unwrap();
    let lock = write_lock(scratch.path(), &fixture, &"0".repeat(64));
    let dest = scratch.path().join("cache");
    let server = serve(&fixture);
    let out = fetch_specs(&[
        "--lock",
        lock.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--mirror",
        &server.url(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a tampered download was accepted");
    assert!(
        stderr.contains("raw.json: sha256 mismatch") && stderr.contains("nothing was written"),
        "{stderr}"
    );
    assert!(!dest.join("raw.json").exists());
    // The other entries are independent and still land.
    assert!(dest.join("api.json.gz").exists());
}

#[test]
fn an_unreachable_source_is_a_clear_failure() {
    let fixture = fixture();
    let scratch = tempfile::tempdir().unwrap();
    let lock = write_lock(scratch.path(), &fixture, &sha256_hex(&fixture.raw));
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = fetch_specs(&[
        "--lock",
        lock.to_str().unwrap(),
        "--dest",
        scratch.path().join("cache").to_str().unwrap(),
        "--mirror",
        &format!("http://127.0.0.1:{port}"),
        "--timeout",
        "5",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("raw.json: cannot fetch http://127.0.0.1:"),
        "{stderr}"
    );
}

#[test]
fn the_pinned_lock_names_every_spec_the_tests_read() {
    let lock = std::fs::read_to_string(workspace_root().join("scripts/specs.lock")).unwrap();
    let names: Vec<&str> = lock
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(names.last(), Some(&super::PINNED_PROBE));
    if let Some(shared) = crate::shared_dir() {
        // Where the shared folder is present, the lock pins exactly its specs.
        let mut present: Vec<String> = std::fs::read_dir(shared.join("specs"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "README.md")
            .collect();
        present.sort();
        let mut pinned: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        pinned.sort();
        assert_eq!(pinned, present);
        // And each one checks out against its pinned sha256, with no network to fall back on.
        let out = fetch_specs(&[
            "--dest",
            shared.join("specs").to_str().unwrap(),
            "--mirror",
            "http://127.0.0.1:9",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(
            stderr.matches("present, checks out").count(),
            names.len(),
            "{stderr}"
        );
    }
}
