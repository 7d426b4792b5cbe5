//! Credentials, resolved once against the spec's security schemes and added to each request on
//! its way out (never to a prepared request a script can see). OAuth2 client-credentials tokens
//! are fetched on first use, cached until shortly before they expire, and refetched after a 401.
//! The token request goes through the same [`Transport`] as the calls (so an in-process
//! upstream can issue tokens too), with its response cut at the size limit; the token URL is
//! the configured one, which may be another origin than the API's. Must not know sessions.

use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use codemode_spec::{ApiKeyLocation, SecurityScheme, Spec};
use http::header::{self, HeaderName, HeaderValue};
use serde_json::Value;

use crate::config::Credential;
use crate::error::{CallError, CallErrorKind, ConfigError};
use crate::forward::ForwardSlot;
use crate::secret::{Redactor, Secret};
use crate::serialize::encode;
use crate::transport::{self, Transport};

/// What the host adds to every request for the configured origin.
pub(crate) struct Auth {
    /// `Authorization`, API-key headers and the static headers, ready to send.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// API keys sent in the query, as encoded `name=value` pieces.
    pub(crate) query: Vec<String>,
    /// API keys sent as cookies, as `name=value` pieces.
    pub(crate) cookies: Vec<String>,
    pub(crate) oauth: Option<OAuth>,
    /// Credentials each run takes from its request, resolved against the spec.
    pub(crate) forward: Vec<ForwardSlot>,
}

pub(crate) struct OAuth {
    token_url: String,
    client_id: String,
    client_secret: Secret,
    scopes: Vec<String>,
    /// A tokio mutex: concurrent calls wait for one token request instead of racing.
    cached: tokio::sync::Mutex<Option<(Secret, Instant)>>,
}

impl Auth {
    pub(crate) fn resolve(
        spec: &Spec,
        credentials: &[Credential],
        static_headers: &[(String, Secret)],
        redactor: &Redactor,
    ) -> Result<Auth, ConfigError> {
        let mut auth = Auth {
            headers: Vec::new(),
            query: Vec::new(),
            cookies: Vec::new(),
            oauth: None,
            forward: Vec::new(),
        };
        for credential in credentials {
            auth.add(spec, credential, redactor)?;
        }
        for (name, value) in static_headers {
            redactor.add(value.expose());
            auth.headers.push(header(name, value.expose())?);
        }
        Ok(auth)
    }

    fn add(
        &mut self,
        spec: &Spec,
        credential: &Credential,
        redactor: &Redactor,
    ) -> Result<(), ConfigError> {
        match credential {
            Credential::Bearer(token) => {
                redactor.add(token.expose());
                let value = format!("Bearer {}", token.expose());
                self.headers.push(header("authorization", &value)?);
            }
            Credential::Basic { username, password } => {
                redactor.add_basic(username, password.expose());
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                self.headers
                    .push(header("authorization", &format!("Basic {token}"))?);
            }
            Credential::ApiKey { scheme, value } => {
                redactor.add(value.expose());
                let (name, location) = api_key_scheme(spec, scheme.as_deref())?;
                match location {
                    ApiKeyLocation::Header => self.headers.push(header(&name, value.expose())?),
                    ApiKeyLocation::Query => {
                        self.query
                            .push(format!("{}={}", encode(&name), encode(value.expose())))
                    }
                    ApiKeyLocation::Cookie => {
                        self.cookies
                            .push(format!("{}={}", encode(&name), encode(value.expose())))
                    }
                }
            }
            Credential::FromRequest(forwarded) => {
                self.forward.push(ForwardSlot::resolve(forwarded, |scheme| {
                    api_key_scheme(spec, scheme)
                })?);
            }
            Credential::OAuth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scopes,
            } => {
                redactor.add(client_secret.expose());
                let token_url = match token_url {
                    Some(url) => url.clone(),
                    None => spec_token_url(spec).ok_or(ConfigError::NoTokenUrl)?,
                };
                let parsed =
                    url::Url::parse(&token_url).map_err(|e| ConfigError::InvalidTokenUrl {
                        url: token_url.clone(),
                        reason: e.to_string(),
                    })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(ConfigError::InvalidTokenUrl {
                        url: token_url,
                        reason: "only http and https are supported".to_string(),
                    });
                }
                self.oauth = Some(OAuth {
                    token_url,
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    scopes: scopes.clone(),
                    cached: tokio::sync::Mutex::new(None),
                });
            }
        }
        Ok(())
    }
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), ConfigError> {
    let header_name =
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| ConfigError::InvalidHeader {
            name: name.to_string(),
            reason: "not a valid header name".to_string(),
        })?;
    let mut header_value =
        HeaderValue::from_str(value).map_err(|_| ConfigError::InvalidHeader {
            name: name.to_string(),
            reason: "the value holds characters a header cannot carry".to_string(),
        })?;
    header_value.set_sensitive(true);
    Ok((header_name, header_value))
}

