//! What the library logs about requests, and the ids and texts its errors
//! quote: never a token.

use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::StatusCode;

use crate::error::one_line;
use crate::http::transport::{AttemptError, RawResponse};
use crate::log::{log_at, LogLevel};

/// Logs one attempt's outcome (a POST to `path`) at debug level.
pub(crate) fn log_attempt(
    path: &str,
    outcome: &std::result::Result<RawResponse, AttemptError>,
    elapsed: Duration,
    attempt: u32,
) {
    let ms = elapsed.as_secs_f64() * 1000.0;
    match outcome {
        Ok(raw) => log_at!(
            LogLevel::Debug,
            "POST {path} -> {} in {ms:.1} ms (attempt {attempt})",
            raw.status.as_u16()
        ),
        Err(AttemptError::Oversize { status, .. }) => log_at!(
            LogLevel::Debug,
            "POST {path} -> {} with an oversized body in {ms:.1} ms (attempt {attempt})",
            status.as_u16()
        ),
        Err(AttemptError::Connect(cause)) => log_at!(
            LogLevel::Debug,
            "POST {path} -> connect failed in {ms:.1} ms (attempt {attempt}): {cause}"
        ),
        Err(AttemptError::Timeout) => log_at!(
            LogLevel::Debug,
            "POST {path} -> timed out after {ms:.1} ms (attempt {attempt})"
        ),
        Err(AttemptError::Io(cause)) => log_at!(
            LogLevel::Debug,
            "POST {path} -> connection broke after {ms:.1} ms (attempt {attempt}): {cause}"
        ),
    }
}

/// The id to quote for an answer: `MS-CV`, else `x-ms-request-id`, else
/// the `x-ms-client-request-id` the call sent (`ours`).
pub(crate) fn request_id(headers: &HeaderMap, ours: &str) -> String {
    ["ms-cv", "x-ms-request-id"]
        .iter()
        .filter_map(|name| headers.get(*name))
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .find(|v| !v.is_empty())
        .map_or_else(|| ours.to_owned(), one_line)
}

/// `HTTP 503 Service Unavailable`.
pub(crate) fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// Header list for logs, with `Authorization` replaced by `REDACTED`.
pub(crate) fn redacted_headers(headers: &HeaderMap) -> String {
    headers
        .iter()
        .map(|(name, value)| {
            if name == AUTHORIZATION || value.is_sensitive() {
                format!("{name}: REDACTED")
            } else {
                format!("{name}: {}", value.to_str().unwrap_or("<binary>"))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tests::headers;
    use reqwest::header::HeaderValue;

    #[test]
    fn request_id_precedence() {
        assert_eq!(request_id(&headers(&[]), "ours"), "ours");
        assert_eq!(
            request_id(&headers(&[("x-ms-request-id", "r1")]), "ours"),
            "r1"
        );
        assert_eq!(
            request_id(
                &headers(&[("x-ms-request-id", "r1"), ("ms-cv", "cv.1")]),
                "ours"
            ),
            "cv.1"
        );
    }

    #[test]
    fn headers_are_redacted_for_logs() {
        let mut h = headers(&[("accept", "application/json")]);
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer secret.token.x"),
        );
        let text = redacted_headers(&h);
        assert!(text.contains("authorization: REDACTED"));
        assert!(!text.contains("secret"));
    }

    #[test]
    fn status_text_has_reason() {
        assert_eq!(
            status_text(StatusCode::SERVICE_UNAVAILABLE),
            "HTTP 503 Service Unavailable"
        );
        assert_eq!(status_text(StatusCode::from_u16(599).unwrap()), "HTTP 599");
    }
}
