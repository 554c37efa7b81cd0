//! Soak test of the C API against a running emulator with random faults.
//!
//! `SOAK_THREADS` threads (default 16) share one client and, now and then,
//! make and free clients of their own, sending messages, typing notifications
//! and read receipts, blocking or asynchronously (some cancelled right after
//! they start), for `SOAK_SECONDS` (default 600) while another thread
//! queues random faults (error statuses, dropped connections, delays past
//! the per-try timeout, oversized and id-less answers). At the end:
//!
//! - every call is accounted for by its result code, and no code is one a
//!   valid call must never get (NULL_PARAMETER, INVALID_ARGUMENT, PANIC, ...);
//!   every asynchronous call completes exactly once;
//! - the emulator's stored messages match what the client reported (its
//!   result and the library's delivery verdict): every
//!   message reported sent is stored once under its id, none reported as
//!   certainly not delivered is stored, one that may have been delivered is
//!   stored at most once, and nothing else is stored;
//! - the resident memory and open descriptors of this process, sampled
//!   every 250 ms, stay within bounds after a warm-up.
//!
//! Needs `ACS_EMULATOR_URL` (scripts/soak.sh starts an emulator). Exits 1 on
//! any violation, after printing a summary.

// SAFETY (every `unsafe { acs_* }` block below): the C API is called as C
// would call it, with NULL, pointers into live `CString`s and buffers of the
// length passed, and handles this program created and has not yet freed:
// what each function's `# Safety` section asks.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acs_chat::ffi::call::*;
use acs_chat::ffi::client::*;
use acs_chat::ffi::errors::*;
use acs_chat::ffi::message_options::*;
use acs_chat::ffi::options::*;
use acs_chat::ffi::strings::acs_string_free;
use acs_chat::ffi::token::{acs_token_sink, acs_token_sink_set};
use acs_chat::ResultCode;
use acs_chat_emulator::{ControlClient, EventOp, Fault, FaultAction, Route, TokenOptions};

/// Chat threads each worker spreads its calls over.
const THREADS_PER_WORKER: usize = 4;
/// Per-try timeout; some faults delay past it.
const TIMEOUT_MS: u32 = 400;
/// Longest scripted delay; the end waits this long for abandoned requests.
const MAX_DELAY_MS: u64 = 900;
/// Faults kept queued at most.
const MAX_PENDING_FAULTS: u64 = 24;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

// ---- process measurements ----------------------------------------------

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

#[derive(Default)]
struct Samples {
    /// (seconds since start, RSS KiB, open descriptors)
    points: Vec<(f64, u64, usize)>,
}

// ---- the token refresher -----------------------------------------------

struct Refresher {
    token: CString,
    calls: AtomicU64,
}

unsafe extern "C" fn refresh(user_data: *mut c_void, sink: *mut acs_token_sink) -> acs_result {
    // SAFETY: user_data is the `Refresher` kept alive by main for the whole run.
    let state = unsafe { &*(user_data as *const Refresher) };
    state.calls.fetch_add(1, Ordering::Relaxed);
    unsafe { acs_token_sink_set(sink, state.token.as_ptr()) }
}

// ---- outcomes -------------------------------------------------------------

/// Whether a failed send-message may have created the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    Sent,
    Maybe,
    NotDelivered,
}

/// What the library's verdict says about delivery.
fn delivery(rc: acs_result, may_have_been_delivered: bool) -> Delivery {
    match (rc, may_have_been_delivered) {
        (ACS_RESULT_OK, _) => Delivery::Sent,
        (_, true) => Delivery::Maybe,
        (_, false) => Delivery::NotDelivered,
    }
}

/// The outcome of one asynchronous call, as its callback saw it.
#[derive(Default)]
struct Outcome {
    completions: u32,
    rc: acs_result,
    id: Option<String>,
    may_have_been_delivered: bool,
    message: String,
}

#[derive(Default)]
struct AsyncSlot {
    outcome: Mutex<Outcome>,
    done: std::sync::Condvar,
}

