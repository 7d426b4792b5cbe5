//! Specs and `$ref`s at URLs, read through a caller's [`Fetch`]: here a map of URL → body that
//! records what it was asked for (the crate does no network IO; the CLI's tests cover a real
//! HTTP fetcher against a local server).

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::{Arc, Mutex};

use codemode_spec::{Fetch, FetchError, LoadError, LoadOptions, load};

const BASE: &str = "http://specs.test";

/// Serves fixed bodies by URL, like a server would, and remembers each URL it was asked for.
#[derive(Default)]
struct MapFetch {
    bodies: HashMap<String, Vec<u8>>,
    asked: Mutex<Vec<String>>,
}

impl MapFetch {
    fn new(files: &[(&str, &str)]) -> Arc<MapFetch> {
        let bodies = files
            .iter()
            .map(|(path, body)| (format!("{BASE}{path}"), body.as_bytes().to_vec()))
            .collect();
        Arc::new(MapFetch {
            bodies,
            asked: Mutex::default(),
        })
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Fetch for MapFetch {
    fn fetch(&self, url: &str, _max_bytes: u64) -> Result<Vec<u8>, FetchError> {
        self.asked.lock().unwrap().push(url.to_string());
        // Ignores the limit on purpose: the loader must hold any fetcher to it.
        self.bodies
            .get(url)
            .cloned()
            .ok_or_else(|| FetchError::Status {
                code: 404,
                reason: Some("Not Found".into()),
            })
    }
}

fn options(fetcher: Option<Arc<MapFetch>>, allow_remote_refs: bool) -> LoadOptions {
    LoadOptions {
        allow_remote_refs,
        fetcher: fetcher.map(|f| f as Arc<dyn Fetch>),
        ..LoadOptions::default()
    }
}

/// The error and its causes, as `{:#}` prints them.
fn chain(error: &LoadError) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    out
}

const ROOT: &str = "openapi: 3.0.0\ninfo: {title: remote, version: '1'}\npaths:\n  /pets:\n    get:\n      operationId: listPets\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: 'models.yaml#/Pet'}\n";
const MODELS: &str = "Pet: {type: object, properties: {name: {type: string}}}\n";

#[test]
fn spec_from_url_with_relative_refs_when_allowed() {
    let fetcher = MapFetch::new(&[("/api/root.yaml", ROOT), ("/api/models.yaml", MODELS)]);
    let url = format!("{BASE}/api/root.yaml");
    let spec = load(&url, &options(Some(fetcher.clone()), true))
        .unwrap()
        .spec;
    assert_eq!(spec.operations[0].name, "listPets");
    assert_eq!(
        spec.schemas()
            .get("Pet")
            .map(|s| s["properties"]["name"]["type"].clone()),
        Some(serde_json::json!("string"))
    );
    assert_eq!(
        fetcher.asked(),
        [url.clone(), format!("{BASE}/api/models.yaml")]
    );

    let refused = load(&url, &options(Some(fetcher), false)).err();
    assert_eq!(
        refused.map(|e| chain(&e)).as_deref(),
        Some(
            "http://specs.test/api/root.yaml#/paths/~1pets/get/responses/200/content/application~1json/schema: $ref \"models.yaml#/Pet\": refused: a spec loaded from a URL may only use relative references with --allow-remote-refs"
        )
    );
}

#[test]
fn remote_ref_from_a_file_spec_when_allowed() {
    let fetcher = MapFetch::new(&[("/models.yaml", MODELS)]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.yaml");
    std::fs::write(
        &path,
        ROOT.replace("models.yaml", &format!("{BASE}/models.yaml")),
    )
    .unwrap();
    let path = path.to_string_lossy();
    let spec = load(&path, &options(Some(fetcher.clone()), true))
        .unwrap()
        .spec;
    assert!(spec.schemas().contains_key("Pet"));

    // Not allowed: refused before anything is fetched.
    let refused = load(&path, &options(Some(fetcher.clone()), false)).err();
    assert!(
        refused.as_ref().is_some_and(|e| chain(e)
            .ends_with("refused: remote references are off (allow them with --allow-remote-refs)")),
        "{refused:?}"
    );
    assert_eq!(fetcher.asked(), [format!("{BASE}/models.yaml")]);
}

#[test]
fn urls_without_a_fetcher_say_they_need_one() {
    let url = format!("{BASE}/api/root.yaml");
    let root = load(&url, &LoadOptions::default()).err();
    assert!(
        matches!(root, Some(LoadError::NoFetcher { .. })),
        "{root:?}"
    );
    assert_eq!(
        root.map(|e| chain(&e)).as_deref(),
        Some(
            "cannot read http://specs.test/api/root.yaml: loading a spec from a URL needs a \
             fetcher (LoadOptions::fetcher); download it and pass the file instead"
        )
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.yaml");
    std::fs::write(
        &path,
        ROOT.replace("models.yaml", &format!("{BASE}/models.yaml")),
    )
    .unwrap();
    let remote_ref = load(&path.to_string_lossy(), &options(None, true)).err();
    assert!(
        remote_ref.as_ref().is_some_and(|e| chain(e).ends_with(
            "$ref \"http://specs.test/models.yaml#/Pet\": refused: remote references need a \
             fetcher (LoadOptions::fetcher), and none was given"
        )),
        "{remote_ref:?}"
    );
}

#[test]
fn missing_and_oversized_urls_are_errors() {
    let big = format!("openapi: 3.0.0\nx: '{}'\n", "a".repeat(4096));
    let fetcher = MapFetch::new(&[("/big.yaml", &big)]);
    let missing = load(
        &format!("{BASE}/absent.yaml"),
        &options(Some(fetcher.clone()), false),
    )
    .err();
    assert!(
        matches!(
            &missing,
            Some(LoadError::Fetch {
                source: FetchError::Status { code: 404, .. },
                ..
            })
        ),
        "{missing:?}"
    );
    assert_eq!(
        missing.map(|e| chain(&e)).as_deref(),
        Some("cannot read http://specs.test/absent.yaml: fetch failed: HTTP 404 Not Found")
    );

    // The fetcher ignores the limit; the loader does not.
    let small = LoadOptions {
        max_bytes: 1024,
        ..options(Some(fetcher), false)
    };
    let oversized = load(&format!("{BASE}/big.yaml"), &small).err();
    assert_eq!(
        oversized.map(|e| e.to_string()).as_deref(),
        Some("http://specs.test/big.yaml is larger than the limit of 1024 bytes")
    );

    // A fetcher that stops at the limit says so, and that reads the same.
    let stops = |_: &str, max_bytes: u64| -> Result<Vec<u8>, FetchError> {
        Err(FetchError::TooLarge {
            limit_bytes: max_bytes,
        })
    };
    let stopped = LoadOptions {
        max_bytes: 1024,
        fetcher: Some(Arc::new(stops)),
        ..LoadOptions::default()
    };
    let oversized = load(&format!("{BASE}/big.yaml"), &stopped).err();
    assert_eq!(
        oversized.map(|e| e.to_string()).as_deref(),
        Some("http://specs.test/big.yaml is larger than the limit of 1024 bytes")
    );
}

#[test]
fn a_fetchers_own_error_keeps_its_causes() {
    let refused = |_: &str, _: u64| -> Result<Vec<u8>, FetchError> {
        let cause =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        Err(FetchError::Failed(Box::new(Outer(cause))))
    };
    let options = LoadOptions {
        fetcher: Some(Arc::new(refused)),
        ..LoadOptions::default()
    };
    let error = load(&format!("{BASE}/spec.yaml"), &options).err();
    assert_eq!(
        error.map(|e| chain(&e)).as_deref(),
        Some(
            "cannot read http://specs.test/spec.yaml: fetch failed: error sending request: \
             connection refused"
        )
    );
}

/// An HTTP client's error: a message of its own, the cause as its source.
#[derive(Debug)]
struct Outer(std::io::Error);

impl std::fmt::Display for Outer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("error sending request")
    }
}

impl std::error::Error for Outer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn debug_of_the_options_does_not_show_the_fetcher() {
    let options = options(Some(MapFetch::new(&[("/secret", "token")])), false);
    assert_eq!(
        format!("{options:?}"),
        "LoadOptions { max_bytes: 104857600, allow_remote_refs: false, fetcher: Some(\"dyn Fetch\") }"
    );
}
