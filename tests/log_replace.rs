//! Replacing the log callback returns only once no other thread is inside
//! the old one, so its state may be released right after.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use acs_chat::{set_logger, ChatClient, ClientOptions, LogLevel};

/// The logger is process-wide: these tests take turns.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn removing_the_callback_waits_for_calls_inside_it() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let inside = Arc::new(AtomicUsize::new(0));
    let entered = Arc::new(AtomicBool::new(false));
    let (inside2, entered2) = (inside.clone(), entered.clone());
    set_logger(
        Some(Arc::new(move |_level, _line: &str| {
            inside2.fetch_add(1, Ordering::SeqCst);
            entered2.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(200));
            inside2.fetch_sub(1, Ordering::SeqCst);
        })),
        LogLevel::Info,
    );
    let logging = std::thread::spawn(|| {
        // Creating a client logs one line at info.
        let token = "eyJhbGciOiJub25lIn0.eyJleHAiOjQwMDAwMDAwMDB9.";
        ChatClient::new("http://127.0.0.1:9", token, &ClientOptions::new()).unwrap();
    });
    while !entered.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    set_logger(None, LogLevel::Off);
    assert_eq!(
        inside.load(Ordering::SeqCst),
        0,
        "set_logger returned while the old callback was running"
    );
    logging.join().unwrap();
}

#[test]
fn replacing_from_inside_the_callback_does_not_wait_for_itself() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let done = Arc::new(AtomicBool::new(false));
    let done2 = done.clone();
    set_logger(
        Some(Arc::new(move |_level, _line: &str| {
            set_logger(None, LogLevel::Off);
            done2.store(true, Ordering::SeqCst);
        })),
        LogLevel::Info,
    );
    let token = "eyJhbGciOiJub25lIn0.eyJleHAiOjQwMDAwMDAwMDB9.";
    ChatClient::new("http://127.0.0.1:9", token, &ClientOptions::new()).unwrap();
    assert!(done.load(Ordering::SeqCst));
}
