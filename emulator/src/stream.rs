//! The web inbox's live feed: `GET /_emulator/stream`, server-sent events.
//!
//! A stream opens with a snapshot of the state (taken under the state lock together with its
//! subscription, so nothing falls between the two), then carries each change as it happens:
//! a stored event, a refused or faulted request, the count of pending faults, a reset.
//! Changes go through one bounded broadcast ring: a client that falls more than
//! [`RING`] changes behind gets a fresh snapshot instead of the changes it missed, so a slow
//! client never makes the emulator hold more. At most [`MAX_STREAMS`] streams are open at
//! once. Strings are clipped for display; the control API keeps them whole.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde_json::{json, Map, Value};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::respond;
use crate::routes::MAX_CONTENT_BYTES;
use crate::state::{Event, RequestEntry, Shared, State};

/// Changes a stream may fall behind before it is sent a new snapshot instead.
pub(crate) const RING: usize = 256;
/// Event streams open at once; more are answered 503.
pub(crate) const MAX_STREAMS: usize = 32;
/// Interval of the comment line that keeps an idle stream (and its proxies) alive and finds
/// clients that are gone.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Milliseconds a browser waits before reconnecting a broken stream.
const RETRY_MS: u64 = 2000;
/// Longest name, user id, metadata key or value shown, in bytes.
const SHORT_TEXT: usize = 512;
/// Metadata entries shown per message.
const METADATA_SHOWN: usize = 32;
/// Events per thread, threads, and refused or faulted requests in a snapshot.
const SNAPSHOT_EVENTS: usize = 200;
const SNAPSHOT_THREADS: usize = 200;
const SNAPSHOT_PROBLEMS: usize = 200;
/// Bytes of events in a snapshot; older events beyond it are left out.
const SNAPSHOT_BUDGET: usize = 4 << 20;

/// The sending side, kept in the state so that changes are numbered under its lock.
pub(crate) struct Hub {
    tx: broadcast::Sender<Bytes>,
    open: Arc<AtomicUsize>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            tx: broadcast::channel(RING).0,
            open: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Hub {
    fn publish(&self, value: impl FnOnce() -> Value) {
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(frame(&value()));
        }
    }

    pub fn event(&self, thread_id: &str, event: &Event) {
        self.publish(
            || json!({"kind": "event", "threadId": thread_id, "event": event_view(event)}),
        );
    }

    pub fn request(&self, thread_id: &str, entry: &RequestEntry) {
        self.publish(|| json!({"kind": "request", "request": request_view(thread_id, entry)}));
    }

    pub fn faults(&self, pending: u64) {
        self.publish(|| json!({"kind": "faults", "pendingFaults": pending}));
    }

    pub fn reset(&self) {
        self.publish(|| json!({"kind": "reset"}));
    }
}

/// One `data:` record. JSON has no raw line breaks, so one line carries it.
fn frame(value: &Value) -> Bytes {
    let mut text = String::from("data: ");
    text.push_str(&value.to_string());
    text.push_str("\n\n");
    Bytes::from(text)
}

/// `text` cut to at most `max` bytes at a character boundary; `clipped` is set when cut.
fn clip(text: &str, max: usize, clipped: &mut bool) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    *clipped = true;
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// An event as the events API gives it, without the client's request id and user agent,
/// its strings clipped for display.
fn event_view(event: &Event) -> Value {
    let mut view = event.to_json();
    let mut clipped = false;
    if let Value::Object(map) = &mut view {
        map.remove("clientRequestId");
        map.remove("userAgent");
        for (field, max) in [
            ("content", MAX_CONTENT_BYTES),
            ("senderDisplayName", SHORT_TEXT),
            ("chatMessageId", SHORT_TEXT),
            ("user", SHORT_TEXT),
        ] {
            if let Some(Value::String(text)) = map.get_mut(field) {
                *text = clip(text, max, &mut clipped);
            }
        }
        if let Some(Value::String(kind)) = map.get_mut("type") {
            kind.make_ascii_lowercase();
        }
        if let Some(Value::Object(metadata)) = map.get("metadata") {
            let mut shown = Map::new();
            for (key, value) in metadata.iter().take(METADATA_SHOWN) {
                let value = value.as_str().unwrap_or_default();
                shown.insert(
                    clip(key, SHORT_TEXT, &mut clipped),
                    Value::String(clip(value, SHORT_TEXT, &mut clipped)),
                );
            }
            clipped |= metadata.len() > METADATA_SHOWN;
            map.insert("metadata".into(), Value::Object(shown));
        }
        map.insert("clipped".into(), Value::Bool(clipped));
    }
    view
}

