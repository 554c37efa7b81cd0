//! The request pipeline: one call = up to `1 + max_retries` attempts, with
//! back-off, `Retry-After` handling, a per-try timeout, an optional deadline
//! over all attempts, a capped response body, and one refresh-and-retry after
//! a 401 when a refresher is set. Chat calls carry the user's bearer token;
//! identity calls are signed with the resource's access key, anew for each
//! attempt.
//!
//! A call is one future. A blocking call polls it on the calling thread; an
//! asynchronous one is a task on the I/O runtime. Back-off waits are timers
//! either way.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT,
};
use reqwest::{Method, StatusCode, Url};

use crate::call::CallControl;
use crate::credential::{AccessToken, CallRefreshState, Credential};
use crate::error::{Error, FailureDetails, Result};
use crate::identity::AccessKey;
use crate::log::{log_at, LogLevel};
use crate::model::{one_line, parse_error_body};
use crate::transport::{attempt, AttemptError, RawResponse, TrackedBody, MAX_RESPONSE_BODY};

/// Jitter applied to computed back-off delays: plus or minus this fraction.
pub const JITTER: f64 = 0.2;

static CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-client-request-id");

/// The three chat operations, and the two identity operations a client made
/// from a connection string uses to get its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    SendMessage,
    Typing,
    ReadReceipt,
    /// `POST /identities`: a new user, with a token.
    CreateUser,
    /// `POST /identities/{id}/:issueAccessToken`.
    IssueToken,
}

impl Operation {
    /// The last path segment of the operation's route (after the thread id
    /// for the chat operations).
    pub(crate) fn path_segment(self) -> &'static str {
        match self {
            Operation::SendMessage => "messages",
            Operation::Typing => "typing",
            Operation::ReadReceipt => "readReceipts",
            Operation::CreateUser => "identities",
            Operation::IssueToken => ":issueAccessToken",
        }
    }

    /// Whether timeouts and broken connections are retried. Not for
    /// send-message (no idempotency key exists, a retry could post twice) nor
    /// for creating a user (a retry could create a second one).
    pub(crate) fn retries_after_delivery(self) -> bool {
        !matches!(self, Operation::SendMessage | Operation::CreateUser)
    }
}

/// How a call proves who it is.
#[derive(Clone, Copy)]
pub(crate) enum Auth<'a> {
    /// The user's access token (`Authorization: Bearer`), refreshed as the
    /// credential decides.
    Bearer(&'a Arc<Credential>),
    /// The resource's access key: each attempt is signed (HMAC-SHA256).
    AccessKey(&'a AccessKey),
}

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Delay before retry number `retry` (0 for the first retry):
    /// `base * 2^retry`, scaled by `1 + JITTER * jitter` (`jitter` in -1..=1),
    /// capped at `max_delay`.
    pub(crate) fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let factor = 2f64.powi(retry.min(30) as i32);
        let jitter = 1.0 + JITTER * jitter.clamp(-1.0, 1.0);
        let secs = self.base_delay.as_secs_f64() * factor * jitter;
        let max = self.max_delay.as_secs_f64();
        Duration::from_secs_f64(secs.clamp(0.0, max))
    }

    /// The delay the service asked for, if any, else the back-off; capped.
    fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        let asked = headers.and_then(|h| retry_after(h, SystemTime::now()));
        match asked {
            Some(d) => d.min(self.max_delay),
            None => self.backoff(retry, fastrand::f64() * 2.0 - 1.0),
        }
    }
}

/// Statuses every operation retries.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The delay asked for by `retry-after-ms`, `x-ms-retry-after-ms` or
/// `Retry-After` (seconds or an HTTP date), in that precedence.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let millis = |v: &str| {
        v.parse::<f64>()
            .ok()
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| Duration::from_secs_f64(ms.min(1e12) / 1000.0))
    };
    if let Some(d) = text("retry-after-ms").and_then(millis) {
        return Some(d);
    }
    if let Some(d) = text("x-ms-retry-after-ms").and_then(millis) {
        return Some(d);
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

/// A successful (2xx) answer.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The `x-ms-client-request-id` the call sent.
    client_request_id: HeaderValue,
}

