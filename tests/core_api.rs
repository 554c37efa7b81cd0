//! The Rust API end to end against the in-process emulator.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use acs_chat::{
    ChatClient, ClientOptions, Error, MessageOptions, MessageType, RefreshError, ResultCode,
};
use acs_chat_emulator::{EventOp, Fault, FaultAction, LoggedRequest, Route};
use common::{client, fast_options, setup, start, start_unlimited, thread_id, Env};

#[test]
fn send_message_typing_and_receipt() {
    let (env, c, thread) = setup("basic");

    let mut options = MessageOptions::new();
    options
        .set_type(MessageType::Html)
        .set_sender_display_name("Ann");
    options.add_metadata("k", "v").unwrap();
    let id = c.send_message(&thread, "<b>hello</b>", &options).unwrap();
    assert!(!id.is_empty());
    let plain = c
        .send_message(&thread, "plain", &MessageOptions::new())
        .unwrap();
    assert_ne!(id, plain);
    c.send_typing(&thread, Some("Ann")).unwrap();
    c.send_typing(&thread, None).unwrap();
    c.send_read_receipt(&thread, &id).unwrap();

    let events = env.events(&thread);
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(events[0].op, EventOp::Message);
    assert_eq!(events[0].id.as_deref(), Some(id.as_str()));
    assert_eq!(events[0].content.as_deref(), Some("<b>hello</b>"));
    assert_eq!(events[0].kind.as_deref(), Some("html"));
    assert_eq!(events[0].sender_display_name.as_deref(), Some("Ann"));
    assert_eq!(events[0].metadata.as_ref().unwrap()["k"], "v");
    assert_eq!(events[1].kind.as_deref(), Some("text"));
    assert_eq!(events[2].op, EventOp::Typing);
    assert_eq!(events[2].sender_display_name.as_deref(), Some("Ann"));
    assert_eq!(events[3].op, EventOp::Typing);
    assert_eq!(events[4].op, EventOp::ReadReceipt);
    assert_eq!(events[4].chat_message_id.as_deref(), Some(id.as_str()));
    assert_eq!(events[0].user, "user1");
}

#[test]
fn request_headers() {
    let env = start();
    let mut options = fast_options();
    options.set_application_id("my-app").unwrap();
    let c = client(&env, &options);
    let thread = thread_id("headers");
    c.send_typing(&thread, None).unwrap();
    let requests = env.requests(&thread);
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.authorization, "Bearer");
    assert_eq!(r.api_version.as_deref(), Some("2025-03-15"));
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    assert_eq!(r.accept.as_deref(), Some("application/json"));
    let ua = r.user_agent.as_deref().unwrap();
    assert!(
        ua.starts_with(&format!(
            "my-app azsdk-c-acs-chat/{} (",
            env!("CARGO_PKG_VERSION")
        )),
        "{ua}"
    );
    let crid = r.client_request_id.as_deref().unwrap();
    assert_eq!(crid.len(), 36, "{crid}");
    assert_eq!(crid.as_bytes()[14], b'4', "uuid v4: {crid}");
}

#[test]
fn api_version_option_is_sent() {
    let env = start();
    let mut options = fast_options();
    options.set_api_version("2024-03-07").unwrap();
    let c = client(&env, &options);
    let thread = thread_id("apiver");
    c.send_typing(&thread, None).unwrap();
    assert_eq!(
        env.requests(&thread)[0].api_version.as_deref(),
        Some("2024-03-07")
    );
}

#[test]
fn thread_ids_stay_one_segment() {
    let env = start();
    let c = client(&env, &fast_options());
    for thread in ["a/b?c#d e", "19:x@thread.v2", "%2F..%", "ünï"] {
        c.send_typing(thread, None).unwrap();
        assert_eq!(env.events(thread).len(), 1, "{thread}");
    }
    assert_eq!(
        c.send_typing("..", None).unwrap_err().result_code(),
        ResultCode::InvalidArgument
    );
}

