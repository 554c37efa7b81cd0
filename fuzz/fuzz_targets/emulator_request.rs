//! The emulator's request handling (HTTP head, routes, percent-decoding,
//! query, token and JSON body validation, the control API), fed over a
//! loopback socket to an in-process emulator. Properties: every answer is a
//! well-formed HTTP/1.x status line with a status the emulator uses, never a
//! 5xx of its own, and the emulator keeps serving.
//!
//! Input: first byte 0 sends the rest as raw bytes; any other first byte
//! sends `POST /chat/threads/<A>/<op>?api-version=2025-03-15` with a valid
//! token, where the rest is `A` NUL `BODY`.
#![no_main]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use acs_chat_emulator::{Emulator, EmulatorConfig};
use libfuzzer_sys::fuzz_target;

/// A token the emulator accepts until 2100 (`{"exp":4102444800,"sub":"fuzz"}`).
const TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImZ1enoifQ.c2ln";
const LONG: Duration = Duration::from_secs(10);
const OPS: [&str; 3] = ["messages", "typing", "readReceipts"];

fn emulator() -> SocketAddr {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR
        .get_or_init(|| {
            Emulator::start_with_header_timeout(
                EmulatorConfig::default(),
                Duration::from_millis(500),
            )
            .expect("emulator starts")
        })
        .addr()
}

/// Sends `request` and returns what came back (`None` when the emulator is
/// still busy after `timeout`). A request that gets no answer within `patience`
/// (an incomplete one, say) is ended by closing the write side.
fn exchange(
    addr: SocketAddr,
    request: &[u8],
    patience: Duration,
    timeout: Duration,
) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).expect("the emulator accepts connections");
    stream.set_write_timeout(Some(timeout)).unwrap();
    // The emulator may answer (and close) before reading everything.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    let mut closed_write = false;
    stream.set_read_timeout(Some(patience)).unwrap();
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(answer),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if closed_write {
                    return None;
                }
                // Hyper closes a connection whose client closed its write side.
                let _ = stream.shutdown(Shutdown::Write);
                stream.set_read_timeout(Some(timeout)).unwrap();
                closed_write = true;
            }
            Err(_) => return Some(answer),
        }
    }
}

/// Checks the first status line in `answer`.
fn check_answer(answer: &[u8]) {
    if answer.is_empty() {
        return; // closed without an answer: allowed for malformed input
    }
    // HTTP/1.0 requests get HTTP/1.0 answers.
    assert!(
        answer.starts_with(b"HTTP/1.1 ") || answer.starts_with(b"HTTP/1.0 "),
        "{:?}",
        String::from_utf8_lossy(answer)
    );
    let status: u16 = std::str::from_utf8(&answer[9..12.min(answer.len())])
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("a numeric status");
    assert!((200..500).contains(&status), "status {status}");
}

fn post(addr: SocketAddr, path: &str, body: &[u8], token: &str) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Sends one of the harness's own well-formed requests. Each run opens a few
/// connections, so long runs cycle through loopback ports quickly and a new
/// connection now and then meets the remains of an old one with the same
/// ports and is reset before any answer: such an empty answer is retried. A
/// server that stopped answering still fails after the last try.
fn harness_request(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    for _ in 0..4 {
        match exchange(addr, request, LONG, LONG) {
            Some(answer) if answer.is_empty() => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Some(answer) => return answer,
            None => panic!("the emulator is still busy after {LONG:?}"),
        }
    }
    exchange(addr, request, LONG, LONG).expect("the emulator answers")
}

fn alive(addr: SocketAddr) {
    static N: AtomicU64 = AtomicU64::new(0);
    let thread = format!("live-{}", N.fetch_add(1, Ordering::Relaxed));
    let request = post(
        addr,
        &format!("/chat/threads/{thread}/typing?api-version=2025-03-15"),
        b"{}",
        TOKEN,
    );
    let answer = harness_request(addr, &request);
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
}

fn reset(addr: SocketAddr) {
    let request = post(addr, "/_emulator/reset", b"", TOKEN);
    let answer = harness_request(addr, &request);
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
}

fuzz_target!(|data: &[u8]| {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let addr = emulator();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let request = if mode == 0 {
        rest.to_vec()
    } else {
        let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let (segment, body) = (&rest[..split], rest.get(split + 1..).unwrap_or(&[]));
        let segment: String = segment
            .iter()
            .map(|&b| match b {
                b'!'..=b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let op = OPS[mode as usize % 3];
        post(
            addr,
            &format!("/chat/threads/{segment}/{op}?api-version=2025-03-15"),
            body,
            TOKEN,
        )
    };
    if let Some(answer) = exchange(
        addr,
        &request,
        Duration::from_millis(50),
        Duration::from_secs(2),
    ) {
        check_answer(&answer);
    }
    // Faults or limits the input may have set must not leak into later runs.
    reset(addr);
    if RUNS.fetch_add(1, Ordering::Relaxed).is_multiple_of(256) {
        alive(addr);
    }
});
