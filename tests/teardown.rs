//! Calls into the C API while a thread's thread-local storage is being torn
//! down (a `thread_local` destructor, a pthread key destructor, an atexit
//! handler) return normally instead of aborting the process.

// SAFETY (every `unsafe { acs_* }` block below): the C API is called as C
// would call it, with NULL, pointers into live `CString`s and buffers of the
// length passed, and handles this file created and has not yet freed: what
// each function's `# Safety` section asks.

use std::ffi::c_char;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use acs_chat::ffi::client::acs_client_new;
use acs_chat::ffi::errors::*;

static RESULT: AtomicU32 = AtomicU32::new(u32::MAX);
static MESSAGE_LEN: AtomicUsize = AtomicUsize::new(usize::MAX);

struct CallsOnDrop;

impl Drop for CallsOnDrop {
    fn drop(&mut self) {
        let mut client = std::ptr::null_mut();
        let rc = unsafe {
            acs_client_new(
                std::ptr::null(),
                c"t".as_ptr(),
                std::ptr::null(),
                &mut client,
            )
        };
        RESULT.store(rc, Ordering::SeqCst);
        let mut buf = [0 as c_char; 64];
        MESSAGE_LEN.store(
            unsafe { acs_last_error_message(buf.as_mut_ptr(), buf.len()) },
            Ordering::SeqCst,
        );
    }
}

thread_local! {
    static GUARD: CallsOnDrop = const { CallsOnDrop };
}

#[test]
fn calls_from_thread_local_destructors_do_not_abort() {
    std::thread::spawn(|| {
        // Registered first, so destroyed after the library's thread-locals,
        // which the failing call below creates.
        GUARD.with(|_| {});
        let mut client = std::ptr::null_mut();
        let rc = unsafe {
            acs_client_new(
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
                &mut client,
            )
        };
        assert_eq!(rc, ACS_RESULT_NULL_PARAMETER);
        assert!(unsafe { acs_last_error_message(std::ptr::null_mut(), 0) } > 0);
    })
    .join()
    .expect("the thread ends normally");
    assert_eq!(RESULT.load(Ordering::SeqCst), ACS_RESULT_NULL_PARAMETER);
    // Whether the message could still be kept depends on the order of
    // destruction; reading it must simply not fail.
    assert_ne!(MESSAGE_LEN.load(Ordering::SeqCst), usize::MAX);
}
