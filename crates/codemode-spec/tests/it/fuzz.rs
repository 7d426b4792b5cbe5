//! Property tests of the loader: random OpenAPI-flavoured documents, and a valid fixture that is
//! truncated, bit-flipped or given random `$ref` strings. Loading must never panic and must
//! return quickly, whatever it is given.

use std::time::{Duration, Instant};

use codemode_spec::{LoadOptions, load, load_str};
use proptest::prelude::*;
use serde_json::Value;

const FIXTURE: &str = include_str!("../fixtures/swagger2.yaml");
const FIXTURE_3: &str = include_str!("../fixtures/bodies.yaml");

/// Keys the loader looks at, so random documents reach deep into it.
const KEYS: &[&str] = &[
    "openapi",
    "swagger",
    "info",
    "title",
    "paths",
    "/p/{id}",
    "/q",
    "get",
    "post",
    "parameters",
    "name",
    "in",
    "schema",
    "requestBody",
    "content",
    "application/json",
    "multipart/form-data",
    "responses",
    "200",
    "default",
    "components",
    "schemas",
    "A",
    "B",
    "$ref",
    "properties",
    "items",
    "allOf",
    "anyOf",
    "nullable",
    "type",
    "enum",
    "exclusiveMinimum",
    "minimum",
    "discriminator",
    "mapping",
    "securitySchemes",
    "security",
    "servers",
    "url",
    "definitions",
    "operationId",
    "style",
    "explode",
    "x-nullable",
    "collectionFormat",
    "consumes",
    "basePath",
];

const REFS: &[&str] = &[
    "#/components/schemas/A",
    "#/components/schemas/B",
    "#/definitions/A",
    "#/components/parameters/A",
    "#/a/b",
    "#",
    "#/",
    "#a",
    "../x.yaml",
    "../../etc/passwd",
    "/etc/passwd",
    "http://127.0.0.1:9/x.yaml",
    "https://example.invalid/x.json#/A",
    "file:///etc/passwd",
    "models/absent.yaml#/X",
    "%",
    "#/components/schemas/%ZZ",
    "#/paths/~1q/get",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "3.0.0", "3.1.0", "2.0", "query", "path", "body", "formData", "string", "object",
            "array", "file", "http", "apiKey", "oauth2", "bearer", ""
        ])
        .prop_map(|s| Value::String(s.to_string())),
        prop::sample::select(REFS.to_vec()).prop_map(|s| Value::String(s.to_string())),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(6, 200, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..8).prop_map(
                |entries| {
                    Value::Object(
                        entries
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect(),
                    )
                }
            ),
        ]
    })
}

/// Wraps a random document so the version check passes and the builder does real work.
fn openapi_shaped() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["3.0.0", "3.1.0", "2.0"]),
        document(),
        document(),
        document(),
    )
        .prop_map(|(version, paths, components, extra)| {
            let key = if version == "2.0" {
                "swagger"
            } else {
                "openapi"
            };
            serde_json::json!({
                key: version,
                "info": {"title": "fuzz", "version": "1"},
                "paths": {"/p/{id}": {"get": extra, "parameters": [paths.clone()]}, "/q": paths},
                "components": {"schemas": {"A": components.clone(), "B": components.clone()},
                    "parameters": {"A": components.clone()}},
                "definitions": {"A": components},
            })
        })
}

fn assert_quick(started: Instant) {
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

fn load_text_quickly(name: &str, text: &str) {
    let started = Instant::now();
    let _ = load_str(name, text);
    assert_quick(started);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_documents_never_panic(doc in openapi_shaped()) {
        load_text_quickly("fuzz.json", &doc.to_string());
    }

    #[test]
    fn random_documents_as_yaml_never_panic(doc in document()) {
        // JSON is YAML; parsed by the YAML reader when it does not start with a bracket.
        load_text_quickly("fuzz.yaml", &format!("openapi: 3.0.0\nx: {doc}\n"));
    }

    #[test]
    fn truncated_fixture_never_panics(cut in 0..FIXTURE.len(), yaml in any::<bool>()) {
        let source = if yaml { FIXTURE } else { FIXTURE_3 };
        let cut = cut.min(source.len());
        let bytes = &source.as_bytes()[..cut];
        let text = String::from_utf8_lossy(bytes);
        load_text_quickly("cut.yaml", &text);
    }

    #[test]
    fn byte_flipped_fixture_never_panics(
        flips in prop::collection::vec((0..FIXTURE_3.len(), any::<u8>()), 1..8)
    ) {
        let mut bytes = FIXTURE_3.as_bytes().to_vec();
        for (at, byte) in flips {
            bytes[at] = byte;
        }
        // Through a file, so invalid UTF-8 reaches the loader as bytes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flipped.yaml");
        std::fs::write(&path, &bytes).unwrap();
        let started = Instant::now();
        let _ = load(&path.to_string_lossy(), &LoadOptions::default());
        assert_quick(started);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_refs_in_a_file_spec_never_panic(
        refs in prop::collection::vec(prop::sample::select(REFS.to_vec()), 1..6)
    ) {
        // Every `$ref` of the fixture is replaced, in turn, by one of the random ones.
        let mut text = FIXTURE.to_string();
        let starts: Vec<usize> = FIXTURE.match_indices("$ref: '").map(|(i, _)| i).collect();
        for (i, &piece) in starts.iter().enumerate().rev() {
            let start = piece + "$ref: '".len();
            let end = start + text[start..].find('\'').unwrap_or(0);
            text.replace_range(start..end, refs[i % refs.len()]);
        }
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("specs");
        std::fs::create_dir(&nested).unwrap();
        std::fs::write(dir.path().join("x.yaml"), "A: {type: string}\n").unwrap();
        let path = nested.join("spec.yaml");
        std::fs::write(&path, &text).unwrap();
        // Remote refs are off by default, so the http ones are refused without a request.
        let started = Instant::now();
        let _ = load(&path.to_string_lossy(), &LoadOptions::default());
        assert_quick(started);
    }
}
