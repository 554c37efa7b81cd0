//! The three service operations over real sockets: success paths, validation, auth, routing,
//! limits.

mod common;

use std::io::Read;

use common::*;
use serde_json::{json, Value};

#[test]
fn send_message_answers_201_with_id_and_location_and_stores_the_event() {
    let emu = start();
    let url = emu.url();
    let tok = token_for(&url, "8:acs:alice");
    let c = client();
    let body = json!({"content": "hello", "senderDisplayName": "Alice", "type": "html",
                      "metadata": {"k": "v", "x": "y"}});
    let resp = c
        .post(format!(
            "{url}/chat/threads/19%3Aabc%40thread.v2/messages?api-version=2024-03-07"
        ))
        .bearer_auth(&tok)
        .header("content-type", "application/json")
        .header("x-ms-client-request-id", "req-1")
        .header("user-agent", "test-agent/1.0")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_common_headers(resp.headers());
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let id = resp.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(
        location,
        format!("{url}/chat/threads/19%3Aabc%40thread.v2/messages/{id}")
    );

    let events = events(&url, "19:abc@thread.v2");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["op"], "message");
    assert_eq!(e["id"], id.as_str());
    assert_eq!(e["content"], "hello");
    assert_eq!(e["type"], "html");
    assert_eq!(e["senderDisplayName"], "Alice");
    assert_eq!(e["metadata"], json!({"k": "v", "x": "y"}));
    assert_eq!(e["user"], "8:acs:alice");
    assert_eq!(e["clientRequestId"], "req-1");
    assert_eq!(e["userAgent"], "test-agent/1.0");
}