#[test]
fn empty_arguments_are_invalid() {
    let env = start();
    let c = client(&env, &fast_options());
    let none = MessageOptions::new();
    for err in [
        c.send_message("", "x", &none).unwrap_err(),
        c.send_message("t", "", &none).unwrap_err(),
        c.send_typing("", None).unwrap_err(),
        c.send_read_receipt("t", "").unwrap_err(),
        c.send_read_receipt("", "1").unwrap_err(),
    ] {
        assert_eq!(err.result_code(), ResultCode::InvalidArgument, "{err}");
    }
}

fn status_fault(env: &Env, thread: &str, op: Route, status: u16, count: u32) {
    env.fault(Fault::status(status).on(thread, op).count(count));
}

#[test]
fn error_statuses_map_to_results() {
    let env = start();
    let mut options = fast_options();
    options.set_max_retries(0).unwrap();
    let c = client(&env, &options);
    let cases = [
        (400, ResultCode::BadRequest),
        (401, ResultCode::Unauthorized),
        (403, ResultCode::Forbidden),
        (404, ResultCode::NotFound),
        (408, ResultCode::BadRequest),
        (409, ResultCode::BadRequest),
        (429, ResultCode::Throttled),
        (500, ResultCode::ServiceError),
        (503, ResultCode::ServiceError),
    ];
    for (status, code) in cases {
        let thread = thread_id("status");
        status_fault(&env, &thread, Route::Typing, status, 1);
        let err = c.send_typing(&thread, None).unwrap_err();
        assert_eq!(err.result_code(), code, "{status}: {err}");
        assert_eq!(err.http_status(), status);
        assert!(!err.request_id().is_empty());
        assert!(!err.to_string().contains('\n'));
    }
}

#[test]
fn retries_then_gives_up() {
    let env = start();
    let c = client(&env, &fast_options());
    for (status, code) in [
        (503, ResultCode::ServiceError),
        (429, ResultCode::Throttled),
        (408, ResultCode::BadRequest),
        (500, ResultCode::ServiceError),
        (502, ResultCode::ServiceError),
        (504, ResultCode::ServiceError),
    ] {
        let thread = thread_id("retry");
        status_fault(&env, &thread, Route::Messages, status, 10);
        let err = c
            .send_message(&thread, "hi", &MessageOptions::new())
            .unwrap_err();
        assert_eq!(err.result_code(), code, "{status}");
        let requests = env.requests(&thread);
        assert_eq!(requests.len(), 4, "{status}: 1 try + 3 retries");
        let crid = &requests[0].client_request_id;
        assert!(requests.iter().all(|r| &r.client_request_id == crid));
    }
    // Not retried: other 4xx.
    let thread = thread_id("noretry");
    status_fault(&env, &thread, Route::Messages, 400, 10);
    c.send_message(&thread, "hi", &MessageOptions::new())
        .unwrap_err();
    assert_eq!(env.requests(&thread).len(), 1);
}

#[test]
fn retry_then_success_sends_once() {
    let (env, c, thread) = setup("recover");
    status_fault(&env, &thread, Route::Messages, 503, 2);
    let id = c
        .send_message(&thread, "hi", &MessageOptions::new())
        .unwrap();
    assert_eq!(env.requests(&thread).len(), 3);
    let events = env.events(&thread);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id.as_deref(), Some(id.as_str()));
}

fn gap_ms(requests: &[LoggedRequest], i: usize) -> f64 {
    requests[i + 1].at_ms - requests[i].at_ms
}

