//! Approvals over MCP's `input_required` (SEP-2322, protocol 2026-07-28): when a run pauses for
//! the user's approval of a call, `execute` answers with an elicitation request (the same yes/no
//! form stdio asks with) and a `requestState` that carries the run's journal; the client asks
//! the user and calls `execute` again with the answer and the state, and the run resumes from
//! the journal (see `codemode_engine::Journal`).
//!
//! The state is the server's, handed to the client to keep: it holds the answers the program got
//! from the upstream before the pause, which the client has no business reading (a create's
//! response may hold a fresh token, a list more than the program returned), so it is encrypted
//! (ChaCha20-Poly1305, a random nonce each time), then sealed with rmcp's `RequestStateCodec`
//! (HMAC-SHA256, with an expiry). Both keys come from one server key by HKDF-SHA256; replicas
//! that share the key open each other's states. Both the encryption and the seal are bound to
//! the program (its SHA-256) and the caller (the authenticated subject, when there is one), so a
//! state given with another program or by another user does not open.
//!
//! A state opens once per process: the process remembers the states its servers opened (by
//! their random nonce) for twice their lifetime, so the same state and answer sent twice, by a
//! retrying client or by someone who copied them, do not send the approved call twice, whichever
//! of the process's servers they reach. Replicas do not share that memory: a state sent to two
//! replicas opens on each. Each caller may hold a bounded number of opened states, so one
//! caller cannot use up the memory and block everyone's approvals.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use codemode_engine::upstream::Secret;
use codemode_engine::{Approvals, Confirmation, Journal, Paused, RequestCredentials};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use rmcp::RoleServer;
use rmcp::model::{
    ElicitationSchema, InputRequest, InputRequests, InputRequiredResult, InputResponses,
    ProtocolVersion, RequestStateCodec, RequestStateError, SealOptions,
};
use rmcp::service::RequestContext;
use serde_json::{Value, json};

use crate::confirm::{Approval, question};

/// The key of the one input request an approval asks.
const INPUT_KEY: &str = "approval";

/// The shortest server key accepted: 32 bytes, as rmcp's codec requires.
pub const MIN_APPROVAL_KEY_BYTES: usize = RequestStateCodec::MIN_KEY_LENGTH;

/// How long a paused run waits for its answer by default: 10 minutes.
pub const DEFAULT_APPROVAL_TTL: Duration = Duration::from_secs(600);

/// The largest `requestState` by default: 512 KiB. A journal bigger than this (a program that
/// read a lot before the pause) is refused at the pause rather than sent to the client.
pub const DEFAULT_APPROVAL_STATE_MAX_BYTES: usize = 512 * 1024;

/// The server key approval states are sealed with; replicas behind one load balancer share it.
/// At least [`MIN_APPROVAL_KEY_BYTES`] bytes (e.g. `openssl rand -base64 48`). Never printed.
#[derive(Clone)]
pub struct ApprovalKey(Secret);

impl ApprovalKey {
    /// The key, if it is long enough.
    pub fn new(key: Secret) -> Result<ApprovalKey, ApprovalKeyError> {
        let bytes = key.expose().len();
        if bytes < MIN_APPROVAL_KEY_BYTES {
            return Err(ApprovalKeyError::TooShort { bytes });
        }
        Ok(ApprovalKey(key))
    }
}

impl std::fmt::Debug for ApprovalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApprovalKey([redacted])")
    }
}

/// Why a server key cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalKeyError {
    /// Shorter than [`MIN_APPROVAL_KEY_BYTES`].
    #[error(
        "the approval key has {bytes} bytes, at least {MIN_APPROVAL_KEY_BYTES} are needed (e.g. `openssl rand -base64 48`)"
    )]
    TooShort {
        /// Its length.
        bytes: usize,
    },
}

/// Seals and opens approval states with one server key.
pub(crate) struct Sealer {
    codec: RequestStateCodec,
    /// The ChaCha20-Poly1305 key (its `LessSafeKey` is made for each use: building one from
    /// 32 bytes is cheap, and has an error path only for a wrong length).
    cipher_key: [u8; 32],
    random: SystemRandom,
    /// False when there is no configured key and the system's random source could not make
    /// one: nothing is sealed or opened then (a known key would let anyone forge states).
    keyed: bool,
    ttl: Duration,
    max_bytes: usize,
}

/// Opened states one caller may have remembered at once; past it (after forgetting the
/// expired ones), that caller's states are refused rather than the memory growing.
const MAX_OPENED_PER_CALLER: usize = 10_000;
/// Opened states remembered at once, all callers together.
const MAX_OPENED: usize = 200_000;

