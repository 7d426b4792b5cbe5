//! Pagination in each real-world style, asserted on the requests that were made.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use codemode_upstream::{PageLimits, PageStyle, SessionLimits};
use serde_json::json;

use crate::fixture::{TestServer, json_response, session};

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
    let items = session(&server)
        .paginate("GetCustomers", &json!({"limit": 2}), PageLimits::default())
        .await
        .expect("pages");
    assert_eq!(
        items,
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
    let items = session(&server)
        .paginate(
            "listIssues",
            &json!({"per_page": 2}),
            PageLimits {
                max_items: Some(5),
                ..Default::default()
            },
        )
        .await
        .expect("pages");
    assert_eq!(items.len(), 5, "cut at max_items");
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
    let items = session(&server)
        .paginate("listZones", &json!({"per_page": 1}), PageLimits::default())
        .await
        .expect("pages");
    assert_eq!(items, vec![json!({"zone": 1}), json!({"zone": 2})]);
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
    let items = session(&server)
        .paginate("listPods", &json!({"limit": 1}), PageLimits::default())
        .await
        .expect("pages");
    assert_eq!(items, vec![json!({"name": "a"}), json!({"name": "b"})]);
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
    let items = session(&server)
        .paginate(
            "listFiles",
            &json!({}),
            PageLimits {
                max_pages: Some(3),
                ..Default::default()
            },
        )
        .await
        .expect("pages");
    assert_eq!(items.len(), 3);
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
    assert_eq!(queries(&server), ["limit=2", "after=2&limit=2"]);
}
