//! Validation errors: exact messages, structured data, and proof that nothing was sent.

use codemode_upstream::{CallErrorKind, RawRequest};
use serde_json::{Value, json};

use crate::fixture::{TestServer, session};

/// Calls an operation that must be refused and returns (kind, message, data); asserts the
/// server saw zero requests.
async fn refused(operation: &str, args: Value) -> (CallErrorKind, String, Value) {
    let server = TestServer::ok().await;
    let session = session(&server);
    let error = session
        .call(operation, &args)
        .await
        .expect_err("the call must be refused");
    assert!(
        server.requests().is_empty(),
        "a refused call reached the server"
    );
    assert!(session.records().is_empty(), "a refused call was recorded");
    (error.kind, error.message, error.data)
}

#[tokio::test]
async fn missing_required_parameter() {
    let (kind, message, data) = refused("getPet", json!({})).await;
    assert_eq!(kind, CallErrorKind::Validation);
    assert_eq!(
        message,
        r#"getPet: missing required parameter "petId" (path, integer)"#
    );
    assert_eq!(
        data,
        json!({"pointer": "/petId", "expected": "integer", "given": null})
    );
}

#[tokio::test]
async fn unknown_argument_suggests_the_closest() {
    let (_, message, data) = refused("reposListForOrg", json!({"org": "o", "per_pag": 5})).await;
    assert_eq!(
        message,
        r#"unknown argument "per_pag" for reposListForOrg; did you mean "per_page"?"#
    );
    assert_eq!(data["pointer"], json!("/per_pag"));
    let (_, message, _) = refused("reposListForOrg", json!({"org": "o", "zzzzzz": 5})).await;
    assert_eq!(
        message,
        r#"unknown argument "zzzzzz" for reposListForOrg; expected one of "org", "type", "per_page", "page""#
    );
}

#[tokio::test]
async fn unknown_operation_suggests_names() {
    let (kind, message, _) = refused("getPets", json!({})).await;
    assert_eq!(kind, CallErrorKind::UnknownOperation);
    assert_eq!(
        message,
        r#"unknown operation "getPets"; did you mean "getPet"?"#
    );
}

