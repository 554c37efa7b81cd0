//! Accept loop, TLS and the per-connection HTTP/1.1 server.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::state::Shared;
use crate::TlsFiles;

/// Time a client has to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections until `stop` fires.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    opts: ServeOptions,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let opts = Arc::new(opts);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(stream, shared.clone(), opts.clone()));
                }
                // Out of descriptors or a connection reset before accept: back off briefly.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, opts: Arc<ServeOptions>) {
    match &opts.tls {
        None => http(TokioIo::new(stream), shared, opts.header_timeout).await,
        Some(acceptor) => {
            let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
            if let Ok(Ok(tls)) = handshake.await {
                http(TokioIo::new(tls), shared, opts.header_timeout).await;
            }
        }
    }
}

async fn http<I>(io: I, shared: Arc<Shared>, header_timeout: Duration)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| crate::routes::handle(shared.clone(), req));
    // Errors here are the client's (reset, timeout, malformed head) or a scripted drop.
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true)
        .serve_connection(io, service)
        .await;
}