#[test]
fn message_defaults_and_increasing_ids() {
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    let mut last = 0u64;
    for i in 0..20 {
        let resp = call(
            &c,
            &url,
            "ids",
            "messages",
            &tok,
            &json!({"content": format!("m{i}")}).to_string(),
        );
        assert_eq!(resp.status(), 201);
        let id: u64 = resp.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(id > last, "{id} after {last}");
        last = id;
    }
    let events = events(&url, "ids");
    assert_eq!(events.len(), 20);
    assert_eq!(events[0]["type"], "text");
    assert_eq!(events[0]["senderDisplayName"], Value::Null);
    assert_eq!(events[0]["metadata"], Value::Null);
    let contents: Vec<_> = events
        .iter()
        .map(|e| e["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        contents,
        (0..20).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
}

#[test]
fn typing_and_read_receipts_answer_200_with_an_empty_body() {
    let emu = start();
    let url = emu.url();
    let tok = token_for(&url, "8:acs:bob");
    let c = client();
    for (op, body) in [
        ("typing", r#"{}"#),
        ("typing", r#"{"senderDisplayName":"Bob"}"#),
        ("readReceipts", r#"{"chatMessageId":"1700000000000"}"#),
    ] {
        let resp = call(&c, &url, "t1", op, &tok, body);
        assert_eq!(resp.status(), 200, "{op}");
        assert_common_headers(resp.headers());
        assert!(resp.headers().get("content-type").is_none());
        assert_eq!(resp.bytes().unwrap().len(), 0);
    }
    let events = events(&url, "t1");
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["op"], "typing");
    assert_eq!(events[0]["senderDisplayName"], Value::Null);
    assert_eq!(events[1]["senderDisplayName"], "Bob");
    assert_eq!(events[2]["op"], "readReceipt");
    assert_eq!(events[2]["chatMessageId"], "1700000000000");
    assert!(events.iter().all(|e| e["user"] == "8:acs:bob"));
    assert!(events[0].get("content").is_none());
}

#[test]
fn api_version_is_required_and_checked() {
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    let post = |query: &str| {
        c.post(format!("{url}/chat/threads/v/typing{query}"))
            .bearer_auth(&tok)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .unwrap()
    };
    let (status, code, _) = error_of(post(""));
    assert_eq!((status, code.as_str()), (400, "MissingApiVersionParameter"));
    for bad in [
        "?api-version=2024-03-08",
        "?api-version=",
        "?api-version=2024-03-07-preview",
    ] {
        let (status, code, _) = error_of(post(bad));
        assert_eq!(
            (status, code.as_str()),
            (400, "UnsupportedApiVersion"),
            "{bad}"
        );
    }
    for good in [
        "2021-03-07",
        "2021-09-07",
        "2023-11-07",
        "2024-03-07",
        "2025-03-15",
    ] {
        assert_eq!(
            post(&format!("?api-version={good}")).status(),
            200,
            "{good}"
        );
    }
    assert_eq!(post("?x=1&api-version=2024-03-07").status(), 200);
}

#[test]
fn bearer_token_problems_answer_401() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let emu = start();
    let url = emu.url();
    let c = client();
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let future = 4_000_000_000u64;
    let expired = get_json(&format!("{url}/_emulator/token?expires_in=-10"))["token"]
        .as_str()
        .unwrap()
        .to_string();
    let valid = token(&url);
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("basic scheme", Some(format!("Basic {valid}"))),
        ("no scheme", Some(valid.clone())),
        ("not a jwt", Some("Bearer not-a-jwt".into())),
        (
            "two parts",
            Some(format!(
                "Bearer {}.{}",
                b64(json!({})),
                b64(json!({"exp": future}))
            )),
        ),
        (
            "payload not json",
            Some(format!(
                "Bearer {}.{}.sig",
                b64(json!({})),
                URL_SAFE_NO_PAD.encode("nope")
            )),
        ),
        (
            "payload not an object",
            Some(format!("Bearer {}.{}.sig", b64(json!({})), b64(json!([1])))),
        ),
        (
            "bad base64",
            Some(format!("Bearer {}.*&^.sig", b64(json!({})))),
        ),
        (
            "no exp",
            Some(format!(
                "Bearer {}.{}.sig",
                b64(json!({})),
                b64(json!({"sub": "x"}))
            )),
        ),
        ("expired", Some(format!("Bearer {expired}"))),
    ];
    for (name, header) in cases {
        let mut req = c
            .post(format!(
                "{url}/chat/threads/auth/messages?api-version={API}"
            ))
            .header("content-type", "application/json")
            .body(r#"{"content":"x"}"#);
        if let Some(h) = &header {
            req = req.header("authorization", h);
        }
        let (status, code, message) = error_of(req.send().unwrap());
        assert_eq!((status, code.as_str()), (401, "Unauthorized"), "{name}");
        assert!(
            !message.contains(&valid) && !message.contains(&expired),
            "{name}"
        );
    }
    // Lower-case scheme and a hand-made token with only `sub` and `exp` are fine.
    let handmade = format!(
        "{}.{}.",
        b64(json!({"alg": "none"})),
        b64(json!({"sub": "s", "exp": future}))
    );
    let resp = c
        .post(format!("{url}/chat/threads/auth/typing?api-version={API}"))
        .header("authorization", format!("bearer {handmade}"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(events(&url, "auth")[0]["user"], "s");
    assert!(
        events(&url, "auth").len() == 1,
        "rejected calls store nothing"
    );
}

#[test]
fn invalid_bodies_answer_400_with_a_target() {
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    let cases = [
        ("messages", r#"{}"#, Some("content")),
        ("messages", r#"{"content":""}"#, Some("content")),
        ("messages", r#"{"content":null}"#, Some("content")),
        ("messages", r#"{"content":5}"#, Some("content")),
        (
            "messages",
            r#"{"content":"x","type":"participantAdded"}"#,
            Some("type"),
        ),
        ("messages", r#"{"content":"x","type":7}"#, Some("type")),
        (
            "messages",
            r#"{"content":"x","metadata":{"a":1}}"#,
            Some("metadata"),
        ),
        (
            "messages",
            r#"{"content":"x","metadata":"a=b"}"#,
            Some("metadata"),
        ),
        (
            "messages",
            r#"{"content":"x","senderDisplayName":["A"]}"#,
            Some("senderDisplayName"),
        ),
        (
            "typing",
            r#"{"senderDisplayName":1}"#,
            Some("senderDisplayName"),
        ),
        ("readReceipts", r#"{}"#, Some("chatMessageId")),
        (
            "readReceipts",
            r#"{"chatMessageId":""}"#,
            Some("chatMessageId"),
        ),
        (
            "readReceipts",
            r#"{"chatMessageId":12}"#,
            Some("chatMessageId"),
        ),
        ("messages", r#"{"content":"x""#, None),
        ("messages", r#"["content"]"#, None),
        ("typing", "not json", None),
    ];
    for (op, body, target) in cases {
        let resp = call(&c, &url, "bodies", op, &tok, body);
        let status = resp.status().as_u16();
        let json: Value = resp.json().unwrap();
        assert_eq!(status, 400, "{op} {body}");
        assert_eq!(json["error"]["code"], "BadRequest", "{op} {body}");
        if let Some(target) = target {
            assert_eq!(json["error"]["target"], target, "{op} {body}");
        }
    }
    // Upper-case type values are accepted, as by the service.
    assert_eq!(
        call(
            &c,
            &url,
            "bodies",
            "messages",
            &tok,
            r#"{"content":"x","type":"TEXT"}"#
        )
        .status(),
        201
    );
    // A non-JSON content type is refused.
    let resp = c
        .post(format!(
            "{url}/chat/threads/bodies/typing?api-version={API}"
        ))
        .bearer_auth(&tok)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(error_of(resp).0, 415);
    assert_eq!(events(&url, "bodies").len(), 1);
}

#[test]
fn unknown_routes_404_and_wrong_methods_405() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    for path in [
        "/chat",
        "/chat/threads/t",
        "/chat/threads/t/",
        "/chat/threads//messages",
        "/chat/threads/a/b/messages",
        "/chat/threads/t/messages/",
        "/chat/threads/t/message",
        "/chat/threads/t/Typing",
        "/_emulator/nothing",
        "/_emulator/threads/t",
        "/_emulator/threads/t/other",
    ] {
        let resp = c
            .post(format!("{url}{path}?api-version={API}"))
            .bearer_auth(&tok)
            .header("content-type", "application/json")
            .body(r#"{"content":"x"}"#)
            .send()
            .unwrap();
        let (status, code, _) = error_of(resp);
        assert_eq!((status, code.as_str()), (404, "NotFound"), "{path}");
    }
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let resp = c
            .request(
                method.clone(),
                format!("{url}/chat/threads/t/messages?api-version={API}"),
            )
            .bearer_auth(&tok)
            .send()
            .unwrap();
        assert_eq!(resp.headers()["allow"], "POST");
        assert_eq!(error_of(resp).0, 405, "{method}");
    }
    let resp = c.post(format!("{url}/_emulator/token")).send().unwrap();
    assert_eq!(resp.headers()["allow"], "GET");
    assert_eq!(error_of(resp).0, 405);
    let resp = c.get(format!("{url}/_emulator/reset")).send().unwrap();
    assert_eq!(resp.headers()["allow"], "POST");
    assert_eq!(error_of(resp).0, 405);
    let resp = c
        .post(format!("{url}/_emulator/threads/t/events"))
        .send()
        .unwrap();
    assert_eq!(error_of(resp).0, 405);
    assert!(events(&url, "t").is_empty());
    assert!(events(&url, "a").is_empty());
}

#[test]
fn bodies_over_one_mebibyte_answer_413() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    let big = format!(r#"{{"content":"{}"}}"#, "x".repeat(1 << 20));
    let resp = call(&c, &url, "big", "messages", &tok, &big);
    let (status, code, _) = error_of(resp);
    assert_eq!((status, code.as_str()), (413, "PayloadTooLarge"));

    // Chunked (no Content-Length): refused while reading.
    struct Endless(usize);
    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Ok(0);
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(b' ');
            self.0 -= n;
            Ok(n)
        }
    }
    let resp = c
        .post(format!("{url}/chat/threads/big/messages?api-version={API}"))
        .bearer_auth(&tok)
        .header("content-type", "application/json")
        .body(reqwest::blocking::Body::new(Endless(3 << 20)))
        .send();
    if let Ok(resp) = resp {
        // The answer may race the upload; when it arrives it is 413.
        assert_eq!(resp.status(), 413);
    }
    // A body of exactly 1 MiB is read and judged on its content (here a short message with a
    // long metadata value: the content itself is limited to 28 KB).
    let (head, tail) = (r#"{"content":"y","metadata":{"p":""#, r#""}}"#);
    let pad = "y".repeat((1 << 20) - head.len() - tail.len());
    let exact = format!("{head}{pad}{tail}");
    assert_eq!(exact.len(), 1 << 20);
    assert_eq!(
        call(&c, &url, "big", "messages", &tok, &exact).status(),
        201
    );
    assert_eq!(events(&url, "big").len(), 1);
}

#[test]
fn thread_ids_are_decoded_exactly_once() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    for id in ["19:abc@thread.v2", "a/b?c#d e", "x%2Fy", "ünï/cødé"] {
        let resp = call(
            &c,
            &url,
            id,
            "messages",
            &tok,
            &json!({"content": id}).to_string(),
        );
        assert_eq!(resp.status(), 201, "{id}");
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with(&format!("{url}/chat/threads/")),
            "{location}"
        );
        let segment = location.split('/').nth(5).unwrap();
        assert_eq!(
            percent_encoding::percent_decode_str(segment)
                .decode_utf8()
                .unwrap(),
            id
        );
        let events = events(&url, id);
        assert_eq!(events.len(), 1, "{id}");
        assert_eq!(events[0]["content"], id);
    }
    // "x%2Fy" (already encoded once more) is not "x/y".
    assert!(events(&url, "x/y").is_empty());
    assert_eq!(events(&url, "a/b?c#d e").len(), 1);
    // Invalid UTF-8 after decoding is a 400, not a crash.
    let resp = c
        .post(format!("{url}/chat/threads/%FF/typing?api-version={API}"))
        .bearer_auth(&tok)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(error_of(resp).0, 400);
}

fn retry_after(resp: &reqwest::blocking::Response) -> u64 {
    resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn message_limit_per_thread_answers_429_with_retry_after() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    for i in 0..10 {
        assert_eq!(
            call(&c, &url, "lim", "messages", &tok, r#"{"content":"x"}"#).status(),
            201,
            "{i}"
        );
    }
    let resp = call(&c, &url, "lim", "messages", &tok, r#"{"content":"x"}"#);
    assert_eq!(resp.status(), 429);
    let wait = retry_after(&resp);
    assert!((1..=10).contains(&wait), "{wait}");
    let (_, code, _) = error_of(resp);
    assert_eq!(code, "TooManyRequests");
    // Another token does not help: the limit is per thread. Another thread is free.
    let other = token_for(&url, "8:acs:other");
    assert_eq!(
        call(&c, &url, "lim", "messages", &other, r#"{"content":"x"}"#).status(),
        429
    );
    assert_eq!(
        call(&c, &url, "lim2", "messages", &tok, r#"{"content":"x"}"#).status(),
        201
    );
    assert_eq!(events(&url, "lim").len(), 10);
    let statuses: Vec<u64> = requests(&url, "lim")
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2);

    // Turned off at run time, then reset clears the counters.
    let resp = post_json(
        &format!("{url}/_emulator/limits"),
        &json!({"enabled": false}),
    );
    assert_eq!(resp.json::<Value>().unwrap(), json!({"enabled": false}));
    assert_eq!(
        call(&c, &url, "lim", "messages", &tok, r#"{"content":"x"}"#).status(),
        201
    );
    post_json(
        &format!("{url}/_emulator/limits"),
        &json!({"enabled": true}),
    );
    assert_eq!(
        get_json(&format!("{url}/_emulator/limits")),
        json!({"enabled": true})
    );
    assert_eq!(
        call(&c, &url, "lim", "messages", &tok, r#"{"content":"x"}"#).status(),
        429
    );
    post_json(&format!("{url}/_emulator/reset"), &json!({}));
    for _ in 0..10 {
        assert_eq!(
            call(&c, &url, "lim", "messages", &tok, r#"{"content":"x"}"#).status(),
            201
        );
    }
}

#[test]
fn typing_and_receipt_limits_are_per_user_and_per_thread() {
    let emu = start();
    let url = emu.url();
    let c = client();
    let users: Vec<String> = (0..3)
        .map(|i| token_for(&url, &format!("8:acs:u{i}")))
        .collect();
    for _ in 0..5 {
        assert_eq!(
            call(&c, &url, "ty", "typing", &users[0], "{}").status(),
            200
        );
    }
    let resp = call(&c, &url, "ty", "typing", &users[0], "{}");
    assert_eq!(resp.status(), 429);
    assert!((1..=10).contains(&retry_after(&resp)));
    for _ in 0..5 {
        assert_eq!(
            call(&c, &url, "ty", "typing", &users[1], "{}").status(),
            200
        );
    }
    // The thread has had 10 typing notifications in 10 s: a third user is refused too.
    assert_eq!(
        call(&c, &url, "ty", "typing", &users[2], "{}").status(),
        429
    );
    assert_eq!(
        call(&c, &url, "ty-other", "typing", &users[2], "{}").status(),
        200
    );

    let receipt = r#"{"chatMessageId":"1"}"#;
    for _ in 0..10 {
        assert_eq!(
            call(&c, &url, "rr", "readReceipts", &users[0], receipt).status(),
            200
        );
    }
    assert_eq!(
        call(&c, &url, "rr", "readReceipts", &users[0], receipt).status(),
        429
    );
    assert_eq!(
        call(&c, &url, "rr", "readReceipts", &users[1], receipt).status(),
        200
    );
}

#[test]
fn limits_can_be_off_from_the_start() {
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    for _ in 0..40 {
        assert_eq!(
            call(&c, &url, "free", "messages", &tok, r#"{"content":"x"}"#).status(),
            201
        );
        assert_eq!(call(&c, &url, "free", "typing", &tok, "{}").status(), 200);
    }
    assert_eq!(
        get_json(&format!("{url}/_emulator/limits")),
        json!({"enabled": false})
    );
}

#[test]
fn concurrent_clients_are_all_recorded() {
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token(&url);
    std::thread::scope(|s| {
        for t in 0..8 {
            let (url, tok) = (url.clone(), tok.clone());
            s.spawn(move || {
                let c = client();
                for i in 0..50 {
                    let body = json!({"content": format!("{t}-{i}")}).to_string();
                    assert_eq!(
                        call(&c, &url, "busy", "messages", &tok, &body).status(),
                        201
                    );
                }
            });
        }
    });
    let events = events(&url, "busy");
    assert_eq!(events.len(), 400);
    let mut ids: Vec<u64> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "stored in id order");
    ids.dedup();
    assert_eq!(ids.len(), 400);
}