impl Response {
    /// The id to quote for this answer: the service's (`MS-CV`,
    /// `x-ms-request-id`) or else the one the call sent.
    pub(crate) fn request_id(&self) -> String {
        request_id(
            &self.headers,
            self.client_request_id.to_str().unwrap_or_default(),
        )
    }
}

/// Everything fixed for a client: its pool and settings.
pub(crate) struct Pipeline {
    pub pool: crate::client::PoolRef,
    pub user_agent: HeaderValue,
    pub per_try_timeout: Option<Duration>,
    pub total_timeout: Option<Duration>,
    pub retry: RetryPolicy,
}

/// One call: its operation, URL and body.
pub(crate) struct Call<'a> {
    pub operation: Operation,
    pub url: Url,
    pub body: Bytes,
    pub auth: Auth<'a>,
    pub control: &'a Arc<CallControl>,
}

/// What one attempt means for the call.
enum Step {
    /// A usable answer.
    Done(Response),
    /// A failure that is final.
    Fail(Error),
    /// A failure worth retrying while retries remain; the answer's headers
    /// may ask for a delay.
    Retriable(Error, Option<HeaderMap>),
}

/// What error construction needs to know about the call.
struct AttemptContext<'a> {
    call: &'a Call<'a>,
    token: Option<&'a AccessToken>,
    client_request_id: &'a str,
}

impl AttemptContext<'_> {
    /// `text` without the call's token.
    fn redact(&self, text: &str) -> String {
        match self.token {
            Some(token) => token.redact(text),
            None => text.to_owned(),
        }
    }

    /// Failure details without a service error body.
    fn details(&self, message: &str, status: u16, headers: Option<&HeaderMap>) -> FailureDetails {
        FailureDetails {
            message: self.redact(message),
            http_status: status,
            service_code: String::new(),
            request_id: match headers {
                Some(h) => request_id(h, self.client_request_id),
                None => self.client_request_id.to_owned(),
            },
            retry_after: headers.and_then(|h| retry_after(h, SystemTime::now())),
            may_have_been_delivered: false,
        }
    }

    /// Details of a failure after the request was written.
    fn maybe_delivered(&self, message: &str) -> Box<FailureDetails> {
        let mut details = self.details(message, 0, None);
        details.may_have_been_delivered = true;
        Box::new(details)
    }
}

