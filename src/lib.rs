//! Native client for Azure Communication Services Chat: send messages,
//! typing notifications and read receipts, from Rust or, through the C API
//! in [`ffi`] (`include/acs_chat.h`), from C, C++, Python and .NET.
//!
//! The Rust API is safe: [`ChatClient::new`] with a [`ClientOptions`], then
//! [`ChatClient::send_message`], [`ChatClient::send_typing`] and
//! [`ChatClient::send_read_receipt`]. Every failure is an [`Error`] whose
//! [`Error::result_code`] is the stable code the C API returns.
//!
//! ```
//! use acs_chat::{ChatClient, ClientOptions, MessageOptions};
//! # fn main() -> Result<(), acs_chat::Error> {
//! # // The bundled emulator stands in for an ACS resource; it takes any
//! # // JWT whose exp has not passed.
//! # let emulator = acs_chat_emulator::Emulator::start(Default::default()).unwrap();
//! # let endpoint = emulator.url();
//! # let token = "eyJhbGciOiJub25lIn0.eyJleHAiOjQwMDAwMDAwMDB9.c2ln";
//! // endpoint: "https://NAME.communication.azure.com"; token: a user access token
//! let client = ChatClient::new(&endpoint, token, &ClientOptions::new())?;
//! let id = client.send_message("19:abc@thread.v2", "hello", &MessageOptions::new())?;
//! client.send_read_receipt("19:abc@thread.v2", &id)?;
//! # Ok(())
//! # }
//! ```
//!
//! Each call has a blocking form and an `_async` twin that returns a future
//! any executor can await:
//!
//! ```
//! # fn main() -> Result<(), acs_chat::Error> {
//! # let emulator = acs_chat_emulator::Emulator::start(Default::default()).unwrap();
//! # let token = "eyJhbGciOiJub25lIn0.eyJleHAiOjQwMDAwMDAwMDB9.c2ln";
//! # let client = acs_chat::ChatClient::new(&emulator.url(), token, &Default::default())?;
//! # let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # runtime.block_on(async {
//! let id = client
//!     .send_message_async("19:abc@thread.v2", "hello", &acs_chat::MessageOptions::new())
//!     .await?;
//! client.send_typing_async("19:abc@thread.v2", Some("Ada")).await?;
//! # assert!(!id.is_empty());
//! # Ok(())
//! # })
//! # }
//! ```
//!
//! One I/O runtime with a fixed number of threads (`ACS_CHAT_IO_THREADS`,
//! default 2) serves every client of the process: a call in flight costs a
//! socket and a little memory, never a thread. A blocking call polls its
//! request on the calling thread; clients with the same TLS settings share one
//! connection pool. The runtime survives `fork()` (a child gets its own) and
//! process exit (no completion callback runs once exit has begun).

// The safe core. These modules are private (their public items are
// re-exported below) and skipped by cbindgen: only `ffi` makes the C API.
/// cbindgen:ignore
mod client;
/// cbindgen:ignore
mod credential;
/// cbindgen:ignore
mod error;
/// cbindgen:ignore
mod http;
/// cbindgen:ignore
mod identity;
/// cbindgen:ignore
mod log;
/// cbindgen:ignore
mod model;

pub mod ffi;

// Only with the `fuzzing` feature, which only fuzz/ turns on.
/// cbindgen:ignore
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use client::{
    ChatClient, ClientOptions, DEFAULT_API_VERSION, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS_PER_ORIGIN, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_DELAY,
    DEFAULT_RETRY_DELAY, DEFAULT_TIMEOUT, MAX_APPLICATION_ID_LEN, MAX_CONNECTIONS_PER_ORIGIN_LIMIT,
    MAX_RETRIES_LIMIT,
};
pub use credential::{
    jwt_expiry, RefreshError, TokenRefresher, MIN_REFRESH_INTERVAL, ON_DEMAND_WINDOW,
    PROACTIVE_WINDOW,
};
pub use error::{Error, FailureDetails, ResultCode};
pub use http::transport::MAX_RESPONSE_BODY;
pub use identity::{IDENTITY_API_VERSION, IDENTITY_TOKEN_MINUTES};
pub use log::{set_logger, LogCallback, LogLevel};
pub use model::{MessageOptions, MessageType};
