//! Pagination in each real-world style, asserted on the requests that were made.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use codemode_upstream::{PageLimits, PageStyle, Pages, PagesCut, SessionLimits};
use serde_json::{Value, json};

use crate::fixture::{TestServer, json_response, session};

/// Pages through `operation` on `server`; a pagination that does not end within 10 s fails.
async fn paginate(server: &TestServer, operation: &str, args: Value, limits: PageLimits) -> Pages {
    tokio::time::timeout(
        Duration::from_secs(10),
        session(server).paginate(operation, &args, limits),
    )
    .await
    .expect("pagination ends")
    .expect("pages")
}

/// [`paginate`] with no limits but the default ones.
async fn paginate_all(server: &TestServer, operation: &str, args: Value) -> Pages {
    paginate(server, operation, args, PageLimits::default()).await
}

/// A server answering every request with `body(index)` as JSON.
async fn answering(body: impl Fn(usize) -> Value + Send + Sync + 'static) -> TestServer {
    TestServer::start(move |_, index| json_response(StatusCode::OK, &body(index).to_string())).await
}

fn queries(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| r.query.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn stripe_starting_after_and_has_more() {
    let server = TestServer::start(|request, _| {
        let body = match request.query.as_deref() {
            Some("limit=2") => {
                r#"{"object":"list","data":[{"id":"cus_1"},{"id":"cus_2"}],"has_more":true}"#
            }
            Some("starting_after=cus_2&limit=2") => {
                r#"{"object":"list","data":[{"id":"cus_3"}],"has_more":false}"#
            }
            _ => r#"{"object":"list","data":[],"has_more":false}"#,
        };
        json_response(StatusCode::OK, body)
    })
    .await;
    let pages = paginate_all(&server, "GetCustomers", json!({"limit": 2})).await;
    assert_eq!(pages.cut, None, "the whole list");
    assert_eq!(
        pages.items,
        vec![
            json!({"id": "cus_1"}),
            json!({"id": "cus_2"}),
            json!({"id": "cus_3"})
        ]
    );
    assert_eq!(
        queries(&server),
        ["limit=2", "starting_after=cus_2&limit=2"]
    );
}

#[tokio::test]
async fn github_link_headers_are_followed() {
    let server = TestServer::start(|request, _| {
        let page: u32 = request
            .query
            .as_deref()
            .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("page=")))
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        let link = if page < 3 {
            format!(
                "<{}/v1/repositories/9/issues?per_page=2&page={}>; rel=\"next\"",
                "http://HOST",
                page + 1
            )
        } else {
            String::new()
        };
        let host = request.header("host").unwrap_or_default().to_string();
        let body = json!([{"n": page * 2 - 1}, {"n": page * 2}]).to_string();
        (
            StatusCode::OK,
            [
                ("content-type", "application/json".to_string()),
                ("link", link.replace("HOST", &host)),
            ],
            body,
        )
            .into_response()
    })
    .await;
    let limits = PageLimits {
        max_items: Some(5),
        ..Default::default()
    };
    let pages = paginate(&server, "listIssues", json!({"per_page": 2}), limits).await;
    let items = pages.items;
    assert_eq!(items.len(), 5, "cut at max_items");
    assert_eq!(pages.cut, None, "max_items is what the caller asked for");
    assert_eq!(items[4], json!({"n": 5}));
    let requests = server.requests();
    assert_eq!(requests[1].path, "/v1/repositories/9/issues");
    assert_eq!(
        queries(&server),
        ["per_page=2", "per_page=2&page=2", "per_page=2&page=3"]
    );
}

#[tokio::test]
async fn cloudflare_page_numbers_stop_at_total_pages() {
    let server = TestServer::start(|request, _| {
        let page = if request.query.as_deref().is_some_and(|q| q.contains("page=2")) { 2 } else { 1 };
        json_response(
            StatusCode::OK,
            &json!({"success": true, "result": [{"zone": page}], "result_info": {"page": page, "per_page": 1, "total_pages": 2}}).to_string(),
        )
    })
    .await;
    let pages = paginate_all(&server, "listZones", json!({"per_page": 1})).await;
    assert_eq!(pages.items, vec![json!({"zone": 1}), json!({"zone": 2})]);
    assert_eq!(pages.cut, None);
    assert_eq!(queries(&server), ["per_page=1", "page=2&per_page=1"]);
}

#[tokio::test]
async fn kubernetes_continue_tokens() {
    let server = TestServer::start(|request, _| {
        let body = if request.query.as_deref().is_some_and(|q| q.contains("continue=")) {
            json!({"kind": "PodList", "metadata": {"continue": ""}, "items": [{"name": "b"}]})
        } else {
            json!({"kind": "PodList", "metadata": {"continue": "tok/1+="}, "items": [{"name": "a"}]})
        };
        json_response(StatusCode::OK, &body.to_string())
    })
    .await;
    let pages = paginate_all(&server, "listPods", json!({"limit": 1})).await;
    assert_eq!(
        pages.items,
        vec![json!({"name": "a"}), json!({"name": "b"})]
    );
    assert_eq!(pages.cut, None);
    assert_eq!(
        queries(&server),
        ["limit=1", "continue=tok%2F1%2B%3D&limit=1"]
    );
}

#[tokio::test]
async fn openai_after_with_last_id_and_max_pages() {
    let server = TestServer::start(|_, index| {
        let body = json!({"object": "list", "data": [{"id": format!("file-{index}")}], "last_id": format!("file-{index}"), "has_more": true});
        json_response(StatusCode::OK, &body.to_string())
    })
    .await;
    let limits = PageLimits {
        max_pages: Some(3),
        ..Default::default()
    };
    let pages = paginate(&server, "listFiles", json!({}), limits).await;
    assert_eq!(pages.items.len(), 3);
    assert_eq!(
        (pages.pages, pages.cut),
        (3, Some(PagesCut::PageLimit { max_pages: 3 }))
    );
    assert_eq!(queries(&server), ["", "after=file-0", "after=file-1"]);
}

