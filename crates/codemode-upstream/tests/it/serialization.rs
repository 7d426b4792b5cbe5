//! Serialization: every parameter style and body kind, asserted on the bytes that arrived.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::fixture::{TestServer, json_response, session};

#[tokio::test]
async fn path_and_query_styles_arrive_as_the_spec_says() {
    let server = TestServer::ok().await;
    let session = session(&server);
    let body = session
        .call(
            "styles",
            &json!({
                "m": {"role": "admin", "first name": "Al"},
                "l": [3, 4, 5],
                "s": ["a b", "c/d"],
                "ids": [1, 2],
                "tags": ["x", "y"],
                "words": ["hello", "big world"],
                "pipes": ["p", "q"],
                "filter": {"status": "open", "owner": {"id": 7}},
                "point": {"x": 1, "y": 2},
                "redirect": "https://example.test/a?b",
                "q": "a&b=c#d é",
                "X-Trace": ["t1", "t2"],
                "session": "s 1",
                "limit": "25",
                "flag": true
            }),
        )
        .await
        .expect("call succeeds");
    assert_eq!(body, json!({"ok": true}));
    let request = server.only_request();
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path,
        "/v1/styles/;role=admin;first%20name=Al/.3,4,5/a%20b,c%2Fd"
    );
    assert_eq!(
        request.query.as_deref(),
        Some(
            "ids=1&ids=2&tags=x,y&words=hello%20big%20world&pipes=p|q\
             &filter[status]=open&filter[owner][id]=7&x=1&y=2\
             &redirect=https://example.test/a?b&q=a%26b%3Dc%23d%20%C3%A9&limit=25&flag=true"
        )
    );
    assert_eq!(request.header("x-trace"), Some("t1,t2"));
    assert_eq!(request.header("cookie"), Some("session=s%201"));
    assert_eq!(
        request.header("accept"),
        Some("application/json, */*;q=0.5")
    );
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn json_bodies_are_sent_as_given_with_their_media_type() {
    let server =
        TestServer::start(|_, _| json_response(StatusCode::CREATED, r#"{"id":1,"name":"Rex"}"#))
            .await;
    let session = session(&server);
    let pet = json!({"name": "Rex", "tag": "dog", "owner": {"email": "a@b.co", "phones": ["1"]}});
    let created = session
        .call("createPet", &json!({ "body": pet }))
        .await
        .expect("created");
    assert_eq!(created, json!({"id": 1, "name": "Rex"}));
    let request = server.only_request();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/pets")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.body_text(),
        r#"{"name":"Rex","tag":"dog","owner":{"email":"a@b.co","phones":["1"]}}"#
    );

    let server = TestServer::ok().await;
    crate::fixture::session(&server)
        .call("postVnd", &json!({"body": {"data": {"type": "x"}}}))
        .await
        .expect("vnd call");
    let request = server.only_request();
    assert_eq!(
        request.header("content-type"),
        Some("application/vnd.api+json")
    );
    assert_eq!(request.body_text(), r#"{"data":{"type":"x"}}"#);
}

#[tokio::test]
async fn form_bodies_use_stripe_bracket_encoding() {
    let server = TestServer::ok().await;
    session(&server)
        .call(
            "PostCustomers",
            &json!({"body": {
                "email": "jo+1@example.com",
                "metadata": {"plan": "pro", "order id": "7"},
                "expand": ["default_source", "invoice_settings.default_payment_method"],
                "items": [{"price": "price_1", "quantity": 2}, {"price": "price_2"}]
            }}),
        )
        .await
        .expect("form call");
    let request = server.only_request();
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        request.body_text(),
        "email=jo%2B1%40example.com&metadata[plan]=pro&metadata[order%20id]=7\
         &expand[]=default_source&expand[]=invoice_settings.default_payment_method\
         &items[0][price]=price_1&items[0][quantity]=2&items[1][price]=price_2"
    );
}

#[tokio::test]
async fn deep_object_arrays_in_the_query_use_brackets() {
    let server = TestServer::ok().await;
    session(&server)
        .call(
            "GetCustomers",
            &json!({"expand": ["data.customer", "data.invoice"], "limit": 3}),
        )
        .await
        .expect("call");
    let request = server.only_request();
    assert_eq!(
        request.query.as_deref(),
        Some("limit=3&expand[]=data.customer&expand[]=data.invoice")
    );
}

#[tokio::test]
async fn multipart_bodies_carry_files_from_base64_bytes_and_text() {
    let server = TestServer::ok().await;
    let session = session(&server);
    let prepared = session
        .prepare(
            "upload",
            &json!({"body": {
                "file": {"data": "aGVsbG8AAQ==", "encoding": "base64", "filename": "a.bin", "contentType": "application/x-test"},
                "note": "hi \"there\"",
                "meta": {"k": 1}
            }}),
        )
        .expect("prepared");
    let content_type = prepared.content_type.clone().expect("content type");
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect("boundary")
        .to_string();
    assert_eq!(
        prepared.body_preview,
        Some(json!({
            "file": {"filename": "a.bin", "contentType": "application/x-test", "size": 7},
            "note": "hi \"there\"",
            "meta": {"k": 1}
        }))
    );
    let response = session.send(prepared).await.expect("sent");
    assert_eq!(response.status, 200);
    let request = server.only_request();
    assert_eq!(request.header("content-type"), Some(content_type.as_str()));
    let mut expected = Vec::new();
    expected.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/x-test\r\n\r\n").as_bytes());
    expected.extend_from_slice(b"hello\x00\x01\r\n");
    expected.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi \"there\"\r\n"
        )
        .as_bytes(),
    );
    expected.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{{\"k\":1}}\r\n").as_bytes());
    expected.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    assert_eq!(request.body, expected);

    // A plain string and a byte array are files too; the filename defaults to the field name.
    let server = TestServer::ok().await;
    let session = crate::fixture::session(&server);
    session
        .call("upload", &json!({"body": {"file": {"data": [104, 105]}}}))
        .await
        .expect("bytes upload");
    let body = server.only_request().body_text();
    assert!(
        body.contains("name=\"file\"; filename=\"file\"\r\nContent-Type: application/octet-stream\r\n\r\nhi\r\n"),
        "{body}"
    );
}

