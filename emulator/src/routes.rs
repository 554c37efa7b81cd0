//! Routing and the three service operations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, HOST, LOCATION};
use hyper::http::request::Parts;
use hyper::{Method, Request, StatusCode, Version};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};

use crate::auth;
use crate::limits::Key;
use crate::respond::{self, Resp, API_VERSIONS};
use crate::state::{Event, EventKind, Fault, FaultAction, Op, RequestEntry, Shared};

/// Largest request body accepted.
pub(crate) const MAX_BODY: usize = 1 << 20;
/// Largest refused body read to its end before the 413 is sent.
const DRAIN_LIMIT: u64 = 64 << 20;
/// Time a client has to send the whole body once the head has arrived.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Size of an "oversize" fault body.
const OVERSIZE_BYTES: usize = 2 * 1024 * 1024 + 1024;

/// Characters escaped when a thread id goes back into a path segment: all but unreserved.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The connection is closed without an answer (scripted drop, or a client gone mid-body).
#[derive(Debug)]
pub(crate) struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed without an answer")
    }
}

impl std::error::Error for Abort {}

/// Handles one request that arrived on connection number `connection`.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    connection: u64,
    req: Request<Incoming>,
) -> Result<Resp, Abort> {
    let path = req.uri().path();
    if let Some(rest) = path.strip_prefix("/chat/threads/") {
        let mut segments = rest.split('/');
        if let (Some(raw_id), Some(op), None) = (segments.next(), segments.next(), segments.next())
        {
            if let (false, Some(op)) = (raw_id.is_empty(), Op::from_segment(op)) {
                let Some(thread_id) = decode_segment(raw_id) else {
                    let resp = respond::bad_request(
                        "The thread id is not valid percent-encoded UTF-8.",
                        Some("chatThreadId"),
                    );
                    latency(&shared).await;
                    return Ok(resp);
                };
                return thread_route(shared, connection, req, thread_id, op).await;
            }
        }
        return Ok(respond::not_found());
    }
    if crate::identity::is_identity_path(path) {
        return Ok(crate::identity::handle(&shared, req).await);
    }
    if let Some(rest) = path.strip_prefix("/_emulator/") {
        let rest = rest.to_string();
        return Ok(crate::control::handle(&shared, req, &rest).await);
    }
    Ok(respond::not_found())
}

/// Waits out the service latency before an answer is sent. No lock is held here.
async fn latency(shared: &Shared) {
    let latency = shared.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}

/// The request-log name of an HTTP version.
fn version_name(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

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

fn header_string(headers: &HeaderMap, name: impl hyper::header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
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

async fn thread_route(
    shared: Arc<Shared>,
    connection: u64,
    req: Request<Incoming>,
    thread_id: String,
    op: Op,
) -> Result<Resp, Abort> {
    let arrived = Instant::now();
    let (parts, body) = req.into_parts();
    let mut entry = RequestEntry {
        seq: 0,
        op: op.route(),
        method: parts.method.to_string(),
        connection,
        http_version: version_name(parts.version),
        at_ms: shared.ms_since_start(arrived),
        done_ms: 0.0,
        status: 0,
        client_request_id: header_string(&parts.headers, "x-ms-client-request-id"),
        user_agent: header_string(&parts.headers, hyper::header::USER_AGENT),
        authorization: auth::scheme_of(parts.headers.get(hyper::header::AUTHORIZATION)),
        api_version: query_param(parts.uri.query(), "api-version"),
        content_type: header_string(&parts.headers, CONTENT_TYPE),
        accept: header_string(&parts.headers, hyper::header::ACCEPT),
        fault: false,
    };
    let fault = if parts.method == Method::POST {
        shared.lock().take_fault(&thread_id, op)
    } else {
        None
    };
    entry.fault = fault.is_some();
    // Logged on arrival, so a request the client gave up on is listed too;
    // its status and end time are filled in when this future ends or is dropped.
    let seq = shared
        .lock()
        .thread_mut(&thread_id)
        .push_request(entry.clone());
    let mut log = FinishOnDrop {
        shared: &shared,
        thread_id: &thread_id,
        seq,
        status: 0,
    };
    let result = if parts.method != Method::POST {
        latency(&shared).await;
        Ok(respond::method_not_allowed("POST"))
    } else if let Some(fault) = fault {
        apply_fault(&shared, &parts, body, &thread_id, op, &entry, fault).await
    } else {
        let result = operation(&shared, &parts, body, &thread_id, op, &entry).await;
        if result.is_ok() {
            latency(&shared).await;
        }
        result
    };
    log.status = result.as_ref().map_or(0, |r| r.status().as_u16());
    drop(log);
    result
}

/// Completes a request's log line when dropped, whether its handling finished or not.
struct FinishOnDrop<'a> {
    shared: &'a Shared,
    thread_id: &'a str,
    seq: u64,
    status: u16,
}

impl Drop for FinishOnDrop<'_> {
    fn drop(&mut self) {
        let done_ms = self.shared.ms_since_start(Instant::now());
        self.shared
            .lock()
            .thread_mut(self.thread_id)
            .finish_request(self.seq, self.status, done_ms);
    }
}

