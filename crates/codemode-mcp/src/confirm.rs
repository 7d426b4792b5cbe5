//! Confirmation by MCP elicitation: before a call that needs the user's approval goes out, the
//! server asks the client to show the request and answer yes or no.
//!
//! Only a connection that can carry a server-to-client request asks (stdio; not stateless HTTP,
//! where the client's answer would have nowhere to arrive), and only when the client declared the
//! elicitation capability. Otherwise the engine hears [`Confirmation::Unsupported`] and applies the
//! server's configured fallback (deny by default).

use std::future::Future;
use std::pin::Pin;

use codemode_engine::{Confirm, Confirmation, PlannedRequest};
use rmcp::service::{ElicitationError, ElicitationMode};
use rmcp::{Peer, RoleServer};
use serde::Deserialize;

/// The longest request body shown in the question; the rest is elided (the user sees its size).
const MAX_SHOWN_BODY_CHARS: usize = 2_000;

/// The one-field form the client shows: approve or not.
#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
pub(crate) struct Approval {
    /// Send this request to the API?
    approve: bool,
}

rmcp::elicit_safe!(Approval);

/// Asks the connected client's user through `elicitation/create`.
pub(crate) struct ElicitConfirm {
    peer: Peer<RoleServer>,
}

impl ElicitConfirm {
    pub(crate) fn new(peer: Peer<RoleServer>) -> ElicitConfirm {
        ElicitConfirm { peer }
    }
}

impl Confirm for ElicitConfirm {
    fn confirm(
        &self,
        request: PlannedRequest,
    ) -> Pin<Box<dyn Future<Output = Confirmation> + Send>> {
        let peer = self.peer.clone();
        Box::pin(async move {
            if !peer
                .supported_elicitation_modes()
                .contains(&ElicitationMode::Form)
            {
                return Confirmation::Unsupported;
            }
            decide(peer.elicit::<Approval>(question(&request)).await)
        })
    }
}

/// Only an explicit "approve: true" sends the request. A decline, a dismissal or an answer we
/// cannot read is a no; a failure to ask at all falls back to the server's configured default.
fn decide(answer: Result<Option<Approval>, ElicitationError>) -> Confirmation {
    match answer {
        Ok(Some(Approval { approve: true })) => Confirmation::Approved,
        Ok(_)
        | Err(ElicitationError::UserDeclined)
        | Err(ElicitationError::UserCancelled)
        | Err(ElicitationError::NoContent)
        | Err(ElicitationError::ParseError { .. }) => Confirmation::Declined,
        Err(_) => Confirmation::Unsupported,
    }
}

/// What the user reads: the operation, method, path, query and (bounded) body, already redacted
/// by the engine.
pub(crate) fn question(request: &PlannedRequest) -> String {
    let mut text = format!(
        "The agent wants to send {} {}",
        request.method, request.path
    );
    if let Some(api) = &request.api {
        text.push_str(&format!(" to the {api} API"));
    }
    if let Some(operation) = &request.operation {
        text.push_str(&format!(" ({operation})"));
    }
    if let Some(query) = request.query.as_deref().filter(|q| !q.is_empty()) {
        text.push_str(&format!("\nquery: {query}"));
    }
    if let Some(body) = &request.body {
        text.push_str(&format!("\nbody: {}", clipped(&body.to_string())));
    }
    text.push_str("\nSend it?");
    text
}

fn clipped(text: &str) -> String {
    let total = text.chars().count();
    if total <= MAX_SHOWN_BODY_CHARS {
        return text.to_string();
    }
    let head: String = text.chars().take(MAX_SHOWN_BODY_CHARS).collect();
    format!("{head}… ({total} characters in all)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn planned(body: Option<serde_json::Value>) -> PlannedRequest {
        PlannedRequest {
            api: None,
            operation: Some("createPet".to_string()),
            method: "POST".to_string(),
            path: "/pets".to_string(),
            query: Some("dry=1".to_string()),
            body,
        }
    }

    #[test]
    fn the_question_shows_the_whole_request() {
        let text = question(&planned(Some(json!({"name": "Rex"}))));
        assert_eq!(
            text,
            "The agent wants to send POST /pets (createPet)\nquery: dry=1\nbody: {\"name\":\"Rex\"}\nSend it?"
        );
    }

    #[test]
    fn a_large_body_is_clipped_with_its_size() {
        let text = question(&planned(Some(json!("x".repeat(5_000)))));
        assert!(text.contains("… (5002 characters in all)"), "{text}");
        assert!(text.chars().count() < 2_200, "{}", text.len());
    }

    #[test]
    fn only_an_explicit_yes_approves() {
        assert_eq!(
            decide(Ok(Some(Approval { approve: true }))),
            Confirmation::Approved
        );
        assert_eq!(
            decide(Ok(Some(Approval { approve: false }))),
            Confirmation::Declined
        );
        assert_eq!(decide(Ok(None)), Confirmation::Declined);
        assert_eq!(
            decide(Err(ElicitationError::UserCancelled)),
            Confirmation::Declined
        );
        assert_eq!(
            decide(Err(ElicitationError::CapabilityNotSupported)),
            Confirmation::Unsupported
        );
    }
}
