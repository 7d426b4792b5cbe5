//! A run's wall-clock deadline, and the pauses that move it: time the host spends waiting on a
//! person (a confirmation prompt) is not time the script spent.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most a run's deadline can move by pauses, in total: a run ends at most this long after its
/// timeout, whatever its host does. (The clock stands still for the whole run while a pause is
/// on, script included: a script that spins while a prompt is open spends this allowance.)
pub const MAX_PAUSED: Duration = Duration::from_secs(300);

/// Stretches of a run during which its deadline stands still. The caller creates one per run,
/// hands a clone to its [`crate::Host`] and puts one in [`crate::RunRequest::pauses`]; the host
/// holds a [`Pause`] while it waits on a person, and the deadline moves by that long, at most
/// [`MAX_PAUSED`] in all. Overlapping pauses (two prompts at once) count once.
#[derive(Debug, Clone, Default)]
pub struct Pauses(Arc<Mutex<PauseState>>);

#[derive(Debug, Default)]
struct PauseState {
    /// Pauses in progress.
    active: u32,
    /// When the current stretch of pauses began (meaningful while `active > 0`).
    since: Option<Instant>,
    /// Length of the stretches that have ended.
    total: Duration,
}

impl Pauses {
    /// Stops the run's clock until the returned guard is dropped.
    pub fn pause(&self) -> Pause {
        let mut state = self.state();
        if state.active == 0 {
            state.since = Some(Instant::now());
        }
        state.active += 1;
        Pause {
            pauses: self.clone(),
        }
    }

    /// How long the clock has stood still up to `now` (at most [`MAX_PAUSED`]).
    pub fn paused_for(&self, now: Instant) -> Duration {
        let state = self.state();
        let current = match state.since {
            Some(since) if state.active > 0 => now.saturating_duration_since(since),
            _ => Duration::ZERO,
        };
        state.total.saturating_add(current).min(MAX_PAUSED)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PauseState> {
        // The state stays consistent whatever panicked while holding it: every update is one step.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A pause in progress; the clock runs again when the last one is dropped.
#[derive(Debug)]
pub struct Pause {
    pauses: Pauses,
}

impl Drop for Pause {
    fn drop(&mut self) {
        let mut state = self.pauses.state();
        state.active = state.active.saturating_sub(1);
        if state.active == 0
            && let Some(since) = state.since.take()
        {
            state.total = state.total.saturating_add(since.elapsed());
        }
    }
}

/// When a run must end: its start plus its timeout, plus every pause.
#[derive(Debug, Clone)]
pub(crate) struct Deadline {
    base: Instant,
    pauses: Pauses,
}

impl Deadline {
    pub(crate) fn new(started: Instant, timeout: Duration, pauses: Pauses) -> Deadline {
        // A timeout too large to add (e.g. Duration::MAX) means "a year": effectively none.
        let base = started
            .checked_add(timeout)
            .unwrap_or_else(|| started + Duration::from_secs(365 * 24 * 3600));
        Deadline { base, pauses }
    }

    pub(crate) fn passed(&self) -> bool {
        self.remaining().is_zero()
    }

    /// Time left from now; zero once the deadline has passed.
    pub(crate) fn remaining(&self) -> Duration {
        let now = Instant::now();
        let at = self
            .base
            .checked_add(self.pauses.paused_for(now))
            .unwrap_or(self.base);
        at.saturating_duration_since(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_stands_still_while_paused_and_overlaps_count_once() {
        let pauses = Pauses::default();
        let deadline = Deadline::new(Instant::now(), Duration::from_millis(40), pauses.clone());
        let first = pauses.pause();
        let second = pauses.pause();
        std::thread::sleep(Duration::from_millis(60));
        assert!(!deadline.passed(), "paused: the deadline must not pass");
        drop(first);
        std::thread::sleep(Duration::from_millis(10));
        assert!(!deadline.passed(), "still paused by the second");
        drop(second);
        let paused = pauses.paused_for(Instant::now());
        assert!(paused >= Duration::from_millis(70), "{paused:?}");
        assert!(paused < Duration::from_millis(1000), "{paused:?}");
        std::thread::sleep(Duration::from_millis(60));
        assert!(deadline.passed(), "running again: the deadline passes");
    }
}
