//! The settings of a client, their defaults and limits, and what the client
//! makes of them (its User-Agent, its extra root certificates).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use once_cell::sync::Lazy;
use reqwest::header::HeaderValue;

use crate::credential::TokenRefresher;
use crate::error::{one_line, Error, Result};

// The header has these as ACS_DEFAULT_* and ACS_MAX_* macros
// (`crate::ffi::constants`).
/// The api-version sent when none is set.
pub const DEFAULT_API_VERSION: &str = "2025-03-15";
/// Default per-try timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Largest accepted number of retries.
pub const MAX_RETRIES_LIMIT: u32 = 10;
/// Default base of the exponential back-off.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(800);
/// Default cap of a retry delay.
pub const DEFAULT_MAX_RETRY_DELAY: Duration = Duration::from_secs(60);
/// Longest accepted application id.
pub const MAX_APPLICATION_ID_LEN: usize = 24;
/// Default bound on requests in flight to one origin over HTTP/1.1.
pub const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN: u32 = 100;
/// Largest accepted bound on requests in flight to one origin.
pub const MAX_CONNECTIONS_PER_ORIGIN_LIMIT: u32 = 65_536;

/// Settings of a [`ChatClient`](crate::ChatClient). Setters validate their values.
#[derive(Clone)]
pub struct ClientOptions {
    pub(super) api_version: String,
    pub(super) timeout: Option<Duration>,
    pub(super) connect_timeout: Duration,
    pub(super) max_retries: u32,
    pub(super) retry_delay: Duration,
    pub(super) max_retry_delay: Duration,
    pub(super) application_id: Option<String>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) allow_insecure_http: bool,
    pub(super) token_refresher: Option<Arc<dyn TokenRefresher>>,
    pub(super) proactive_refresh: bool,
    pub(super) total_timeout: Option<Duration>,
    pub(super) max_connections_per_origin: u32,
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

impl ClientOptions {
    /// The User-Agent header: the library's, after the application id if set.
    pub(super) fn user_agent_header(&self) -> Result<HeaderValue> {
        match self.application_id.as_deref() {
            None => Ok(DEFAULT_USER_AGENT.clone()),
            Some(app) => HeaderValue::try_from(user_agent(Some(app))).map_err(|_| {
                Error::InvalidArgument("application_id is not a valid header value".into())
            }),
        }
    }

    /// The `ca_file`'s path and contents, read now; `None` without one.
    pub(super) fn read_ca_file(&self) -> Result<Option<(PathBuf, Vec<u8>)>> {
        let Some(path) = &self.ca_file else {
            return Ok(None);
        };
        let pem = std::fs::read(path).map_err(|e| {
            Error::InvalidArgument(format!(
                "ca_file {} cannot be read: {}",
                path.display(),
                one_line(&e.to_string())
            ))
        })?;
        Ok(Some((path.clone(), pem)))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
