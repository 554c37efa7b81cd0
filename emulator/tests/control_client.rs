//! The typed control client against the control API: every call, its answers next to the
//! raw JSON, refusals, unreachable emulators, and use inside an asynchronous runtime.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use acs_chat_emulator::{
    ControlClient, ControlError, EventOp, Fault, FaultAction, FaultsQueued, Route, TokenOptions,
};
use common::*;
use serde_json::json;

const THREAD: &str = "19:typed/control@thread.v2";

#[test]
fn every_control_call_matches_the_raw_api() {
    let emu = start();
    let url = emu.url();
    let control = emu.control();
    assert_eq!(control.url(), url);

    // Tokens.
    let token = control
        .token(&TokenOptions::new().user("8:acs:typed").expires_in(120))
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(token.user, "8:acs:typed");
    assert!((now + 115..=now + 125).contains(&token.expires_on));
    assert_eq!(token.token.split('.').count(), 3);
    assert!(!format!("{token:?}").contains(&token.token));
    let expired = control.token(&TokenOptions::new().expires_in(-30)).unwrap();
    assert!(expired.expires_on < now);
    assert!(expired.user.starts_with("acs:"), "{}", expired.user);

    // Faults: two queued in order, three calls pending.
    let queued = control
        .faults(&[
            Fault::status(503)
                .on(THREAD, Route::Typing)
                .count(2)
                .header("Retry-After", "1"),
            Fault::action(FaultAction::Drop).route(Route::ReadReceipts),
        ])
        .unwrap();
    assert_eq!(
        queued,
        FaultsQueued {
            queued: 2,
            pending: 3
        }
    );
    assert_eq!(control.pending_faults().unwrap(), 3);
    assert_eq!(get_json(&format!("{url}/_emulator/faults"))["pending"], 3);

    // One faulted call and one accepted message.
    let c = client();
    let typing = call(&c, &url, THREAD, "typing", &token.token, "{}");
    assert_eq!(typing.status(), 503);
    assert_eq!(typing.headers()["retry-after"], "1");
    let sent = c
        .post(format!(
            "{url}/chat/threads/{}/messages?api-version={API}",
            enc(THREAD)
        ))
        .bearer_auth(&token.token)
        .header("content-type", "application/json")
        .header("x-ms-client-request-id", "typed-1")
        .header("user-agent", "typed-test/1.0")
        .body(
            json!({"content": "hi", "type": "html", "senderDisplayName": "Ann",
                   "metadata": {"k": "v"}})
            .to_string(),
        )
        .send()
        .unwrap();
    assert_eq!(sent.status(), 201);
    assert_eq!(control.pending_faults().unwrap(), 2);

    // Events, typed and raw.
    let typed = control.events(THREAD).unwrap();
    let raw = events(&url, THREAD);
    assert_eq!((typed.len(), raw.len()), (1, 1));
    let (event, json) = (&typed[0], &raw[0]);
    assert_eq!(event.op, EventOp::Message);
    assert_eq!(event.id.as_deref(), json["id"].as_str());
    assert!(event.id.is_some());
    assert_eq!(event.content.as_deref(), Some("hi"));
    assert_eq!(event.kind.as_deref(), Some("html"));
    assert_eq!(event.sender_display_name.as_deref(), Some("Ann"));
    assert_eq!(event.metadata.as_ref().unwrap()["k"], "v");
    assert_eq!(event.chat_message_id, None);
    assert_eq!(event.user, "8:acs:typed");
    assert_eq!(event.client_request_id.as_deref(), Some("typed-1"));
    assert_eq!(event.user_agent.as_deref(), Some("typed-test/1.0"));
    assert_eq!(Some(event.at_ms), json["atMs"].as_f64());

    // The request log, typed and raw.
    let typed = control.requests(THREAD).unwrap();
    let raw = requests(&url, THREAD);
    assert_eq!((typed.len(), raw.len()), (2, 2));
    assert_eq!(typed[0].op, Route::Typing);
    assert_eq!(typed[0].status, 503);
    assert!(typed[0].fault);
    assert_eq!(typed[1].op, Route::Messages);
    assert_eq!(typed[1].method, "POST");
    assert_eq!(typed[1].status, 201);
    assert!(!typed[1].fault);
    assert_eq!(typed[1].authorization, "Bearer");
    assert_eq!(typed[1].api_version.as_deref(), Some(API));
    assert_eq!(typed[1].content_type.as_deref(), Some("application/json"));
    assert_eq!(typed[1].client_request_id.as_deref(), Some("typed-1"));
    assert_eq!(typed[1].http_version, "HTTP/1.1");
    for (line, json) in typed.iter().zip(&raw) {
        assert_eq!(Some(line.connection), json["connection"].as_u64());
        assert_eq!(Some(line.at_ms), json["atMs"].as_f64());
        assert_eq!(Some(line.done_ms), json["doneMs"].as_f64());
        assert!(line.done_ms >= line.at_ms);
    }
    assert!(control.events("nothing-here").unwrap().is_empty());
    assert!(control.requests("nothing-here").unwrap().is_empty());

    // Limits and latency.
    assert!(control.limits().unwrap());
    assert!(!control.set_limits(false).unwrap());
    assert!(!control.limits().unwrap());
    assert_eq!(
        get_json(&format!("{url}/_emulator/limits"))["enabled"],
        false
    );
    let latency = Duration::from_millis(25);
    assert_eq!(control.set_latency(latency).unwrap(), latency);
    assert_eq!(control.latency().unwrap(), latency);
    assert_eq!(emu.latency(), latency);
    match control.set_latency(Duration::from_secs(601)) {
        Err(ControlError::Status { status: 400, body }) => {
            assert!(body.contains("must be within"), "{body}")
        }
        other => panic!("{other:?}"),
    }
    let jitter = Duration::from_millis(7);
    assert_eq!(
        control.set_latency_with_jitter(latency, jitter).unwrap(),
        (latency, jitter)
    );
    assert_eq!(control.latency_with_jitter().unwrap(), (latency, jitter));
    assert_eq!(get_json(&format!("{url}/_emulator/latency"))["jitterMs"], 7);
    match control.set_latency_with_jitter(Duration::from_secs(599), Duration::from_secs(2)) {
        Err(ControlError::Status { status: 400, body }) => {
            assert!(body.contains("must be within"), "{body}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(control.set_latency(latency).unwrap(), latency);
    assert_eq!(
        control.latency_with_jitter().unwrap(),
        (latency, Duration::ZERO)
    );
    match control.fault(&Fault::new().count(0)) {
        Err(ControlError::Status { status: 400, body }) => {
            assert!(body.contains("count must be at least 1"), "{body}")
        }
        other => panic!("{other:?}"),
    }

    // Reset clears what a run left, not the latency.
    control.reset().unwrap();
    assert!(control.events(THREAD).unwrap().is_empty());
    assert!(control.requests(THREAD).unwrap().is_empty());
    assert_eq!(control.pending_faults().unwrap(), 0);
    assert_eq!(control.latency().unwrap(), latency);
}

#[test]
fn a_client_of_the_binary_from_inside_an_async_runtime() {
    let spawned = spawn(&["--no-limits"]);
    let control = ControlClient::new(&spawned.url).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (token, limits) = runtime.block_on(async {
        let token = control.token(&TokenOptions::new().user("async")).unwrap();
        (token, control.limits().unwrap())
    });
    assert_eq!(token.user, "async");
    assert!(!limits, "started with --no-limits");
    signal_and_wait(spawned, "-TERM");
}

#[test]
fn bad_urls_and_unreachable_emulators_are_errors_not_hangs() {
    for bad in [
        "127.0.0.1:80",
        "ftp://127.0.0.1",
        "http://",
        "http://x/y",
        "http://x:y",
    ] {
        match ControlClient::new(bad) {
            Err(ControlError::Url(message)) => assert!(!message.is_empty()),
            other => panic!("{bad}: {other:?}"),
        }
    }

    // Nobody listening.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let refused = ControlClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
    assert!(matches!(refused.limits(), Err(ControlError::Transport(_))));

    // Connected, never answered: bounded by the timeout.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_client = ControlClient::new(&format!("http://{}", silent.local_addr().unwrap()))
        .unwrap()
        .timeout(Duration::from_millis(300));
    let started = Instant::now();
    match silent_client.reset() {
        Err(ControlError::Transport(message)) => assert!(message.contains("no answer")),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(silent);
}
