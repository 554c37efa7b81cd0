//! One HTTP exchange: the shared `reqwest::Client` (TLS, no proxy, no
//! redirects), a request body that records when it went out, and a response
//! read with a size cap.

use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::error::one_line;
use crate::error::{Error, Result};
use crate::http::call::CallControl;
use crate::http::pool::{OriginLimit, PoolSettings};
use crate::http::runtime::{Driver, IDLE_READ_TIMEOUT};

/// Largest response body read; a larger one is a protocol error.
pub const MAX_RESPONSE_BODY: usize = 1024 * 1024;

/// The innermost cause of an error, as one line.
pub(crate) fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    one_line(&cause.to_string())
}

/// TLS 1.2 and 1.3 with the ring provider, server certificates checked by the
/// platform verifier against the system roots plus those of `ca_file`; ALPN
/// offers `protocols`. reqwest takes this config only from the same rustls
/// version as its own (one version in Cargo.lock); the https tests would
/// fail on a mismatch.
fn tls_config(settings: &PoolSettings, protocols: &[&[u8]]) -> Result<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = match &settings.ca_file {
        None => rustls_platform_verifier::Verifier::new(provider.clone())
            .map_err(|e| Error::Internal(format!("the TLS verifier could not be built: {e}")))?,
        Some((path, pem)) => {
            let bad = |why: String| {
                Error::InvalidArgument(format!("ca_file {} cannot be used: {why}", path.display()))
            };
            let certs = CertificateDer::pem_slice_iter(pem)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("it holds no PEM certificate".into()));
            }
            rustls_platform_verifier::Verifier::new_with_extra_roots(certs, provider.clone())
                .map_err(|e| bad(e.to_string()))?
        }
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS settings: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The HTTP client of one pool. Never through a proxy: the environment's
/// `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` are ignored, so a bearer token only
/// ever travels to the endpoint itself. Must run inside the runtime's context.
///
/// The I/O threads' pools offer HTTP/2 over TLS, so that many calls in flight
/// share one connection; the caller-driven pools, which carry one blocking
/// call per thread, speak HTTP/1.1, which costs less per call.
pub(crate) fn build_client(settings: &PoolSettings, driver: Driver) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    let tls = match driver {
        Driver::Caller => {
            builder = builder.http1_only();
            tls_config(settings, &[b"http/1.1"])?
        }
        Driver::IoThreads => tls_config(settings, &[b"h2", b"http/1.1"])?,
    };
    let builder = builder
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(settings.connect_timeout)
        .read_timeout(IDLE_READ_TIMEOUT)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(60))
        .http2_keep_alive_interval(Duration::from_secs(30))
        .http2_keep_alive_timeout(Duration::from_secs(20))
        .tls_backend_preconfigured(tls);
    builder.build().map_err(|e| {
        if settings.ca_file.is_some() {
            Error::InvalidArgument(format!("TLS settings cannot be used: {}", root_cause(&e)))
        } else {
            Error::Internal(format!(
                "the HTTP client could not be built: {}",
                root_cause(&e)
            ))
        }
    })
}

/// A request body of known length that marks the call as possibly
/// delivered when the HTTP stack takes it to send: until then no complete
/// request can have reached the service.
pub(crate) struct TrackedBody {
    data: Option<Bytes>,
    len: u64,
    control: Arc<CallControl>,
}

impl TrackedBody {
    pub(crate) fn new(data: Bytes, control: Arc<CallControl>) -> TrackedBody {
        TrackedBody {
            len: data.len() as u64,
            data: Some(data),
            control,
        }
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<http_body::Frame<Bytes>, Self::Error>>> {
        match self.data.take() {
            Some(data) => {
                self.control.mark_written();
                Poll::Ready(Some(Ok(http_body::Frame::data(data))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(if self.data.is_some() { self.len } else { 0 })
    }
}

/// Why an attempt produced no usable answer.
pub(crate) enum AttemptError {
    Connect(String),
    Timeout,
    Io(String),
    Oversize {
        status: StatusCode,
        headers: HeaderMap,
    },
}

/// An answer with its whole body.
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

async fn read_capped(
    mut response: reqwest::Response,
) -> std::result::Result<RawResponse, AttemptError> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BODY as u64)
    {
        return Err(AttemptError::Oversize { status, headers });
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_RESPONSE_BODY {
                    return Err(AttemptError::Oversize { status, headers });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(AttemptError::Timeout),
            Err(e) => return Err(AttemptError::Io(root_cause(&e))),
        }
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

/// Lets the caller-driven runtime poll for I/O, and then run the connection
/// tasks it woke, before a pooled connection is picked. That runtime only runs
/// while some thread is inside a call, so a connection the server closed
/// while idle is noticed here rather than by sending a request into it
/// (which, for send-message, would be an `IO` failure that cannot be retried).
async fn settle_idle_connections() {
    // First yield: the scheduler polls the I/O driver and queues woken tasks.
    tokio::task::yield_now().await;
    // Second yield: those tasks run (closing dead connections) before we continue.
    tokio::task::yield_now().await;
}

/// Sends one request and reads its answer: first a place among the origin's
/// connections (waiting does not count against `per_try`), then the exchange
/// under the per-try timeout.
pub(crate) async fn attempt(
    http: &reqwest::Client,
    limit: &OriginLimit,
    request: reqwest::Request,
    per_try: Option<Duration>,
    driver: Driver,
) -> std::result::Result<RawResponse, AttemptError> {
    let _place = limit.acquire().await;
    let exchange = async {
        if driver == Driver::Caller {
            settle_idle_connections().await;
        }
        let response = http.execute(request).await.map_err(|e| {
            if e.is_connect() {
                AttemptError::Connect(root_cause(&e))
            } else if e.is_timeout() {
                AttemptError::Timeout
            } else {
                AttemptError::Io(root_cause(&e))
            }
        })?;
        limit.observe(response.version());
        read_capped(response).await
    };
    match per_try {
        Some(limit) => tokio::time::timeout(limit, exchange)
            .await
            .unwrap_or(Err(AttemptError::Timeout)),
        None => exchange.await,
    }
}
