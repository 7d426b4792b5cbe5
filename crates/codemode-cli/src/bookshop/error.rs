//! The bookshop's error responses: a status and a JSON `Error` body (`code`, `message`, and the
//! `field` at fault when there is one), as `demo/bookshop.json` declares them. Knows HTTP status
//! codes and nothing of the shop's data.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One failed request, answered as `{"code", "message", "field"?}` with its status.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) field: Option<String>,
}

impl ApiError {
    /// 400: a parameter or body field is missing, unknown or of the wrong type.
    pub(crate) fn bad_request(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, Some(field.into()), message)
    }

    /// 400 about the request as a whole (the body is not JSON at all).
    pub(crate) fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, None, message)
    }

    /// 404: the id in the path names nothing.
    pub(crate) fn not_found(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, Some(field.to_string()), message)
    }

    /// 404 for a path no route serves.
    pub(crate) fn no_route(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, None, message)
    }

    /// 409: the request is well formed but the shop's state refuses it (not enough stock).
    pub(crate) fn conflict(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, Some(field.into()), message)
    }

    /// 422: a field has the right type but breaks a rule (out of range, unknown reference).
    pub(crate) fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(field.into()),
            message,
        )
    }

    pub(crate) fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            None,
            "missing or wrong bearer token (send `Authorization: Bearer <token>`)",
        )
    }

    pub(crate) fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, None, message)
    }

    fn new(status: StatusCode, field: Option<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            field,
        }
    }

    /// The `code` of the body, one per status the spec declares.
    pub(crate) fn code(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::CONFLICT => "conflict",
            _ => "unprocessable",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code(), "message": self.message });
        if let Some(field) = &self.field {
            body["field"] = json!(field);
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
