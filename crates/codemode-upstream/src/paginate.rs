//! Pagination: repeat an operation, following the paging style of the API, and concatenate the
//! items. A `Link: rel="next"` header is always followed when present; otherwise the style is
//! detected from the operation's query parameters (or forced through [`PageLimits::style`]).

use std::future::Future;

use codemode_spec::{Operation, ParameterLocation};
use serde_json::{Map, Value, json};

use crate::config::{PageLimits, PageStyle};
use crate::error::{CallError, CallErrorKind};
use crate::prepare;
use crate::request::{PreparedRequest, Preview};
use crate::response::ApiResponse;
use crate::upstream::Upstream;
use crate::validate;

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

/// What [`crate::Session::paginate`] gathered, and whether it is all the API has.
#[derive(Debug, Clone, PartialEq)]
pub struct Pages {
    /// Every item gathered, in the API's order, at most [`PageLimits::max_items`] of them.
    pub items: Vec<Value>,
    /// Pages fetched.
    pub pages: u32,
    /// Why paging stopped while the API still had more; `None` when the list is complete (or
    /// cut at the caller's `max_items`, which is what was asked for).
    pub cut: Option<PagesCut>,
}

/// Why a pagination stopped short of the end of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagesCut {
    /// The response said there was more (`has_more`, a cursor, `result_info`) but gave nothing
    /// this client can follow to the next page.
    NoCursor,
    /// The next request would repeat one already made (the cursor did not move).
    RepeatedRequest,
    /// The page repeated the previous one item for item (the API ignores the paging
    /// parameter); that page is not in `items`.
    RepeatedPage,
    /// The page limit ([`PageLimits::max_pages`], default 10) was reached with more to go.
    PageLimit {
        /// The page limit that was reached.
        max_pages: u32,
    },
}

impl PagesCut {
    /// Why paging stopped, as a clause of a sentence.
    pub fn reason(&self) -> String {
        match self {
            PagesCut::NoCursor => {
                "the API said there was more but gave no cursor or next link to follow".into()
            }
            PagesCut::RepeatedRequest => {
                "the next page request repeated an earlier one (the cursor did not move)".into()
            }
            PagesCut::RepeatedPage => {
                "a page repeated the previous one item for item (the API ignored the paging parameter); the repeat was dropped".into()
            }
            PagesCut::PageLimit { max_pages } => {
                format!("the limit of {max_pages} pages was reached while the API said there was more")
            }
        }
    }
}

/// A page that failed after others succeeded: the error carries what was gathered
/// (`data.items`, `data.pages`: the pages that succeeded), so a script can keep it.
fn with_partial(mut error: CallError, pages: Pages) -> CallError {
    if pages.pages <= 1 {
        return error;
    }
    if !error.data.is_object() {
        error.data = Value::Object(Map::new());
    }
    if let Value::Object(data) = &mut error.data {
        data.insert("pages".into(), json!(pages.pages - 1));
        data.insert("items".into(), Value::Array(pages.items));
    }
    error
}

/// The request key a repeat is recognised by: URL (with query) and body.
type RequestKey = (String, Option<Vec<u8>>);

fn request_key(request: &PreparedRequest) -> RequestKey {
    (request.url.clone(), request.body.clone())
}

/// Calls an operation page after page through `send` (one call of the run's budget each) and
/// concatenates the items; see [`crate::Session::paginate`].
pub(crate) async fn paginate<F, Fut>(
    upstream: &Upstream,
    operation: &str,
    args: &Value,
    limits: PageLimits,
    send: F,
) -> Result<Pages, CallError>
where
    F: Fn(PreparedRequest) -> Fut,
    Fut: Future<Output = Result<ApiResponse, CallError>>,
{
    let spec = &upstream.spec;
    let id = spec
        .find_id(operation)
        .ok_or_else(|| validate::unknown_operation(spec, operation))
        .map_err(|e| upstream.redact_error(e))?;
    let op = spec.operation(id);
    let prepare =
        |args: &Value| prepare::prepare_operation(upstream, id, args, Preview::Build, None);
    let style = limits.style.clone().unwrap_or_else(|| detect_style(op));
    let max_pages = limits.max_pages.unwrap_or(DEFAULT_MAX_PAGES).max(1);
    let mut args = match args {
        Value::Object(map) => map.clone(),
        Value::Null => Map::new(),
        other => {
            // Let `prepare` produce the usual message.
            return Err(prepare(other).err().unwrap_or_else(|| {
                CallError::new(CallErrorKind::Validation, "args must be an object")
            }));
        }
    };
    let mut pages = Pages {
        items: Vec::new(),
        pages: 0,
        cut: None,
    };
    let mut sent: std::collections::HashSet<RequestKey> = std::collections::HashSet::new();
    let mut previous_page: Option<Vec<Value>> = None;
    let mut next =
        Some(prepare(&Value::Object(args.clone())).map_err(|e| upstream.redact_error(e))?);
    while let Some(prepared) = next.take() {
        if !sent.insert(request_key(&prepared)) {
            pages.cut = Some(PagesCut::RepeatedRequest);
            break;
        }
        pages.pages += 1;
        let response = match send(prepared.clone()).await {
            Ok(response) if response.is_success() => response,
            Ok(response) => {
                let error = upstream.redact_error(response.to_error(&prepared));
                return Err(with_partial(error, pages));
            }
            Err(error) => return Err(with_partial(error, pages)),
        };
        let page_items = page_items(&response.body);
        let count = page_items.len();
        if count > 0 && previous_page.as_ref() == Some(&page_items) {
            pages.cut = Some(PagesCut::RepeatedPage);
            break;
        }
        for item in &page_items {
            if limits.max_items.is_some_and(|max| pages.items.len() >= max) {
                break;
            }
            pages.items.push(item.clone());
        }
        previous_page = Some(page_items);
        if limits.max_items.is_some_and(|max| pages.items.len() >= max) {
            break;
        }
        let following = if count == 0 {
            None
        } else if let Some(link) = next_url(&response) {
            Some(follow_link(upstream, &prepared, &link)?)
        } else if advance(op, &style, &mut args, &response.body, count) {
            Some(prepare(&Value::Object(args.clone())).map_err(|e| upstream.redact_error(e))?)
        } else {
            None
        };
        match following {
            None if says_more(&response.body) => pages.cut = Some(PagesCut::NoCursor),
            None => {}
            Some(_) if pages.pages >= max_pages => {
                pages.cut = Some(PagesCut::PageLimit { max_pages })
            }
            Some(request) => next = Some(request),
        }
    }
    Ok(pages)
}

