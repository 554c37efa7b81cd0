//! What the service routes and the control API share: reading a request body within its
//! limits, decoding a path segment or a query parameter, and closing without an answer.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONTENT_LENGTH};
use hyper::StatusCode;
use percent_encoding::percent_decode_str;

use crate::respond::{self, Resp};

/// Largest request body accepted.
pub(crate) const MAX_BODY: usize = 1 << 20;
/// Largest refused body read to its end before the 413 is sent.
const DRAIN_LIMIT: u64 = 64 << 20;
/// Time a client has to send the whole body once the head has arrived.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// The connection is closed without an answer (scripted drop, or a client gone mid-body).
#[derive(Debug)]
pub(crate) struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed without an answer")
    }
}

impl std::error::Error for Abort {}

/// Decodes one path segment exactly once.
pub(crate) fn decode_segment(raw: &str) -> Option<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The value of a query parameter, decoded (`+` as space).
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_decode_str(&s).decode_utf8_lossy().into_owned()
    };
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(key) == name).then(|| decode(value))
    })
}

pub(crate) enum BodyError {
    TooLarge,
    TimedOut,
    Broken,
}

/// Reads the whole body, refusing more than [`MAX_BODY`] bytes without buffering them.
///
/// A body whose declared length is over the cap but at most [`DRAIN_LIMIT`]
/// is read and discarded before the refusal, so that a client still uploading
/// it reads the 413 instead of a reset connection. A larger declared length,
/// or a chunked body that grows past the cap, is refused at once and the
/// connection closed.
pub(crate) async fn read_body(headers: &HeaderMap, body: Incoming) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(BodyError::TooLarge);
    }
    let read = async move {
        let mut body = body;
        if declared.is_some_and(|n| n > MAX_BODY as u64) {
            drain(&mut body).await;
            return Err(BodyError::TooLarge);
        }
        let mut buf = Vec::with_capacity(declared.unwrap_or(0) as usize);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Broken)?;
            let Some(data) = frame.data_ref() else {
                continue;
            };
            if buf.len() + data.len() > MAX_BODY {
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(data);
        }
        Ok(Bytes::from(buf))
    };
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

/// Reads and drops a refused body, up to [`DRAIN_LIMIT`] bytes.
async fn drain(body: &mut Incoming) {
    let mut seen = 0u64;
    while seen <= DRAIN_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len() as u64),
            _ => return,
        }
    }
}

/// Maps a body failure to its answer (or to a closed connection).
pub(crate) fn body_error(e: BodyError) -> Result<Resp, Abort> {
    match e {
        BodyError::TooLarge => Ok(respond::too_large()),
        BodyError::TimedOut => Ok(respond::error(
            StatusCode::REQUEST_TIMEOUT,
            "RequestTimeout",
            "The request body did not arrive in time.",
        )),
        BodyError::Broken => Err(Abort),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_decoded() {
        let q = Some("a=1&api-version=2024-03-07&user=x%3Ay+z");
        assert_eq!(query_param(q, "api-version").as_deref(), Some("2024-03-07"));
        assert_eq!(query_param(q, "user").as_deref(), Some("x:y z"));
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(query_param(None, "a"), None);
    }

    #[test]
    fn segments_decode_once() {
        assert_eq!(
            decode_segment("a%2Fb%3Fc%23d%20e").as_deref(),
            Some("a/b?c#d e")
        );
        assert_eq!(decode_segment("x%252F").as_deref(), Some("x%2F"));
        assert_eq!(decode_segment("%FF"), None);
    }
}
