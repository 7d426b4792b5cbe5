//! Pagination: repeat an operation, following the paging style of the API, and concatenate the
//! items. A `Link: rel="next"` header is always followed when present; otherwise the style is
//! detected from the operation's query parameters (or forced through [`PageLimits::style`]).

use codemode_spec::{Operation, ParameterLocation};
use serde_json::{Map, Value, json};

use crate::client::{PreparedRequest, Session};
use crate::validate;
use crate::{CallError, CallErrorKind, PageLimits, PageStyle};

/// Pages fetched when the caller sets no limit.
const DEFAULT_MAX_PAGES: u32 = 10;

/// The paging style an operation's parameters suggest.
pub fn detect_style(op: &Operation) -> PageStyle {
    let has = |name: &str| {
        op.parameters
            .iter()
            .any(|p| p.location == ParameterLocation::Query && p.name == name)
    };
    if has("starting_after") {
        PageStyle::StartingAfter
    } else if has("continue") {
        PageStyle::ContinueToken
    } else if has("after") {
        PageStyle::After {
            param: "after".to_string(),
        }
    } else if has("cursor") {
        PageStyle::After {
            param: "cursor".to_string(),
        }
    } else if has("page") {
        PageStyle::PageNumber {
            page_param: "page".to_string(),
        }
    } else {
        PageStyle::LinkHeader
    }
}

impl Session {
    /// Calls an operation page after page and returns the concatenated items (the response
    /// array, or its `data`/`items`/`result`/… array). Stops at `max_items`, `max_pages`
    /// (default 10), an empty page, or when the API says there is no more.
    pub async fn paginate(
        &self,
        operation: &str,
        args: &Value,
        limits: PageLimits,
    ) -> Result<Vec<Value>, CallError> {
        let client = self.client().clone();
        let spec = client.spec().clone();
        let op = spec
            .find(operation)
            .ok_or_else(|| validate::unknown_operation(&spec, operation))
            .map_err(|e| client.redact_error(e))?;
        let style = limits.style.clone().unwrap_or_else(|| detect_style(op));
        let max_pages = limits.max_pages.unwrap_or(DEFAULT_MAX_PAGES).max(1);
        let mut args = match args {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            other => {
                // Let `prepare` produce the usual message.
                return Err(self.prepare_operation(op, other).err().unwrap_or_else(|| {
                    CallError::new(CallErrorKind::Validation, "args must be an object")
                }));
            }
        };
        let mut items: Vec<Value> = Vec::new();
        let mut next = Some(
            self.prepare_operation(op, &Value::Object(args.clone()))
                .map_err(|e| client.redact_error(e))?,
        );
        let mut pages = 0u32;
        while let Some(prepared) = next.take() {
            pages += 1;
            let response = self.send(prepared.clone()).await?;
            if !response.is_success() {
                return Err(client.redact_error(response.to_error(&prepared)));
            }
            let page_items = page_items(&response.body);
            let count = page_items.len();
            for item in page_items {
                if limits.max_items.is_some_and(|max| items.len() >= max) {
                    break;
                }
                items.push(item);
            }
            let full = limits.max_items.is_some_and(|max| items.len() >= max);
            if full || pages >= max_pages || count == 0 {
                break;
            }
            if let Some(link) = response.header("link").and_then(next_link) {
                next = Some(self.follow_link(&prepared, &link)?);
                continue;
            }
            if advance(op, &style, &mut args, &response.body, count) {
                next = Some(
                    self.prepare_operation(op, &Value::Object(args.clone()))
                        .map_err(|e| client.redact_error(e))?,
                );
            }
        }
        Ok(items)
    }

    /// The request for a `Link` next URL: same operation, the URL as given (egress-checked).
    fn follow_link(
        &self,
        previous: &PreparedRequest,
        link: &str,
    ) -> Result<PreparedRequest, CallError> {
        let client = self.client();
        let base = url::Url::parse(&previous.url).ok();
        let resolved = match base.and_then(|b| b.join(link).ok()) {
            Some(url) => url,
            None => {
                return Err(CallError::new(
                    CallErrorKind::Egress,
                    client.redact(&format!("next-page link {link:?} is not a valid url")),
                ));
            }
        };
        let checked = client
            .inner
            .base
            .check(resolved.as_str())
            .map_err(|e| client.redact_error(e))?;
        Ok(PreparedRequest {
            url: checked.to_string(),
            query: checked.query().map(str::to_string),
            body: None,
            content_type: None,
            body_preview: None,
            ..previous.clone()
        })
    }
}

