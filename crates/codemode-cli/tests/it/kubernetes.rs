//! The manifests in `deploy/kubernetes/` are what a cluster accepts: every document is checked
//! against the Kubernetes OpenAPI schema (`kubernetes-swagger.json`, one of the pinned real
//! specs): its apiVersion and kind name a definition, and the object has that definition's
//! required fields, no field it does not declare (at any depth), and the declared types. Then
//! the Deployment is checked for what running it safely needs, and the binary serves with the
//! ConfigMap's `codemode.toml` as the pods would.
//!
//! How: the swagger's definitions become one JSON Schema (draft 4, the dialect Swagger 2.0
//! schemas are written in) with `additionalProperties: false` on every object schema that lists
//! its properties, and the jsonschema crate (the validator codemode-upstream uses for
//! arguments) checks each document against its kind's definition. That is about thirty lines of
//! rewriting instead of a hand-written validator; the errors come with the instance path.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value, json};

fn manifests_dir() -> PathBuf {
    codemode_test_support::workspace_root().join("deploy/kubernetes")
}

/// One YAML document of a manifest file, with where it came from.
struct Manifest {
    origin: String,
    object: Value,
}

impl Manifest {
    fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap_or("")
    }
}

/// Every document of every `.yaml`/`.yml` file in `dir` (multi-document files allowed).
fn read_manifests(dir: &Path) -> Vec<Manifest> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    let mut manifests = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        manifests.extend(parse_documents(&name, &text));
    }
    manifests
}

fn parse_documents(name: &str, text: &str) -> Vec<Manifest> {
    let mut documents = Vec::new();
    for (index, document) in yaml_serde::Deserializer::from_str(text).enumerate() {
        let object = Value::deserialize(document)
            .unwrap_or_else(|e| panic!("{name}, document {}: not YAML: {e}", index + 1));
        // An empty document (a trailing `---`) is no object.
        if !object.is_null() {
            documents.push(Manifest {
                origin: format!("{name}, document {}", index + 1),
                object,
            });
        }
    }
    documents
}

/// The swagger's definitions as one strict JSON Schema document, built once.
fn kubernetes_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = codemode_test_support::spec_path("kubernetes-swagger.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let swagger: Value = serde_json::from_str(&text).expect("the swagger is JSON");
        let Some(Value::Object(mut definitions)) = swagger.get("definitions").cloned() else {
            panic!("{} has no definitions", path.display());
        };
        for definition in definitions.values_mut() {
            strict(definition);
        }
        // Both are strings in the swagger, but the API server takes `port: 8080` and `cpu: 2`:
        // the OpenAPI v3 document marks them int-or-string.
        for name in [
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
            "io.k8s.apimachinery.pkg.api.resource.Quantity",
        ] {
            definitions.insert(name.into(), json!({ "type": ["integer", "string"] }));
        }
        json!({ "definitions": definitions })
    })
}

/// Closes every object schema that lists its properties (`additionalProperties: false`),
/// recursing only where schemas sit (properties, items, additionalProperties, the combinators),
/// so a property that happens to be called `properties` is not mistaken for a keyword.
fn strict(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        properties.values_mut().for_each(strict);
        object
            .entry("additionalProperties")
            .or_insert(Value::Bool(false));
    }
    for keyword in ["items", "additionalProperties"] {
        if let Some(sub) = object.get_mut(keyword) {
            strict(sub);
        }
    }
    for keyword in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(subs)) = object.get_mut(keyword) {
            subs.iter_mut().for_each(strict);
        }
    }
}

/// The definition named by `apiVersion` and `kind`, through `x-kubernetes-group-version-kind`.
fn definition_for(api_version: &str, kind: &str) -> Option<String> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let definitions = kubernetes_schema()["definitions"].as_object()?;
    definitions.iter().find_map(|(name, definition)| {
        let kinds = definition
            .get("x-kubernetes-group-version-kind")?
            .as_array()?;
        kinds
            .iter()
            .any(|gvk| gvk["group"] == group && gvk["version"] == version && gvk["kind"] == kind)
            .then(|| name.clone())
    })
}

