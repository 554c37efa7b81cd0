//! The fault matrix: every operation against every fault the emulator can
//! script (and two it cannot: a refused connection and an unresolvable
//! host), through each face of the library: the blocking Rust call, its
//! `_async` twin, and the asynchronous C ABI with its completion callback.
//! Each cell checks the result code, the error details, how many attempts
//! the emulator saw and the delays between them, and for send-message that
//! nothing was posted twice.
//!
//! The expectations also render the matrix table in README.md; the test fails
//! when that table is out of date (`make fault-matrix` rewrites it).

// SAFETY (every `unsafe { acs_* }` block below): the C API is called as C
// would call it, with NULL, pointers into live `CString`s and buffers of the
// length passed, and handles this file created and has not yet freed: what
// each function's `# Safety` section asks.

mod common;

use std::ffi::{c_char, c_void, CStr, CString};
use std::fmt::Write as _;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use acs_chat::ffi::call::*;
use acs_chat::ffi::client::{acs_client, acs_client_free, acs_client_new};
use acs_chat::ffi::options::*;
use acs_chat::{ChatClient, ClientOptions, Error, FailureDetails, MessageOptions, ResultCode};
use acs_chat_emulator::{Event, EventOp, Fault, FaultAction, Route};
use common::{start_unlimited, thread_id, Env};
use serde_json::json;

/// Back-off base and cap of every client here, unless a row says otherwise.
const BASE_MS: u64 = 20;
const MAX_MS: u64 = 200;
const RETRIES: usize = 3;
/// Per-try timeout of the "delay beyond the timeout" row.
const SHORT_TIMEOUT_MS: u64 = 300;
const CONNECT_TIMEOUT_MS: u64 = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Message,
    Typing,
    Receipt,
}

impl Op {
    const ALL: [Op; 3] = [Op::Message, Op::Typing, Op::Receipt];

    /// The emulator's route of the operation, for a fault.
    fn route(self) -> Route {
        match self {
            Op::Message => Route::Messages,
            Op::Typing => Route::Typing,
            Op::Receipt => Route::ReadReceipts,
        }
    }
}

/// Where the client sends its requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Emulator,
    /// A loopback port nobody listens on.
    Refused,
    /// A name under `.invalid` (RFC 2606), which never resolves. Its first
    /// label is 64 characters, one over the DNS limit, so the system resolver
    /// refuses it without sending a query: the test stays off the network.
    Unresolvable,
}

/// Whether a message may exist after the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stored {
    /// The emulator stored no message.
    None,
    /// Exactly one, the one whose id the call returned.
    One,
    /// At most one.
    AtMostOne,
}

/// What one cell must show.
#[derive(Clone, Debug)]
struct Expect {
    code: ResultCode,
    /// Attempts the emulator saw (checked when the target is the emulator).
    attempts: usize,
    http_status: u16,
    service_code: &'static str,
    /// Text the error message contains.
    message: &'static str,
    retry_after_ms: Option<u64>,
    may_have_been_delivered: bool,
    /// Lower bound of each gap between attempts, in ms, as the emulator saw
    /// them arrive. Only causal bounds belong here: an attempt is logged
    /// before it is answered, so the gap after an answered attempt is at
    /// least the wait that followed the answer; an attempt the client gave up
    /// on may be logged late, so a timeout is checked with `min_elapsed_ms`.
    min_gaps_ms: Vec<f64>,
    /// Lower bound of the whole call as the client timed it, in ms.
    min_elapsed_ms: f64,
    /// The call ends after the HTTP date of the fault's `Retry-After`.
    waits_for_date: bool,
    /// `MS-CV` of the fault answer, else the client request id is the request id.
    ms_cv: bool,
    /// Messages stored, for send-message.
    stored: Stored,
    /// The id send-message returns, when it is not one the emulator made.
    id: Option<&'static str>,
}

impl Expect {
    fn fail(code: ResultCode, attempts: usize, http_status: u16) -> Expect {
        Expect {
            code,
            attempts,
            http_status,
            service_code: "",
            message: "",
            retry_after_ms: None,
            may_have_been_delivered: false,
            min_gaps_ms: Vec::new(),
            min_elapsed_ms: 0.0,
            waits_for_date: false,
            ms_cv: http_status != 0,
            stored: Stored::None,
            id: None,
        }
    }

    fn ok(attempts: usize) -> Expect {
        Expect {
            stored: Stored::One,
            ms_cv: false,
            ..Expect::fail(ResultCode::Ok, attempts, 0)
        }
    }

