"""Build hooks: remember the source tree the package came from, so an installed copy finds the
library built there; optionally bundle a built library (``ACS_CHAT_BUNDLE_LIBRARY=<path>``), which
makes the wheel platform-specific (``py3-none-<platform>``: any Python 3, this platform only;
``ACS_CHAT_WHEEL_PLATFORM`` overrides the platform tag, e.g. ``manylinux_2_17_x86_64``, which
``make wheel`` sets after checking the library's glibc symbols).

An sdist (``make sdist``) carries the Rust crate in ``native/``: building a wheel from it builds
the library with ``cargo`` (release, honouring ``CARGO`` and ``CARGO_TARGET_DIR``) and bundles it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1 takes it from the wheel package
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None


def _source_root() -> "Path | None":
    here = Path(__file__).resolve().parent
    for directory in [here, *here.parents]:
        cargo = directory / "Cargo.toml"
        if cargo.is_file() and 'name = "acs_chat"' in cargo.read_text(encoding="utf-8"):
            return directory
    return None


def _native_crate() -> "Path | None":
    """The Rust crate an sdist carries (``native/Cargo.toml``), if this is one."""
    native = Path(__file__).resolve().parent / "native"
    return native if (native / "Cargo.toml").is_file() else None


def _library_file_name() -> str:
    if sys.platform.startswith("win"):
        return "acs_chat.dll"
    if sys.platform == "darwin":
        return "libacs_chat.dylib"
    return "libacs_chat.so"


def _build_native(native: Path) -> Path:
    """Builds the shared library from the sdist's crate; returns its path."""
    cargo = os.environ.get("CARGO", "cargo")
    if shutil.which(cargo) is None:
        sys.exit(
            "acs_chat: no wheel fits this platform, and building the native library from "
            "source needs Rust's cargo on PATH (https://rustup.rs)"
        )
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or native / "target").resolve()
    command = [cargo, "rustc", "--release", "--lib", "--crate-type", "cdylib",
               "--manifest-path", str(native / "Cargo.toml"), "--target-dir", str(target_dir)]
    if (native / "Cargo.lock").is_file():
        command.append("--locked")
    print("acs_chat: building the native library:", " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True)
    return target_dir / "release" / _library_file_name()


def _bundles_library() -> bool:
    return bool(os.environ.get("ACS_CHAT_BUNDLE_LIBRARY")) or _native_crate() is not None


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        package_dir = Path(self.build_lib) / "acs_chat"
        bundle = os.environ.get("ACS_CHAT_BUNDLE_LIBRARY")
        native = _native_crate()
        if not bundle and native is not None:
            bundle = str(_build_native(native))
        root = _source_root()
        if root is not None and native is None:
            (package_dir / "_source_root.txt").write_text(str(root) + "\n", encoding="utf-8")
        if bundle:
            shutil.copy2(bundle, package_dir / Path(bundle).name)


class BundlingDistribution(Distribution):
    def has_ext_modules(self) -> bool:
        # A bundled native library makes the package platform-specific (installed to platlib).
        return _bundles_library() or super().has_ext_modules()


cmdclass = {"build_py": BuildPy}

if bdist_wheel is not None:

    class BdistWheel(bdist_wheel):
        def get_tag(self):
            python, abi, platform = super().get_tag()
            if _bundles_library():
                # ctypes only: any Python 3 will do, but the bundled library fixes the platform.
                return "py3", "none", os.environ.get("ACS_CHAT_WHEEL_PLATFORM") or platform
            return python, abi, platform

    cmdclass["bdist_wheel"] = BdistWheel

setup(cmdclass=cmdclass, distclass=BundlingDistribution)
