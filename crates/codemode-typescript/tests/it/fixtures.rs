//! Small hand-written specs: schema cycles, hostile text, every schema feature, the budget.
//! Each output is pinned (`UPDATE_EXPECT=1` rewrites) and type-checked with tsc.

use crate::support;
use codemode_typescript::{
    DeclareOptions, Declarer, GLOBALS, count_tokens, declare_all, declare_operation_signature,
    declare_operations,
};
use expect_test::{expect, expect_file};

fn compiles(label: &str, declarations: &str) {
    let errors = support::tsc_errors(label, declarations);
    assert!(errors.is_empty(), "{errors}");
}

const CYCLES: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "cycles", "version": "1"},
  "paths": {
    "/nodes/{id}": {
      "get": {
        "operationId": "getNode",
        "summary": "Get a node.",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}}
      }
    },
    "/exprs": {
      "post": {
        "operationId": "evaluate",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Expr"}}}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Json"}}}}}
      }
    }
  },
  "components": {"schemas": {
    "Node": {"type": "object", "required": ["id"], "properties": {
      "id": {"type": "string"},
      "parent": {"$ref": "#/components/schemas/Node"},
      "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
      "owner": {"$ref": "#/components/schemas/Owner"}
    }},
    "Owner": {"type": "object", "properties": {"nodes": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}},
    "Expr": {"oneOf": [{"$ref": "#/components/schemas/Sum"}, {"type": "number"}]},
    "Sum": {"anyOf": [{"$ref": "#/components/schemas/Expr"}, {"type": "array", "items": {"$ref": "#/components/schemas/Expr"}}]},
    "Json": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"},
      {"type": "array", "items": {"$ref": "#/components/schemas/Json"}},
      {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Json"}}]}
  }}
}"##;

#[test]
fn schema_cycles_end_in_type_names() {
    let spec = support::fixture("cycles.json", CYCLES);
    let ops: Vec<_> = spec.operations.iter().collect();
    let declarations = declare_operations(&spec, &ops, &DeclareOptions::default());
    expect_file!["../snapshots/fixture_cycles.ts"].assert_eq(&declarations.text);
    assert_eq!(declarations.text.matches("interface Node_ ").count(), 1);
    compiles("cycles", &declarations.text);
}

/// Descriptions, names, enum values and paths that try to break out of comments and literals.
const HOSTILE: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "hostile", "version": "1"},
  "paths": {
    "/x/{id}/*/ declare const pwned: 1; /*": {
      "post": {
        "operationId": "hostile op */ foo(): void; /*",
        "summary": "Ends */ the comment\u2028 and\u2029 lines \n declare const a: 1; /* `back${ticks}`",
        "description": "*/ } interface Api { evil(): void } /* \r\n \u0000 \u001b[31m \u202e reversed \ufeff",
        "deprecated": true,
        "parameters": [
          {"name": "id", "in": "path", "required": true, "description": "*/ oops /*", "schema": {"type": "string", "default": "*/ x /*"}},
          {"name": "body", "in": "query", "schema": {"type": "string"}},
          {"name": "X-Header\"*/", "in": "header", "schema": {"type": "string", "enum": ["a\"b", "c\\d", "e\nf", "g\u2028h", "*/", "${x}", "`"]}},
          {"name": "id", "in": "header", "schema": {"type": "integer", "format": "int64 */ evil"}}
        ],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Evil*~1Name"}}}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/interface"}}}}}
      }
    }
  },
  "components": {"schemas": {
    "Evil*/Name": {"type": "object", "description": "Type */ declare let y: 2; /*", "required": ["a b", "*/"], "properties": {
      "a b": {"type": "string", "description": "prop */ desc"},
      "*/": {"const": "*/\"'`"},
      "constructor": {"type": "number"},
      "__proto__": {"type": "boolean"},
      "1st": {"type": "string", "format": "date-time */", "default": "\u2028"},
      "\u2028": {"type": "string"},
      "": {"type": "string"}
    }},
    "interface": {"type": "object", "properties": {"Error": {"$ref": "#/components/schemas/Error"}, "Response": {"$ref": "#/components/schemas/Response"}}},
    "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
    "Response": {"type": "object", "properties": {"status": {"type": "number"}}}
  }}
}"##;

