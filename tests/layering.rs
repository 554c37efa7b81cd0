//! The safe core (every module of `src/` outside `ffi/`) reads without C in
//! mind: no conversions from C's integers, no C type names, no error for a
//! NULL pointer. Those belong to `src/ffi/`. `ResultCode`, the table of the
//! stable codes every binding shares, is the one exception: its numbers (and
//! `from_u32`) are the API.

use std::path::Path;

/// The code lines (comments skipped) of every core module, with their file
/// (its path under `src/`).
fn core_lines() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a folder of src/") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                // ffi/ is the C API itself.
                if path != src.join("ffi") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut lines = Vec::new();
    for path in files {
        let name = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // lib.rs lists the modules; fuzzing.rs is the fuzz targets' door.
        if name == "lib.rs" || name == "fuzzing.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read a module");
        for line in text.lines() {
            let code = line.trim_start();
            if !code.starts_with("//") {
                lines.push((name.clone(), code.to_owned()));
            }
        }
    }
    assert!(
        lines.len() > 1000,
        "the core was not found in {}",
        src.display()
    );
    lines
}

#[test]
fn the_core_knows_nothing_of_c() {
    for (file, line) in core_lines() {
        let without_crate_name = line.replace("acs_chat", "");
        assert!(
            !without_crate_name.contains("acs_"),
            "{file}: a C name in the core: {line}"
        );
        assert!(
            !line.contains("NullParameter("),
            "{file}: a NULL-parameter error in the core: {line}"
        );
        assert!(
            !line.contains("fn from_u32") || file == "error.rs",
            "{file}: a conversion from a C integer in the core: {line}"
        );
    }
}

#[test]
fn only_result_codes_convert_from_integers() {
    let from_u32: Vec<_> = core_lines()
        .into_iter()
        .filter(|(_, line)| line.contains("fn from_u32"))
        .collect();
    assert_eq!(from_u32.len(), 1, "{from_u32:?}");
    assert!(
        from_u32[0].1.contains("-> Option<ResultCode>"),
        "{from_u32:?}"
    );
}
