//! Everything the emulator remembers: events and request logs per thread, queued faults,
//! limit counters. One mutex, held only for short, non-async sections.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::StatusCode;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::control_client::{LoggedRequest, Route};
use crate::limits::Limiter;
use crate::stream::Hub;

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

    /// The public name of the route.
    pub fn public(self) -> Route {
        match self {
            Op::Messages => Route::Messages,
            Op::Typing => Route::Typing,
            Op::ReadReceipts => Route::ReadReceipts,
        }
    }
}

pub(crate) struct Shared {
    pub started: Instant,
    pub https: bool,
    pub addr: SocketAddr,
    /// Service latency and its jitter in microseconds, packed as `latency << 32 | jitter`
    /// so that both change at once; their sum at most [`MAX_DELAY_MS`]. Not cleared by a reset.
    latency_us: AtomicU64,
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
    /// What the web inbox's event streams are sent.
    pub hub: Hub,
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
        (latency, jitter): (Duration, Duration),
        https: bool,
        addr: SocketAddr,
        access_key: Vec<u8>,
    ) -> Arc<Shared> {
        let shared = Shared {
            started: Instant::now(),
            https,
            addr,
            latency_us: AtomicU64::new(0),
            state: Mutex::new(State {
                limits_enabled: limits,
                ..State::default()
            }),
            identity: crate::identity::Identity::new(access_key),
        };
        shared.set_latency(latency, jitter);
        Arc::new(shared)
    }

    /// The least time between handling a service call and sending its answer, and the
    /// largest random time added to it.
    pub fn latency(&self) -> (Duration, Duration) {
        let packed = self.latency_us.load(Ordering::Relaxed);
        (
            Duration::from_micros(packed >> 32),
            Duration::from_micros(packed & u64::from(u32::MAX)),
        )
    }

    /// The wait before one answer: the latency plus a uniform random part of the jitter.
    pub fn answer_delay(&self) -> Duration {
        let (latency, jitter) = self.latency();
        let extra = fastrand::u64(0..=jitter.as_micros() as u64);
        latency + Duration::from_micros(extra)
    }

    /// Sets the service latency and jitter (microsecond precision): the latency is capped
    /// at [`MAX_DELAY_MS`], the jitter at what is left of it.
    pub fn set_latency(&self, latency: Duration, jitter: Duration) {
        let max_us = MAX_DELAY_MS * 1000;
        let latency_us = (latency.as_micros() as u64).min(max_us);
        let jitter_us = (jitter.as_micros() as u64).min(max_us - latency_us);
        self.latency_us
            .store(latency_us << 32 | jitter_us, Ordering::Relaxed);
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
        let taken = if fault.remaining == 0 {
            self.faults.remove(index)
        } else {
            Some(fault.clone())
        };
        self.hub.faults(self.pending_faults());
        taken
    }

    /// Queues scripted faults after those already waiting.
    pub fn queue_faults(&mut self, faults: Vec<Fault>) {
        self.faults.extend(faults);
        self.hub.faults(self.pending_faults());
    }

    /// Calls the queued faults still apply to.
    pub fn pending_faults(&self) -> u64 {
        self.faults.iter().map(|f| u64::from(f.remaining)).sum()
    }

    /// Stores an accepted call's event in its thread.
    pub fn push_event(&mut self, thread_id: &str, event: Event) {
        self.hub.event(thread_id, &event);
        self.thread_mut(thread_id).push_event(event);
    }

    /// Records the answer (0: none), end time and, for a refusal or a fault, the reason of a
    /// logged request.
    pub fn finish_request(
        &mut self,
        thread_id: &str,
        seq: u64,
        (status, reason): (u16, Option<String>),
        done_ms: f64,
    ) {
        // Gone when a reset came while the request was handled.
        let Some(log) = self.threads.get_mut(thread_id) else {
            return;
        };
        let Some(entry) = log.requests.iter_mut().rev().find(|e| e.seq == seq) else {
            return;
        };
        entry.status = status;
        entry.done_ms = done_ms;
        entry.reason = reason;
        if entry.is_problem() {
            let entry = entry.clone();
            self.hub.request(thread_id, &entry);
        }
    }

    pub fn reset(&mut self) {
        self.threads.clear();
        self.faults.clear();
        self.limiter.clear();
        self.hub.reset();
    }
}

impl ThreadLog {
    fn push_event(&mut self, event: Event) {
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

/// One line of a thread's request log, as the control API shows it (the Authorization scheme
/// only), and its sequence number.
#[derive(Clone, Serialize)]
pub(crate) struct RequestEntry {
    #[serde(skip)]
    pub seq: u64,
    #[serde(flatten)]
    pub line: LoggedRequest,
}

impl Deref for RequestEntry {
    type Target = LoggedRequest;
    fn deref(&self) -> &LoggedRequest {
        &self.line
    }
}

impl DerefMut for RequestEntry {
    fn deref_mut(&mut self) -> &mut LoggedRequest {
        &mut self.line
    }
}

impl RequestEntry {
    /// Refused, faulted or never answered: what the web inbox lists apart.
    pub fn is_problem(&self) -> bool {
        self.fault || !(200..300).contains(&self.status)
    }
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