#[test]
fn retry_after_is_honoured() {
    let env = start();
    // A long back-off base, overridden by the service's shorter delay.
    let mut options = ClientOptions::new();
    options
        .set_retry_delay(Duration::from_secs(5), Duration::from_secs(10))
        .unwrap();
    let c = client(&env, &options);

    let thread = thread_id("ra-ms");
    env.fault(
        Fault::status(429)
            .on(&thread, Route::Typing)
            .header("retry-after-ms", "300")
            .header("Retry-After", "9"),
    );
    let started = Instant::now();
    c.send_typing(&thread, None).unwrap();
    let requests = env.requests(&thread);
    assert_eq!(requests.len(), 2);
    let gap = gap_ms(&requests, 0);
    assert!((280.0..3000.0).contains(&gap), "gap {gap}");
    assert!(started.elapsed() < Duration::from_secs(4));

    let thread = thread_id("ra-s");
    env.fault(
        Fault::status(503)
            .on(&thread, Route::ReadReceipts)
            .header("Retry-After", "1"),
    );
    c.send_read_receipt(&thread, "1").unwrap();
    let requests = env.requests(&thread);
    let gap = gap_ms(&requests, 0);
    assert!((980.0..4000.0).contains(&gap), "gap {gap}");

    // Capped at the maximum delay.
    let mut options = ClientOptions::new();
    options
        .set_retry_delay(Duration::from_millis(10), Duration::from_millis(100))
        .unwrap();
    let c = client(&env, &options);
    let thread = thread_id("ra-cap");
    env.fault(
        Fault::status(503)
            .on(&thread, Route::Typing)
            .header("Retry-After", "30"),
    );
    let started = Instant::now();
    c.send_typing(&thread, None).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn throttled_error_carries_details() {
    let env = start();
    let mut options = fast_options();
    options.set_max_retries(0).unwrap();
    let c = client(&env, &options);
    let thread = thread_id("throttle");
    env.fault(
        Fault::status(429)
            .on(&thread, Route::Messages)
            .header("Retry-After", "7")
            .header("MS-CV", "cv-123.0")
            .body(r#"{"error":{"code":"TooManyRequests","message":"Slow down."}}"#),
    );
    let err = c
        .send_message(&thread, "hi", &MessageOptions::new())
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Throttled);
    assert_eq!(err.service_code(), "TooManyRequests");
    assert_eq!(err.to_string(), "Slow down.");
    assert_eq!(err.request_id(), "cv-123.0");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(!err.may_have_been_delivered());
}

#[test]
fn error_body_shapes() {
    let env = start();
    let mut options = fast_options();
    options.set_max_retries(0).unwrap();
    let c = client(&env, &options);

    let thread = thread_id("pascal");
    env.fault(Fault::status(403).on(&thread, Route::Typing).body(
        r#"{"CommunicationError":{"Code":"Forbidden","Message":"Not a member.","Details":[]}}"#,
    ));
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Forbidden);
    assert_eq!(err.service_code(), "Forbidden");
    assert_eq!(err.to_string(), "Not a member.");

    let thread = thread_id("html");
    env.fault(
        Fault::status(502)
            .on(&thread, Route::Typing)
            .body("<html><body><h1>502 Bad Gateway</h1>\n</body></html>"),
    );
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::ServiceError);
    assert_eq!(err.service_code(), "");
    assert_eq!(err.to_string(), "HTTP 502 Bad Gateway");

    let thread = thread_id("empty");
    env.fault(Fault::status(401).on(&thread, Route::Typing).body(""));
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Unauthorized);
    assert_eq!(err.to_string(), "HTTP 401 Unauthorized");

    let thread = thread_id("truncated");
    env.fault(
        Fault::status(400)
            .on(&thread, Route::Typing)
            .body(r#"{"error":{"code":"BadRe"#),
    );
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::BadRequest);
    assert_eq!(err.to_string(), "HTTP 400 Bad Request");
}

/// Requests of a thread that no fault answered.
fn unfaulted(env: &Env, thread: &str) -> usize {
    env.requests(thread).iter().filter(|r| !r.fault).count()
}