    fn service(mut self, code: &'static str, message: &'static str) -> Expect {
        self.service_code = code;
        self.message = message;
        self
    }

    fn message(mut self, message: &'static str) -> Expect {
        self.message = message;
        self
    }

    fn gaps(mut self, gaps: Vec<f64>) -> Expect {
        self.min_gaps_ms = gaps;
        self
    }

    fn took_at_least(mut self, ms: f64) -> Expect {
        self.min_elapsed_ms = ms;
        self
    }

    fn retry_after(mut self, ms: u64) -> Expect {
        self.retry_after_ms = Some(ms);
        self
    }

    fn maybe_delivered(mut self) -> Expect {
        self.may_have_been_delivered = true;
        self.stored = Stored::AtMostOne;
        self
    }

    fn stored(mut self, stored: Stored) -> Expect {
        self.stored = stored;
        self
    }
}

/// Lower bounds of the computed back-off before each retry (-20 % jitter).
fn backoff_gaps(retries: usize, extra_ms: f64) -> Vec<f64> {
    (0..retries)
        .map(|n| (BASE_MS as f64 * 2f64.powi(n as i32) * 0.8).min(MAX_MS as f64 * 0.8) + extra_ms)
        .collect()
}

/// Makes a row's fault (without `threadId` and `op`), if it has one.
type FaultFn = Box<dyn Fn(&Env) -> Option<Fault> + Send + Sync>;
/// What an operation shows under a row's fault.
type ExpectFn = Box<dyn Fn(Op) -> Expect + Send + Sync>;

/// One row of the matrix: a fault and what each operation shows under it.
struct Row {
    name: &'static str,
    target: Target,
    fault: FaultFn,
    max_delay_ms: u64,
    timeout_ms: u64,
    expect: ExpectFn,
}

fn row(
    name: &'static str,
    fault: impl Fn(&Env) -> Option<Fault> + Send + Sync + 'static,
    expect: impl Fn(Op) -> Expect + Send + Sync + 'static,
) -> Row {
    Row {
        name,
        target: Target::Emulator,
        fault: Box::new(fault),
        max_delay_ms: MAX_MS,
        timeout_ms: 10_000,
        expect: Box::new(expect),
    }
}

fn error_body(code: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}

/// A fault answering `status` with a JSON error body, `count` times.
fn status_fault(status: u16, code: &'static str, message: &'static str, count: u32) -> Fault {
    Fault::status(status)
        .count(count)
        .header("MS-CV", &format!("cv-{status}.0"))
        .body(&error_body(code, message))
}

