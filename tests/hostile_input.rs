//! Hostile input at the C boundary, through the `extern "C"` functions:
//! NULL in every combination, malformed UTF-8 of every kind in every string,
//! huge strings, thread ids made of URL syntax, control characters, and
//! endpoints that smuggle credentials, paths or queries.

// SAFETY (every `unsafe { acs_* }` block below): hostile as the input is,
// every pointer is NULL, a NUL-terminated string (of any bytes), a buffer of
// the length passed, or a handle this file created and has not yet freed:
// what each function's `# Safety` section asks.

mod common;

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::time::{Duration, Instant};

use acs_chat::ffi::client::*;
use acs_chat::ffi::errors::*;
use acs_chat::ffi::message_options::*;
use acs_chat::ffi::options::*;
use acs_chat::ffi::strings::acs_string_free;
use common::c::{cstr, fast_options, last_message, new_fast_client, set_token_and_type};
use common::{start_unlimited, thread_id};

/// Picks `value` or NULL for parameter `i` of a NULL pattern.
fn pick<T>(mask: u32, i: u32, value: *const T) -> *const T {
    if mask & (1 << i) != 0 {
        ptr::null()
    } else {
        value
    }
}

fn pick_mut<T>(mask: u32, i: u32, value: *mut T) -> *mut T {
    if mask & (1 << i) != 0 {
        ptr::null_mut()
    } else {
        value
    }
}

/// Expected result for a NULL pattern: NULL_PARAMETER when a required
/// pointer is NULL, else OK.
fn expected(mask: u32, optional: u32) -> acs_result {
    if mask & !optional != 0 {
        ACS_RESULT_NULL_PARAMETER
    } else {
        ACS_RESULT_OK
    }
}

