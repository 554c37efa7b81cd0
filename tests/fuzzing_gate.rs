//! `acs_chat::fuzzing` (entry points into internal parsers, and a static
//! client with a token built in, for the fuzz targets) exists only with the
//! `fuzzing` feature, which only `fuzz/Cargo.toml` turns on.
//!
//! Checked on the static library cargo builds beside this test (the library
//! under test, same profile and features): no symbol of the module, and not
//! the module's token. (The shared library never exported the module and its
//! linker drops it; the static library and the Rust crate carried it.)

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let (first, rest) = needle.split_first().expect("a needle");
    let mut from = 0;
    while let Some(i) = haystack[from..].iter().position(|b| b == first) {
        let at = from + i + 1;
        if haystack[at..].starts_with(rest) {
            return true;
        }
        from = at;
    }
    false
}

#[test]
fn default_build_carries_no_fuzzing_module() {
    if cfg!(feature = "fuzzing") {
        return;
    }
    let exe = std::env::current_exe().expect("test executable");
    let lib = exe.with_file_name("libacs_chat.a");
    let bytes = std::fs::read(&lib).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (cargo builds it with the tests: the crate is a staticlib too)",
            lib.display()
        )
    });
    // It is the library: the C API is there.
    assert!(contains(&bytes, b"acs_client_new"));
    // A path of the module's symbols, in either mangling (`_ZN8acs_chat7fuzzing...`,
    // `_R...8acs_chat7fuzzing...`), and the payload of its token.
    for needle in ["8acs_chat7fuzzing", "eyJleHAiOjQxMDI0NDQ4MDB9"] {
        assert!(
            !contains(&bytes, needle.as_bytes()),
            "{} contains {needle}: the fuzzing module is compiled in",
            lib.display()
        );
    }
}