/// `time` as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn rows() -> Vec<Row> {
    use ResultCode::*;
    let spent = RETRIES + 1;
    let mut rows = vec![
        row(
            "401 with an error body",
            |_| Some(status_fault(401, "Unauthorized", "Token expired.", 10)),
            |_| Expect::fail(Unauthorized, 1, 401).service("Unauthorized", "Token expired."),
        ),
        row(
            "403 with an error body",
            |_| Some(status_fault(403, "Forbidden", "Not a member.", 10)),
            |_| Expect::fail(Forbidden, 1, 403).service("Forbidden", "Not a member."),
        ),
        row(
            "404 with an error body",
            |_| Some(status_fault(404, "NotFound", "No such thread.", 10)),
            |_| Expect::fail(NotFound, 1, 404).service("NotFound", "No such thread."),
        ),
        row(
            "400 with an error body",
            |_| Some(status_fault(400, "BadRequest", "Bad body.", 10)),
            |_| Expect::fail(BadRequest, 1, 400).service("BadRequest", "Bad body."),
        ),
    ];
    let mut slow = row(
        "429, `Retry-After: 1` (seconds), every try",
        |_| {
            Some(
                Fault::status(429)
                    .count(10)
                    .header("Retry-After", "1")
                    .header("MS-CV", "cv-429.0")
                    .body(&error_body("TooManyRequests", "Slow down.")),
            )
        },
        move |_| {
            Expect::fail(Throttled, spent, 429)
                .service("TooManyRequests", "Slow down.")
                .retry_after(1000)
                .gaps(vec![980.0; RETRIES])
        },
    );
    slow.max_delay_ms = 2000;
    rows.push(slow);
    let mut date = row(
        "429, `Retry-After` as an HTTP date (1-2 s ahead), once",
        |_| {
            // Whole seconds: the date is between 1 and 2 s ahead when it is sent.
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let at = UNIX_EPOCH + Duration::from_secs(now.as_secs() + 2);
            Some(
                Fault::status(429)
                    .count(1)
                    .header("Retry-After", &http_date(at)),
            )
        },
        |_| Expect {
            waits_for_date: true,
            ..Expect::ok(2)
        },
    );
    date.max_delay_ms = 3000;
    rows.push(date);
    let mut ms = row(
        "429, `retry-after-ms: 150`, every try",
        |_| {
            Some(
                Fault::status(429)
                    .count(10)
                    .header("retry-after-ms", "150")
                    .header("MS-CV", "cv-429.0"),
            )
        },
        move |_| {
            Expect::fail(Throttled, spent, 429)
                .message("HTTP 429 Too Many Requests")
                .retry_after(150)
                .gaps(vec![140.0; RETRIES])
        },
    );
    ms.max_delay_ms = 2000;
    rows.push(ms);
    rows.push(row(
        "429, no delay header, every try",
        |_| Some(Fault::status(429).count(10).header("MS-CV", "cv-429.0")),
        move |_| {
            Expect::fail(Throttled, spent, 429)
                .message("HTTP 429 Too Many Requests")
                .gaps(backoff_gaps(RETRIES, 0.0))
        },
    ));
    rows.push(row(
        "429, no delay header, twice, then accepted",
        |_| Some(Fault::status(429).count(2)),
        |_| Expect::ok(3).gaps(backoff_gaps(2, 0.0)),
    ));
    for (status, code, text) in [
        (500, "InternalServerError", "Boom."),
        (502, "BadGateway", "Upstream."),
        (503, "ServiceUnavailable", "Down."),
        (504, "GatewayTimeout", "Upstream slow."),
    ] {
        rows.push(row(
            match status {
                500 => "500, every try",
                502 => "502, every try",
                503 => "503, every try",
                _ => "504, every try",
            },
            move |_| Some(status_fault(status, code, text, 10)),
            move |_| {
                Expect::fail(ServiceError, spent, status)
                    .service(code, text)
                    .gaps(backoff_gaps(RETRIES, 0.0))
            },
        ));
    }
    rows.extend([
        row(
            "503 once, then accepted",
            |_| Some(status_fault(503, "ServiceUnavailable", "Down.", 1)),
            |_| Expect::ok(2).gaps(backoff_gaps(1, 0.0)),
        ),
        row(
            "502 with an HTML body, every try",
            |_| {
                Some(Fault::status(502).count(10).header("Content-Type", "text/html").header("MS-CV", "cv-502.0").body("<html><head><title>502 Bad Gateway</title></head>\r\n<body><h1>502 Bad Gateway</h1></body></html>"))
            },
            move |_| {
                Expect::fail(ServiceError, spent, 502)
                    .message("HTTP 502 Bad Gateway")
                    .gaps(backoff_gaps(RETRIES, 0.0))
            },
        ),
        row(
            "401 with an empty body",
            |_| Some(Fault::status(401).count(10).header("MS-CV", "cv-401.0").body("")),
            |_| Expect::fail(Unauthorized, 1, 401).message("HTTP 401 Unauthorized"),
        ),
        row(
            "403 with a PascalCase body",
            |_| {
                Some(Fault::status(403).count(10).header("MS-CV", "cv-403.0").body(r#"{"CommunicationError":{"Code":"Forbidden","Message":"Not a member.","Details":[]}}"#))
            },
            |_| Expect::fail(Forbidden, 1, 403).service("Forbidden", "Not a member."),
        ),
        row(
            "400 with truncated JSON",
            |_| {
                Some(Fault::status(400).count(10).header("MS-CV", "cv-400.0").body(r#"{"error":{"code":"BadReq"#))
            },
            |_| Expect::fail(BadRequest, 1, 400).message("HTTP 400 Bad Request"),
        ),
        row(
            "500 with a body over the 1 MiB cap",
            |_| Some(Fault::status(500).with_action(FaultAction::Oversize).count(10).header("MS-CV", "cv-500.0")),
            |_| Expect::fail(Protocol, 1, 500).message("with a body over 1048576 bytes"),
        ),
        row(
            "2xx with a body over the 1 MiB cap",
            |_| Some(Fault::action(FaultAction::Oversize).count(10).header("MS-CV", "cv-2xx.0")),
            |op| {
                let status = if op == Op::Message { 201 } else { 200 };
                Expect::fail(Protocol, 1, status)
                    .message("with a body over 1048576 bytes")
                    .maybe_delivered()
                    .stored(Stored::None)
            },
        ),
        row(
            "201 without an id, with `Location`",
            |_| {
                Some(Fault::status(201).count(10).header("Location", "/chat/threads/x/messages/4242").body("{}"))
            },
            |op| {
                let mut e = Expect::ok(1).stored(Stored::None);
                if op == Op::Message {
                    e.id = Some("4242");
                }
                e
            },
        ),
        row(
            "201 without an id or `Location`",
            |_| Some(Fault::status(201).count(10).header("MS-CV", "cv-201.0").body("{}")),
            |op| match op {
                Op::Message => Expect::fail(Protocol, 1, 201)
                    .message("without a message id; the message may have been created")
                    .maybe_delivered()
                    .stored(Stored::None),
                _ => Expect::ok(1).stored(Stored::None),
            },
        ),
        row(
            "307 redirect to another thread",
            |env| {
                let target = format!(
                    "{}/chat/threads/redirect-target/messages?api-version=2025-03-15",
                    env.url
                );
                Some(Fault::status(307).count(10).header("Location", &target).header("MS-CV", "cv-307.0"))
            },
            |_| Expect::fail(Protocol, 1, 307).message("with a redirect, which is not followed"),
        ),
    ]);
    let mut delay = row(
        "answer delayed 1.5 s, per-try timeout 300 ms, every try",
        |_| Some(Fault::new().count(10).delay(Duration::from_millis(1500))),
        move |op| match op {
            Op::Message => Expect::fail(Timeout, 1, 0)
                .message("no answer within 300 ms")
                .maybe_delivered()
                .took_at_least(SHORT_TIMEOUT_MS as f64),
            _ => Expect::fail(Timeout, spent, 0)
                .message("no answer within 300 ms")
                .maybe_delivered()
                .gaps(backoff_gaps(RETRIES, 0.0))
                .took_at_least(
                    (spent as u64 * SHORT_TIMEOUT_MS) as f64
                        + backoff_gaps(RETRIES, 0.0).iter().sum::<f64>(),
                ),
        },
    );
    delay.timeout_ms = SHORT_TIMEOUT_MS;
    rows.push(delay);
    for (name, action) in [
        (
            "connection closed after the head, body unread, every try",
            FaultAction::DropBeforeBody,
        ),
        (
            "connection closed after the whole request, every try",
            FaultAction::Drop,
        ),
    ] {
        rows.push(row(
            name,
            move |_| Some(Fault::action(action).count(10)),
            move |op| match op {
                Op::Message => Expect::fail(Io, 1, 0)
                    .message("the connection broke")
                    .maybe_delivered()
                    .stored(Stored::None),
                _ => Expect::fail(Io, spent, 0)
                    .message("the connection broke")
                    .maybe_delivered()
                    .gaps(backoff_gaps(RETRIES, 0.0)),
            },
        ));
    }
    rows.push(row(
        "connection closed once, then accepted",
        |_| Some(Fault::action(FaultAction::Drop).count(1)),
        |op| match op {
            Op::Message => Expect::fail(ResultCode::Io, 1, 0)
                .message("the connection broke")
                .maybe_delivered()
                .stored(Stored::None),
            _ => Expect::ok(2).gaps(backoff_gaps(1, 0.0)),
        },
    ));
    for (name, target) in [
        ("connection refused", Target::Refused),
        (
            "unresolvable host (under `.invalid`), connect timeout 500 ms",
            Target::Unresolvable,
        ),
    ] {
        let mut r = row(
            name,
            |_| None,
            move |_| {
                Expect::fail(Connect, spent, 0)
                    .message("cannot connect to")
                    .gaps(backoff_gaps(RETRIES, 0.0))
            },
        );
        r.target = target;
        rows.push(r);
    }
    rows
}

/// The ways a call can be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Face {
    Blocking,
    RustAsync,
    CAsync,
}

impl Face {
    const ALL: [Face; 3] = [Face::Blocking, Face::RustAsync, Face::CAsync];
}

/// A client made through the C API.
struct CClient(*mut acs_client);

// SAFETY: acs_client is thread-safe.
unsafe impl Send for CClient {}
unsafe impl Sync for CClient {}

impl Drop for CClient {
    fn drop(&mut self) {
        unsafe { acs_client_free(self.0) };
    }
}

fn c_client(endpoint: &str, token: &str, row: &Row) -> CClient {
    let mut options = std::ptr::null_mut();
    assert_eq!(unsafe { acs_client_options_new(&mut options) }, 0);
    assert_eq!(
        unsafe {
            acs_client_options_set_retry_delay_ms(options, BASE_MS as u32, row.max_delay_ms as u32)
        },
        0
    );
    assert_eq!(
        unsafe { acs_client_options_set_max_retries(options, RETRIES as u32) },
        0
    );
    assert_eq!(
        unsafe { acs_client_options_set_connect_timeout_ms(options, CONNECT_TIMEOUT_MS as u32) },
        0
    );
    assert_eq!(
        unsafe { acs_client_options_set_timeout_ms(options, row.timeout_ms as u32) },
        0
    );
    let (endpoint, token) = (
        CString::new(endpoint).unwrap(),
        CString::new(token).unwrap(),
    );
    let mut client = std::ptr::null_mut();
    let rc = unsafe { acs_client_new(endpoint.as_ptr(), token.as_ptr(), options, &mut client) };
    unsafe { acs_client_options_free(options) };
    assert_eq!(rc, 0, "acs_client_new");
    CClient(client)
}

type Outcome = Result<Option<String>, Error>;

/// Where a completion callback leaves the outcome.
#[derive(Default)]
struct Waiter {
    outcome: Mutex<Option<Outcome>>,
    done: Condvar,
}

fn completion_text(
    c: *const acs_completion,
    read: unsafe extern "C" fn(*const acs_completion, *mut c_char, usize) -> usize,
) -> String {
    // SAFETY: `c` is the running callback's completion; `buf` holds `len + 1` bytes.
    let len = unsafe { read(c, std::ptr::null_mut(), 0) };
    let mut buf = vec![0u8; len + 1];
    assert_eq!(unsafe { read(c, buf.as_mut_ptr().cast(), buf.len()) }, len);
    assert_eq!(buf[len], 0);
    String::from_utf8(buf[..len].to_vec()).unwrap()
}

/// The completion as the Rust error the blocking call would have returned.
fn outcome_of(c: *const acs_completion) -> Outcome {
    let rc = unsafe { acs_completion_result(c) };
    if rc == 0 {
        let id = unsafe { acs_completion_message_id(c) };
        // SAFETY: a NUL-terminated string valid during the callback.
        return Ok((!id.is_null()).then(|| unsafe { CStr::from_ptr(id) }.to_str().unwrap().into()));
    }
    assert!(unsafe { acs_completion_message_id(c) }.is_null());
    let retry_after_ms = unsafe { acs_completion_retry_after_ms(c) };
    let details = Box::new(FailureDetails {
        message: completion_text(c, acs_completion_error_message),
        http_status: unsafe { acs_completion_http_status(c) },
        service_code: completion_text(c, acs_completion_error_code),
        request_id: completion_text(c, acs_completion_request_id),
        retry_after: (retry_after_ms > 0).then(|| Duration::from_millis(retry_after_ms)),
        may_have_been_delivered: unsafe { acs_completion_may_have_been_delivered(c) },
    });
    Err(match rc {
        10..=15 => Error::Status(details),
        20 => Error::Connect(details),
        21 => Error::Timeout(details),
        22 => Error::Io(details),
        23 => Error::Protocol(details),
        24 => Error::Token(details.message),
        25 => Error::Cancelled(details),
        other => Error::Internal(format!("result {other}: {}", details.message)),
    })
}

extern "C" fn on_complete(user_data: *mut c_void, c: *const acs_completion) {
    // SAFETY: user_data is the Arc<Waiter> given at submit, consumed once.
    let waiter = unsafe { Arc::from_raw(user_data.cast_const().cast::<Waiter>()) };
    let outcome = outcome_of(c);
    let mut slot = waiter.outcome.lock().unwrap();
    assert!(slot.is_none(), "a second completion");
    *slot = Some(outcome);
    waiter.done.notify_all();
}

fn call_c(client: &CClient, op: Op, thread: &str) -> Outcome {
    let waiter = Arc::new(Waiter::default());
    let user_data = Arc::into_raw(waiter.clone()).cast_mut().cast::<c_void>();
    let thread = CString::new(thread).unwrap();
    let mut call = std::ptr::null_mut();
    let rc = match op {
        Op::Message => unsafe {
            acs_send_message_async(
                client.0,
                thread.as_ptr(),
                c"matrix".as_ptr(),
                std::ptr::null(),
                Some(on_complete),
                user_data,
                &mut call,
            )
        },
        Op::Typing => unsafe {
            acs_send_typing_async(
                client.0,
                thread.as_ptr(),
                c"Ann".as_ptr(),
                Some(on_complete),
                user_data,
                &mut call,
            )
        },
        Op::Receipt => unsafe {
            acs_send_read_receipt_async(
                client.0,
                thread.as_ptr(),
                c"1".as_ptr(),
                Some(on_complete),
                user_data,
                &mut call,
            )
        },
    };
    assert_eq!(rc, 0, "submit");
    assert!(!call.is_null());
    unsafe { acs_call_free(call) };
    let mut slot = waiter.outcome.lock().unwrap();
    while slot.is_none() {
        slot = waiter.done.wait(slot).unwrap();
    }
    slot.take().unwrap()
}

fn client(endpoint: &str, token: &str, row: &Row) -> ChatClient {
    let mut options = ClientOptions::new();
    options
        .set_retry_delay(
            Duration::from_millis(BASE_MS),
            Duration::from_millis(row.max_delay_ms),
        )
        .unwrap()
        .set_max_retries(RETRIES as u32)
        .unwrap()
        .set_connect_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
        .unwrap()
        .set_timeout(Some(Duration::from_millis(row.timeout_ms)));
    ChatClient::new(endpoint, token, &options).expect("client")
}

fn call(client: &ChatClient, op: Op, thread: &str) -> Outcome {
    match op {
        Op::Message => client
            .send_message(thread, "matrix", &MessageOptions::new())
            .map(Some),
        Op::Typing => client.send_typing(thread, Some("Ann")).map(|()| None),
        Op::Receipt => client.send_read_receipt(thread, "1").map(|()| None),
    }
}

fn call_async(client: &ChatClient, op: Op, thread: &str) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        match op {
            Op::Message => client
                .send_message_async(thread, "matrix", &MessageOptions::new())
                .await
                .map(Some),
            Op::Typing => client
                .send_typing_async(thread, Some("Ann"))
                .await
                .map(|()| None),
            Op::Receipt => client
                .send_read_receipt_async(thread, "1")
                .await
                .map(|()| None),
        }
    })
}

