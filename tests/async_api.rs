//! The asynchronous Rust API, deadlines, the per-origin bound, cancellation
//! by dropping a future, re-entrant refreshers and pool release.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use acs_chat::{ChatClient, ClientOptions, MessageOptions, RefreshError, ResultCode};
use acs_chat_emulator::{EventOp, Fault, Route};
use common::{
    client, fast_options, setup, start, start_unlimited, start_unlimited_on, thread_id, Env,
};

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The next message sent to `thread` is answered `201 {"id":"1"}` after `ms` ms.
fn hold_back_message(env: &Env, thread: &str, ms: u64) {
    env.fault(
        Fault::status(201)
            .on(thread, Route::Messages)
            .body("{\"id\":\"1\"}")
            .delay(Duration::from_millis(ms)),
    );
}

#[test]
fn async_twins_work_on_any_tokio_runtime() {
    let (env, c, thread) = setup("async");
    let current = current_thread_runtime();
    let id = current
        .block_on(c.send_message_async(&thread, "one", &MessageOptions::new()))
        .unwrap();
    current
        .block_on(c.send_read_receipt_async(&thread, &id))
        .unwrap();
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    multi
        .block_on(c.send_typing_async(&thread, Some("Ann")))
        .unwrap();
    let events = env.events(&thread);
    let ops: Vec<EventOp> = events.iter().map(|e| e.op).collect();
    assert_eq!(
        ops,
        [EventOp::Message, EventOp::ReadReceipt, EventOp::Typing]
    );
    assert_eq!(events[0].id.as_deref(), Some(id.as_str()));
}

#[test]
fn many_async_calls_in_flight_on_one_client() {
    let env = start_unlimited();
    let c = client(&env, &fast_options());
    let thread = thread_id("fan-out");
    let runtime = current_thread_runtime();
    let ids = runtime.block_on(async {
        let calls: Vec<_> = (0..500)
            .map(|i| c.send_message_async(&thread, &format!("m{i}"), &MessageOptions::new()))
            .collect();
        let mut ids = Vec::new();
        for call in calls {
            ids.push(call.await.unwrap());
        }
        ids
    });
    let stored: std::collections::HashSet<String> = env
        .events(&thread)
        .iter()
        .map(|e| e.id.as_deref().unwrap().to_owned())
        .collect();
    assert_eq!(stored.len(), 500);
    assert!(ids.iter().all(|id| stored.contains(id)));
}

#[test]
fn invalid_arguments_fail_before_anything_is_sent() {
    let env = start();
    let c = client(&env, &fast_options());
    let runtime = current_thread_runtime();
    let err = runtime
        .block_on(c.send_message_async("", "x", &MessageOptions::new()))
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::InvalidArgument);
    let thread = thread_id("invalid");
    let err = runtime
        .block_on(c.send_read_receipt_async(&thread, ""))
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::InvalidArgument);
    assert!(env.requests(&thread).is_empty());
}

