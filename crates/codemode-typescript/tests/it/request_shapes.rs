//! What request declarations promise matches what the upstream client does: the file shapes of
//! `Binary`, readOnly properties never required of a request, `required` lists next to `allOf`,
//! and PATCH bodies that go as merge patch (objects) or JSON Patch (arrays).

use crate::support;
use codemode_typescript::{DeclareOptions, declare_operations};

fn compiles(label: &str, declarations: &str) {
    let errors = support::tsc_errors(label, declarations);
    assert!(errors.is_empty(), "{errors}");
}

fn declare(name: &str, text: &str) -> String {
    let spec = support::fixture(name, text);
    let ops: Vec<_> = spec.operations.iter().collect();
    let options = DeclareOptions {
        max_depth: usize::MAX,
        ..DeclareOptions::default()
    };
    declare_operations(&spec, &ops, &options).text
}

const FILES: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "files", "version": "1"},
  "paths": {
    "/files": {"post": {
      "operationId": "createFile",
      "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}, "purpose": {"type": "string"}}}}}},
      "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}
    }},
    "/files/{id}/content": {"get": {
      "operationId": "downloadFile",
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "ok", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
    }}
  }
}"##;

#[test]
fn binary_declares_the_file_shapes_the_client_accepts() {
    assert!(declare("files-only", FILES).contains(codemode_typescript::FILE_TYPES));
    let text = declare("files.json", FILES);
    assert!(text.contains("file: string | Binary;"), "{text}");
    assert!(
        text.contains("downloadFile(args: { id: string }): Promise<BinaryResponse>;"),
        "{text}"
    );
    // Every shape `codemode-upstream` takes type-checks; the old `{ contentType, base64 }`
    // without base64's alias and a bare object do not.
    let script = r#"
async function main(): Promise<void> {
  await api.createFile({ body: { file: { data: '{"a":1}\n', filename: "train.jsonl", contentType: "application/jsonl" }, purpose: "fine-tune" } });
  await api.createFile({ body: { file: { data: btoa("hi"), encoding: "base64" } } });
  await api.createFile({ body: { file: { base64: btoa("hi"), contentType: "text/plain" } } });
  await api.createFile({ body: { file: "plain text" } });
  const downloaded = await api.downloadFile({ id: "f1" });
  if (downloaded.base64 !== undefined) {
    await api.createFile({ body: { file: { base64: downloaded.base64, contentType: downloaded.contentType } } });
  }
}
main();
"#;
    compiles("binary-shapes", &format!("{text}{script}"));
    let wrong = r#"
api.createFile({ body: { file: { content: "x", type: "application/jsonl" } } });
"#;
    let errors = support::tsc_errors("binary-wrong", &format!("{text}{wrong}"));
    assert!(
        !errors.is_empty(),
        "an object without data or base64 is not a Binary"
    );
}

/// Cloudflare's DNS record, cut down: each record type requires `type`, `name` and `content`
/// beside an `allOf`; the union above it requires server-set properties too.
const RECORDS: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "records", "version": "1"},
  "paths": {
    "/zones/{zone_id}/dns_records": {"post": {
      "operationId": "createDnsRecord",
      "parameters": [{"name": "zone_id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Record"}}}},
      "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Record"}}}}}
    }}
  },
  "components": {"schemas": {
    "Record": {"type": "object", "required": ["id", "type", "name", "content", "created_on"],
      "oneOf": [{"$ref": "#/components/schemas/ARecord"}, {"$ref": "#/components/schemas/TXTRecord"}]},
    "ARecord": {"allOf": [
        {"properties": {"content": {"type": "string", "format": "ipv4"}, "name": {"type": "string"}, "type": {"enum": ["A"]},
          "created_on": {"type": "string", "readOnly": true}}},
        {"$ref": "#/components/schemas/Base"}],
      "required": ["type", "name", "content", "created_on"]},
    "TXTRecord": {"allOf": [
        {"properties": {"content": {"type": "string"}, "name": {"type": "string"}, "type": {"enum": ["TXT"]}}},
        {"$ref": "#/components/schemas/Base"}],
      "required": ["type", "name", "content"]},
    "Base": {"type": "object", "required": ["id"], "properties": {
      "id": {"type": "string", "readOnly": true},
      "ttl": {"type": "number"},
      "proxiable": {"type": "boolean", "readOnly": true}}}
  }}
}"##;