#[tokio::test]
async fn binary_and_text_bodies_and_responses() {
    let server = TestServer::start(|request, _| {
        if request.path.starts_with("/v1/blobs") {
            (
                StatusCode::OK,
                [("content-type", "application/octet-stream")],
                vec![0u8, 159, 146, 150],
            )
                .into_response()
        } else {
            (StatusCode::OK, [("content-type", "text/plain")], "noted").into_response()
        }
    })
    .await;
    let session = session(&server);
    let blob = session
        .call(
            "putBlob",
            &json!({"name": "x.bin", "body": {"data": "AAEC", "encoding": "base64"}}),
        )
        .await
        .expect("blob");
    assert_eq!(
        blob,
        json!({"contentType": "application/octet-stream", "size": 4, "base64": "AJ+Slg=="})
    );
    let note = session
        .call("postNote", &json!({"body": "remember the milk"}))
        .await
        .expect("note");
    assert_eq!(note, json!("noted"));
    let requests = server.requests();
    assert_eq!(requests[0].method, "PUT");
    assert_eq!(requests[0].path, "/v1/blobs/x.bin");
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(requests[0].body, vec![0u8, 1, 2]);
    assert_eq!(requests[1].header("content-type"), Some("text/plain"));
    assert_eq!(requests[1].body_text(), "remember the milk");
}

