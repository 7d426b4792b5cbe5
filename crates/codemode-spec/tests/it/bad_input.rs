//! Hostile and broken inputs: each ends in a located error, or in a warning when the spec is
//! still usable, and none panics or hangs. Messages are asserted exactly (paths scrubbed).
//! Refresh with `UPDATE_EXPECT=1 cargo test -p codemode-spec --test it bad_input`, then `cargo fmt`;
//! keep snapshots in the `expect![[r#"…"#]]` form, which survives both.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::scrub;
use codemode_spec::{LoadOptions, load, load_str};
use expect_test::{Expect, expect};

/// Writes `files` into a fresh directory, loads the first one, and describes the outcome:
/// the error, or the warnings of a successful load. Also checks it was quick.
fn outcome_with(files: &[(&str, &[u8])], options: &LoadOptions) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    outcome_in(dir.path(), files[0].0, options)
}

fn outcome_in(dir: &Path, root: &str, options: &LoadOptions) -> String {
    let started = Instant::now();
    let result = load(&dir.join(root).to_string_lossy(), options);
    assert_quick(started);
    let text = match result {
        Ok(loaded) => {
            let lines: Vec<String> = loaded
                .spec
                .warnings
                .iter()
                .map(|w| format!("warning: {w}"))
                .collect();
            format!(
                "ok, {} operations\n{}",
                loaded.spec.operations.len(),
                lines.join("\n")
            )
        }
        Err(e) => format!("error: {e}"),
    };
    scrub(&text, dir).trim_end().to_string()
}

fn outcome(files: &[(&str, &[u8])]) -> String {
    outcome_with(files, &LoadOptions::default())
}