#[test]
fn required_beside_all_of_holds_and_read_only_is_never_required_of_a_request() {
    let text = declare("records.json", RECORDS);
    // `required` next to `allOf` reaches the member that declares the properties; a readOnly
    // one among them stays optional, since the declaration also types the request body.
    assert!(
        text.contains(
            "  content: string;\n  name: string;\n  type: \"A\";\n  readonly created_on?: string;\n} & Base;"
        ),
        "{text}"
    );
    assert!(
        text.contains("type TXTRecord = { content: string; name: string; type: \"TXT\" } & Base;"),
        "{text}"
    );
    // Server-set, so optional even where the schema requires it (responses share the type).
    assert!(text.contains("  readonly id?: string;\n"), "{text}");
    compiles("records", &text);
    // A request body without any server-set property type-checks.
    let script = r#"
api.createDnsRecord({ zone_id: "z", body: { type: "A", name: "www.example.com", content: "198.51.100.4", ttl: 3600 } });
"#;
    compiles("records-request", &format!("{text}{script}"));
    let missing = r#"
api.createDnsRecord({ zone_id: "z", body: { type: "A", name: "www.example.com" } });
"#;
    assert!(
        !support::tsc_errors("records-missing", &format!("{text}{missing}")).is_empty(),
        "content is required of an A record"
    );
}

const PATCH: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "patch", "version": "1"},
  "paths": {
    "/deployments/{name}/scale": {"patch": {
      "operationId": "patchScale",
      "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
      "requestBody": {"required": true, "content": {
        "application/json-patch+json": {"schema": {"$ref": "#/components/schemas/Patch"}},
        "application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/Patch"}},
        "application/strategic-merge-patch+json": {"schema": {"$ref": "#/components/schemas/Patch"}}}},
      "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}
    }}
  },
  "components": {"schemas": {"Patch": {"type": "object", "description": "A patch."}}}
}"##;

#[test]
fn patch_bodies_declare_the_object_and_the_json_patch_shapes() {
    let text = declare("patch.json", PATCH);
    assert!(
        text.contains("@param args.body an object is sent as application/merge-patch+json, an array as application/json-patch+json"),
        "{text}"
    );
    assert!(
        text.contains("body: Patch | { op: \"add\" | \"remove\" | \"replace\" | \"move\" | \"copy\" | \"test\"; path: string; value?: unknown; from?: string }[]"),
        "{text}"
    );
    let script = r#"
api.patchScale({ name: "web", body: { spec: { replicas: 3 } } });
api.patchScale({ name: "web", body: [{ op: "replace", path: "/spec/replicas", value: 3 }] });
"#;
    compiles("patch", &format!("{text}{script}"));
}

#[test]
fn an_optional_body_that_can_carry_nothing_is_not_declared() {
    // Stripe puts an empty, optional form body on every GET.
    let text = declare(
        "empty-body",
        r##"{
  "openapi": "3.0.0",
  "info": {"title": "t", "version": "1"},
  "paths": {"/customers": {
    "get": {"operationId": "listCustomers",
      "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
      "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {}, "additionalProperties": false}}}},
      "responses": {"200": {"description": "ok"}}},
    "post": {"operationId": "createCustomer",
      "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {"email": {"type": "string"}}}}}},
      "responses": {"200": {"description": "ok"}}}
  }}
}"##,
    );
    let list = text
        .lines()
        .find(|line| line.contains("listCustomers("))
        .unwrap_or_default();
    assert!(list.contains("limit?: number"), "{text}");
    assert!(!list.contains("body"), "{text}");
    let create = text
        .lines()
        .find(|line| line.contains("createCustomer("))
        .unwrap_or_default();
    assert!(create.contains("body?: {"), "{text}");
    // No bytes move here: the file shapes are not declared.
    assert!(!text.contains("type Binary"), "{text}");
}

#[test]
fn a_literal_beside_its_own_primitive_folds_into_it() {
    // Cloudflare's TTL: "seconds, or 1 for automatic".
    let text = declare(
        "ttl",
        r##"{
  "openapi": "3.0.0",
  "info": {"title": "t", "version": "1"},
  "paths": {"/records": {"get": {"operationId": "listRecords",
    "parameters": [
      {"name": "ttl", "in": "query", "schema": {"type": "number", "anyOf": [{"type": "number", "minimum": 30}, {"type": "number", "enum": [1]}]}},
      {"name": "mode", "in": "query", "schema": {"anyOf": [{"type": "string"}, {"type": "string", "enum": ["auto"]}]}},
      {"name": "level", "in": "query", "schema": {"anyOf": [{"type": "number", "enum": [1, 2]}, {"type": "string", "enum": ["max"]}]}}
    ],
    "responses": {"200": {"description": "ok"}}}}}
}"##,
    );
    assert!(text.contains("ttl?: number;"), "{text}");
    assert!(text.contains("mode?: string;"), "{text}");
    // Literals without their primitive stay.
    assert!(text.contains(r#"level?: 1 | 2 | "max""#), "{text}");
}