/// The states opened in this process, whichever of its servers opened them (servers of one
/// process may share a key).
static OPENED: std::sync::OnceLock<std::sync::Mutex<Opened>> = std::sync::OnceLock::new();

/// The memory of opened states: each nonce until it may be forgotten, in the order opened, and
/// how many each caller holds.
#[derive(Default)]
struct Opened {
    entries: HashMap<[u8; NONCE_LEN], (Instant, String)>,
    order: VecDeque<[u8; NONCE_LEN]>,
    per_caller: HashMap<String, usize>,
}

impl Opened {
    /// Marks `nonce` opened by `caller` until `forget_after`, or says why not: it was opened
    /// before, or the caller (or everyone) holds too many.
    fn open(
        &mut self,
        nonce: [u8; NONCE_LEN],
        caller: &str,
        now: Instant,
        forget_after: Instant,
    ) -> Result<(), &'static str> {
        self.forget_expired(now);
        if self.entries.contains_key(&nonce) {
            return Err("it was used already (an approval is answered once)");
        }
        let held = self.per_caller.get(caller).copied().unwrap_or(0);
        if held >= MAX_OPENED_PER_CALLER || self.entries.len() >= MAX_OPENED {
            return Err("too many approvals are open on this server at once; try again later");
        }
        self.entries
            .insert(nonce, (forget_after, caller.to_string()));
        self.order.push_back(nonce);
        *self.per_caller.entry(caller.to_string()).or_default() += 1;
        Ok(())
    }

    /// Forgets, from the oldest, the states that may be forgotten by `now`.
    fn forget_expired(&mut self, now: Instant) {
        while let Some(oldest) = self.order.front() {
            let Some((forget_after, _)) = self.entries.get(oldest) else {
                self.order.pop_front();
                continue;
            };
            if *forget_after > now {
                break;
            }
            if let Some((_, caller)) = self.entries.remove(oldest)
                && let Some(held) = self.per_caller.get_mut(&caller)
            {
                *held -= 1;
                if *held == 0 {
                    self.per_caller.remove(&caller);
                }
            }
            self.order.pop_front();
        }
    }
}