#[test]
fn send_message_is_not_retried_after_timeout_or_drop() {
    let env = start();
    let mut options = fast_options();
    options.set_timeout(Some(Duration::from_millis(300)));
    let c = client(&env, &options);

    let thread = thread_id("timeout");
    env.fault(
        Fault::new()
            .on(&thread, Route::Messages)
            .delay(Duration::from_millis(1500)),
    );
    let err = c
        .send_message(&thread, "hi", &MessageOptions::new())
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Timeout, "{err}");
    assert!(err.may_have_been_delivered());
    assert!(!err.request_id().is_empty());
    // No retry reached the emulator (a retry would not be faulted).
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(unfaulted(&env, &thread), 0);

    for (action, name) in [
        (FaultAction::Drop, "drop"),
        (FaultAction::DropBeforeBody, "dropBeforeBody"),
    ] {
        let thread = thread_id(name);
        env.fault(Fault::action(action).on(&thread, Route::Messages));
        let err = c
            .send_message(&thread, "hi", &MessageOptions::new())
            .unwrap_err();
        assert_eq!(err.result_code(), ResultCode::Io, "{name}: {err}");
        assert!(err.may_have_been_delivered());
        assert_eq!(env.requests(&thread).len(), 1, "{name}");
    }
}

#[test]
fn typing_and_receipts_are_retried_after_timeout_or_drop() {
    let env = start();
    let mut options = fast_options();
    options.set_timeout(Some(Duration::from_millis(300)));
    let c = client(&env, &options);

    let thread = thread_id("t-timeout");
    env.fault(
        Fault::new()
            .on(&thread, Route::Typing)
            .delay(Duration::from_millis(1500)),
    );
    c.send_typing(&thread, None).unwrap();
    assert_eq!(unfaulted(&env, &thread), 1);

    let thread = thread_id("r-drop");
    env.fault(
        Fault::action(FaultAction::Drop)
            .on(&thread, Route::ReadReceipts)
            .count(2),
    );
    c.send_read_receipt(&thread, "1").unwrap();
    assert_eq!(env.requests(&thread).len(), 3);

    let thread = thread_id("t-drop-all");
    env.fault(
        Fault::action(FaultAction::Drop)
            .on(&thread, Route::Typing)
            .count(10),
    );
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Io);
    assert_eq!(env.requests(&thread).len(), 4);
}

#[test]
fn created_without_id_uses_location() {
    let (env, c, thread) = setup("loc");
    env.fault(
        Fault::status(201)
            .on(&thread, Route::Messages)
            .header(
                "Location",
                &format!("{}/chat/threads/x/messages/17%2F5?api-version=1", env.url),
            )
            .body(""),
    );
    assert_eq!(
        c.send_message(&thread, "hi", &MessageOptions::new())
            .unwrap(),
        "17/5"
    );

    let thread = thread_id("loc-bad-body");
    env.fault(
        Fault::status(201)
            .on(&thread, Route::Messages)
            .header("Location", "/chat/threads/x/messages/99")
            .body("{\"id\":"),
    );
    assert_eq!(
        c.send_message(&thread, "hi", &MessageOptions::new())
            .unwrap(),
        "99"
    );

    let thread = thread_id("noid");
    env.fault(
        Fault::status(201)
            .on(&thread, Route::Messages)
            .header("MS-CV", "cv-9")
            .body("{}"),
    );
    let err = c
        .send_message(&thread, "hi", &MessageOptions::new())
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Protocol);
    assert!(err.to_string().contains("may have been created"), "{err}");
    assert!(err.may_have_been_delivered());
    assert_eq!(err.http_status(), 201);
    assert_eq!(err.request_id(), "cv-9");
    assert_eq!(env.requests(&thread).len(), 1);
}

