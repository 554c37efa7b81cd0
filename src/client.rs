//! The chat client and its options.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use once_cell::sync::Lazy;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::HeaderValue;
use reqwest::Url;

use crate::call::CallControl;
use crate::credential::{Credential, TokenRefresher};
use crate::error::{Error, FailureDetails, Result};
use crate::log::{log_at, LogLevel};
use crate::model::{self, MessageOptions};
use crate::pipeline::{Auth, Call, Operation, Pipeline, RetryPolicy};
use crate::runtime::{self, Driver, OriginLimit, Pool, PoolSettings};

// The values come from the header's constants (`crate::ffi::constants`).
use crate::ffi::constants as c;
/// The api-version sent when none is set.
pub const DEFAULT_API_VERSION: &str = "2025-03-15";
/// Default per-try timeout.
pub const DEFAULT_TIMEOUT: Duration = ms(c::ACS_DEFAULT_TIMEOUT_MS);
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = ms(c::ACS_DEFAULT_CONNECT_TIMEOUT_MS);
/// Default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = c::ACS_DEFAULT_MAX_RETRIES;
/// Largest accepted number of retries.
pub const MAX_RETRIES_LIMIT: u32 = c::ACS_MAX_RETRIES;
/// Default base of the exponential back-off.
pub const DEFAULT_RETRY_DELAY: Duration = ms(c::ACS_DEFAULT_RETRY_DELAY_MS);
/// Default cap of a retry delay.
pub const DEFAULT_MAX_RETRY_DELAY: Duration = ms(c::ACS_DEFAULT_MAX_RETRY_DELAY_MS);
/// Longest accepted application id.
pub const MAX_APPLICATION_ID_LEN: usize = c::ACS_MAX_APPLICATION_ID_LEN as usize;
/// Default bound on requests in flight to one origin over HTTP/1.1.
pub const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN: u32 = c::ACS_DEFAULT_MAX_CONNECTIONS_PER_ORIGIN;
/// Largest accepted bound on requests in flight to one origin.
pub const MAX_CONNECTIONS_PER_ORIGIN_LIMIT: u32 = c::ACS_MAX_CONNECTIONS_PER_ORIGIN;

const fn ms(millis: u32) -> Duration {
    Duration::from_millis(millis as u64)
}

/// Everything outside RFC 3986 unreserved characters is percent-encoded, so
/// a thread id always stays one path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes `id` as one URL path segment.
pub(crate) fn encode_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}

/// Settings of a [`ChatClient`]. Setters validate their values.
#[derive(Clone)]
pub struct ClientOptions {
    api_version: String,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    max_retries: u32,
    retry_delay: Duration,
    max_retry_delay: Duration,
    application_id: Option<String>,
    ca_file: Option<PathBuf>,
    allow_insecure_http: bool,
    token_refresher: Option<Arc<dyn TokenRefresher>>,
    proactive_refresh: bool,
    total_timeout: Option<Duration>,
    max_connections_per_origin: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            api_version: DEFAULT_API_VERSION.to_owned(),
            timeout: Some(DEFAULT_TIMEOUT),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_delay: DEFAULT_RETRY_DELAY,
            max_retry_delay: DEFAULT_MAX_RETRY_DELAY,
            application_id: None,
            ca_file: None,
            allow_insecure_http: false,
            token_refresher: None,
            proactive_refresh: false,
            total_timeout: None,
            max_connections_per_origin: DEFAULT_MAX_CONNECTIONS_PER_ORIGIN,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_delay", &self.retry_delay)
            .field("max_retry_delay", &self.max_retry_delay)
            .field("application_id", &self.application_id)
            .field("ca_file", &self.ca_file)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("token_refresher", &self.token_refresher.is_some())
            .field("proactive_refresh", &self.proactive_refresh)
            .field("total_timeout", &self.total_timeout)
            .field(
                "max_connections_per_origin",
                &self.max_connections_per_origin,
            )
            .finish()
    }
}

impl ClientOptions {
    /// The defaults: api-version 2025-03-15, 30 s per try, 10 s to connect,
    /// 3 retries from 800 ms up to 60 s, no application id, no extra CA,
    /// plain http only to loopback, no refresher.
    pub fn new() -> ClientOptions {
        ClientOptions::default()
    }