impl Sealer {
    /// With the configured key, or a random one for this process alone (a state then opens only
    /// on the server that sealed it).
    pub(crate) fn new(key: Option<&ApprovalKey>, ttl: Duration, max_bytes: usize) -> Sealer {
        let random = SystemRandom::new();
        let mut own = [0u8; 32];
        let (ikm, keyed): (&[u8], bool) = match key {
            Some(key) => (key.0.expose().as_bytes(), true),
            // A failing system random source leaves no usable key: approvals are refused
            // rather than sealed with a key anyone could guess.
            None => {
                let filled = random.fill(&mut own).is_ok();
                (&own, filled)
            }
        };
        let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"codemode approval state v1");
        let prk = salt.extract(ikm);
        let mut mac_key = [0u8; 32];
        let mut cipher_key = [0u8; 32];
        for (info, out) in [(b"hmac", &mut mac_key), (b"aead", &mut cipher_key)] {
            // Expanding 32 bytes from SHA-256 cannot fail (the limit is 255 × 32).
            if let Ok(okm) = prk.expand(&[info], ring::hkdf::HKDF_SHA256) {
                let _ = okm.fill(out);
            }
        }
        Sealer {
            codec: RequestStateCodec::new_unchecked(mac_key.to_vec()),
            cipher_key,
            random,
            keyed,
            ttl,
            max_bytes,
        }
    }

    /// Marks the state with `nonce` opened by `caller`, or refuses it when it was opened
    /// before. Remembered for twice the state's lifetime: the seal's expiry is checked on the
    /// wall clock (another replica's, with a shared key), this memory on the monotonic one.
    fn open_once(&self, nonce: [u8; NONCE_LEN], caller: &str) -> Result<(), &'static str> {
        let now = Instant::now();
        OPENED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .open(nonce, caller, now, now + self.ttl * 2)
    }

    fn check_keyed(&self) -> Result<(), String> {
        if self.keyed {
            Ok(())
        } else {
            Err(
                "approvals are unavailable: no approval key is configured and the system's \
                 random source could not make one"
                    .to_string(),
            )
        }
    }

    /// What the state is bound to: this server's approvals, the program, the caller, and the
    /// upstream credentials the request carried (so that, without an authenticated caller, a
    /// state taken from one user's exchange opens for nobody who lacks that user's credential).
    pub(crate) fn binding(
        code: &str,
        subject: Option<&str>,
        credentials: &RequestCredentials,
    ) -> Vec<u8> {
        Sealer::bound(b"execute", code, subject, credentials)
    }

    /// [`Sealer::binding`] for one per-operation tool call: its tool, its arguments and the
    /// request the user is asked about take the program's place (a state for another call, for
    /// a program, or for a request that changed since, after a reload, does not open).
    pub(crate) fn operation_binding(
        tool: &str,
        args: &serde_json::Value,
        request: &codemode_engine::PlannedRequest,
        subject: Option<&str>,
        credentials: &RequestCredentials,
    ) -> Vec<u8> {
        let request = serde_json::to_string(request).unwrap_or_default();
        let call = format!("{tool}\0{args}\0{request}");
        Sealer::bound(b"operation", &call, subject, credentials)
    }

    fn bound(
        kind: &[u8],
        code: &str,
        subject: Option<&str>,
        credentials: &RequestCredentials,
    ) -> Vec<u8> {
        let program = ring::digest::digest(&ring::digest::SHA256, code.as_bytes());
        let mut binding = b"codemode/approval/v1\0".to_vec();
        binding.extend_from_slice(kind);
        binding.push(0);
        binding.extend_from_slice(program.as_ref());
        binding.push(0);
        if let Some(subject) = subject {
            binding.extend_from_slice(b"subject\0");
            binding.extend_from_slice(subject.as_bytes());
            binding.push(0);
        }
        if !credentials.is_empty() {
            let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
            for (header, value) in credentials.iter() {
                for part in [header.as_bytes(), b"\0", value.expose().as_bytes(), b"\0"] {
                    digest.update(part);
                }
            }
            binding.extend_from_slice(b"credentials\0");
            binding.extend_from_slice(digest.finish().as_ref());
        }
        binding
    }

    /// The `input_required` answer for a paused run: the question, and the sealed journal.
    pub(crate) fn input_required(
        &self,
        paused: &Paused,
        binding: &[u8],
    ) -> Result<InputRequiredResult, String> {
        let state = self.seal(&paused.journal, binding)?;
        let schema = ElicitationSchema::from_type::<Approval>()
            .map_err(|e| format!("internal error: the approval form has no schema: {e}"))?;
        let request = json!({
            "method": "elicitation/create",
            "params": {
                "mode": "form",
                "message": question(&paused.request),
                "requestedSchema": schema,
            }
        });
        let request: InputRequest = serde_json::from_value(request)
            .map_err(|e| format!("internal error: the approval question does not parse: {e}"))?;
        let mut requests = InputRequests::new();
        requests.insert(INPUT_KEY.to_string(), request);
        Ok(InputRequiredResult::new(Some(requests), Some(state)))
    }

    fn seal(&self, journal: &Journal, binding: &[u8]) -> Result<String, String> {
        self.check_keyed()?;
        let mut payload = serde_json::to_vec(journal)
            .map_err(|e| format!("internal error: the journal does not serialize: {e}"))?;
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| "the system's random source failed: the approval cannot be asked")?;
        self.cipher()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(binding),
                &mut payload,
            )
            .map_err(|_| "internal error: the journal could not be encrypted")?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&payload);
        let options = SealOptions::new().associated_data(binding).ttl(self.ttl);
        let state = self.codec.seal_with(&sealed, &options);
        if state.len() > self.max_bytes {
            return Err(format!(
                "the call needs the user's approval, but what the program read before it is too much to carry to the approval ({} bytes of state, the limit is {}): it was not sent; make the call needing approval earlier, or read less before it",
                state.len(),
                self.max_bytes
            ));
        }
        Ok(state)
    }

    fn cipher(&self) -> Result<LessSafeKey, String> {
        UnboundKey::new(&CHACHA20_POLY1305, &self.cipher_key)
            .map(LessSafeKey::new)
            .map_err(|_| "internal error: the approval cipher key was refused".to_string())
    }

    /// The approvals a resumed run gets: the journal from `state`, and the user's answer.
    pub(crate) fn open(
        &self,
        state: &str,
        responses: Option<&InputResponses>,
        binding: &[u8],
        caller: Option<&str>,
    ) -> Result<Approvals, String> {
        self.check_keyed()?;
        let refused = |why: &str| {
            format!(
                "the approval state was refused: {why}; nothing was sent. Call execute again without it to start over"
            )
        };
        if state.len() > self.max_bytes {
            return Err(refused("it is larger than any state this server hands out"));
        }
        let sealed = self.codec.open_with(state, binding).map_err(|e| match e {
            RequestStateError::Expired => refused(&format!(
                "it expired (an approval must be answered within {} s)",
                self.ttl.as_secs()
            )),
            RequestStateError::IntegrityCheckFailed | RequestStateError::UnknownKeyId => refused(
                "it was not made for this program and caller, or was altered, or was sealed with another server's approval key",
            ),
            _ => refused("it is not a state this server made"),
        })?;
        if sealed.len() < NONCE_LEN {
            return Err(refused("it is not a state this server made"));
        }
        let (nonce_bytes, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce_bytes)
            .map_err(|_| refused("it is not a state this server made"))?;
        let mut ciphertext = ciphertext.to_vec();
        let plain = self
            .cipher()?
            .open_in_place(nonce, Aad::from(binding), &mut ciphertext)
            .map_err(|_| refused("it does not decrypt"))?;
        let journal: Journal = serde_json::from_slice(plain)
            .map_err(|_| refused("its journal is not one this server reads"))?;
        let mut once = [0u8; NONCE_LEN];
        once.copy_from_slice(nonce_bytes);
        self.open_once(once, caller.unwrap_or_default())
            .map_err(refused)?;
        Ok(Approvals {
            journal,
            answer: responses.and_then(|r| r.get(INPUT_KEY)).map(answer),
        })
    }
}

