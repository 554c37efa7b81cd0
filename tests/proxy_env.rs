//! Proxy variables in the environment never carry a request (and its bearer
//! token) anywhere but to the endpoint itself.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use acs_chat::{ChatClient, ClientOptions, MessageOptions};
use common::{start, thread_id};

#[test]
fn proxy_environment_variables_are_ignored() {
    // A fake proxy that records whatever connects to it.
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let seen_by_proxy = seen.clone();
    std::thread::spawn(move || {
        for stream in proxy.incoming().flatten() {
            seen_by_proxy.fetch_add(1, Ordering::SeqCst);
            let mut stream = stream;
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = stream.read(&mut [0u8; 4096]);
        }
    });
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        std::env::set_var(name, &proxy_url);
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");

    let env = start();
    let client = ChatClient::new(&env.url, &env.token(), &ClientOptions::new()).unwrap();
    let thread = thread_id("proxy");
    let id = client
        .send_message(&thread, "direct", &MessageOptions::new())
        .unwrap();
    assert_eq!(env.events(&thread)[0].id.as_deref(), Some(id.as_str()));
    // An https endpoint does not go through the proxy either: it is not
    // resolvable, so the call fails to connect, without touching the proxy.
    let mut options = ClientOptions::new();
    options
        .set_max_retries(0)
        .unwrap()
        .set_connect_timeout(Duration::from_millis(500))
        .unwrap();
    let remote = ChatClient::new(
        "https://acs-chat-proxy-test.invalid",
        &env.token(),
        &options,
    )
    .unwrap();
    let err = remote.send_typing(&thread, None).unwrap_err();
    assert_eq!(err.result_code(), acs_chat::ResultCode::Connect, "{err}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "a request went to the proxy"
    );
}