    /// Sets the `api-version` query parameter (letters, digits, `-`, `.`).
    pub fn set_api_version(&mut self, api_version: &str) -> Result<&mut Self> {
        let valid = !api_version.is_empty()
            && api_version.len() <= 64
            && api_version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !valid {
            return Err(Error::InvalidArgument(
                "api_version must be non-empty letters, digits, '-' or '.'".into(),
            ));
        }
        self.api_version = api_version.to_owned();
        Ok(self)
    }

    /// Sets the timeout of each try; `None` waits without limit.
    pub fn set_timeout(&mut self, per_try: Option<Duration>) -> &mut Self {
        self.timeout = per_try.filter(|d| !d.is_zero());
        self
    }

    /// Sets the timeout for establishing a connection (TCP and TLS); zero is invalid.
    pub fn set_connect_timeout(&mut self, timeout: Duration) -> Result<&mut Self> {
        if timeout.is_zero() {
            return Err(Error::InvalidArgument(
                "connect timeout must be greater than zero".into(),
            ));
        }
        self.connect_timeout = timeout;
        Ok(self)
    }

    /// Sets how many times a failed attempt is retried (at most 10).
    pub fn set_max_retries(&mut self, max_retries: u32) -> Result<&mut Self> {
        if max_retries > MAX_RETRIES_LIMIT {
            return Err(Error::InvalidArgument(format!(
                "max_retries {max_retries} exceeds {MAX_RETRIES_LIMIT}"
            )));
        }
        self.max_retries = max_retries;
        Ok(self)
    }

    /// Sets the back-off base and cap; `base` must not exceed `max`.
    pub fn set_retry_delay(&mut self, base: Duration, max: Duration) -> Result<&mut Self> {
        if base > max {
            return Err(Error::InvalidArgument(
                "retry delay base must not exceed the maximum delay".into(),
            ));
        }
        self.retry_delay = base;
        self.max_retry_delay = max;
        Ok(self)
    }

    /// Sets the application id put in front of the User-Agent (at most 24
    /// printable ASCII characters, no spaces); empty clears it.
    pub fn set_application_id(&mut self, application_id: &str) -> Result<&mut Self> {
        if application_id.is_empty() {
            self.application_id = None;
            return Ok(self);
        }
        let valid = application_id.len() <= MAX_APPLICATION_ID_LEN
            && application_id.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
            return Err(Error::InvalidArgument(format!(
                "application_id must be at most {MAX_APPLICATION_ID_LEN} printable ASCII characters without spaces"
            )));
        }
        self.application_id = Some(application_id.to_owned());
        Ok(self)
    }

    /// Adds the PEM certificates of `path` to the trusted roots (on top of
    /// the system store). The file is read when a client is created.
    pub fn set_ca_file(&mut self, path: impl AsRef<Path>) -> Result<&mut Self> {
        let path = path.as_ref();
        if path.as_os_str().is_empty() {
            return Err(Error::InvalidArgument("ca_file path is empty".into()));
        }
        self.ca_file = Some(path.to_owned());
        Ok(self)
    }

    /// Allows plain `http://` to hosts that are not loopback.
    pub fn set_allow_insecure_http(&mut self, allow: bool) -> &mut Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Sets (or with `None` clears) the token refresher.
    pub fn set_token_refresher(&mut self, refresher: Option<Arc<dyn TokenRefresher>>) -> &mut Self {
        self.token_refresher = refresher;
        self
    }

    /// Turns proactive refresh on or off (default off).
    pub fn set_proactive_refresh(&mut self, enabled: bool) -> &mut Self {
        self.proactive_refresh = enabled;
        self
    }

    /// Sets a deadline for a whole call, across all its attempts and waits
    /// (default `None`: only the per-try timeout applies). A call that reaches
    /// it fails with `Timeout`.
    pub fn set_total_timeout(&mut self, deadline: Option<Duration>) -> &mut Self {
        self.total_timeout = deadline.filter(|d| !d.is_zero());
        self
    }

    /// Sets how many requests may be in flight at once to the endpoint over
    /// HTTP/1.1, each on a connection of its own (default 100); further calls
    /// wait for a place, within their deadline. HTTP/2 multiplexes every call
    /// over one connection and is not bounded by this.
    pub fn set_max_connections_per_origin(&mut self, max: u32) -> Result<&mut Self> {
        if !(1..=MAX_CONNECTIONS_PER_ORIGIN_LIMIT).contains(&max) {
            return Err(Error::InvalidArgument(format!(
                "max_connections_per_origin must be 1 to {MAX_CONNECTIONS_PER_ORIGIN_LIMIT}"
            )));
        }
        self.max_connections_per_origin = max;
        Ok(self)
    }

    /// The deadline of a whole call; `None` for none.
    pub fn total_timeout(&self) -> Option<Duration> {
        self.total_timeout
    }

    /// The bound on requests in flight to one origin over HTTP/1.1.
    pub fn max_connections_per_origin(&self) -> u32 {
        self.max_connections_per_origin
    }

    /// The api-version.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The per-try timeout; `None` for none.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The number of retries.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Back-off base and cap.
    pub fn retry_delay(&self) -> (Duration, Duration) {
        (self.retry_delay, self.max_retry_delay)
    }

    /// The application id, if set.
    pub fn application_id(&self) -> Option<&str> {
        self.application_id.as_deref()
    }

    /// The extra CA file, if set.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// Whether plain http is allowed to any host.
    pub fn allow_insecure_http(&self) -> bool {
        self.allow_insecure_http
    }

    /// Whether proactive refresh is on.
    pub fn proactive_refresh(&self) -> bool {
        self.proactive_refresh
    }

    /// Whether a token refresher is set.
    pub(crate) fn has_token_refresher(&self) -> bool {
        self.token_refresher.is_some()
    }
}