#[test]
fn every_combination_of_null_pointers() {
    let env = start_unlimited();
    let client = new_fast_client(&env);
    let url = cstr(&env.url);
    let token = cstr(&env.token());
    let thread = thread_id("nulls");
    let t = cstr(&thread);
    let text = cstr("x");
    let o = fast_options();
    let mut mo = ptr::null_mut();
    assert_eq!(unsafe { acs_message_options_new(&mut mo) }, ACS_RESULT_OK);
    let mut sent = 0;

    // acs_client_new(endpoint, token, options?, client_out)
    for mask in 1..16u32 {
        let sentinel = 0x10usize as *mut acs_client;
        let mut out = sentinel;
        let rc = unsafe {
            acs_client_new(
                pick(mask, 0, url.as_ptr()),
                pick(mask, 1, token.as_ptr()),
                pick(mask, 2, o.cast_const()),
                pick_mut(mask, 3, &mut out),
            )
        };
        assert_eq!(rc, expected(mask, 1 << 2), "client_new mask {mask:04b}");
        if rc == ACS_RESULT_OK {
            assert_ne!(out, sentinel);
            unsafe { acs_client_free(out) };
        } else {
            assert_eq!(out, sentinel, "output written on failure");
            assert!(last_message().ends_with("is NULL"), "{}", last_message());
        }
    }
    // acs_client_set_token(client, token)
    for mask in 1..4u32 {
        let rc = unsafe {
            acs_client_set_token(
                pick(mask, 0, client.cast_const()),
                pick(mask, 1, token.as_ptr()),
            )
        };
        assert_eq!(rc, ACS_RESULT_NULL_PARAMETER, "set_token mask {mask:02b}");
    }
    // acs_send_message(client, thread_id, content, options?, message_id_out)
    for mask in 1..32u32 {
        let sentinel = 0x20usize as *mut c_char;
        let mut id = sentinel;
        let rc = unsafe {
            acs_send_message(
                pick(mask, 0, client.cast_const()),
                pick(mask, 1, t.as_ptr()),
                pick(mask, 2, text.as_ptr()),
                pick(mask, 3, mo.cast_const()),
                pick_mut(mask, 4, &mut id),
            )
        };
        assert_eq!(rc, expected(mask, 1 << 3), "send_message mask {mask:05b}");
        if rc == ACS_RESULT_OK {
            sent += 1;
            unsafe { acs_string_free(id) };
        } else {
            assert_eq!(id, sentinel, "output written on failure");
        }
    }
    // acs_send_typing(client, thread_id, sender_display_name?)
    for mask in 1..8u32 {
        let rc = unsafe {
            acs_send_typing(
                pick(mask, 0, client.cast_const()),
                pick(mask, 1, t.as_ptr()),
                pick(mask, 2, text.as_ptr()),
            )
        };
        assert_eq!(rc, expected(mask, 1 << 2), "send_typing mask {mask:03b}");
        sent += usize::from(rc == ACS_RESULT_OK);
    }
    // acs_send_read_receipt(client, thread_id, chat_message_id)
    for mask in 1..8u32 {
        let rc = unsafe {
            acs_send_read_receipt(
                pick(mask, 0, client.cast_const()),
                pick(mask, 1, t.as_ptr()),
                pick(mask, 2, text.as_ptr()),
            )
        };
        assert_eq!(
            rc, ACS_RESULT_NULL_PARAMETER,
            "read_receipt mask {mask:03b}"
        );
    }
    // acs_message_options_add_metadata(o, key, value)
    for mask in 1..8u32 {
        let rc = unsafe {
            acs_message_options_add_metadata(
                pick_mut(mask, 0, mo),
                pick(mask, 1, text.as_ptr()),
                pick(mask, 2, text.as_ptr()),
            )
        };
        assert_eq!(
            rc, ACS_RESULT_NULL_PARAMETER,
            "add_metadata mask {mask:03b}"
        );
    }
    // The error getters take a NULL buffer of any claimed length.
    assert_eq!(
        unsafe { acs_send_typing(client, ptr::null(), ptr::null()) },
        ACS_RESULT_NULL_PARAMETER
    );
    let len = unsafe { acs_last_error_message(ptr::null_mut(), 0) };
    assert!(len > 0);
    assert_eq!(
        unsafe { acs_last_error_message(ptr::null_mut(), 4096) },
        len
    );
    assert_eq!(unsafe { acs_last_error_code(ptr::null_mut(), 4096) }, 0);
    assert_eq!(
        unsafe { acs_last_error_request_id(ptr::null_mut(), usize::MAX) },
        0
    );
    let mut one = [0x55 as c_char; 1];
    assert_eq!(unsafe { acs_last_error_message(one.as_mut_ptr(), 1) }, len);
    assert_eq!(one[0], 0);

    // Only the calls whose required pointers were all set reached the emulator.
    assert_eq!(env.requests(&thread).len(), sent);
    unsafe { acs_message_options_free(mo) };
    unsafe { acs_client_options_free(o) };
    unsafe { acs_client_free(client) };
}

/// Byte strings that are not UTF-8, each NUL-terminated.
const BAD_UTF8: &[&[u8]] = &[
    b"\xff\0",
    b"\x80\0",               // lone continuation byte
    b"\xc0\xaf\0",           // overlong '/'
    b"\xe0\x80\xaf\0",       // overlong '/', three bytes
    b"\xed\xa0\x80\0",       // UTF-16 surrogate
    b"\xe2\x82\0",           // truncated sequence
    b"\xf4\x90\x80\x80\0",   // above U+10FFFF
    b"ok\xfe\0",             // valid prefix
    b"19:a\xc3@thread.v2\0", // broken in the middle of an id
];