/// Every way `manifest` breaks the schema, one line each naming where.
fn schema_errors(manifest: &Manifest) -> Vec<String> {
    let object = &manifest.object;
    let (Some(api_version), Some(kind)) = (object["apiVersion"].as_str(), object["kind"].as_str())
    else {
        return vec![format!("{}: no apiVersion or kind", manifest.origin)];
    };
    let Some(definition) = definition_for(api_version, kind) else {
        return vec![format!(
            "{}: {api_version} {kind} is not a kind of the Kubernetes API",
            manifest.origin
        )];
    };
    let mut root: Map<String, Value> = kubernetes_schema().as_object().unwrap().clone();
    root.insert("$ref".into(), json!(format!("#/definitions/{definition}")));
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(false)
        .build(&Value::Object(root))
        .unwrap_or_else(|e| panic!("the {definition} schema compiles: {e}"));
    let mut errors: Vec<String> = validator
        .iter_errors(object)
        .map(|error| {
            let path = error.instance_path().as_str().to_string();
            let path = if path.is_empty() { "/" } else { &path };
            format!("{} ({kind}) at {path}: {error}", manifest.origin)
        })
        .collect();
    if object["metadata"]["name"]
        .as_str()
        .is_none_or(str::is_empty)
    {
        errors.push(format!(
            "{} ({kind}) at /metadata: no name",
            manifest.origin
        ));
    }
    errors
}

#[test]
fn every_manifest_is_a_valid_kubernetes_object() {
    let manifests = read_manifests(&manifests_dir());
    let errors: Vec<String> = manifests.iter().flat_map(schema_errors).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let mut kinds: Vec<&str> = manifests.iter().map(Manifest::kind).collect();
    kinds.sort_unstable();
    for wanted in [
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Secret",
        "Service",
    ] {
        assert!(kinds.contains(&wanted), "no {wanted} among {kinds:?}");
    }
    let hpa = find(&manifests, "HorizontalPodAutoscaler");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
}

/// The check above can fail, and says where: an unknown field deep in a pod template, a missing
/// required field, a wrong type, an unknown kind.
#[test]
fn the_schema_check_rejects_what_a_cluster_would() {
    let errors_of = |yaml: &str| -> String {
        parse_documents("test.yaml", yaml)
            .iter()
            .flat_map(schema_errors)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let deployment = |container_extra: &str, spec_extra: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: x}}\nspec:\n{spec_extra}  template:\n    metadata: {{labels: {{app: x}}}}\n    spec:\n      containers:\n        - name: x\n          image: x\n{container_extra}"
        )
    };
    let selector = "  selector: {matchLabels: {app: x}}\n";
    assert_eq!(
        errors_of(&deployment("", selector)),
        "",
        "the base case is valid"
    );

    let unknown = errors_of(&deployment(
        "          securityContext: {readOnlyRootFS: true}\n",
        selector,
    ));
    assert!(
        unknown.contains("at /spec/template/spec/containers/0/securityContext")
            && unknown.contains("readOnlyRootFS"),
        "{unknown}"
    );

    let missing = errors_of(&deployment("", ""));
    assert!(
        missing.contains("(Deployment) at /spec") && missing.contains("selector"),
        "{missing}"
    );

    let wrong_type = errors_of(&deployment("", &format!("{selector}  replicas: two\n")));
    assert!(
        wrong_type.contains("at /spec/replicas") && wrong_type.contains("integer"),
        "{wrong_type}"
    );

    let wrong_kind = errors_of("apiVersion: apps/v1\nkind: Deploy\nmetadata: {name: x}\n");
    assert!(
        wrong_kind.contains("apps/v1 Deploy is not a kind"),
        "{wrong_kind}"
    );

    // A second document is checked too, and named by its place in the file.
    let second = errors_of(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: 1}\n",
    );
    assert!(
        second.contains("test.yaml, document 2 (ConfigMap) at /data/k"),
        "{second}"
    );
}

fn find<'a>(manifests: &'a [Manifest], kind: &str) -> &'a Value {
    &manifests
        .iter()
        .find(|m| m.kind() == kind)
        .unwrap_or_else(|| panic!("a {kind} manifest"))
        .object
}