unsafe extern "C" fn on_complete(user_data: *mut c_void, c: *const acs_completion) {
    // SAFETY: user_data is an Arc<AsyncSlot> given at submit and consumed here once.
    let slot = unsafe { Arc::from_raw(user_data.cast_const().cast::<AsyncSlot>()) };
    let mut outcome = slot.outcome.lock().unwrap();
    outcome.completions += 1;
    outcome.rc = unsafe { acs_completion_result(c) };
    let id = unsafe { acs_completion_message_id(c) };
    // SAFETY: a NUL-terminated string valid during the callback.
    outcome.id = (!id.is_null()).then(|| unsafe { CStr::from_ptr(id) }.to_string_lossy().into());
    outcome.may_have_been_delivered = unsafe { acs_completion_may_have_been_delivered(c) };
    let mut buf = vec![0 as c_char; 512];
    unsafe { acs_completion_error_message(c, buf.as_mut_ptr(), buf.len()) };
    // SAFETY: NUL-terminated by the library.
    outcome.message = unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    slot.done.notify_all();
}

/// Submits with `submit(callback, user_data, call_out)`, cancels right away
/// when asked, and waits for the completion (bounded: a lost completion is a
/// problem, not a hang).
fn run_async(
    cancel: bool,
    submit: impl FnOnce(acs_completion_callback, *mut c_void, *mut *mut acs_call) -> acs_result,
) -> Result<Outcome, String> {
    let slot = Arc::new(AsyncSlot::default());
    let user_data = Arc::into_raw(slot.clone()).cast_mut().cast::<c_void>();
    let mut call = ptr::null_mut();
    let rc = submit(Some(on_complete), user_data, &mut call);
    if rc != ACS_RESULT_OK {
        // Never started: the callback will not run, so take the reference back.
        // SAFETY: from Arc::into_raw above, not consumed.
        drop(unsafe { Arc::from_raw(user_data.cast_const().cast::<AsyncSlot>()) });
        return Err(format!("submit: {} {}", code_name(rc), last_message()));
    }
    if cancel {
        unsafe { acs_call_cancel(call) };
    }
    unsafe { acs_call_free(call) };
    let mut outcome = slot.outcome.lock().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while outcome.completions == 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("no completion within 30 s".into());
        }
        outcome = slot.done.wait_timeout(outcome, left).unwrap().0;
    }
    // A second completion would arrive within the same wait or soon after.
    std::thread::sleep(Duration::from_millis(1));
    if outcome.completions != 1 {
        return Err(format!("{} completions", outcome.completions));
    }
    Ok(std::mem::take(&mut *outcome))
}

/// Codes a valid call may end with under service and network faults.
fn expected_code(rc: acs_result) -> bool {
    matches!(
        rc,
        ACS_RESULT_OK
            | ACS_RESULT_UNAUTHORIZED
            | ACS_RESULT_FORBIDDEN
            | ACS_RESULT_NOT_FOUND
            | ACS_RESULT_BAD_REQUEST
            | ACS_RESULT_THROTTLED
            | ACS_RESULT_SERVICE_ERROR
            | ACS_RESULT_TIMEOUT
            | ACS_RESULT_IO
            | ACS_RESULT_PROTOCOL
            | ACS_RESULT_CANCELLED
    )
}

fn code_name(rc: acs_result) -> String {
    ResultCode::from_u32(rc).map_or_else(|| format!("unknown {rc}"), |c| c.name().to_owned())
}

/// A message send and what the client said about it.
struct SentMessage {
    thread: String,
    content: String,
    id: Option<String>,
    delivery: Delivery,
    code: acs_result,
}

