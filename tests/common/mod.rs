//! Helpers shared by the integration tests: an in-process emulator and a
//! tiny HTTP/1.1 client for its control API.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU32, Ordering};

use acs_chat::{ChatClient, ClientOptions};
use acs_chat_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

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

/// A running emulator and its base URL.
pub struct Env {
    pub emulator: Emulator,
    pub url: String,
}

/// Starts an emulator with the service limits on.
pub fn start() -> Env {
    let emulator = Emulator::start(EmulatorConfig::default()).expect("emulator starts");
    let url = emulator.url();
    Env { emulator, url }
}

/// Starts an emulator with the service limits off.
pub fn start_unlimited() -> Env {
    let config = EmulatorConfig {
        limits: false,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).expect("emulator starts");
    let url = emulator.url();
    Env { emulator, url }
}

/// A thread id unique to this process.
pub fn thread_id(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "19:{name}-{}@thread.v2",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Percent-encodes a thread id as one path segment (for the control API).
pub fn encode(id: &str) -> String {
    let mut out = String::new();
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One HTTP/1.1 request with `Connection: close`; returns status and body.
pub fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(host).expect("connect to emulator");
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

pub fn json(method: &str, url: &str, body: Option<&str>) -> Value {
    let (status, text) = http(method, url, body);
    assert_eq!(status, 200, "{method} {url}: {text}");
    serde_json::from_str(&text).expect("control API answers JSON")
}

impl Env {
    /// A token for `user` valid for `expires_in` seconds (negative: expired).
    pub fn token_for(&self, user: &str, expires_in: i64) -> String {
        let v = json(
            "GET",
            &format!(
                "{}/_emulator/token?expires_in={expires_in}&user={user}",
                self.url
            ),
            None,
        );
        v["token"].as_str().unwrap().to_owned()
    }

    /// A token valid for an hour.
    pub fn token(&self) -> String {
        self.token_for("user1", 3600)
    }

    /// Queues a fault (JSON object or array).
    pub fn fault(&self, spec: Value) {
        json(
            "POST",
            &format!("{}/_emulator/faults", self.url),
            Some(&spec.to_string()),
        );
    }

    /// The thread's accepted events.
    pub fn events(&self, thread: &str) -> Vec<Value> {
        let v = json(
            "GET",
            &format!("{}/_emulator/threads/{}/events", self.url, encode(thread)),
            None,
        );
        v["events"].as_array().cloned().unwrap_or_default()
    }

    /// Every request that reached the thread's routes.
    pub fn requests(&self, thread: &str) -> Vec<Value> {
        let v = json(
            "GET",
            &format!("{}/_emulator/threads/{}/requests", self.url, encode(thread)),
            None,
        );
        v["requests"].as_array().cloned().unwrap_or_default()
    }

    /// Turns the service limits on or off.
    pub fn set_limits(&self, enabled: bool) {
        json(
            "POST",
            &format!("{}/_emulator/limits", self.url),
            Some(&format!(r#"{{"enabled":{enabled}}}"#)),
        );
    }
}
