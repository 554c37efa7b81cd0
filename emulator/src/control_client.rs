//! A typed, blocking client of the control API under `/_emulator/`: tokens, faults, events,
//! request logs, limits, latency and reset.
//!
//! ```no_run
//! use acs_chat_emulator::{Emulator, EmulatorConfig, Fault, Route, TokenOptions};
//! let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
//! let control = emulator.control();
//! let token = control.token(&TokenOptions::new().user("8:acs:ann").expires_in(600)).unwrap();
//! control
//!     .fault(&Fault::status(503).route(Route::Typing).header("Retry-After", "1"))
//!     .unwrap();
//! let events = control.events("19:abc@thread.v2").unwrap();
//! # let _ = (token, events);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::Emulator;

/// Longest answer read: a thread keeps at most 100 000 events and requests.
const MAX_ANSWER_BYTES: usize = 512 << 20;
/// Time a control call may take, connection included, unless set otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a control call failed.
#[derive(Debug)]
pub enum ControlError {
    /// The base URL is not `http://host:port` or `https://host:port` (no path).
    Url(String),
    /// Connecting, TLS, sending or reading failed, or the call took too long.
    Transport(String),
    /// The emulator answered with another status than 200; its body says why.
    Status { status: u16, body: String },
    /// The answer was not the JSON this client expects.
    Json(String),
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::Url(m) => write!(f, "invalid emulator URL: {m}"),
            ControlError::Transport(m) => write!(f, "control call failed: {m}"),
            ControlError::Status { status, body } => {
                write!(f, "control call answered {status}: {body}")
            }
            ControlError::Json(m) => write!(f, "unexpected control answer: {m}"),
        }
    }
}

impl std::error::Error for ControlError {}

/// A service route, as named in faults and in the request log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Route {
    #[serde(rename = "messages")]
    Messages,
    #[serde(rename = "typing")]
    Typing,
    #[serde(rename = "readReceipts")]
    ReadReceipts,
}

/// What a fault does with the calls it matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultAction {
    /// Answer with the fault's status, headers and body; without a status, handle the call
    /// normally (after the delay) with the headers added.
    #[default]
    Respond,
    /// Read the request and close the connection without an answer.
    Drop,
    /// Close the connection right after the request head, without reading the body.
    DropBeforeBody,
    /// Answer with the status (default 201 for messages, 200 otherwise) and a JSON body over
    /// 2 MiB.
    Oversize,
}

/// A scripted fault for `POST /_emulator/faults`. Built with [`Fault::new`] (handle normally,
/// e.g. with a delay or added headers), [`Fault::status`] or [`Fault::action`], then narrowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    op: Option<Route>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<FaultAction>,
}

impl Fault {
    /// A fault for the next call of any thread and route that handles it normally: add a
    /// delay or headers to make it do something.
    pub fn new() -> Fault {
        Fault::default()
    }

    /// A fault answering with `status` (200..=599).
    pub fn status(status: u16) -> Fault {
        Fault {
            status: Some(status),
            ..Fault::default()
        }
    }

    /// A fault doing `action`.
    pub fn action(action: FaultAction) -> Fault {
        Fault {
            action: Some(action),
            ..Fault::default()
        }
    }

    /// Only calls to this route of this thread: [`Fault::thread`] and [`Fault::route`].
    pub fn on(self, thread_id: &str, route: Route) -> Fault {
        self.thread(thread_id).route(route)
    }

    /// Only calls to this thread (its decoded id).
    pub fn thread(mut self, thread_id: &str) -> Fault {
        self.thread_id = Some(thread_id.to_owned());
        self
    }

    /// Only calls to this route.
    pub fn route(mut self, route: Route) -> Fault {
        self.op = Some(route);
        self
    }

    /// Applies to the next `count` matching calls (default 1).
    pub fn count(mut self, count: u32) -> Fault {
        self.count = Some(count);
        self
    }

    /// The answer's status (for [`FaultAction::Oversize`] too).
    pub fn with_status(mut self, status: u16) -> Fault {
        self.status = Some(status);
        self
    }

    /// What to do instead of answering.
    pub fn with_action(mut self, action: FaultAction) -> Fault {
        self.action = Some(action);
        self
    }

