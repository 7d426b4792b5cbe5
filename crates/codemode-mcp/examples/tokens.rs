//! Tool-definition tokens per real spec, the way Cloudflare's README measured them: o200k over the
//! compact JSON of the tools/list answer. Our two tools next to one tool per operation, with full
//! input schemas and with required parameters only, plus a typical search answer.
//!
//! Run: `cargo run --release -p codemode-mcp --example tokens` (the real specs where the tests
//! find them, `codemode_test_support::specs_dir`; DigitalOcean is left out: it is a tarball).

use std::sync::Arc;

use codemode_engine::{Engine, EngineConfig, SearchRequest};
use codemode_mcp::{ServerConfig, ToolMode, tools_list_json, tools_list_tokens};
use serde_json::Value;

const SPECS: [(&str, &str); 7] = [
    ("petstore3-openapi.yaml", "add a new pet to the store"),
    ("discord-openapi.json", "send a message to a channel"),
    ("openai-openapi.yaml", "create a chat completion"),
    ("stripe-spec3.yaml", "create a customer"),
    ("kubernetes-swagger.json", "list pods in a namespace"),
    (
        "github-api.github.com.json.gz",
        "list open pull requests of a repository",
    ),
    ("cloudflare-openapi.json", "list DNS records of a zone"),
];

/// Keeps only the required properties of every tool's input schema.
fn required_only(tools_list: &Value) -> Value {
    let mut out = tools_list.clone();
    if let Some(tools) = out.get_mut("tools").and_then(Value::as_array_mut) {
        for tool in tools {
            let Some(schema) = tool.get_mut("inputSchema") else {
                continue;
            };
            let required: Vec<String> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            if let Some(Value::Object(properties)) = schema.get_mut("properties") {
                properties.retain(|name, _| required.contains(name));
            }
        }
    }
    out
}

fn main() {
    let dir = codemode_test_support::specs_dir();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    println!(
        "| spec | operations | our tools/list | one tool per operation, full schemas | required parameters only | ours / full | a search answer |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (file, query) in SPECS {
        let path = dir.join(file);
        let spec = match codemode_engine::spec::load(
            path.to_str().unwrap_or_default(),
            &Default::default(),
        ) {
            Ok(loaded) => loaded.spec,
            Err(e) => {
                eprintln!("{file}: {e}");
                continue;
            }
        };
        let operations = spec.operations.len();
        let engine = Arc::new(Engine::new(spec, EngineConfig::default()).unwrap());
        let ours = tools_list_tokens(&tools_list_json(&engine, &ServerConfig::default()));
        let per_operation = tools_list_json(
            &engine,
            &ServerConfig {
                mode: ToolMode::PerOperation,
                ..ServerConfig::default()
            },
        );
        let full = tools_list_tokens(&per_operation);
        let required = tools_list_tokens(&required_only(&per_operation));
        let answer = engine
            .search(&SearchRequest {
                query: query.into(),
                limit: None,
                api: None,
                ..Default::default()
            })
            .map(|a| codemode_mcp::count_tokens(&a.text))
            .unwrap_or(0);
        println!(
            "| {file} | {operations} | {ours} | {full} | {required} | 1 : {:.0} | {answer} (\"{query}\") |",
            full as f64 / ours as f64
        );
    }
}
