//! The sandbox's integration tests, one binary (linking QuickJS and oxc once, not once per
//! file): code forms, host functions, the hostile-script suite and memory reuse.

mod common;
mod forms;
mod host;
mod hostile;
mod memory;
