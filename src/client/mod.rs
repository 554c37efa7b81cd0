//! The chat client: one endpoint and identity, and the three operations, each
//! blocking and asynchronous.

mod endpoint;
mod options;
mod request;

use std::fmt;
use std::sync::Arc;

use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::http::pipeline::Pipeline;
use crate::http::pool::{PoolRef, PoolSettings};
use crate::http::retry::RetryPolicy;
use crate::http::runtime;
use crate::log::{log_at, LogLevel};
use crate::model::{self, MessageOptions, Operation};

use endpoint::Routes;
pub(crate) use endpoint::{encode_segment, validate_endpoint};
pub use options::*;
pub(crate) use request::{Request, Sent};

fn non_empty(value: &str, name: &str) -> Result<()> {
    if value.is_empty() {
        Err(Error::InvalidArgument(format!("{name} is empty")))
    } else {
        Ok(())
    }
}

struct ClientInner {
    endpoint: String,
    routes: Routes,
    pipeline: Pipeline,
    credential: Arc<Credential>,
    /// The ACS user the library gets tokens for (a client made from a
    /// connection string); `None` when the caller supplies the tokens.
    user_id: Option<String>,
}

impl Pipeline {
    /// The pipeline of `options` for an endpoint: its connection pool (made
    /// now, so that bad TLS settings fail here rather than at a call),
    /// User-Agent, timeouts and retries.
    pub(crate) fn for_endpoint(url: &reqwest::Url, options: &ClientOptions) -> Result<Pipeline> {
        let pool = PoolRef::new(
            PoolSettings {
                ca_file: options.read_ca_file()?,
                connect_timeout: options.connect_timeout,
                max_connections_per_origin: options.max_connections_per_origin,
            },
            url.origin().ascii_serialization(),
        );
        pool.get(runtime::blocking_driver())?;
        Ok(Pipeline {
            pool,
            user_agent: options.user_agent_header()?,
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
        let pipeline = Pipeline::for_endpoint(&url, options)?;
        ChatClient::with_credential(&url, pipeline, credential, options, None)
    }

    /// A client for a validated endpoint with its pipeline and credential;
    /// `user_id` is the user the library gets tokens for, if it does.
    pub(crate) fn with_credential(
        url: &reqwest::Url,
        pipeline: Pipeline,
        credential: Credential,
        options: &ClientOptions,
        user_id: Option<String>,
    ) -> Result<ChatClient> {
        let endpoint = url.as_str().trim_end_matches('/').to_owned();
        log_at!(LogLevel::Info, "client created for {endpoint}");
        Ok(ChatClient {
            inner: Arc::new(ClientInner {
                routes: Routes::new(&endpoint, &options.api_version),
                endpoint,
                pipeline,
                credential: Arc::new(credential),
                user_id,
            }),
        })
    }

    /// The ACS user (`8:acs:...`) this client gets its tokens for, when it was
    /// made from a connection string; `None` for a client given its tokens.
    pub fn user_id(&self) -> Option<&str> {
        self.inner.user_id.as_deref()
    }

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

    /// The request URL of `operation` on `thread_id`.
    pub(crate) fn url(&self, operation: Operation, thread_id: &str) -> Result<reqwest::Url> {
        self.inner.routes.url(operation, thread_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn unreadable_ca_file_is_invalid() {
        let token = crate::credential::tests::jwt(4_000_000_000.0);
        let mut o = ClientOptions::new();
        o.set_ca_file("/nonexistent/ca.pem").unwrap();
        let err = ChatClient::new("https://x.com", &token, &o).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    }
}
