//! The trusted bootstrap module (`bootstrap.js`), compiled to QuickJS bytecode once per worker thread
//! and loaded into each fresh context: parsing it on every run would cost more than the rest of a
//! trivial run. The bytecode carries neither source text nor debug information: reading it is the
//! larger part of loading the bootstrap, and its own frames never show in the agent's stacks anyway.
//!
//! The caller's prelude gets the same treatment: compiled once per worker thread (callers pass the
//! same prelude on every run) and loaded as bytecode; it keeps its debug information, so its frames
//! can still be recognized by file name and hidden from the agent's stacks.

use std::cell::{OnceCell, RefCell};
use std::sync::Arc;

use rquickjs::module::WriteOptions;
use rquickjs::{Context, Ctx, Function, Module, Runtime};

const BOOTSTRAP_NAME: &str = "bootstrap.js";
const BOOTSTRAP_JS: &str = include_str!("bootstrap.js");
const PRELUDE_NAME: &str = "prelude.js";

/// Module bytecode, or why the source did not compile.
type Compiled = Result<Vec<u8>, String>;

thread_local! {
    /// Bytecode of the bootstrap, produced by this process's own QuickJS on first use in a thread.
    static BYTECODE: OnceCell<Compiled> = const { OnceCell::new() };
    /// The last prelude this thread compiled, with its bytecode (or why it did not compile).
    static PRELUDE: RefCell<Option<(Arc<str>, Compiled)>> = const { RefCell::new(None) };
}

/// Compile the bootstrap module to bytecode in a scratch runtime. Without source text,
/// `toString()` of a bootstrap function shows no implementation either.
fn compile() -> Compiled {
    compile_module(BOOTSTRAP_NAME, BOOTSTRAP_JS, true)
}

/// Compile a module to bytecode in a scratch runtime, without its source text.
fn compile_module(name: &str, source: &str, strip_debug: bool) -> Compiled {
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    let context = Context::full(&runtime).map_err(|e| e.to_string())?;
    context.with(|ctx| {
        let module = Module::declare(ctx, name, source).map_err(|e| e.to_string())?;
        module
            .write(WriteOptions {
                strip_source: true,
                strip_debug,
                ..WriteOptions::default()
            })
            .map_err(|e| e.to_string())
    })
}

/// Load the caller's prelude into `ctx` as a module (strict mode; it defines globals through
/// `globalThis`), compiling it only when it differs from the last one this thread compiled.
pub(crate) fn prelude_module<'js>(
    ctx: &Ctx<'js>,
    prelude: &Arc<str>,
) -> Result<Module<'js>, String> {
    PRELUDE.with(|cell| {
        let mut cached = cell.borrow_mut();
        let known = cached
            .as_ref()
            .is_some_and(|(text, _)| Arc::ptr_eq(text, prelude) || **text == **prelude);
        if !known {
            let compiled = compile_module(PRELUDE_NAME, prelude, false);
            *cached = Some((Arc::clone(prelude), compiled));
        }
        match cached.as_ref().map(|(_, compiled)| compiled) {
            Some(Ok(bytecode)) => load(ctx, bytecode),
            Some(Err(error)) => Err(error.clone()),
            None => Err("the prelude was not compiled".to_string()),
        }
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
    // from trusted source (our bootstrap or the caller's prelude, see `compile_module`); it never
    // comes from outside.
    unsafe { Module::load(ctx.clone(), bytecode) }.map_err(|e| format!("module load: {e}"))
}