    /// Adds (or replaces) an answer header.
    pub fn header(mut self, name: &str, value: &str) -> Fault {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The raw answer body.
    pub fn body(mut self, body: &str) -> Fault {
        self.body = Some(body.to_owned());
        self
    }

    /// The headers set so far.
    pub fn headers(&self) -> &BTreeMap<String, String> {
        &self.headers
    }

    /// Waits this long before answering or closing (whole milliseconds).
    pub fn delay(mut self, delay: Duration) -> Fault {
        self.delay_ms = Some(delay.as_millis().try_into().unwrap_or(u64::MAX));
        self
    }
}

/// Answer of `POST /_emulator/faults`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct FaultsQueued {
    /// Faults added by this call.
    pub queued: usize,
    /// Calls the queued faults still apply to, all of them summed.
    pub pending: u64,
}

/// Options of `GET /_emulator/token`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenOptions {
    user: Option<String>,
    expires_in: Option<i64>,
}

impl TokenOptions {
    /// A token for a random user, valid for an hour.
    pub fn new() -> TokenOptions {
        TokenOptions::default()
    }

    /// The token's user (its `skypeid` claim).
    pub fn user(mut self, user: &str) -> TokenOptions {
        self.user = Some(user.to_owned());
        self
    }

    /// Seconds until it expires; negative for a token already expired.
    pub fn expires_in(mut self, seconds: i64) -> TokenOptions {
        self.expires_in = Some(seconds);
        self
    }
}

/// A minted token. Its `Debug` output leaves the token out.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    /// The unsigned JWT.
    pub token: String,
    /// Its `exp` claim, in seconds since the Unix epoch.
    pub expires_on: i64,
    /// Its user.
    pub user: String,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .field("user", &self.user)
            .finish()
    }
}

/// Kind of a stored event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EventOp {
    Message,
    Typing,
    ReadReceipt,
}

/// A call the emulator accepted, from `GET /_emulator/threads/{threadId}/events`. Fields that
/// the event's kind does not have are `None`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub op: EventOp,
    /// Message id (messages).
    pub id: Option<String>,
    /// Message content (messages).
    pub content: Option<String>,
    /// `text` or `html`, as sent (messages).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Messages and typing notifications.
    pub sender_display_name: Option<String>,
    /// Message metadata, if the message had any.
    pub metadata: Option<BTreeMap<String, String>>,
    /// The message a read receipt is for.
    pub chat_message_id: Option<String>,
    /// The token's user.
    pub user: String,
    pub client_request_id: Option<String>,
    pub user_agent: Option<String>,
    /// Milliseconds since the emulator started.
    pub at_ms: f64,
}

/// One request that reached a thread route, from
/// `GET /_emulator/threads/{threadId}/requests`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub op: Route,
    pub method: String,
    /// Number of the connection it came on, from 1, in accept order.
    pub connection: u64,
    /// `HTTP/1.1`, `HTTP/2.0` or `HTTP/1.0`.
    pub http_version: String,
    /// Arrival, milliseconds since the emulator started.
    pub at_ms: f64,
    /// Answer sent (or connection closed), milliseconds since the emulator started.
    pub done_ms: f64,
    /// 0 when the connection was closed without an answer.
    pub status: u16,
    pub client_request_id: Option<String>,
    pub user_agent: Option<String>,
    /// The scheme word only: `Bearer`, `none` or `invalid`.
    pub authorization: String,
    pub api_version: Option<String>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    /// Whether a scripted fault handled it.
    pub fault: bool,
    /// Why the call was refused (`Code: message`), which fault answered it, or why it had no
    /// answer; `None` for a call handled normally.
    pub reason: Option<String>,
}

/// One request to the identity routes, from `GET /_emulator/identity/requests`: what was
/// signed, and the verdict. The access key is never in it; the signature is (it does not
/// reveal the key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRequest {
    /// `createUser` or `issueAccessToken`.
    pub op: String,
    pub method: String,
    /// The request target as sent (percent-encoded), which the signature covers.
    pub path_and_query: String,
    pub host: String,
    /// `x-ms-date`.
    pub date: Option<String>,
    /// `x-ms-content-sha256`.
    pub content_sha256: Option<String>,
    /// From the `Authorization` header: `SignedHeaders=` and `Signature=`.
    pub signed_headers: Option<String>,
    pub signature: Option<String>,
    pub body: String,
    pub status: u16,
    /// Why the request was refused.
    pub error: Option<String>,
    /// The user created or issued a token for.
    pub user_id: Option<String>,
    /// Milliseconds since the emulator started.
    pub at_ms: f64,
}

