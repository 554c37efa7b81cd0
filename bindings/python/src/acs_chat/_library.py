"""Locating and loading the native ``acs_chat`` library.

Search order:

1. ``$ACS_CHAT_LIBRARY``: the path of the library file. When set, nothing else is tried.
2. A copy inside the package (``acs_chat/libacs_chat.so``).
3. The build output of an ``acs_chat`` source tree: walking up from the package directory (and
   from the source tree the package was installed from, if recorded at install time, and from
   ``$CARGO_TARGET_DIR``), ``target/release`` and ``target/debug``; when both exist, the newer
   file first.
4. The system: ``ctypes.util.find_library("acs_chat")``.

When nothing loads, ``ImportError`` names every path tried and why each failed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Tuple

LIBRARY_ENV = "ACS_CHAT_LIBRARY"
SOURCE_ROOT_FILE = "_source_root.txt"


def library_file_name(platform: str = sys.platform) -> str:
    """The file name cargo gives the shared library on ``platform``."""
    if platform.startswith("win"):
        return "acs_chat.dll"
    if platform == "darwin":
        return "libacs_chat.dylib"
    return "libacs_chat.so"


def _build_outputs(root: Path, name: str) -> List[Path]:
    """``root/target/{release,debug}/name``, the newer existing file first."""
    paths = [root / "target" / "release" / name, root / "target" / "debug" / name]
    return _newest_first(paths)


def _newest_first(paths: List[Path]) -> List[Path]:
    def mtime(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return float("-inf")

    # sorted() is stable: files that do not exist keep their release-then-debug order.
    return sorted(paths, key=mtime, reverse=True)


def _recorded_source_root(package_dir: Path) -> Optional[Path]:
    try:
        text = (package_dir / SOURCE_ROOT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return Path(text) if text else None


def search_paths(
    package_dir: Path,
    environ: Mapping[str, str] = os.environ,
    name: Optional[str] = None,
) -> List[Path]:
    """Files tried in steps 2 and 3 of the search order, in order, without duplicates."""
    name = name or library_file_name()
    found: List[Path] = [package_dir / name]

    target_dir = environ.get("CARGO_TARGET_DIR")
    if target_dir:
        found += _newest_first([Path(target_dir) / "release" / name, Path(target_dir) / "debug" / name])

    starts = [package_dir.resolve()]
    recorded = _recorded_source_root(package_dir)
    if recorded is not None:
        starts.append(recorded)
    for start in starts:
        for directory in [start, *start.parents]:
            found += _build_outputs(directory, name)

    unique: List[Path] = []
    seen = set()
    for path in found:
        key = os.path.normcase(str(path))
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def load(
    package_dir: Path,
    environ: Mapping[str, str] = os.environ,
    loader: Callable[[str], ctypes.CDLL] = ctypes.CDLL,
    find_system: Callable[[str], Optional[str]] = ctypes.util.find_library,
) -> Tuple[ctypes.CDLL, str]:
    """Load the library following the search order; return it with the path it came from."""
    override = environ.get(LIBRARY_ENV)
    if override:
        try:
            return loader(override), override
        except OSError as exc:
            raise ImportError(f"cannot load the acs_chat library named by {LIBRARY_ENV}={override!r}: {exc}") from exc

    tried: List[str] = []
    for path in search_paths(package_dir, environ):
        if not path.is_file():
            tried.append(f"{path} (not found)")
            continue
        try:
            return loader(str(path)), str(path)
        except OSError as exc:
            tried.append(f"{path} ({exc})")

    system = find_system("acs_chat")
    if system:
        try:
            return loader(system), system
        except OSError as exc:
            tried.append(f"{system} from ctypes.util.find_library('acs_chat') ({exc})")
    else:
        tried.append("ctypes.util.find_library('acs_chat') (not found)")

    listing = "\n  ".join(tried)
    raise ImportError(
        f"cannot find the acs_chat native library; set {LIBRARY_ENV} to its path, or build it with "
        f"`cargo build -p acs_chat`. Tried:\n  {listing}"
    )
