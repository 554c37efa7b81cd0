//! Accept loop, TLS with ALPN, and the per-connection HTTP/1.1 and HTTP/2 servers.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::request::Abort;
use crate::state::Shared;
use crate::TlsFiles;

/// Time a client has to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2: interval of the PING frames that check the client is still there.
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);
/// HTTP/2: time a client has to answer a PING before the connection is closed.
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);
/// HTTP/2: streams a client may have open at once on one connection.
const H2_MAX_STREAMS: u32 = 200;
/// HTTP/2: time left to an idle connection to finish closing after its GOAWAY.
const H2_CLOSE_GRACE: Duration = Duration::from_secs(5);

pub(crate) struct ServeOptions {
    pub tls: Option<TlsAcceptor>,
    pub header_timeout: Duration,
}

/// Reads the PEM certificate chain and key into a TLS acceptor using the ring provider.
pub(crate) fn load_tls(files: &TlsFiles) -> io::Result<TlsAcceptor> {
    let invalid = |what: &str, path: &std::path::Path, e: &dyn std::fmt::Display| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} {}: {e}", path.display()),
        )
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| invalid("cannot read certificate file", &files.cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("cannot parse certificate file", &files.cert, &e))?;
    if certs.is_empty() {
        return Err(invalid(
            "no certificate in",
            &files.cert,
            &"expected a PEM CERTIFICATE block",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| invalid("cannot read private key file", &files.key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid("certificate and key not usable", &files.cert, &e))?;
    // In the server's order of preference: a client offering both gets HTTP/2.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections until `stop` fires, numbering them from 1 in accept order.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    opts: ServeOptions,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let opts = Arc::new(opts);
    let mut accepted_count: u64 = 0;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    accepted_count += 1;
                    tokio::spawn(connection(stream, accepted_count, shared.clone(), opts.clone()));
                }
                // Out of descriptors or a connection reset before accept: back off briefly.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
        }
    }
}

async fn connection(stream: TcpStream, id: u64, shared: Arc<Shared>, opts: Arc<ServeOptions>) {
    match &opts.tls {
        None => http(TokioIo::new(stream), id, shared, opts.header_timeout).await,
        Some(acceptor) => {
            let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
            if let Ok(Ok(tls)) = handshake.await {
                if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                    h2(TokioIo::new(tls), id, shared, opts.header_timeout).await;
                } else {
                    http(TokioIo::new(tls), id, shared, opts.header_timeout).await;
                }
            }
        }
    }
}

/// Serves HTTP/1.1 (and 1.0) with a header-read timeout that is also the keep-alive idle
/// timeout.
async fn http<I>(io: I, id: u64, shared: Arc<Shared>, header_timeout: Duration)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| crate::ui::handle(shared.clone(), id, req));
    // Errors here are the client's (reset, timeout, malformed head) or a scripted drop.
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true)
        .serve_connection(io, service)
        .await;
}

/// Serves HTTP/2. A scripted drop resets its stream only. The connection is closed with a
/// GOAWAY once it has had no open stream for `idle_timeout` (counted from the handshake for
/// a client that never sends a request), and when a PING goes unanswered.
async fn h2<I>(io: I, id: u64, shared: Arc<Shared>, idle_timeout: Duration)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (open_tx, mut open_rx) = tokio::sync::watch::channel(0usize);
    let open = Arc::new(open_tx);
    let service = service_fn(move |req| {
        let stream = OpenStream::new(open.clone());
        let answer = crate::ui::handle(shared.clone(), id, req);
        // Open until its answer is sent: an event stream keeps the connection busy.
        async move { Ok::<_, Abort>(answer.await?.map(|body| body.guarded(stream))) }
    });
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT)
        .max_concurrent_streams(H2_MAX_STREAMS);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        biased;
        // Errors here are the client's (reset, protocol error, unanswered PING).
        _ = conn.as_mut() => return,
        () = idle(&mut open_rx, idle_timeout) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(H2_CLOSE_GRACE, conn).await;
}

/// Counts an HTTP/2 stream as open until it is dropped (answered or reset).
struct OpenStream(Arc<tokio::sync::watch::Sender<usize>>);

impl OpenStream {
    fn new(open: Arc<tokio::sync::watch::Sender<usize>>) -> OpenStream {
        open.send_modify(|n| *n += 1);
        OpenStream(open)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// Completes once no stream has been open for `timeout`.
async fn idle(open: &mut tokio::sync::watch::Receiver<usize>, timeout: Duration) {
    loop {
        if open.wait_for(|n| *n == 0).await.is_err() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(timeout) => return,
            changed = open.changed() => if changed.is_err() { return },
        }
    }
}