/// A refused, faulted or unanswered request as the page lists it.
fn request_view(thread_id: &str, entry: &RequestEntry) -> Value {
    json!({
        "threadId": thread_id,
        "op": entry.op,
        "method": entry.method,
        "status": entry.status,
        "reason": entry.reason,
        "fault": entry.fault,
        "atMs": entry.at_ms,
        "doneMs": entry.done_ms,
    })
}

/// The state the page starts from (and starts again from after falling behind).
fn snapshot(shared: &Shared, state: &State) -> Bytes {
    let last_activity = |log: &crate::state::ThreadLog| {
        let event = log.events.back().map_or(0.0, |e| e.at_ms);
        let request = log.requests.back().map_or(0.0, |r| r.at_ms);
        event.max(request)
    };
    let mut threads: Vec<_> = state.threads.iter().collect();
    threads.sort_by(|a, b| last_activity(b.1).total_cmp(&last_activity(a.1)));
    let mut budget = SNAPSHOT_BUDGET;
    let mut shown = Vec::new();
    for (id, log) in threads.iter().take(SNAPSHOT_THREADS) {
        let mut events = Vec::new();
        for event in log.events.iter().rev().take(SNAPSHOT_EVENTS) {
            let view = event_view(event);
            let size = view.to_string().len();
            if size > budget {
                break;
            }
            budget -= size;
            events.push(view);
        }
        events.reverse();
        shown.push(json!({
            "id": id,
            "eventCount": log.events.len(),
            "events": events,
        }));
    }
    let mut problems: Vec<(&String, &RequestEntry)> = state
        .threads
        .iter()
        .flat_map(|(id, log)| log.requests.iter().map(move |r| (id, r)))
        .filter(|(_, r)| r.is_problem() && (r.status != 0 || r.done_ms > 0.0))
        .collect();
    problems.sort_by(|a, b| a.1.at_ms.total_cmp(&b.1.at_ms));
    let skip = problems.len().saturating_sub(SNAPSHOT_PROBLEMS);
    let problems: Vec<Value> = problems[skip..]
        .iter()
        .map(|(id, r)| request_view(id, r))
        .collect();
    let (latency, jitter) = shared.latency();
    frame(&json!({
        "kind": "snapshot",
        "nowMs": shared.ms_since_start(std::time::Instant::now()),
        "threadCount": state.threads.len(),
        "threads": shown,
        "problems": problems,
        "pendingFaults": state.pending_faults(),
        "limits": state.limits_enabled,
        "latencyMs": latency.as_millis() as u64,
        "jitterMs": jitter.as_millis() as u64,
    }))
}

/// Subscribes and takes a snapshot at one instant.
fn subscribe(shared: &Shared) -> (broadcast::Receiver<Bytes>, Bytes) {
    let state = shared.lock();
    let rx = state.hub.tx.subscribe();
    let first = snapshot(shared, &state);
    (rx, first)
}

/// Answers `GET /_emulator/stream`.
pub(crate) fn open(shared: &Arc<Shared>) -> Response<ServerBody> {
    let open = shared.lock().hub.open.clone();
    if open.fetch_add(1, Ordering::SeqCst) >= MAX_STREAMS {
        open.fetch_sub(1, Ordering::SeqCst);
        let resp = respond::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Too many event streams are open.",
        );
        return resp.map(ServerBody::full);
    }
    let slot = Slot(open);
    let (rx, snapshot) = subscribe(shared);
    let mut first = format!("retry: {RETRY_MS}\n\n").into_bytes();
    first.extend_from_slice(&snapshot);
    let start = tokio::time::Instant::now() + KEEP_ALIVE;
    let events = Events {
        shared: shared.clone(),
        next: Some(Bytes::from(first)),
        rx: Some(rx),
        waiting: None,
        keep_alive: tokio::time::interval_at(start, KEEP_ALIVE),
        _slot: slot,
    };
    let mut resp = Response::new(ServerBody {
        body: Inner::Events(Box::new(events)),
        guard: None,
    });
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// Counts an open stream until dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

type Received = (broadcast::Receiver<Bytes>, Result<Bytes, RecvError>);

/// An open event stream.
struct Events {
    shared: Arc<Shared>,
    next: Option<Bytes>,
    rx: Option<broadcast::Receiver<Bytes>>,
    waiting: Option<Pin<Box<dyn Future<Output = Received> + Send>>>,
    keep_alive: tokio::time::Interval,
    _slot: Slot,
}