#[tokio::test]
async fn a_forced_style_and_errors_mid_way() {
    let server = TestServer::start(|_, index| {
        if index == 0 {
            json_response(StatusCode::OK, r#"[{"id":1},{"id":2}]"#)
        } else {
            json_response(StatusCode::BAD_REQUEST, r#"{"message":"bad cursor"}"#)
        }
    })
    .await;
    let client = crate::fixture::client(&server, vec![]);
    let error = client
        .session(SessionLimits::default())
        .paginate(
            "listFiles",
            &json!({"limit": 2}),
            PageLimits {
                style: Some(PageStyle::After {
                    param: "after".into(),
                }),
                ..Default::default()
            },
        )
        .await
        .expect_err("second page fails");
    assert_eq!(
        error.message,
        "GET /files failed: 400 bad request: bad cursor"
    );
    // What the first page gave is not lost with the second.
    assert_eq!(error.data["items"], json!([{"id": 1}, {"id": 2}]));
    assert_eq!(error.data["pages"], json!(1));
    assert_eq!(error.data["status"], json!(400));
    assert_eq!(queries(&server), ["limit=2", "after=2&limit=2"]);
}

#[tokio::test]
async fn the_default_page_limit_is_ten_and_says_it_cut() {
    let server = answering(|index| {
        json!({"object": "list", "data": [{"id": format!("file-{index}")}], "has_more": true})
    })
    .await;
    let pages = paginate_all(&server, "listFiles", json!({})).await;
    assert_eq!(pages.items.len(), 10);
    assert_eq!(
        (pages.pages, pages.cut),
        (10, Some(PagesCut::PageLimit { max_pages: 10 }))
    );
    assert_eq!(server.requests().len(), 10, "no request past the limit");
}

#[tokio::test]
async fn has_more_without_a_cursor_is_reported_not_taken_as_the_end() {
    // Stripe style, but the items carry no `id` to start after.
    let server = answering(
        |_| json!({"object": "list", "data": [{"name": "a"}, {"name": "b"}], "has_more": true}),
    )
    .await;
    let pages = paginate_all(&server, "GetCustomers", json!({})).await;
    assert_eq!(pages.items.len(), 2);
    assert_eq!((pages.pages, pages.cut), (1, Some(PagesCut::NoCursor)));
    // An operation with no paging parameter at all, whose answer says there is more.
    let server = answering(|_| json!({"results": [{"n": 1}], "next_cursor": "c2"})).await;
    let pages = paginate_all(&server, "getFile", json!({"path": "x"})).await;
    assert_eq!(
        (pages.items.len(), pages.cut),
        (1, Some(PagesCut::NoCursor))
    );
    // The same answer saying there is no more is complete.
    let server =
        answering(|_| json!({"results": [{"n": 1}], "next_cursor": null, "has_more": false})).await;
    let pages = paginate_all(&server, "getFile", json!({"path": "x"})).await;
    assert_eq!((pages.items.len(), pages.cut), (1, None));
}

#[tokio::test]
async fn a_cursor_that_does_not_move_stops_before_repeating_the_request() {
    // New items each time, but `last_id` is stuck at the first page's.
    let server = answering(|index| {
        json!({"object": "list", "data": [{"id": format!("file-{index}")}], "last_id": "file-0", "has_more": true})
    })
    .await;
    let pages = paginate_all(&server, "listFiles", json!({})).await;
    assert_eq!(
        pages.items,
        vec![json!({"id": "file-0"}), json!({"id": "file-1"})]
    );
    assert_eq!(
        (pages.pages, pages.cut),
        (2, Some(PagesCut::RepeatedRequest))
    );
    assert_eq!(queries(&server), ["", "after=file-0"]);
}

#[tokio::test]
async fn a_page_that_repeats_the_previous_one_is_dropped_and_reported() {
    // The API ignores `page`: every page is the first.
    let server = answering(|_| json!([{"zone": "a"}, {"zone": "b"}])).await;
    let pages = paginate_all(&server, "listZones", json!({})).await;
    assert_eq!(
        pages.items,
        vec![json!({"zone": "a"}), json!({"zone": "b"})]
    );
    assert_eq!((pages.pages, pages.cut), (2, Some(PagesCut::RepeatedPage)));
    assert_eq!(queries(&server), ["", "page=2"]);
}

#[tokio::test]
async fn a_next_url_in_the_body_is_followed() {
    let server = answering(|index| match index {
        0 => json!({"results": [{"n": 1}], "next": "/v1/files/x?page=2"}),
        _ => json!({"results": [{"n": 2}], "next": null}),
    })
    .await;
    // `getFile` has no paging parameter: the body's link is the only way on.
    let pages = paginate_all(&server, "getFile", json!({"path": "x"})).await;
    assert_eq!(pages.items, vec![json!({"n": 1}), json!({"n": 2})]);
    assert_eq!(pages.cut, None);
    assert_eq!(queries(&server), ["", "page=2"]);
}

#[tokio::test]
async fn an_empty_next_cursor_ends_the_list() {
    // The items have ids, but the API says there is no next page: no second request.
    let server =
        answering(|_| json!({"data": [{"id": "f1"}, {"id": "f2"}], "next_cursor": null})).await;
    let pages = paginate_all(&server, "listFiles", json!({})).await;
    assert_eq!((pages.items.len(), pages.pages, pages.cut), (2, 1, None));
    assert_eq!(queries(&server), [""]);
}