async fn apply_fault(
    shared: &Shared,
    parts: &Parts,
    body: Incoming,
    thread_id: &str,
    op: Op,
    entry: &RequestEntry,
    fault: Fault,
) -> Result<Resp, Abort> {
    if fault.action == FaultAction::DropBeforeBody {
        tokio::time::sleep(fault.delay).await;
        return Err(Abort);
    }
    if fault.action == FaultAction::Respond && fault.status.is_none() {
        // A delay (and maybe extra headers) in front of normal handling.
        tokio::time::sleep(fault.delay).await;
        let mut resp = operation(shared, parts, body, thread_id, op, entry).await?;
        for (name, value) in fault.headers {
            resp.headers_mut().insert(name, value);
        }
        latency(shared).await;
        return Ok(resp);
    }
    // Read the request so the connection stays usable; its content does not matter.
    let _ = read_body(&parts.headers, body).await;
    tokio::time::sleep(fault.delay).await;
    let mut resp = match fault.action {
        FaultAction::Drop => return Err(Abort),
        FaultAction::Oversize => {
            let status = fault.status.unwrap_or(match op {
                Op::Messages => StatusCode::CREATED,
                _ => StatusCode::OK,
            });
            let id = shared.lock().next_message_id();
            let mut text = format!("{{\"id\":\"{id}\",\"padding\":\"");
            text.extend(std::iter::repeat_n('x', OVERSIZE_BYTES));
            text.push_str("\"}");
            respond::build(status, Bytes::from(text))
        }
        _ => respond::build(
            fault.status.unwrap_or(StatusCode::OK),
            fault.body.unwrap_or_default(),
        ),
    };
    for (name, value) in fault.headers {
        resp.headers_mut().insert(name, value);
    }
    Ok(resp)
}

fn content_type_is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim())
        .is_some_and(|mime| mime.eq_ignore_ascii_case("application/json"))
}

/// Normal handling of one service call.
async fn operation(
    shared: &Shared,
    parts: &Parts,
    body: Incoming,
    thread_id: &str,
    op: Op,
    entry: &RequestEntry,
) -> Result<Resp, Abort> {
    match entry.api_version.as_deref() {
        None => {
            return Ok(respond::error_target(
                StatusCode::BAD_REQUEST,
                "MissingApiVersionParameter",
                "The api-version query parameter is required.",
                Some("api-version"),
            ))
        }
        Some(v) if !API_VERSIONS.contains(&v) => {
            let message = format!(
                "The api-version '{v}' is not supported. Supported versions: {}.",
                API_VERSIONS.join(", ")
            );
            return Ok(respond::error_target(
                StatusCode::BAD_REQUEST,
                "UnsupportedApiVersion",
                &message,
                Some("api-version"),
            ));
        }
        Some(_) => {}
    }
    let user = match auth::check_bearer(
        parts.headers.get(hyper::header::AUTHORIZATION),
        auth::now_epoch_s(),
    ) {
        Ok(user) => user,
        Err(message) => {
            return Ok(respond::error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                message,
            ))
        }
    };
    if !content_type_is_json(&parts.headers) {
        return Ok(respond::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "The request body must be application/json.",
        ));
    }
    let bytes = match read_body(&parts.headers, body).await {
        Ok(bytes) => bytes,
        Err(e) => return body_error(e),
    };
    let object = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(object)) => object,
        Ok(_) => {
            return Ok(respond::bad_request(
                "The request body must be a JSON object.",
                None,
            ))
        }
        Err(_) => {
            return Ok(respond::bad_request(
                "The request body is not valid JSON.",
                None,
            ))
        }
    };
    let kind = match validate(op, object) {
        Ok(kind) => kind,
        Err(invalid) => return Ok(invalid.into_response()),
    };
    let limit_keys = |user: &str| match op {
        Op::Messages => vec![Key::Messages(thread_id.to_string())],
        Op::ReadReceipts => vec![Key::ReadReceipts(thread_id.to_string(), user.to_string())],
        Op::Typing => vec![
            Key::TypingUser(thread_id.to_string(), user.to_string()),
            Key::TypingThread(thread_id.to_string()),
        ],
    };
    let now = Instant::now();
    let at_ms = shared.ms_since_start(now);
    let mut event = Event {
        kind,
        user,
        client_request_id: entry.client_request_id.clone(),
        user_agent: entry.user_agent.clone(),
        at_ms,
    };
    let accepted = {
        let mut state = shared.lock();
        let admitted = if state.limits_enabled {
            state.limiter.admit(&limit_keys(&event.user), now)
        } else {
            Ok(())
        };
        admitted.map(|()| {
            let id = match &mut event.kind {
                EventKind::Message { id, .. } => {
                    *id = state.next_message_id().to_string();
                    Some(id.clone())
                }
                _ => None,
            };
            state.thread_mut(thread_id).push_event(event);
            id
        })
    };
    match accepted {
        Err(wait) => {
            let seconds = wait.as_millis().div_ceil(1000).max(1);
            let mut resp = respond::error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Rate limit exceeded.",
            );
            resp.headers_mut().insert(
                hyper::header::RETRY_AFTER,
                HeaderValue::from(seconds as u64),
            );
            Ok(resp)
        }
        Ok(Some(id)) => {
            let mut resp = respond::json(StatusCode::CREATED, &json!({ "id": id }));
            if let Some(location) = location(shared, parts, thread_id, &id) {
                resp.headers_mut().insert(LOCATION, location);
            }
            Ok(resp)
        }
        Ok(None) => Ok(respond::empty(StatusCode::OK)),
    }
}

