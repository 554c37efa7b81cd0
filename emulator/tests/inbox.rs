//! The web inbox: its page and assets, and the event stream that feeds it (a snapshot first,
//! then every change; shutdown with streams open).

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

#[test]
fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let emu = start();
    let url = emu.url();
    let c = client();
    for path in ["/", "/_emulator/ui", "/_emulator/ui/"] {
        let resp = c.get(format!("{url}{path}")).send().unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
        let csp = resp.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("img-src 'none'"), "{csp}");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        let text = resp.text().unwrap();
        assert!(text.contains("<script src=\"/_emulator/ui/app.js\""));
        assert!(text.contains("/_emulator/ui/app.css"));
    }
    for (path, kind, needle) in [
        (
            "/_emulator/ui/app.js",
            "text/javascript",
            "EventSource(\"/_emulator/stream\")",
        ),
        ("/_emulator/ui/app.css", "text/css", "#transcript"),
    ] {
        let resp = c.get(format!("{url}{path}")).send().unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with(kind), "{content_type}");
        assert!(resp.text().unwrap().contains(needle), "{path}");
    }
    let resp = c.post(format!("{url}/")).body("x").send().unwrap();
    assert_eq!(resp.headers()["allow"], "GET");
    assert_eq!(error_of(resp).0, 405);
    let resp = c
        .get(format!("{url}/_emulator/ui/other.js"))
        .send()
        .unwrap();
    let (status, code, _) = error_of(resp);
    assert_eq!((status, code.as_str()), (404, "NotFound"));
}

