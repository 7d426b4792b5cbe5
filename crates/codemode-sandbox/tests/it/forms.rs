//! Code forms a model writes, TypeScript stripping, result conversion, and error locations.

use crate::common::*;
use codemode_sandbox::{RunErrorKind, strip_typescript};
use serde_json::json;

#[test]
fn accepts_every_code_form() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    assert_eq!(ok(&rt, &sb, "async () => { return 7 }"), json!(7));
    assert_eq!(
        ok(
            &rt,
            &sb,
            "async () => {\n  const x = await echo(3);\n  return x * 2;\n}"
        ),
        json!(6)
    );
    assert_eq!(ok(&rt, &sb, "const a = 1;\nreturn a + 1;"), json!(2));
    assert_eq!(ok(&rt, &sb, "const a = 20;\na + 22"), json!(42));
    assert_eq!(
        ok(&rt, &sb, "const r = await echo('hi');\nr + '!'"),
        json!("hi!")
    );
    assert_eq!(
        ok(&rt, &sb, "export default async () => ({ ok: true })"),
        json!({"ok": true})
    );
    assert_eq!(
        ok(&rt, &sb, "const v = 5;\nexport default v * 2;"),
        json!(10)
    );
    assert_eq!(
        ok(&rt, &sb, "```js\nasync () => 'fenced'\n```"),
        json!("fenced")
    );
    assert_eq!(
        ok(
            &rt,
            &sb,
            "Sure:\n```ts\nconst n: number = 4;\nreturn n;\n```\n"
        ),
        json!(4)
    );
    assert_eq!(
        ok(&rt, &sb, "async function main() { return 'named' }\nmain"),
        json!("named")
    );
    assert_eq!(ok(&rt, &sb, "() => 'sync arrow'"), json!("sync arrow"));
    assert_eq!(ok(&rt, &sb, ""), json!(null));
}

#[test]
fn accepts_typescript() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let code = "interface Pet { name: string; age?: number }\n\
                const pets: Pet[] = [{ name: 'a' }, { name: 'b', age: 2 }];\n\
                const names = pets.map((p: Pet): string => p.name as string);\n\
                async (): Promise<string[]> => names";
    assert_eq!(ok(&rt, &sb, code), json!(["a", "b"]));
    assert_eq!(
        ok(
            &rt,
            &sb,
            "type T = { x: number };\nconst t: T = { x: 1 };\nreturn t.x!;"
        ),
        json!(1)
    );
    let js = strip_typescript("let x: number = 1; x").expect("strips");
    assert!(!js.contains("number"), "{js}");
}

#[test]
fn typescript_syntax_error_has_line_and_column() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let error = err(&rt, &sb, "const a: number = 1;\nconst b: string = ;\n");
    assert_eq!(error.kind, RunErrorKind::Syntax, "{error:?}");
    assert_eq!(error.line, Some(2), "{error:?}");
    assert!(error.col.is_some());
    assert!(error.to_string().starts_with("line 2:"), "{error}");
}

#[test]
fn javascript_syntax_error_has_line_and_column() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let error = err(&rt, &sb, "const a = 1;\nconst b = (a +;\n");
    assert_eq!(error.kind, RunErrorKind::Syntax, "{error:?}");
    assert_eq!(error.line, Some(2), "{error:?}");
}

#[test]
fn runtime_error_points_into_agent_code() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let error = err(
        &rt,
        &sb,
        "const x = {};\n\nfunction f() {\n    x.notAFunction();\n}\nf();",
    );
    assert_eq!(error.kind, RunErrorKind::Exception);
    assert_eq!((error.line, error.col), (Some(4), Some(7)), "{error:?}");
    assert!(error.message.starts_with("TypeError"), "{error:?}");
    let stack = error.stack.clone().unwrap_or_default();
    assert!(stack.contains("at f (line 4:7)"), "{stack}");
    assert!(
        !stack.contains("bootstrap") && !stack.contains(".js"),
        "{stack}"
    );
    assert_eq!(error.to_string(), format!("line 4:7: {}", error.message));
}

