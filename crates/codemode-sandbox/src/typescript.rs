//! TypeScript type stripping with oxc (pinned `=0.146.0`), with a position map back to the original.

use oxc_allocator::Allocator;
use oxc_ast::ast::{ImportDeclaration, ImportDeclarationSpecifier, Program, Statement};
use oxc_codegen::{Codegen, CodegenOptions};
use oxc_parser::{ParseOptions, Parser};
use oxc_semantic::SemanticBuilder;
use oxc_span::SourceType;
use oxc_transformer::{TransformOptions, Transformer};

use crate::{RunError, RunErrorKind};

/// Positions of the generated JavaScript mapped to the TypeScript source (from oxc's source map).
#[derive(Debug, Clone, Default)]
pub(crate) struct TsMap {
    /// (generated line, generated col, source line, source col), all 0-based, sorted.
    tokens: Vec<(u32, u32, u32, u32)>,
}

impl TsMap {
    /// Map a 1-based generated position to a 1-based source position (nearest token at or before it).
    pub(crate) fn original(&self, line: u32, col: u32) -> (u32, u32) {
        let key = (line.saturating_sub(1), col.saturating_sub(1));
        let index = self.tokens.partition_point(|t| (t.0, t.1) <= key);
        match index.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some(&(gen_line, gen_col, src_line, src_col)) => {
                let extra = if gen_line == key.0 {
                    key.1 - gen_col
                } else {
                    0
                };
                (src_line + 1, src_col + extra + 1)
            }
            None => (line, col),
        }
    }
}

/// Strip TypeScript types from `code` (any accepted form, top-level `return` allowed), giving JavaScript.
pub fn strip_typescript(code: &str) -> Result<String, RunError> {
    strip_with_map(code).map(|(js, _)| js)
}

/// [`strip_typescript`] plus the map of generated positions back to `code`.
pub(crate) fn strip_with_map(code: &str) -> Result<(String, TsMap), RunError> {
    let allocator = Allocator::default();
    let source_type = SourceType::ts();
    let options = ParseOptions {
        allow_return_outside_function: true,
        ..ParseOptions::default()
    };
    let parsed = Parser::new(&allocator, code, source_type)
        .with_options(options)
        .parse();
    if let Some(diagnostic) = parsed.diagnostics.first() {
        let offset = diagnostic
            .labels
            .first()
            .map_or(0, |label| label.offset() as usize);
        let (line, col) = line_col(code, offset);
        return Err(RunError::new(
            RunErrorKind::Syntax,
            format!("SyntaxError: {}", diagnostic.message),
        )
        .at(line, col));
    }
    if parsed.panicked {
        return Err(RunError::new(
            RunErrorKind::Syntax,
            "SyntaxError: the code could not be parsed",
        ));
    }
    let mut program = parsed.program;
    if let Some(offset) = first_value_import(&program) {
        let (line, col) = line_col(code, offset);
        return Err(RunError::new(
            RunErrorKind::Syntax,
            "SyntaxError: a program cannot import modules: the API client is the global `api`, \
             and its types are already declared (type-only imports are fine)",
        )
        .at(line, col));
    }
    let scoping = SemanticBuilder::new()
        .build(&program)
        .semantic
        .into_scoping();
    let path = std::path::Path::new("agent.ts");
    let transformed = Transformer::new(&allocator, path, &TransformOptions::default())
        .build_with_scoping(scoping, &mut program);
    if let Some(diagnostic) = transformed.diagnostics.first() {
        let offset = diagnostic
            .labels
            .first()
            .map_or(0, |label| label.offset() as usize);
        let (line, col) = line_col(code, offset);
        return Err(RunError::new(
            RunErrorKind::Syntax,
            format!(
                "SyntaxError: unsupported TypeScript: {}",
                diagnostic.message
            ),
        )
        .at(line, col));
    }
    // Removing `import type` lines makes oxc add `export {}` to keep the file a module; the
    // program runs as a script, where that line would be a syntax error of its own.
    program.body.retain(|statement| !is_empty_export(statement));
    let options = CodegenOptions {
        source_map_path: Some(path.to_path_buf()),
        ..CodegenOptions::default()
    };
    let generated = Codegen::new().with_options(options).build(&program);
    let mut tokens: Vec<(u32, u32, u32, u32)> = generated
        .map
        .map(|map| {
            map.get_tokens()
                .map(|t| {
                    (
                        t.get_dst_line(),
                        t.get_dst_col(),
                        t.get_src_line(),
                        t.get_src_col(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    tokens.sort_unstable();
    Ok((generated.code, TsMap { tokens }))
}

/// Where the first import of a value (not only types) starts, as a byte offset.
fn first_value_import(program: &Program<'_>) -> Option<usize> {
    program.body.iter().find_map(|statement| match statement {
        Statement::ImportDeclaration(import) if imports_values(import) => {
            Some(import.span.start as usize)
        }
        _ => None,
    })
}

fn imports_values(import: &ImportDeclaration<'_>) -> bool {
    if import.import_kind.is_type() {
        return false;
    }
    match &import.specifiers {
        // `import "x"` runs a module for its effects.
        None => true,
        Some(specifiers) => specifiers.iter().any(|specifier| match specifier {
            ImportDeclarationSpecifier::ImportSpecifier(named) => named.import_kind.is_value(),
            _ => true,
        }),
    }
}

/// `export {}`: no names, no source.
fn is_empty_export(statement: &Statement<'_>) -> bool {
    matches!(statement, Statement::ExportNamedDeclaration(export) if export.specifiers.is_empty())
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(code: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(code.len());
    let before = code.get(..offset).unwrap_or(code);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_types_and_keeps_return() {
        let js = strip_typescript(
            "interface A { x: number }\nconst a: A = { x: 1 };\nreturn a.x as number;",
        )
        .unwrap();
        assert!(!js.contains("interface"), "{js}");
        assert!(js.contains("return a.x"), "{js}");
    }

    #[test]
    fn reports_line_and_column() {
        let error = strip_typescript("const a = 1;\nconst b: = 2;").unwrap_err();
        assert_eq!(error.kind, RunErrorKind::Syntax);
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn maps_positions_back() {
        let (js, map) =
            strip_with_map("type T = { a: string };\n\nconst x: T = { a: 'b' };\nnull.x;").unwrap();
        let generated_line = js.lines().position(|l| l.contains("null")).unwrap() as u32 + 1;
        assert_eq!(map.original(generated_line, 1), (4, 1));
    }

    #[test]
    fn type_imports_are_stripped_and_value_imports_refused() {
        let js = strip_typescript(
            "import type { Pet } from './types';\nimport { type Order } from './types';\nconst p: Pet = {};\nreturn p;",
        )
        .unwrap();
        assert!(!js.contains("import"), "{js}");
        assert!(!js.contains("export"), "{js}");
        for code in [
            "const a = 1;\nimport { foo } from 'bar';\nreturn foo;",
            "const a = 1;\nimport fs from 'fs';",
            "const a = 1;\nimport * as x from 'x';",
            "const a = 1;\nimport 'polyfill';",
            "const a = 1;\nimport { type A, b } from 'x';",
        ] {
            let error = strip_typescript(code).unwrap_err();
            assert_eq!(error.kind, RunErrorKind::Syntax);
            assert!(error.message.contains("cannot import modules"), "{error:?}");
            assert_eq!((error.line, error.col), (Some(2), Some(1)), "{code}");
        }
    }
}