#[test]
fn redirect_is_protocol_and_not_followed() {
    let (env, c, thread) = setup("redirect");
    let target = thread_id("target");
    env.fault(Fault::status(307).on(&thread, Route::Messages).header(
        "Location",
        &format!(
            "{}/chat/threads/{}/messages?api-version=2025-03-15",
            env.url,
            common::encode(&target)
        ),
    ));
    let err = c
        .send_message(&thread, "hi", &MessageOptions::new())
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Protocol);
    assert_eq!(err.http_status(), 307);
    assert_eq!(env.requests(&thread).len(), 1);
    assert!(env.requests(&target).is_empty());
}

#[test]
fn oversized_body_is_protocol() {
    let (env, c, thread) = setup("big");
    env.fault(Fault::action(FaultAction::Oversize).on(&thread, Route::Messages));
    let err = c
        .send_message(&thread, "hi", &MessageOptions::new())
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Protocol, "{err}");
    assert!(err.may_have_been_delivered());
    // The client still works afterwards.
    c.send_message(&thread, "again", &MessageOptions::new())
        .unwrap();

    let thread = thread_id("big-error");
    env.fault(
        Fault::status(500)
            .with_action(FaultAction::Oversize)
            .on(&thread, Route::Typing),
    );
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Protocol, "{err}");
    assert_eq!(err.http_status(), 500);
    assert!(!err.may_have_been_delivered());

    // Any oversized body is unusable, even for a typing notification.
    let thread = thread_id("big-typing");
    env.fault(Fault::action(FaultAction::Oversize).on(&thread, Route::Typing));
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Protocol, "{err}");
    assert_eq!(env.requests(&thread).len(), 1, "not retried");
}

#[test]
fn connect_failure_is_retried_then_connect() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let env = start();
    let mut options = fast_options();
    options.set_max_retries(2).unwrap();
    let c = ChatClient::new(&format!("http://127.0.0.1:{port}"), &env.token(), &options).unwrap();
    let started = Instant::now();
    let err = c
        .send_message("t", "hi", &MessageOptions::new())
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Connect, "{err}");
    assert!(!err.may_have_been_delivered());
    assert_eq!(err.http_status(), 0);
    assert!(
        started.elapsed() >= Duration::from_millis(20),
        "two back-offs"
    );
}

#[test]
fn endpoint_and_token_validation() {
    let env = start();
    let token = env.token();
    let o = ClientOptions::new();
    let code = |r: Result<ChatClient, Error>| r.unwrap_err().result_code();
    assert_eq!(
        code(ChatClient::new("http://example.com", &token, &o)),
        ResultCode::InsecureEndpoint
    );
    assert_eq!(
        code(ChatClient::new("https://example.com/acs?key=1", &token, &o)),
        ResultCode::InvalidArgument
    );
    assert_eq!(
        code(ChatClient::new(&env.url, "not-a-jwt", &o)),
        ResultCode::Token
    );
    // Without a scheme, https is assumed (as the official SDKs do), so a
    // plain-http emulator is not reached that way: the TLS handshake fails.
    let schemeless = env.url.trim_start_matches("http://");
    let err = ChatClient::new(schemeless, &token, &o)
        .unwrap()
        .send_typing("t", None)
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Connect, "{err}");
    let mut insecure = ClientOptions::new();
    insecure.set_allow_insecure_http(true);
    assert!(ChatClient::new("http://example.com", &token, &insecure).is_ok());
    assert!(ChatClient::new(&format!("{}/", env.url), &token, &o).is_ok());
    let localhost = env.url.replace("127.0.0.1", "localhost");
    let c = ChatClient::new(&localhost, &token, &fast_options()).unwrap();
    c.send_typing(&thread_id("localhost"), None).unwrap();
}

#[test]
fn expired_token_without_refresher_is_unauthorized() {
    let env = start();
    let c = ChatClient::new(&env.url, &env.token_for("u", -60), &fast_options()).unwrap();
    let err = c.send_typing(&thread_id("expired"), None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Unauthorized);
}

