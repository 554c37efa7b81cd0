//! Service latency: set and read back, answers sent late after the event is stored, faults
//! keeping their own delay, and 10 000 calls waiting at once.

mod common;

use std::time::{Duration, Instant};

use acs_chat_emulator::{Emulator, EmulatorConfig};
use common::*;
use serde_json::{json, Value};

const MSG: &str = r#"{"content":"hi"}"#;

fn latency_of(url: &str) -> Value {
    get_json(&format!("{url}/_emulator/latency"))
}

fn set_latency(url: &str, ms: u64) {
    let resp = post_json(&format!("{url}/_emulator/latency"), &json!({ "ms": ms }));
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().unwrap(), json!({ "ms": ms }));
}

/// Milliseconds between arrival and answer of a request-log entry.
fn spent_ms(entry: &Value) -> f64 {
    entry["doneMs"].as_f64().unwrap() - entry["atMs"].as_f64().unwrap()
}

#[test]
fn latency_is_set_read_back_validated_and_kept_by_reset() {
    let emu = start();
    let url = emu.url();
    assert_eq!(latency_of(&url), json!({"ms": 0}));
    assert_eq!(emu.latency(), Duration::ZERO);
    set_latency(&url, 250);
    assert_eq!(latency_of(&url), json!({"ms": 250}));
    assert_eq!(emu.latency(), Duration::from_millis(250));
    for bad in [
        json!({"ms": 600_001}),
        json!({"ms": -1}),
        json!({"ms": "5"}),
        json!({"ms": 1.5}),
        json!({"ms": 5, "jitter": 1}),
        json!({}),
    ] {
        let resp = post_json(&format!("{url}/_emulator/latency"), &bad);
        assert_eq!(error_of(resp).0, 400, "{bad}");
    }
    assert_eq!(
        latency_of(&url),
        json!({"ms": 250}),
        "refused bodies change nothing"
    );
    let resp = client()
        .put(format!("{url}/_emulator/latency"))
        .send()
        .unwrap();
    assert_eq!(resp.headers()["allow"], "GET, POST");
    assert_eq!(error_of(resp).0, 405);
    // A server setting: reset leaves it.
    assert_eq!(
        post_json(&format!("{url}/_emulator/reset"), &json!({})).status(),
        200
    );
    assert_eq!(latency_of(&url), json!({"ms": 250}));
    // The Rust API and the control API set the same value; the largest is accepted.
    emu.set_latency(Duration::from_millis(7));
    assert_eq!(latency_of(&url), json!({"ms": 7}));
    set_latency(&url, 600_000);
    assert_eq!(emu.latency(), Duration::from_secs(600));
    emu.set_latency(Duration::from_secs(3600));
    assert_eq!(latency_of(&url), json!({"ms": 600_000}), "capped");
    set_latency(&url, 0);
    assert_eq!(emu.latency(), Duration::ZERO);

    let configured = Emulator::start(EmulatorConfig {
        latency: Duration::from_millis(40),
        ..EmulatorConfig::default()
    })
    .unwrap();
    assert_eq!(latency_of(&configured.url()), json!({"ms": 40}));
}

#[test]
fn every_service_answer_waits_for_the_latency() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    emu.set_latency(Duration::from_millis(300));
    let t0 = Instant::now();
    let resp = call(&c, &url, "lat", "messages", &tok, MSG);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status(), 201);
    assert!(resp.headers().get("location").is_some());
    let t0 = Instant::now();
    assert_eq!(call(&c, &url, "lat", "typing", &tok, "{}").status(), 200);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    let t0 = Instant::now();
    let receipt = r#"{"chatMessageId":"1"}"#;
    assert_eq!(
        call(&c, &url, "lat", "readReceipts", &tok, receipt).status(),
        200
    );
    assert!(t0.elapsed() >= Duration::from_millis(300));
    // Refusals are answered late too.
    let t0 = Instant::now();
    assert_eq!(call(&c, &url, "lat", "typing", "x.y.z", "{}").status(), 401);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    let t0 = Instant::now();
    let resp = c
        .get(format!("{url}/chat/threads/lat/typing?api-version={API}"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert!(t0.elapsed() >= Duration::from_millis(300));

    let log = requests(&url, "lat");
    let statuses: Vec<u64> = log.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [201, 200, 200, 401, 405]);
    for entry in &log {
        assert!(spent_ms(entry) >= 300.0, "{entry}");
    }
    let ops: Vec<Value> = events(&url, "lat")
        .iter()
        .map(|e| e["op"].clone())
        .collect();
    assert_eq!(ops, ["message", "typing", "readReceipt"]);
}