/// Whether `text` starts with a URL scheme (`name:` not followed by a port).
fn has_scheme(text: &str) -> bool {
    match text.split_once(':') {
        Some((name, rest)) => {
            name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Checks an endpoint: `http`/`https` (`https://` is assumed when no scheme
/// is given, as the official SDKs do), a host, no credentials, no query or
/// fragment; a path is kept as a prefix of every route (a gateway in front
/// of the service). Plain http only to loopback unless `allow_insecure_http`.
pub(crate) fn validate_endpoint(endpoint: &str, allow_insecure_http: bool) -> Result<Url> {
    let invalid = |why: &str| Error::InvalidArgument(format!("endpoint {why}"));
    let endpoint = endpoint.trim();
    let with_scheme;
    let endpoint = if !endpoint.is_empty() && !has_scheme(endpoint) {
        with_scheme = format!("https://{endpoint}");
        &with_scheme
    } else {
        endpoint
    };
    let url = Url::parse(endpoint).map_err(|e| invalid(&format!("is not a valid URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid("must use https:// (or http:// to loopback)"));
    }
    let host = match url.host_str() {
        Some(host) if !host.is_empty() => host.to_owned(),
        _ => return Err(invalid("has no host")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not contain a query or fragment"));
    }
    if url
        .path()
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(invalid("path must not contain '.' or '..' segments"));
    }
    if url.scheme() == "http" && !allow_insecure_http {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = match bare.parse::<std::net::IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => bare.eq_ignore_ascii_case("localhost"),
        };
        if !loopback {
            return Err(Error::InsecureEndpoint(
                "plain http:// is allowed only to loopback hosts unless allow_insecure_http is set"
                    .into(),
            ));
        }
    }
    Ok(url)
}

/// The User-Agent without an application id, shared by every client.
static DEFAULT_USER_AGENT: Lazy<HeaderValue> = Lazy::new(|| {
    HeaderValue::try_from(user_agent(None)).expect("the User-Agent is printable ASCII")
});

fn user_agent(application_id: Option<&str>) -> String {
    let base = format!(
        "azsdk-c-acs-chat/{} ({}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    match application_id {
        Some(app) => format!("{app} {base}"),
        None => base,
    }
}

fn non_empty(value: &str, name: &str) -> Result<()> {
    if value.is_empty() {
        Err(Error::InvalidArgument(format!("{name} is empty")))
    } else {
        Ok(())
    }
}

struct ClientInner {
    endpoint: String,
    threads_base: String,
    query: String,
    pipeline: Pipeline,
    credential: Arc<Credential>,
    /// The ACS user the library gets tokens for (a client made from a
    /// connection string); `None` when the caller supplies the tokens.
    user_id: Option<String>,
    /// The last URL built per chat operation, as calls usually repeat a thread.
    recent_urls: [RecentUrl; 3],
}

/// A client's way to its connection pools (one per runtime), re-resolved in
/// a forked child (which must not use its parent's connections). Reads take
/// no lock.
pub(crate) struct PoolRef {
    settings: PoolSettings,
    origin: String,
    cached: [arc_swap::ArcSwapOption<PoolEntry>; 2],
}

/// A pool and the limiter of the client's origin in it.
pub(crate) struct PoolEntry {
    generation: u64,
    pub pool: Arc<Pool>,
    pub limit: Arc<OriginLimit>,
}

impl PoolRef {
    fn new(settings: PoolSettings, origin: String) -> PoolRef {
        PoolRef {
            settings,
            origin,
            cached: Default::default(),
        }
    }

    /// The pool of this process on `driver`'s runtime, made on first use.
    pub(crate) fn get(&self, driver: Driver) -> Result<Arc<PoolEntry>> {
        let slot = &self.cached[driver as usize];
        if let Some(entry) = slot.load_full() {
            if entry.generation == runtime::generation() {
                return Ok(entry);
            }
        }
        let generation = runtime::generation();
        let pool = runtime::pool(&self.settings, driver)?;
        let limit = pool.origin(&self.origin);
        let fresh = Arc::new(PoolEntry {
            generation,
            pool,
            limit,
        });
        slot.store(Some(fresh.clone()));
        Ok(fresh)
    }
}

/// One cached request URL with the thread id it was built for. Empty until
/// the first call; never waited on (a busy slot just builds the URL).
#[derive(Default)]
struct RecentUrl(Mutex<Option<Box<UrlFor>>>);

/// A request URL and the thread id it was built for.
struct UrlFor {
    thread_id: Box<str>,
    url: Url,
}

impl RecentUrl {
    fn get(&self, thread_id: &str) -> Option<Url> {
        let slot = self.0.try_lock().ok()?;
        let cached = slot.as_deref()?;
        (*cached.thread_id == *thread_id).then(|| cached.url.clone())
    }

    fn put(&self, thread_id: &str, url: &Url) {
        if let Ok(mut slot) = self.0.try_lock() {
            *slot = Some(Box::new(UrlFor {
                thread_id: thread_id.into(),
                url: url.clone(),
            }));
        }
    }
}

/// A client for one ACS endpoint and identity.
///
/// Cheap to clone (clones share everything) and safe to use from many
/// threads at once. The blocking calls (`send_message`...) work from any
/// thread, inside a tokio runtime too; the `_async` twins return futures that
/// any executor can await and that hold no thread while in flight.
#[derive(Clone)]
pub struct ChatClient {
    inner: Arc<ClientInner>,
}

impl fmt::Debug for ChatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatClient")
            .field("endpoint", &self.inner.endpoint)
            .finish_non_exhaustive()
    }
}

/// A validated call, ready to run: everything copied from the caller.
pub(crate) struct Request {
    client: ChatClient,
    operation: Operation,
    url: Url,
    body: bytes::Bytes,
}

/// What a successful call returns: the new message's id for send-message,
/// and the service's answer (status and request id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    pub message_id: Option<String>,
    pub http_status: u16,
    /// `MS-CV`, else `x-ms-request-id`, else the `x-ms-client-request-id` sent.
    pub request_id: String,
}

impl Request {
    /// Runs the call: until it finishes, or, when `control` is cancelled,
    /// until then (`Cancelled`, with the delivery verdict of that moment).
    pub(crate) async fn run(self, control: Arc<CallControl>) -> Result<Sent> {
        let inner = &self.client.inner;
        let work = inner.pipeline.execute(Call {
            operation: self.operation,
            url: self.url.clone(),
            body: self.body.clone(),
            auth: Auth::Bearer(&inner.credential),
            control: &control,
        });
        let response = match control.or_cancelled(work).await {
            Some(result) => result?,
            None => return Err(cancelled(self.operation, &control)),
        };
        let http_status = response.status.as_u16();
        let request_id = response.request_id();
        let message_id = match self.operation {
            Operation::SendMessage => Some(message_id(response)?),
            _ => None,
        };
        Ok(Sent {
            message_id,
            http_status,
            request_id,
        })
    }

    /// Runs the call on the calling thread.
    pub(crate) fn run_blocking(self) -> Result<Sent> {
        let driver = runtime::blocking_driver();
        let control = Arc::new(CallControl::new_blocking(driver));
        runtime::block_on(driver, self.run(control))?
    }

    /// Starts the call on the I/O runtime; `done` receives its outcome there.
    pub(crate) fn spawn(
        self,
        control: Arc<CallControl>,
        done: impl FnOnce(Result<Sent>) + Send + 'static,
    ) -> Result<()> {
        runtime::spawn(async move { done(self.run(control).await) })?;
        Ok(())
    }

    /// The call as a future for any executor: it runs on the I/O runtime,
    /// and dropping the future cancels it.
    fn into_future(self) -> impl std::future::Future<Output = Result<Sent>> + Send + 'static {
        let control = Arc::new(CallControl::new_async());
        let started = runtime::spawn(self.run(control.clone()));
        async move {
            struct CancelOnDrop(Arc<CallControl>);
            impl Drop for CancelOnDrop {
                fn drop(&mut self) {
                    self.0.cancel();
                }
            }
            // Cancelling a call that finished is a no-op.
            let _cancel_on_drop = CancelOnDrop(control);
            match started?.await {
                Ok(outcome) => outcome,
                Err(e) => Err(Error::Internal(format!("the call's task failed: {e}"))),
            }
        }
    }
}

/// The error of a cancelled call.
fn cancelled(operation: Operation, control: &CallControl) -> Error {
    let delivered = control.may_have_been_delivered();
    let message = match (delivered, operation) {
        (false, _) => "the call was cancelled before its request was sent".to_owned(),
        (true, Operation::SendMessage) => {
            "the call was cancelled after its request was sent; the message may have been created"
                .to_owned()
        }
        (true, _) => {
            "the call was cancelled after its request was sent; it may have been applied".to_owned()
        }
    };
    Error::Cancelled(Box::new(FailureDetails {
        message,
        request_id: control.client_request_id_str().to_owned(),
        may_have_been_delivered: delivered,
        ..FailureDetails::default()
    }))
}

/// The new message's id from a 2xx answer: its body, else `Location`.
fn message_id(response: crate::pipeline::Response) -> Result<String> {
    if let Some(id) = model::message_id_from_body(&response.body) {
        return Ok(id);
    }
    let location = response
        .headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(model::message_id_from_location);
    location.ok_or_else(|| {
        Error::Protocol(Box::new(FailureDetails {
            message: format!(
                "the service answered HTTP {} without a message id; the message may have been created",
                response.status.as_u16()
            ),
            http_status: response.status.as_u16(),
            service_code: String::new(),
            request_id: response.request_id(),
            retry_after: None,
            may_have_been_delivered: true,
        }))
    })
}

impl ChatClient {
    /// Creates a client for `endpoint` (e.g.
    /// `https://name.communication.azure.com`) with an ACS user access token.
    ///
    /// Fails with `InvalidArgument` for a bad endpoint or an unreadable
    /// `ca_file`, `InsecureEndpoint` for plain http to a non-loopback host,
    /// and `Token` when `token` is not a JWT with a numeric `exp`.
    pub fn new(endpoint: &str, token: &str, options: &ClientOptions) -> Result<ChatClient> {
        let url = validate_endpoint(endpoint, options.allow_insecure_http)?;
        let credential = Credential::new(
            token,
            options.token_refresher.clone(),
            options.proactive_refresh,
        )?;
        ChatClient::with_credential(&url, credential, options, None)
    }

    /// A client for a validated endpoint with its credential; `user_id` is
    /// the user the library gets tokens for, if it does.
    pub(crate) fn with_credential(
        url: &Url,
        credential: Credential,
        options: &ClientOptions,
        user_id: Option<String>,
    ) -> Result<ChatClient> {
        let pipeline = Pipeline::for_endpoint(url, options)?;
        let endpoint = url.as_str().trim_end_matches('/').to_owned();
        log_at!(LogLevel::Info, "client created for {endpoint}");
        Ok(ChatClient {
            inner: Arc::new(ClientInner {
                threads_base: format!("{endpoint}/chat/threads/"),
                query: format!("?api-version={}", options.api_version),
                endpoint,
                pipeline,
                credential: Arc::new(credential),
                user_id,
                recent_urls: Default::default(),
            }),
        })
    }

    /// The ACS user (`8:acs:...`) this client gets its tokens for, when it was
    /// made from a connection string; `None` for a client given its tokens.
    pub fn user_id(&self) -> Option<&str> {
        self.inner.user_id.as_deref()
    }
}

impl Pipeline {
    /// The pipeline of `options` for an endpoint: its connection pool (made
    /// now, so that bad TLS settings fail here rather than at a call),
    /// User-Agent, timeouts and retries.
    pub(crate) fn for_endpoint(url: &Url, options: &ClientOptions) -> Result<Pipeline> {
        let ca_file = match &options.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    Error::InvalidArgument(format!(
                        "ca_file {} cannot be read: {}",
                        path.display(),
                        model::one_line(&e.to_string())
                    ))
                })?;
                Some((path.clone(), pem))
            }
            None => None,
        };
        let origin = url.origin().ascii_serialization();
        let pool = PoolRef::new(
            PoolSettings {
                ca_file,
                connect_timeout: options.connect_timeout,
                max_connections_per_origin: options.max_connections_per_origin,
            },
            origin,
        );
        // Made now, so that bad TLS settings fail here rather than at a call.
        pool.get(runtime::blocking_driver())?;
        let user_agent = match options.application_id.as_deref() {
            None => DEFAULT_USER_AGENT.clone(),
            Some(app) => HeaderValue::try_from(user_agent(Some(app))).map_err(|_| {
                Error::InvalidArgument("application_id is not a valid header value".into())
            })?,
        };
        Ok(Pipeline {
            pool,
            user_agent,
            per_try_timeout: options.timeout,
            total_timeout: options.total_timeout,
            retry: RetryPolicy {
                max_retries: options.max_retries,
                base_delay: options.retry_delay,
                max_delay: options.max_retry_delay,
            },
        })
    }
}