#[test]
fn a_call_starts_without_being_polled_and_dropping_it_cancels() {
    let (env, c, thread) = setup("eager");
    // Never polled: the call still runs.
    let future = c.send_typing_async(&thread, None);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while env.events(&thread).is_empty() {
        assert!(std::time::Instant::now() < deadline, "the call never ran");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(future);

    // Dropped while the service holds the answer back: the call stops, the
    // connection is closed, and the emulator logs an unanswered request.
    let thread = thread_id("dropped");
    hold_back_message(&env, &thread, 3000);
    let future = c.send_message_async(&thread, "x", &MessageOptions::new());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while env.requests(&thread).is_empty() {
        assert!(std::time::Instant::now() < deadline, "the call never ran");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(future);
    let requests = env.requests(&thread);
    assert_eq!(requests[0].status, 0, "{requests:?}");
}

#[test]
fn total_timeout_bounds_every_attempt_and_wait_together() {
    let env = start();
    let thread = thread_id("deadline");
    // Each try answers 503 after 150 ms with a long Retry-After: without a
    // deadline the call would take seconds.
    env.fault(
        Fault::status(503)
            .on(&thread, Route::Typing)
            .count(10)
            .header("Retry-After", "1")
            .delay(Duration::from_millis(150)),
    );
    let mut options = fast_options();
    options
        .set_retry_delay(Duration::from_millis(10), Duration::from_secs(2))
        .unwrap();
    options.set_total_timeout(Some(Duration::from_millis(400)));
    let c = client(&env, &options);
    let started = std::time::Instant::now();
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Timeout, "{err}");
    assert!(err.to_string().contains("deadline of 400 ms"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(1000));
    // One attempt answered, the call was waiting to retry: nothing applied.
    assert!(!err.may_have_been_delivered(), "{err}");

    // A request sent and unanswered when the deadline passes may have arrived.
    let thread = thread_id("deadline-sent");
    hold_back_message(&env, &thread, 2000);
    let err = c
        .send_message(&thread, "x", &MessageOptions::new())
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Timeout, "{err}");
    assert!(err.may_have_been_delivered(), "{err}");
    assert!(!err.request_id().is_empty());
}

#[test]
fn calls_beyond_the_origin_bound_wait_in_line() {
    let (env, thread) = start_unlimited_on("bounded");
    env.fault(
        Fault::new()
            .on(&thread, Route::Typing)
            .count(4)
            .delay(Duration::from_millis(100)),
    );
    let mut options = fast_options();
    options
        .set_max_connections_per_origin(1)
        .unwrap()
        .set_timeout(Some(Duration::from_millis(300)));
    let c = client(&env, &options);
    let runtime = current_thread_runtime();
    runtime.block_on(async {
        let calls: Vec<_> = (0..4).map(|_| c.send_typing_async(&thread, None)).collect();
        for call in calls {
            // Waiting for a place does not count against the per-try timeout:
            // the fourth call waits about 300 ms, and still succeeds.
            call.await.unwrap();
        }
    });
    let requests = env.requests(&thread);
    assert_eq!(requests.len(), 4);
    for pair in requests.windows(2) {
        let (done, next) = (pair[0].done_ms, pair[1].at_ms);
        assert!(next >= done, "two requests overlapped: {requests:?}");
    }
    assert!(ClientOptions::new()
        .set_max_connections_per_origin(0)
        .is_err());
}

#[test]
fn a_refresher_calling_its_own_client_is_refused_not_deadlocked() {
    let env = start();
    let short = env.token_for("8:acs:reentrant", 30);
    let fresh = env.token_for("8:acs:reentrant", 3600);
    let slot: Arc<std::sync::Mutex<Option<ChatClient>>> = Arc::default();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicU32::new(0));
    let (slot2, seen2, calls2, thread) = (
        slot.clone(),
        seen.clone(),
        calls.clone(),
        thread_id("reentrant"),
    );
    let thread2 = thread.clone();
    let mut options = fast_options();
    options.set_token_refresher(Some(Arc::new(move || -> Result<String, RefreshError> {
        calls2.fetch_add(1, Ordering::SeqCst);
        let client = slot2.lock().unwrap().clone().unwrap();
        let err = client.send_typing(&thread2, None).unwrap_err();
        seen2.lock().unwrap().push(err.result_code());
        Ok(fresh.clone())
    })));
    let c = ChatClient::new(&env.url, &short, &options).unwrap();
    *slot.lock().unwrap() = Some(c.clone());
    c.send_typing(&thread, None).unwrap();
    // The asynchronous path runs the refresher on another thread: the same
    // rule. An expired token is refreshed whatever the last refresh's time.
    c.set_token(&env.token_for("8:acs:reentrant", -10)).unwrap();
    let runtime = current_thread_runtime();
    runtime
        .block_on(c.send_typing_async(&thread, None))
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [ResultCode::InvalidArgument; 2],
        "refresher calls: {}",
        calls.load(Ordering::SeqCst)
    );
    *slot.lock().unwrap() = None;
}

#[test]
fn a_hanging_refresher_is_bounded_by_the_deadline() {
    let env = start();
    let thread = thread_id("hanging-refresher");
    let mut options = fast_options();
    options.set_total_timeout(Some(Duration::from_millis(300)));
    let fresh = env.token_for("8:acs:hang", 3600);
    options.set_token_refresher(Some(Arc::new(move || -> Result<String, RefreshError> {
        std::thread::sleep(Duration::from_secs(3));
        Ok(fresh.clone())
    })));
    let c = ChatClient::new(&env.url, &env.token_for("8:acs:hang", 30), &options).unwrap();
    let runtime = current_thread_runtime();
    for blocking in [true, false] {
        let started = std::time::Instant::now();
        let err = if blocking {
            c.send_typing(&thread, None).unwrap_err()
        } else {
            runtime
                .block_on(c.send_typing_async(&thread, None))
                .unwrap_err()
        };
        assert_eq!(err.result_code(), ResultCode::Timeout, "{err}");
        assert!(!err.may_have_been_delivered());
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "waited {:?} for the refresher",
            started.elapsed()
        );
    }
    assert!(env.requests(&thread).is_empty());
}