#[test]
fn malformed_utf8_in_every_string() {
    let env = start_unlimited();
    let client = new_fast_client(&env);
    let url = cstr(&env.url);
    let token = cstr(&env.token());
    let thread = thread_id("utf8");
    let t = cstr(&thread);
    let s = cstr("x");
    let o = fast_options();
    let mut mo = ptr::null_mut();
    assert_eq!(unsafe { acs_message_options_new(&mut mo) }, ACS_RESULT_OK);

    for bad in BAD_UTF8 {
        let b = bad.as_ptr().cast::<c_char>();
        let mut out = ptr::null_mut();
        let mut id = ptr::null_mut();
        let cases: Vec<(&str, acs_result)> = vec![
            ("endpoint", unsafe {
                acs_client_new(b, token.as_ptr(), ptr::null(), &mut out)
            }),
            ("token", unsafe {
                acs_client_new(url.as_ptr(), b, ptr::null(), &mut out)
            }),
            ("token", unsafe { acs_client_set_token(client, b) }),
            ("thread_id", unsafe {
                acs_send_message(client, b, s.as_ptr(), ptr::null(), &mut id)
            }),
            ("content", unsafe {
                acs_send_message(client, t.as_ptr(), b, ptr::null(), &mut id)
            }),
            ("thread_id", unsafe {
                acs_send_typing(client, b, ptr::null())
            }),
            ("sender_display_name", unsafe {
                acs_send_typing(client, t.as_ptr(), b)
            }),
            ("thread_id", unsafe {
                acs_send_read_receipt(client, b, s.as_ptr())
            }),
            ("chat_message_id", unsafe {
                acs_send_read_receipt(client, t.as_ptr(), b)
            }),
            ("api_version", unsafe {
                acs_client_options_set_api_version(o, b)
            }),
            ("application_id", unsafe {
                acs_client_options_set_application_id(o, b)
            }),
            ("pem_path", unsafe { acs_client_options_set_ca_file(o, b) }),
            ("name", unsafe {
                acs_message_options_set_sender_display_name(mo, b)
            }),
            ("key", unsafe {
                acs_message_options_add_metadata(mo, b, s.as_ptr())
            }),
            ("value", unsafe {
                acs_message_options_add_metadata(mo, s.as_ptr(), b)
            }),
        ];
        for (name, rc) in cases {
            assert_eq!(rc, ACS_RESULT_INVALID_ARGUMENT, "{name} = {bad:?}");
        }
        assert!(out.is_null() && id.is_null());
        // The message names the last parameter and does not echo the bytes.
        assert_eq!(last_message(), "value is not valid UTF-8");
    }
    // The token still works, and nothing reached the thread.
    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
        ACS_RESULT_OK
    );
    assert_eq!(env.requests(&thread).len(), 1);
    unsafe { acs_message_options_free(mo) };
    unsafe { acs_client_options_free(o) };
    unsafe { acs_client_free(client) };
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Results a request with a huge head may get: refused by the emulator
/// (414/431, as BAD_REQUEST), or IO when it closes the connection while the
/// head is still being written. Huge bodies always get the 413; see
/// `huge_content_is_bad_request`.
fn refused(rc: acs_result) -> bool {
    rc == ACS_RESULT_BAD_REQUEST || rc == ACS_RESULT_IO
}

#[test]
fn huge_strings_are_refused_quickly_with_bounded_memory() {
    let env = start_unlimited();
    let client = new_fast_client(&env);
    let thread = thread_id("huge");
    let t = cstr(&thread);
    let ten_mb = cstr(&"a".repeat(10 * 1024 * 1024));

    // Warm up, then repeat: memory must come back after each call.
    let mut id = ptr::null_mut();
    let mut send = || {
        let started = Instant::now();
        let rc =
            unsafe { acs_send_message(client, t.as_ptr(), ten_mb.as_ptr(), ptr::null(), &mut id) };
        assert!(started.elapsed() < Duration::from_secs(20));
        assert_eq!(rc, ACS_RESULT_BAD_REQUEST, "{}", last_message());
        assert_eq!(acs_last_error_http_status(), 413);
        rc
    };
    send();
    let before = rss_kib();
    let codes: Vec<acs_result> = (0..5).map(|_| send()).collect();
    assert!(id.is_null());
    let after = rss_kib();
    eprintln!("10 MB sends: {codes:?}, RSS {before} KiB -> {after} KiB");
    // Six 10 MB bodies went out; far less than that may stay behind.
    assert!(
        after < before + 40 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );

    // A 10 MB display name, metadata value and message id.
    let rc = unsafe { acs_send_typing(client, t.as_ptr(), ten_mb.as_ptr()) };
    assert_eq!(rc, ACS_RESULT_BAD_REQUEST, "typing: {}", last_message());
    let rc = unsafe { acs_send_read_receipt(client, t.as_ptr(), ten_mb.as_ptr()) };
    assert_eq!(rc, ACS_RESULT_BAD_REQUEST, "receipt: {}", last_message());
    let mut mo = ptr::null_mut();
    assert_eq!(unsafe { acs_message_options_new(&mut mo) }, ACS_RESULT_OK);
    let k = cstr("k");
    assert_eq!(
        unsafe { acs_message_options_add_metadata(mo, k.as_ptr(), ten_mb.as_ptr()) },
        ACS_RESULT_OK
    );
    let small = cstr("small");
    let rc = unsafe { acs_send_message(client, t.as_ptr(), small.as_ptr(), mo, &mut id) };
    assert_eq!(rc, ACS_RESULT_BAD_REQUEST, "metadata: {}", last_message());
    unsafe { acs_message_options_free(mo) };

    // A 1 MB thread id makes a 3 MB request line; a 1 MB token a 1 MB header.
    let long_thread = cstr(&"t".repeat(1024 * 1024));
    let rc = unsafe { acs_send_typing(client, long_thread.as_ptr(), ptr::null()) };
    assert!(refused(rc), "thread id: {rc} {}", last_message());
    let token = env.token();
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, _) = rest.split_once('.').unwrap();
    let huge_token = cstr(&format!("{head}.{payload}.{}", "s".repeat(1024 * 1024)));
    assert_eq!(
        unsafe { acs_client_set_token(client, huge_token.as_ptr()) },
        ACS_RESULT_OK
    );
    let rc = unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) };
    assert!(refused(rc), "token: {rc} {}", last_message());
    assert!(!last_message().contains("ssssssss"), "the token leaked");

    // None of it was stored, and the client still works.
    set_token_and_type(client, &token, &t);
    assert_eq!(env.events(&thread).len(), 1);
    unsafe { acs_client_free(client) };
}