#[tokio::test]
async fn parameter_types_enums_and_ranges() {
    let (_, message, data) = refused("getPet", json!({"petId": "seven"})).await;
    assert_eq!(message, r#"getPet: petId: expected integer, got "seven""#);
    assert_eq!(
        data,
        json!({"pointer": "/petId", "expected": "integer", "given": "seven"})
    );
    let (_, message, _) = refused("reposListForOrg", json!({"org": "o", "type": "secret"})).await;
    assert_eq!(
        message,
        r#"reposListForOrg: type: expected one of "all", "public", "private", got "secret""#
    );
    let (_, message, _) = refused(
        "styles",
        json!({"m": {}, "l": [1], "s": ["a"], "limit": 500}),
    )
    .await;
    assert_eq!(message, "styles: limit: expected <= 100, got 500");
    let (_, message, _) = refused("styles", json!({"m": {}, "l": ["x"], "s": ["a"]})).await;
    assert_eq!(message, r#"styles: l/0: expected integer, got "x""#);
}

#[tokio::test]
async fn body_errors_name_the_pointer() {
    let (_, message, data) = refused(
        "PostCustomers",
        json!({"body": {"email": "a@b.c", "metadata": {"plan": 42}}}),
    )
    .await;
    // Messages name the operation as scripts call it (the spec crate's name for it).
    assert_eq!(
        message,
        "postCustomers: body/metadata/plan: expected string, got 42"
    );
    assert_eq!(
        data,
        json!({"pointer": "/body/metadata/plan", "expected": "string", "given": 42})
    );
    let (_, message, _) = refused("createPet", json!({"body": {"tag": "x"}})).await;
    assert_eq!(
        message,
        r#"createPet: body: missing required property "name""#
    );
    let (_, message, _) = refused(
        "createPet",
        json!({"body": {"name": "r", "status": "lost"}}),
    )
    .await;
    assert_eq!(
        message,
        r#"createPet: body/status: expected one of "available", "pending", "sold", got "lost""#
    );
    let (_, message, _) = refused(
        "createPet",
        json!({"body": {"name": "r", "owner": {"email": "not-an-email"}}}),
    )
    .await;
    assert_eq!(
        message,
        r#"createPet: body/owner/email: expected a valid email, got "not-an-email""#
    );
    let (_, message, _) = refused("createPet", json!({})).await;
    assert_eq!(
        message,
        r#"createPet: missing required argument "body" (application/json, object)"#
    );
    let (_, message, _) = refused("createPet", json!([1])).await;
    assert_eq!(message, "createPet: args must be an object, got array");
    let (_, message, _) = refused(
        "upload",
        json!({"body": {"file": {"data": "***", "encoding": "base64"}}}),
    )
    .await;
    assert!(
        message.starts_with("upload: body/file: invalid base64 data"),
        "{message}"
    );
}

#[tokio::test]
async fn read_only_properties_are_not_required_in_requests() {
    let server = TestServer::ok().await;
    session(&server)
        .call("createPet", &json!({"body": {"name": "Rex"}}))
        .await
        .expect("id is readOnly, so not required");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn path_traversal_is_refused_before_sending() {
    for bad in [
        "..",
        "../admin",
        "a/../../admin",
        "%2e%2e",
        "..%2Fadmin",
        "%252e%252e",
    ] {
        let (kind, message, _) = refused("getFile", json!({"path": bad})).await;
        assert_eq!(kind, CallErrorKind::Validation, "{bad}");
        assert!(
            message
                .starts_with(r#"getFile: path parameter "path" cannot contain . or .. segments"#),
            "{bad}: {message}"
        );
    }
    // Slashes are encoded, not interpreted.
    let server = TestServer::ok().await;
    session(&server)
        .call("getFile", &json!({"path": "a/b%2Fc"}))
        .await
        .expect("encoded");
    assert_eq!(server.only_request().path, "/v1/files/a%2Fb%252Fc");
}

#[tokio::test]
async fn raw_requests_cannot_leave_the_origin() {
    let server = TestServer::ok().await;
    let session = session(&server);
    for path in [
        "http://evil.test/x",
        "//evil.test/x",
        "@evil.test/x",
        "evil.test",
        "/a/../../x",
        "/a/%2e%2e/x",
        "/a\\..\\x",
    ] {
        let error = session
            .prepare_raw(&RawRequest {
                method: "GET".into(),
                path: path.into(),
                ..RawRequest::default()
            })
            .expect_err("refused");
        assert_eq!(error.kind, CallErrorKind::Egress, "{path}");
    }
    let error = session
        .prepare_raw(&RawRequest {
            method: "GET".into(),
            path: "/x".into(),
            headers: Some(json!({"Host": "evil.test"})),
            ..RawRequest::default()
        })
        .expect_err("host header refused");
    assert_eq!(
        error.message,
        r#"request: header "Host" cannot be set by a script"#
    );
    // A prepared request whose URL was changed by the caller is refused at send time.
    let mut prepared = session
        .prepare_raw(&RawRequest {
            method: "GET".into(),
            path: "/x".into(),
            ..RawRequest::default()
        })
        .expect("prepared");
    prepared.url = "http://127.0.0.2:1/v1/x".into();
    let error = session.send(prepared).await.expect_err("egress");
    assert_eq!(error.kind, CallErrorKind::Egress);
    assert!(server.requests().is_empty());
}

/// A schema composed of itself many times over: looking for its readOnly properties must not
/// grow exponentially (each schema is visited once).
#[tokio::test]
async fn a_schema_composed_of_itself_is_prepared_at_once() {
    let refs = vec![serde_json::json!({"$ref": "#/components/schemas/A"}); 16];
    let spec = json!({
        "openapi": "3.0.3",
        "info": {"title": "hostile", "version": "1"},
        "paths": {"/a": {"post": {
            "operationId": "createA",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}},
            "responses": {"200": {"description": "ok"}}
        }}},
        "components": {"schemas": {"A": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {"id": {"type": "string", "readOnly": true}, "name": {"type": "string"}},
            "allOf": refs
        }}}
    });
    let spec = codemode_spec::load_str("hostile.json", &spec.to_string()).expect("spec loads");
    let client = codemode_upstream::Client::new(
        std::sync::Arc::new(spec),
        codemode_upstream::UpstreamConfig {
            base_url: "http://127.0.0.1:9".into(),
            ..Default::default()
        },
    )
    .expect("client builds");
    let session = client.session(codemode_upstream::SessionLimits::default());
    let started = std::time::Instant::now();
    let prepared = tokio::task::spawn_blocking(move || {
        session
            .prepare("createA", &json!({"body": {"name": "x"}}))
            .map(|_| ())
    });
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(20), prepared)
        .await
        .expect("preparing the call finishes")
        .expect("no panic");
    // `id` is readOnly: a request need not carry it.
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