/// Updates `args` for the next page; false when there is none.
fn advance(
    op: &Operation,
    style: &PageStyle,
    args: &mut Map<String, Value>,
    body: &Value,
    count: usize,
) -> bool {
    let key = |name: &str| query_key(op, name);
    match style {
        PageStyle::LinkHeader => false,
        PageStyle::StartingAfter => {
            if body.get("has_more") == Some(&Value::Bool(false)) {
                return false;
            }
            match (last_item_id(body), key("starting_after")) {
                (Some(id), Some(k)) => {
                    args.insert(k, id);
                    true
                }
                _ => false,
            }
        }
        PageStyle::ContinueToken => {
            let token = body
                .pointer("/metadata/continue")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty());
            match (token, key("continue")) {
                (Some(token), Some(k)) => {
                    args.insert(k, json!(token));
                    true
                }
                _ => false,
            }
        }
        PageStyle::After { param } => {
            if body.get("has_more") == Some(&Value::Bool(false)) {
                return false;
            }
            if page_is_short(op, args, count) {
                return false;
            }
            let next = body
                .get("last_id")
                .filter(|v| v.is_string() || v.is_number())
                .map(|v| Value::String(crate::serialize::scalar_text(v)))
                .or_else(|| body.get("next_cursor").filter(|v| v.is_string()).cloned())
                .or_else(|| largest_snowflake(body))
                .or_else(|| last_item_id(body));
            match (next, key(param)) {
                (Some(next), Some(k)) => {
                    args.insert(k, next);
                    true
                }
                _ => false,
            }
        }
        PageStyle::PageNumber { page_param } => {
            let Some(k) = key(page_param) else {
                return false;
            };
            let current = args.get(&k).and_then(as_u64_lenient).unwrap_or(1);
            if let Some(info) = body.get("result_info") {
                let total_pages = info.get("total_pages").and_then(Value::as_u64);
                let total_count = info.get("total_count").and_then(Value::as_u64);
                let per_page = info.get("per_page").and_then(Value::as_u64);
                let last = match (total_pages, total_count, per_page) {
                    (Some(pages), _, _) => current >= pages,
                    (None, Some(total), Some(per)) if per > 0 => current * per >= total,
                    _ => false,
                };
                if last {
                    return false;
                }
            } else if page_is_short(op, args, count) {
                return false;
            }
            args.insert(k, json!(current + 1));
            true
        }
    }
}

/// Whether the page had fewer items than the page size the caller asked for.
fn page_is_short(op: &Operation, args: &Map<String, Value>, count: usize) -> bool {
    ["per_page", "limit", "page_size", "pageSize"]
        .iter()
        .filter_map(|name| query_key(op, name))
        .filter_map(|k| args.get(&k).and_then(as_u64_lenient))
        .next()
        .is_some_and(|size| (count as u64) < size)
}

fn as_u64_lenient(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The `args` key of a query parameter (see `Operation::arguments`).
fn query_key(op: &Operation, name: &str) -> Option<String> {
    let index = op
        .parameters
        .iter()
        .position(|p| p.location == ParameterLocation::Query && p.name == name)?;
    op.arguments()
        .into_iter()
        .find(|a| a.source == codemode_spec::ArgumentSource::Parameter(index))
        .map(|a| a.key)
}

/// The items of one page: the body if it is an array, else its first list-like field.
pub(crate) fn page_items(body: &Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items.clone(),
        Value::Object(map) => {
            for key in [
                "data", "items", "result", "results", "value", "entries", "records",
            ] {
                if let Some(Value::Array(items)) = map.get(key) {
                    return items.clone();
                }
            }
            map.values()
                .find_map(|v| v.as_array().cloned())
                .unwrap_or_else(|| vec![body.clone()])
        }
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// The last item's `id`, as a string: cursors are strings in every API we page through.
fn last_item_id(body: &Value) -> Option<Value> {
    page_items(body)
        .last()?
        .get("id")
        .filter(|v| v.is_string() || v.is_number())
        .map(|v| Value::String(crate::serialize::scalar_text(v)))
}

/// For a bare array of items with numeric-string ids (Discord snowflakes), the largest id:
/// Discord returns newest first, so "after the last item" would go backwards.
fn largest_snowflake(body: &Value) -> Option<Value> {
    let Value::Array(items) = body else {
        return None;
    };
    let ids: Vec<&str> = items
        .iter()
        .map(|item| item.get("id").and_then(Value::as_str))
        .collect::<Option<Vec<_>>>()?;
    if ids.is_empty()
        || !ids
            .iter()
            .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    ids.into_iter()
        .max_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)))
        .map(|id| Value::String(id.to_string()))
}

/// The `rel="next"` target of a Link header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p == "rel=\"next\"" || p == "rel=next" || (p.starts_with("rel=") && p.contains("next"))
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_yield_the_next_target() {
        let header = "<https://api.github.com/x?page=1>; rel=\"prev\", <https://api.github.com/x?page=3>; rel=\"next\", <https://api.github.com/x?page=9>; rel=\"last\"";
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/x?page=3")
        );
        assert_eq!(next_link("<https://a/x>; rel=\"last\""), None);
    }

    #[test]
    fn discord_pages_continue_after_the_newest_snowflake() {
        let body = json!([{"id": "1002"}, {"id": "999"}, {"id": "1001"}]);
        assert_eq!(largest_snowflake(&body), Some(json!("1002")));
        assert_eq!(largest_snowflake(&json!([{"id": "abc"}])), None);
        assert_eq!(largest_snowflake(&json!({"data": []})), None);
    }

    #[test]
    fn items_come_from_the_usual_fields() {
        assert_eq!(page_items(&json!([1, 2])), vec![json!(1), json!(2)]);
        assert_eq!(
            page_items(&json!({"object": "list", "data": [3]})),
            vec![json!(3)]
        );
        assert_eq!(
            page_items(&json!({"kind": "PodList", "items": [4]})),
            vec![json!(4)]
        );
        assert_eq!(
            page_items(&json!({"success": true, "result": [5], "result_info": {}})),
            vec![json!(5)]
        );
    }
}
