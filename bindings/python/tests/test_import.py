"""``import acs_chat`` loads only what the blocking client needs."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO

DEFERRED = {
    "asyncio",
    "ctypes.util",
    "dataclasses",
    "inspect",
    "logging",
    "math",
    "pathlib",
    "re",
    "subprocess",
    "threading",
    "typing",
}


def modules_loaded_by(statement: str) -> set:
    code = f"import sys; before = set(sys.modules); {statement}; print(' '.join(sorted(set(sys.modules) - before)))"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "bindings" / "python" / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_import_defers_modules_that_only_some_calls_need():
    loaded = modules_loaded_by("import acs_chat")
    assert "acs_chat._ffi" in loaded
    assert sorted(loaded & DEFERRED) == []