fn location(shared: &Shared, parts: &Parts, thread_id: &str, id: &str) -> Option<HeaderValue> {
    let scheme = if shared.https { "https" } else { "http" };
    // HTTP/1.1 names the host in `Host`, HTTP/2 in the `:authority` of the URI.
    let host = match parts.headers.get(HOST).and_then(|h| h.to_str().ok()) {
        Some(host) if !host.is_empty() => host.to_string(),
        _ => match parts.uri.authority() {
            Some(authority) => authority.to_string(),
            None => shared.addr.to_string(),
        },
    };
    let encoded = utf8_percent_encode(thread_id, SEGMENT);
    HeaderValue::from_str(&format!(
        "{scheme}://{host}/chat/threads/{encoded}/messages/{id}"
    ))
    .ok()
}

/// A body field the service would refuse: the message and the field.
struct Invalid(String, &'static str);

impl Invalid {
    fn into_response(self) -> Resp {
        respond::bad_request(&self.0, Some(self.1))
    }
}

fn optional_string(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, Invalid> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Invalid(
            format!("The field '{field}' must be a string."),
            field,
        )),
    }
}

fn required_string(object: &Map<String, Value>, field: &'static str) -> Result<String, Invalid> {
    match optional_string(object, field)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(Invalid(
            format!("The field '{field}' is required and must not be empty."),
            field,
        )),
    }
}

/// Checks a request body as the service does and turns it into the event to store.
fn validate(op: Op, object: Map<String, Value>) -> Result<EventKind, Invalid> {
    match op {
        Op::Messages => {
            let content = required_string(&object, "content")?;
            let sender_display_name = optional_string(&object, "senderDisplayName")?;
            let kind = optional_string(&object, "type")?.unwrap_or_else(|| "text".into());
            if !kind.eq_ignore_ascii_case("text") && !kind.eq_ignore_ascii_case("html") {
                return Err(Invalid(
                    "The message type must be 'text' or 'html'.".into(),
                    "type",
                ));
            }
            let metadata = match object.get("metadata") {
                None | Some(Value::Null) => None,
                Some(Value::Object(map)) if map.values().all(Value::is_string) => Some(map.clone()),
                Some(_) => {
                    return Err(Invalid(
                        "The field 'metadata' must map strings to strings.".into(),
                        "metadata",
                    ))
                }
            };
            Ok(EventKind::Message {
                id: String::new(),
                content,
                kind,
                sender_display_name,
                metadata,
            })
        }
        Op::Typing => Ok(EventKind::Typing {
            sender_display_name: optional_string(&object, "senderDisplayName")?,
        }),
        Op::ReadReceipts => Ok(EventKind::ReadReceipt {
            chat_message_id: required_string(&object, "chatMessageId")?,
        }),
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

    #[test]
    fn message_validation() {
        let obj = |v: Value| v.as_object().unwrap().clone();
        assert!(validate(Op::Messages, obj(json!({"content": "hi", "type": "HTML"}))).is_ok());
        assert!(validate(Op::Messages, obj(json!({"content": ""}))).is_err());
        assert!(validate(Op::Messages, obj(json!({"content": 1}))).is_err());
        assert!(validate(
            Op::Messages,
            obj(json!({"content": "x", "type": "topicUpdated"}))
        )
        .is_err());
        assert!(validate(
            Op::Messages,
            obj(json!({"content": "x", "metadata": {"a": 1}}))
        )
        .is_err());
        assert!(validate(Op::Messages, obj(json!({"content": "x", "metadata": []}))).is_err());
        assert!(validate(
            Op::Messages,
            obj(json!({"content": "x", "senderDisplayName": 2}))
        )
        .is_err());
        assert!(validate(Op::ReadReceipts, obj(json!({}))).is_err());
        assert!(validate(Op::Typing, obj(json!({}))).is_ok());
    }
}