/// The apiKey scheme a credential is for: the named one, or the spec's first.
fn api_key_scheme(
    spec: &Spec,
    scheme: Option<&str>,
) -> Result<(String, ApiKeyLocation), ConfigError> {
    match scheme {
        Some(wanted) => match spec.security_schemes.get(wanted) {
            Some(SecurityScheme::ApiKey { name, location }) => Ok((name.clone(), *location)),
            Some(_) => Err(ConfigError::ApiKeyScheme {
                scheme: wanted.to_string(),
                reason: "it is not an apiKey scheme".to_string(),
            }),
            None => Err(ConfigError::ApiKeyScheme {
                scheme: wanted.to_string(),
                reason: format!(
                    "the spec has no such scheme (it has: {})",
                    spec.security_schemes
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        },
        None => spec
            .security_schemes
            .values()
            .find_map(|s| match s {
                SecurityScheme::ApiKey { name, location } => Some((name.clone(), *location)),
                _ => None,
            })
            .ok_or(ConfigError::NoApiKeyScheme),
    }
}

fn spec_token_url(spec: &Spec) -> Option<String> {
    spec.security_schemes.values().find_map(|s| match s {
        SecurityScheme::OAuth2 {
            client_credentials_token_url: Some(url),
            ..
        } => Some(url.clone()),
        _ => None,
    })
}

/// Tokens are refreshed this long before the expiry the server announced.
const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// Assumed lifetime of a token whose response gives no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

impl OAuth {
    /// A valid access token, fetched if none is cached or it is about to expire.
    pub(crate) async fn token(
        &self,
        transport: &dyn Transport,
        redactor: &Redactor,
        timeout: Duration,
        max_bytes: usize,
    ) -> Result<Secret, CallError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && Instant::now() < *expires
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.fetch(transport, redactor, timeout, max_bytes).await?;
        redactor.add(token.expose());
        let expires = Instant::now() + lifetime.saturating_sub(TOKEN_EXPIRY_MARGIN);
        *cached = Some((token.clone(), expires));
        Ok(token)
    }

    /// Forgets the cached token (after the upstream refused it).
    pub(crate) async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn fetch(
        &self,
        transport: &dyn Transport,
        redactor: &Redactor,
        timeout: Duration,
        max_bytes: usize,
    ) -> Result<(Secret, Duration), CallError> {
        let mut form = vec![
            "grant_type=client_credentials".to_string(),
            format!("client_id={}", encode(&self.client_id)),
            format!("client_secret={}", encode(self.client_secret.expose())),
        ];
        if !self.scopes.is_empty() {
            form.push(format!("scope={}", encode(&self.scopes.join(" "))));
        }
        let failed = |reason: String| {
            CallError::new(
                CallErrorKind::Config,
                redactor.redact(&format!(
                    "oauth2 token request to {} failed: {reason}",
                    self.token_url
                )),
            )
        };
        let request = http::Request::post(self.token_url.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Bytes::from(form.join("&")))
            .map_err(|e| failed(e.to_string()))?;
        let exchange = async {
            let response = transport
                .send(request)
                .await
                .map_err(|e| transport::describe_chain(&e))?;
            let (parts, mut body) = response.into_parts();
            let bytes = transport::read_limited(&mut body, max_bytes)
                .await
                .map_err(|e| format!("reading the response failed: {e}"))?
                .ok_or_else(|| format!("the response is larger than {max_bytes} bytes"))?;
            Ok::<_, String>((parts.status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| failed("timed out".to_string()))?
            .map_err(failed)?;
        let text = String::from_utf8_lossy(&bytes);
        if !status.is_success() {
            return Err(failed(format!(
                "status {}: {}",
                status.as_u16(),
                crate::validate::truncate(&text, 300)
            )));
        }
        let body: Value = serde_json::from_str(&text)
            .map_err(|_| failed("the response is not json".to_string()))?;
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| failed("the response has no access_token".to_string()))?;
        let lifetime = body
            .get("expires_in")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        Ok((Secret::new(token), lifetime))
    }
}