#[test]
fn thread_ids_made_of_url_syntax_stay_one_segment() {
    let env = start_unlimited();
    let client = new_fast_client(&env);
    let ids = [
        "a/b",
        "/",
        "//",
        "?",
        "#",
        "%",
        "%2F",
        "%2e%2e",
        "a%00b",
        ":",
        "19:x@thread.v2",
        "a b",
        " ",
        "...",
        "a/../b",
        "../x",
        "x/..",
        "./x",
        "?api-version=2021-03-07",
        "#frag",
        "a?b#c",
        "\\..\\x",
        "x;y=z",
        "x&y",
        "x+y",
        "\u{7f}",
        "tab\tid",
        "new\nline",
        "\u{202e}rtl",
        "ünï",
        "😀",
        "\u{feff}",
    ];
    for (i, id) in ids.iter().enumerate() {
        let t = cstr(id);
        let content = cstr(&format!("message {i}"));
        let mut mid = ptr::null_mut();
        assert_eq!(
            unsafe {
                acs_send_message(client, t.as_ptr(), content.as_ptr(), ptr::null(), &mut mid)
            },
            ACS_RESULT_OK,
            "{id:?}: {}",
            last_message()
        );
        let returned = unsafe { CStr::from_ptr(mid) }.to_str().unwrap().to_owned();
        assert_eq!(
            unsafe { acs_send_read_receipt(client, t.as_ptr(), mid) },
            ACS_RESULT_OK
        );
        unsafe { acs_string_free(mid) };
        assert_eq!(
            unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
            ACS_RESULT_OK
        );
        let events = env.events(id);
        assert_eq!(events.len(), 3, "{id:?}: {events:?}");
        assert_eq!(
            events[0].content.as_deref(),
            Some(format!("message {i}").as_str()),
            "{id:?}"
        );
        assert_eq!(events[0].id.as_deref(), Some(returned.as_str()));
        assert_eq!(
            events[1].chat_message_id.as_deref(),
            Some(returned.as_str())
        );
        let requests = env.requests(id);
        assert!(
            requests
                .iter()
                .all(|r| r.api_version.as_deref() == Some("2025-03-15")),
            "{id:?}"
        );
    }
    // Only '.' and '..' are refused: they would be path navigation.
    for id in [".", ".."] {
        let t = cstr(id);
        assert_eq!(
            unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
            ACS_RESULT_INVALID_ARGUMENT,
            "{id:?}"
        );
    }
    unsafe { acs_client_free(client) };
}

