//! The bookshop driven in process through `tower::ServiceExt::oneshot`: one `call` helper sends a
//! request to the Router and returns the status and JSON body; each test checks one behaviour.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::router;

const TOKEN: &str = "demo-token";

/// Sends one request (`body` as JSON when given) with the demo token; the status and JSON body.
async fn call(app: &Router, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    send(app, request, body.map(|b| b.to_string())).await
}

async fn send(
    app: &Router,
    request: axum::http::request::Builder,
    body: Option<String>,
) -> (StatusCode, Value) {
    let request = match body {
        Some(text) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(text)),
        None => request.body(Body::empty()),
    }
    .expect("a valid request");
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body under 1 MiB");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {bytes:?}"))
    };
    (status, value)
}

fn ids(books: &Value) -> Vec<u64> {
    books
        .as_array()
        .expect("an array of books")
        .iter()
        .map(|b| b["id"].as_u64().expect("an id"))
        .collect()
}

/// The error body's shape: a code, a message, and the field at fault, which a validation
/// message also names (a 404 says "no book with id 9", which is plain enough).
fn assert_error(body: &Value, code: &str, field: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["field"], field, "{body}");
    let message = body["message"].as_str().expect("a message");
    assert!(
        code == "not_found" || message.contains(field),
        "the message names {field}: {body}"
    );
}

