//! Helpers shared by the integration tests: a blocking HTTP client, request shortcuts (raw,
//! as the control API's wire format is under test; tokens through the typed control client),
//! and the emulator binary run as a child process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use acs_chat_emulator::{ControlClient, Emulator, EmulatorConfig, TokenOptions};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use reqwest::blocking::{Client, Response};
use serde_json::Value;

pub const API: &str = "2025-03-15";

pub const BIN: &str = env!("CARGO_BIN_EXE_acs-chat-emulator");

pub fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default()).expect("emulator starts")
}

pub fn start_without_limits() -> Emulator {
    Emulator::start(EmulatorConfig {
        limits: false,
        ..EmulatorConfig::default()
    })
    .expect("emulator starts")
}

/// Makes ring the process's TLS provider, as reqwest is built here without one.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn client() -> Client {
    install_crypto();
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client builds")
}

/// A thread id as one percent-encoded path segment.
pub fn enc(thread_id: &str) -> String {
    utf8_percent_encode(thread_id, NON_ALPHANUMERIC).to_string()
}

/// A token for `user`, valid for an hour, minted through the typed control client.
pub fn token_for(url: &str, user: &str) -> String {
    let control = ControlClient::new(url).expect("plain HTTP emulator URL");
    let token = control.token(&TokenOptions::new().user(user));
    token.expect("token minted").token
}

pub fn token(url: &str) -> String {
    token_for(url, "8:acs:tester")
}

pub fn get_json(url: &str) -> Value {
    let resp = client().get(url).send().expect("GET succeeds");
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.json().expect("JSON body")
}

pub fn post_json(url: &str, body: &Value) -> Response {
    client()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .expect("POST succeeds")
}

/// POST to a service route with a valid api-version, a bearer token and a JSON body.
pub fn call(c: &Client, url: &str, thread_id: &str, op: &str, token: &str, body: &str) -> Response {
    c.post(format!(
        "{url}/chat/threads/{}/{op}?api-version={API}",
        enc(thread_id)
    ))
    .bearer_auth(token)
    .header("content-type", "application/json")
    .header("accept", "application/json")
    .body(body.to_string())
    .send()
    .expect("request answered")
}

/// The thread's events as the control API's JSON (the wire format these tests check; see
/// `ControlClient::events` for typed ones).
pub fn events(url: &str, thread_id: &str) -> Vec<Value> {
    let body = get_json(&format!(
        "{url}/_emulator/threads/{}/events",
        enc(thread_id)
    ));
    body["events"].as_array().expect("events array").clone()
}

/// The thread's request log as the control API's JSON.
pub fn requests(url: &str, thread_id: &str) -> Vec<Value> {
    let body = get_json(&format!(
        "{url}/_emulator/threads/{}/requests",
        enc(thread_id)
    ));
    body["requests"].as_array().expect("requests array").clone()
}

pub fn add_fault(url: &str, fault: Value) {
    let resp = post_json(&format!("{url}/_emulator/faults"), &fault);
    assert_eq!(resp.status(), 200, "fault accepted: {fault}");
}

/// Status and parsed error body of a response that must carry a CommunicationErrorResponse.
pub fn error_of(resp: Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    assert_common_headers(resp.headers());
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: Value = resp.json().expect("error body is JSON");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_string();
    let message = body["error"]["message"]
        .as_str()
        .expect("error.message")
        .to_string();
    (status, code, message)
}

/// MS-CV (22 base64 characters and ".0") and api-supported-versions.
pub fn assert_common_headers(headers: &reqwest::header::HeaderMap) {
    let cv = headers
        .get("ms-cv")
        .expect("MS-CV present")
        .to_str()
        .unwrap();
    assert_eq!(cv.len(), 24, "{cv}");
    assert!(cv.ends_with(".0"), "{cv}");
    let versions = headers
        .get("api-supported-versions")
        .expect("api-supported-versions present")
        .to_str()
        .unwrap();
    assert!(versions.contains("2025-03-15") && versions.contains("2021-03-07"));
}

/// The emulator binary, running; killed when dropped if still running.
pub struct Spawned {
    pub child: Child,
    pub url: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts the binary with `args` and reads the URL from its first stdout line.
pub fn spawn(args: &[&str]) -> Spawned {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    Spawned { child, url }
}

/// Sends `signal` (e.g. `-TERM`) and checks the binary exits with status 0 within 10 s.
pub fn signal_and_wait(mut spawned: Spawned, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &spawned.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = spawned.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0), "exits 0 on {signal}");
            return;
        }
        if Instant::now() > deadline {
            panic!("still running after {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A client without a total timeout, for event streams that stay open.
pub fn stream_client() -> Client {
    install_crypto();
    Client::builder()
        .no_proxy()
        .timeout(None)
        .build()
        .expect("client builds")
}

/// The frames of an open `/_emulator/stream`, read on a thread of their own.
pub struct Feed {
    rx: std::sync::mpsc::Receiver<Value>,
}

impl Feed {
    pub fn open(c: &Client, url: &str) -> Feed {
        let resp = c
            .get(format!("{url}/_emulator/stream"))
            .send()
            .expect("the stream opens");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut data = String::new();
            for line in BufReader::new(resp).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("data: ") {
                    data.push_str(rest);
                } else if line.is_empty() && !data.is_empty() {
                    let value: Value = serde_json::from_str(&data).expect("a JSON frame");
                    data.clear();
                    if tx.send(value).is_err() {
                        break;
                    }
                }
            }
        });
        Feed { rx }
    }

    /// The next frame, waiting at most 10 s.
    pub fn next(&self) -> Value {
        self.rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a frame within 10 s")
    }

    /// The next frame whose `kind` is not `faults` (the pending-fault count).
    pub fn next_change(&self) -> Value {
        loop {
            let frame = self.next();
            if frame["kind"] != "faults" {
                return frame;
            }
        }
    }

    /// Whether the stream ends within `within` (frames before the end are skipped).
    pub fn ends_within(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(_) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return false,
            }
        }
    }
}