#[derive(Deserialize)]
struct IdentityRequests {
    requests: Vec<IdentityRequest>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IdentitySettings {
    token_seconds: Option<i64>,
}

#[derive(Deserialize)]
struct Events {
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Requests {
    requests: Vec<LoggedRequest>,
}

#[derive(Deserialize)]
struct Pending {
    pending: u64,
}

#[derive(Serialize, Deserialize)]
struct Limits {
    enabled: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Latency {
    ms: u64,
    #[serde(default)]
    jitter_ms: u64,
}

impl Latency {
    fn of(latency: Duration, jitter: Duration) -> Latency {
        let ms = |d: Duration| d.as_millis().try_into().unwrap_or(u64::MAX);
        Latency {
            ms: ms(latency),
            jitter_ms: ms(jitter),
        }
    }

    fn durations(&self) -> (Duration, Duration) {
        (
            Duration::from_millis(self.ms),
            Duration::from_millis(self.jitter_ms),
        )
    }
}

/// A blocking client of an emulator's control API. Each call makes one connection; calls
/// may be made from any thread, inside or outside an asynchronous runtime.
#[derive(Clone)]
pub struct ControlClient {
    base: String,
    authority: String,
    host: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
}

impl fmt::Debug for ControlClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlClient")
            .field("base", &self.base)
            .finish()
    }
}

impl ControlClient {
    /// A client of the emulator at `base` (`http://host:port`, as printed by the binary).
    /// An `https` base needs [`ControlClient::with_tls`].
    pub fn new(base: &str) -> Result<ControlClient, ControlError> {
        let base = base.trim_end_matches('/');
        let (scheme, authority) = base
            .split_once("://")
            .ok_or_else(|| ControlError::Url(format!("{base:?} has no scheme")))?;
        if scheme != "http" && scheme != "https" {
            return Err(ControlError::Url(format!(
                "{base:?}: the scheme must be http or https"
            )));
        }
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            return Err(ControlError::Url(format!(
                "{base:?} must be scheme://host:port, without a path"
            )));
        }
        let invalid = || ControlError::Url(format!("{base:?} has an invalid host or port"));
        let (host, port, bracketed) = match authority.strip_prefix('[') {
            Some(rest) => {
                let (host, after) = rest.split_once(']').ok_or_else(invalid)?;
                match after {
                    "" => (host, None, true),
                    _ => (
                        host,
                        Some(after.strip_prefix(':').ok_or_else(invalid)?),
                        true,
                    ),
                }
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port), false),
                None => (authority, None, false),
            },
        };
        let port = match port {
            Some(port) => port.parse::<u16>().map_err(|_| invalid())?,
            None if scheme == "https" => 443,
            None => 80,
        };
        if host.is_empty() {
            return Err(invalid());
        }
        let authority = if bracketed {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(ControlClient {
            base: base.to_owned(),
            host: host.to_owned(),
            authority,
            tls: None,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// A client of an `https` emulator, trusting what `config` trusts. It speaks HTTP/1.1:
    /// its ALPN offer replaces `config`'s.
    pub fn with_tls(
        base: &str,
        config: &rustls::ClientConfig,
    ) -> Result<ControlClient, ControlError> {
        let mut config = config.clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut client = ControlClient::new(base)?;
        client.tls = Some(Arc::new(config));
        Ok(client)
    }

    /// Time each call may take, connection included (30 s by default).
    pub fn timeout(mut self, timeout: Duration) -> ControlClient {
        self.timeout = timeout;
        self
    }

    /// The base URL, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Mints an unsigned token (`GET /_emulator/token`).
    pub fn token(&self, options: &TokenOptions) -> Result<Token, ControlError> {
        let mut query = Vec::new();
        if let Some(user) = &options.user {
            query.push(format!("user={}", encode(user)));
        }
        if let Some(seconds) = options.expires_in {
            query.push(format!("expires_in={seconds}"));
        }
        let path = if query.is_empty() {
            "/_emulator/token".to_owned()
        } else {
            format!("/_emulator/token?{}", query.join("&"))
        };
        self.get(&path)
    }

    /// Queues one fault (`POST /_emulator/faults`).
    pub fn fault(&self, fault: &Fault) -> Result<FaultsQueued, ControlError> {
        self.post("/_emulator/faults", fault)
    }

    /// Queues faults in order (`POST /_emulator/faults` with an array).
    pub fn faults(&self, faults: &[Fault]) -> Result<FaultsQueued, ControlError> {
        self.post("/_emulator/faults", &faults)
    }

    /// Calls the queued faults still apply to (`GET /_emulator/faults`).
    pub fn pending_faults(&self) -> Result<u64, ControlError> {
        self.get::<Pending>("/_emulator/faults").map(|p| p.pending)
    }

    /// The thread's accepted events, in order.
    pub fn events(&self, thread_id: &str) -> Result<Vec<Event>, ControlError> {
        let path = format!("/_emulator/threads/{}/events", encode(thread_id));
        self.get::<Events>(&path).map(|e| e.events)
    }

    /// Every request that reached the thread's routes, faulted and refused ones included.
    pub fn requests(&self, thread_id: &str) -> Result<Vec<LoggedRequest>, ControlError> {
        let path = format!("/_emulator/threads/{}/requests", encode(thread_id));
        self.get::<Requests>(&path).map(|r| r.requests)
    }

    /// Whether the service limits apply.
    pub fn limits(&self) -> Result<bool, ControlError> {
        self.get::<Limits>("/_emulator/limits").map(|l| l.enabled)
    }

    /// Turns the service limits on or off; returns the new setting.
    pub fn set_limits(&self, enabled: bool) -> Result<bool, ControlError> {
        self.post::<Limits>("/_emulator/limits", &Limits { enabled })
            .map(|l| l.enabled)
    }

    /// The service latency.
    pub fn latency(&self) -> Result<Duration, ControlError> {
        self.latency_with_jitter().map(|(latency, _)| latency)
    }

    /// The service latency and its jitter (each answer waits the latency plus a random
    /// 0..=jitter).
    pub fn latency_with_jitter(&self) -> Result<(Duration, Duration), ControlError> {
        self.get::<Latency>("/_emulator/latency")
            .map(|l| l.durations())
    }

    /// Sets the service latency (whole milliseconds, at most 600 s) without jitter; returns
    /// the new one.
    pub fn set_latency(&self, latency: Duration) -> Result<Duration, ControlError> {
        self.set_latency_with_jitter(latency, Duration::ZERO)
            .map(|(latency, _)| latency)
    }

    /// Sets the service latency and its jitter (whole milliseconds, together at most
    /// 600 s); returns the new pair.
    pub fn set_latency_with_jitter(
        &self,
        latency: Duration,
        jitter: Duration,
    ) -> Result<(Duration, Duration), ControlError> {
        self.post::<Latency>("/_emulator/latency", &Latency::of(latency, jitter))
            .map(|l| l.durations())
    }

    /// The requests the identity routes received, oldest first.
    pub fn identity_requests(&self) -> Result<Vec<IdentityRequest>, ControlError> {
        self.get::<IdentityRequests>("/_emulator/identity/requests")
            .map(|r| r.requests)
    }

    /// Makes the identity routes issue tokens that expire `seconds` after issue (negative:
    /// already expired), whatever `expiresInMinutes` asks; `None` restores that.
    pub fn set_identity_token_seconds(&self, seconds: Option<i64>) -> Result<(), ControlError> {
        self.post::<serde_json::Value>(
            "/_emulator/identity",
            &IdentitySettings {
                token_seconds: seconds,
            },
        )
        .map(drop)
    }

    /// Clears events, request logs, faults and limit counters (`POST /_emulator/reset`).
    pub fn reset(&self) -> Result<(), ControlError> {
        self.call(Method::POST, "/_emulator/reset", None)
            .map(|_| ())
    }

    fn get<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T, ControlError> {
        let body = self.call(Method::GET, path, None)?;
        serde_json::from_slice(&body).map_err(|e| ControlError::Json(e.to_string()))
    }

    fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ControlError> {
        let body = serde_json::to_vec(body).map_err(|e| ControlError::Json(e.to_string()))?;
        let answer = self.call(Method::POST, path, Some(body))?;
        serde_json::from_slice(&answer).map_err(|e| ControlError::Json(e.to_string()))
    }

    /// One request on a connection of its own; the body of a 200 answer.
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, ControlError> {
        let run = || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| ControlError::Transport(e.to_string()))?;
            runtime.block_on(async {
                tokio::time::timeout(self.timeout, self.exchange(method, path, body))
                    .await
                    .unwrap_or_else(|_| {
                        Err(ControlError::Transport(format!(
                            "no answer within {:?}",
                            self.timeout
                        )))
                    })
            })
        };
        // A runtime cannot be driven from inside another one's task: use a thread then.
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(run).join().unwrap_or_else(|_| {
                    Err(ControlError::Transport("control thread panicked".into()))
                })
            })
        } else {
            run()
        }
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, ControlError> {
        let transport = |e: &dyn fmt::Display| ControlError::Transport(e.to_string());
        // An address needs no name lookup (which would take a thread of its own).
        let tcp = match self.authority.parse::<std::net::SocketAddr>() {
            Ok(addr) => tokio::net::TcpStream::connect(addr).await,
            Err(_) => tokio::net::TcpStream::connect(&self.authority).await,
        }
        .map_err(|e| ControlError::Transport(format!("connect to {}: {e}", self.authority)))?;
        let stream: Box<dyn Stream> = if self.base.starts_with("https://") {
            let config = self.tls.clone().ok_or_else(|| {
                ControlError::Url(format!(
                    "{}: an https emulator needs ControlClient::with_tls",
                    self.base
                ))
            })?;
            let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                .map_err(|e| ControlError::Url(e.to_string()))?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| transport(&e))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| transport(&e))?;
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, &self.authority)
            .header(hyper::header::CONNECTION, "close");
        if body.is_some() {
            request = request.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| transport(&e))?;
        let answer = sender
            .send_request(request)
            .await
            .map_err(|e| transport(&e))?;
        let status = answer.status();
        let bytes = Limited::new(answer.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| transport(&*e))?
            .to_bytes();
        if status != StatusCode::OK {
            return Err(ControlError::Status {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        Ok(bytes)
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A thread id or user as one percent-encoded path segment or query value.
fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

impl Emulator {
    /// A control client of this emulator. For an HTTPS emulator, use
    /// [`ControlClient::with_tls`] with a configuration trusting its certificate.
    pub fn control(&self) -> ControlClient {
        ControlClient::new(&self.url()).expect("the emulator's own URL is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        let c = ControlClient::new("http://127.0.0.1:8080/").unwrap();
        assert_eq!(c.url(), "http://127.0.0.1:8080");
        assert_eq!(c.authority, "127.0.0.1:8080");
        let c = ControlClient::new("https://localhost").unwrap();
        assert_eq!(
            (c.authority.as_str(), c.host.as_str()),
            ("localhost:443", "localhost")
        );
        let c = ControlClient::new("http://[::1]:9").unwrap();
        assert_eq!((c.authority.as_str(), c.host.as_str()), ("[::1]:9", "::1"));
        for bad in [
            "127.0.0.1:80",
            "ftp://x",
            "http://",
            "http://x/y",
            "http://x:port",
        ] {
            assert!(
                matches!(ControlClient::new(bad), Err(ControlError::Url(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn faults_serialize_to_the_schema() {
        let fault = Fault::status(503)
            .thread("19:a@thread.v2")
            .route(Route::ReadReceipts)
            .count(2)
            .header("Retry-After", "1")
            .body("{}")
            .delay(Duration::from_millis(150));
        assert_eq!(
            serde_json::to_value(&fault).unwrap(),
            serde_json::json!({"threadId": "19:a@thread.v2", "op": "readReceipts", "count": 2,
                "status": 503, "headers": {"Retry-After": "1"}, "body": "{}", "delayMs": 150})
        );
        assert_eq!(
            serde_json::to_value(Fault::action(FaultAction::DropBeforeBody)).unwrap(),
            serde_json::json!({"action": "dropBeforeBody"})
        );
        assert_eq!(
            serde_json::to_value(Fault::new()).unwrap(),
            serde_json::json!({})
        );
    }

    #[test]
    fn token_debug_leaves_the_token_out() {
        let token = Token {
            token: "eyJ.secret.sig".into(),
            expires_on: 1,
            user: "u".into(),
        };
        assert!(!format!("{token:?}").contains("secret"));
    }
}
