//! Every real spec (`codemode_test_support::specs_dir`) loads with the expected operation
//! count, and every operation name is a unique valid JavaScript identifier.

use std::collections::HashSet;
use std::path::PathBuf;

use codemode_spec::{LoadOptions, Spec, load, names::is_identifier};

fn shared_specs() -> PathBuf {
    codemode_test_support::specs_dir()
}

fn load_spec(file: &str) -> Spec {
    let path = shared_specs().join(file);
    let loaded = load(path.to_str().unwrap(), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    loaded.spec
}

fn check_names(file: &str, spec: &Spec) {
    let mut seen = HashSet::new();
    for op in &spec.operations {
        assert!(
            is_identifier(&op.name),
            "{file}: {:?} is not an identifier",
            op.name
        );
        assert!(
            seen.insert(op.name.clone()),
            "{file}: duplicate name {:?}",
            op.name
        );
        assert_eq!(
            spec.find(&op.name).map(|o| o.key()),
            Some(op.key()),
            "{file}: lookup by name {}",
            op.name
        );
        assert!(
            spec.find(&op.key()).is_some(),
            "{file}: lookup by key {}",
            op.key()
        );
    }
}

fn check(file: &str, expected_operations: usize) -> Spec {
    let spec = load_spec(file);
    assert_eq!(
        spec.operations.len(),
        expected_operations,
        "{file}: operation count"
    );
    check_names(file, &spec);
    check_refs_resolve(file, &spec);
    check_no_safety_cuts(file, &spec);
    spec
}

/// The guards against hostile input (splice cycles and budgets) never fire on a real spec.
fn check_no_safety_cuts(file: &str, spec: &Spec) {
    let cuts: Vec<String> = spec
        .warnings
        .iter()
        .filter(|w| w.message.ends_with("; cut"))
        .map(ToString::to_string)
        .collect();
    assert!(cuts.is_empty(), "{file}: {cuts:#?}");
}

/// Every `$ref` anywhere in the model names a schema the model holds.
fn check_refs_resolve(file: &str, spec: &Spec) {
    fn walk(file: &str, spec: &Spec, v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                    assert!(spec.schema_by_ref(r).is_some(), "{file}: dangling {r}");
                }
                // Examples, defaults and enums are data: a `$ref` there is not a reference.
                m.iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "example" | "examples" | "default" | "enum" | "const"
                        )
                    })
                    .for_each(|(_, c)| walk(file, spec, c));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|c| walk(file, spec, c)),
            _ => {}
        }
    }
    for s in spec.schemas().values() {
        walk(file, spec, s);
    }
    for op in &spec.operations {
        for p in &op.parameters {
            walk(file, spec, &p.schema);
        }
        for m in op
            .request_body
            .iter()
            .flat_map(|b| &b.content)
            .chain(op.success.iter().flat_map(|r| &r.content))
        {
            walk(file, spec, &m.schema);
        }
    }
}

#[test]
fn cloudflare() {
    check("cloudflare-openapi.json", 1533);
}

#[test]
fn github() {
    let spec = check("github-api.github.com.json.gz", 1223);
    let merge = spec
        .find("pulls/merge")
        .expect("pulls/merge by operationId");
    assert_eq!(
        merge.key(),
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"
    );
    assert_eq!(merge.name, "pullsMerge");
}

#[test]
fn stripe() {
    let spec = check("stripe-spec3.yaml", 468);
    let create = spec.find("PostCustomers").expect("PostCustomers");
    let body = create.request_body.as_ref().expect("body");
    assert_eq!(body.content[0].kind, codemode_spec::BodyKind::Form);
}

#[test]
fn kubernetes() {
    let spec = check("kubernetes-swagger.json", 1123);
    assert_eq!(spec.source_version, "2.0");
    assert!(
        spec.schemas()
            .keys()
            .any(|k| k.ends_with("JSONSchemaProps"))
    );
    let create = spec.find("createCoreV1NamespacedPod").expect("create pod");
    assert!(
        create.request_body.is_some(),
        "in: body became a request body"
    );
    assert!(!spec.servers.is_empty());
}

#[test]
fn openai() {
    check("openai-openapi.yaml", 288);
}

#[test]
fn discord() {
    check("discord-openapi.json", 242);
}

#[test]
fn petstore_swagger2() {
    let spec = check("petstore-swagger2.json", 3);
    assert_eq!(spec.servers[0].url, "http://petstore.swagger.io/v1");
}

#[test]
fn petstore3() {
    check("petstore3-openapi.yaml", 19);
}

#[test]
fn digitalocean_multi_file() {
    let dir = tempfile::tempdir().unwrap();
    let archive = std::fs::File::open(shared_specs().join("digitalocean-openapi.tar.gz")).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(archive))
        .unpack(dir.path())
        .unwrap();
    let root = dir
        .path()
        .join("digitalocean-openapi/specification/DigitalOcean-public.v2.yaml");
    let spec = load(root.to_str().unwrap(), &LoadOptions::default())
        .unwrap()
        .spec;
    assert_eq!(spec.operations.len(), 659);
    check_names("digitalocean", &spec);
    check_refs_resolve("digitalocean", &spec);
    check_no_safety_cuts("digitalocean", &spec);
    assert!(
        spec.schemas().len() > 100,
        "external schemas were hoisted: {}",
        spec.schemas().len()
    );
}
