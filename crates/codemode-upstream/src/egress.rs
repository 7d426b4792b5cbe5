//! Egress control: the configured base URL is the only reachable origin. Operation URLs are
//! built under its path; raw paths from scripts are refused when they could name another host
//! or climb out of the base path; every URL is checked again just before it is requested, and
//! after every redirect.

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use url::Url;

use crate::{CallError, CallErrorKind, ConfigError};

/// The configured base URL, parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    pub(crate) url: Url,
    /// The base URL as text without a trailing slash; operation paths are appended to it.
    pub(crate) prefix: String,
    /// The base path without a trailing slash (`""` for the root).
    path: String,
}

impl Base {
    pub(crate) fn parse(base_url: &str) -> Result<Base, ConfigError> {
        let trimmed = base_url.trim();
        if trimmed.is_empty() {
            return Err(ConfigError::MissingBaseUrl);
        }
        let invalid = |reason: &str| ConfigError::InvalidBaseUrl {
            url: trimmed.to_string(),
            reason: reason.to_string(),
        };
        let url = Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("only http and https are supported"));
        }
        if url.host().is_none() {
            return Err(invalid("it has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "put credentials in the credentials list, not the url",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("a base url cannot have a query or fragment"));
        }
        let prefix = url.as_str().trim_end_matches('/').to_string();
        let path = url.path().trim_end_matches('/').to_string();
        Ok(Base { url, prefix, path })
    }

    pub(crate) fn origin_text(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    /// Whether a URL is on the base origin and under the base path.
    pub(crate) fn contains(&self, url: &Url) -> bool {
        if url.origin() != self.url.origin() {
            return false;
        }
        let path = url.path();
        self.path.is_empty()
            || path == self.path
            || path
                .strip_prefix(self.path.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }

    pub(crate) fn same_origin(&self, url: &Url) -> bool {
        url.origin() == self.url.origin()
    }

    /// Parses a URL built by this crate (or handed back in a [`crate::PreparedRequest`]) and
    /// refuses it unless it is under the base.
    pub(crate) fn check(&self, url: &str) -> Result<Url, CallError> {
        let parsed = match self.parse_under_prefix(url) {
            Some(parsed) => parsed,
            None => Url::parse(url).map_err(|_| {
                CallError::new(
                    CallErrorKind::Egress,
                    format!("request url {url:?} is not a valid url"),
                )
            })?,
        };
        if !self.contains(&parsed) {
            return Err(CallError::new(
                CallErrorKind::Egress,
                format!(
                    "request to {} refused: only {}{} is reachable",
                    display_without_query(&parsed),
                    self.origin_text(),
                    if self.path.is_empty() {
                        "/"
                    } else {
                        &self.path
                    },
                ),
            ));
        }
        Ok(parsed)
    }
}

impl Base {
    /// The fast path for the URLs this crate builds: `prefix` + `/path` + optional `?query`
    /// with nothing unusual in it. The scheme, host and port are the base's (already parsed)
    /// and only the path and query are parsed, exactly as a full parse would (dot segments
    /// resolved, characters encoded). `None` means "use the full parser".
    fn parse_under_prefix(&self, url: &str) -> Option<Url> {
        let rest = url.strip_prefix(self.prefix.as_str())?;
        // Anything a full parse treats specially beyond path and query goes the slow way:
        // fragments, backslashes, whitespace and control characters, non-ASCII.
        let plain = rest
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'#' && b != b'\\');
        if !plain || !rest.starts_with('/') {
            return None;
        }
        // The prefix ends with the base path (a base has no query or fragment).
        let path_start = self.prefix.len().checked_sub(self.path.len())?;
        let path_and_query = url.get(path_start..)?;
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let mut parsed = self.url.clone();
        parsed.set_path(path);
        parsed.set_query(query);
        Some(parsed)
    }
}

/// A URL for messages: scheme, host and path only (queries can carry keys).
pub(crate) fn display_without_query(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// Characters a raw path may not carry literally; they are percent-encoded (`%` is kept so
/// pre-encoded paths pass through).
const RAW_PATH_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'^');

/// Checks a script-supplied path (the `api.request` escape hatch) and returns it encoded,
/// split from any query it carried. Refuses anything that could reach another host or leave
/// the base path: absolute URLs, `//host`, a missing leading slash, backslashes, dot segments
/// (also percent-encoded), fragments and control characters.
pub(crate) fn check_raw_path(path: &str) -> Result<(String, Option<String>), CallError> {
    let refuse = |why: &str| {
        CallError::new(
            CallErrorKind::Egress,
            format!(
                "path {:?} refused: {why}",
                crate::validate::truncate(path, 200)
            ),
        )
        .with_data(serde_json::json!({ "path": path }))
    };
    if path.contains("://") || !path.starts_with('/') {
        return Err(refuse(
            "give a path starting with \"/\" relative to the api base url, not a url",
        ));
    }
    if path.starts_with("//") {
        return Err(refuse("a path cannot start with \"//\""));
    }
    if path.contains('\\') {
        return Err(refuse("backslashes are not allowed"));
    }
    if path.contains('#') {
        return Err(refuse("fragments are not allowed"));
    }
    if path.chars().any(|c| c.is_control()) {
        return Err(refuse("control characters are not allowed"));
    }
    let (path_part, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    if has_dot_segment(path_part) {
        return Err(refuse("dot segments (. and ..) are not allowed"));
    }
    let encoded_path = utf8_percent_encode(path_part, RAW_PATH_ESCAPES).to_string();
    let encoded_query = query
        .filter(|q| !q.is_empty())
        .map(|q| utf8_percent_encode(q, RAW_PATH_ESCAPES).to_string());
    Ok((encoded_path, encoded_query))
}

/// Whether a path has a `.` or `..` segment, literally or once (or twice) percent-decoded,
/// including encoded slashes and backslashes as separators.
fn has_dot_segment(path: &str) -> bool {
    let mut current = path.to_string();
    for _ in 0..4 {
        if current
            .split(['/', '\\'])
            .any(|segment| segment == "." || segment == "..")
        {
            return true;
        }
        let decoded = percent_decode_str(&current).decode_utf8_lossy().to_string();
        if decoded == current {
            return false;
        }
        current = decoded;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_paths_cannot_change_host_or_climb() {
        for bad in [
            "http://evil.example/x",
            "//evil.example/x",
            "evil.example/x",
            "@evil.example/x",
            "/a/../../admin",
            "/a/%2e%2e/admin",
            "/a/..%2fadmin",
            "/a/%252e%252e/admin",
            "/a\\..\\admin",
            "/a#frag",
            "/a\r\nHost: x",
        ] {
            assert!(check_raw_path(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_raw_path("/users/a b@c?x=1 2"),
            Ok(("/users/a%20b@c".to_string(), Some("x=1%202".to_string())))
        );
    }

    #[test]
    fn the_fast_parse_matches_the_full_parser() -> Result<(), ConfigError> {
        for base in ["http://127.0.0.1:8080/v1", "https://api.example.test/"] {
            let base = Base::parse(base)?;
            for tail in [
                "/pets/1?fields=name&fields=tag",
                "/pets/a%2Fb?q=%20x",
                "/pets/../../admin",
                "/pets/%2e%2e/admin",
                "/pets/./x/",
                "/pets?",
                "/pets?a=b?c",
                "/p%C3%A9ts/{x}|^`",
                "/pets/\\..\\x",
                "/pets#frag",
                "/pets/a b",
                "/pets/é",
                "/",
            ] {
                let url = format!("{}{tail}", base.prefix);
                let fast = base.parse_under_prefix(&url).map(|u| u.to_string());
                let full = Url::parse(&url).map(|u| u.to_string()).ok();
                if let Some(fast) = fast {
                    assert_eq!(Some(fast), full, "{url}");
                }
                assert_eq!(
                    base.check(&url).map(|u| u.to_string()).ok(),
                    full.filter(|f| Url::parse(f).is_ok_and(|u| base.contains(&u))),
                    "{url}"
                );
            }
            assert!(
                base.parse_under_prefix("http://evil.example/v1/x")
                    .is_none()
            );
            assert!(
                base.parse_under_prefix(&format!("{}x", base.prefix))
                    .is_none()
            );
        }
        Ok(())
    }

    #[test]
    fn base_contains_only_its_origin_and_path() -> Result<(), ConfigError> {
        let base = Base::parse("http://127.0.0.1:8080/v1/")?;
        let inside = |u: &str| Url::parse(u).map(|u| base.contains(&u)).unwrap_or(false);
        assert!(inside("http://127.0.0.1:8080/v1/pets"));
        assert!(inside("http://127.0.0.1:8080/v1"));
        assert!(!inside("http://127.0.0.1:8080/v10/pets"));
        assert!(!inside("http://127.0.0.1:8080/v1/../admin"));
        assert!(!inside("http://127.0.0.1:8081/v1/pets"));
        assert!(!inside("https://127.0.0.1:8080/v1/pets"));
        assert!(!inside("http://evil@127.0.0.2:8080/v1/pets"));
        assert!(matches!(Base::parse(""), Err(ConfigError::MissingBaseUrl)));
        Ok(())
    }
}