#[test]
fn a_client_that_gives_up_during_the_latency_still_has_its_message_stored() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    emu.set_latency(Duration::from_secs(10));
    install_crypto();
    let impatient = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let sent = Instant::now();
    let err = impatient
        .post(format!(
            "{url}/chat/threads/gave-up/messages?api-version={API}"
        ))
        .bearer_auth(&tok)
        .header("content-type", "application/json")
        .body(r#"{"content":"stored anyway"}"#)
        .send()
        .expect_err("no answer within 300 ms");
    assert!(err.is_timeout(), "{err:?}");
    // The control API is not delayed, and the message is there long before its answer
    // would have been sent.
    let stored = loop {
        let stored = events(&url, "gave-up");
        if !stored.is_empty() || sent.elapsed() > Duration::from_secs(5) {
            break stored;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(sent.elapsed() < Duration::from_secs(10));
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["content"], "stored anyway");
    let log = requests(&url, "gave-up");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], 0, "never answered");
}

#[test]
fn faults_keep_their_own_delay_and_a_delay_only_fault_adds_the_latency() {
    let emu = start();
    let url = emu.url();
    let tok = token(&url);
    // A scripted answer is not held back by the latency: the client gives up after 5 s.
    emu.set_latency(Duration::from_secs(20));
    add_fault(&url, json!({"threadId": "fl", "status": 503}));
    add_fault(&url, json!({"threadId": "fl", "action": "oversize"}));
    install_crypto();
    let c = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(call(&c, &url, "fl", "messages", &tok, MSG).status(), 503);
    let resp = call(&c, &url, "fl", "messages", &tok, MSG);
    assert_eq!(resp.status(), 201);
    assert!(resp.bytes().unwrap().len() > 2 * 1024 * 1024);
    assert!(events(&url, "fl").is_empty());

    // A fault without a status: its delay, normal handling, then the latency.
    emu.set_latency(Duration::from_millis(300));
    add_fault(
        &url,
        json!({"threadId": "fl", "delayMs": 200, "headers": {"x-extra": "1"}}),
    );
    let t0 = Instant::now();
    let resp = call(&client(), &url, "fl", "messages", &tok, MSG);
    assert!(t0.elapsed() >= Duration::from_millis(500));
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["x-extra"], "1");
    assert_eq!(events(&url, "fl").len(), 1);
    let log = requests(&url, "fl");
    assert_eq!(log.len(), 3);
    assert!(spent_ms(&log[2]) >= 500.0, "{}", log[2]);
}