fn log_attempt(
    call: &Call<'_>,
    outcome: &std::result::Result<RawResponse, AttemptError>,
    elapsed: Duration,
    attempt: u32,
) {
    let ms = elapsed.as_secs_f64() * 1000.0;
    let path = call.url.path();
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

fn request_id(headers: &HeaderMap, ours: &str) -> String {
    ["ms-cv", "x-ms-request-id"]
        .iter()
        .filter_map(|name| headers.get(*name))
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .find(|v| !v.is_empty())
        .map_or_else(|| ours.to_owned(), one_line)
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

impl Pipeline {
    /// Runs a call to completion within its deadline: a 2xx answer, or the
    /// error after retries.
    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<Response> {
        match self.total_timeout {
            None => self.attempts(&call).await,
            Some(limit) => match tokio::time::timeout(limit, self.attempts(&call)).await {
                Ok(result) => result,
                Err(_) => Err(deadline_error(&call, limit)),
            },
        }
    }

    async fn attempts(&self, call: &Call<'_>) -> Result<Response> {
        let driver = call.control.driver();
        let pool = self.pool.get(driver)?;
        let client_request_id = call.control.client_request_id_str();
        let mut refresh = CallRefreshState::default();
        // A refresher blocks. A blocking call without a deadline runs it on its
        // own thread; otherwise it runs on the blocking pool, so that the I/O
        // threads never block and a deadline bounds the wait for it.
        let inline = !call.control.on_runtime() && self.total_timeout.is_none();
        let mut token = match call.auth {
            Auth::Bearer(credential) => {
                Some(token_for_call(credential, &mut refresh, inline).await?)
            }
            Auth::AccessKey(_) => None,
        };
        let mut retries = 0u32;
        let mut attempt_number = 0u32;
        loop {
            attempt_number += 1;
            let request = self.request(call, token.as_deref());
            let started = Instant::now();
            let outcome = attempt(
                pool.pool.http(),
                &pool.limit,
                request,
                self.per_try_timeout,
                driver,
            )
            .await;
            log_attempt(call, &outcome, started.elapsed(), attempt_number);
            if let (Auth::Bearer(credential), Some(rejected)) = (call.auth, &token) {
                if matches!(&outcome, Ok(raw) if raw.status == StatusCode::UNAUTHORIZED)
                    && credential.can_refresh_after_unauthorized(&refresh)
                {
                    call.control.mark_answered();
                    let fresh =
                        refresh_after_unauthorized(credential, rejected, &mut refresh, inline)
                            .await?;
                    token = Some(fresh);
                    continue;
                }
            }
            let context = AttemptContext {
                call,
                token: token.as_deref(),
                client_request_id,
            };
            let (error, headers) = match self.classify(outcome, &context) {
                Step::Done(response) => return Ok(response),
                Step::Fail(error) => return Err(error),
                Step::Retriable(error, _) if retries >= self.retry.max_retries => {
                    return Err(error)
                }
                Step::Retriable(error, headers) => (error, headers),
            };
            let delay = self.retry.delay(retries, headers.as_ref());
            retries += 1;
            log_at!(
                LogLevel::Warn,
                "retry {retries} of {} in {} ms after: {error}",
                self.retry.max_retries,
                delay.as_millis()
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Decides what an attempt's outcome means: success, final failure, or a
    /// failure to retry (which becomes final when the retries are spent).
    fn classify(
        &self,
        outcome: std::result::Result<RawResponse, AttemptError>,
        context: &AttemptContext<'_>,
    ) -> Step {
        let operation = context.call.operation;
        match outcome {
            Ok(raw) if raw.status.is_success() => Step::Done(Response {
                status: raw.status,
                headers: raw.headers,
                body: raw.body,
                client_request_id: context.call.control.client_request_id().clone(),
            }),
            Ok(raw) if raw.status.is_redirection() => {
                context.call.control.mark_answered();
                let message = format!(
                    "the service answered {} with a redirect, which is not followed",
                    status_text(raw.status)
                );
                let details = context.details(&message, raw.status.as_u16(), Some(&raw.headers));
                Step::Fail(Error::Protocol(Box::new(details)))
            }
            Ok(raw) => {
                context.call.control.mark_answered();
                let error = status_error(&raw, context);
                if is_retryable_status(raw.status.as_u16()) {
                    Step::Retriable(error, Some(raw.headers))
                } else {
                    Step::Fail(error)
                }
            }
            Err(AttemptError::Oversize { status, headers }) if status.is_success() => {
                let what = match operation {
                    Operation::SendMessage => "the message may have been created",
                    Operation::CreateUser => "the user may have been created",
                    Operation::Typing | Operation::ReadReceipt | Operation::IssueToken => {
                        "it was probably applied"
                    }
                };
                let message = format!(
                    "the service answered {} with a body over {MAX_RESPONSE_BODY} bytes; {what}",
                    status_text(status)
                );
                let mut details = context.details(&message, status.as_u16(), Some(&headers));
                details.may_have_been_delivered = true;
                Step::Fail(Error::Protocol(Box::new(details)))
            }
            Err(AttemptError::Oversize { status, headers }) => {
                let message = format!(
                    "the service answered {} with a body over {MAX_RESPONSE_BODY} bytes",
                    status_text(status)
                );
                let details = context.details(&message, status.as_u16(), Some(&headers));
                Step::Fail(Error::Protocol(Box::new(details)))
            }
            Err(AttemptError::Connect(cause)) => {
                let url = &context.call.url;
                let host = url.host_str().unwrap_or_default();
                let port = url.port_or_known_default().unwrap_or_default();
                let message = format!("cannot connect to {host}:{port}: {cause}");
                Step::Retriable(
                    Error::Connect(Box::new(context.details(&message, 0, None))),
                    None,
                )
            }
            Err(AttemptError::Timeout) => {
                let limit = self
                    .per_try_timeout
                    .unwrap_or(crate::runtime::IDLE_READ_TIMEOUT)
                    .as_millis();
                let message =
                    format!("no answer within {limit} ms; the request may have been delivered");
                let error = Error::Timeout(context.maybe_delivered(&message));
                if operation.retries_after_delivery() {
                    Step::Retriable(error, None)
                } else {
                    Step::Fail(error)
                }
            }
            Err(AttemptError::Io(cause)) => {
                let message = format!(
                    "the connection broke before the answer was complete; the request may have been delivered: {cause}"
                );
                let error = Error::Io(context.maybe_delivered(&message));
                if operation.retries_after_delivery() {
                    Step::Retriable(error, None)
                } else {
                    Step::Fail(error)
                }
            }
        }
    }

    fn request(&self, call: &Call<'_>, token: Option<&AccessToken>) -> reqwest::Request {
        let mut request = reqwest::Request::new(Method::POST, call.url.clone());
        let headers = request.headers_mut();
        headers.reserve(7);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, self.user_agent.clone());
        if let Some(token) = token {
            headers.insert(AUTHORIZATION, token.header().clone());
        }
        headers.insert(
            CLIENT_REQUEST_ID.clone(),
            call.control.client_request_id().clone(),
        );
        if let Auth::AccessKey(key) = call.auth {
            key.sign(Method::POST.as_str(), &call.url, &call.body, headers);
        }
        *request.body_mut() = Some(reqwest::Body::wrap(TrackedBody::new(
            call.body.clone(),
            call.control.clone(),
        )));
        log_at!(
            LogLevel::Trace,
            "POST {} headers: {}",
            call.url.path(),
            redacted_headers(request.headers())
        );
        request
    }
}

/// The error of a call whose deadline passed.
fn deadline_error(call: &Call<'_>, limit: Duration) -> Error {
    let delivered = call.control.may_have_been_delivered();
    let message = if delivered {
        format!(
            "the call's deadline of {} ms passed; the request may have been delivered",
            limit.as_millis()
        )
    } else {
        format!(
            "the call's deadline of {} ms passed before the request was sent",
            limit.as_millis()
        )
    };
    Error::Timeout(Box::new(FailureDetails {
        message,
        request_id: call.control.client_request_id_str().to_owned(),
        may_have_been_delivered: delivered,
        ..FailureDetails::default()
    }))
}

/// The token for the next attempt. Unless `inline`, a refresh runs on the
/// runtime's blocking pool, one per client at a time, and calls waiting for
/// it hold no thread.
async fn token_for_call(
    credential: &Arc<Credential>,
    refresh: &mut CallRefreshState,
    inline: bool,
) -> Result<Arc<AccessToken>> {
    if inline {
        return credential.token_for_call(refresh);
    }
    if let Some(token) = credential.token_without_refresh(refresh) {
        return Ok(token);
    }
    let before = credential.refreshes();
    let _gate = credential.async_gate().lock().await;
    // Calls that waited here mostly find the token another one refreshed.
    if let Some(token) = credential.token_without_refresh(refresh) {
        return Ok(token);
    }
    off_runtime(credential, refresh, move |credential, refresh| {
        credential.refresh_for_call(refresh, before)
    })
    .await
}

async fn refresh_after_unauthorized(
    credential: &Arc<Credential>,
    rejected: &Arc<AccessToken>,
    refresh: &mut CallRefreshState,
    inline: bool,
) -> Result<Arc<AccessToken>> {
    if inline {
        return credential.refresh_after_unauthorized(rejected, refresh);
    }
    let _gate = credential.async_gate().lock().await;
    if let Some(token) = credential.replacement_for(rejected) {
        refresh.mark_refreshed_after_unauthorized();
        return Ok(token);
    }
    let rejected = rejected.clone();
    off_runtime(credential, refresh, move |credential, refresh| {
        credential.refresh_after_unauthorized(&rejected, refresh)
    })
    .await
}

/// Runs a blocking credential step on the blocking pool; the caller holds
/// the credential's asynchronous gate, so one runs per client at a time.
async fn off_runtime<T, F>(
    credential: &Arc<Credential>,
    refresh: &mut CallRefreshState,
    step: F,
) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Credential, &mut CallRefreshState) -> Result<T> + Send + 'static,
{
    let credential = credential.clone();
    let mut state = std::mem::take(refresh);
    let (result, state) = tokio::task::spawn_blocking(move || {
        let result = step(&credential, &mut state);
        (result, state)
    })
    .await
    .map_err(|e| Error::Internal(format!("the token refresh task failed: {e}")))?;
    *refresh = state;
    result
}

/// The error for an error status, with the service's code and message if
/// its body has them.
fn status_error(raw: &RawResponse, context: &AttemptContext<'_>) -> Error {
    let parsed = parse_error_body(&raw.body).unwrap_or_default();
    let message = if parsed.message.is_empty() {
        status_text(raw.status)
    } else {
        parsed.message
    };
    let mut details = context.details(&message, raw.status.as_u16(), Some(&raw.headers));
    details.service_code = context.redact(&parsed.code);
    Error::Status(Box::new(details))
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

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
        }
    }

    #[test]
    fn backoff_is_exponential_with_bounded_jitter_and_cap() {
        let p = policy();
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(800));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(1600));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(3200));
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(960));
        assert_eq!(p.backoff(0, -1.0), Duration::from_millis(640));
        assert_eq!(p.backoff(0, 7.0), Duration::from_millis(960));
        assert_eq!(p.backoff(10, 0.0), Duration::from_secs(60));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(60));
        for _ in 0..100 {
            let d = p.delay(1, None);
            assert!(d >= Duration::from_millis(1280) && d <= Duration::from_millis(1920));
        }
        let zero = RetryPolicy {
            base_delay: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.backoff(3, 1.0), Duration::ZERO);
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_precedence_and_formats() {
        let now = SystemTime::now();
        assert_eq!(retry_after(&headers(&[]), now), None);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")]), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1.5")]), now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(
                &headers(&[("x-ms-retry-after-ms", "250"), ("retry-after", "2")]),
                now
            ),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(
                &headers(&[
                    ("retry-after-ms", "100"),
                    ("x-ms-retry-after-ms", "250"),
                    ("retry-after", "2")
                ]),
                now
            ),
            Some(Duration::from_millis(100))
        );
        // Unusable values fall through to the next header.
        assert_eq!(
            retry_after(
                &headers(&[("retry-after-ms", "soon"), ("retry-after", "3")]),
                now
            ),
            Some(Duration::from_secs(3))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")]), now), None);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "later")]), now),
            None
        );
    }

    #[test]
    fn retry_after_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let date = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(5))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn service_delay_is_capped() {
        let p = RetryPolicy {
            max_delay: Duration::from_secs(2),
            ..policy()
        };
        assert_eq!(
            p.delay(0, Some(&headers(&[("retry-after", "30")]))),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 201, 400, 401, 403, 404, 409, 501, 505] {
            assert!(!is_retryable_status(s));
        }
        assert!(!Operation::SendMessage.retries_after_delivery());
        assert!(Operation::Typing.retries_after_delivery());
        assert!(Operation::ReadReceipt.retries_after_delivery());
    }

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