fn assert_quick(started: Instant) {
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

fn check(files: &[(&str, &[u8])], expected: Expect) {
    expected.assert_eq(&outcome(files));
}

/// A minimal valid 3.0 spec with one operation whose body is `extra` (YAML, indented 8).
fn spec_with_schema(schema_yaml: &str) -> String {
    format!(
        "openapi: 3.0.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /x:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n{schema_yaml}"
    )
}

#[test]
fn truncated_json() {
    check(
        &[("spec.json", br#"{"openapi": "3.0.0", "info": {"title": "#)],
        expect![[r#"error: <dir>/spec.json:1:39: invalid JSON: EOF while parsing a value"#]],
    );
}

#[test]
fn invalid_yaml() {
    check(
        &[(
            "spec.yaml",
            b"openapi: 3.0.0\ninfo:\n  title: [unclosed\n  version: 1\npaths: {}\n",
        )],
        expect![[
            r#"error: <dir>/spec.yaml:4:10: invalid YAML: did not find expected ',' or ']' at line 4 column 10, while parsing a flow sequence at line 3 column 10"#
        ]],
    );
}

#[test]
fn yaml_alias_bomb_is_refused_quickly() {
    let bomb = "openapi: 3.0.0\n\
        a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n\
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n\
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n\
        f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
        g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n\
        h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n\
        i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    check(
        &[("bomb.yaml", bomb.as_bytes())],
        expect![[
            r#"error: <dir>/bomb.yaml: invalid YAML: aliases expand too far (repetition limit exceeded)"#
        ]],
    );
}

#[test]
fn yaml_wide_alias_expansion_is_refused_quickly() {
    // Not nested: one big anchor aliased many times (quadratic rather than exponential).
    let items: Vec<String> = (0..500).map(|i| format!("v{i}")).collect();
    let mut text = format!("openapi: 3.0.0\nbig: &big [{}]\nmany:\n", items.join(", "));
    for _ in 0..2_000 {
        text.push_str("  - *big\n");
    }
    check(
        &[("wide.yaml", text.as_bytes())],
        expect![[
            r#"error: <dir>/wide.yaml:2:1792: invalid YAML: many[365][315]: the document expands to too many values (YAML alias bomb?)"#
        ]],
    );
}

#[test]
fn yaml_anchors_used_sensibly_are_fine() {
    let text = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: &op\n      responses: {'204': {description: none}}\n  /b:\n    get: *op\n";
    check(
        &[("anchors.yaml", text.as_bytes())],
        expect![[r#"ok, 2 operations"#]],
    );
}

#[test]
fn ref_to_missing_target_is_a_warning() {
    let text = spec_with_schema("                $ref: '#/components/schemas/Nope'\n");
    check(
        &[("spec.yaml", text.as_bytes())],
        expect![[r##"
        ok, 1 operations
        warning: <dir>/spec.yaml#/paths/~1x/get/responses/200/content/application~1json/schema: $ref "#/components/schemas/Nope": the target does not exist"##]],
    );
}

#[test]
fn ref_to_missing_file_is_a_warning() {
    let text = spec_with_schema("                $ref: 'models/absent.yaml'\n");
    check(
        &[("spec.yaml", text.as_bytes())],
        expect![[r#"
        ok, 1 operations
        warning: <dir>/spec.yaml#/paths/~1x/get/responses/200/content/application~1json/schema: $ref "models/absent.yaml": cannot read <dir>/models/absent.yaml: No such file or directory (os error 2)"#]],
    );
}

#[test]
fn ref_cycle_through_parameters_is_a_warning() {
    let text = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      parameters:\n        - $ref: '#/components/parameters/A'\n        - {name: ok, in: query}\n      responses: {'204': {description: none}}\ncomponents:\n  parameters:\n    A: {$ref: '#/components/parameters/B'}\n    B: {$ref: '#/components/parameters/A'}\n";
    check(
        &[("spec.yaml", text.as_bytes())],
        expect![[r#"
        ok, 1 operations
        warning: <dir>/spec.yaml#/components/parameters/A: reference cycle"#]],
    );
}

#[test]
fn ref_escaping_the_directory_is_refused() {
    let text = spec_with_schema("                $ref: '../../etc/passwd'\n");
    check(
        &[("spec.yaml", text.as_bytes())],
        expect![[
            r#"error: <dir>/spec.yaml#/paths/~1x/get/responses/200/content/application~1json/schema: $ref "../../etc/passwd": refused: the reference escapes the spec's directory <dir>"#
        ]],
    );
}

#[test]
fn absolute_path_ref_is_refused() {
    let text = spec_with_schema("                $ref: '/etc/passwd#/x'\n");
    check(
        &[("spec.yaml", text.as_bytes())],
        expect![[
            r#"error: <dir>/spec.yaml#/paths/~1x/get/responses/200/content/application~1json/schema: $ref "/etc/passwd#/x": refused: the reference escapes the spec's directory <dir>"#
        ]],
    );
}

#[cfg(unix)]
#[test]
fn symlink_out_of_the_directory_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.yaml"), "Pet: {type: object}\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = spec_with_schema("                $ref: 'link.yaml#/Pet'\n");
    std::fs::write(dir.path().join("spec.yaml"), text).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml"),
        dir.path().join("link.yaml"),
    )
    .unwrap();
    let got = outcome_in(dir.path(), "spec.yaml", &LoadOptions::default());
    expect![[r#"error: <dir>/spec.yaml#/paths/~1x/get/responses/200/content/application~1json/schema: $ref "link.yaml#/Pet": refused: the reference escapes the spec's directory <dir>"#]].assert_eq(&scrub(&got, outside.path()));
}

#[cfg(unix)]
#[test]
fn fifo_ref_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let made = codemode_test_support::output_within(
        std::process::Command::new("mkfifo").arg(dir.path().join("pipe.yaml")),
        None,
        Duration::from_secs(30),
    );
    assert!(made.status.success());
    let text = spec_with_schema("                $ref: 'pipe.yaml#/Pet'\n");
    std::fs::write(dir.path().join("spec.yaml"), text).unwrap();
    expect![[r#"error: <dir>/spec.yaml#/paths/~1x/get/responses/200/content/application~1json/schema: $ref "pipe.yaml#/Pet": refused: the reference does not name a regular file"#]].assert_eq(&outcome_in(dir.path(), "spec.yaml", &LoadOptions::default()));
}

#[test]
fn remote_ref_is_refused_by_default() {
    let text = spec_with_schema("                $ref: 'https://example.com/schemas.yaml#/Pet'\n");
    check(
        &[("spec.yaml", text.as_bytes())],
        expect![[
            r#"error: <dir>/spec.yaml#/paths/~1x/get/responses/200/content/application~1json/schema: $ref "https://example.com/schemas.yaml#/Pet": refused: remote references are off (allow them with --allow-remote-refs)"#
        ]],
    );
}

#[test]
fn file_scheme_ref_is_refused() {
    let text = spec_with_schema("                $ref: 'file:///etc/passwd'\n");
    check(
        &[("spec.yaml", text.as_bytes())],
        expect![[
            r#"error: <dir>/spec.yaml#/paths/~1x/get/responses/200/content/application~1json/schema: $ref "file:///etc/passwd": refused: only http(s) references are allowed"#
        ]],
    );
}

#[test]
fn other_scheme_ref_is_refused_even_with_remote_refs_allowed() {
    let text = spec_with_schema("                $ref: 'ftp://example.com/x.yaml'\n");
    let options = LoadOptions {
        allow_remote_refs: true,
        ..LoadOptions::default()
    };
    expect![[r#"error: <dir>/spec.yaml#/paths/~1x/get/responses/200/content/application~1json/schema: $ref "ftp://example.com/x.yaml": refused: only http(s) references are allowed"#]].assert_eq(&outcome_with(&[("spec.yaml", text.as_bytes())], &options));
}

#[test]
fn huge_file_is_refused_by_size_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    // Sparse: 200 MB on paper, nothing on disk.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(200 * 1024 * 1024).unwrap();
    let started = Instant::now();
    let result = load(&path.to_string_lossy(), &LoadOptions::default());
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let message = scrub(&result.err().map(|e| e.to_string()).unwrap(), dir.path());
    expect![[r#"<dir>/huge.json is larger than the limit of 104857600 bytes"#]].assert_eq(&message);
}

#[test]
fn gzip_bomb_is_cut_at_the_size_limit() {
    // Many gzip members, each 1 MiB of zeros: 256 MiB inflated from a few hundred KB.
    let mut member = Vec::new();
    {
        let mut encoder = flate2::write::GzEncoder::new(&mut member, flate2::Compression::best());
        encoder.write_all(&vec![0u8; 1024 * 1024]).unwrap();
        encoder.finish().unwrap();
    }
    let bomb = member.repeat(256);
    let options = LoadOptions {
        max_bytes: 8 * 1024 * 1024,
        ..LoadOptions::default()
    };
    expect![[r#"error: <dir>/bomb.json.gz is larger than the limit of 8388608 bytes"#]]
        .assert_eq(&outcome_with(&[("bomb.json.gz", &bomb)], &options));
}

#[test]
fn archives_of_a_multi_file_spec_say_to_extract_them() {
    let document = b"openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n";
    let mut archive = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(document.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    archive
        .append_data(&mut header, "spec/openapi.yaml", &document[..])
        .unwrap();
    let tarball = archive.into_inner().unwrap();
    let mut gzipped = Vec::new();
    {
        let mut encoder = flate2::write::GzEncoder::new(&mut gzipped, flate2::Compression::fast());
        encoder.write_all(&tarball).unwrap();
        encoder.finish().unwrap();
    }
    check(
        &[("spec.tar.gz", &gzipped)],
        expect![[
            r#"error: <dir>/spec.tar.gz: this is a tar archive, not a spec document: extract it and pass its root document (the file with `openapi:` or `swagger:` at the top); files it references are read from beside it"#
        ]],
    );
    check(
        &[("spec.zip", b"PK\x03\x04\x14\x00\x00\x00rest of a zip")],
        expect![[
            r#"error: <dir>/spec.zip: this is a zip archive, not a spec document: extract it and pass its root document (the file with `openapi:` or `swagger:` at the top); files it references are read from beside it"#
        ]],
    );
}

#[test]
fn spec_without_paths_is_a_warning() {
    check(
        &[(
            "spec.yaml",
            b"openapi: 3.1.0\ninfo: {title: t, version: '1'}\n",
        )],
        expect![[r#"
            ok, 0 operations
            warning: <dir>/spec.yaml#/paths: the spec declares no operations"#]],
    );
}

#[test]
fn duplicate_operation_ids_are_named_apart() {
    let text = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: {operationId: list, responses: {'204': {description: none}}}\n  /b:\n    get: {operationId: list, responses: {'204': {description: none}}}\n";
    check(
        &[("spec.yaml", text.as_bytes())],
        expect![[r#"
        ok, 2 operations
        warning: <dir>/spec.yaml#/paths/~1b/get: duplicate operationId "list" (also on GET /a); named apart"#]],
    );
    let spec = load_str("spec.yaml", text).unwrap();
    let names: Vec<&str> = spec.operations.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["list", "list2"]);
    assert_eq!(spec.find("list").map(|o| o.path.as_str()), Some("/a"));
    assert_eq!(spec.find("list2").map(|o| o.path.as_str()), Some("/b"));
    assert_eq!(spec.find("GET /b").map(|o| o.name.as_str()), Some("list2"));
}

#[test]
fn non_utf8_bytes_are_located() {
    check(
        &[("spec.yaml", b"openapi: 3.0.0\ninfo:\n  title: caf\xe9\n")],
        expect![[r#"error: <dir>/spec.yaml:3:13: the file is not valid UTF-8"#]],
    );
}

#[test]
fn openapi_4_is_unsupported() {
    check(
        &[(
            "spec.yaml",
            b"openapi: 4.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
        )],
        expect![[
            r#"error: <dir>/spec.yaml: unsupported spec version "4.0" (supported: OpenAPI 3.0.x, 3.1.x and Swagger 2.0)"#
        ]],
    );
}

#[test]
fn swagger_1_2_is_unsupported() {
    check(
        &[("spec.json", br#"{"swagger": "1.2", "apis": []}"#)],
        expect![[
            r#"error: <dir>/spec.json: unsupported spec version "1.2" (supported: OpenAPI 3.0.x, 3.1.x and Swagger 2.0)"#
        ]],
    );
}

#[test]
fn not_an_openapi_document() {
    check(
        &[("spec.json", b"[1, 2, 3]")],
        expect![[r#"error: <dir>/spec.json: the document is not an object"#]],
    );
    check(
        &[("spec.yaml", b"hello: world\n")],
        expect![[
            r#"error: <dir>/spec.yaml: not an OpenAPI document: no `openapi` or `swagger` field at the top level"#
        ]],
    );
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    check(
        &[("deep.json", deep.as_bytes())],
        expect![[r#"error: <dir>/deep.json:1:128: invalid JSON: recursion limit exceeded"#]],
    );
    let deep_yaml = format!(
        "openapi: 3.0.0\nx: {}{}\n",
        "[".repeat(1_000),
        "]".repeat(1_000)
    );
    check(
        &[("deep.yaml", deep_yaml.as_bytes())],
        expect![[r#"error: <dir>/deep.yaml:2:131: invalid YAML: recursion limit exceeded"#]],
    );
}

#[test]
fn self_splicing_properties_are_cut() {
    // `properties` behind a $ref whose target contains the same splice: must not loop or explode.
    let text = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A:\n      type: object\n      properties: {$ref: '#/components/x-props'}\n  x-props:\n    left: {type: object, properties: {$ref: '#/components/x-props'}}\n    right: {type: object, properties: {$ref: '#/components/x-props'}}\n";
    check(
        &[("spec.yaml", text.as_bytes())],
        expect![[r##"
        ok, 0 operations
        warning: <dir>/spec.yaml#/components/schemas/A: $ref "#/components/x-props": the properties map includes itself; cut
        warning: <dir>/spec.yaml#/components/schemas/A: $ref "#/components/x-props": the properties map includes itself; cut
        warning: <dir>/spec.yaml#/paths: the spec declares no operations"##]],
    );
}

#[test]
fn load_str_cannot_reference_files() {
    let text = spec_with_schema("                $ref: 'other.yaml#/Pet'\n");
    let got = load_str("inline.yaml", &text)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    expect![[r#"inline.yaml#/paths/~1x/get/responses/200/content/application~1json/schema: $ref "other.yaml#/Pet": refused: a spec given as text cannot reference files"#]].assert_eq(&got);
}