/// What the issue asks of the pods (and the `restricted` Pod Security Standard with it): no
/// root, no privilege escalation, no capabilities, a read-only root filesystem, probes on
/// `/healthz`, resources declared; and the names the objects use for each other line up.
#[test]
fn the_deployment_runs_locked_down_and_its_references_resolve() {
    let manifests = read_manifests(&manifests_dir());
    let deployment = find(&manifests, "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    for container in pod["containers"].as_array().unwrap() {
        let name = &container["name"];
        let security = &container["securityContext"];
        assert_eq!(security["allowPrivilegeEscalation"], false, "{name}");
        assert_eq!(security["readOnlyRootFilesystem"], true, "{name}");
        assert_eq!(security["capabilities"]["drop"], json!(["ALL"]), "{name}");
        for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
            assert_eq!(
                container[probe]["httpGet"]["path"], "/healthz",
                "{name} {probe}"
            );
        }
        for bound in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    container["resources"][bound][resource].is_string(),
                    "{name} declares {bound}.{resource}"
                );
            }
        }
        // Every secret the environment reads is a key of the Secret.
        let secret = find(&manifests, "Secret");
        for env in container["env"].as_array().into_iter().flatten() {
            let reference = &env["valueFrom"]["secretKeyRef"];
            if reference.is_object() {
                assert_eq!(reference["name"], secret["metadata"]["name"]);
                let key = reference["key"].as_str().unwrap();
                assert!(
                    secret["stringData"].get(key).is_some(),
                    "the Secret has {key}"
                );
            }
        }
    }
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let service = find(&manifests, "Service");
    for (key, value) in service["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&labels[key], value, "the Service selects the pods by {key}");
    }
    let hpa = find(&manifests, "HorizontalPodAutoscaler");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );
    let config_map = find(&manifests, "ConfigMap");
    let volumes = pod["volumes"].as_array().unwrap();
    assert!(
        volumes
            .iter()
            .any(|v| v["configMap"]["name"] == config_map["metadata"]["name"]),
        "the ConfigMap is mounted"
    );
}

/// The ConfigMap's `codemode.toml` is a config the binary serves with, as the pods run it: with
/// the environment the Secret provides, the spec swapped for a local file and the address for
/// 127.0.0.1:0 (so the test needs no network or free port), `codemode serve` starts; `/healthz`
/// answers a probe whatever its Host; `/mcp` answers the Service's name with the token, and
/// refuses it without the token or under another name.
#[test]
fn the_config_map_serves_as_the_pods_run_it() {
    let manifests = read_manifests(&manifests_dir());
    let toml = find(&manifests, "ConfigMap")["data"]["codemode.toml"]
        .as_str()
        .expect("the ConfigMap holds codemode.toml");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("codemode.toml");
    std::fs::write(&config, toml).unwrap();
    let spec = codemode_test_support::spec_path("petstore3-openapi.yaml");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_codemode"));
    command
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--spec")
        .arg(&spec)
        .args(["--http", "127.0.0.1:0"])
        .env("GITHUB_TOKEN", "placeholder-upstream-token")
        .env("MCP_TOKEN", "placeholder-mcp-token")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut server =
        codemode_test_support::ProcessGroup::spawn(&mut command).expect("codemode starts");
    let stderr = server.child().stderr.take().unwrap();
    let addr = listening_address(stderr);

    let probe = http(&addr, "GET /healthz", "10.1.2.3:8080", None, "");
    assert!(probe.starts_with("HTTP/1.1 200"), "{probe}");
    let service = "codemode.codemode.svc";
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let token = Some("placeholder-mcp-token");
    let answer = http(&addr, "POST /mcp", service, token, initialize);
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.contains("\"serverInfo\""),
        "{answer}"
    );
    let answer = http(&addr, "POST /mcp", service, None, initialize);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let answer = http(&addr, "POST /mcp", "elsewhere.example", token, initialize);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
}

/// The `HOST:PORT` of the `streamable HTTP on http://HOST:PORT/mcp` line `serve` prints once
/// it listens, within a minute; the other lines are kept for the failure message.
fn listening_address(stderr: impl std::io::Read + Send + 'static) -> String {
    use std::io::BufRead;
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let limit = std::time::Duration::from_secs(60);
    let deadline = std::time::Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.split("streamable HTTP on http://").nth(1) {
                    return rest.trim_end_matches("/mcp").to_string();
                }
                seen.push(line);
            }
            Err(e) => panic!(
                "waited {limit:?} for `codemode serve` to listen ({e}); it said:\n{}",
                seen.join("\n")
            ),
        }
    }
}

/// One HTTP/1.1 exchange on a fresh connection (`request` is `METHOD PATH`), the whole answer
/// read within 30 s.
fn http(addr: &str, request: &str, host: &str, token: Option<&str>, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("the server listens");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{request} HTTP/1.1\r\nhost: {host}\r\n{auth}content-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("an answer within 30 s");
    answer
}
