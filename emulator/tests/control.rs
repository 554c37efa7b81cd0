//! The control API: tokens, request log, reset, and every kind of scripted fault.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use serde_json::{json, Value};

const MSG: &str = r#"{"content":"hi"}"#;

#[test]
fn token_endpoint_mints_unsigned_jwts() {
    let emu = start();
    let url = emu.url();
    let body = get_json(&format!(
        "{url}/_emulator/token?user=8%3Aacs%3Azed&expires_in=120"
    ));
    let token = body["token"].as_str().unwrap();
    assert_eq!(body["user"], "8:acs:zed");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(payload["skypeid"], "8:acs:zed");
    assert_eq!(payload["exp"], body["expiresOn"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let exp = body["expiresOn"].as_i64().unwrap();
    assert!((now + 115..=now + 125).contains(&exp), "{exp} vs {now}");

    let default = get_json(&format!("{url}/_emulator/token"));
    let exp = default["expiresOn"].as_i64().unwrap();
    assert!((now + 3590..=now + 3610).contains(&exp));
    assert!(default["user"].as_str().unwrap().starts_with("acs:"));

    let expired = get_json(&format!("{url}/_emulator/token?expires_in=-30"));
    assert!(expired["expiresOn"].as_i64().unwrap() < now);

    let resp = client()
        .get(format!("{url}/_emulator/token?expires_in=soon"))
        .send()
        .unwrap();
    assert_eq!(error_of(resp).0, 400);
}

#[test]
fn request_log_records_every_call_without_the_token() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    let resp = c
        .post(format!(
            "{url}/chat/threads/log/messages?api-version=2024-03-07"
        ))
        .bearer_auth(&tok)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("x-ms-client-request-id", "abc-123")
        .header("user-agent", "azsdk-test/1.0")
        .body(MSG)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    // Unauthenticated, wrong method, and a bare token without a scheme.
    c.post(format!("{url}/chat/threads/log/typing?api-version={API}"))
        .body("{}")
        .send()
        .unwrap();
    c.get(format!("{url}/chat/threads/log/readReceipts"))
        .send()
        .unwrap();
    c.post(format!("{url}/chat/threads/log/typing?api-version={API}"))
        .header("authorization", tok.clone())
        .send()
        .unwrap();

    let text = c
        .get(format!("{url}/_emulator/threads/log/requests"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!text.contains(&tok), "the token never reaches the log");
    let log: Value = serde_json::from_str(&text).unwrap();
    let log = log["requests"].as_array().unwrap();
    assert_eq!(log.len(), 4);
    let first = &log[0];
    assert_eq!(first["op"], "messages");
    assert_eq!(first["status"], 201);
    assert_eq!(first["authorization"], "Bearer");
    assert_eq!(first["apiVersion"], "2024-03-07");
    assert_eq!(first["contentType"], "application/json");
    assert_eq!(first["accept"], "application/json");
    assert_eq!(first["clientRequestId"], "abc-123");
    assert_eq!(first["userAgent"], "azsdk-test/1.0");
    assert_eq!(first["fault"], false);
    assert_eq!(first["httpVersion"], "HTTP/1.1");
    assert!(first["connection"].as_u64().unwrap() >= 1);
    assert!(first["atMs"].as_f64().unwrap() > 0.0);
    assert!(first["doneMs"].as_f64().unwrap() >= first["atMs"].as_f64().unwrap());
    assert_eq!(log[1]["op"], "typing");
    assert_eq!(log[1]["status"], 401);
    assert_eq!(log[1]["authorization"], "none");
    assert_eq!(log[2]["op"], "readReceipts");
    assert_eq!(log[2]["status"], 405);
    assert_eq!(log[2]["method"], "GET");
    assert_eq!(log[2]["apiVersion"], Value::Null);
    assert_eq!(log[3]["authorization"], "invalid");
    let times: Vec<f64> = log.iter().map(|r| r["atMs"].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    // Unknown threads have empty logs.
    assert_eq!(requests(&url, "nothing-here").len(), 0);
}

/// Sends a typing call on `s` and reads its answer, leaving the connection open unless the
/// request is HTTP/1.0.
fn raw_typing(s: &mut TcpStream, version: &str, tok: &str) -> String {
    write!(
        s,
        "POST /chat/threads/conn/typing?api-version={API} {version}\r\nHost: x\r\n\
         Authorization: Bearer {tok}\r\nContent-Type: application/json\r\n\
         Content-Length: 2\r\n\r\n{{}}"
    )
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn request_log_numbers_connections_in_accept_order_and_names_the_http_version() {
    let emu = start();
    let url = emu.url();
    // Connection 1.
    let tok = token(&url);
    let connect = || {
        let s = TcpStream::connect(emu.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    };
    let mut second = connect();
    let mut third = connect();
    // Both accepted before anything is sent on them: numbered in connect order.
    for _ in 0..2 {
        let answer = raw_typing(&mut third, "HTTP/1.1", &tok);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let answer = raw_typing(&mut second, "HTTP/1.1", &tok);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answer = raw_typing(&mut connect(), "HTTP/1.0", &tok);
    assert!(answer.contains(" 200 "), "{answer}");
    let log = requests(&url, "conn");
    let seen: Vec<(u64, &str)> = log
        .iter()
        .map(|r| {
            (
                r["connection"].as_u64().unwrap(),
                r["httpVersion"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (3, "HTTP/1.1"),
            (3, "HTTP/1.1"),
            (2, "HTTP/1.1"),
            (4, "HTTP/1.0")
        ]
    );
    // Each emulator counts its own connections.
    let other = start();
    let other_url = other.url();
    let other_tok = token(&other_url);
    assert_eq!(
        call(&client(), &other_url, "conn", "typing", &other_tok, "{}").status(),
        200
    );
    assert_eq!(requests(&other_url, "conn")[0]["connection"], 2);
}

#[test]
fn reset_clears_events_requests_and_faults() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    assert_eq!(call(&c, &url, "r", "messages", &tok, MSG).status(), 201);
    add_fault(&url, json!({"threadId": "r", "status": 500, "count": 3}));
    assert_eq!(get_json(&format!("{url}/_emulator/faults"))["pending"], 3);
    let resp = post_json(&format!("{url}/_emulator/reset"), &json!({}));
    assert_eq!(resp.status(), 200);
    assert!(events(&url, "r").is_empty());
    assert!(requests(&url, "r").is_empty());
    assert_eq!(get_json(&format!("{url}/_emulator/faults"))["pending"], 0);
    assert_eq!(call(&c, &url, "r", "messages", &tok, MSG).status(), 201);
    // Reset with no body at all works too.
    assert_eq!(
        c.post(format!("{url}/_emulator/reset"))
            .send()
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn fault_with_status_headers_and_body_is_answered_verbatim() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    let body = r#"{"error":{"code":"ServiceUnavailable","message":"down"}}"#;
    add_fault(
        &url,
        json!({"threadId": "f", "op": "messages", "count": 2, "status": 503,
        "headers": {"Retry-After": "1", "x-ms-request-id": "rid-7", "retry-after-ms": "250"},
        "body": body}),
    );
    for _ in 0..2 {
        let resp = call(&c, &url, "f", "messages", &tok, MSG);
        assert_eq!(resp.status(), 503);
        assert_common_headers(resp.headers());
        assert_eq!(resp.headers()["retry-after"], "1");
        assert_eq!(resp.headers()["retry-after-ms"], "250");
        assert_eq!(resp.headers()["x-ms-request-id"], "rid-7");
        assert_eq!(
            resp.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert_eq!(resp.text().unwrap(), body);
    }
    // Count used up: normal handling again.
    assert_eq!(call(&c, &url, "f", "messages", &tok, MSG).status(), 201);
    assert_eq!(events(&url, "f").len(), 1, "faulted calls store nothing");
    let faults: Vec<bool> = requests(&url, "f")
        .iter()
        .map(|r| r["fault"].as_bool().unwrap())
        .collect();
    assert_eq!(faults, [true, true, false]);
    let statuses: Vec<u64> = requests(&url, "f")
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [503, 503, 201]);
}

#[test]
fn fault_bodies_can_be_pascal_case_empty_html_or_truncated() {
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    let pascal = r#"{"CommunicationError":{"Code":"Forbidden","Message":"no","Details":[]}}"#;
    add_fault(
        &url,
        json!([
            {"threadId": "b", "status": 403, "body": pascal},
            {"threadId": "b", "status": 401},
            {"threadId": "b", "status": 502, "headers": {"Content-Type": "text/html"},
             "body": "<html><body>Bad Gateway</body></html>"},
            {"threadId": "b", "status": 201, "body": "{\"id\":\"12"},
            {"threadId": "b", "status": 200, "body": ""},
        ]),
    );
    let resp = call(&c, &url, "b", "messages", &tok, MSG);
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.text().unwrap(), pascal);

    let resp = call(&c, &url, "b", "messages", &tok, MSG);
    assert_eq!(resp.status(), 401);
    assert_common_headers(resp.headers());
    assert!(resp.headers().get("content-type").is_none());
    assert_eq!(resp.headers()["content-length"], "0");
    assert!(resp.text().unwrap().is_empty());

    let resp = call(&c, &url, "b", "messages", &tok, MSG);
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["content-type"], "text/html");
    assert!(resp.text().unwrap().starts_with("<html>"));

    let resp = call(&c, &url, "b", "messages", &tok, MSG);
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.text().unwrap(), "{\"id\":\"12");

    let resp = call(&c, &url, "b", "typing", &tok, "{}");
    assert_eq!(resp.status(), 200);
    assert!(resp.text().unwrap().is_empty());
    assert!(events(&url, "b").is_empty());
}

#[test]
fn faults_match_thread_and_operation_and_queue_in_order() {
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    add_fault(
        &url,
        json!({"threadId": "q", "op": "typing", "status": 500}),
    );
    add_fault(&url, json!({"threadId": "q", "op": "*", "status": 502}));
    add_fault(&url, json!({"op": "readReceipts", "status": 504}));
    // Other thread, other op: untouched by the first two.
    assert_eq!(call(&c, &url, "other", "messages", &tok, MSG).status(), 201);
    // The first matching fault in queue order wins.
    assert_eq!(call(&c, &url, "q", "messages", &tok, MSG).status(), 502);
    assert_eq!(call(&c, &url, "q", "typing", &tok, "{}").status(), 500);
    assert_eq!(call(&c, &url, "q", "typing", &tok, "{}").status(), 200);
    // A fault without threadId matches any thread.
    assert_eq!(
        call(
            &c,
            &url,
            "z",
            "readReceipts",
            &tok,
            r#"{"chatMessageId":"1"}"#
        )
        .status(),
        504
    );
    assert_eq!(
        call(
            &c,
            &url,
            "z",
            "readReceipts",
            &tok,
            r#"{"chatMessageId":"1"}"#
        )
        .status(),
        200
    );
    assert_eq!(get_json(&format!("{url}/_emulator/faults"))["pending"], 0);
}

#[test]
fn delay_alone_delays_normal_handling_and_delay_with_status_delays_the_fault() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    add_fault(
        &url,
        json!({"threadId": "d", "op": "messages", "delayMs": 300,
                           "headers": {"x-extra": "1"}}),
    );
    let t0 = Instant::now();
    let resp = call(&c, &url, "d", "messages", &tok, MSG);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["x-extra"], "1");
    assert!(resp.headers().get("location").is_some());
    assert_eq!(
        events(&url, "d").len(),
        1,
        "handled normally after the delay"
    );
    let log = requests(&url, "d");
    assert_eq!(log[0]["fault"], true);
    let spent = log[0]["doneMs"].as_f64().unwrap() - log[0]["atMs"].as_f64().unwrap();
    assert!(spent >= 300.0, "{spent}");

    add_fault(
        &url,
        json!({"threadId": "d", "delayMs": 200, "status": 503}),
    );
    let t0 = Instant::now();
    assert_eq!(call(&c, &url, "d", "typing", &tok, "{}").status(), 503);
    assert!(t0.elapsed() >= Duration::from_millis(200));

    // A client that gives up early leaves the emulator healthy.
    add_fault(&url, json!({"threadId": "d", "delayMs": 2000}));
    install_crypto();
    let impatient = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    assert!(impatient
        .post(format!("{url}/chat/threads/d/typing?api-version={API}"))
        .bearer_auth(&tok)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .is_err());
    assert_eq!(call(&c, &url, "d", "typing", &tok, "{}").status(), 200);
}

/// Sends one call on a fresh client (no pooled connection to retry on).
fn fresh_call(
    url: &str,
    thread_id: &str,
    op: &str,
    token: &str,
    body: &str,
) -> reqwest::Result<reqwest::blocking::Response> {
    client()
        .post(format!(
            "{url}/chat/threads/{thread_id}/{op}?api-version={API}"
        ))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
}

#[test]
fn drop_reads_the_request_then_closes_without_an_answer() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    add_fault(
        &url,
        json!({"threadId": "x", "op": "messages", "action": "drop"}),
    );
    let err = fresh_call(&url, "x", "messages", &tok, MSG).expect_err("no answer");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    assert_eq!(
        fresh_call(&url, "x", "messages", &tok, MSG)
            .unwrap()
            .status(),
        201
    );
    let log = requests(&url, "x");
    assert_eq!(
        (log[0]["status"].as_u64(), log[0]["fault"].as_bool()),
        (Some(0), Some(true))
    );
    assert_eq!(log[1]["status"], 201);
    assert_eq!(events(&url, "x").len(), 1);
}

#[test]
fn drop_before_body_closes_after_the_head() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    add_fault(
        &url,
        json!({"threadId": "y", "action": "dropBeforeBody", "delayMs": 50}),
    );
    let big = format!(r#"{{"content":"{}"}}"#, "z".repeat(200_000));
    let err = fresh_call(&url, "y", "messages", &tok, &big).expect_err("no answer");
    assert!(!err.is_status(), "{err:?}");
    assert_eq!(
        fresh_call(&url, "y", "messages", &tok, MSG)
            .unwrap()
            .status(),
        201
    );
    let log = requests(&url, "y");
    assert_eq!(
        (log[0]["status"].as_u64(), log[0]["fault"].as_bool()),
        (Some(0), Some(true))
    );
}

#[test]
fn oversize_answers_success_with_a_body_over_two_mebibytes() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    add_fault(
        &url,
        json!({"threadId": "o", "op": "messages", "action": "oversize"}),
    );
    add_fault(
        &url,
        json!({"threadId": "o", "op": "typing", "action": "oversize"}),
    );
    let resp = call(&c, &url, "o", "messages", &tok, MSG);
    assert_eq!(resp.status(), 201);
    let body = resp.bytes().unwrap();
    assert!(body.len() > 2 * 1024 * 1024, "{}", body.len());
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    assert!(parsed["id"].is_string());
    let resp = call(&c, &url, "o", "typing", &tok, "{}");
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().unwrap().len() > 2 * 1024 * 1024);
    // The connection is still usable.
    assert_eq!(call(&c, &url, "o", "messages", &tok, MSG).status(), 201);
}

