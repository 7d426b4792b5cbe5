//! Prints declarations for a spec: `cargo run --example declare -- <spec> [operation…|--all] [--budget N]`.

use codemode_spec::LoadOptions;
use codemode_typescript::{DeclareOptions, declare_all, declare_operations};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: declare <spec> [operation…|--all] [--budget N] [--depth N]");
        std::process::exit(2);
    }
    let path = args.remove(0);
    if path == "--count" {
        for file in &args {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            for line in text.lines() {
                println!("{:5} {}", codemode_typescript::count_tokens(line), line);
            }
            println!("total {}", codemode_typescript::count_tokens(&text));
        }
        return;
    }
    let spec = match codemode_spec::load(&path, &LoadOptions::default()) {
        Ok(loaded) => loaded.spec,
        Err(e) => {
            // The error, then its causes (an io error's reason is its source, not its message).
            let mut message = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                message.push_str(&format!(": {c}"));
                cause = c.source();
            }
            eprintln!("{message}");
            std::process::exit(1);
        }
    };
    let mut options = DeclareOptions::default();
    let mut names = Vec::new();
    let mut all = false;
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--all" => all = true,
            "--budget" => options.token_budget = iter.next().and_then(|n| n.parse().ok()),
            "--depth" => options.max_depth = iter.next().and_then(|n| n.parse().ok()).unwrap_or(4),
            _ => names.push(arg),
        }
    }
    if names.first().map(String::as_str) == Some("--time") {
        let started = std::time::Instant::now();
        let _ = codemode_typescript::TypeNames::new(&spec);
        eprintln!("type names: {:?}", started.elapsed());
        let op = &spec.operations[0];
        codemode_typescript::count_tokens("warm up");
        let started = std::time::Instant::now();
        let _ = declare_operations(&spec, &[op], &options);
        eprintln!("declare once: {:?}", started.elapsed());
        let started = std::time::Instant::now();
        let d = declare_operations(&spec, &[op], &options);
        eprintln!(
            "declare {}: {:?} ({} tokens)",
            op.name,
            started.elapsed(),
            d.tokens
        );
        return;
    }
    if all {
        print!("{}", declare_all(&spec));
        return;
    }
    let operations: Vec<_> = names.iter().filter_map(|n| spec.find(n)).collect();
    let declarations = declare_operations(&spec, &operations, &options);
    print!("{}", declarations.text);
    eprintln!(
        "tokens: {}; trimmed: {:?}",
        declarations.tokens, declarations.trimmed
    );
}
