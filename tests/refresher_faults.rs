//! The token refresher under faults: it fails, it returns expired tokens, it
//! returns tokens that expire in a second, it is slow while 16 threads send,
//! and (through the C API) it misbehaves at the boundary.

// SAFETY (every `unsafe { acs_* }` block below): the C API is called as C
// would call it, with NULL, pointers into live `CString`s and buffers of the
// length passed, and handles this file created and has not yet freed: what
// each function's `# Safety` section asks.

mod common;

use std::ffi::{c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acs_chat::ffi::client::*;
use acs_chat::ffi::errors::*;
use acs_chat::ffi::options::*;
use acs_chat::ffi::token::{acs_token_sink, acs_token_sink_set};
use acs_chat::{ChatClient, ClientOptions, MessageOptions, RefreshError, ResultCode};
use acs_chat_emulator::{Fault, Route};
use common::c::last_message;
use common::{start_unlimited, start_unlimited_on, thread_id, Env};

const THREADS: usize = 16;

/// A refresher that counts its calls and answers with `answer()`.
fn counting(
    delay: Duration,
    answer: impl Fn() -> Result<String, RefreshError> + Send + Sync + 'static,
) -> (Arc<AtomicU32>, Arc<dyn acs_chat::TokenRefresher>) {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let refresher = move || -> Result<String, RefreshError> {
        counter.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(delay);
        answer()
    };
    (calls, Arc::new(refresher))
}

fn client_with(
    env: &Env,
    initial: &str,
    refresher: Arc<dyn acs_chat::TokenRefresher>,
) -> ChatClient {
    let mut options = ClientOptions::new();
    options
        .set_retry_delay(Duration::from_millis(10), Duration::from_millis(100))
        .unwrap()
        .set_token_refresher(Some(refresher));
    ChatClient::new(&env.url, initial, &options).unwrap()
}

/// Sends one message from each of [`THREADS`] threads at once; each must succeed.
fn send_from_every_thread(c: &ChatClient, thread: &str) {
    std::thread::scope(|s| {
        for i in 0..THREADS {
            s.spawn(move || {
                c.send_message(thread, &format!("m{i}"), &MessageOptions::new())
                    .unwrap()
            });
        }
    });
}

#[test]
fn failing_refresher_fails_calls_without_a_loop() {
    let (env, thread) = start_unlimited_on("refresh-fails");
    let (calls, refresher) = counting(Duration::ZERO, || Err("identity service down".into()));

    // Expired: every call asks once, fails with TOKEN, sends nothing.
    let c = client_with(&env, &env.token_for("u", -60), refresher.clone());
    for i in 1..=5 {
        let err = c.send_typing(&thread, None).unwrap_err();
        assert_eq!(err.result_code(), ResultCode::Token);
        assert!(err.to_string().contains("identity service down"), "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), i, "one refresh per call");
    }
    assert!(env.requests(&thread).is_empty());

    // Still valid but inside the on-demand window: the first call fails, later
    // ones within 30 s use the still-valid token rather than asking again.
    calls.store(0, Ordering::SeqCst);
    let c = client_with(&env, &env.token_for("u", 60), refresher);
    assert_eq!(
        c.send_typing(&thread, None).unwrap_err().result_code(),
        ResultCode::Token
    );
    for _ in 0..5 {
        c.send_typing(&thread, None).unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(env.events(&thread).len(), 5);
}

#[test]
fn expired_refresher_tokens_are_token_errors_without_a_loop() {
    let (env, thread) = start_unlimited_on("refresh-expired");
    let expired = env.token_for("u", -5);
    let (calls, refresher) = counting(Duration::ZERO, move || Ok(expired.clone()));
    let c = client_with(&env, &env.token_for("u", -60), refresher);
    let started = Instant::now();
    for i in 1..=5 {
        let err = c
            .send_message(&thread, "x", &MessageOptions::new())
            .unwrap_err();
        assert_eq!(err.result_code(), ResultCode::Token);
        assert!(err.to_string().contains("expired"), "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), i);
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(env.requests(&thread).is_empty(), "nothing sent");

    // A 401 answered with an expired token: one refresh, then TOKEN.
    calls.store(0, Ordering::SeqCst);
    let expired = env.token_for("u", -5);
    let (calls, refresher) = counting(Duration::ZERO, move || Ok(expired.clone()));
    let c = client_with(&env, &env.token(), refresher);
    env.fault(Fault::status(401).on(&thread, Route::Typing).count(5));
    let err = c.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Token, "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(env.requests(&thread).len(), 1);
}

#[test]
fn one_second_tokens_do_not_cause_a_hot_loop() {
    let (env, thread) = start_unlimited_on("refresh-1s");
    let control = env.control.clone();
    let (calls, refresher) = counting(Duration::ZERO, move || {
        Ok(common::token_for(&control, "short", 1))
    });
    let c = client_with(&env, &env.token_for("short", 1), refresher);
    let started = Instant::now();
    let mut sends = 0u32;
    let mut failures = Vec::new();
    while started.elapsed() < Duration::from_secs(3) {
        sends += 1;
        if let Err(e) = c.send_typing(&thread, None) {
            failures.push(e.result_code());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let refreshes = calls.load(Ordering::SeqCst);
    // About one refresh per expiry (plus one per 401 when a token expires in
    // flight), never one per call.
    assert!(sends > 100, "{sends} sends");
    assert!(
        refreshes <= 2 * 4 + 2,
        "{refreshes} refreshes for {sends} sends in 3 s"
    );
    assert!(failures.is_empty(), "failed calls: {failures:?}");
}

#[test]
fn slow_refresher_is_single_flight_across_16_threads() {
    let env = start_unlimited();
    for initial_life in [30, -30] {
        let thread = thread_id("refresh-slow");
        let token = env.token_for("refreshed", 3600);
        let (calls, refresher) = counting(Duration::from_millis(500), move || Ok(token.clone()));
        let c = client_with(&env, &env.token_for("u", initial_life), refresher);
        let started = Instant::now();
        send_from_every_thread(&c, &thread);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "life {initial_life}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let events = env.events(&thread);
        assert_eq!(events.len(), THREADS);
        assert!(events.iter().all(|e| e.user == "refreshed"));
    }

    // Sixteen 401s at once: one refresh serves every thread. The first token's
    // JWT header is not a JSON object: the library reads only its exp, so it
    // sends it, and the emulator answers 401 to every request carrying it,
    // however the threads are scheduled.
    let thread = thread_id("refresh-401");
    let token = env.token_for("refreshed", 3600);
    let (calls, refresher) = counting(Duration::from_millis(300), move || Ok(token.clone()));
    let valid = env.token();
    let rejected = format!("W10.{}", valid.split_once('.').unwrap().1);
    let c = client_with(&env, &rejected, refresher);
    send_from_every_thread(&c, &thread);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(env.events(&thread).len(), THREADS);
}

/// Threads that waited on a refresh share its outcome: a failed refresh is
/// reported to the waiters, not run again by each of them in turn.
#[test]
fn slow_failing_refresher_is_single_flight_across_16_threads() {
    let (env, thread) = start_unlimited_on("refresh-slow-fail");
    let (calls, refresher) = counting(Duration::from_millis(300), || Err("down".into()));
    let c = client_with(&env, &env.token_for("u", -30), refresher);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                let err = c.send_typing(&thread, None).unwrap_err();
                assert_eq!(err.result_code(), ResultCode::Token);
            });
        }
    });
    let n = calls.load(Ordering::SeqCst);
    assert_eq!(n, 1, "{n} refreshes in {:?}", started.elapsed());
}

#[test]
fn slow_failing_refresher_is_asked_at_most_once_per_call() {
    let (env, thread) = start_unlimited_on("refresh-slow-fail-bound");
    let (calls, refresher) = counting(Duration::from_millis(20), || Err("down".into()));
    let c = client_with(&env, &env.token_for("u", -30), refresher);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                let err = c.send_typing(&thread, None).unwrap_err();
                assert_eq!(err.result_code(), ResultCode::Token);
            });
        }
    });
    assert!(calls.load(Ordering::SeqCst) as usize <= THREADS);
    assert!(env.requests(&thread).is_empty());
}

