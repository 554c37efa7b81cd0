//! Helpers shared by the integration tests: an in-process emulator with its typed control
//! client, Rust clients of it, and (in `c`) the C API's setup and last-error readers.

#![allow(dead_code)]

pub mod c;

use std::sync::atomic::{AtomicU32, Ordering};

use acs_chat::{ChatClient, ClientOptions};
use acs_chat_emulator::{ControlClient, Emulator, EmulatorConfig, Event, Fault, LoggedRequest};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Default options with short retry delays (10 ms up to 200 ms).
pub fn fast_options() -> ClientOptions {
    let mut o = ClientOptions::new();
    o.set_retry_delay(
        std::time::Duration::from_millis(10),
        std::time::Duration::from_millis(200),
    )
    .unwrap();
    o
}

/// A client of `env` with a fresh token.
pub fn client(env: &Env, options: &ClientOptions) -> ChatClient {
    ChatClient::new(&env.url, &env.token(), options).expect("client")
}

/// The start of most tests: an emulator (limits on), a client of it with
/// [`fast_options`], and a fresh thread id.
pub fn setup(name: &str) -> (Env, ChatClient, String) {
    let env = start();
    let c = client(&env, &fast_options());
    (env, c, thread_id(name))
}

/// An emulator with the service limits off, and a fresh thread id.
pub fn start_unlimited_on(name: &str) -> (Env, String) {
    (start_unlimited(), thread_id(name))
}

/// A running emulator, its base URL and its control client.
pub struct Env {
    pub emulator: Emulator,
    pub url: String,
    pub control: ControlClient,
}

/// Starts an emulator with the service limits on.
pub fn start() -> Env {
    start_with(EmulatorConfig::default())
}

/// Starts an emulator with the service limits off.
pub fn start_unlimited() -> Env {
    start_with(EmulatorConfig {
        limits: false,
        ..EmulatorConfig::default()
    })
}

fn start_with(config: EmulatorConfig) -> Env {
    Env::new(Emulator::start(config).expect("emulator starts"))
}

/// A thread id unique to this process.
pub fn thread_id(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "19:{name}-{}@thread.v2",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Bytes left as they are in a path segment: letters, digits and `-._~`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a thread id as one path segment.
pub fn encode(id: &str) -> String {
    utf8_percent_encode(id, SEGMENT).to_string()
}

impl Env {
    /// `emulator`, with its URL and control client.
    pub fn new(emulator: Emulator) -> Env {
        Env {
            url: emulator.url(),
            control: emulator.control(),
            emulator,
        }
    }

    /// A token for `user` valid for `expires_in` seconds (negative: expired).
    pub fn token_for(&self, user: &str, expires_in: i64) -> String {
        token_for(&self.control, user, expires_in)
    }

    /// A token valid for an hour.
    pub fn token(&self) -> String {
        self.token_for("user1", 3600)
    }

    /// Queues a fault.
    pub fn fault(&self, fault: Fault) {
        self.control.fault(&fault).expect("fault queued");
    }

    /// The thread's accepted events.
    pub fn events(&self, thread: &str) -> Vec<Event> {
        self.control.events(thread).expect("events")
    }

    /// Every request that reached the thread's routes.
    pub fn requests(&self, thread: &str) -> Vec<LoggedRequest> {
        self.control.requests(thread).expect("request log")
    }

    /// Turns the service limits on or off.
    pub fn set_limits(&self, enabled: bool) {
        assert_eq!(self.control.set_limits(enabled).expect("limits"), enabled);
    }
}

/// A token of `control`'s emulator for `user`, valid for `expires_in` seconds.
pub fn token_for(control: &ControlClient, user: &str, expires_in: i64) -> String {
    let options = acs_chat_emulator::TokenOptions::new()
        .user(user)
        .expires_in(expires_in);
    control.token(&options).expect("token").token
}
