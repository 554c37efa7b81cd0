//! Logging to a standard error whose reader has gone (a broken pipe) never
//! fails a call. Runs without the test harness, whose output capture would
//! keep log lines away from the real standard error.

mod common;

use acs_chat::{ChatClient, ClientOptions, MessageOptions};
use common::{start, thread_id};

fn main() {
    a_broken_stderr_does_not_fail_calls();
    println!("test a_broken_stderr_does_not_fail_calls ... ok");
    println!();
    println!("test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}

fn a_broken_stderr_does_not_fail_calls() {
    // Read by the logger at its first use, which is below.
    std::env::set_var("ACS_CHAT_LOG", "trace");
    let env = start();
    let client = ChatClient::new(&env.url, &env.token(), &ClientOptions::new()).unwrap();
    let thread = thread_id("stderr");
    // SAFETY: plain descriptor calls; fd 2 is restored below. Rust programs
    // ignore SIGPIPE, so writing to the broken pipe fails with EPIPE.
    let saved = unsafe { libc::dup(2) };
    assert!(saved >= 0);
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe {
        libc::dup2(fds[1], 2);
        libc::close(fds[1]);
        libc::close(fds[0]);
    }
    let outcome = client.send_message(&thread, "logged", &MessageOptions::new());
    let failed = client.send_read_receipt(&thread, "");
    unsafe {
        libc::dup2(saved, 2);
        libc::close(saved);
    }
    let id = outcome.expect("the call succeeds whatever happens to its log lines");
    assert_eq!(env.events(&thread)[0].id.as_deref(), Some(id.as_str()));
    assert_eq!(
        failed.unwrap_err().result_code(),
        acs_chat::ResultCode::InvalidArgument
    );
}