// ---- through the C API -------------------------------------------------

/// What a C refresher does when called.
#[derive(Clone)]
enum Behaviour {
    /// Returns this code without delivering a token.
    Fail(acs_result),
    /// Returns OK without delivering a token.
    NothingDelivered,
    /// Delivers these bytes (NUL added) and returns OK.
    Deliver(Vec<u8>),
    /// Delivers a bad token, then this one.
    DeliverTwice(String),
    /// Passes NULL as the token.
    NullToken,
}

struct CState {
    behaviour: Mutex<Behaviour>,
    calls: AtomicU32,
}

unsafe extern "C" fn c_refresh(user_data: *mut c_void, sink: *mut acs_token_sink) -> acs_result {
    let state = unsafe { &*(user_data as *const CState) };
    state.calls.fetch_add(1, Ordering::SeqCst);
    let behaviour = state.behaviour.lock().unwrap().clone();
    match behaviour {
        Behaviour::Fail(rc) => rc,
        Behaviour::NothingDelivered => ACS_RESULT_OK,
        Behaviour::Deliver(mut bytes) => {
            bytes.push(0);
            let rc = unsafe { acs_token_sink_set(sink, bytes.as_ptr().cast()) };
            if rc == ACS_RESULT_OK {
                ACS_RESULT_OK
            } else {
                rc
            }
        }
        Behaviour::DeliverTwice(token) => {
            let bad = CString::new("garbage").unwrap();
            assert_eq!(
                unsafe { acs_token_sink_set(sink, bad.as_ptr()) },
                ACS_RESULT_OK
            );
            let good = CString::new(token).unwrap();
            unsafe { acs_token_sink_set(sink, good.as_ptr()) }
        }
        Behaviour::NullToken => unsafe { acs_token_sink_set(sink, ptr::null()) },
    }
}

