//! The bookshop API of `demo/bookshop.json`, implemented as an `axum::Router` over in-memory state
//! kept for the server's lifetime: filters filter, unknown ids give 404, orders take stock, and
//! malformed requests get a JSON error naming the field. `codemode demo` serves it as its
//! upstream. Must not know MCP or the engine: it is only an HTTP API, reached like any other.

mod error;
mod input;
mod shop;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, routing::post};

use error::ApiError;
use input::{Fields, body_object, path_id};
use shop::{BookFilter, GENRES, NewBook, OrderItem, Shop};

/// The path of the spec's server URL (`http://127.0.0.1/v1`); every route is under it.
pub const BASE_PATH: &str = "/v1";

/// The shop's state, shared by every request of one server.
#[derive(Clone)]
struct AppState {
    shop: Arc<Mutex<Shop>>,
}

impl AppState {
    /// The shop, even after a handler panicked while holding it: the data is plain values, and
    /// a demo that keeps answering is better than one that fails every later request.
    fn shop(&self) -> MutexGuard<'_, Shop> {
        self.shop
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The API under [`BASE_PATH`], with a freshly seeded shop; every request must carry
/// `Authorization: Bearer <token>`.
pub fn router(token: &str) -> Router {
    let state = AppState {
        shop: Arc::new(Mutex::new(Shop::seeded())),
    };
    let api = Router::new()
        .route("/books", get(list_books).post(create_book))
        .route("/books/{book_id}", get(get_book).delete(delete_book))
        .route(
            "/books/{book_id}/reviews",
            get(list_reviews).post(create_review),
        )
        .route("/authors", get(list_authors))
        .route("/orders", post(create_order))
        .route("/orders/{order_id}", get(get_order))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    let token: Arc<str> = Arc::from(format!("Bearer {token}"));
    Router::new()
        .nest(BASE_PATH, api)
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(token, check_token))
}

/// The base URL the demo's engine calls: the bookshop answers in process (no socket, no DNS),
/// and the `.invalid` host guarantees nothing could reach a real network if it tried.
pub const IN_PROCESS_BASE_URL: &str = "http://bookshop.invalid/v1";

/// Refuses a request without the expected `Authorization` header, as a real API would: with 401
/// and a JSON body. The token is the published demo token, so a plain comparison is enough.
async fn check_token(State(expected): State<Arc<str>>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if given != Some(&*expected) {
        return ApiError::unauthorized().into_response();
    }
    next.run(request).await
}

async fn no_route(request: Request) -> ApiError {
    ApiError::no_route(format!(
        "no route {} {} (the API is under {BASE_PATH})",
        request.method(),
        request.uri().path()
    ))
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::method_not_allowed(format!(
        "{} is not allowed on {}",
        request.method(),
        request.uri().path()
    ))
}

type Answer = Result<Response, ApiError>;

fn ok(value: impl serde::Serialize) -> Answer {
    Ok(Json(value).into_response())
}