#[test]
fn hostile_text_cannot_break_out() {
    let spec = support::fixture("hostile.json", HOSTILE);
    let ops: Vec<_> = spec.operations.iter().collect();
    let declarations = declare_operations(&spec, &ops, &DeclareOptions::default());
    let text = &declarations.text;
    expect_file!["../snapshots/fixture_hostile.ts"].assert_eq(text);
    for forbidden in [
        '\u{2028}', '\u{2029}', '\u{0}', '\u{1b}', '\u{202e}', '\u{feff}', '\r',
    ] {
        assert!(
            !text.contains(forbidden),
            "{forbidden:?} leaked into the output"
        );
    }
    // Nothing the spec says declares anything: these would clash with `pwned`, `a` or `y` had
    // the text escaped, and `Api` must have exactly the one member.
    let probe = "declare const pwned: string; declare const a: string; declare const y: string;\n\
        const onlyMember: [Exclude<keyof Api, \"hostileOpFooVoid\" | \"request\" | \"paginate\">] extends [never] ? true : false = true;\n";
    compiles("hostile", &format!("{text}{probe}"));
    // The same with descriptions off, and everything.
    let lean = DeclareOptions {
        include_descriptions: false,
        ..DeclareOptions::default()
    };
    compiles("hostile-lean", &declare_operations(&spec, &ops, &lean).text);
    compiles("hostile-all", &declare_all(&spec));
}

const FEATURES: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "features", "version": "1"},
  "paths": {
    "/things": {
      "post": {
        "operationId": "createThing",
        "summary": "Create a thing",
        "description": "Creates a thing. Long details follow that nobody needs to read in a declaration.",
        "parameters": [
          {"name": "dry_run", "in": "query", "description": "Validate only, without saving anything anywhere.", "schema": {"type": "boolean", "default": false}},
          {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}}
        ],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
        "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
      },
      "get": {
        "operationId": "listThings",
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Shape"}}}}}}
      }
    },
    "/things/{id}": {
      "delete": {
        "operationId": "deleteThing",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}}],
        "responses": {"204": {"description": "gone"}}
      }
    },
    "/things/{id}/raw": {
      "get": {
        "operationId": "downloadThing",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "bytes", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
      },
      "put": {
        "operationId": "uploadThing",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
        "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {"200": {"description": "text", "content": {"text/plain": {"schema": {"type": "string"}}}}}
      }
    }
  },
  "components": {"schemas": {
    "Thing": {"type": "object", "required": ["id", "name", "password"], "properties": {
      "id": {"type": "integer", "format": "int64", "readOnly": true},
      "password": {"type": "string", "writeOnly": true},
      "name": {"type": ["string", "null"], "description": "Display name."},
      "kind": {"enum": ["a", "b", 3, true, null]},
      "version": {"const": 2},
      "created": {"type": "string", "format": "date-time", "readOnly": true},
      "point": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}], "minItems": 2, "items": false},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}},
      "extra": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
      "open": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": true},
      "shape": {"$ref": "#/components/schemas/Shape"},
      "tags": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
      "retries": {"type": "integer", "default": 3, "deprecated": true},
      "anything": {},
      "nothing": false
    }},
    "Shape": {"oneOf": [{"$ref": "#/components/schemas/Circle"}, {"$ref": "#/components/schemas/Square"}],
      "discriminator": {"propertyName": "kind", "mapping": {"circle": "#/components/schemas/Circle", "square": "#/components/schemas/Square"}}},
    "Base": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
    "Circle": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object", "properties": {"radius": {"type": "number"}}}]},
    "Square": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object", "properties": {"side": {"type": "number"}}}]}
  }}
}"##;

#[test]
fn schema_features() {
    let spec = support::fixture("features.json", FEATURES);
    let ops: Vec<_> = spec.operations.iter().collect();
    let declarations = declare_operations(&spec, &ops, &DeclareOptions::default());
    expect_file!["../snapshots/fixture_features.ts"].assert_eq(&declarations.text);
    compiles("features", &declarations.text);
}

