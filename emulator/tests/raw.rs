//! Malformed, slow and half-closed clients on raw sockets: the emulator answers or closes,
//! and keeps serving.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use acs_chat_emulator::{Emulator, EmulatorConfig};
use common::*;
use serde_json::json;

fn connect(emu: &Emulator) -> TcpStream {
    let stream = TcpStream::connect(emu.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Everything the server sends until it closes (or resets) the connection.
fn read_all(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn still_serves(emu: &Emulator) {
    let url = emu.url();
    let tok = token(&url);
    assert_eq!(
        call(&client(), &url, "alive", "typing", &tok, "{}").status(),
        200
    );
}

fn raw_post(emu: &Emulator, target: &str, token: &str, body: &str) -> String {
    let mut s = connect(emu);
    write!(
        s,
        "POST {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    read_all(&mut s)
}

#[test]
fn garbage_and_truncated_heads_do_not_hurt_the_server() {
    let emu = start();
    for junk in [
        "\x00\x01\x02garbage\r\n\r\n",
        "GET\r\n\r\n",
        "POST /chat/threads/t/messages HTTP/9.9\r\n\r\n",
        "POST /chat/threads/t/messages HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST /chat/threads/t/messages HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "POST /chat/threads/t/messages HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST /chat/threads/t/mess",
    ] {
        let mut s = connect(&emu);
        s.write_all(junk.as_bytes()).unwrap();
        let _ = s.shutdown(Shutdown::Write);
        let answer = read_all(&mut s);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{junk:?} -> {answer}");
    }
    still_serves(&emu);
}

#[test]
fn raw_requests_with_encoded_and_odd_targets() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let answer = raw_post(
        &emu,
        "/chat/threads/19%3Aabc%40thread.v2/messages?api-version=2024-03-07",
        &tok,
        r#"{"content":"raw"}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("location: http://x/chat/threads/19%3aabc%40thread.v2/messages/"),
        "{answer}"
    );
    assert_eq!(events(&url, "19:abc@thread.v2").len(), 1);
    // An unencoded '/' makes a different route.
    let answer = raw_post(
        &emu,
        "/chat/threads/a/b/messages?api-version=2024-03-07",
        &tok,
        r#"{"content":"raw"}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    // Absolute-form target.
    let target = format!("{url}/chat/threads/abs/typing?api-version=2024-03-07");
    let answer = raw_post(&emu, &target, &tok, "{}");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Unknown method on a service route.
    let mut s = connect(&emu);
    s.write_all(b"BREW /chat/threads/t/typing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let answer = read_all(&mut s);
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("allow: post"),
        "{answer}"
    );
    // Missing Host header: the Location falls back to the listening address.
    let mut s = connect(&emu);
    let body = r#"{"content":"nohost"}"#;
    write!(s, "POST /chat/threads/nohost/messages?api-version=2024-03-07 HTTP/1.1\r\nAuthorization: Bearer {tok}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let answer = read_all(&mut s);
    assert!(
        answer.contains(&format!("{url}/chat/threads/nohost/messages/")),
        "{answer}"
    );
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token(&url);
    let mut s = connect(&emu);
    let body = r#"{"content":"ka"}"#;
    let mut buf = vec![0u8; 4096];
    for _ in 0..20 {
        write!(s, "POST /chat/threads/ka/messages?api-version=2024-03-07 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        let n = s.read(&mut buf).unwrap();
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    }
    assert_eq!(events(&url, "ka").len(), 20);
}

#[test]
fn oversized_chunked_upload_is_refused_while_reading() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let mut s = connect(&emu);
    write!(s, "POST /chat/threads/chunk/messages?api-version=2024-03-07 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    let chunk = vec![b' '; 64 * 1024];
    // Write 1.5 MiB in chunks; the server may stop reading once it has refused.
    for _ in 0..24 {
        if write!(s, "{:x}\r\n", chunk.len()).is_err()
            || s.write_all(&chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let answer = read_all(&mut s);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // A declared length over the limit is refused before any body byte.
    let mut s = connect(&emu);
    write!(s, "POST /chat/threads/chunk/messages?api-version=2024-03-07 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n").unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 413"));
    assert!(events(&url, "chunk").is_empty());
    still_serves(&emu);
}

#[test]
fn oversized_declared_body_is_read_before_the_413_and_the_connection_kept() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let mut s = connect(&emu);
    let big = vec![b' '; 10 << 20];
    write!(s, "POST /chat/threads/drain/messages?api-version=2024-03-07 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", big.len()).unwrap();
    // The whole upload goes through: the server reads what it refuses.
    s.write_all(&big).unwrap();
    let mut head = vec![0u8; 4096];
    let n = s.read(&mut head).unwrap();
    let answer = String::from_utf8_lossy(&head[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // The same connection then serves the next request.
    let body = r#"{"content":"after"}"#;
    write!(s, "POST /chat/threads/drain/messages?api-version=2024-03-07 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let rest = read_all(&mut s);
    assert!(rest.contains("HTTP/1.1 201"), "{rest}");
    assert_eq!(events(&url, "drain").len(), 1);
}

#[test]
fn slow_clients_are_cut_off_by_the_header_timeout() {
    let emu =
        Emulator::start_with_header_timeout(EmulatorConfig::default(), Duration::from_millis(300))
            .unwrap();
    let mut s = connect(&emu);
    s.write_all(b"POST /chat/threads/slow/typing HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let t0 = Instant::now();
    let answer = read_all(&mut s);
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "closed by the timeout"
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // A silent connection does not block others meanwhile.
    let _idle = connect(&emu);
    still_serves(&emu);
}

#[test]
fn half_closed_and_vanishing_clients() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    // Full request, then the client closes its sending side.
    let mut s = connect(&emu);
    write!(s, "POST /chat/threads/half/typing?api-version=2024-03-07 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let answer = read_all(&mut s);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    // Head sent, body promised but never sent, connection closed.
    {
        let mut s = connect(&emu);
        write!(s, "POST /chat/threads/half/messages?api-version=2024-03-07 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"content\"").unwrap();
    }
    // Many connections opened and dropped at once.
    let conns: Vec<TcpStream> = (0..200).map(|_| connect(&emu)).collect();
    drop(conns);
    still_serves(&emu);
    let log = requests(&url, "half");
    assert!(
        log.iter().all(|r| r["status"] == 200 || r["status"] == 0),
        "{log:?}"
    );
}

#[test]
fn drop_faults_close_raw_connections_without_a_byte() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    add_fault(
        &url,
        json!([{"threadId": "rd", "action": "drop"}, {"threadId": "rd", "action": "dropBeforeBody"}]),
    );
    for _ in 0..2 {
        let answer = raw_post(
            &emu,
            "/chat/threads/rd/typing?api-version=2024-03-07",
            &tok,
            "{}",
        );
        assert!(answer.is_empty(), "{answer}");
    }
    let log = requests(&url, "rd");
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|r| r["status"] == 0 && r["fault"] == true));
    still_serves(&emu);
}
