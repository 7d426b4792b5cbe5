//! The trusted bootstrap module (`bootstrap.js`), compiled to QuickJS bytecode once per worker thread
//! and loaded into each fresh context: parsing it on every run would cost more than the rest of a
//! trivial run. The bytecode carries neither source text nor debug information: reading it is the
//! larger part of loading the bootstrap, and its own frames never show in the agent's stacks anyway.

use std::cell::OnceCell;

use rquickjs::module::WriteOptions;
use rquickjs::{Context, Ctx, Function, Module, Runtime};

const BOOTSTRAP_NAME: &str = "bootstrap.js";
const BOOTSTRAP_JS: &str = include_str!("bootstrap.js");

thread_local! {
    /// Bytecode of the bootstrap, produced by this process's own QuickJS on first use in a thread.
    static BYTECODE: OnceCell<Result<Vec<u8>, String>> = const { OnceCell::new() };
}

/// Compile the bootstrap module to bytecode in a scratch runtime.
fn compile() -> Result<Vec<u8>, String> {
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    let context = Context::full(&runtime).map_err(|e| e.to_string())?;
    context.with(|ctx| {
        let module =
            Module::declare(ctx, BOOTSTRAP_NAME, BOOTSTRAP_JS).map_err(|e| e.to_string())?;
        // Without source text, `toString()` of a bootstrap function shows no implementation either.
        module
            .write(WriteOptions {
                strip_source: true,
                strip_debug: true,
                ..WriteOptions::default()
            })
            .map_err(|e| e.to_string())
    })
}

/// Load the bootstrap into `ctx` and return its `setup` function.
pub(crate) fn setup_function<'js>(ctx: &Ctx<'js>) -> Result<Function<'js>, String> {
    let module = BYTECODE.with(|cell| match cell.get_or_init(compile) {
        Ok(bytecode) => load(ctx, bytecode),
        Err(error) => Err(error.clone()),
    })?;
    let (module, promise) = module
        .eval()
        .map_err(|e| format!("bootstrap evaluation: {e}"))?;
    // A module without imports or top-level await settles after its pending jobs ran.
    while ctx.execute_pending_job() {}
    promise
        .finish::<()>()
        .map_err(|e| format!("bootstrap evaluation: {e}"))?;
    module
        .get("setup")
        .map_err(|e| format!("bootstrap setup: {e}"))
}

#[allow(unsafe_code)]
fn load<'js>(ctx: &Ctx<'js>, bytecode: &[u8]) -> Result<Module<'js>, String> {
    // SAFETY: `bytecode` was written by `Module::write` of this same QuickJS build, in this process,
    // from our own compile-time source (see `compile`); it never comes from outside.
    unsafe { Module::load(ctx.clone(), bytecode) }.map_err(|e| format!("bootstrap load: {e}"))
}