#[test]
fn set_token_swaps_identity() {
    let (env, c, thread) = setup("swap");
    c.send_typing(&thread, None).unwrap();
    c.set_token(&env.token_for("user2", 3600)).unwrap();
    c.send_typing(&thread, None).unwrap();
    assert_eq!(
        c.set_token("garbage").unwrap_err().result_code(),
        ResultCode::Token
    );
    c.send_typing(&thread, None).unwrap();
    let users: Vec<_> = env.events(&thread).iter().map(|e| e.user.clone()).collect();
    assert_eq!(users, ["user1", "user2", "user2"]);
}

/// A refresher counting its calls and returning tokens from the emulator.
fn counting_refresher(
    env: &Env,
    expires_in: i64,
) -> (Arc<AtomicU32>, Arc<dyn acs_chat::TokenRefresher>) {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let token = env.token_for("refreshed", expires_in);
    let refresher = move || -> Result<String, RefreshError> {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(token.clone())
    };
    (calls, Arc::new(refresher))
}

#[test]
fn refresher_on_demand_window_and_no_hot_loop() {
    let env = start_unlimited();
    // The refresher hands out tokens inside the on-demand window (60 s left).
    let (calls, refresher) = counting_refresher(&env, 60);
    let mut options = fast_options();
    options.set_token_refresher(Some(refresher));
    let c = ChatClient::new(&env.url, &env.token_for("initial", 90), &options).unwrap();
    let thread = thread_id("ondemand");
    for _ in 0..20 {
        c.send_typing(&thread, None).unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let events = env.events(&thread);
    assert!(events.iter().all(|e| e.user == "refreshed"));
}

#[test]
fn refresher_not_called_with_plenty_of_life() {
    let env = start();
    let (calls, refresher) = counting_refresher(&env, 3600);
    let mut options = fast_options();
    options
        .set_token_refresher(Some(refresher))
        .set_proactive_refresh(true);
    let c = ChatClient::new(&env.url, &env.token(), &options).unwrap();
    c.send_typing(&thread_id("plenty"), None).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn refresher_after_401_retries_once() {
    let env = start();
    let (calls, refresher) = counting_refresher(&env, 3600);
    let mut options = fast_options();
    options.set_token_refresher(Some(refresher));
    let c = client(&env, &options);

    let thread = thread_id("401");
    status_fault(&env, &thread, Route::Messages, 401, 1);
    c.send_message(&thread, "hi", &MessageOptions::new())
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(env.requests(&thread).len(), 2);
    assert_eq!(env.events(&thread)[0].user, "refreshed");

    // A 401 that persists: one refresh per call, then UNAUTHORIZED.
    let thread = thread_id("401-always");
    status_fault(&env, &thread, Route::Typing, 401, 100);
    for _ in 0..3 {
        let err = c.send_typing(&thread, None).unwrap_err();
        assert_eq!(err.result_code(), ResultCode::Unauthorized);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(env.requests(&thread).len(), 6);
}

#[test]
fn refresher_expired_result_and_failure_are_token_errors() {
    let env = start();
    let (calls, refresher) = counting_refresher(&env, -30);
    let mut options = fast_options();
    options.set_token_refresher(Some(refresher));
    let c = ChatClient::new(&env.url, &env.token_for("u", 30), &options).unwrap();
    let thread = thread_id("expired-result");
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Token);
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(env.requests(&thread).is_empty());
    // A later call may try again, but never loops.
    let _ = c.send_typing(&thread, None);
    assert!(calls.load(Ordering::SeqCst) <= 2);

    let mut options = fast_options();
    options.set_token_refresher(Some(Arc::new(|| -> Result<String, RefreshError> {
        Err("identity service down".into())
    })));
    let c = ChatClient::new(&env.url, &env.token_for("u", 30), &options).unwrap();
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Token);
    assert!(err.to_string().contains("identity service down"));
}

#[test]
fn refresh_is_single_flight_across_threads() {
    let env = start_unlimited();
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let token = env.token_for("refreshed", 3600);
    let mut options = fast_options();
    options.set_token_refresher(Some(Arc::new(move || -> Result<String, RefreshError> {
        counter.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
        Ok(token.clone())
    })));
    let c = ChatClient::new(&env.url, &env.token_for("u", 30), &options).unwrap();
    let thread = thread_id("single-flight");
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| c.send_typing(&thread, None).unwrap());
        }
    });
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(env.events(&thread).len(), 6);
}

