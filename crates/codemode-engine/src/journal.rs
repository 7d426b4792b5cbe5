//! Approvals without a live question: a run that needs the user's approval before a call pauses,
//! and runs again from the start once the user has answered, with every call it completed the
//! first time answered from a [`Journal`] instead of being sent again.
//!
//! A front end that cannot ask while the program runs (stateless HTTP) gives the run
//! [`Approvals`]: the journal of the rounds before (empty at first) and the user's answer to the
//! call the last round paused at. Each `api` call of the run takes the next slot of the journal,
//! in the order the program makes them:
//!
//! - a slot the journal holds as completed must be the same call (its fingerprint: the host
//!   function and its arguments, hashed), and gets the recorded answer without being sent;
//! - the slot the last round paused at gets the user's answer: approved, it is sent once (if it is
//!   still the very request the user saw); declined, it throws `ConfirmationDeclined`;
//! - a call past the journal is sent as usual, and recorded;
//! - a call that is not the one the journal holds in its place means the program diverged
//!   (`Date.now()`, randomness, data that changed): the run fails, and no call is sent from then on.
//!
//! A call that needs approval and has no answer pauses the run: the calls in flight are let
//! finish (and recorded), no other call starts, and the run ends with [`Paused`], which carries the
//! request to show and the journal to give back with the answer.
//!
//! The journal is plain data ([`Journal`] is `Serialize`/`Deserialize`); sealing it for a trip
//! through a client (integrity, confidentiality, expiry, binding to a caller) is the front end's
//! job. It holds what the program saw: answers after redaction, never a credential.

use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use codemode_sandbox::HostError;

use crate::{Confirmation, PlannedRequest};

/// The calls a paused run made, in the order the program made them, and where it paused.
/// Serializable: a front end carries it to the next round (sealed), and gives it back unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    /// Format version; a journal of another version is refused.
    v: u8,
    slots: Vec<Slot>,
}

/// The journal format this engine writes and reads.
const JOURNAL_VERSION: u8 = 1;

/// One `api` call of a run, by its place in the order the program made them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "s", rename_all = "snake_case")]
enum Slot {
    /// Completed: its answer, given again on replay.
    Done {
        /// The call's fingerprint.
        f: Fingerprint,
        /// What the program got.
        r: Recorded,
    },
    /// The call the run paused at, waiting for the user's approval of `q` (the fingerprint of
    /// the request shown).
    Asked { f: Fingerprint, q: Fingerprint },
    /// Made by the program after the pause: not started, so not sent.
    NotStarted { f: Fingerprint },
}

impl Slot {
    fn fingerprint(&self) -> &Fingerprint {
        match self {
            Slot::Done { f, .. } | Slot::Asked { f, .. } | Slot::NotStarted { f } => f,
        }
    }
}

/// What a completed call handed the program: its value, or the error it threw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Recorded {
    Value {
        ok: Value,
    },
    Error {
        name: String,
        message: String,
        data: Value,
    },
}

impl Recorded {
    fn of(result: &Result<Value, HostError>) -> Recorded {
        match result {
            Ok(value) => Recorded::Value { ok: value.clone() },
            Err(error) => Recorded::Error {
                name: error.name.clone(),
                message: error.message.clone(),
                data: error.data.clone(),
            },
        }
    }

    fn replay(&self) -> Result<Value, HostError> {
        match self {
            Recorded::Value { ok } => Ok(ok.clone()),
            Recorded::Error {
                name,
                message,
                data,
            } => Err(HostError::new(name.clone(), message.clone()).with_data(data.clone())),
        }
    }
}

/// SHA-256, hex: of a host call (function and arguments), or of a request as the user saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
struct Fingerprint(String);