#[test]
fn runtime_error_in_function_body_form_maps_columns() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let error = err(&rt, &sb, "null.x; return 1;");
    assert_eq!((error.line, error.col), (Some(1), Some(1)), "{error:?}");
    let error = err(&rt, &sb, "```js\nconst a = 1;\nreturn a.b.c;\n```");
    assert_eq!(error.line, Some(3), "{error:?}");
}

#[test]
fn runtime_error_in_typescript_maps_to_original_line() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let code = "interface A {\n  x: number;\n}\nconst a: A = { x: 1 };\n\nconst b = (a as any).missing.deeper;\nreturn b;";
    let error = err(&rt, &sb, code);
    assert_eq!(error.kind, RunErrorKind::Exception);
    assert_eq!(error.line, Some(6), "{error:?}");
}

#[test]
fn converts_results_to_json() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    assert_eq!(ok(&rt, &sb, "undefined"), json!(null));
    assert_eq!(
        ok(&rt, &sb, "({ a: undefined, b: 1, f() {} })"),
        json!({"b": 1})
    );
    assert_eq!(
        ok(&rt, &sb, "[undefined, NaN, Infinity]"),
        json!([null, null, null])
    );
    assert_eq!(
        ok(&rt, &sb, "12345678901234567890n"),
        json!("12345678901234567890")
    );
    assert_eq!(
        ok(&rt, &sb, "new Date(0)"),
        json!("1970-01-01T00:00:00.000Z")
    );
    assert_eq!(
        ok(&rt, &sb, "new Map([['a', 1], [2, new Set([1, 2])]])"),
        json!({"a": 1, "2": [1, 2]})
    );
    assert_eq!(ok(&rt, &sb, "new Uint8Array([1, 2, 3])"), json!([1, 2, 3]));
    assert_eq!(
        ok(&rt, &sb, "({ toJSON() { return 'custom' } })"),
        json!("custom")
    );
    assert_eq!(ok(&rt, &sb, "({ z: 1, a: 2 })"), json!({"z": 1, "a": 2}));
    let error = err(&rt, &sb, "const a = { b: {} }; a.b.c = a; a");
    assert_eq!(error.kind, RunErrorKind::ResultNotSerializable);
    assert!(
        error.message.contains("cycle detected at result.b.c"),
        "{error:?}"
    );
}

#[test]
fn captures_console_lines_with_levels() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let output = run_with(
        &rt,
        &sb,
        "console.log('a', 1, {b: 2}); console.warn('w'); console.error(new Error('e')); 0",
    )
    .expect("runs");
    let lines: Vec<(&str, &str)> = output
        .logs
        .iter()
        .map(|l| (l.level.as_str(), l.text.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("log", "a 1 {\"b\":2}"),
            ("warn", "w"),
            ("error", "Error: e")
        ]
    );
}

#[test]
fn thrown_non_error_is_reported_clearly() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let error = err(&rt, &sb, "throw 42");
    assert_eq!(error.kind, RunErrorKind::Exception);
    assert!(
        error.message.contains("42") && error.message.contains("not an Error"),
        "{error:?}"
    );
    let error = err(&rt, &sb, "async () => { throw { code: 'E1' } }");
    assert!(error.message.contains("E1"), "{error:?}");
}

#[test]
fn imports_of_types_are_dropped_and_imports_of_modules_explained() {
    let rt = runtime();
    let sb = sandbox(&rt, quick_config());
    let code = "import type { Pet } from './types';\nconst p: Pet = await echo(1);\nreturn p;";
    assert_eq!(ok(&rt, &sb, code), json!(1));
    for code in [
        "import { foo } from 'bar';\nreturn foo();",
        "const x = 1;\nimport fs from 'fs';\nreturn x;",
    ] {
        let error = err(&rt, &sb, code);
        assert_eq!(error.kind, RunErrorKind::Syntax, "{error:?}");
        assert!(error.message.contains("cannot import modules"), "{error:?}");
        assert!(error.message.contains("`api`"), "{error:?}");
    }
}