#[test]
fn the_stream_starts_from_a_snapshot_and_carries_every_change() {
    let emu = start();
    let url = emu.url();
    let tok = token_for(&url, "8:acs:alice");
    let c = client();
    let earlier = r#"{"content":"before the page","senderDisplayName":"Alice"}"#;
    assert_eq!(
        call(&c, &url, "old", "messages", &tok, earlier).status(),
        201
    );
    assert_eq!(call(&c, &url, "old", "typing", "x.y.z", "{}").status(), 401);
    let set = json!({"ms": 0, "jitterMs": 3});
    assert_eq!(
        post_json(&format!("{url}/_emulator/latency"), &set).status(),
        200
    );

    let feed = Feed::open(&stream_client(), &url);
    let snapshot = feed.next();
    assert_eq!(snapshot["kind"], "snapshot");
    assert_eq!(snapshot["threadCount"], 1);
    assert_eq!(snapshot["jitterMs"], 3);
    assert_eq!(snapshot["limits"], true);
    let old = &snapshot["threads"][0];
    assert_eq!(old["id"], "old");
    assert_eq!(old["eventCount"], 1);
    assert_eq!(old["events"][0]["content"], "before the page");
    assert_eq!(old["events"][0]["senderDisplayName"], "Alice");
    let problems = snapshot["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0]["status"], 401);
    assert_eq!(
        problems[0]["reason"],
        "Unauthorized: The access token is not a valid JWT."
    );

    // Hostile content travels as it was sent: the page, not the feed, makes it inert.
    let hostile = "<script>window.__pwned=1</script>\u{0}\u{1b}[31m\u{202e}";
    let body = json!({"content": hostile, "type": "html", "metadata": {"k": "v"}}).to_string();
    let resp = call(&c, &url, "a/b", "messages", &tok, &body);
    assert_eq!(resp.status(), 201);
    let id: Value = resp.json().unwrap();
    let change = feed.next_change();
    assert_eq!(change["kind"], "event");
    assert_eq!(change["threadId"], "a/b");
    let event = &change["event"];
    assert_eq!(event["op"], "message");
    assert_eq!(event["id"], id["id"]);
    assert_eq!(event["content"], hostile);
    assert_eq!(event["type"], "html");
    assert_eq!(event["metadata"], json!({"k": "v"}));
    assert_eq!(event["user"], "8:acs:alice");
    assert_eq!(event["clipped"], false);

    let typing = r#"{"senderDisplayName":"Alice"}"#;
    assert_eq!(call(&c, &url, "a/b", "typing", &tok, typing).status(), 200);
    let change = feed.next_change();
    assert_eq!(change["event"]["op"], "typing");
    assert_eq!(change["event"]["senderDisplayName"], "Alice");

    let receipt = json!({ "chatMessageId": id["id"] }).to_string();
    assert_eq!(
        call(&c, &url, "a/b", "readReceipts", &tok, &receipt).status(),
        200
    );
    let change = feed.next_change();
    assert_eq!(change["event"]["op"], "readReceipt");
    assert_eq!(change["event"]["chatMessageId"], id["id"]);

    // Refused and faulted calls, with their reason; the pending-fault count as it changes.
    let resp = call(&c, &url, "a/b", "messages", &tok, r#"{"content":""}"#);
    assert_eq!(resp.status(), 400);
    let change = feed.next_change();
    assert_eq!(change["kind"], "request");
    assert_eq!(change["request"]["status"], 400);
    assert_eq!(change["request"]["threadId"], "a/b");
    assert_eq!(
        change["request"]["reason"],
        "BadRequest: The field 'content' is required and must not be empty."
    );
    add_fault(&url, json!({"threadId": "a/b", "status": 503, "count": 1}));
    assert_eq!(feed.next(), json!({"kind": "faults", "pendingFaults": 1}));
    assert_eq!(call(&c, &url, "a/b", "typing", &tok, "{}").status(), 503);
    assert_eq!(feed.next(), json!({"kind": "faults", "pendingFaults": 0}));
    let change = feed.next();
    assert_eq!(change["request"]["status"], 503);
    assert_eq!(change["request"]["fault"], true);
    assert_eq!(change["request"]["reason"], "fault: status 503");
    add_fault(
        &url,
        json!({"op": "messages", "action": "drop", "delayMs": 5}),
    );
    assert_eq!(feed.next()["pendingFaults"], 1);
    assert!(call_may_fail(&url, &tok));
    assert_eq!(feed.next()["pendingFaults"], 0);
    let change = feed.next();
    assert_eq!(change["request"]["status"], 0);
    assert_eq!(change["request"]["reason"], "fault: drop after 5 ms");

    // The request log has the same reasons; accepted calls have none.
    let log = requests(&url, "a/b");
    let reasons: Vec<&Value> = log.iter().map(|r| &r["reason"]).collect();
    assert_eq!(reasons[..3], [&Value::Null, &Value::Null, &Value::Null]);
    assert_eq!(
        reasons[3],
        "BadRequest: The field 'content' is required and must not be empty."
    );
    assert_eq!(reasons[4], "fault: status 503");

    assert_eq!(
        post_json(&format!("{url}/_emulator/reset"), &json!({})).status(),
        200
    );
    assert_eq!(feed.next_change(), json!({"kind": "reset"}));
    // A stream opened now starts empty.
    let fresh = Feed::open(&stream_client(), &url);
    let snapshot = fresh.next();
    assert_eq!(snapshot["threads"], json!([]));
    assert_eq!(snapshot["problems"], json!([]));
}

/// Sends a message that a scripted drop answers with a closed connection.
fn call_may_fail(url: &str, tok: &str) -> bool {
    let resp = client()
        .post(format!(
            "{url}/chat/threads/a%2Fb/messages?api-version={API}"
        ))
        .bearer_auth(tok)
        .header("content-type", "application/json")
        .body(r#"{"content":"dropped"}"#)
        .send();
    resp.is_err()
}

#[test]
fn long_fields_are_clipped_on_the_stream_but_whole_in_the_events_api() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let feed = Feed::open(&stream_client(), &url);
    assert_eq!(feed.next()["kind"], "snapshot");
    let name = "N".repeat(5000);
    let metadata: serde_json::Map<String, Value> =
        (0..40).map(|i| (format!("k{i:02}"), json!("v"))).collect();
    let body = json!({"content": "c", "senderDisplayName": name, "metadata": metadata});
    let resp = call(&client(), &url, "long", "messages", &tok, &body.to_string());
    assert_eq!(resp.status(), 201);
    let event = &feed.next()["event"];
    assert_eq!(event["clipped"], true);
    let shown = event["senderDisplayName"].as_str().unwrap();
    assert!(shown.len() < 600 && shown.ends_with('…'), "{}", shown.len());
    assert_eq!(event["metadata"].as_object().unwrap().len(), 32);
    let stored = events(&url, "long");
    assert_eq!(stored[0]["senderDisplayName"].as_str().unwrap().len(), 5000);
    assert_eq!(stored[0]["metadata"].as_object().unwrap().len(), 40);
}

/// `n` open streams, each past its snapshot.
fn open_feeds(c: &reqwest::blocking::Client, url: &str, n: usize) -> Vec<Feed> {
    let feeds: Vec<Feed> = (0..n).map(|_| Feed::open(c, url)).collect();
    for feed in &feeds {
        assert_eq!(feed.next()["kind"], "snapshot");
    }
    feeds
}

#[test]
fn shutdown_ends_open_streams_without_waiting_for_them() {
    let emu = start();
    let url = emu.url();
    let feeds = open_feeds(&stream_client(), &url, 3);
    let t0 = Instant::now();
    emu.shutdown();
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    for feed in &feeds {
        assert!(feed.ends_within(Duration::from_secs(5)));
    }
}

#[test]
fn streams_beyond_the_limit_are_refused_until_one_closes() {
    let emu = start();
    let url = emu.url();
    let c = stream_client();
    let _feeds = open_feeds(&c, &url, 31);
    // The 32nd over a bare socket, to close it at will.
    let mut raw = std::net::TcpStream::connect(emu.addr()).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    raw.write_all(b"GET /_emulator/stream HTTP/1.1\r\nHost: emulator\r\n\r\n")
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        raw.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"));
    let resp = c.get(format!("{url}/_emulator/stream")).send().unwrap();
    assert_eq!(error_of(resp).0, 503);
    // A client that leaves frees its place.
    drop(raw);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let resp = c.get(format!("{url}/_emulator/stream")).send().unwrap();
        if resp.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no place freed within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_reset_while_a_call_waits_leaves_no_empty_thread_behind() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    emu.set_latency(Duration::from_millis(500));
    let caller = {
        let (url, tok) = (url.clone(), tok.clone());
        std::thread::spawn(move || {
            call(
                &client(),
                &url,
                "gone",
                "messages",
                &tok,
                r#"{"content":"x"}"#,
            )
            .status()
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while events(&url, "gone").is_empty() {
        assert!(Instant::now() < deadline, "the message was not stored");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        post_json(&format!("{url}/_emulator/reset"), &json!({})).status(),
        200
    );
    assert_eq!(caller.join().unwrap(), 201);
    let snapshot = Feed::open(&stream_client(), &url).next();
    assert_eq!(snapshot["threadCount"], 0, "{snapshot}");
    assert_eq!(requests(&url, "gone"), Vec::<Value>::new());
}