#[tokio::test]
async fn the_bearer_token_is_checked() {
    let app = router(TOKEN);
    let (status, body) = send(&app, Request::builder().uri("/v1/books"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
    let wrong = Request::builder()
        .uri("/v1/books")
        .header(header::AUTHORIZATION, "Bearer nope");
    assert_eq!(send(&app, wrong, None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn filters_filter_and_combine() {
    let app = router(TOKEN);
    let (status, all) = call(&app, "GET", "/v1/books", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&all).len(), 14);
    let (_, science) = call(&app, "GET", "/v1/books?genre=science&in_stock=true", None).await;
    assert_eq!(ids(&science), [4, 7, 10]);
    for book in science.as_array().unwrap() {
        assert_eq!(book["genre"], "science");
        assert!(book["in_stock"].as_u64().unwrap() > 0, "{book}");
    }
    let (_, sold_out) = call(&app, "GET", "/v1/books?in_stock=false", None).await;
    assert_eq!(ids(&sold_out), [2, 9, 12, 14]);
    let (_, sagan) = call(&app, "GET", "/v1/books?author_id=3", None).await;
    assert_eq!(ids(&sagan), [4, 14]);
    let (_, words) = call(&app, "GET", "/v1/books?q=BLUE%20pale", None).await;
    assert_eq!(ids(&words), [14]);
    let (_, none) = call(&app, "GET", "/v1/books?genre=poetry&author_id=1", None).await;
    assert_eq!(ids(&none), Vec::<u64>::new());
}

#[tokio::test]
async fn pages_with_limit_and_offset() {
    let app = router(TOKEN);
    let (_, first) = call(&app, "GET", "/v1/books?limit=5", None).await;
    assert_eq!(ids(&first), [1, 2, 3, 4, 5]);
    let (_, second) = call(&app, "GET", "/v1/books?limit=5&offset=5", None).await;
    assert_eq!(ids(&second), [6, 7, 8, 9, 10]);
    let (_, last) = call(&app, "GET", "/v1/books?limit=5&offset=10", None).await;
    assert_eq!(ids(&last), [11, 12, 13, 14]);
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_the_parameter() {
    let app = router(TOKEN);
    let cases = [
        ("genre=cooking", "genre"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("in_stock=yes", "in_stock"),
        ("author_id=x", "author_id"),
        ("instock=true", "instock"),
    ];
    for (query, field) in cases {
        let (status, body) = call(&app, "GET", &format!("/v1/books?{query}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_error(&body, "bad_request", field);
    }
}

#[tokio::test]
async fn unknown_ids_are_404_with_a_json_error() {
    let app = router(TOKEN);
    let (status, book) = call(&app, "GET", "/v1/books/4", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(book["title"], "Cosmos");
    for (method, path, field) in [
        ("GET", "/v1/books/999", "book_id"),
        ("DELETE", "/v1/books/999", "book_id"),
        ("GET", "/v1/books/999/reviews", "book_id"),
        ("GET", "/v1/orders/ord_999", "order_id"),
        ("GET", "/v1/orders/nonsense", "order_id"),
    ] {
        let (status, body) = call(&app, method, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_error(&body, "not_found", field);
    }
    let (status, body) = call(
        &app,
        "POST",
        "/v1/books/999/reviews",
        Some(json!({ "stars": 5 })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = call(&app, "GET", "/v1/books/abc", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "bad_request", "book_id");
    let (status, body) = call(&app, "GET", "/v1/nowhere", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
    let (status, body) = call(&app, "PUT", "/v1/books/1", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], "method_not_allowed");
}

#[tokio::test]
async fn an_order_takes_the_quantity_ordered_from_stock() {
    let app = router(TOKEN);
    let order =
        json!({ "items": [{ "book_id": 4, "quantity": 1 }, { "book_id": 1, "quantity": 2 }] });
    let (status, placed) = call(&app, "POST", "/v1/orders", Some(order)).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert_eq!(placed["id"], "ord_1");
    assert_eq!(placed["status"], "pending");
    assert_eq!(
        placed["items"],
        json!([{ "book_id": 4, "quantity": 1 }, { "book_id": 1, "quantity": 2 }])
    );
    assert_eq!(placed["total"], 43.0);
    assert_eq!(
        call(&app, "GET", "/v1/books/4", None).await.1["in_stock"],
        4
    );
    assert_eq!(
        call(&app, "GET", "/v1/books/1", None).await.1["in_stock"],
        2
    );
    let (status, fetched) = call(&app, "GET", "/v1/orders/ord_1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, placed);
}

#[tokio::test]
async fn short_stock_is_409_and_takes_nothing() {
    let app = router(TOKEN);
    // Book 8 has one copy; the first item alone would fit, the whole order does not.
    let order =
        json!({ "items": [{ "book_id": 4, "quantity": 1 }, { "book_id": 8, "quantity": 2 }] });
    let (status, body) = call(&app, "POST", "/v1/orders", Some(order)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "conflict", "items[1].quantity");
    assert_eq!(
        call(&app, "GET", "/v1/books/4", None).await.1["in_stock"],
        5
    );
    assert_eq!(
        call(&app, "GET", "/v1/books/8", None).await.1["in_stock"],
        1
    );
    // Two items for the same book count together.
    let twice =
        json!({ "items": [{ "book_id": 8, "quantity": 1 }, { "book_id": 8, "quantity": 1 }] });
    assert_eq!(
        call(&app, "POST", "/v1/orders", Some(twice)).await.0,
        StatusCode::CONFLICT
    );
    let sold_out = json!({ "items": [{ "book_id": 2, "quantity": 1 }] });
    assert_eq!(
        call(&app, "POST", "/v1/orders", Some(sold_out)).await.0,
        StatusCode::CONFLICT
    );
    // The last copy can be ordered, and then the book is sold out.
    let last = json!({ "items": [{ "book_id": 8, "quantity": 1 }] });
    assert_eq!(
        call(&app, "POST", "/v1/orders", Some(last.clone())).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        call(&app, "POST", "/v1/orders", Some(last)).await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn invalid_bodies_are_400_or_422_naming_the_field() {
    let app = router(TOKEN);
    let cases = [
        ("/v1/orders", json!({}), StatusCode::BAD_REQUEST, "items"),
        (
            "/v1/orders",
            json!({ "items": "4" }),
            StatusCode::BAD_REQUEST,
            "items",
        ),
        (
            "/v1/orders",
            json!({ "items": [] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "items",
        ),
        (
            "/v1/orders",
            json!({ "items": [{ "book_id": 4 }] }),
            StatusCode::BAD_REQUEST,
            "items[0].quantity",
        ),
        (
            "/v1/orders",
            json!({ "items": [{ "book_id": 4, "quantity": "two" }] }),
            StatusCode::BAD_REQUEST,
            "items[0].quantity",
        ),
        (
            "/v1/orders",
            json!({ "items": [{ "book_id": 4, "quantity": 0 }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "items[0].quantity",
        ),
        (
            "/v1/orders",
            json!({ "items": [{ "book_id": 999, "quantity": 1 }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "items[0].book_id",
        ),
        (
            "/v1/orders",
            json!({ "items": [{ "book_id": 4, "qty": 1 }] }),
            StatusCode::BAD_REQUEST,
            "items[0].qty",
        ),
        (
            "/v1/books",
            json!({ "author_id": 1, "genre": "fiction", "price": 9.5 }),
            StatusCode::BAD_REQUEST,
            "title",
        ),
        (
            "/v1/books",
            json!({ "title": "X", "author_id": 99, "genre": "fiction", "price": 9.5 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "author_id",
        ),
        (
            "/v1/books",
            json!({ "title": "X", "author_id": 1, "genre": "cooking", "price": 9.5 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "genre",
        ),
        (
            "/v1/books",
            json!({ "title": "X", "author_id": 1, "genre": "fiction", "price": -1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "price",
        ),
        (
            "/v1/books",
            json!({ "id": 3, "title": "X", "author_id": 1, "genre": "fiction", "price": 1 }),
            StatusCode::BAD_REQUEST,
            "id",
        ),
        (
            "/v1/books/1/reviews",
            json!({ "text": "no stars" }),
            StatusCode::BAD_REQUEST,
            "stars",
        ),
        (
            "/v1/books/1/reviews",
            json!({ "stars": 6 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "stars",
        ),
    ];
    for (path, body, expected, field) in cases {
        let (status, error) = call(&app, "POST", path, Some(body.clone())).await;
        assert_eq!(status, expected, "{path} {body}: {error}");
        let code = if expected == StatusCode::BAD_REQUEST {
            "bad_request"
        } else {
            "unprocessable"
        };
        assert_error(&error, code, field);
    }
    let not_json = Request::builder()
        .method("POST")
        .uri("/v1/orders")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    let (status, error) = send(&app, not_json, Some("{ items".to_string())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{error}"
    );
    // Nothing above changed the stock.
    assert_eq!(
        call(&app, "GET", "/v1/books/4", None).await.1["in_stock"],
        5
    );
}

#[tokio::test]
async fn created_and_deleted_books_stay_so() {
    let app = router(TOKEN);
    let new = json!({ "title": "The Lathe of Heaven", "author_id": 1, "genre": "fiction", "price": 10, "in_stock": 3 });
    let (status, book) = call(&app, "POST", "/v1/books", Some(new)).await;
    assert_eq!(status, StatusCode::CREATED, "{book}");
    assert_eq!(
        book,
        json!({ "id": 15, "title": "The Lathe of Heaven", "author_id": 1, "genre": "fiction", "price": 10.0, "in_stock": 3 })
    );
    let (_, le_guin) = call(&app, "GET", "/v1/books?author_id=1", None).await;
    assert_eq!(ids(&le_guin), [1, 3, 15]);
    let (status, body) = call(&app, "DELETE", "/v1/books/3", None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(
        call(&app, "GET", "/v1/books/3", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, "DELETE", "/v1/books/3", None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn reviews_are_listed_and_added() {
    let app = router(TOKEN);
    let (_, reviews) = call(&app, "GET", "/v1/books/1/reviews", None).await;
    assert_eq!(reviews.as_array().unwrap().len(), 2);
    let (status, review) = call(
        &app,
        "POST",
        "/v1/books/1/reviews",
        Some(json!({ "stars": 3, "text": "Fine." })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    assert_eq!(review["book_id"], 1);
    assert_eq!(review["stars"], 3);
    let (_, reviews) = call(&app, "GET", "/v1/books/1/reviews", None).await;
    assert_eq!(reviews.as_array().unwrap().len(), 3);
    let (_, none) = call(&app, "GET", "/v1/books/2/reviews", None).await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn authors_are_listed() {
    let app = router(TOKEN);
    let (status, authors) = call(&app, "GET", "/v1/authors", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(authors.as_array().unwrap().len(), 12);
    assert_eq!(
        authors[0],
        json!({ "id": 1, "name": "Ursula K. Le Guin", "born": 1929 })
    );
}

/// Every operation the spec declares has a route here, and every route an operation.
#[tokio::test]
async fn every_operation_of_the_spec_is_served() {
    let spec: Value = serde_json::from_str(crate::demo::BOOKSHOP_SPEC).expect("the spec is JSON");
    let app = router(TOKEN);
    let mut count = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in ["get", "post", "delete", "put", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            count += 1;
            let concrete = path
                .replace("{book_id}", "1")
                .replace("{order_id}", "ord_1");
            let body = (method == "post").then(|| json!({}));
            let (status, error) = call(
                &app,
                &method.to_uppercase(),
                &format!("/v1{concrete}"),
                body,
            )
            .await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !(status == StatusCode::NOT_FOUND && error["field"].is_null()),
                "{method} {path}: {error}"
            );
        }
    }
    assert_eq!(count, 9);
}
