//! What the resource accepts: the issuer, this resource's URL (the audience), the signature
//! algorithms, leeway, scopes, and how the issuer's keys are found and refreshed. Checked once,
//! at start, so a dangerous setting (`none`, an HMAC algorithm) fails loudly there instead of
//! weakening every request.

use std::time::Duration;

use jsonwebtoken::Algorithm;

/// Algorithms accepted when none are configured: the asymmetric ones jsonwebtoken verifies
/// (RSA PKCS#1 and PSS, ECDSA P-256/P-384, Ed25519).
pub const DEFAULT_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// Clock skew allowed on `exp` and `nbf` by default.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The largest leeway accepted: more would keep expired tokens alive for minutes.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// How long one fetch of the issuer's JWKS (or discovery document) may take by default.
pub const DEFAULT_JWKS_TIMEOUT: Duration = Duration::from_secs(5);

/// The least time between two fetches of the JWKS by default, however many tokens name an
/// unknown key.
pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// How old the cached JWKS may get before the next token fetches it again (throttled as
/// above), so a key the issuer withdrew stops verifying.
pub const DEFAULT_MAX_KEY_AGE: Duration = Duration::from_secs(3600);

/// What a protected resource accepts. Build with [`OAuthConfig::new`] and adjust the fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// The authorization server's issuer identifier (`iss` must equal it exactly), e.g.
    /// `https://keycloak.example.com/realms/team`.
    pub issuer: String,
    /// This resource's URL (`https://codemode.example.com/mcp`): the `resource` of the metadata
    /// document, and the audience a token's `aud` must contain (MCP authorization: a token issued
    /// for another resource is refused).
    pub resource: String,
    /// Other names of this same resource that `aud` may hold instead of [`Self::resource`]:
    /// an issuer that cannot put a URL in `aud` (Entra ID v2 tokens carry the application's
    /// client id) names the resource this way. Never another service's identifier.
    pub audiences: Vec<String>,
    /// The authorization servers the metadata document names; empty means `[issuer]`.
    pub authorization_servers: Vec<String>,
    /// Accepted JWS algorithms by name (`RS256`, `ES256`, `EdDSA`, …); empty means
    /// [`DEFAULT_ALGORITHMS`]. `none` and `HS*` are refused by [`OAuthConfig::check`].
    pub algorithms: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`; at most [`MAX_LEEWAY`].
    pub leeway: Duration,
    /// Scopes every token must carry; a valid token without one of them is
    /// [`AuthError::InsufficientScope`](crate::AuthError::InsufficientScope) (403).
    pub required_scopes: Vec<String>,
    /// The scopes the metadata document lists; empty means `required_scopes`.
    pub scopes_supported: Vec<String>,
    /// Where the issuer's JWKS is. `None`: discovered from the issuer's metadata, RFC 8414
    /// (`/.well-known/oauth-authorization-server`) first, then OpenID Connect discovery
    /// (`/.well-known/openid-configuration`); the document's `issuer` must equal [`Self::issuer`].
    pub jwks_url: Option<String>,
    /// How long one fetch (discovery or JWKS) may take.
    pub jwks_timeout: Duration,
    /// The least time between two fetches of the issuer's documents.
    pub min_refresh_interval: Duration,
    /// How old the cached keys may get before they are fetched again.
    pub max_key_age: Duration,
    /// Accept only tokens whose header says they are access tokens (`typ: at+jwt`, RFC 9068),
    /// so that an ID token for the same audience cannot pass for one. Off by default: Keycloak,
    /// Auth0 and Entra ID mark access tokens `JWT` unless told otherwise.
    pub require_at_jwt: bool,
}

impl OAuthConfig {
    /// A config for tokens from `issuer` for the resource at `resource`, with the defaults.
    pub fn new(issuer: impl Into<String>, resource: impl Into<String>) -> OAuthConfig {
        OAuthConfig {
            issuer: issuer.into(),
            resource: resource.into(),
            audiences: Vec::new(),
            authorization_servers: Vec::new(),
            algorithms: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            required_scopes: Vec::new(),
            scopes_supported: Vec::new(),
            jwks_url: None,
            jwks_timeout: DEFAULT_JWKS_TIMEOUT,
            min_refresh_interval: DEFAULT_MIN_REFRESH_INTERVAL,
            max_key_age: DEFAULT_MAX_KEY_AGE,
            require_at_jwt: false,
        }
    }

    /// Checks every field and resolves the algorithm names. The first problem found is the error.
    pub fn check(&self) -> Result<Vec<Algorithm>, ConfigError> {
        check_url("issuer", &self.issuer)?;
        check_url("resource", &self.resource)?;
        if let Some(empty) = self.audiences.iter().find(|a| a.trim().is_empty()) {
            return Err(ConfigError::Url {
                field: "audiences",
                value: empty.clone(),
                why: "an audience must not be empty",
            });
        }
        for server in &self.authorization_servers {
            check_url("authorization_servers", server)?;
        }
        if let Some(url) = &self.jwks_url {
            check_url("jwks_url", url)?;
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::Leeway {
                seconds: self.leeway.as_secs(),
                max: MAX_LEEWAY.as_secs(),
            });
        }
        if self.jwks_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        for scope in self.required_scopes.iter().chain(&self.scopes_supported) {
            if scope.is_empty()
                || scope.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\')
            {
                return Err(ConfigError::Scope {
                    scope: scope.clone(),
                });
            }
        }
        let names: Vec<&str> = if self.algorithms.is_empty() {
            DEFAULT_ALGORITHMS.to_vec()
        } else {
            self.algorithms.iter().map(String::as_str).collect()
        };
        names.into_iter().map(parse_algorithm).collect()
    }

    /// The authorization servers the metadata document names.
    pub fn authorization_servers(&self) -> Vec<String> {
        if self.authorization_servers.is_empty() {
            vec![self.issuer.clone()]
        } else {
            self.authorization_servers.clone()
        }
    }

    /// The scopes the metadata document lists.
    pub fn scopes_supported(&self) -> Vec<String> {
        if self.scopes_supported.is_empty() {
            self.required_scopes.clone()
        } else {
            self.scopes_supported.clone()
        }
    }
}

/// Resolves one algorithm name, refusing the ones that must never verify an access token.
pub(crate) fn parse_algorithm(name: &str) -> Result<Algorithm, ConfigError> {
    if name.eq_ignore_ascii_case("none") {
        return Err(ConfigError::Refused {
            alg: name.to_string(),
            why: "it accepts unsigned tokens",
        });
    }
    if name.to_ascii_uppercase().starts_with("HS") {
        return Err(ConfigError::Refused {
            alg: name.to_string(),
            why: "HMAC needs a shared secret, which a JWKS never publishes, and a public key used as one lets anyone sign",
        });
    }
    name.parse::<Algorithm>()
        .map_err(|_| ConfigError::UnknownAlgorithm {
            alg: name.to_string(),
        })
}

/// An absolute http(s) URL; plain http only on a loopback host (tests, a local issuer).
pub(crate) fn check_url(field: &'static str, value: &str) -> Result<(), ConfigError> {
    let bad = |why: &'static str| ConfigError::Url {
        field,
        value: value.to_string(),
        why,
    };
    let url = reqwest::Url::parse(value).map_err(|_| bad("it is not an absolute URL"))?;
    if url.fragment().is_some() {
        return Err(bad("it has a fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(bad("plain http is allowed only on a loopback host")),
        _ => Err(bad("the scheme must be https")),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A setting [`OAuthConfig::check`] refuses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `none` or an HMAC algorithm was configured.
    #[error("algorithm {alg:?} is never accepted: {why}")]
    Refused {
        /// The configured name.
        alg: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// A name that is no JWS algorithm jsonwebtoken knows.
    #[error("unknown algorithm {alg:?} (expected one of {})", DEFAULT_ALGORITHMS.join(", "))]
    UnknownAlgorithm {
        /// The configured name.
        alg: String,
    },
    /// A URL field is not an acceptable URL.
    #[error("{field} {value:?} is refused: {why}")]
    Url {
        /// Which field.
        field: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The leeway is larger than [`MAX_LEEWAY`].
    #[error("leeway of {seconds} s is more than the {max} s allowed")]
    Leeway {
        /// The configured leeway.
        seconds: u64,
        /// The largest allowed.
        max: u64,
    },
    /// A zero JWKS timeout would fail every fetch.
    #[error("jwks_timeout must be more than zero")]
    ZeroTimeout,
    /// A scope that is empty or holds a space or a quote.
    #[error("scope {scope:?} is empty or holds whitespace or a quote")]
    Scope {
        /// The configured scope.
        scope: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OAuthConfig {
        OAuthConfig::new("https://issuer.example.com", "https://mcp.example.com/mcp")
    }

    #[test]
    fn defaults_are_the_asymmetric_algorithms() {
        let algorithms = config().check().expect("valid");
        assert!(algorithms.contains(&Algorithm::RS256));
        assert!(algorithms.contains(&Algorithm::ES256));
        assert!(algorithms.contains(&Algorithm::EdDSA));
        assert!(!algorithms.contains(&Algorithm::HS256));
    }

    #[test]
    fn none_and_hmac_fail_loudly() {
        for alg in ["none", "NONE", "HS256", "hs512"] {
            let mut config = config();
            config.algorithms = vec!["RS256".into(), alg.into()];
            let error = config.check().expect_err(alg).to_string();
            assert!(
                error.starts_with(&format!("algorithm {alg:?} is never accepted")),
                "{error}"
            );
        }
        let mut config = config();
        config.algorithms = vec!["RS257".into()];
        assert!(
            config
                .check()
                .expect_err("unknown")
                .to_string()
                .starts_with("unknown algorithm \"RS257\"")
        );
    }

    #[test]
    fn urls_must_be_https_except_on_loopback() {
        let mut local = OAuthConfig::new("http://127.0.0.1:9000", "http://localhost:8080/mcp");
        assert!(local.check().is_ok());
        local.issuer = "http://issuer.example.com".into();
        assert_eq!(
            local.check().expect_err("plain http").to_string(),
            "issuer \"http://issuer.example.com\" is refused: plain http is allowed only on a loopback host"
        );
        let mut config = config();
        config.resource = "/mcp".into();
        assert!(config.check().is_err());
    }

    #[test]
    fn leeway_is_bounded() {
        let mut config = config();
        config.leeway = Duration::from_secs(301);
        assert_eq!(
            config.check().expect_err("too long").to_string(),
            "leeway of 301 s is more than the 300 s allowed"
        );
    }
}
