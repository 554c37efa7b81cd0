//! `ACS_CHAT_LOG=debug` sends log lines to standard error (checked in a child
//! process, since the variable is read once per process).

mod common;

use std::process::Command;

use acs_chat::{ChatClient, ClientOptions};

#[test]
fn child_sends_typing() {
    if std::env::var_os("ACS_CHAT_LOG_CHILD").is_none() {
        return;
    }
    let env = common::start();
    let token = env.token();
    println!("TOKEN={token}");
    let c = ChatClient::new(&env.url, &token, &ClientOptions::new()).unwrap();
    c.send_typing(&common::thread_id("env-log"), None).unwrap();
}

#[test]
fn acs_chat_log_writes_to_stderr() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_sends_typing",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ACS_CHAT_LOG", "trace")
        .env("ACS_CHAT_LOG_CHILD", "1")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let token = stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix("TOKEN="))
        .unwrap_or_else(|| panic!("no token from the child: {stdout} / {stderr}"));
    assert!(
        stderr.contains("acs_chat DEBUG: POST /chat/threads/"),
        "{stderr}"
    );
    assert!(stderr.contains("authorization: REDACTED"), "{stderr}");
    assert!(!stderr.contains(token));

    let quiet = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_sends_typing",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("ACS_CHAT_LOG")
        .env("ACS_CHAT_LOG_CHILD", "1")
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("acs_chat"));
}
