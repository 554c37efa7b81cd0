//! Everything the emulator remembers: events and request logs per thread, queued faults,
//! limit counters. One mutex, held only for short, non-async sections.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::StatusCode;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::limits::Limiter;

/// Longest service latency and scripted delay, in milliseconds.
pub(crate) const MAX_DELAY_MS: u64 = 600_000;

/// Entries kept per thread in each of the event list and the request log; the oldest go first.
pub(crate) const MAX_LOG: usize = 100_000;

/// The three service operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Messages,
    Typing,
    ReadReceipts,
}

impl Op {
    pub fn from_segment(segment: &str) -> Option<Op> {
        match segment {
            "messages" => Some(Op::Messages),
            "typing" => Some(Op::Typing),
            "readReceipts" => Some(Op::ReadReceipts),
            _ => None,
        }
    }

    /// The route name, as used in the request log and in faults.
    pub fn route(self) -> &'static str {
        match self {
            Op::Messages => "messages",
            Op::Typing => "typing",
            Op::ReadReceipts => "readReceipts",
        }
    }
}

pub(crate) struct Shared {
    pub started: Instant,
    pub https: bool,
    pub addr: SocketAddr,
    /// Service latency in nanoseconds, at most [`MAX_DELAY_MS`]; not cleared by a reset.
    latency_ns: AtomicU64,
    state: Mutex<State>,
    /// The access key, users and request log of the identity routes.
    pub identity: crate::identity::Identity,
}

#[derive(Default)]
pub(crate) struct State {
    pub threads: HashMap<String, ThreadLog>,
    pub faults: VecDeque<Fault>,
    pub limits_enabled: bool,
    pub limiter: Limiter,
    pub last_id: u64,
}

#[derive(Default)]
pub(crate) struct ThreadLog {
    pub events: VecDeque<Event>,
    pub requests: VecDeque<RequestEntry>,
    next_request_seq: u64,
}

impl Shared {
    pub fn new(
        limits: bool,
        latency: Duration,
        https: bool,
        addr: SocketAddr,
        access_key: Vec<u8>,
    ) -> Arc<Shared> {
        let shared = Shared {
            started: Instant::now(),
            https,
            addr,
            latency_ns: AtomicU64::new(0),
            state: Mutex::new(State {
                limits_enabled: limits,
                ..State::default()
            }),
            identity: crate::identity::Identity::new(access_key),
        };
        shared.set_latency(latency);
        Arc::new(shared)
    }

    /// The time between handling a service call and sending its answer.
    pub fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_ns.load(Ordering::Relaxed))
    }

    /// Sets the service latency, capped at [`MAX_DELAY_MS`].
    pub fn set_latency(&self, latency: Duration) {
        let max = Duration::from_millis(MAX_DELAY_MS);
        let nanos = latency.min(max).as_nanos() as u64;
        self.latency_ns.store(nanos, Ordering::Relaxed);
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Milliseconds since the emulator started.
    pub fn ms_since_start(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.started).as_secs_f64() * 1000.0
    }
}

impl State {
    pub fn thread_mut(&mut self, thread_id: &str) -> &mut ThreadLog {
        if !self.threads.contains_key(thread_id) {
            self.threads
                .insert(thread_id.to_string(), ThreadLog::default());
        }
        self.threads
            .get_mut(thread_id)
            .expect("thread log inserted above")
    }

    /// A new message id: the current epoch milliseconds, or one more than the last id.
    pub fn next_message_id(&mut self) -> u64 {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.last_id = now_ms.max(self.last_id + 1);
        self.last_id
    }

    /// Removes one use of the first queued fault matching this thread and operation.
    pub fn take_fault(&mut self, thread_id: &str, op: Op) -> Option<Fault> {
        let index = self.faults.iter().position(|f| {
            f.thread_id.as_deref().is_none_or(|t| t == thread_id) && f.op.is_none_or(|o| o == op)
        })?;
        let fault = &mut self.faults[index];
        fault.remaining -= 1;
        if fault.remaining == 0 {
            self.faults.remove(index)
        } else {
            Some(fault.clone())
        }
    }

    pub fn reset(&mut self) {
        self.threads.clear();
        self.faults.clear();
        self.limiter.clear();
    }
}

impl ThreadLog {
    pub fn push_event(&mut self, event: Event) {
        if self.events.len() >= MAX_LOG {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Appends a request's line and returns its sequence number for `finish_request`.
    pub fn push_request(&mut self, mut entry: RequestEntry) -> u64 {
        if self.requests.len() >= MAX_LOG {
            self.requests.pop_front();
        }
        self.next_request_seq += 1;
        entry.seq = self.next_request_seq;
        self.requests.push_back(entry);
        self.next_request_seq
    }

    /// Records the answer (0: none) and end time of a logged request.
    pub fn finish_request(&mut self, seq: u64, status: u16, done_ms: f64) {
        if let Some(entry) = self.requests.iter_mut().rev().find(|e| e.seq == seq) {
            entry.status = status;
            entry.done_ms = done_ms;
        }
    }
}

/// What an accepted call stored.
pub(crate) enum EventKind {
    Message {
        id: String,
        content: String,
        kind: String,
        sender_display_name: Option<String>,
        metadata: Option<Map<String, Value>>,
    },
    Typing {
        sender_display_name: Option<String>,
    },
    ReadReceipt {
        chat_message_id: String,
    },
}

pub(crate) struct Event {
    pub kind: EventKind,
    pub user: String,
    pub client_request_id: Option<String>,
    pub user_agent: Option<String>,
    pub at_ms: f64,
}

impl Event {
    pub fn to_json(&self) -> Value {
        let mut value = match &self.kind {
            EventKind::Message {
                id,
                content,
                kind,
                sender_display_name,
                metadata,
            } => json!({
                "op": "message",
                "id": id,
                "content": content,
                "type": kind,
                "senderDisplayName": sender_display_name,
                "metadata": metadata,
            }),
            EventKind::Typing {
                sender_display_name,
            } => json!({"op": "typing", "senderDisplayName": sender_display_name}),
            EventKind::ReadReceipt { chat_message_id } => {
                json!({"op": "readReceipt", "chatMessageId": chat_message_id})
            }
        };
        if let Value::Object(map) = &mut value {
            map.insert("user".into(), json!(self.user));
            map.insert("clientRequestId".into(), json!(self.client_request_id));
            map.insert("userAgent".into(), json!(self.user_agent));
            map.insert("atMs".into(), json!(self.at_ms));
        }
        value
    }
}

/// One line of a thread's request log. Holds the Authorization scheme only.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestEntry {
    #[serde(skip)]
    pub seq: u64,
    pub op: &'static str,
    pub method: String,
    /// Number of the connection the request came on, from 1 in accept order.
    pub connection: u64,
    /// `HTTP/1.1`, `HTTP/2.0` (or `HTTP/1.0`).
    pub http_version: &'static str,
    pub at_ms: f64,
    pub done_ms: f64,
    pub status: u16,
    pub client_request_id: Option<String>,
    pub user_agent: Option<String>,
    pub authorization: String,
    pub api_version: Option<String>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub fault: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaultAction {
    Respond,
    Drop,
    DropBeforeBody,
    Oversize,
}

/// A scripted answer for the next `remaining` matching calls.
#[derive(Clone, Debug)]
pub(crate) struct Fault {
    /// `None` matches every thread.
    pub thread_id: Option<String>,
    /// `None` matches every operation.
    pub op: Option<Op>,
    pub remaining: u32,
    pub status: Option<StatusCode>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Bytes>,
    pub delay: Duration,
    pub action: FaultAction,
}