/// Sends `count` typing calls at once on `client` and returns how long they took together.
async fn wave(
    client: &reqwest::Client,
    url: &str,
    thread: &str,
    tok: &str,
    count: usize,
) -> Duration {
    let target = format!("{url}/chat/threads/{thread}/typing?api-version={API}");
    let started = Instant::now();
    let calls: Vec<_> = (0..count)
        .map(|_| {
            let request = client
                .post(&target)
                .bearer_auth(tok)
                .header("content-type", "application/json")
                .body("{}");
            tokio::spawn(async move {
                let resp = request.send().await.expect("answered");
                let status = resp.status().as_u16();
                resp.bytes().await.expect("body read");
                status
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), 200);
    }
    started.elapsed()
}

/// 10 000 calls waiting 50 ms at once take about 50 ms more than the same calls without
/// latency: the waits overlap. (The binary runs in its own process so that the two sides'
/// 10 000 sockets each fit in a process's descriptor limit.)
#[test]
fn ten_thousand_concurrent_calls_wait_out_the_latency_together() {
    const CALLS: usize = 10_000;
    let spawned = spawn(&["--no-limits", "--latency-ms", "50"]);
    let url = spawned.url.clone();
    assert_eq!(latency_of(&url), json!({"ms": 50}));
    let tok = token(&url);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    install_crypto();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .pool_idle_timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    set_latency(&url, 0);
    // Opens the connections; then the same load on them without and with the latency, twice
    // each, keeping the faster of each pair to even out other work on the machine.
    let (plain, late) = runtime.block_on(async {
        wave(&client, &url, "open", &tok, CALLS).await;
        let (mut plain, mut late) = (Duration::MAX, Duration::MAX);
        for _ in 0..2 {
            set_latency_async(&client, &url, 0).await;
            plain = plain.min(wave(&client, &url, "plain", &tok, CALLS).await);
            set_latency_async(&client, &url, 50).await;
            late = late.min(wave(&client, &url, "late", &tok, CALLS).await);
        }
        (plain, late)
    });
    eprintln!("{CALLS} concurrent calls: {plain:?} without latency, {late:?} with 50 ms");
    let log = requests(&url, "late");
    assert_eq!(log.len(), 2 * CALLS);
    assert!(log
        .iter()
        .all(|r| r["status"] == 200 && spent_ms(r) >= 50.0));
    // About 50 ms more, within the noise of the processing time (waiting one call after
    // another would take 500 s, or 250 s on two blocked workers).
    let bound = plain.mul_f64(1.5) + Duration::from_millis(50 + 500);
    assert!(
        late < bound,
        "{plain:?} without latency, {late:?} with 50 ms"
    );
    drop(runtime);
    signal_and_wait(spawned, "-TERM");
}

async fn set_latency_async(client: &reqwest::Client, url: &str, ms: u64) {
    let resp = client
        .post(format!("{url}/_emulator/latency"))
        .body(json!({ "ms": ms }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[test]
fn jitter_is_set_read_back_validated_and_cleared_by_a_plain_latency() {
    let emu = start();
    let url = emu.url();
    let set = |body: Value| post_json(&format!("{url}/_emulator/latency"), &body);
    let resp = set(json!({"ms": 100, "jitterMs": 50}));
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().unwrap(),
        json!({"ms": 100, "jitterMs": 50})
    );
    assert_eq!(latency_of(&url), json!({"ms": 100, "jitterMs": 50}));
    assert_eq!(emu.latency(), Duration::from_millis(100));
    assert_eq!(emu.latency_jitter(), Duration::from_millis(50));
    for bad in [
        json!({"ms": 300_000, "jitterMs": 300_001}),
        json!({"ms": 0, "jitterMs": 600_001}),
        json!({"ms": 1, "jitterMs": -1}),
        json!({"ms": 1, "jitterMs": "2"}),
        json!({"jitterMs": 2}),
    ] {
        assert_eq!(error_of(set(bad.clone())).0, 400, "{bad}");
    }
    assert_eq!(latency_of(&url), json!({"ms": 100, "jitterMs": 50}));
    // The whole range is one setting: a latency alone has no jitter.
    set_latency(&url, 20);
    assert_eq!(emu.latency_jitter(), Duration::ZERO);
    emu.set_latency_with_jitter(Duration::from_millis(10), Duration::from_millis(20));
    assert_eq!(latency_of(&url), json!({"ms": 10, "jitterMs": 20}));
    emu.set_latency(Duration::from_millis(5));
    assert_eq!(latency_of(&url), json!({"ms": 5}));
    // Capped at 600 s in all, the jitter giving way first.
    emu.set_latency_with_jitter(Duration::from_secs(599), Duration::from_secs(5));
    assert_eq!(latency_of(&url), json!({"ms": 599_000, "jitterMs": 1000}));
    emu.set_latency_with_jitter(Duration::from_secs(700), Duration::from_secs(5));
    assert_eq!(latency_of(&url), json!({"ms": 600_000}));

    let configured = Emulator::start(EmulatorConfig {
        latency: Duration::from_millis(40),
        latency_jitter: Duration::from_millis(15),
        ..EmulatorConfig::default()
    })
    .unwrap();
    assert_eq!(
        latency_of(&configured.url()),
        json!({"ms": 40, "jitterMs": 15})
    );
    let spawned = spawn(&["--latency-ms", "30:20"]);
    assert_eq!(latency_of(&spawned.url), json!({"ms": 30, "jitterMs": 20}));
    signal_and_wait(spawned, "-TERM");
}

/// Each answer waits at least the latency, and a random part of the jitter on top: over 12
/// calls with 0..=200 ms of jitter, one at least waits 50 ms more (all below would happen
/// once in 10^7 runs).
#[test]
fn answers_wait_the_latency_and_a_share_of_the_jitter() {
    const LATENCY_MS: u64 = 100;
    let emu = start_without_limits();
    let url = emu.url();
    let tok = token(&url);
    let c = client();
    emu.set_latency_with_jitter(
        Duration::from_millis(LATENCY_MS),
        Duration::from_millis(200),
    );
    for _ in 0..12 {
        let t0 = Instant::now();
        assert_eq!(call(&c, &url, "jit", "typing", &tok, "{}").status(), 200);
        assert!(t0.elapsed() >= Duration::from_millis(LATENCY_MS));
    }
    let spent: Vec<f64> = requests(&url, "jit").iter().map(spent_ms).collect();
    assert_eq!(spent.len(), 12);
    assert!(spent.iter().all(|&ms| ms >= LATENCY_MS as f64), "{spent:?}");
    assert!(
        spent.iter().any(|&ms| ms >= LATENCY_MS as f64 + 50.0),
        "{spent:?}"
    );
}
