//! Writing to stdout without panicking. `print!` panics when stdout is a closed pipe
//! (`codemode types spec.json --all | head -1`); these helpers return the error instead, and
//! `main` ends quietly with exit code 0 on a broken pipe, as ripgrep does.

use std::io::Write;

/// Writes `text` to stdout and flushes, so a closed pipe surfaces here rather than at exit.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Whether an error, anywhere in its chain, is a write to a closed pipe.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
