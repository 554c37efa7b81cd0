"""``import acs_chat`` loads only what the blocking client needs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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


def modules_loaded_by(statement: str, *, site: bool = False) -> set:
    """Modules ``statement`` imports in a fresh interpreter; without ``site`` the interpreter
    runs with ``-S`` and only the package's source on its path, so azure-core (installed in the
    test virtualenv) is out of sight, as for a user without it."""
    code = f"import sys; before = set(sys.modules); {statement}; print(' '.join(sorted(set(sys.modules) - before)))"
    env = dict(os.environ)
    src = str(REPO / "bindings" / "python" / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")])) if site else src
    args = [sys.executable] + ([] if site else ["-S"]) + ["-c", code]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_import_defers_modules_that_only_some_calls_need():
    loaded = modules_loaded_by("import acs_chat")
    assert "acs_chat._ffi" in loaded
    assert sorted(loaded & DEFERRED) == []



def test_without_azure_core_nothing_of_azure_is_imported():
    loaded = modules_loaded_by("import acs_chat, acs_chat.aio; assert not acs_chat.AZURE_CORE")
    assert "acs_chat._ffi" in loaded
    assert not [name for name in loaded if name == "azure" or name.startswith("azure.")]


def test_with_azure_core_the_exceptions_derive_from_its_classes():
    pytest.importorskip("azure.core")
    loaded = modules_loaded_by(
        "import acs_chat, azure.core.exceptions as e; assert acs_chat.AZURE_CORE; "
        "assert issubclass(acs_chat.ThrottledError, e.HttpResponseError)",
        site=True,
    )
    assert "azure.core.exceptions" in loaded


def test_azure_core_can_be_turned_off(monkeypatch):
    pytest.importorskip("azure.core")
    monkeypatch.setenv("ACS_CHAT_AZURE_CORE", "0")
    loaded = modules_loaded_by("import acs_chat; assert not acs_chat.AZURE_CORE", site=True)
    assert not [name for name in loaded if name.startswith("azure")]
