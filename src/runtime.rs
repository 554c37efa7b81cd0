//! The one I/O runtime of the process and the shared HTTP connection pools.
//!
//! Every client's requests run on one tokio current-thread runtime, driven by
//! the thread making the call (`block_on`), so a call involves no thread
//! hand-off. Several threads may be inside `block_on` at once; tokio lets one
//! of them drive I/O for all. Clients whose TLS settings are equal share one
//! `reqwest::Client`, and so one connection pool.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use once_cell::sync::Lazy;
use tokio::runtime::Runtime;

use crate::error::{Error, Result};

static RUNTIME: Lazy<std::result::Result<Runtime, String>> = Lazy::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("acs-chat-blocking")
        .build()
        .map_err(|e| e.to_string())
});

/// Runs `future` to completion on the shared runtime, on the calling thread.
///
/// Refused with `InvalidArgument` from inside a tokio runtime, where
/// blocking would stall that runtime and tokio would panic.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::InvalidArgument(
            "calls block, so they cannot be made from inside a tokio runtime; make them \
             from a thread that may block (e.g. with tokio::task::spawn_blocking)"
                .into(),
        ));
    }
    match &*RUNTIME {
        Ok(runtime) => Ok(runtime.block_on(future)),
        Err(e) => Err(Error::Internal(format!(
            "the I/O runtime could not be started: {e}"
        ))),
    }
}

/// The settings that decide whether two clients can share a connection pool.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TlsSettings {
    /// Extra root certificates: the file's path and its contents when read.
    pub ca_file: Option<(PathBuf, Vec<u8>)>,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
}

static POOLS: Lazy<Mutex<HashMap<TlsSettings, reqwest::Client>>> =
    Lazy::new(|| Mutex::new(HashMap::new()));

/// The shared HTTP client for `settings`, created on first use.
pub(crate) fn http_client(settings: &TlsSettings) -> Result<reqwest::Client> {
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(client) = pools.get(settings) {
        return Ok(client.clone());
    }
    let client = build_client(settings)?;
    pools.insert(settings.clone(), client.clone());
    Ok(client)
}

/// TLS 1.2 and 1.3 with the ring provider, server certificates checked by the
/// platform verifier against the system roots plus those of `ca_file`.
/// reqwest takes this config only from the same rustls version as its own (one
/// version in Cargo.lock); the https tests would fail on a mismatch.
fn tls_config(settings: &TlsSettings) -> Result<rustls::ClientConfig> {
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
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn build_client(settings: &TlsSettings) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .http1_only()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(settings.connect_timeout)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(60));
    builder = builder.tls_backend_preconfigured(tls_config(settings)?);
    // Building may need the runtime's context (timers, DNS) in some configurations.
    let _guard = match &*RUNTIME {
        Ok(runtime) => Some(runtime.enter()),
        Err(_) => None,
    };
    builder.build().map_err(|e| {
        if settings.ca_file.is_some() {
            Error::InvalidArgument(format!(
                "TLS settings cannot be used: {}",
                crate::pipeline::root_cause(&e)
            ))
        } else {
            Error::Internal(format!(
                "the HTTP client could not be built: {}",
                crate::pipeline::root_cause(&e)
            ))
        }
    })
}