#[test]
fn control_characters_round_trip() {
    let env = start_unlimited();
    let client = new_fast_client(&env);
    let thread = thread_id("controls");
    let t = cstr(&thread);
    let all_controls: String = (1u8..0x20).map(char::from).chain(['\u{7f}']).collect();
    let name = format!("Ann{all_controls}\u{1b}[31mred\u{85}\u{2028}");
    let key = format!("k{all_controls}\"\\");
    let value = format!("v\r\n{all_controls}");

    let mut mo = ptr::null_mut();
    assert_eq!(unsafe { acs_message_options_new(&mut mo) }, ACS_RESULT_OK);
    let (n, k, v) = (cstr(&name), cstr(&key), cstr(&value));
    assert_eq!(
        unsafe { acs_message_options_set_sender_display_name(mo, n.as_ptr()) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_message_options_add_metadata(mo, k.as_ptr(), v.as_ptr()) },
        ACS_RESULT_OK
    );
    let content = cstr(&format!("<b>{all_controls}</b>"));
    let mut id = ptr::null_mut();
    assert_eq!(
        unsafe { acs_send_message(client, t.as_ptr(), content.as_ptr(), mo, &mut id) },
        ACS_RESULT_OK,
        "{}",
        last_message()
    );
    unsafe { acs_string_free(id) };
    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), n.as_ptr()) },
        ACS_RESULT_OK
    );
    unsafe { acs_message_options_free(mo) };

    let events = env.events(&thread);
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].sender_display_name.as_deref(),
        Some(name.as_str())
    );
    assert_eq!(events[0].metadata.as_ref().unwrap()[&key], value.as_str());
    assert_eq!(
        events[0].content.as_deref(),
        Some(format!("<b>{all_controls}</b>").as_str())
    );
    assert_eq!(
        events[1].sender_display_name.as_deref(),
        Some(name.as_str())
    );

    // Header-bound options refuse control characters instead of sending them.
    let o = fast_options();
    for bad in ["app\r\nX-Evil: 1", "app\0", "tab\tapp", "\u{7f}"] {
        let Ok(b) = CString::new(bad) else { continue };
        assert_eq!(
            unsafe { acs_client_options_set_application_id(o, b.as_ptr()) },
            ACS_RESULT_INVALID_ARGUMENT,
            "{bad:?}"
        );
        assert_eq!(
            unsafe { acs_client_options_set_api_version(o, b.as_ptr()) },
            ACS_RESULT_INVALID_ARGUMENT,
            "{bad:?}"
        );
    }
    // A token with a header break in it is not a JWT.
    let token = env.token();
    let injected = cstr(&format!("{token}\r\nX-Evil: 1"));
    assert_eq!(
        unsafe { acs_client_set_token(client, injected.as_ptr()) },
        ACS_RESULT_TOKEN
    );
    assert!(!last_message().contains(&token));
    unsafe { acs_client_options_free(o) };
    unsafe { acs_client_free(client) };
}