/// The request for a `Link` next URL: same operation, the URL as given (egress-checked).
fn follow_link(
    upstream: &Upstream,
    previous: &PreparedRequest,
    link: &str,
) -> Result<PreparedRequest, CallError> {
    let base = url::Url::parse(&previous.url).ok();
    let resolved = match base.and_then(|b| b.join(link).ok()) {
        Some(url) => url,
        None => {
            return Err(CallError::new(
                CallErrorKind::Egress,
                upstream
                    .redactor
                    .redact(&format!("next-page link {link:?} is not a valid url")),
            ));
        }
    };
    let checked = upstream
        .base
        .check(resolved.as_str())
        .map_err(|e| upstream.redact_error(e))?;
    Ok(PreparedRequest {
        url: checked.to_string(),
        query: checked.query().map(str::to_string),
        body: None,
        content_type: None,
        body_preview: None,
        ..previous.clone()
    })
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
            if body.get("has_more") == Some(&Value::Bool(false)) || names_no_next_cursor(body) {
                return false;
            }
            // A short page ends the list unless the API says otherwise.
            if body.get("has_more") != Some(&Value::Bool(true)) && page_is_short(op, args, count) {
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

/// Keys under which APIs put the list of a list response, in the order they are looked for.
const LIST_KEYS: [&str; 7] = [
    "data", "items", "result", "results", "value", "entries", "records",
];

/// The list a response carries: the body if it is an array, else its `data`/`items`/`result`/…
/// array. `None` for anything else (a single resource). The call log counts these items.
pub fn list_items(body: &Value) -> Option<&Vec<Value>> {
    match body {
        Value::Array(items) => Some(items),
        Value::Object(map) => LIST_KEYS.iter().find_map(|key| map.get(*key)?.as_array()),
        _ => None,
    }
}

/// The items of one page: [`list_items`], else the object's first array field, else the body
/// itself as the one item.
pub(crate) fn page_items(body: &Value) -> Vec<Value> {
    if let Some(items) = list_items(body) {
        return items.clone();
    }
    match body {
        Value::Object(map) => map
            .values()
            .find_map(|v| v.as_array().cloned())
            .unwrap_or_else(|| vec![body.clone()]),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// Whether a response says there are more pages: `has_more`/`hasMore` true, a non-empty
/// continue token or next cursor, or `result_info` short of its last page.
fn says_more(body: &Value) -> bool {
    let flag = |key: &str| body.get(key) == Some(&Value::Bool(true));
    let token = |pointer: &str| {
        body.pointer(pointer)
            .is_some_and(|v| v.as_str().is_some_and(|t| !t.is_empty()) || v.is_number())
    };
    let info_page = |key: &str| {
        body.pointer(&format!("/result_info/{key}"))
            .and_then(Value::as_u64)
    };
    let before_last_page = matches!(
        (info_page("page"), info_page("total_pages")),
        (Some(page), Some(total)) if page < total
    );
    flag("has_more")
        || flag("hasMore")
        || before_last_page
        || [
            "/metadata/continue",
            "/next_cursor",
            "/nextCursor",
            "/next_page_token",
            "/nextPageToken",
            "/next",
            "/response_metadata/next_cursor",
        ]
        .iter()
        .any(|pointer| token(pointer))
}

/// The next page's URL: a `Link: rel="next"` header, or a body `next` field holding a URL or an
/// absolute path (Django REST framework, many others).
fn next_url(response: &ApiResponse) -> Option<String> {
    if let Some(link) = response.header("link").and_then(next_link) {
        return Some(link);
    }
    let next = response.body.get("next")?.as_str()?;
    let is_url = next.starts_with("https://") || next.starts_with("http://");
    (is_url || (next.starts_with('/') && !next.starts_with("//"))).then(|| next.to_string())
}

/// Whether the body has a next-cursor field and leaves it empty: the API saying the list is
/// over (`"next_cursor": null`), which no item id may overrule.
fn names_no_next_cursor(body: &Value) -> bool {
    [
        "next_cursor",
        "nextCursor",
        "next_page_token",
        "nextPageToken",
    ]
    .iter()
    .filter_map(|key| body.get(*key))
    .any(|value| value.is_null() || value.as_str() == Some(""))
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