fn refused_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Runs one cell; returns what went wrong, if anything.
fn run_cell(env: &Env, token: &str, row: &Row, op: Op, face: Face) -> Result<(), String> {
    let expect = (row.expect)(op);
    let thread = thread_id("matrix");
    let endpoint = match row.target {
        Target::Emulator => env.url.clone(),
        Target::Refused => refused_endpoint(),
        Target::Unresolvable => format!("https://{:a<64}.invalid", "acs-chat-fault-matrix-"),
    };
    let mut retry_date = None;
    if let Some(fault) = (row.fault)(env) {
        retry_date = fault
            .headers()
            .get("Retry-After")
            .and_then(|v| httpdate::parse_http_date(v).ok());
        let fault = fault.thread(&thread).route(op.route());
        env.fault(fault);
    }
    let started;
    let outcome = match face {
        Face::Blocking => {
            let client = client(&endpoint, token, row);
            started = Instant::now();
            call(&client, op, &thread)
        }
        Face::RustAsync => {
            let client = client(&endpoint, token, row);
            started = Instant::now();
            call_async(&client, op, &thread)
        }
        Face::CAsync => {
            let client = c_client(&endpoint, token, row);
            started = Instant::now();
            call_c(&client, op, &thread)
        }
    };
    let elapsed = started.elapsed();
    let ended = SystemTime::now();
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    if expect.waits_for_date {
        // The retry may only be sent once the date has passed, and the call
        // ends after the retry: a causal bound, whatever the machine's load.
        check(
            retry_date.is_some_and(|date| ended >= date),
            format!("ended at {ended:?}, before the Retry-After date {retry_date:?}"),
        );
    }

    let requests = if row.target == Target::Emulator {
        env.requests(&thread)
    } else {
        Vec::new()
    };
    let returned_id = match &outcome {
        Ok(id) => {
            check(
                expect.code == ResultCode::Ok,
                format!("succeeded, expected {:?}", expect.code),
            );
            if let (Some(want), Some(got)) = (expect.id, id) {
                check(
                    want == got,
                    format!("message id {got:?}, expected {want:?}"),
                );
            }
            id.clone()
        }
        Err(err) => {
            check(
                err.result_code() == expect.code,
                format!(
                    "{:?} ({err}), expected {:?}",
                    err.result_code(),
                    expect.code
                ),
            );
            check(
                err.http_status() == expect.http_status,
                format!(
                    "http status {}, expected {}",
                    err.http_status(),
                    expect.http_status
                ),
            );
            check(
                err.service_code() == expect.service_code,
                format!(
                    "service code {:?}, expected {:?}",
                    err.service_code(),
                    expect.service_code
                ),
            );
            let text = err.to_string();
            check(
                text.contains(expect.message) && !text.contains('\n') && !text.contains(token),
                format!(
                    "message {text:?}, expected it to contain {:?}",
                    expect.message
                ),
            );
            check(
                err.retry_after() == expect.retry_after_ms.map(Duration::from_millis),
                format!(
                    "retry_after {:?}, expected {:?} ms",
                    err.retry_after(),
                    expect.retry_after_ms
                ),
            );
            check(
                err.may_have_been_delivered() == expect.may_have_been_delivered,
                format!("may_have_been_delivered {}", err.may_have_been_delivered()),
            );
            let ours = requests
                .first()
                .and_then(|r| r.client_request_id.as_deref())
                .map(str::to_owned);
            if expect.ms_cv {
                check(
                    err.request_id().starts_with("cv-"),
                    format!(
                        "request id {:?}, expected the fault's MS-CV",
                        err.request_id()
                    ),
                );
            } else if let Some(ours) = ours {
                check(
                    err.request_id() == ours,
                    format!(
                        "request id {:?}, expected the client request id {ours:?}",
                        err.request_id()
                    ),
                );
            } else {
                check(
                    err.request_id().len() == 36,
                    format!("request id {:?}, expected a uuid", err.request_id()),
                );
            }
            None
        }
    };

    if row.target == Target::Emulator {
        check(
            requests.len() == expect.attempts,
            format!(
                "the emulator saw {} attempts, expected {}",
                requests.len(),
                expect.attempts
            ),
        );
        let crid = requests.first().map(|r| r.client_request_id.clone());
        check(
            requests
                .iter()
                .all(|r| Some(&r.client_request_id) == crid.as_ref()),
            "attempts carry different client request ids".into(),
        );
        let at: Vec<f64> = requests.iter().map(|r| r.at_ms).collect();
        let ms = elapsed.as_secs_f64() * 1000.0;
        check(
            ms >= expect.min_elapsed_ms,
            format!(
                "took {ms:.0} ms, expected at least {:.0}",
                expect.min_elapsed_ms
            ),
        );
        for (i, pair) in at.windows(2).enumerate() {
            let gap = pair[1] - pair[0];
            let min = expect.min_gaps_ms.get(i).copied().unwrap_or(0.0);
            let max = (row.max_delay_ms + row.timeout_ms.min(2000)) as f64 + 3000.0;
            check(
                gap >= min && gap <= max,
                format!("gap {} is {gap:.1} ms, expected {min:.0}..{max:.0}", i + 1),
            );
        }
        if op == Op::Message {
            // Give a late, abandoned request time to land before counting.
            if expect.stored == Stored::AtMostOne {
                std::thread::sleep(Duration::from_millis(1600));
            }
            let messages: Vec<Event> = env
                .events(&thread)
                .into_iter()
                .filter(|e| e.op == EventOp::Message)
                .collect();
            let ok = match expect.stored {
                Stored::None => messages.is_empty(),
                Stored::AtMostOne => messages.len() <= 1,
                Stored::One => {
                    messages.len() == 1 && returned_id.as_deref() == messages[0].id.as_deref()
                }
            };
            check(
                ok,
                format!("stored messages {messages:?}, expected {:?}", expect.stored),
            );
        }
    } else {
        // No server to ask: the back-offs must still have been waited out,
        // and the connect timeout must bound each attempt.
        let min: f64 = expect.min_gaps_ms.iter().sum();
        let max =
            (expect.attempts as u64 * CONNECT_TIMEOUT_MS + RETRIES as u64 * MAX_MS) as f64 + 5000.0;
        let ms = elapsed.as_secs_f64() * 1000.0;
        check(
            ms >= min && ms <= max,
            format!("took {ms:.0} ms, expected {min:.0}..{max:.0}"),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn describe(e: &Expect, op: Op, target: Target) -> String {
    let mut text = match e.code {
        ResultCode::Ok => "OK".to_owned(),
        code => code.name().trim_start_matches("ACS_RESULT_").to_owned(),
    };
    if e.http_status != 0 {
        let _ = write!(text, " ({})", e.http_status);
    }
    let tries = if e.attempts == 1 { "try" } else { "tries" };
    let _ = write!(text, ", {} {tries}", e.attempts);
    if let Some(&first) = e.min_gaps_ms.first() {
        if target == Target::Emulator && e.min_gaps_ms.iter().all(|g| *g == first) {
            let _ = write!(text, " ≥ {first:.0} ms apart");
        } else {
            let gaps: Vec<String> = e.min_gaps_ms.iter().map(|g| format!("{g:.0}")).collect();
            let _ = write!(text, ", waits ≥ {} ms", gaps.join("/"));
        }
    }
    if !e.service_code.is_empty() {
        let _ = write!(text, ", code `{}`", e.service_code);
    }
    if let Some(ms) = e.retry_after_ms {
        let _ = write!(text, ", retry-after {ms} ms");
    }
    if e.waits_for_date {
        text.push_str(", the retry not before that date");
    }
    if e.min_elapsed_ms > 0.0 {
        let _ = write!(text, ", ≥ {:.0} ms in all", e.min_elapsed_ms);
    }
    if e.may_have_been_delivered {
        text.push_str(", may have been delivered");
    }
    if op == Op::Message {
        if let Some(id) = e.id {
            let _ = write!(text, ", id `{id}` from `Location`");
        }
    }
    text
}

fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Each cell: the result (`ACS_RESULT_*` without the prefix) and HTTP status, the \
         attempts the emulator saw and the least wait between them, the service's error code, \
         the retry-after reported, and whether the request may have been delivered. Client \
         settings: {RETRIES} retries, back-off {BASE_MS} ms doubling (±20 %) up to {MAX_MS} ms \
         (2-3 s in the `Retry-After` rows), connect timeout {CONNECT_TIMEOUT_MS} ms. A fault \
         applies to every try unless the row says otherwise. Send-message never repeats a \
         request that may have arrived, and never stores a message twice.\n"
    );
    out.push_str("| fault | send message | typing | read receipt |\n");
    out.push_str("|---|---|---|---|\n");
    for row in rows {
        let cells: Vec<String> = Op::ALL
            .iter()
            .map(|&op| describe(&(row.expect)(op), op, row.target))
            .collect();
        let _ = writeln!(out, "| {} | {} |", row.name, cells.join(" | "));
    }
    out
}

#[test]
fn http_dates() {
    let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
    assert_eq!(http_date(t), "Tue, 29 Feb 2000 00:00:00 GMT");
}

#[test]
fn fault_matrix() {
    let env = start_unlimited();
    let token = env.token();
    let rows = rows();
    // One face at a time, every cell of it in parallel: the cells' timing
    // bounds need the emulator to keep up with each attempt as it arrives.
    let mut failures: Vec<String> = Vec::new();
    for face in Face::ALL {
        failures.extend(std::thread::scope(|s| {
            let handles: Vec<_> = rows
                .iter()
                .flat_map(|row| Op::ALL.map(|op| (row, op)))
                .map(|(row, op)| {
                    let (env, token) = (&env, token.as_str());
                    let cell = s.spawn(move || run_cell(env, token, row, op, face));
                    (row.name, op, cell)
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|(name, op, handle)| match handle.join() {
                    Ok(Ok(())) => None,
                    Ok(Err(why)) => Some(format!("{name} / {op:?} / {face:?}: {why}")),
                    Err(_) => Some(format!("{name} / {op:?} / {face:?}: panicked")),
                })
                .collect::<Vec<_>>()
        }));
    }
    assert!(
        failures.is_empty(),
        "{} cells failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let (head, rest) = readme
        .split_once(TABLE_BEGIN)
        .expect("README.md has the fault matrix markers");
    let (committed, tail) = rest.split_once(TABLE_END).unwrap();
    let table = format!("\n{}", render(&rows));
    if std::env::var_os("ACS_UPDATE_FAULT_MATRIX").is_some() {
        std::fs::write(path, format!("{head}{TABLE_BEGIN}{table}{TABLE_END}{tail}")).unwrap();
    } else {
        assert!(
            committed == table,
            "the fault matrix in README.md is out of date: run make fault-matrix"
        );
    }
}

/// The markers around the generated fault matrix in README.md.
const TABLE_BEGIN: &str = "<!-- fault matrix: generated by tests/fault_matrix.rs -->";
const TABLE_END: &str = "<!-- end of fault matrix -->";