#[test]
fn endpoints_with_credentials_queries_paths_or_no_scheme() {
    let env = start_unlimited();
    let token = cstr(&env.token());
    let port = env.emulator.addr().port();
    let cases: Vec<(String, acs_result)> = vec![
        (
            "https://user:s3cr3t@x.communication.azure.com".into(),
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            "https://user@x.communication.azure.com".into(),
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            format!("http://user:s3cr3t@127.0.0.1:{port}"),
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        // A path is a prefix of every route (a gateway in front of the service).
        (
            "https://x.communication.azure.com/chat".into(),
            ACS_RESULT_OK,
        ),
        (
            "https://x.communication.azure.com/chat/threads/t/messages".into(),
            ACS_RESULT_OK,
        ),
        (
            "https://x.communication.azure.com/%2e%2e/".into(),
            ACS_RESULT_OK,
        ),
        (
            "https://x.communication.azure.com?api-version=1".into(),
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            "https://x.communication.azure.com/?".into(),
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            "https://x.communication.azure.com#frag".into(),
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        // Without a scheme, https is assumed, as the official SDKs do.
        ("x.communication.azure.com".into(), ACS_RESULT_OK),
        ("//x.communication.azure.com".into(), ACS_RESULT_OK),
        (format!("127.0.0.1:{port}"), ACS_RESULT_OK),
        (format!("localhost:{port}"), ACS_RESULT_OK),
        ("file:///etc/passwd".into(), ACS_RESULT_INVALID_ARGUMENT),
        (
            "ftp://x.communication.azure.com".into(),
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        ("javascript:alert(1)".into(), ACS_RESULT_INVALID_ARGUMENT),
        ("https://".into(), ACS_RESULT_INVALID_ARGUMENT),
        ("https://[::1".into(), ACS_RESULT_INVALID_ARGUMENT),
        (
            "https://x.communication.azure.com:99999".into(),
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        ("".into(), ACS_RESULT_INVALID_ARGUMENT),
        ("   ".into(), ACS_RESULT_INVALID_ARGUMENT),
        (
            "http://x.communication.azure.com".into(),
            ACS_RESULT_INSECURE_ENDPOINT,
        ),
        (
            "http://127.0.0.1.nip.example".into(),
            ACS_RESULT_INSECURE_ENDPOINT,
        ),
        ("http://10.0.0.1".into(), ACS_RESULT_INSECURE_ENDPOINT),
        ("https://x.communication.azure.com".into(), ACS_RESULT_OK),
        ("https://x.communication.azure.com/".into(), ACS_RESULT_OK),
        ("HTTPS://X.Communication.Azure.COM".into(), ACS_RESULT_OK),
        (format!(" http://127.0.0.1:{port} "), ACS_RESULT_OK),
        (format!("http://localhost:{port}/"), ACS_RESULT_OK),
        (format!("http://[::1]:{port}"), ACS_RESULT_OK),
    ];
    for (endpoint, want) in &cases {
        let e = cstr(endpoint);
        let sentinel = 0x30usize as *mut acs_client;
        let mut client = sentinel;
        let rc = unsafe { acs_client_new(e.as_ptr(), token.as_ptr(), ptr::null(), &mut client) };
        assert_eq!(rc, *want, "{endpoint:?}: {}", last_message());
        if rc == ACS_RESULT_OK {
            unsafe { acs_client_free(client) };
        } else {
            assert_eq!(client, sentinel);
            let message = last_message();
            assert!(
                message.starts_with("endpoint") || message.starts_with("plain http"),
                "{message}"
            );
            assert!(
                !message.contains("s3cr3t"),
                "the password leaked: {message}"
            );
        }
    }
    // The loopback spellings that were accepted reach the emulator.
    let thread = thread_id("endpoint");
    let t = cstr(&thread);
    for endpoint in [
        format!(" http://127.0.0.1:{port} "),
        format!("http://localhost:{port}/"),
    ] {
        let e = cstr(&endpoint);
        let mut client = ptr::null_mut();
        assert_eq!(
            unsafe { acs_client_new(e.as_ptr(), token.as_ptr(), ptr::null(), &mut client) },
            ACS_RESULT_OK
        );
        assert_eq!(
            unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
            ACS_RESULT_OK,
            "{endpoint}: {}",
            last_message()
        );
        unsafe { acs_client_free(client) };
    }
    assert_eq!(env.events(&thread).len(), 2);
}

/// The contract's outcome for a 10 MB message: the service's 413, as
/// BAD_REQUEST, every time (the emulator reads the refused body to its end,
/// so the client never sees a reset mid-upload and an IO error instead).
#[test]
fn huge_content_is_bad_request() {
    let env = start_unlimited();
    let client = new_fast_client(&env);
    let t = cstr(&thread_id("huge-strict"));
    let ten_mb = cstr(&"a".repeat(10 * 1024 * 1024));
    for i in 0..20 {
        let mut id = ptr::null_mut();
        let rc =
            unsafe { acs_send_message(client, t.as_ptr(), ten_mb.as_ptr(), ptr::null(), &mut id) };
        assert_eq!(rc, ACS_RESULT_BAD_REQUEST, "try {i}: {}", last_message());
        assert_eq!(acs_last_error_http_status(), 413);
    }
    unsafe { acs_client_free(client) };
}