#[test]
fn c_refresher_misbehaving_at_the_boundary() {
    let env = start_unlimited();
    let good = env.token_for("c-refreshed", 3600);
    let state = Box::new(CState {
        behaviour: Mutex::new(Behaviour::Fail(ACS_RESULT_TOKEN)),
        calls: AtomicU32::new(0),
    });
    let mut o = ptr::null_mut();
    assert_eq!(unsafe { acs_client_options_new(&mut o) }, ACS_RESULT_OK);
    assert_eq!(
        unsafe {
            acs_client_options_set_token_refresher(
                o,
                Some(c_refresh),
                (&*state as *const CState).cast_mut().cast(),
                None,
            )
        },
        ACS_RESULT_OK
    );
    let url = CString::new(env.url.clone()).unwrap();
    let expired = CString::new(env.token_for("u", -60)).unwrap();
    let mut client = ptr::null_mut();
    assert_eq!(
        unsafe { acs_client_new(url.as_ptr(), expired.as_ptr(), o, &mut client) },
        ACS_RESULT_OK
    );
    unsafe { acs_client_options_free(o) };
    let thread = thread_id("c-refresher");
    let t = CString::new(thread.clone()).unwrap();

    let cases = [
        (Behaviour::Fail(ACS_RESULT_TOKEN), "returned 24"),
        (Behaviour::Fail(12345), "returned 12345"),
        (Behaviour::Fail(ACS_RESULT_PANIC), "returned 90"),
        (Behaviour::NothingDelivered, "no token"),
        (Behaviour::Deliver(b"\xff\xfe".to_vec()), "returned 2"),
        (Behaviour::Deliver(b"not a jwt".to_vec()), "invalid token"),
        (
            Behaviour::Deliver(b"a.b.c\r\nX-Evil: 1".to_vec()),
            "invalid token",
        ),
        (
            Behaviour::Deliver(env.token_for("u", -1).into_bytes()),
            "expired",
        ),
        (Behaviour::NullToken, "returned 1"),
    ];
    for (i, (behaviour, text)) in cases.into_iter().enumerate() {
        *state.behaviour.lock().unwrap() = behaviour;
        let rc = unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) };
        assert_eq!(rc, ACS_RESULT_TOKEN, "case {i}: {}", last_message());
        let message = last_message();
        assert!(message.contains(text), "case {i}: {message}");
        assert_eq!(state.calls.load(Ordering::SeqCst), i as u32 + 1);
    }
    assert!(env.requests(&thread).is_empty());

    // The last token delivered wins.
    *state.behaviour.lock().unwrap() = Behaviour::DeliverTwice(good);
    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
        ACS_RESULT_OK,
        "{}",
        last_message()
    );
    assert_eq!(env.events(&thread)[0].user, "c-refreshed");
    unsafe { acs_client_free(client) };
    drop(state);
}