#[test]
fn many_threads_share_one_client() {
    let env = start_unlimited();
    let c = client(&env, &fast_options());
    let thread = thread_id("shared");
    std::thread::scope(|s| {
        for t in 0..8 {
            let c = c.clone();
            let thread = &thread;
            s.spawn(move || {
                for i in 0..15 {
                    let id = c
                        .send_message(thread, &format!("{t}-{i}"), &MessageOptions::new())
                        .unwrap();
                    c.send_read_receipt(thread, &id).unwrap();
                    c.send_typing(thread, None).unwrap();
                }
            });
        }
    });
    let events = env.events(&thread);
    assert_eq!(events.len(), 8 * 15 * 3);
    let mut ids: Vec<_> = events
        .iter()
        .filter(|e| e.op == EventOp::Message)
        .map(|e| e.id.as_deref().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 120);
}

#[test]
fn clients_across_emulators_do_not_mix() {
    let a = start();
    let b = start();
    let ca = client(&a, &fast_options());
    let cb = client(&b, &fast_options());
    let thread = thread_id("two");
    ca.send_typing(&thread, None).unwrap();
    cb.send_typing(&thread, None).unwrap();
    cb.send_typing(&thread, None).unwrap();
    assert_eq!(a.events(&thread).len(), 1);
    assert_eq!(b.events(&thread).len(), 2);
}

#[test]
fn token_never_appears_in_errors() {
    let env = start();
    let token = env.token();
    let mut options = fast_options();
    options.set_max_retries(0).unwrap();
    let c = ChatClient::new(&env.url, &token, &options).unwrap();
    let thread = thread_id("echo");
    env.fault(Fault::status(400).on(&thread, Route::Typing).body(&format!(
        r#"{{"error":{{"code":"Bad {token}","message":"Your token {token} is bad"}}}}"#
    )));
    let err = c.send_typing(&thread, None).unwrap_err();
    assert!(!err.to_string().contains(&token));
    assert!(!err.service_code().contains(&token));
    assert!(!format!("{err:?}").contains(&token));
    assert!(!format!("{c:?}").contains(&token));
}

#[test]
fn connection_closed_by_server_while_idle_is_not_an_error() {
    // The server drops idle keep-alive connections after 300 ms; the next call
    // must not fail (nor, for send-message, be reported as maybe delivered).
    let emulator = acs_chat_emulator::Emulator::start_with_header_timeout(
        acs_chat_emulator::EmulatorConfig::default(),
        Duration::from_millis(300),
    )
    .unwrap();
    let env = Env::new(emulator);
    let mut options = fast_options();
    options.set_max_retries(0).unwrap();
    let c = client(&env, &options);
    let thread = thread_id("idle");
    for _ in 0..3 {
        c.send_message(&thread, "hi", &MessageOptions::new())
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
    }
    assert_eq!(env.events(&thread).len(), 3);
}

#[test]
fn blocking_calls_work_from_inside_an_async_runtime() {
    let (env, c, thread) = setup("in-runtime");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Directly on the runtime's thread: the call blocks that thread but its
    // I/O runs on the library's own runtime, so it completes.
    runtime
        .block_on(async { c.send_typing(&thread, None) })
        .unwrap();
    // From tokio's blocking pool, as code inside a runtime should call it.
    runtime
        .block_on(async {
            let c = c.clone();
            let thread = thread.clone();
            tokio::task::spawn_blocking(move || c.send_typing(&thread, None))
                .await
                .unwrap()
        })
        .unwrap();
    assert_eq!(env.events(&thread).len(), 2);
}