fn created(value: impl serde::Serialize) -> Answer {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

async fn list_books(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let query = input::Query::new(
        pairs,
        &["genre", "author_id", "in_stock", "q", "limit", "offset"],
    )?;
    let filter = BookFilter {
        genre: query.one_of("genre", GENRES)?,
        author_id: query.integer("author_id", 0..=i64::MAX)?.map(|n| n as u64),
        in_stock: query.boolean("in_stock")?,
        words: query
            .text("q")
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect(),
        limit: query.integer("limit", 1..=100)?.unwrap_or(20) as usize,
        offset: query.integer("offset", 0..=i64::MAX)?.unwrap_or(0) as usize,
    };
    ok(state.shop().books(&filter))
}

async fn create_book(State(state): State<AppState>, body: Bytes) -> Answer {
    let map = body_object(&body)?;
    let fields = Fields::new(
        &map,
        "",
        &["title", "author_id", "genre", "price", "in_stock"],
    )?;
    let new = new_book(&fields)?;
    created(state.shop().add_book(new)?)
}

/// `NewBook`'s fields, typed and within the spec's rules (the author is checked by the shop).
fn new_book(fields: &Fields<'_>) -> Result<NewBook, ApiError> {
    let title = fields.string("title")?.trim();
    if title.is_empty() {
        return Err(ApiError::unprocessable("title", "title must not be empty"));
    }
    let author_id = fields.integer("author_id")?;
    let author_id = u64::try_from(author_id).map_err(|_| {
        ApiError::unprocessable(
            "author_id",
            format!("author_id: no author with id {author_id} (see listAuthors)"),
        )
    })?;
    let genre_text = fields.string("genre")?;
    let genre = GENRES.iter().find(|g| **g == genre_text).ok_or_else(|| {
        ApiError::unprocessable(
            "genre",
            format!(
                "genre must be one of {}, got {genre_text:?}",
                GENRES.join(", ")
            ),
        )
    })?;
    let price = fields.number("price")?;
    if !(0.0..=100_000.0).contains(&price) {
        return Err(ApiError::unprocessable(
            "price",
            format!("price must be between 0 and 100000, got {price}"),
        ));
    }
    let in_stock = fields.optional_integer("in_stock")?.unwrap_or(0);
    let in_stock = u64::try_from(in_stock).map_err(|_| {
        ApiError::unprocessable(
            "in_stock",
            format!("in_stock must be 0 or more, got {in_stock}"),
        )
    })?;
    Ok(NewBook {
        title: title.to_string(),
        author_id,
        genre,
        price: (price * 100.0).round() / 100.0,
        in_stock,
    })
}

async fn get_book(State(state): State<AppState>, Path(book_id): Path<String>) -> Answer {
    let id = path_id("book_id", &book_id)?;
    ok(state.shop().book(id)?)
}

async fn delete_book(State(state): State<AppState>, Path(book_id): Path<String>) -> Answer {
    let id = path_id("book_id", &book_id)?;
    state.shop().remove_book(id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_authors(State(state): State<AppState>) -> Answer {
    ok(state.shop().authors())
}

async fn list_reviews(State(state): State<AppState>, Path(book_id): Path<String>) -> Answer {
    let id = path_id("book_id", &book_id)?;
    ok(state.shop().reviews(id)?)
}

async fn create_review(
    State(state): State<AppState>,
    Path(book_id): Path<String>,
    body: Bytes,
) -> Answer {
    let id = path_id("book_id", &book_id)?;
    // An unknown book is a 404 whatever the body says.
    state.shop().book(id)?;
    let map = body_object(&body)?;
    let fields = Fields::new(&map, "", &["stars", "text"])?;
    let stars = fields.integer("stars")?;
    let stars = u8::try_from(stars)
        .ok()
        .filter(|s| (1..=5).contains(s))
        .ok_or_else(|| {
            ApiError::unprocessable(
                "stars",
                format!("stars must be between 1 and 5, got {stars}"),
            )
        })?;
    let text = fields.optional_string("text")?.map(str::to_string);
    created(state.shop().add_review(id, stars, text)?)
}

async fn create_order(State(state): State<AppState>, body: Bytes) -> Answer {
    let map = body_object(&body)?;
    let fields = Fields::new(&map, "", &["items"])?;
    let items = order_items(&fields)?;
    created(state.shop().place_order(items)?)
}

/// `NewOrder.items`: at least one, each a book id and a quantity of 1 or more.
fn order_items(fields: &Fields<'_>) -> Result<Vec<OrderItem>, ApiError> {
    let values = fields.array("items")?;
    if values.is_empty() {
        return Err(ApiError::unprocessable(
            "items",
            "items must hold at least one item",
        ));
    }
    let mut items = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let prefix = format!("items[{index}].");
        let Some(map) = value.as_object() else {
            return Err(ApiError::bad_request(
                format!("items[{index}]"),
                format!("items[{index}] must be an object with book_id and quantity"),
            ));
        };
        let item = Fields::new(map, &prefix, &["book_id", "quantity"])?;
        let book_id = item.integer("book_id")?;
        let Ok(book_id) = u64::try_from(book_id) else {
            let field = item.name("book_id");
            let message = format!("{field}: no book with id {book_id}");
            return Err(ApiError::unprocessable(field, message));
        };
        let quantity = item.integer("quantity")?;
        if quantity < 1 {
            return Err(ApiError::unprocessable(
                item.name("quantity"),
                format!(
                    "{} must be 1 or more, got {quantity}",
                    item.name("quantity")
                ),
            ));
        }
        items.push(OrderItem {
            book_id,
            quantity: quantity as u64,
        });
    }
    Ok(items)
}

async fn get_order(State(state): State<AppState>, Path(order_id): Path<String>) -> Answer {
    ok(state.shop().order(&order_id)?)
}