/// A tool call from a client that can be asked through `input_required`: the server's sealer,
/// and what the client sent back from an earlier round, if anything.
pub(crate) struct ApprovalCall {
    pub(crate) sealer: std::sync::Arc<Sealer>,
    pub(crate) state: Option<String>,
    pub(crate) responses: Option<InputResponses>,
}

impl ApprovalCall {
    /// The approvals the run gets: a fresh journal, or the one in the state the client sent back
    /// (refused, with the message to show, when it does not open).
    /// `caller` is who asks (the token's subject), for the bound on states each may hold.
    pub(crate) fn approvals(
        &self,
        binding: &[u8],
        caller: Option<&str>,
    ) -> Result<Approvals, String> {
        match &self.state {
            Some(state) => self
                .sealer
                .open(state, self.responses.as_ref(), binding, caller),
            None => Ok(Approvals::default()),
        }
    }
}

/// Whether this tool call's client is asked through `input_required`: it speaks protocol
/// 2026-07-28 or later (where a server may not send it requests) and can show a form.
pub(crate) fn asks_by_input_required(context: &RequestContext<RoleServer>) -> bool {
    let modern = context
        .protocol_version()
        .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28);
    let forms = context
        .client_capabilities()
        .and_then(|capabilities| capabilities.elicitation)
        .is_some_and(|elicitation| elicitation.form.is_some() || elicitation.url.is_none());
    modern && forms
}

