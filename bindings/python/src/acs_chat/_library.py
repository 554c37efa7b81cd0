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

Paths are handled as strings with :mod:`os.path`; :mod:`pathlib` and :mod:`ctypes.util` are
imported only by :func:`search_paths` and by the last step, so that the usual import loads
neither.
"""

from __future__ import annotations

import ctypes
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Callable, List, Mapping, Optional, Tuple, Union

    StrPath = Union[str, "os.PathLike[str]"]

LIBRARY_ENV = "ACS_CHAT_LIBRARY"
SOURCE_ROOT_FILE = "_source_root.txt"


def library_file_name(platform: str = sys.platform) -> str:
    """The file name cargo gives the shared library on ``platform``."""
    if platform.startswith("win"):
        return "acs_chat.dll"
    if platform == "darwin":
        return "libacs_chat.dylib"
    return "libacs_chat.so"


def _build_outputs(root: str, name: str) -> List[str]:
    """``root/target/{release,debug}/name``, the newer existing file first."""
    target = os.path.join(root, "target")
    return _newest_first([os.path.join(target, "release", name), os.path.join(target, "debug", name)])


def _newest_first(paths: List[str]) -> List[str]:
    def mtime(path: str) -> float:
        try:
            return os.stat(path).st_mtime
        except OSError:
            return float("-inf")

    # sorted() is stable: files that do not exist keep their release-then-debug order.
    return sorted(paths, key=mtime, reverse=True)


def _recorded_source_root(package_dir: str) -> Optional[str]:
    try:
        with open(os.path.join(package_dir, SOURCE_ROOT_FILE), encoding="utf-8") as file:
            text = file.read().strip()
    except OSError:
        return None
    return text or None


def _directory_and_parents(start: str) -> List[str]:
    """``start`` and each directory above it, up to the root (or the top of a relative path)."""
    found = [start]
    while True:
        parent = os.path.dirname(start)
        if parent == start:
            return found
        found.append(parent)
        start = parent


def _candidates(package_dir: StrPath, environ: Mapping[str, str], name: Optional[str]) -> List[str]:
    """Files tried in steps 2 and 3 of the search order, in order, without duplicates."""
    name = name or library_file_name()
    package = os.fspath(package_dir)
    found: List[str] = [os.path.join(package, name)]

    target_dir = environ.get("CARGO_TARGET_DIR")
    if target_dir:
        found += _newest_first([os.path.join(target_dir, "release", name), os.path.join(target_dir, "debug", name)])

    starts = [os.path.realpath(package)]
    recorded = _recorded_source_root(package)
    if recorded is not None:
        starts.append(recorded.rstrip("/" + os.sep) or recorded)
    for start in starts:
        for directory in _directory_and_parents(start):
            found += _build_outputs(directory, name)

    unique: List[str] = []
    seen = set()
    for path in found:
        key = os.path.normcase(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def search_paths(
    package_dir: StrPath,
    environ: Mapping[str, str] = os.environ,
    name: Optional[str] = None,
) -> List[Path]:
    """Files tried in steps 2 and 3 of the search order, in order, without duplicates."""
    from pathlib import Path

    return [Path(path) for path in _candidates(package_dir, environ, name)]


def load(
    package_dir: StrPath,
    environ: Mapping[str, str] = os.environ,
    loader: Callable[[str], ctypes.CDLL] = ctypes.CDLL,
    find_system: Optional[Callable[[str], Optional[str]]] = None,
) -> Tuple[ctypes.CDLL, str]:
    """Load the library following the search order; return it with the path it came from.

    ``find_system`` defaults to ``ctypes.util.find_library``, looked up when step 4 is reached.
    """
    override = environ.get(LIBRARY_ENV)
    if override:
        try:
            return loader(override), override
        except OSError as exc:
            raise ImportError(f"cannot load the acs_chat library named by {LIBRARY_ENV}={override!r}: {exc}") from exc

    tried: List[str] = []
    for path in _candidates(package_dir, environ, None):
        if not os.path.isfile(path):
            tried.append(f"{path} (not found)")
            continue
        try:
            return loader(path), path
        except OSError as exc:
            tried.append(f"{path} ({exc})")

    if find_system is None:
        from ctypes.util import find_library

        find_system = find_library
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
