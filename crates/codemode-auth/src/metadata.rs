//! The RFC 9728 protected resource metadata document: where a client learns which authorization
//! server issues tokens for this resource and which scopes it knows.

use serde::Serialize;

use crate::config::OAuthConfig;

/// The document served at `/.well-known/oauth-protected-resource` (RFC 9728 §2, §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// This resource's URL; a client checks it equals the URL it connected to.
    pub resource: String,
    /// The issuers of tokens for it.
    pub authorization_servers: Vec<String>,
    /// The scopes it knows; left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How a token is sent: only in the `Authorization` header.
    pub bearer_methods_supported: Vec<String>,
}

impl ProtectedResourceMetadata {
    /// The document for `config`.
    pub fn new(config: &OAuthConfig) -> ProtectedResourceMetadata {
        ProtectedResourceMetadata {
            resource: config.resource.clone(),
            authorization_servers: config.authorization_servers(),
            scopes_supported: config.scopes_supported(),
            bearer_methods_supported: vec!["header".to_string()],
        }
    }

    /// Where the document is served for a resource URL (RFC 9728 §3.1): the well-known path
    /// inserted between the host and the resource's path, e.g.
    /// `https://h/.well-known/oauth-protected-resource/mcp` for `https://h/mcp`. `None` when
    /// `resource` is not a URL.
    pub fn url_for(resource: &str) -> Option<String> {
        let url = reqwest::Url::parse(resource).ok()?;
        let path = url.path().trim_end_matches('/');
        let mut origin = url.origin().ascii_serialization();
        origin.push_str("/.well-known/oauth-protected-resource");
        origin.push_str(path);
        if let Some(query) = url.query() {
            origin.push('?');
            origin.push_str(query);
        }
        Some(origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_has_the_rfc_9728_fields() {
        let mut config = OAuthConfig::new(
            "https://id.example.com/realms/t",
            "https://mcp.example.com/mcp",
        );
        config.required_scopes = vec!["mcp".into()];
        let json = serde_json::to_value(ProtectedResourceMetadata::new(&config)).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "resource": "https://mcp.example.com/mcp",
                "authorization_servers": ["https://id.example.com/realms/t"],
                "scopes_supported": ["mcp"],
                "bearer_methods_supported": ["header"],
            })
        );
    }

    #[test]
    fn the_well_known_path_goes_before_the_resource_path() {
        assert_eq!(
            ProtectedResourceMetadata::url_for("https://mcp.example.com/mcp").as_deref(),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(
            ProtectedResourceMetadata::url_for("http://127.0.0.1:8080/").as_deref(),
            Some("http://127.0.0.1:8080/.well-known/oauth-protected-resource")
        );
        assert_eq!(ProtectedResourceMetadata::url_for("/mcp"), None);
    }
}
