//! The library wipes its own copies of a token before their memory is freed:
//! the token a C refresher hands to `acs_token_sink_set` (also one replaced
//! by a second call) and the refresher's result once it is parsed.
//!
//! An allocator watches every block freed while a refresh runs and counts
//! those still holding the token. The call goes to a closed loopback port, so
//! the token never reaches the HTTP stack's buffers (which cannot be wiped,
//! README: Security); the one copy the library keeps, the `Authorization`
//! header value, lives on with the client.

// SAFETY (every `unsafe { acs_* }` block below): the C API is called as C
// would call it, with NULL, pointers into live `CString`s, and handles this
// file created and has not yet freed: what each function's `# Safety` asks.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use acs_chat::ffi::client::*;
use acs_chat::ffi::errors::*;
use acs_chat::ffi::options::*;
use acs_chat::ffi::token::{acs_token_sink, acs_token_sink_set};

/// In the signature of both refreshed tokens, and in nothing else.
const SECRET: &[u8] = b"wipe-me-c2VjcmV0LXNpZ25hdHVyZQ";
/// Tokens expiring in 2100, in static memory: the test's own copies are
/// never freed. The first is replaced by the second in the same refresh.
const FIRST: &CStr =
    c"eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.first-wipe-me-c2VjcmV0LXNpZ25hdHVyZQ";
const SECOND: &CStr =
    c"eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.second-wipe-me-c2VjcmV0LXNpZ25hdHVyZQ";

static WATCHING: AtomicBool = AtomicBool::new(false);
/// Blocks freed while watching that still held `SECRET`.
static UNWIPED: AtomicUsize = AtomicUsize::new(0);
static REFRESHES: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, looking into each block it frees while watching.
/// (`realloc` is the trait's default: alloc, copy, `dealloc` of the old block.)
struct Watch;

/// Whether the `len` bytes at `p` hold `SECRET`. Volatile reads: the block
/// is about to be freed, and may never have been fully written.
unsafe fn holds_secret(p: *const u8, len: usize) -> bool {
    (0..len.saturating_sub(SECRET.len() - 1)).any(|start| {
        // SAFETY: `start + SECRET.len() <= len`, inside the block.
        SECRET
            .iter()
            .enumerate()
            .all(|(i, b)| unsafe { p.add(start + i).read_volatile() } == *b)
    })
}

// SAFETY: every request goes to the system allocator unchanged.
unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: `p` is a live block of `layout.size()` bytes until freed below.
        if WATCHING.load(Ordering::SeqCst) && unsafe { holds_secret(p, layout.size()) } {
            UNWIPED.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(p, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Watch = Watch;

unsafe extern "C" fn refresh(_user_data: *mut c_void, sink: *mut acs_token_sink) -> acs_result {
    REFRESHES.fetch_add(1, Ordering::SeqCst);
    let rc = unsafe { acs_token_sink_set(sink, FIRST.as_ptr()) };
    if rc != ACS_RESULT_OK {
        return rc;
    }
    unsafe { acs_token_sink_set(sink, SECOND.as_ptr()) }
}

#[test]
fn refreshed_tokens_are_wiped_before_they_are_freed() {
    // Check the check: a freed block holding the secret is seen.
    WATCHING.store(true, Ordering::SeqCst);
    drop(String::from_utf8(SECRET.to_vec()).unwrap());
    WATCHING.store(false, Ordering::SeqCst);
    assert_eq!(UNWIPED.swap(0, Ordering::SeqCst), 1);

    // A port nothing listens on: the call fails to connect, after the refresh.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = CString::new(format!("http://127.0.0.1:{port}")).unwrap();
    // Inside the on-demand window (under 2 minutes left): refreshed before the call.
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    let payload = format!("{{\"exp\":{exp}}}");
    let initial = CString::new(format!(
        "eyJhbGciOiJub25lIn0.{}.initial",
        URL_SAFE_NO_PAD.encode(payload)
    ))
    .unwrap();

    let mut options = ptr::null_mut();
    assert_eq!(
        unsafe { acs_client_options_new(&mut options) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_client_options_set_max_retries(options, 0) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe {
            acs_client_options_set_token_refresher(options, Some(refresh), ptr::null_mut(), None)
        },
        ACS_RESULT_OK
    );
    let mut client = ptr::null_mut();
    assert_eq!(
        unsafe { acs_client_new(endpoint.as_ptr(), initial.as_ptr(), options, &mut client) },
        ACS_RESULT_OK
    );
    unsafe { acs_client_options_free(options) };

    let thread = c"19:wipe@thread.v2";
    WATCHING.store(true, Ordering::SeqCst);
    let rc = unsafe { acs_send_typing(client, thread.as_ptr(), ptr::null()) };
    WATCHING.store(false, Ordering::SeqCst);
    assert_eq!(rc, ACS_RESULT_CONNECT);
    assert_eq!(REFRESHES.load(Ordering::SeqCst), 1);
    assert_eq!(
        UNWIPED.load(Ordering::SeqCst),
        0,
        "a copy of the token was freed without being wiped"
    );
    unsafe { acs_client_free(client) };
}
