//! Token counts of the one-line mentions of operations in search answers (`1. GET /pets →
//! api.listPets`), counted once per operation and kept: an answer adds them up instead of
//! counting its text again. Knows nothing of how the lines are worded (the caller makes them).

use std::sync::OnceLock;

use codemode_typescript::count_tokens;

use crate::spec::OperationId;

/// Token counts of the lines that name each operation in answers, counted on first use (the
/// lines depend on the operation and the policy only, both fixed for the engine's life).
pub(crate) struct LineTokens {
    header: Vec<OnceLock<usize>>,
    listed: Vec<OnceLock<usize>>,
}

impl LineTokens {
    pub(crate) fn new(operations: usize) -> LineTokens {
        LineTokens {
            header: (0..operations).map(|_| Default::default()).collect(),
            listed: (0..operations).map(|_| Default::default()).collect(),
        }
    }

    pub(crate) fn header(&self, operation: OperationId, line: impl FnOnce() -> String) -> usize {
        Self::cached(&self.header, operation.index(), line)
    }

    pub(crate) fn listed(&self, operation: OperationId, line: impl FnOnce() -> String) -> usize {
        Self::cached(&self.listed, operation.index(), line)
    }

    fn cached(slots: &[OnceLock<usize>], index: usize, line: impl FnOnce() -> String) -> usize {
        match slots.get(index) {
            Some(slot) => *slot.get_or_init(|| count_tokens(&line())),
            None => count_tokens(&line()),
        }
    }
}
