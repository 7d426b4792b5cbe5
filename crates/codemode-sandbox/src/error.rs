//! [`RunError`]: why a run failed, with the location in the agent's own code when there is one.

use crate::LogLine;

/// What kind of failure ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunErrorKind {
    /// The code does not parse (JavaScript or TypeScript).
    Syntax,
    /// The script threw (including a [`crate::HostError`] it did not catch) or left a rejection unhandled.
    Exception,
    /// The wall-clock deadline passed (busy loop, regex backtracking, never-settling promise, slow host).
    Timeout,
    /// The QuickJS heap limit was reached.
    Memory,
    /// The QuickJS stack limit was reached.
    StackOverflow,
    /// The script called host functions more often than allowed.
    HostCallLimit,
    /// The result is larger than allowed as JSON.
    ResultTooLarge,
    /// The result cannot be converted to JSON (cycle, throwing `toJSON` or getter, too deep).
    ResultNotSerializable,
    /// Every worker is busy and the queue is full.
    Busy,
    /// A failure of the sandbox itself or of the trusted prelude.
    Internal,
}

impl RunErrorKind {
    /// A stable lowercase name (`timeout`, `memory`, ...), handy for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RunErrorKind::Syntax => "syntax",
            RunErrorKind::Exception => "exception",
            RunErrorKind::Timeout => "timeout",
            RunErrorKind::Memory => "memory",
            RunErrorKind::StackOverflow => "stack_overflow",
            RunErrorKind::HostCallLimit => "host_call_limit",
            RunErrorKind::ResultTooLarge => "result_too_large",
            RunErrorKind::ResultNotSerializable => "result_not_serializable",
            RunErrorKind::Busy => "busy",
            RunErrorKind::Internal => "internal",
        }
    }
}

/// Why a run failed. `Display` gives one line: `line 3:5: TypeError: x is not a function` (the location
/// prefix only when known); [`RunError::render`] adds the trimmed stack.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.summary())]
pub struct RunError {
    /// What kind of failure, for code that branches on it (the message is for people).
    pub kind: RunErrorKind,
    /// One line, e.g. `TypeError: x is not a function` or `time limit of 5000 ms exceeded`.
    pub message: String,
    /// 1-based line in the code the agent sent.
    pub line: Option<u32>,
    /// 1-based column in the code the agent sent.
    pub col: Option<u32>,
    /// The stack trimmed to the agent's own frames, locations mapped to the agent's code.
    pub stack: Option<String>,
    /// Console lines captured before the failure.
    pub logs: Vec<LogLine>,
    /// Host functions the script called before it failed (sync and async; 0 when it never ran).
    pub host_calls: u32,
}

impl RunError {
    /// An error without location, logs or stack.
    pub fn new(kind: RunErrorKind, message: impl Into<String>) -> RunError {
        RunError {
            kind,
            message: message.into(),
            line: None,
            col: None,
            stack: None,
            logs: Vec::new(),
            host_calls: 0,
        }
    }

    /// Set the 1-based location.
    pub fn at(mut self, line: u32, col: u32) -> RunError {
        self.line = Some(line);
        self.col = Some(col);
        self
    }

    /// `line L:C: message`, or just the message when the location is unknown.
    pub fn summary(&self) -> String {
        match (self.line, self.col) {
            (Some(line), Some(col)) => format!("line {line}:{col}: {}", self.message),
            (Some(line), None) => format!("line {line}: {}", self.message),
            _ => self.message.clone(),
        }
    }

    /// The summary line followed by the trimmed stack, when there is one.
    pub fn render(&self) -> String {
        match &self.stack {
            Some(stack) if !stack.trim().is_empty() => format!("{}\n{}", self.summary(), stack),
            _ => self.summary(),
        }
    }
}