#[tokio::test]
async fn no_content_returns_null_and_raw_requests_are_served() {
    let server = TestServer::start(|request, _| {
        if request.method == "DELETE" {
            StatusCode::NO_CONTENT.into_response()
        } else {
            json_response(StatusCode::OK, r#"{"raw":true}"#)
        }
    })
    .await;
    let session = session(&server);
    let deleted = session
        .call("deletePet", &json!({"petId": 9}))
        .await
        .expect("deleted");
    assert_eq!(deleted, serde_json::Value::Null);
    let raw = session
        .call_raw(&codemode_upstream::RawRequest {
            method: "post".into(),
            path: "/pets/7/notes?x=1".into(),
            query: Some(json!({"tags": ["a", "b"], "f": {"k": "v"}})),
            headers: Some(json!({"X-Custom": "yes"})),
            body: Some(json!({"n": 1})),
            content_type: None,
        })
        .await
        .expect("raw");
    assert_eq!(raw, json!({"raw": true}));
    let request = &server.requests()[1];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/pets/7/notes");
    assert_eq!(request.query.as_deref(), Some("x=1&tags=a&tags=b&f[k]=v"));
    assert_eq!(request.header("x-custom"), Some("yes"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.body_text(), r#"{"n":1}"#);
    let records = session.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].operation.as_deref(), Some("deletePet"));
    assert_eq!(records[0].path, "/pets/{petId}");
    assert_eq!(records[0].status, Some(204));
    assert_eq!(records[1].operation, None);
    assert_eq!(records[1].method, "POST");
}

#[tokio::test]
async fn scalars_are_coerced_to_the_parameter_type_before_validation() {
    let server = TestServer::ok().await;
    session(&server)
        .call(
            "styles",
            &json!({"m": {"a": 1}, "l": ["7", 8], "s": "one", "q": 5, "flag": "false", "ids": "3"}),
        )
        .await
        .expect("coerced");
    let request = server.only_request();
    assert_eq!(request.path, "/v1/styles/;a=1/.7,8/one");
    assert_eq!(request.query.as_deref(), Some("ids=3&q=5&flag=false"));
}

#[tokio::test]
async fn multipart_arrays_repeat_the_part() {
    let server = TestServer::ok().await;
    let session = session(&server);
    let prepared = session
        .prepare(
            "upload",
            &json!({"body": {"file": [{"data": "a", "filename": "1.txt"}, {"data": "b", "filename": "2.txt"}]}}),
        )
        .expect("prepared");
    assert_eq!(
        prepared.body_preview,
        Some(json!({"file": [
            {"filename": "1.txt", "contentType": "application/octet-stream", "size": 1},
            {"filename": "2.txt", "contentType": "application/octet-stream", "size": 1}
        ]}))
    );
    let body = String::from_utf8_lossy(prepared.body.as_deref().unwrap_or_default()).into_owned();
    assert_eq!(body.matches("name=\"file\"").count(), 2, "{body}");
}

/// A parameter described by `content` instead of `schema` goes on the wire as that media type's
/// text (JSON text for `application/json`), percent-encoded in the path and query, and is still
/// validated against the media type's schema before anything is sent.
#[tokio::test]
async fn content_parameters_are_sent_as_json_text() {
    let server = TestServer::ok().await;
    let session = session(&server);
    session
        .call(
            "searchByContent",
            &json!({
                "where": {"region": "eu/west"},
                "filter": {"status": "open", "ids": [1, 2]},
                "note": "a b",
                "X-Context": {"user": 7}
            }),
        )
        .await
        .expect("call succeeds");
    let request = server.only_request();
    assert_eq!(
        request.path,
        "/v1/search/%7B%22region%22%3A%22eu%2Fwest%22%7D"
    );
    assert_eq!(
        request.query.as_deref(),
        Some("filter=%7B%22status%22%3A%22open%22%2C%22ids%22%3A%5B1%2C2%5D%7D&note=a%20b")
    );
    assert_eq!(request.header("x-context"), Some(r#"{"user":7}"#));

    let error = session
        .call(
            "searchByContent",
            &json!({"where": {}, "filter": {"status": "pending"}}),
        )
        .await
        .expect_err("the schema still applies");
    assert!(error.message.contains("status"), "{}", error.message);
    assert_eq!(
        server.requests().len(),
        1,
        "nothing sent for the invalid call"
    );
}
