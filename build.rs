//! Gives the shared library an ELF SONAME that encodes its ABI version.
//!
//! From 1.0 the SONAME is `libacs_chat.so.MAJOR`. Before 1.0 a minor release may break the ABI,
//! so the SONAME is `libacs_chat.so.0.MINOR`. `make install` installs the library as
//! `libacs_chat.so.X.Y.Z` with the links `libacs_chat.so.<ABI>` and `libacs_chat.so`.
//!
//! A program linked against a library with a SONAME asks the loader for the SONAME, not for
//! `libacs_chat.so`. So that programs linked inside the build tree (`-L target/debug -lacs_chat`)
//! still load, the link `libacs_chat.so.<ABI> -> libacs_chat.so` is also made next to cargo's
//! output in `target/<profile>/`.

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");

    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let family = env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    // ELF platforms with versioned shared objects; not macOS, iOS, Android or Windows.
    let elf = family.split(',').any(|f| f == "unix")
        && !matches!(
            os.as_str(),
            "macos" | "ios" | "tvos" | "watchos" | "visionos" | "android"
        );
    if !elf {
        return;
    }

    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets CARGO_PKG_VERSION_MAJOR");
    let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets CARGO_PKG_VERSION_MINOR");
    let abi = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    let soname = format!("libacs_chat.so.{abi}");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");

    if let Some(dir) = env::var_os("OUT_DIR").and_then(|out| artifact_dir(Path::new(&out))) {
        link_in_build_tree(&dir, &soname);
    }
}

/// `target/<profile>` (or `target/<triple>/<profile>`) from
/// `OUT_DIR = target/<profile>/build/acs_chat-<hash>/out`; None for any other layout.
fn artifact_dir(out_dir: &Path) -> Option<PathBuf> {
    let build = out_dir.parent()?.parent()?;
    if build.file_name()? != "build" {
        return None;
    }
    build.parent().map(Path::to_path_buf)
}

#[cfg(unix)]
fn link_in_build_tree(dir: &Path, soname: &str) {
    let link = dir.join(soname);
    if std::fs::symlink_metadata(&link).is_ok() {
        return;
    }
    if let Err(err) = std::os::unix::fs::symlink("libacs_chat.so", &link) {
        println!("cargo:warning=could not create {}: {err}", link.display());
    }
}

#[cfg(not(unix))]
fn link_in_build_tree(_dir: &Path, _soname: &str) {}
