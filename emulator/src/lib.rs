//! A local emulator of the Azure Communication Services Chat REST operations that the
//! `acs_chat` library wraps: send message, typing notification and read receipt.
//!
//! It validates requests as the service does (api-version, bearer JWT, JSON bodies, the
//! limits table), stores what it accepted per thread, and exposes a control API under
//! `/_emulator/` to mint tokens, read events and the request log, and script faults, and a
//! web inbox at `/` that shows threads, typing and read receipts live (server-sent events
//! from `/_emulator/stream`); [`ControlClient`] (or [`Emulator::control`]) calls the control
//! API with typed requests and answers. See `emulator/README.md` for the HTTP interface.
//!
//! ```no_run
//! use acs_chat_emulator::{Emulator, EmulatorConfig};
//! let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
//! println!("{}", emulator.url());
//! emulator.shutdown();
//! ```

mod auth;
mod control;
mod control_client;
mod identity;
mod limits;
mod request;
mod respond;
mod routes;
mod server;
mod state;
mod stream;
mod ui;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub use control_client::{
    ControlClient, ControlError, Event, EventOp, Fault, FaultAction, FaultsQueued, IdentityRequest,
    LoggedRequest, Route, Token, TokenOptions,
};

/// PEM files for serving HTTPS: a certificate chain (leaf first) and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How to run an emulator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Whether the service's rate limits apply (they can be toggled later through
    /// `POST /_emulator/limits`).
    pub limits: bool,
    /// Serve HTTPS with these files instead of plain HTTP. HTTPS offers HTTP/2 and HTTP/1.1
    /// through ALPN.
    pub tls: Option<TlsFiles>,
    /// Time between handling a service call (its event is stored on arrival) and sending
    /// the answer; zero by default, at most 600 s (longer values are capped). Can be changed
    /// later through [`Emulator::set_latency`] or `POST /_emulator/latency`.
    pub latency: Duration,
    /// Largest random time added to `latency` for each answer (uniform, drawn per answer);
    /// zero by default. `latency + latency_jitter` is capped at 600 s.
    pub latency_jitter: Duration,
    /// The resource's access key, base64 (as in a connection string): identity requests must
    /// be signed with it. [`DEFAULT_ACCESS_KEY`] by default.
    pub access_key: AccessKey,
}

pub use identity::DEFAULT_ACCESS_KEY;

/// An access key, base64. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey(String);

impl AccessKey {
    /// A key from its base64 text; `None` if it is not base64 or decodes to nothing.
    pub fn from_base64(text: &str) -> Option<AccessKey> {
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()?;
        (!decoded.is_empty()).then(|| AccessKey(text.trim().to_string()))
    }

    /// The key as base64.
    pub fn as_base64(&self) -> &str {
        &self.0
    }

    fn decoded(&self) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(&self.0)
            .unwrap_or_default()
    }
}

impl Default for AccessKey {
    fn default() -> Self {
        AccessKey(DEFAULT_ACCESS_KEY.to_string())
    }
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessKey(REDACTED)")
    }
}

impl Default for EmulatorConfig {
    /// `127.0.0.1:0`, limits on, plain HTTP, no latency.
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            limits: true,
            tls: None,
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
            access_key: AccessKey::default(),
        }
    }
}

/// A running emulator, serving on its own thread and tokio runtime.
///
/// Stopped by [`Emulator::shutdown`] or when dropped. `Emulator` is `Send` and `Sync`.
pub struct Emulator {
    addr: SocketAddr,
    https: bool,
    access_key: AccessKey,
    shared: Arc<state::Shared>,
    running: Mutex<Option<Running>>,
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

/// Connections the kernel may hold for the accept loop (capped by `net.core.somaxconn`), so
/// that thousands of clients connecting at once are not refused or made to retry their SYN.
const LISTEN_BACKLOG: u32 = 4096;

/// Binds a listening socket as `std::net::TcpListener::bind` does, with a deeper backlog.
/// Needs a tokio runtime context.
fn listen(addr: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Idle and header-read timeout of a connection when none is configured.
const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

impl Emulator {
    /// Binds the listening socket, loads the TLS files if any, and starts serving.
    ///
    /// Errors: the address cannot be bound, or the certificate or key cannot be read or used.
    pub fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        Self::start_with_header_timeout(config, DEFAULT_HEADER_TIMEOUT)
    }

    /// [`Emulator::start`] with another header-read (and keep-alive idle) timeout.
    #[doc(hidden)]
    pub fn start_with_header_timeout(
        config: EmulatorConfig,
        header_timeout: Duration,
    ) -> io::Result<Emulator> {
        let tls = match &config.tls {
            Some(files) => Some(server::load_tls(files)?),
            None => None,
        };
        let https = tls.is_some();
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 8);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("acs-chat-emulator")
            .enable_all()
            .build()?;
        let listener = {
            let _guard = runtime.enter();
            listen(config.listen)?
        };
        let addr = listener.local_addr()?;
        let shared = state::Shared::new(
            config.limits,
            (config.latency, config.latency_jitter),
            https,
            addr,
            config.access_key.decoded(),
        );
        let (stop, stop_rx) = tokio::sync::oneshot::channel();
        let opts = server::ServeOptions {
            tls,
            header_timeout,
        };
        let served = shared.clone();
        let thread = std::thread::Builder::new()
            .name("acs-chat-emulator-accept".into())
            .spawn(move || {
                runtime.block_on(server::serve(listener, served, opts, stop_rx));
                runtime.shutdown_background();
            })?;
        Ok(Emulator {
            addr,
            https,
            access_key: config.access_key,
            shared,
            running: Mutex::new(Some(Running { stop, thread })),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The connection string of this emulator's resource:
    /// `endpoint=http://ADDR/;accesskey=KEY`.
    pub fn connection_string(&self) -> String {
        format!(
            "endpoint={}/;accesskey={}",
            self.url(),
            self.access_key.as_base64()
        )
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sets the service latency, as `POST /_emulator/latency` with `{"ms":N}` does: every
    /// service call is handled on arrival and answered this long after. Capped at 600 s;
    /// calls already waiting keep the latency they started with. Clears the jitter.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.set_latency(latency, Duration::ZERO);
    }

    /// Sets the service latency and its jitter, as `POST /_emulator/latency` with
    /// `{"ms":N,"jitterMs":J}` does: each answer waits `latency` plus a uniform random time
    /// within `0..=jitter`. The sum is capped at 600 s (the jitter gives way first).
    pub fn set_latency_with_jitter(&self, latency: Duration, jitter: Duration) {
        self.shared.set_latency(latency, jitter);
    }

    /// The current service latency (the least wait of an answer).
    pub fn latency(&self) -> Duration {
        self.shared.latency().0
    }

    /// The current jitter: the largest random time added to the latency.
    pub fn latency_jitter(&self) -> Duration {
        self.shared.latency().1
    }

    /// Stops serving and closes every connection; returns once the server thread has ended.
    /// Calling it again does nothing.
    pub fn shutdown(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(running) = running {
            let _ = running.stop.send(());
            let _ = running.thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.url())
            .finish()
    }
}
