//! Defaults and limits of the client options, as header constants.
//!
//! These are the one place the values are written: the Rust core's
//! `DEFAULT_*` and `*_LIMIT` constants are made from them, and the Python
//! and C# bindings take them from the header.

/// Per-try timeout, in milliseconds, when none is set.
pub const ACS_DEFAULT_TIMEOUT_MS: u32 = 30_000;
/// Connect timeout, in milliseconds, when none is set.
pub const ACS_DEFAULT_CONNECT_TIMEOUT_MS: u32 = 10_000;
/// Retries after the first attempt when none is set.
pub const ACS_DEFAULT_MAX_RETRIES: u32 = 3;
/// Largest number of retries `acs_client_options_set_max_retries` accepts.
pub const ACS_MAX_RETRIES: u32 = 10;
/// Base of the exponential retry back-off, in milliseconds, when none is set.
pub const ACS_DEFAULT_RETRY_DELAY_MS: u32 = 800;
/// Longest retry delay, in milliseconds, when none is set.
pub const ACS_DEFAULT_MAX_RETRY_DELAY_MS: u32 = 60_000;
/// Longest application id, in bytes, `acs_client_options_set_application_id` accepts.
pub const ACS_MAX_APPLICATION_ID_LEN: u32 = 24;
/// Requests in flight to one origin over HTTP/1.1 when no bound is set.
pub const ACS_DEFAULT_MAX_CONNECTIONS_PER_ORIGIN: u32 = 100;
/// Largest bound `acs_client_options_set_max_connections_per_origin` accepts.
pub const ACS_MAX_CONNECTIONS_PER_ORIGIN: u32 = 65_536;