impl ChatClient {
    /// The endpoint, normalized, without a trailing slash.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// Replaces the access token atomically; calls in flight keep the old one.
    pub fn set_token(&self, token: &str) -> Result<()> {
        self.inner.credential.set(token)
    }

    /// Sends a message to a thread and returns the new message's id. Blocks
    /// the calling thread until the service answers.
    pub fn send_message(
        &self,
        thread_id: &str,
        content: &str,
        options: &MessageOptions,
    ) -> Result<String> {
        let sent = self
            .prepare_message(thread_id, content, options)?
            .run_blocking()?;
        sent.message_id
            .ok_or_else(|| Error::Internal("send-message returned no id".into()))
    }

    /// Sends a typing notification, with an optional sender display name.
    pub fn send_typing(&self, thread_id: &str, sender_display_name: Option<&str>) -> Result<()> {
        self.prepare_typing(thread_id, sender_display_name)?
            .run_blocking()
            .map(drop)
    }

    /// Sends a read receipt for a message.
    pub fn send_read_receipt(&self, thread_id: &str, chat_message_id: &str) -> Result<()> {
        self.prepare_read_receipt(thread_id, chat_message_id)?
            .run_blocking()
            .map(drop)
    }

    /// [`send_message`](Self::send_message) as a future. Arguments are
    /// checked and copied now; the call runs on the library's I/O runtime
    /// whether or not the future is polled, and dropping the future cancels
    /// it. Any executor may await it.
    pub fn send_message_async(
        &self,
        thread_id: &str,
        content: &str,
        options: &MessageOptions,
    ) -> impl std::future::Future<Output = Result<String>> + Send + 'static {
        let started = self
            .prepare_message(thread_id, content, options)
            .map(Request::into_future);
        async move {
            let sent = started?.await?;
            sent.message_id
                .ok_or_else(|| Error::Internal("send-message returned no id".into()))
        }
    }

    /// [`send_typing`](Self::send_typing) as a future (see
    /// [`send_message_async`](Self::send_message_async)).
    pub fn send_typing_async(
        &self,
        thread_id: &str,
        sender_display_name: Option<&str>,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'static {
        let started = self
            .prepare_typing(thread_id, sender_display_name)
            .map(Request::into_future);
        async move { started?.await.map(drop) }
    }

    /// [`send_read_receipt`](Self::send_read_receipt) as a future (see
    /// [`send_message_async`](Self::send_message_async)).
    pub fn send_read_receipt_async(
        &self,
        thread_id: &str,
        chat_message_id: &str,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'static {
        let started = self
            .prepare_read_receipt(thread_id, chat_message_id)
            .map(Request::into_future);
        async move { started?.await.map(drop) }
    }

    /// Checks and copies a send-message call.
    pub(crate) fn prepare_message(
        &self,
        thread_id: &str,
        content: &str,
        options: &MessageOptions,
    ) -> Result<Request> {
        non_empty(content, "content")?;
        let body = model::send_message_body(content, options)?;
        self.prepare(Operation::SendMessage, thread_id, body)
    }

    /// Checks and copies a typing-notification call.
    pub(crate) fn prepare_typing(
        &self,
        thread_id: &str,
        sender_display_name: Option<&str>,
    ) -> Result<Request> {
        let body = model::typing_body(sender_display_name)?;
        self.prepare(Operation::Typing, thread_id, body)
    }

    /// Checks and copies a read-receipt call.
    pub(crate) fn prepare_read_receipt(
        &self,
        thread_id: &str,
        chat_message_id: &str,
    ) -> Result<Request> {
        non_empty(chat_message_id, "chat_message_id")?;
        let body = model::read_receipt_body(chat_message_id)?;
        self.prepare(Operation::ReadReceipt, thread_id, body)
    }

    fn prepare(&self, operation: Operation, thread_id: &str, body: Vec<u8>) -> Result<Request> {
        self.inner.credential.check_not_refreshing()?;
        let url = self.url(operation, thread_id)?;
        Ok(Request {
            client: self.clone(),
            operation,
            url,
            body: body.into(),
        })
    }

    pub(crate) fn url(&self, operation: Operation, thread_id: &str) -> Result<Url> {
        non_empty(thread_id, "thread_id")?;
        if thread_id == "." || thread_id == ".." {
            return Err(Error::InvalidArgument(
                "thread_id must not be '.' or '..'".into(),
            ));
        }
        // Only the chat operations have a slot; the identity ones never come here.
        let recent = self.inner.recent_urls.get(operation as usize);
        if let Some(url) = recent.and_then(|r| r.get(thread_id)) {
            return Ok(url);
        }
        let text = format!(
            "{}{}/{}{}",
            self.inner.threads_base,
            encode_segment(thread_id),
            operation.path_segment(),
            self.inner.query
        );
        let url = Url::parse(&text).map_err(|e| Error::Internal(format!("request URL: {e}")))?;
        if let Some(recent) = recent {
            recent.put(thread_id, &url);
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_ids_are_one_segment() {
        assert_eq!(encode_segment("19:abc@thread.v2"), "19%3Aabc%40thread.v2");
        assert_eq!(encode_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(encode_segment("A-z_0.9~"), "A-z_0.9~");
        assert_eq!(encode_segment("é%"), "%C3%A9%25");
    }

    fn client(endpoint: &str) -> ChatClient {
        let token = crate::credential::tests::jwt(4_000_000_000.0);
        ChatClient::new(endpoint, &token, &ClientOptions::default()).unwrap()
    }

    #[test]
    fn urls() {
        let c = client("https://Example.communication.azure.com/");
        assert_eq!(c.endpoint(), "https://example.communication.azure.com");
        let url = c.url(Operation::SendMessage, "19:abc@thread.v2").unwrap();
        assert_eq!(
            url.as_str(),
            "https://example.communication.azure.com/chat/threads/19%3Aabc%40thread.v2/messages?api-version=2025-03-15"
        );
        let url = c.url(Operation::ReadReceipt, "a/b?c#d e").unwrap();
        assert_eq!(
            url.as_str(),
            "https://example.communication.azure.com/chat/threads/a%2Fb%3Fc%23d%20e/readReceipts?api-version=2025-03-15"
        );
        let c = client("http://127.0.0.1:8080");
        let url = c.url(Operation::Typing, "t").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/chat/threads/t/typing?api-version=2025-03-15"
        );
        assert!(c.url(Operation::Typing, "").is_err());
        assert!(c.url(Operation::Typing, "..").is_err());
        assert_eq!(
            c.url(Operation::Typing, "...").unwrap().path(),
            "/chat/threads/.../typing"
        );
    }

    #[test]
    fn a_path_prefix_stays_in_front_of_every_route() {
        let c = client("https://gateway.example.com/acs/");
        assert_eq!(c.endpoint(), "https://gateway.example.com/acs");
        let url = c.url(Operation::Typing, "t").unwrap();
        assert_eq!(
            url.as_str(),
            "https://gateway.example.com/acs/chat/threads/t/typing?api-version=2025-03-15"
        );
    }

    #[test]
    fn cached_urls_follow_the_thread_id() {
        let c = client("https://x.communication.azure.com");
        let path = |op, id| c.url(op, id).unwrap().path().to_owned();
        for _ in 0..2 {
            assert_eq!(path(Operation::Typing, "a"), "/chat/threads/a/typing");
            assert_eq!(path(Operation::Typing, "a"), "/chat/threads/a/typing");
            assert_eq!(
                path(Operation::SendMessage, "a"),
                "/chat/threads/a/messages"
            );
            assert_eq!(path(Operation::Typing, "b"), "/chat/threads/b/typing");
            assert_eq!(path(Operation::Typing, "a/"), "/chat/threads/a%2F/typing");
            assert_eq!(
                path(Operation::ReadReceipt, "a"),
                "/chat/threads/a/readReceipts"
            );
        }
        assert!(c.url(Operation::Typing, "").is_err());
    }

    #[test]
    fn endpoints() {
        let ok = [
            "https://x.communication.azure.com",
            "https://x.communication.azure.com/",
            "https://x.communication.azure.com:8443",
            "http://127.0.0.1:1234",
            "http://127.5.6.7",
            "http://localhost:99/",
            "http://LOCALHOST",
            "http://[::1]:80",
            "x.communication.azure.com",
            "x.communication.azure.com/",
            "https://gateway.example.com/acs",
            "https://gateway.example.com/acs/",
            "localhost:8080",
        ];
        for e in ok {
            assert!(validate_endpoint(e, false).is_ok(), "{e}");
        }
        assert_eq!(
            validate_endpoint("x.communication.azure.com", false)
                .unwrap()
                .as_str(),
            "https://x.communication.azure.com/"
        );
        let invalid = [
            "",
            "ftp://x.com",
            "https://user:pw@x.com",
            "https://user@x.com",
            "https://x.com?a=1",
            "https://x.com/?",
            "https://x.com#frag",
            "https://",
            "unix:/tmp/sock",
        ];
        for e in invalid {
            let err = validate_endpoint(e, false).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{e}: {err:?}");
        }
        for e in [
            "http://example.com",
            "http://10.0.0.1",
            "http://[::2]",
            "http://localhost.example",
        ] {
            let err = validate_endpoint(e, false).unwrap_err();
            assert!(matches!(err, Error::InsecureEndpoint(_)), "{e}: {err:?}");
            assert!(validate_endpoint(e, true).is_ok(), "{e}");
        }
    }

    #[test]
    fn user_agents() {
        let ua = user_agent(None);
        assert!(ua.starts_with(&format!("azsdk-c-acs-chat/{} (", env!("CARGO_PKG_VERSION"))));
        assert!(ua.ends_with(&format!(
            "({}; {})",
            std::env::consts::OS,
            std::env::consts::ARCH
        )));
        assert_eq!(user_agent(Some("app1")), format!("app1 {ua}"));
    }

    #[test]
    fn option_validation() {
        let mut o = ClientOptions::new();
        assert!(o.set_api_version("").is_err());
        assert!(o.set_api_version("2025-03-15&x=1").is_err());
        assert!(o.set_api_version("2024-03-07").is_ok());
        assert!(o.set_connect_timeout(Duration::ZERO).is_err());
        assert!(o.set_max_retries(11).is_err());
        assert!(o.set_max_retries(10).is_ok());
        assert!(o
            .set_retry_delay(Duration::from_secs(2), Duration::from_secs(1))
            .is_err());
        assert!(o.set_retry_delay(Duration::ZERO, Duration::ZERO).is_ok());
        assert!(o.set_application_id("has space").is_err());
        assert!(o.set_application_id(&"x".repeat(25)).is_err());
        assert!(o.set_application_id("my-app/1.0").is_ok());
        assert!(o.set_ca_file("").is_err());
        o.set_timeout(Some(Duration::ZERO));
        assert_eq!(o.timeout(), None);
        assert_eq!(o.max_retries(), 10);
        assert_eq!(o.api_version(), "2024-03-07");
    }

    #[test]
    fn unreadable_ca_file_is_invalid() {
        let token = crate::credential::tests::jwt(4_000_000_000.0);
        let mut o = ClientOptions::new();
        o.set_ca_file("/nonexistent/ca.pem").unwrap();
        let err = ChatClient::new("https://x.com", &token, &o).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    }
}