#[test]
fn invalid_fault_scripts_are_refused() {
    let emu = start();
    let url = emu.url();
    for bad in [
        json!({"status": 503, "colour": "red"}),
        json!({"status": 99}),
        json!({"status": 600}),
        json!({"action": "explode"}),
        json!({"op": "message"}),
        json!({"count": 0, "status": 500}),
        json!({"body": "x"}),
        json!({"status": 500, "headers": {"bad header": "x"}}),
        json!({"status": 500, "headers": {"content-length": "3"}}),
        json!({"status": 500, "delayMs": 10_000_000}),
        json!("nope"),
    ] {
        let resp = post_json(&format!("{url}/_emulator/faults"), &bad);
        assert_eq!(error_of(resp).0, 400, "{bad}");
    }
    let resp = client()
        .post(format!("{url}/_emulator/faults"))
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(error_of(resp).0, 400);
    assert_eq!(get_json(&format!("{url}/_emulator/faults"))["pending"], 0);
    let resp = client()
        .post(format!("{url}/_emulator/limits"))
        .body(r#"{"enabled":"yes"}"#)
        .send()
        .unwrap();
    assert_eq!(error_of(resp).0, 400);
}

#[test]
fn faults_apply_to_percent_encoded_thread_ids() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    add_fault(
        &url,
        json!({"threadId": "a/b?c#d e", "status": 429, "headers": {"Retry-After": "2"}}),
    );
    let resp = call(&c, &url, "a/b?c#d e", "messages", &tok, MSG);
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "2");
    assert_eq!(requests(&url, "a/b?c#d e")[0]["fault"], true);
}
