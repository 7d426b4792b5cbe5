//! Writing to stdout and stderr without panicking. `print!` panics when stdout is a closed pipe
//! (`codemode types spec.json --all | head -1`), `eprintln!` when stderr is; these helpers return
//! the stdout error instead (marked, so `main` can tell it from any other broken pipe, such as
//! an upstream's) and drop stderr lines nobody can read. `main` ends quietly with exit code 0
//! when stdout closes, as ripgrep does.

use std::io::Write;

/// Stdout, whose broken-pipe errors say they are stdout's.
pub struct Stdout(std::io::StdoutLock<'static>);

/// Locks stdout for a command's output.
pub fn stdout() -> Stdout {
    Stdout(std::io::stdout().lock())
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).map_err(mark_closed)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().map_err(mark_closed)
    }
}

/// Writes `text` to stdout and flushes, so a closed pipe surfaces here rather than at exit.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = stdout();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// One line to stderr; if stderr is closed the line is lost, and nothing else happens.
pub fn eprint_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// An error and its causes joined by ": ", each said once: a cause whose text the message
/// already holds (a library error that prints its source and also returns it from `source()`)
/// is not repeated.
pub fn chain_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// The reader of stdout went away.
#[derive(Debug)]
struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout is closed")
    }
}

impl std::error::Error for StdoutClosed {}

fn mark_closed(error: std::io::Error) -> std::io::Error {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        std::io::Error::new(std::io::ErrorKind::BrokenPipe, StdoutClosed)
    } else {
        error
    }
}

/// Whether an error, anywhere in its chain, is a write to a closed stdout.
pub fn is_stdout_closed(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .is_some_and(|inner| inner.is::<StdoutClosed>())
    })
}

#[cfg(test)]
mod tests {
    use super::chain_text;

    /// An error that prints its source in its own message and also returns it from `source()`.
    #[derive(Debug)]
    struct Repeats(std::io::Error);

    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error sending request: {}", self.0)
        }
    }

    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn each_cause_is_said_once() {
        let refused =
            || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let error = anyhow::Error::new(refused()).context("error sending request");
        assert_eq!(
            chain_text(&error),
            "error sending request: connection refused"
        );
        let error = anyhow::Error::new(Repeats(refused())).context("cannot read spec.json");
        assert_eq!(
            chain_text(&error),
            "cannot read spec.json: error sending request: connection refused"
        );
    }
}
