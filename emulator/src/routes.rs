//! Routing and the three service operations.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE, HOST, LOCATION};
use hyper::http::request::Parts;
use hyper::{Method, Request, StatusCode, Version};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};

use crate::auth;
use crate::control_client::LoggedRequest;
use crate::limits::Key;
use crate::request::{body_error, decode_segment, query_param, read_body, Abort};
use crate::respond::{self, Resp, API_VERSIONS};
use crate::state::{Event, EventKind, Fault, FaultAction, Op, RequestEntry, Shared};

/// Largest message content, in bytes of UTF-8: the service-limits page gives 28 KB.
pub(crate) const MAX_CONTENT_BYTES: usize = 28 * 1024;
/// Size of an "oversize" fault body.
const OVERSIZE_BYTES: usize = 2 * 1024 * 1024 + 1024;

/// Characters escaped when a thread id goes back into a path segment: all but unreserved.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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

/// Waits out the service latency (and jitter) before an answer is sent. No lock is held here.
async fn latency(shared: &Shared) {
    let latency = shared.answer_delay();
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

fn header_string(headers: &HeaderMap, name: impl hyper::header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
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
        line: LoggedRequest {
            op: op.public(),
            method: parts.method.to_string(),
            connection,
            http_version: version_name(parts.version).to_owned(),
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
            reason: None,
        },
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
    let scripted = fault.as_ref().map(describe_fault);
    let mut log = FinishOnDrop {
        shared: &shared,
        thread_id: &thread_id,
        seq,
        status: 0,
        reason: Some("The client left before the answer.".into()),
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
    let refusal = match &result {
        Ok(resp) => resp
            .extensions()
            .get::<respond::Refusal>()
            .map(|r| r.0.clone()),
        Err(_) if scripted.is_none() => Some(Abort.to_string()),
        Err(_) => None,
    };
    log.reason = match (scripted, refusal) {
        (Some(fault), Some(refusal)) => Some(format!("{fault}; {refusal}")),
        (fault, refusal) => fault.or(refusal),
    };
    drop(log);
    result
}

/// A fault as the request log names it.
fn describe_fault(fault: &Fault) -> String {
    let delay = fault.delay.as_millis();
    let mut text = match (fault.action, fault.status) {
        (FaultAction::Respond, Some(status)) => format!("fault: status {}", status.as_u16()),
        (FaultAction::Respond, None) => format!("fault: delay {delay} ms"),
        (FaultAction::Drop, _) => "fault: drop".to_string(),
        (FaultAction::DropBeforeBody, _) => "fault: dropBeforeBody".to_string(),
        (FaultAction::Oversize, _) => "fault: oversize".to_string(),
    };
    if delay > 0 && !(fault.action == FaultAction::Respond && fault.status.is_none()) {
        text.push_str(&format!(" after {delay} ms"));
    }
    text
}

/// Completes a request's log line when dropped, whether its handling finished or not.
struct FinishOnDrop<'a> {
    shared: &'a Shared,
    thread_id: &'a str,
    seq: u64,
    status: u16,
    reason: Option<String>,
}

impl Drop for FinishOnDrop<'_> {
    fn drop(&mut self) {
        let done_ms = self.shared.ms_since_start(Instant::now());
        let answer = (self.status, self.reason.take());
        self.shared
            .lock()
            .finish_request(self.thread_id, self.seq, answer, done_ms);
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
    let unsupported = || {
        respond::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "The request body must be application/json.",
        )
    };
    let is_json = content_type_is_json(&parts.headers);
    // The typing body is optional (api-version 2021-03-07 had none): an empty one is
    // accepted whatever its Content-Type, so it has to be read first.
    if !is_json && op != Op::Typing {
        return Ok(unsupported());
    }
    let bytes = match read_body(&parts.headers, body).await {
        Ok(bytes) => bytes,
        Err(e) => return body_error(e),
    };
    let kind = if op == Op::Typing && bytes.is_empty() {
        EventKind::Typing {
            sender_display_name: None,
        }
    } else if !is_json {
        return Ok(unsupported());
    } else {
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
        match validate(op, object) {
            Ok(kind) => kind,
            Err(invalid) => return Ok(invalid.into_response()),
        }
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
            state.push_event(thread_id, event);
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
            if content.len() > MAX_CONTENT_BYTES {
                return Err(Invalid("Message size exceeded.".into(), "content"));
            }
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
    fn message_validation() {
        let obj = |v: Value| v.as_object().unwrap().clone();
        assert!(validate(Op::Messages, obj(json!({"content": "hi", "type": "HTML"}))).is_ok());
        assert!(validate(Op::Messages, obj(json!({"content": ""}))).is_err());
        let largest = "é".repeat(MAX_CONTENT_BYTES / 2);
        assert!(validate(Op::Messages, obj(json!({ "content": largest }))).is_ok());
        let over = format!("{largest}x");
        let Err(Invalid(message, field)) = validate(Op::Messages, obj(json!({ "content": over })))
        else {
            panic!("content over the limit accepted");
        };
        assert_eq!(
            (message.as_str(), field),
            ("Message size exceeded.", "content")
        );
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
