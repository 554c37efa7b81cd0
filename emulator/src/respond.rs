//! Response construction: the headers every answer carries and the service's error body.

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde::Serialize;

pub(crate) type Resp = Response<Full<Bytes>>;

/// The api-versions the emulator serves, as the service lists them.
pub(crate) const API_VERSIONS: [&str; 5] = [
    "2021-03-07",
    "2021-09-07",
    "2023-11-07",
    "2024-03-07",
    "2025-03-15",
];
const API_SUPPORTED_VERSIONS: &str = "2021-03-07, 2021-09-07, 2023-11-07, 2024-03-07, 2025-03-15";
pub(crate) const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A random correlation vector: 22 base64 characters and a `.0` suffix.
pub(crate) fn ms_cv() -> HeaderValue {
    let mut raw = [0u8; 16];
    fastrand::fill(&mut raw);
    let mut text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw);
    text.push_str(".0");
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("AAAAAAAAAAAAAAAAAAAAAA.0"))
}

/// A response with `MS-CV`, `api-supported-versions` and, for a non-empty body, a JSON
/// `Content-Type`.
pub(crate) fn build(status: StatusCode, body: Bytes) -> Resp {
    let has_body = !body.is_empty();
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert("ms-cv", ms_cv());
    headers.insert(
        "api-supported-versions",
        HeaderValue::from_static(API_SUPPORTED_VERSIONS),
    );
    if has_body {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    }
    resp
}

pub(crate) fn empty(status: StatusCode) -> Resp {
    build(status, Bytes::new())
}

pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Resp {
    match serde_json::to_vec(value) {
        Ok(body) => build(status, Bytes::from(body)),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "Response serialization failed.",
        ),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
}

/// A `CommunicationErrorResponse`: `{"error":{"code":...,"message":...}}`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Resp {
    error_target(status, code, message, None)
}

/// Why an error answer was sent, `Code: message`, kept in the response's extensions for the
/// request log.
#[derive(Clone)]
pub(crate) struct Refusal(pub String);

pub(crate) fn error_target(
    status: StatusCode,
    code: &str,
    message: &str,
    target: Option<&str>,
) -> Resp {
    let mut resp = json(
        status,
        &ErrorBody {
            error: ErrorDetail {
                code,
                message,
                target,
            },
        },
    );
    resp.extensions_mut()
        .insert(Refusal(format!("{code}: {message}")));
    resp
}

pub(crate) fn bad_request(message: &str, target: Option<&str>) -> Resp {
    error_target(StatusCode::BAD_REQUEST, "BadRequest", message, target)
}

pub(crate) fn not_found() -> Resp {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "No resource matches the request path.",
    )
}

pub(crate) fn method_not_allowed(allow: &'static str) -> Resp {
    let mut resp = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The request method is not supported for this resource.",
    );
    resp.headers_mut()
        .insert(hyper::header::ALLOW, HeaderValue::from_static(allow));
    resp
}

pub(crate) fn too_large() -> Resp {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
        "The request body exceeds 1 MiB.",
    )
}
