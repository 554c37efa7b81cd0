//! Two of the service's rules: a typing notification needs no body, and message content is
//! limited to 28 KB.

mod common;

use common::*;
use serde_json::{json, Value};

const LIMIT: usize = 28 * 1024;

/// A POST to a service route with the given Content-Type (or none) and body.
fn post_raw(
    url: &str,
    thread_id: &str,
    op: &str,
    api: &str,
    content_type: Option<&str>,
    body: &'static str,
    tok: &str,
) -> reqwest::blocking::Response {
    let mut req = client()
        .post(format!(
            "{url}/chat/threads/{}/{op}?api-version={api}",
            enc(thread_id)
        ))
        .bearer_auth(tok)
        .body(body);
    if let Some(content_type) = content_type {
        req = req.header("content-type", content_type);
    }
    req.send().unwrap()
}

#[test]
fn a_typing_notification_with_an_empty_body_is_accepted() {
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token_for(&url, "8:acs:typist");
    for (api, content_type) in [
        (API, None),
        ("2021-03-07", None),
        (API, Some("application/json")),
        (API, Some("text/plain")),
    ] {
        let resp = post_raw(&url, "empty", "typing", api, content_type, "", &tok);
        assert_eq!(resp.status(), 200, "{api} {content_type:?}");
        assert!(resp.bytes().unwrap().is_empty());
    }
    let stored = events(&url, "empty");
    assert_eq!(stored.len(), 4);
    for event in &stored {
        assert_eq!(event["op"], "typing");
        assert_eq!(event["senderDisplayName"], Value::Null);
        assert_eq!(event["user"], "8:acs:typist");
    }
    let log = requests(&url, "empty");
    assert_eq!(log[0]["contentType"], Value::Null);
    assert!(log.iter().all(|r| r["status"] == 200));

    // A body that is there is still judged: JSON needs its type, and must be an object.
    let resp = post_raw(&url, "empty", "typing", API, None, "{}", &tok);
    assert_eq!(error_of(resp).0, 415);
    let resp = post_raw(&url, "empty", "typing", API, Some("text/plain"), "hi", &tok);
    assert_eq!(error_of(resp).0, 415);
    let resp = post_raw(
        &url,
        "empty",
        "typing",
        API,
        Some("application/json"),
        " ",
        &tok,
    );
    assert_eq!(error_of(resp).0, 400);
    // The other operations need their body.
    let resp = post_raw(&url, "empty", "messages", API, None, "", &tok);
    assert_eq!(error_of(resp).0, 415);
    for op in ["messages", "readReceipts"] {
        let resp = post_raw(&url, "empty", op, API, Some("application/json"), "", &tok);
        let (status, code, _) = error_of(resp);
        assert_eq!((status, code.as_str()), (400, "BadRequest"), "{op}");
    }
    // Authentication still comes first.
    let resp = post_raw(&url, "empty", "typing", API, None, "", "x.y.z");
    assert_eq!(error_of(resp).0, 401);
    assert_eq!(events(&url, "empty").len(), 4);
}

#[test]
fn message_content_over_28_kb_is_refused() {
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    let send = |content: &str, kind: &str| {
        let body = json!({ "content": content, "type": kind }).to_string();
        call(&c, &url, "size", "messages", &tok, &body)
    };
    for kind in ["text", "html"] {
        assert_eq!(send(&"a".repeat(LIMIT), kind).status(), 201, "{kind}");
        let resp = send(&"a".repeat(LIMIT + 1), kind);
        let body: Value = {
            assert_eq!(resp.status(), 400);
            resp.json().unwrap()
        };
        assert_eq!(
            body,
            json!({"error": {
                "code": "BadRequest",
                "message": "Message size exceeded.",
                "target": "content",
            }})
        );
    }
    // Bytes of UTF-8 count, not characters.
    assert_eq!(send(&"é".repeat(LIMIT / 2), "text").status(), 201);
    let resp = send(&"é".repeat(LIMIT / 2 + 1), "text");
    assert_eq!(error_of(resp).0, 400);
    let stored = events(&url, "size");
    assert_eq!(stored.len(), 3, "refused messages are not stored");
    assert!(stored
        .iter()
        .all(|e| e["content"].as_str().unwrap().len() == LIMIT));
    let log = requests(&url, "size");
    assert_eq!(
        log[1]["reason"], "BadRequest: Message size exceeded.",
        "the request log says why"
    );
}
