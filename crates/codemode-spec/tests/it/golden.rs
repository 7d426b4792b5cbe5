//! Golden tests: each small fixture spec in `tests/fixtures` exercises one loader feature, and a
//! compact dump of the loaded model is compared with `tests/snapshots/<fixture>.txt`.
//! Refresh after an intended change with `UPDATE_EXPECT=1 cargo test -p codemode-spec --test it golden`.

use crate::support::{dump, load_fixture};
use codemode_spec::{BodyKind, OperationId, SecurityScheme};
use expect_test::expect_file;

#[test]
fn swagger2_conversion() {
    let spec = load_fixture("swagger2.yaml");
    expect_file!["../snapshots/swagger2.txt"].assert_eq(&dump(&spec));
    let upload = spec.find("uploadPhoto").expect("uploadPhoto");
    let body = upload.request_body.as_ref().expect("form body");
    assert_eq!(body.content[0].kind, BodyKind::Multipart);
}

#[test]
fn parameters_merge_path_and_operation_level() {
    let spec = load_fixture("parameters.yaml");
    expect_file!["../snapshots/parameters.txt"].assert_eq(&dump(&spec));
    let get = spec.find("getItem").expect("getItem");
    let keys: Vec<String> = get.arguments().into_iter().map(|a| a.key).collect();
    assert_eq!(keys, ["id", "X-Request-Id", "limit", "header_id", "fields"]);
    assert_eq!(
        spec.default_server_url().as_deref(),
        Some("https://eu.example.com/api")
    );
}

#[test]
fn request_bodies_and_success_responses_per_media_type() {
    let spec = load_fixture("bodies.yaml");
    expect_file!["../snapshots/bodies.txt"].assert_eq(&dump(&spec));
    let json = spec.find("sendJson").and_then(|o| o.request_body.as_ref());
    let preferred = json
        .and_then(|b| b.preferred())
        .map(|m| m.media_type.as_str());
    assert_eq!(preferred, Some("application/vnd.example+json"));
}

#[test]
fn operation_names_and_lookup() {
    let spec = load_fixture("names.json");
    expect_file!["../snapshots/names.txt"].assert_eq(&dump(&spec));
    // By name, by the operationId as written, and by `METHOD /path` (any method case).
    let by = |key: &str| spec.find(key).map(|o| o.key());
    let get_repo = Some("GET /repos/{owner}/{repo}".to_string());
    // A name wins over an operationId that happens to equal it; collisions go in document order.
    assert_eq!(by("reposGet"), get_repo, "names win");
    assert_eq!(by("reposGet3"), Some("GET /reposGet".to_string()));
    assert_eq!(by("repos-get"), Some("GET /repos".to_string()));
    assert_eq!(by("repos/get"), get_repo);
    assert_eq!(by("get /repos/{owner}/{repo}"), get_repo);
    assert_eq!(
        by("DELETE /repos/{owner}/{repo}"),
        by("deleteReposOwnerRepo")
    );
    assert_eq!(by("GET /nowhere"), None);
    assert_eq!(by("nothing"), None);
}

#[test]
fn operations_are_named_by_ids_the_spec_hands_out() {
    let spec = load_fixture("names.json");
    let ids: Vec<OperationId> = spec.operation_ids().collect();
    assert_eq!(ids.len(), spec.operations.len());
    for (position, (id, op)) in spec.iter_operations().enumerate() {
        assert_eq!(id.index(), position);
        assert_eq!(ids[position], id);
        assert!(std::ptr::eq(spec.operation(id), op));
        // Every way of naming an operation comes back to its id (names are unique).
        assert_eq!(spec.find_id(&op.name), Some(id));
    }
    let get_repo = spec.find_id("get  /repos/{owner}/{repo}").expect("by key");
    assert_eq!(spec.operation(get_repo).key(), "GET /repos/{owner}/{repo}");
    assert_eq!(spec.find_id("GET /nowhere"), None);
}

#[test]
fn bytes_load_like_a_file_gzipped_or_not() {
    use std::io::Write as _;
    let text = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /pets:\n    get:\n      operationId: listPets\n      responses: {'200': {description: ok}}\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let gzipped = gz.finish().unwrap();
    for bytes in [text.as_bytes(), &gzipped[..]] {
        let spec = codemode_spec::load_bytes("pets.yaml", bytes).unwrap();
        assert_eq!(
            spec.find("listPets").map(|op| op.key()).as_deref(),
            Some("GET /pets")
        );
    }
    let broken = codemode_spec::load_bytes("broken.yaml.gz", &gzipped[..gzipped.len() / 2]).err();
    assert_eq!(
        broken.map(|e| e.to_string()).as_deref(),
        Some("broken.yaml.gz: bad gzip data")
    );
}

#[test]
fn nullable_and_exclusive_bounds_become_3_1() {
    let spec = load_fixture("nullable.yaml");
    expect_file!["../snapshots/nullable.txt"].assert_eq(&dump(&spec));
}

#[test]
fn ref_cycles_stay_references() {
    let spec = load_fixture("cycles.yaml");
    expect_file!["../snapshots/cycles.txt"].assert_eq(&dump(&spec));
    let props = spec
        .schemas()
        .get("JSONSchemaProps")
        .expect("JSONSchemaProps");
    assert_eq!(
        spec.deref_schema(&props["properties"]["items"]),
        props,
        "self reference resolves to itself"
    );
}

#[test]
fn multi_file_spec_with_relative_refs() {
    let spec = load_fixture("multi/root.yaml");
    expect_file!["../snapshots/multi.txt"].assert_eq(&dump(&spec));
}

#[test]
fn security_schemes() {
    let spec = load_fixture("security.yaml");
    expect_file!["../snapshots/security.txt"].assert_eq(&dump(&spec));
    assert_eq!(
        spec.security_schemes.get("shared"),
        Some(&SecurityScheme::Bearer {
            format: Some("JWT".into())
        })
    );
}
