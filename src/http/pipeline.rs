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

use crate::credential::{AccessKey, AccessToken, CallRefreshState, Credential};
use crate::error::{Error, FailureDetails, Result};
use crate::http::call::CallControl;
use crate::http::diagnostics::{log_attempt, redacted_headers, request_id, status_text};
use crate::http::retry::{is_retryable_status, retry_after, RetryPolicy};
use crate::http::transport::{attempt, AttemptError, RawResponse, TrackedBody, MAX_RESPONSE_BODY};
use crate::log::{log_at, LogLevel};
use crate::model::parse_error_body;
use crate::model::Operation;

static CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-client-request-id");

/// How a call proves who it is.
#[derive(Clone, Copy)]
pub(crate) enum Auth<'a> {
    /// The user's access token (`Authorization: Bearer`), refreshed as the
    /// credential decides.
    Bearer(&'a Arc<Credential>),
    /// The resource's access key: each attempt is signed (HMAC-SHA256).
    AccessKey(&'a AccessKey),
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
#[derive(Clone)]
pub(crate) struct Pipeline {
    pub pool: crate::http::pool::PoolRef,
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
                Some(credential.token_for_attempt(&mut refresh, inline).await?)
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
            log_attempt(call.url.path(), &outcome, started.elapsed(), attempt_number);
            if let (Auth::Bearer(credential), Some(rejected)) = (call.auth, &token) {
                if matches!(&outcome, Ok(raw) if raw.status == StatusCode::UNAUTHORIZED)
                    && credential.can_refresh_after_unauthorized(&refresh)
                {
                    call.control.mark_answered();
                    let fresh = credential
                        .replace_rejected(rejected, &mut refresh, inline)
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
                    .unwrap_or(crate::http::runtime::IDLE_READ_TIMEOUT)
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