#[derive(Default)]
struct WorkerLog {
    /// (operation, code) -> count
    outcomes: BTreeMap<(&'static str, acs_result), u64>,
    messages: Vec<SentMessage>,
    problems: Vec<String>,
}

struct Setup {
    url: String,
    options: usize, // *const acs_client_options, shared read-only
    client: usize,  // *const acs_client, shared
    token: CString,
}

/// Chat thread `k` of a worker in an epoch: each epoch's messages are checked
/// (and forgotten) once the epoch is over, which keeps the soak's own memory flat.
fn thread_name(worker: usize, k: usize, epoch: u64) -> String {
    format!("19:soak-{worker}-{k}-e{epoch}@thread.v2")
}

/// Length of an epoch.
const EPOCH: Duration = Duration::from_secs(5);

/// The messages one worker sent in one epoch.
struct Batch {
    worker: usize,
    epoch: u64,
    messages: Vec<SentMessage>,
}

fn last_message() -> String {
    let mut buf = vec![0 as c_char; 512];
    unsafe { acs_last_error_message(buf.as_mut_ptr(), buf.len()) };
    // SAFETY: the library wrote a NUL-terminated string into `buf`.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn worker(
    setup: &Setup,
    worker: usize,
    started: Instant,
    deadline: Instant,
    batches: std::sync::mpsc::Sender<Batch>,
) -> WorkerLog {
    let mut log = WorkerLog::default();
    let mut epoch = 0u64;
    let shared = setup.client as *const acs_client;
    let mut mo = ptr::null_mut();
    assert_eq!(unsafe { acs_message_options_new(&mut mo) }, ACS_RESULT_OK);
    let (name, k, v) = (
        c"Soak",
        c"worker",
        CString::new(worker.to_string()).unwrap(),
    );
    assert_eq!(
        unsafe { acs_message_options_set_sender_display_name(mo, name.as_ptr()) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_message_options_add_metadata(mo, k.as_ptr(), v.as_ptr()) },
        ACS_RESULT_OK
    );
    let names = |epoch: u64| -> Vec<CString> {
        (0..THREADS_PER_WORKER)
            .map(|k| CString::new(thread_name(worker, k, epoch)).unwrap())
            .collect()
    };
    let mut threads = names(epoch);
    let mut last_id: Option<CString> = None;
    let mut seq = 0u64;
    while Instant::now() < deadline {
        let now_epoch = started.elapsed().as_nanos() as u64 / EPOCH.as_nanos() as u64;
        if now_epoch != epoch {
            let messages = std::mem::take(&mut log.messages);
            let _ = batches.send(Batch {
                worker,
                epoch,
                messages,
            });
            epoch = now_epoch;
            threads = names(epoch);
            last_id = None;
        }
        seq += 1;
        let k = fastrand::usize(..THREADS_PER_WORKER);
        let t = &threads[k];
        // Now and then a client of its own, made and freed around one call.
        let own = if fastrand::u8(..50) == 0 {
            let url = CString::new(setup.url.as_str()).unwrap();
            let mut c = ptr::null_mut();
            let rc = unsafe {
                acs_client_new(
                    url.as_ptr(),
                    setup.token.as_ptr(),
                    setup.options as *const acs_client_options,
                    &mut c,
                )
            };
            if rc != ACS_RESULT_OK {
                log.problems.push(format!(
                    "acs_client_new: {} {}",
                    code_name(rc),
                    last_message()
                ));
                continue;
            }
            Some(c)
        } else {
            None
        };
        let client = own.map_or(shared, |c| c.cast_const());
        if fastrand::u16(..500) == 0 {
            let rc = unsafe { acs_client_set_token(client, setup.token.as_ptr()) };
            if rc != ACS_RESULT_OK {
                log.problems.push(format!("set_token: {}", code_name(rc)));
            }
        }
        let roll = fastrand::u8(..10);
        // Three calls in ten are asynchronous; one in four of those is
        // cancelled right after it starts.
        let asynchronous = fastrand::u8(..10) < 3;
        let cancel = asynchronous && fastrand::u8(..4) == 0;
        let mut async_message = None;
        let (op, rc) = if roll < 6 {
            let content = format!("soak w{worker} n{seq}");
            let text = CString::new(content.as_str()).unwrap();
            let options = if roll == 0 {
                ptr::null()
            } else {
                mo.cast_const()
            };
            let (rc, returned, may) = if asynchronous {
                match run_async(cancel, |cb, ud, out| unsafe {
                    acs_send_message_async(client, t.as_ptr(), text.as_ptr(), options, cb, ud, out)
                }) {
                    Ok(outcome) => {
                        if (outcome.rc == ACS_RESULT_OK) != outcome.id.is_some() {
                            log.problems.push(format!(
                                "async message: id {:?} with {}",
                                outcome.id,
                                code_name(outcome.rc)
                            ));
                        }
                        async_message = Some(outcome.message);
                        (outcome.rc, outcome.id, outcome.may_have_been_delivered)
                    }
                    Err(why) => {
                        log.problems.push(format!("async message: {why}"));
                        continue;
                    }
                }
            } else {
                let mut id: *mut c_char = ptr::null_mut();
                let rc = unsafe {
                    acs_send_message(client, t.as_ptr(), text.as_ptr(), options, &mut id)
                };
                let returned = if rc == ACS_RESULT_OK {
                    // SAFETY: on success the library wrote a NUL-terminated string it owns.
                    let s = unsafe { CStr::from_ptr(id) }.to_owned();
                    unsafe { acs_string_free(id) };
                    Some(s.into_string().unwrap_or_default())
                } else {
                    if !id.is_null() {
                        log.problems
                            .push("message_id_out written on failure".into());
                    }
                    None
                };
                (
                    rc,
                    returned,
                    rc != ACS_RESULT_OK && acs_last_error_may_have_been_delivered(),
                )
            };
            if let Some(id) = &returned {
                last_id = CString::new(id.as_str()).ok();
            }
            log.messages.push(SentMessage {
                thread: thread_name(worker, k, epoch),
                content,
                id: returned,
                delivery: delivery(rc, may),
                code: rc,
            });
            ("message", rc)
        } else {
            let typing_name = if roll == 6 {
                ptr::null()
            } else {
                name.as_ptr()
            };
            let receipt_id = last_id.clone().unwrap_or_else(|| c"1".to_owned());
            let op = if roll < 8 { "typing" } else { "readReceipt" };
            let rc = if asynchronous {
                let outcome = run_async(cancel, |cb, ud, out| {
                    if roll < 8 {
                        unsafe {
                            acs_send_typing_async(client, t.as_ptr(), typing_name, cb, ud, out)
                        }
                    } else {
                        unsafe {
                            acs_send_read_receipt_async(
                                client,
                                t.as_ptr(),
                                receipt_id.as_ptr(),
                                cb,
                                ud,
                                out,
                            )
                        }
                    }
                });
                match outcome {
                    Ok(outcome) => {
                        async_message = Some(outcome.message);
                        outcome.rc
                    }
                    Err(why) => {
                        log.problems.push(format!("async {op}: {why}"));
                        continue;
                    }
                }
            } else if roll < 8 {
                unsafe { acs_send_typing(client, t.as_ptr(), typing_name) }
            } else {
                unsafe { acs_send_read_receipt(client, t.as_ptr(), receipt_id.as_ptr()) }
            };
            (op, rc)
        };
        if rc == ACS_RESULT_CANCELLED && !cancel {
            log.problems
                .push(format!("{op}: cancelled although nobody cancelled it"));
        }
        if rc != ACS_RESULT_OK {
            let message = async_message.unwrap_or_else(last_message);
            if message.is_empty() || message.contains('\n') || message.contains("eyJ") {
                log.problems
                    .push(format!("{op}: unusable error message {message:?}"));
            }
        }
        if !expected_code(rc) {
            log.problems
                .push(format!("{op}: unexpected {}", code_name(rc)));
        }
        *log.outcomes.entry((op, rc)).or_default() += 1;
        if let Some(c) = own {
            unsafe { acs_client_free(c) };
        }
    }
    unsafe { acs_message_options_free(mo) };
    let messages = std::mem::take(&mut log.messages);
    let _ = batches.send(Batch {
        worker,
        epoch,
        messages,
    });
    log
}

/// A random fault for the next calls of any thread.
fn random_fault() -> Fault {
    let route = [
        Some(Route::Messages),
        Some(Route::Typing),
        Some(Route::ReadReceipts),
        None,
    ][fastrand::usize(..4)];
    let count = fastrand::u32(1..=3);
    let fault = match fastrand::u8(..12) {
        0 => Fault::status([400, 401, 403, 404, 409][fastrand::usize(..5)]),
        1 | 2 => Fault::status([408, 429, 500, 502, 503, 504][fastrand::usize(..6)])
            .header("Retry-After", "0"),
        3 => Fault::status(429).header("retry-after-ms", &fastrand::u32(0..40).to_string()),
        4 => Fault::status(503).body("<html>down</html>"),
        5 => Fault::action(FaultAction::Drop),
        6 => Fault::action(FaultAction::DropBeforeBody),
        7 => Fault::new().delay(Duration::from_millis(fastrand::u64(0..=MAX_DELAY_MS))),
        8 => Fault::action(FaultAction::Oversize),
        9 => Fault::status(201).body("{}"),
        10 => Fault::status(307).header("Location", "/chat/threads/elsewhere/messages"),
        _ => Fault::status(200).body("{\"id\":"),
    };
    let fault = fault.count(count);
    match route {
        Some(route) => fault.route(route),
        None => fault,
    }
}

/// What the emulator stored, compared with what the client reported.
#[derive(Default)]
struct Check {
    messages: u64,
    stored_total: u64,
    /// reported delivery -> (messages, of them stored)
    by_delivery: BTreeMap<&'static str, (u64, u64)>,
    problems: Vec<String>,
}

impl Check {
    fn batch(&mut self, control: &ControlClient, batch: Batch) {
        let mut stored: HashMap<String, Vec<String>> = HashMap::new(); // content -> ids
        for k in 0..THREADS_PER_WORKER {
            let thread = thread_name(batch.worker, k, batch.epoch);
            let events = control.events(&thread).expect("the thread's events");
            for e in events {
                if e.op != EventOp::Message {
                    continue;
                }
                self.stored_total += 1;
                let content = e.content.unwrap_or_default();
                if !content.starts_with(&format!("soak w{} ", batch.worker)) {
                    self.problems.push(format!(
                        "{thread}: stored message from elsewhere: {content:?}"
                    ));
                }
                stored
                    .entry(content)
                    .or_default()
                    .push(e.id.unwrap_or_default());
            }
        }
        for m in &batch.messages {
            self.messages += 1;
            let ids = stored.remove(&m.content).unwrap_or_default();
            let key = match m.delivery {
                Delivery::Sent => "sent",
                Delivery::Maybe => "maybe delivered",
                Delivery::NotDelivered => "not delivered",
            };
            let entry = self.by_delivery.entry(key).or_default();
            entry.0 += 1;
            entry.1 += ids.len() as u64;
            let ok = match m.delivery {
                Delivery::Sent => ids.len() == 1 && m.id.as_deref() == Some(ids[0].as_str()),
                Delivery::Maybe => ids.len() <= 1,
                Delivery::NotDelivered => ids.is_empty(),
            };
            if !ok {
                self.problems.push(format!(
                    "{} {:?}: reported {} ({:?}, id {:?}) but stored {:?}",
                    m.thread,
                    m.content,
                    code_name(m.code),
                    m.delivery,
                    m.id,
                    ids
                ));
            }
        }
        for (content, ids) in &stored {
            self.problems
                .push(format!("stored but never sent: {content:?} {ids:?}"));
        }
    }
}

fn main() {
    let url = std::env::var("ACS_EMULATOR_URL")
        .expect("ACS_EMULATOR_URL is not set (run scripts/soak.sh)");
    let seconds = env_number("SOAK_SECONDS", 600);
    let workers = env_number("SOAK_THREADS", 16).max(1) as usize;
    let fault_interval = Duration::from_millis(env_number("SOAK_FAULT_INTERVAL_MS", 20));
    println!("soak: {workers} threads for {seconds} s against {url}");

    let control = ControlClient::new(&url).expect("an http:// emulator URL");
    let token = control
        .token(&TokenOptions::new().user("soak").expires_in(7200))
        .expect("a token");
    let token = CString::new(token.token).unwrap();
    let refresher = Box::new(Refresher {
        token: token.clone(),
        calls: AtomicU64::new(0),
    });

    let mut options = ptr::null_mut();
    assert_eq!(
        unsafe { acs_client_options_new(&mut options) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_client_options_set_timeout_ms(options, TIMEOUT_MS) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_client_options_set_connect_timeout_ms(options, 2000) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_client_options_set_max_retries(options, 2) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_client_options_set_retry_delay_ms(options, 5, 50) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe {
            acs_client_options_set_token_refresher(
                options,
                Some(refresh),
                (&*refresher as *const Refresher).cast_mut().cast(),
                None,
            )
        },
        ACS_RESULT_OK
    );
    let c_url = CString::new(url.as_str()).unwrap();
    let mut client = ptr::null_mut();
    let rc = unsafe { acs_client_new(c_url.as_ptr(), token.as_ptr(), options, &mut client) };
    assert_eq!(rc, ACS_RESULT_OK, "{}", last_message());

    let setup = Setup {
        url: url.clone(),
        options: options as usize,
        client: client as usize,
        token: token.clone(),
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let samples = Arc::new(Mutex::new(Samples::default()));
    let done = AtomicBool::new(false);
    let faults_queued = AtomicU64::new(0);
    let start_fds = open_fds();
    let start_rss = rss_kib();

    let (batch_tx, batch_rx) = std::sync::mpsc::channel::<Batch>();
    let (logs, check): (Vec<WorkerLog>, Check) = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let (secs, rss, fds) = (started.elapsed().as_secs_f64(), rss_kib(), open_fds());
                samples.lock().unwrap().points.push((secs, rss, fds));
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        s.spawn(|| {
            while Instant::now() < deadline {
                let pending = control.pending_faults().expect("pending faults");
                if pending < MAX_PENDING_FAULTS {
                    control.fault(&random_fault()).expect("fault queued");
                    faults_queued.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(fault_interval);
            }
        });
        let checker = s.spawn(|| {
            let mut check = Check::default();
            for batch in batch_rx {
                // Abandoned (delayed) requests of the epoch must have ended.
                let settled = started
                    + EPOCH * (batch.epoch as u32 + 1)
                    + Duration::from_millis(MAX_DELAY_MS + 500);
                let now = Instant::now();
                if settled > now {
                    std::thread::sleep(settled - now);
                }
                check.batch(&control, batch);
            }
            check
        });
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (setup, tx) = (&setup, batch_tx.clone());
                s.spawn(move || worker(setup, w, started, deadline, tx))
            })
            .collect();
        drop(batch_tx);
        let logs = handles
            .into_iter()
            .map(|h| h.join().expect("a worker panicked"))
            .collect();
        let check = checker.join().expect("the checker panicked");
        done.store(true, Ordering::Relaxed);
        (logs, check)
    });
    let elapsed = started.elapsed();
    unsafe { acs_client_free(client) };
    unsafe { acs_client_options_free(options) };
    // Let the connections the runtime still holds close.
    std::thread::sleep(Duration::from_millis(500));
    let end_fds = open_fds();
    let end_rss = rss_kib();