#[test]
fn one_signature_alone() {
    let spec = support::fixture("features.json", FEATURES);
    let op = spec.find("createThing").expect("createThing");
    let signature = declare_operation_signature(&spec, op, &DeclareOptions::default());
    expect![[r#"
        /** Create a thing. Creates a thing. Long details follow that nobody needs to read in a declaration.
         * @param args.dry_run Validate only, without saving anything anywhere. Default: false.
         * @param args.since Format: date-time.
         * POST /things */
        createThing(args: { dry_run?: boolean; since?: string; body: Omit<Thing, "id" | "created"> }): Promise<Omit<Thing, "password">>;
    "#]]
    .assert_eq(&signature);
    // A Declarer (type names built once) answers exactly as the free functions do.
    let declarer = Declarer::new(&spec);
    assert_eq!(
        declarer.declare_operation_signature(op, &DeclareOptions::default()),
        signature
    );
    let ops: Vec<_> = spec.operations.iter().collect();
    assert_eq!(
        declarer.declare_operations(&ops, &DeclareOptions::default()),
        declare_operations(&spec, &ops, &DeclareOptions::default())
    );
}

#[test]
fn budget_trims_in_the_documented_order() {
    let spec = support::fixture("features.json", FEATURES);
    let ops: Vec<_> = spec.operations.iter().collect();
    let full = declare_operations(&spec, &ops, &DeclareOptions::default());
    assert!(full.trimmed.is_empty(), "{:?}", full.trimmed);
    assert_eq!(full.tokens, count_tokens(&full.text));
    let mut previous = full.tokens;
    let mut notes_seen = 0;
    let mut compiled_lean = false;
    for budget in (50..full.tokens).rev().step_by(25) {
        let options = DeclareOptions {
            token_budget: Some(budget),
            ..DeclareOptions::default()
        };
        let d = declare_operations(&spec, &ops, &options);
        assert!(
            d.tokens <= previous,
            "budget {budget}: grew to {}",
            d.tokens
        );
        previous = d.tokens;
        assert!(!d.trimmed.is_empty(), "budget {budget}: nothing noted");
        notes_seen = notes_seen.max(d.trimmed.len());
        if d.operations.len() == ops.len() {
            assert!(d.tokens <= budget, "budget {budget}: {} tokens", d.tokens);
            assert_eq!(d.trimmed[0], "long descriptions shortened");
        }
        if d.operations.len() < ops.len() && !compiled_lean {
            // The leanest form (depth 0, operations dropped) must still be valid TypeScript.
            compiles(&format!("budget-{budget}"), &d.text);
            compiled_lean = true;
        }
    }
    assert!(notes_seen >= 3);
    assert!(
        compiled_lean,
        "no budget was small enough to drop operations"
    );
}

#[test]
fn globals_block_is_small_and_valid() {
    let tokens = count_tokens(GLOBALS);
    // The file shapes (`FILE_TYPES`, ≈120 tokens) come only with operations that move bytes.
    assert!((150..=330).contains(&tokens), "GLOBALS is {tokens} tokens");
    compiles("globals", "");
    // A script using every global type-checks against them.
    let script = r#"interface Api { getThing(args: { id: number }): Promise<{ name: string }>; ping(): Promise<null> }
async function main(): Promise<string> {
  const thing = await api.getThing({ id: 1 });
  const raw = await api.getThing({ id: 2 }, { throwOnError: false });
  if (raw.status === 404) console.warn("missing", raw.body);
  await api.ping();
  const all = await api.paginate("getThing", { id: 1 }, { maxItems: 10 });
  const any = await api.request({ method: "GET", path: "/x", query: { a: 1 } });
  try { await api.getThing({ id: 3 }); } catch (e) { if (e instanceof ApiError) console.error(e.status, e.retryAfter); }
  await sleep(10);
  console.log(all.length, any);
  return thing.name;
}
main();
"#;
    compiles("globals-script", script);
}