impl Events {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(first) = self.next.take() {
            return Poll::Ready(Some(first));
        }
        if self.waiting.is_none() {
            let Some(mut rx) = self.rx.take() else {
                return Poll::Ready(None);
            };
            self.waiting = Some(Box::pin(async move {
                let received = rx.recv().await;
                (rx, received)
            }));
        }
        if let Some(waiting) = self.waiting.as_mut() {
            if let Poll::Ready((rx, received)) = waiting.as_mut().poll(cx) {
                self.waiting = None;
                self.keep_alive.reset();
                return Poll::Ready(match received {
                    Ok(change) => {
                        self.rx = Some(rx);
                        Some(change)
                    }
                    Err(RecvError::Lagged(_)) => {
                        drop(rx);
                        let (rx, snapshot) = subscribe(&self.shared);
                        self.rx = Some(rx);
                        Some(snapshot)
                    }
                    Err(RecvError::Closed) => None,
                });
            }
        }
        if self.keep_alive.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Bytes::from_static(b": keep-alive\n\n")));
        }
        Poll::Pending
    }
}

enum Inner {
    Full(Full<Bytes>),
    Events(Box<Events>),
}

/// The body of every answer: a whole one, or an event stream. `guard` lives as long as the
/// body is being sent (an HTTP/2 stream counted as open).
pub(crate) struct ServerBody {
    body: Inner,
    guard: Option<Box<dyn Send + Sync>>,
}

impl ServerBody {
    pub fn full(body: Full<Bytes>) -> ServerBody {
        ServerBody {
            body: Inner::Full(body),
            guard: None,
        }
    }

    /// Keeps `guard` until the body has been sent or dropped.
    pub fn guarded(mut self, guard: impl Send + Sync + 'static) -> ServerBody {
        self.guard = Some(Box::new(guard));
        self
    }
}

impl Body for ServerBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().body {
            Inner::Full(full) => Pin::new(full).poll_frame(cx),
            Inner::Events(events) => events
                .poll_next(cx)
                .map(|next| next.map(|data| Ok(Frame::data(data)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.body {
            Inner::Full(full) => full.is_end_stream(),
            Inner::Events(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.body {
            Inner::Full(full) => full.size_hint(),
            Inner::Events(_) => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn next_frame(rt: &tokio::runtime::Runtime, body: &mut ServerBody) -> Value {
        let frame = rt.block_on(body.frame()).unwrap().unwrap();
        let data = frame.into_data().unwrap();
        let text = std::str::from_utf8(&data).unwrap();
        let line = text.lines().find(|l| l.starts_with("data: ")).unwrap();
        serde_json::from_str(&line["data: ".len()..]).unwrap()
    }

    fn typing(n: usize) -> Event {
        use crate::state::EventKind;
        Event {
            kind: EventKind::Typing {
                sender_display_name: Some(format!("n{n}")),
            },
            user: "u".into(),
            client_request_id: None,
            user_agent: None,
            at_ms: n as f64,
        }
    }

    /// A stream more than the ring behind gets one snapshot instead of the backlog.
    #[test]
    fn a_stream_that_falls_behind_starts_again_from_a_snapshot() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let shared = Shared::new(
            true,
            (Duration::ZERO, Duration::ZERO),
            false,
            addr,
            Vec::new(),
        );
        let mut body = open(&shared).into_body();
        assert_eq!(next_frame(&rt, &mut body)["threadCount"], 0);
        for n in 0..RING + 10 {
            shared.lock().push_event("t", typing(n));
        }
        let caught_up = next_frame(&rt, &mut body);
        assert_eq!(caught_up["kind"], "snapshot");
        let thread = &caught_up["threads"][0];
        assert_eq!(thread["eventCount"], RING + 10);
        let shown = thread["events"].as_array().unwrap();
        assert_eq!(shown.len(), SNAPSHOT_EVENTS);
        assert_eq!(
            shown.last().unwrap()["senderDisplayName"],
            format!("n{}", RING + 9)
        );
        // Then changes again, one by one.
        shared.lock().push_event("t", typing(999));
        let change = next_frame(&rt, &mut body);
        assert_eq!(change["kind"], "event");
        assert_eq!(change["event"]["senderDisplayName"], "n999");
    }

    #[test]
    fn clipping_keeps_whole_characters() {
        let mut clipped = false;
        assert_eq!(clip("abc", 3, &mut clipped), "abc");
        assert!(!clipped);
        assert_eq!(clip("aé", 2, &mut clipped), "a…");
        assert!(clipped);
    }

    #[test]
    fn frames_are_one_data_line() {
        let text = frame(&json!({"content": "a\nb\r\n\ndata: x"}));
        let text = std::str::from_utf8(&text).unwrap();
        assert!(text.starts_with("data: {"));
        assert!(text.ends_with("}\n\n"));
        assert_eq!(text.matches('\n').count(), 2, "{text}");
    }
}