    // ---- accounting ----
    let mut problems: Vec<String> = Vec::new();
    let mut outcomes: BTreeMap<(&'static str, acs_result), u64> = BTreeMap::new();
    for log in logs {
        for (k, v) in log.outcomes {
            *outcomes.entry(k).or_default() += v;
        }
        problems.extend(log.problems);
    }
    let calls: u64 = outcomes.values().sum();
    let messages_sent = outcomes
        .iter()
        .filter(|((op, _), _)| *op == "message")
        .map(|(_, n)| n)
        .sum::<u64>();
    if messages_sent != check.messages {
        problems.push(format!(
            "{messages_sent} message calls counted, {} checked",
            check.messages
        ));
    }
    let stored_total = check.stored_total;
    let by_delivery = check.by_delivery;
    problems.extend(check.problems);

    // ---- memory and descriptors ----
    let points = std::mem::take(&mut samples.lock().unwrap().points);
    let warm = (seconds as f64 * 0.2).clamp(2.0, 60.0);
    let after_warm: Vec<&(f64, u64, usize)> = points.iter().filter(|p| p.0 >= warm).collect();
    let peak_rss = points.iter().map(|p| p.1).max().unwrap_or(0);
    let peak_fds = points.iter().map(|p| p.2).max().unwrap_or(0);
    let warm_rss = after_warm.first().map_or(start_rss, |p| p.1);
    let warm_fds = after_warm.first().map_or(start_fds, |p| p.2);
    let late_peak_rss = after_warm.iter().map(|p| p.1).max().unwrap_or(warm_rss);
    let rss_bound = warm_rss + 32 * 1024;
    if late_peak_rss > rss_bound {
        problems.push(format!(
            "RSS grew after warm-up: {warm_rss} KiB at {warm:.0} s, peak {late_peak_rss} KiB later (bound {rss_bound} KiB)"
        ));
    }
    let fd_bound = start_fds + 4 * workers + 16;
    if peak_fds > fd_bound {
        problems.push(format!(
            "open descriptors peaked at {peak_fds} (bound {fd_bound})"
        ));
    }
    if end_fds > start_fds + workers + 8 {
        problems.push(format!(
            "descriptors left open: {end_fds} at the end, {start_fds} at the start"
        ));
    }

    // ---- summary ----
    println!(
        "soak: {calls} calls in {:.1} s ({:.0}/s), {} faults queued, {} token refreshes",
        elapsed.as_secs_f64(),
        calls as f64 / elapsed.as_secs_f64(),
        faults_queued.load(Ordering::Relaxed),
        refresher.calls.load(Ordering::Relaxed)
    );
    println!("outcomes:");
    for ((op, rc), n) in &outcomes {
        println!("  {op:<12} {:<28} {n}", code_name(*rc));
    }
    println!("messages: {messages_sent} send calls, {stored_total} stored by the emulator");
    for (key, (count, stored)) in &by_delivery {
        println!("  reported {key:<16} {count:>7}, stored {stored}");
    }
    println!(
        "memory: RSS {start_rss} KiB at start, {warm_rss} KiB after {warm:.0} s warm-up, peak {peak_rss} KiB, {end_rss} KiB at the end"
    );
    println!(
        "descriptors: {start_fds} at start, {warm_fds} after warm-up, peak {peak_fds}, {end_fds} at the end"
    );
    if problems.is_empty() {
        println!("soak: passed");
    } else {
        println!("soak: FAILED, {} problems:", problems.len());
        for p in problems.iter().take(50) {
            println!("  {p}");
        }
        std::process::exit(1);
    }
}