/// Only an accepted form with `approve: true` approves; anything else the client answered is a no.
fn answer(response: &Value) -> Confirmation {
    let accepted = response.get("action").and_then(Value::as_str) == Some("accept");
    let approve = response
        .pointer("/content/approve")
        .and_then(Value::as_bool);
    if accepted && approve == Some(true) {
        Confirmation::Approved
    } else {
        Confirmation::Declined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nonce(n: usize) -> [u8; NONCE_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..8].copy_from_slice(&(n as u64).to_le_bytes());
        nonce
    }

    #[test]
    fn a_state_opens_once_and_each_caller_holds_a_bounded_number() {
        let mut opened = Opened::default();
        let now = Instant::now();
        let later = now + Duration::from_secs(1200);
        assert!(opened.open(nonce(0), "ana", now, later).is_ok());
        assert!(opened.open(nonce(0), "ana", now, later).is_err());
        assert!(opened.open(nonce(0), "bob", now, later).is_err());
        for n in 1..MAX_OPENED_PER_CALLER {
            assert!(opened.open(nonce(n), "ana", now, later).is_ok());
        }
        // Ana is full; Bob is not held back by her.
        let full = opened
            .open(nonce(MAX_OPENED_PER_CALLER), "ana", now, later)
            .unwrap_err();
        assert!(full.contains("too many approvals"), "{full}");
        assert!(
            opened
                .open(nonce(MAX_OPENED_PER_CALLER + 1), "bob", now, later)
                .is_ok()
        );
        // Once hers may be forgotten, Ana opens again, and the forgotten ones are gone.
        let after = later + Duration::from_secs(1);
        assert!(
            opened
                .open(
                    nonce(MAX_OPENED_PER_CALLER + 2),
                    "ana",
                    after,
                    after + Duration::from_secs(1)
                )
                .is_ok()
        );
        assert_eq!(opened.per_caller.get("ana"), Some(&1));
        assert!(!opened.per_caller.contains_key("bob"));
    }

    fn key(text: &str) -> ApprovalKey {
        ApprovalKey::new(Secret::from(text.to_string())).expect("long enough")
    }

    /// Without an authenticated caller, the state is bound to the upstream credentials the
    /// request carried: another user's request (another credential, or none) cannot open it.
    #[test]
    fn a_state_opens_only_with_the_credentials_it_was_made_with() {
        let with = |value: &str| {
            let mut credentials = RequestCredentials::default();
            credentials.insert("X-Upstream-Authorization", Secret::from(value));
            credentials
        };
        let binding =
            |credentials: &RequestCredentials| Sealer::binding("return 1", None, credentials);
        let ana = binding(&with("token ana-1"));
        assert_eq!(ana, binding(&with("token ana-1")));
        assert_ne!(ana, binding(&with("token bo-2")));
        assert_ne!(ana, binding(&RequestCredentials::default()));
    }

    #[test]
    fn a_short_key_is_refused_with_its_length() {
        let error = ApprovalKey::new(Secret::from("short".to_string())).expect_err("too short");
        assert_eq!(
            error.to_string(),
            "the approval key has 5 bytes, at least 32 are needed (e.g. `openssl rand -base64 48`)"
        );
    }

    #[test]
    fn the_key_never_prints() {
        let printed = format!("{:?}", key("approval-key-that-is-long-enough-0123"));
        assert!(!printed.contains("approval-key"), "{printed}");
    }

    #[test]
    fn answers_approve_only_on_an_explicit_yes() {
        assert_eq!(
            answer(&json!({"action": "accept", "content": {"approve": true}})),
            Confirmation::Approved
        );
        for no in [
            json!({"action": "accept", "content": {"approve": false}}),
            json!({"action": "accept"}),
            json!({"action": "decline"}),
            json!({"action": "cancel"}),
            json!("yes"),
        ] {
            assert_eq!(answer(&no), Confirmation::Declined, "{no}");
        }
    }

    #[test]
    fn a_state_opens_only_with_its_binding_and_key_and_hides_the_journal() {
        let shared = key("approval-key-shared-by-both-replicas-0123");
        let one = Sealer::new(Some(&shared), DEFAULT_APPROVAL_TTL, 1 << 20);
        let two = Sealer::new(Some(&shared), DEFAULT_APPROVAL_TTL, 1 << 20);
        let other = Sealer::new(
            Some(&key("another-server-key-of-enough-length-0123")),
            DEFAULT_APPROVAL_TTL,
            1 << 20,
        );
        let journal: Journal = serde_json::from_value(json!({"v": 1, "slots": [
            {"s": "done", "f": "ab", "r": {"ok": {"token": "fresh-upstream-token"}}}
        ]}))
        .expect("a journal");
        let binding = Sealer::binding("return 1", Some("alice"), &RequestCredentials::default());
        let state = one.seal(&journal, &binding).expect("sealed");
        assert!(!state.contains("fresh-upstream-token"));
        let opened = two
            .open(&state, None, &binding, None)
            .expect("the other replica opens it");
        assert_eq!(opened.journal, journal);
        assert_eq!(opened.answer, None);
        for (sealer, binding) in [
            (
                &two,
                Sealer::binding("return 2", Some("alice"), &RequestCredentials::default()),
            ),
            (
                &two,
                Sealer::binding("return 1", Some("bob"), &RequestCredentials::default()),
            ),
            (
                &two,
                Sealer::binding("return 1", None, &RequestCredentials::default()),
            ),
            (&other, binding.clone()),
        ] {
            let refused = sealer
                .open(&state, None, &binding, None)
                .expect_err("refused");
            assert!(refused.contains("nothing was sent"), "{refused}");
        }
    }

    #[test]
    fn a_state_over_the_bound_is_not_handed_out() {
        let sealer = Sealer::new(None, DEFAULT_APPROVAL_TTL, 200);
        let journal: Journal = serde_json::from_value(json!({"v": 1, "slots": [
            {"s": "done", "f": "ab", "r": {"ok": "x".repeat(500)}}
        ]}))
        .expect("a journal");
        let error = sealer
            .seal(
                &journal,
                &Sealer::binding("return 1", None, &RequestCredentials::default()),
            )
            .expect_err("too large");
        assert!(error.contains("the limit is 200"), "{error}");
    }
}
