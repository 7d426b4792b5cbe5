//! Calls made from real specs (`codemode_test_support::specs_dir`) to the recording test server:
//! files in the `Binary` shape the TypeScript globals declare, readOnly properties in request
//! bodies, the content type of PATCH bodies, and errors with HTML bodies.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use base64::Engine as _;
use codemode_upstream::{CallErrorKind, Client, Session, SessionLimits, UpstreamConfig};
use serde_json::json;

use crate::fixture::{TestServer, json_response, real_spec};

fn session_for(file: &str, server: &TestServer) -> Session {
    Client::new(
        real_spec(file),
        UpstreamConfig {
            base_url: server.url.clone(),
            ..UpstreamConfig::default()
        },
    )
    .expect("client")
    .session(SessionLimits::default())
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The one part of a multipart body named `name`: its headers and content.
fn part<'a>(body: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let marker = format!("name=\"{name}\"");
    let start = body.find(&marker)?;
    let rest = &body[start..];
    let (headers, content) = rest.split_once("\r\n\r\n")?;
    let end = content.find("\r\n--")?;
    Some((headers, &content[..end]))
}

#[tokio::test]
async fn openai_create_file_sends_a_base64_binary_as_a_file_part() {
    let server = TestServer::start(|_, _| {
        json_response(
            StatusCode::OK,
            r#"{"id":"file-1","object":"file","bytes":7,"created_at":1,"filename":"file","purpose":"fine-tune","status":"uploaded"}"#,
        )
    })
    .await;
    let session = session_for("openai-openapi.yaml", &server);
    let file = json!({"contentType": "application/jsonl", "base64": base64(br#"{"a":1}"#)});
    session
        .call(
            "createFile",
            &json!({"body": {"file": file, "purpose": "fine-tune"}}),
        )
        .await
        .expect("uploaded");
    let body = server.only_request().body_text();
    let (headers, content) = part(&body, "file").expect("a file part");
    assert_eq!(
        headers,
        "name=\"file\"; filename=\"file\"\r\nContent-Type: application/jsonl"
    );
    assert_eq!(content, r#"{"a":1}"#);

    // `data` with its encoding is the same file; `filename` names the part's file.
    let server = TestServer::ok().await;
    let session = session_for("openai-openapi.yaml", &server);
    session
        .call(
            "createFile",
            &json!({"body": {"file": {"data": "{\"a\":1}\n", "filename": "train.jsonl"}, "purpose": "fine-tune"}}),
        )
        .await
        .expect("uploaded");
    let body = server.only_request().body_text();
    let (headers, content) = part(&body, "file").expect("a file part");
    assert!(headers.contains("filename=\"train.jsonl\""), "{headers}");
    assert_eq!(content, "{\"a\":1}\n");
}

#[tokio::test]
async fn an_object_that_is_not_a_file_is_refused_where_a_file_is_expected() {
    let server = TestServer::ok().await;
    let session = session_for("openai-openapi.yaml", &server);
    for (file, says) in [
        (
            json!({"content": "x", "type": "application/jsonl"}),
            "got an object without data or base64",
        ),
        (
            json!({"data": "x", "name": "a.jsonl"}),
            "a file has no \"name\"",
        ),
        (
            json!({"contentType": "image/png", "size": 900000, "truncated": true}),
            "too large to keep its bytes",
        ),
    ] {
        let error = session
            .call(
                "createFile",
                &json!({"body": {"file": file, "purpose": "fine-tune"}}),
            )
            .await
            .expect_err("not a file");
        assert_eq!(error.kind, CallErrorKind::Validation);
        assert!(error.message.contains(says), "{}", error.message);
        assert_eq!(error.data["pointer"], "/body/file");
    }
    assert!(server.requests().is_empty(), "nothing is sent");
}

#[tokio::test]
async fn petstore_upload_file_takes_the_binary_shape_a_download_comes_in() {
    let server = TestServer::start(|_, _| {
        json_response(StatusCode::OK, r#"{"code":200,"type":"ok","message":"m"}"#)
    })
    .await;
    let session = session_for("petstore3-openapi.yaml", &server);
    let png = b"\x89PNG\r\n\x1a\n\x00";
    // `{ contentType, size, base64 }` is how a binary response comes back.
    let downloaded = json!({"contentType": "image/png", "size": png.len(), "base64": base64(png)});
    session
        .call("uploadFile", &json!({"petId": 1, "body": downloaded}))
        .await
        .expect("uploaded");
    let request = server.only_request();
    assert_eq!(request.path, "/pet/1/uploadImage");
    assert_eq!(request.header("content-type"), Some("image/png"));
    assert_eq!(request.body, png);
}

#[tokio::test]
async fn cloudflare_dns_records_are_created_without_their_read_only_properties() {
    let server = TestServer::start(|_, _| {
        json_response(
            StatusCode::OK,
            r#"{"success":true,"errors":[],"messages":[],"result":{"id":"r1"}}"#,
        )
    })
    .await;
    let session = session_for("cloudflare-openapi.json", &server);
    let record =
        json!({"type": "A", "name": "www.example.com", "content": "198.51.100.4", "ttl": 3600});
    session
        .call(
            "dnsRecordsForAZoneCreateDnsRecord",
            &json!({"zone_id": "023e105f4ecef8ad9ca31a8372d0c353", "body": record}),
        )
        .await
        .expect("created");
    let request = server.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&request.body).expect("json"),
        record
    );

    // A readOnly property sent anyway passes through; the server decides what to do with it.
    let server = TestServer::ok().await;
    let session = session_for("cloudflare-openapi.json", &server);
    let with_read_only =
        json!({"type": "A", "name": "a.example.com", "content": "198.51.100.5", "proxiable": true});
    session
        .call(
            "dnsRecordsForAZoneCreateDnsRecord",
            &json!({"zone_id": "023e105f4ecef8ad9ca31a8372d0c353", "body": with_read_only}),
        )
        .await
        .expect("created");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&server.only_request().body).expect("json"),
        with_read_only
    );

    // What a record type requires of a request still is.
    let error = session
        .prepare(
            "dnsRecordsForAZoneCreateDnsRecord",
            &json!({"zone_id": "023e105f4ecef8ad9ca31a8372d0c353", "body": {"type": "A", "name": "b.example.com"}}),
        )
        .expect_err("an A record needs its content");
    assert_eq!(error.kind, CallErrorKind::Validation);
    assert!(
        error
            .message
            .contains("missing required property \"content\""),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn kubernetes_patches_go_as_merge_patch_for_objects_and_json_patch_for_arrays() {
    let server = TestServer::ok().await;
    let session = session_for("kubernetes-swagger.json", &server);
    // The shape-dependent body schemas of every PATCH compile.
    let report = session.client().precompile();
    assert!(
        report.without_validation.is_empty(),
        "{:?}",
        report.without_validation
    );
    let args = json!({"name": "web", "namespace": "default", "body": {"spec": {"replicas": 3}}});
    session
        .call("patchAppsV1NamespacedDeploymentScale", &args)
        .await
        .expect("patched");
    let request = server.only_request();
    assert_eq!(request.method, "PATCH");
    assert_eq!(
        request.path,
        "/apis/apps/v1/namespaces/default/deployments/web/scale"
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/merge-patch+json")
    );
    assert_eq!(request.body_text(), r#"{"spec":{"replicas":3}}"#);

    let server = TestServer::ok().await;
    let session = session_for("kubernetes-swagger.json", &server);
    let operations = json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]);
    session
        .call(
            "patchAppsV1NamespacedDeploymentScale",
            &json!({"name": "web", "namespace": "default", "body": operations}),
        )
        .await
        .expect("patched");
    let request = server.only_request();
    assert_eq!(
        request.header("content-type"),
        Some("application/json-patch+json")
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&request.body).expect("json"),
        operations
    );

    // A JSON Patch is checked as RFC 6902 says, before anything is sent.
    let server = TestServer::ok().await;
    let session = session_for("kubernetes-swagger.json", &server);
    let error = session
        .call(
            "patchAppsV1NamespacedDeploymentScale",
            &json!({"name": "web", "namespace": "default", "body": [{"op": "set", "path": "/spec/replicas"}]}),
        )
        .await
        .expect_err("no such patch op");
    assert_eq!(error.kind, CallErrorKind::Validation);
    assert!(error.message.contains("body/0/op"), "{}", error.message);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_call_can_name_the_content_type_its_body_goes_as() {
    let server = TestServer::ok().await;
    let session = session_for("kubernetes-swagger.json", &server);
    let args = json!({"name": "web", "namespace": "default", "body": {"spec": {"replicas": 2}}});
    let prepared = session
        .prepare_as(
            "patchAppsV1NamespacedDeploymentScale",
            &args,
            "application/strategic-merge-patch+json",
        )
        .expect("offered");
    session.send(prepared).await.expect("sent");
    let request = server.only_request();
    assert_eq!(
        request.header("content-type"),
        Some("application/strategic-merge-patch+json")
    );
    assert_eq!(request.body_text(), r#"{"spec":{"replicas":2}}"#);

    let error = session
        .prepare_as(
            "patchAppsV1NamespacedDeploymentScale",
            &args,
            "application/xml",
        )
        .expect_err("not offered");
    assert_eq!(error.kind, CallErrorKind::Validation);
    assert!(
        error.message.starts_with(
            "patchAppsV1NamespacedDeploymentScale: content type \"application/xml\" is not offered; the operation takes \"application/json-patch+json\", \"application/merge-patch+json\""
        ),
        "{}",
        error.message
    );
}

fn html_page(filler: usize) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title>\
         <style>body {{ color: red }}</style></head>\n<body><h1>Internal Server Error</h1>\
         <p>The server encountered an internal error &amp; could not complete your request.</p>\
         <!-- {} --></body></html>",
        "x".repeat(filler)
    )
}

#[tokio::test]
async fn html_error_pages_give_a_short_message_and_the_page_as_plain_text() {
    for filler in [10, 6000] {
        let page = html_page(filler);
        let served = page.clone();
        let server = TestServer::start(move |_, _| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [("content-type", "text/html; charset=utf-8")],
                served.clone(),
            )
                .into_response()
        })
        .await;
        let session = session_for("petstore3-openapi.yaml", &server);
        let error = session
            .call("getPetById", &json!({"petId": 1}))
            .await
            .expect_err("500");
        assert_eq!(error.kind, CallErrorKind::Api);
        assert_eq!(
            error.message,
            format!(
                "GET /pet/{{petId}} failed: 500 internal server error: 500 Internal Server Error \
                 Internal Server Error The server encountered an internal error & could not \
                 complete your request. (text/html, {} bytes)",
                page.len()
            )
        );
        let body = error.data["body"].as_str().expect("the page as a string");
        assert!(body.starts_with("<!DOCTYPE html>"), "{body:.40}");
        if page.chars().count() <= 4000 {
            assert_eq!(body, page);
        } else {
            let shown: String = page.chars().take(4000).collect();
            assert_eq!(
                body,
                format!(
                    "{shown}… [truncated: first 4000 of {} characters]",
                    page.chars().count()
                )
            );
        }
        // Asked for the raw response instead, the script gets the whole page as a string.
        let response = session
            .send(
                session
                    .prepare("getPetById", &json!({"petId": 1}))
                    .expect("prepared"),
            )
            .await
            .expect("a response");
        assert_eq!(response.body, json!(page));
    }
}