impl Fingerprint {
    fn of(parts: &[&[u8]]) -> Fingerprint {
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        let digest = hash.finalize();
        Fingerprint(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A host call: the function and its argument (api, operation, arguments, options) as JSON.
    /// `serde_json` writes object keys sorted, so the same call always hashes the same.
    fn call(function: &str, arg: &Value) -> Fingerprint {
        let arg = serde_json::to_vec(arg).unwrap_or_default();
        Fingerprint::of(&[b"call", function.as_bytes(), &arg])
    }

    /// The request the user is asked about, as shown.
    fn request(request: &PlannedRequest) -> Fingerprint {
        let shown = serde_json::to_vec(request).unwrap_or_default();
        Fingerprint::of(&[b"request", &shown])
    }
}

/// What a run that may pause for approval is given: the journal of the rounds before, and the
/// user's answer to the call the last round paused at.
#[derive(Debug, Clone, Default)]
pub struct Approvals {
    /// The journal [`Paused`] handed out last round; empty (the default) on the first round.
    pub journal: Journal,
    /// The user's answer to the call the journal paused at: `None` on the first round (or when
    /// the client sent no answer: the run pauses there again). [`Confirmation::Unsupported`]
    /// applies the policy's `confirm_fallback`.
    pub answer: Option<Confirmation>,
}

/// How a run that paused for approval ended: what to ask, and what to give back with the answer.
#[derive(Debug, Clone)]
pub struct Paused {
    /// The request to approve, as it would be sent, secrets redacted.
    pub request: PlannedRequest,
    /// The run's calls up to the pause; give it back in [`Approvals::journal`].
    pub journal: Journal,
    /// Calls answered from the journal this round, without being sent.
    pub replayed: usize,
}

/// What a host call does, decided when the program makes it (in program order).
pub(crate) enum Start {
    /// Answered from the journal: not sent.
    Replay(Result<Value, HostError>),
    /// Sent as usual, in slot `index`; `asked` when it is the call the last round paused at.
    Live(LiveSlot),
    /// The program diverged (now or before): the call fails, nothing is sent.
    Diverged(String),
    /// The run paused for approval: the call never starts.
    Blocked,
}

tokio::task_local! {
    /// The journal slot of the host call being served, for the confirmation inside it (set
    /// around the call's future, so nothing between the call site and the confirmation needs to
    /// carry it).
    pub(crate) static LIVE_SLOT: LiveSlot;
}

/// The journal slot of the host call this future serves, if the run keeps a journal.
pub(crate) fn live_slot() -> Option<LiveSlot> {
    LIVE_SLOT.try_with(LiveSlot::clone).ok()
}

/// A call that goes out this round, and what the journal knows of it.
#[derive(Clone)]
pub(crate) struct LiveSlot {
    pub(crate) recorder: Arc<Recorder>,
    pub(crate) index: usize,
    /// The fingerprint of the request the user was asked about, when this is that call.
    asked: Option<Fingerprint>,
}

/// What confirmation means for a call that goes out in an approvals run.
pub(crate) enum Gate {
    /// The user approved this very request: send it.
    Approved,
    /// The user declined it.
    Declined,
    /// No answer can come now: the policy's fallback decides.
    Fallback,
    /// The request is not the one the user approved.
    Diverged(String),
    /// Nobody has been asked yet: the run pauses here (the returned future never ends).
    Pause,
}

impl LiveSlot {
    /// Confirmation for this call, given the request as the user would see it.
    pub(crate) fn gate(&self, request: &PlannedRequest) -> Gate {
        let shown = Fingerprint::request(request);
        let Some(asked) = &self.asked else {
            return self.recorder.pause(self.index, shown, request);
        };
        if *asked != shown {
            return Gate::Diverged(self.recorder.diverge(format!(
                "call {} ({} {}) is not the request the user approved",
                self.index + 1,
                request.method,
                request.path
            )));
        }
        match self.recorder.answer {
            Some(Confirmation::Approved) => Gate::Approved,
            Some(Confirmation::Declined) => Gate::Declined,
            Some(Confirmation::Unsupported) => Gate::Fallback,
            None => self.recorder.pause(self.index, shown, request),
        }
    }

    /// Records what the call handed the program.
    pub(crate) fn finish(&self, result: &Result<Value, HostError>) {
        self.recorder.finish(self.index, result);
    }
}

/// One run's journal at work: replays the last round's slots and records this round's.
pub(crate) struct Recorder {
    past: Vec<Slot>,
    answer: Option<Confirmation>,
    state: Mutex<State>,
    changed: tokio::sync::Notify,
}

#[derive(Default)]
struct State {
    /// This round's slots, by index; `None` while a call is in flight.
    slots: Vec<Option<Slot>>,
    fingerprints: Vec<Fingerprint>,
    in_flight: usize,
    replayed: usize,
    diverged: Option<String>,
    paused: Option<PlannedRequest>,
}

impl Recorder {
    /// A recorder for `approvals`; `Err` with the reason when its journal cannot be used.
    pub(crate) fn new(approvals: Approvals) -> Result<Arc<Recorder>, String> {
        let journal = approvals.journal;
        if journal.v != JOURNAL_VERSION && !journal.slots.is_empty() {
            return Err(format!(
                "the approval journal has format {}, this server reads {JOURNAL_VERSION}",
                journal.v
            ));
        }
        Ok(Arc::new(Recorder {
            past: journal.slots,
            answer: approvals.answer,
            state: Mutex::new(State::default()),
            changed: tokio::sync::Notify::new(),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next call of the program: `function` with `arg`. Called in program order.
    pub(crate) fn start(self: &Arc<Self>, function: &str, arg: &Value) -> Start {
        let fingerprint = Fingerprint::call(function, arg);
        let mut state = self.lock();
        if let Some(reason) = &state.diverged {
            return Start::Diverged(reason.clone());
        }
        let index = state.slots.len();
        if state.paused.is_some() {
            state.fingerprints.push(fingerprint.clone());
            state.slots.push(Some(Slot::NotStarted { f: fingerprint }));
            return Start::Blocked;
        }
        state.fingerprints.push(fingerprint.clone());
        let past = self.past.get(index);
        if let Some(past) = past
            && *past.fingerprint() != fingerprint
        {
            let reason = format!(
                "call {} ({}) is not the call the program made there before the approval",
                index + 1,
                describe(arg)
            );
            state.diverged = Some(reason.clone());
            state.slots.push(None);
            return Start::Diverged(reason);
        }
        match past {
            Some(Slot::Done { r, .. }) => {
                state.slots.push(Some(Slot::Done {
                    f: fingerprint,
                    r: r.clone(),
                }));
                state.replayed += 1;
                Start::Replay(r.replay())
            }
            Some(Slot::Asked { q, .. }) => {
                state.slots.push(None);
                state.in_flight += 1;
                Start::Live(LiveSlot {
                    recorder: self.clone(),
                    index,
                    asked: Some(q.clone()),
                })
            }
            Some(Slot::NotStarted { .. }) | None => {
                state.slots.push(None);
                state.in_flight += 1;
                Start::Live(LiveSlot {
                    recorder: self.clone(),
                    index,
                    asked: None,
                })
            }
        }
    }

    fn finish(&self, index: usize, result: &Result<Value, HostError>) {
        let mut state = self.lock();
        let fingerprint = state.fingerprints[index].clone();
        if let Some(slot) = state.slots.get_mut(index)
            && slot.is_none()
        {
            *slot = Some(Slot::Done {
                f: fingerprint,
                r: Recorded::of(result),
            });
            state.in_flight = state.in_flight.saturating_sub(1);
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// Pauses the run at slot `index` for the user's approval of `request` (the first pause
    /// wins; a second call needing approval meanwhile waits for a later round).
    fn pause(&self, index: usize, shown: Fingerprint, request: &PlannedRequest) -> Gate {
        let mut state = self.lock();
        let fingerprint = state.fingerprints[index].clone();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.slots[index] = Some(match state.paused {
            None => {
                state.paused = Some(request.clone());
                Slot::Asked {
                    f: fingerprint,
                    q: shown,
                }
            }
            Some(_) => Slot::NotStarted { f: fingerprint },
        });
        drop(state);
        self.changed.notify_waiters();
        Gate::Pause
    }

    /// Marks the run as diverged; the reason comes back for the failing call.
    fn diverge(&self, reason: String) -> String {
        self.lock().diverged.get_or_insert(reason).clone()
    }

    /// Ends when the run has paused and no call is in flight any more.
    pub(crate) async fn paused_and_settled(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let state = self.lock();
                if state.paused.is_some() && state.in_flight == 0 {
                    return;
                }
            }
            changed.await;
        }
    }

    /// Why the run diverged, if it did; a run that ended before reaching the call the user
    /// answered diverged too (the answer went to a plan the program no longer follows).
    pub(crate) fn diverged(&self) -> Option<String> {
        let state = self.lock();
        if let Some(reason) = &state.diverged {
            return Some(reason.clone());
        }
        let asked = self
            .past
            .iter()
            .position(|slot| matches!(slot, Slot::Asked { .. }))?;
        (state.paused.is_none() && asked >= state.slots.len()).then(|| {
            format!(
                "the program ended after {} calls, before call {} that the user was asked about",
                state.slots.len(),
                asked + 1
            )
        })
    }

    /// Calls answered from the journal.
    pub(crate) fn replayed(&self) -> usize {
        self.lock().replayed
    }

    /// The pause, if the run paused: the request to ask about and the journal so far.
    pub(crate) fn paused(&self) -> Option<Paused> {
        let state = self.lock();
        let request = state.paused.clone()?;
        let slots = state
            .slots
            .iter()
            .zip(&state.fingerprints)
            .map(|(slot, f)| {
                // A call still in flight when the run ended is not known to be sent or not; it
                // is kept as not started, and would be sent again. The run waits for every call
                // in flight before it ends a pause, so only a run cut by its deadline has one.
                slot.clone()
                    .unwrap_or_else(|| Slot::NotStarted { f: f.clone() })
            })
            .collect();
        Some(Paused {
            request,
            journal: Journal {
                v: JOURNAL_VERSION,
                slots,
            },
            replayed: state.replayed,
        })
    }
}

/// The outcome of a run whose journal cannot be used: nothing ran, nothing was sent.
pub(crate) fn refused(reason: String) -> crate::ExecuteOutcome {
    crate::ExecuteOutcome {
        result: Err(crate::ScriptFailure {
            kind: crate::FailureKind::Diverged,
            message: format!("{reason}; nothing was sent"),
            line: None,
            col: None,
        }),
        logs: Vec::new(),
        calls: Vec::new(),
        planned: Vec::new(),
        paused: None,
    }
}

/// A host call as a reader of the divergence message knows it: `api.createPet`.
fn describe(arg: &Value) -> String {
    let name = arg.get("name").and_then(Value::as_str);
    let api = arg.get("api").and_then(Value::as_str);
    match (api, name) {
        (Some(api), Some(name)) => format!("api.{api}.{name}"),
        (None, Some(name)) => format!("api.{name}"),
        _ => match arg.pointer("/request/path").and_then(Value::as_str) {
            Some(path) => format!(
                "api.request {} {path}",
                arg.pointer("/request/method")
                    .and_then(Value::as_str)
                    .unwrap_or("GET")
            ),
            None => "a call".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn planned(name: &str) -> PlannedRequest {
        PlannedRequest {
            api: None,
            operation: Some("deletePet".into()),
            method: "DELETE".into(),
            path: format!("/pets/{name}"),
            query: None,
            body: None,
        }
    }

    fn live(start: Start) -> LiveSlot {
        match start {
            Start::Live(slot) => slot,
            _ => panic!("expected a live call"),
        }
    }

    #[test]
    fn a_paused_round_replays_and_then_sends_the_approved_call() {
        let first = Recorder::new(Approvals::default()).expect("empty journal");
        let a = live(first.start("__codemode_call", &json!({"name": "createPet"})));
        a.finish(&Ok(json!({"id": 1})));
        let b = live(first.start("__codemode_call", &json!({"name": "deletePet"})));
        assert!(matches!(b.gate(&planned("b")), Gate::Pause));
        assert!(matches!(
            first.start("__codemode_call", &json!({})),
            Start::Blocked
        ));
        let paused = first.paused().expect("paused");
        assert_eq!(paused.request.path, "/pets/b");

        // The journal survives a trip through JSON.
        let journal: Journal =
            serde_json::from_value(serde_json::to_value(&paused.journal).expect("serializes"))
                .expect("reads back");
        let second = Recorder::new(Approvals {
            journal,
            answer: Some(Confirmation::Approved),
        })
        .expect("journal");
        let Start::Replay(Ok(value)) =
            second.start("__codemode_call", &json!({"name": "createPet"}))
        else {
            panic!("the first call is replayed");
        };
        assert_eq!(value, json!({"id": 1}));
        let b = live(second.start("__codemode_call", &json!({"name": "deletePet"})));
        assert!(matches!(b.gate(&planned("b")), Gate::Approved));
        b.finish(&Ok(Value::Null));
        assert!(second.diverged().is_none());
        assert_eq!(second.replayed(), 1);
    }

    #[test]
    fn another_call_in_the_place_of_a_recorded_one_diverges_for_good() {
        let first = Recorder::new(Approvals::default()).expect("empty journal");
        live(first.start(
            "__codemode_call",
            &json!({"name": "createPet", "args": {"at": 1}}),
        ))
        .finish(&Ok(Value::Null));
        let b = live(first.start("__codemode_call", &json!({"name": "deletePet"})));
        let _ = b.gate(&planned("b"));
        let journal = first.paused().expect("paused").journal;
        let second = Recorder::new(Approvals {
            journal,
            answer: Some(Confirmation::Approved),
        })
        .expect("journal");
        let Start::Diverged(reason) = second.start(
            "__codemode_call",
            &json!({"name": "createPet", "args": {"at": 2}}),
        ) else {
            panic!("diverged");
        };
        assert!(reason.starts_with("call 1 (api.createPet)"), "{reason}");
        assert!(matches!(
            second.start("__codemode_call", &json!({"name": "deletePet"})),
            Start::Diverged(_)
        ));
        assert!(second.diverged().is_some());
    }

    #[test]
    fn an_approval_holds_only_for_the_request_shown() {
        let first = Recorder::new(Approvals::default()).expect("empty journal");
        let b = live(first.start("__codemode_call", &json!({"name": "deletePet"})));
        let _ = b.gate(&planned("b"));
        let journal = first.paused().expect("paused").journal;
        let second = Recorder::new(Approvals {
            journal,
            answer: Some(Confirmation::Approved),
        })
        .expect("journal");
        let b = live(second.start("__codemode_call", &json!({"name": "deletePet"})));
        assert!(matches!(b.gate(&planned("c")), Gate::Diverged(_)));
    }
}
