"""The ctypes declarations match include/acs_chat.h, and the library is found as documented."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import acs_chat
from acs_chat import _constants, _errors, _ffi, _library

from conftest import REPO

HEADER = REPO / "include" / "acs_chat.h"

API_MD_FUNCTIONS = """
acs_client_new acs_client_free acs_client_set_token acs_send_message acs_send_typing
acs_send_read_receipt acs_string_free acs_client_options_new acs_client_options_free
acs_client_options_set_api_version acs_client_options_set_timeout_ms
acs_client_options_set_connect_timeout_ms acs_client_options_set_max_retries
acs_client_options_set_retry_delay_ms acs_client_options_set_application_id
acs_client_options_set_ca_file acs_client_options_set_allow_insecure_http
acs_client_options_set_token_refresher acs_client_options_set_proactive_refresh
acs_token_sink_set acs_message_options_new acs_message_options_free
acs_message_options_set_type acs_message_options_set_sender_display_name
acs_message_options_add_metadata acs_result_str acs_last_error_message
acs_last_error_http_status acs_last_error_code acs_last_error_request_id
acs_last_error_retry_after_ms acs_version acs_set_log_callback
acs_last_error_may_have_been_delivered acs_send_message_async acs_send_typing_async
acs_send_read_receipt_async acs_call_cancel acs_call_free acs_completion_result
acs_completion_message_id acs_completion_http_status acs_completion_error_message
acs_completion_error_code acs_completion_request_id acs_completion_retry_after_ms
acs_completion_may_have_been_delivered acs_shutdown acs_client_options_set_total_timeout_ms
acs_client_options_set_max_connections_per_origin
""".split()


def header_text() -> str:
    if not HEADER.is_file():
        pytest.fail(f"{HEADER} is missing")
    return HEADER.read_text()


def parse_header(text: str) -> Dict[str, Tuple[str, List[str]]]:
    """``{name: (return type, [parameter types])}`` of every function declared in the header."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    text = re.sub(r"\b__attribute__\s*\(\(.*?\)\)", " ", text)
    text = re.sub(r"extern\s+\"C\"\s*\{", " ", text)
    functions: Dict[str, Tuple[str, List[str]]] = {}
    for statement in text.split(";"):
        statement = " ".join(statement.split())
        statement = statement.lstrip("{} ")
        if not statement or statement.startswith("typedef") or "(" not in statement:
            continue
        match = re.fullmatch(r"(?:[A-Z_]+\s+)*(.+?)\b(acs_\w+)\s*\((.*)\)", statement)
        if match is None:
            continue
        ret, name, params = match.groups()
        kinds = [] if params.strip() in ("", "void") else [strip_name(p) for p in params.split(",")]
        functions[name] = (normalize(ret), kinds)
    return functions


def strip_name(param: str) -> str:
    param = param.strip()
    match = re.fullmatch(r"(.*?[\s\*])(\w+)", param)
    return normalize(match.group(1) if match else param)


def normalize(ctype: str) -> str:
    ctype = re.sub(r"\b(const|struct|enum)\b", " ", ctype)
    ctype = ctype.replace("*", " * ")
    return " ".join(ctype.split())


SCALARS = {
    "acs_result": ctypes.c_uint32,
    "uint32_t": ctypes.c_uint32,
    "uint16_t": ctypes.c_uint16,
    "uint64_t": ctypes.c_uint64,
    "size_t": ctypes.c_size_t,
    "bool": ctypes.c_bool,
    "acs_message_type": ctypes.c_uint32,
    "acs_log_level": ctypes.c_uint32,
}
CALLBACKS = {
    "acs_token_refresher": _ffi.acs_token_refresher,
    "acs_user_data_free": _ffi.acs_user_data_free,
    "acs_log_callback": _ffi.acs_log_callback,
    "acs_completion_callback": _ffi.acs_completion_callback,
}


def matches(c_type: str, declared: object) -> bool:
    """Whether the ctypes type ``declared`` passes the C type ``c_type`` correctly."""
    if c_type == "void":
        return declared is None
    if c_type in SCALARS:
        return declared is SCALARS[c_type]
    if c_type in CALLBACKS:
        return declared is CALLBACKS[c_type]
    if c_type == "char *":
        return declared is ctypes.c_char_p
    if c_type == "void *":
        return declared is ctypes.c_void_p
    if c_type.endswith(" *"):
        inner = c_type[:-2]
        pointee = getattr(declared, "_type_", None)
        if not isinstance(declared, type) or not issubclass(declared, ctypes._Pointer):
            return False
        if inner.endswith(" *"):
            return matches(inner, pointee)
        return isinstance(pointee, type) and pointee.__name__ == inner
    return False


def test_header_parser_reads_the_header():
    functions = parse_header(header_text())
    assert functions["acs_client_new"] == (
        "acs_result",
        ["char *", "char *", "acs_client_options *", "acs_client * *"],
    )
    assert functions["acs_last_error_http_status"] == ("uint16_t", [])


def test_every_header_function_is_declared_with_matching_types():
    functions = parse_header(header_text())
    assert len(functions) >= len(API_MD_FUNCTIONS)
    problems = []
    for name, (ret, params) in sorted(functions.items()):
        if name not in _ffi.FUNCTIONS:
            problems.append(f"{name}: not in _ffi.FUNCTIONS")
            continue
        _kind, restype, argtypes = _ffi.FUNCTIONS[name]
        if not matches(ret, restype):
            problems.append(f"{name}: restype {restype} for {ret}")
        if len(argtypes) != len(params):
            problems.append(f"{name}: argtypes {argtypes} for {params}")
            continue
        for index, (c_type, declared) in enumerate(zip(params, argtypes)):
            if not matches(c_type, declared):
                problems.append(f"{name}: argument {index} is {declared}, header says {c_type}")
    assert problems == []


def test_every_function_of_the_api_list_is_in_the_header_and_declared():
    functions = parse_header(header_text())
    assert sorted(set(API_MD_FUNCTIONS) - set(functions)) == []
    assert sorted(set(functions) - set(_ffi.FUNCTIONS)) == []
    assert sorted(set(_ffi.FUNCTIONS) - set(functions)) == []


def test_each_function_is_bound_as_its_kind_says():
    for name, (kind, restype, argtypes) in _ffi.FUNCTIONS.items():
        func = getattr(_ffi, name)
        assert func is getattr(_ffi.lib, name), name
        assert func.restype is restype, name
        if kind == _ffi.DIRECT:
            assert func.argtypes is None and func.errcheck is None, name
            assert restype is _ffi.acs_result, name  # the caller checks the result
        else:
            assert func.argtypes == argtypes, name
            assert func.errcheck is (_ffi._check_result if kind == _ffi.CHECKED else None), name


def test_every_result_is_checked_but_a_completion_result_which_is_read():
    returning_results = {name for name, (_kind, restype, _args) in _ffi.FUNCTIONS.items() if restype is _ffi.acs_result}
    read = {name for name in returning_results if _ffi.FUNCTIONS[name][0] == _ffi.VALUE}
    assert read == {"acs_completion_result"}
    assert {_ffi.FUNCTIONS[name][0] for name in returning_results - read} == {_ffi.CHECKED, _ffi.DIRECT}


def test_direct_functions_are_the_per_call_operations():
    direct = sorted(name for name, (kind, _r, _a) in _ffi.FUNCTIONS.items() if kind == _ffi.DIRECT)
    assert direct == [
        "acs_client_set_token",
        "acs_send_message",
        "acs_send_message_async",
        "acs_send_read_receipt",
        "acs_send_read_receipt_async",
        "acs_send_typing",
        "acs_send_typing_async",
    ]


def test_generated_constants_are_up_to_date():
    done = subprocess.run(
        [sys.executable, str(REPO / "bindings" / "gen_constants.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_constants_are_the_headers():
    text = header_text()
    names = [name for name in dir(_constants) if name.startswith("ACS_")]
    assert "ACS_MAX_RETRIES" in names and "ACS_RESULT_OK" in names
    for name in names:
        value = getattr(_constants, name)
        assert re.search(rf"(#define\s+{name}\s+|\b{name}\s*=\s*){value}\b", text), name
    assert _errors.RESULT_NAMES == {
        getattr(_constants, name): name for name in names if name.startswith("ACS_RESULT_")
    }


def test_version_matches_library_header_cargo_and_pyproject():
    header_version = re.search(r'#define ACS_CHAT_VERSION "([^"]+)"', header_text()).group(1)
    cargo_version = re.search(r'^version = "([^"]+)"', (REPO / "Cargo.toml").read_text(), re.M).group(1)
    pyproject = (REPO / "bindings" / "python" / "pyproject.toml").read_text()
    pyproject_version = re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1)
    assert acs_chat.__version__ == _ffi.lib.acs_version().decode()
    assert acs_chat.__version__ == header_version == cargo_version == pyproject_version
    major, minor, patch = (int(part) for part in header_version.split("."))
    text = header_text()
    assert f"#define ACS_CHAT_VERSION_MAJOR {major}" in text
    assert f"#define ACS_CHAT_VERSION_MINOR {minor}" in text
    assert f"#define ACS_CHAT_VERSION_PATCH {patch}" in text


def test_result_values_match_the_header_and_have_descriptions():
    text = header_text()
    for value, name in _errors.RESULT_NAMES.items():
        assert re.search(rf"\b{name}\b\s*=?\s*\(?{value}\b", text) or re.search(
            rf"#define {name} \(?(?:\(acs_result\))?{value}\)?", text
        ), name
        assert _ffi.result_str(value), name
    assert _ffi.result_str(12345)  # static text for any value


def test_loaded_library_is_the_one_named_by_the_environment():
    expected = os.environ.get("ACS_CHAT_LIBRARY")
    if expected:
        assert acs_chat.LIBRARY_PATH == expected
    else:
        assert Path(acs_chat.LIBRARY_PATH).is_file()


def test_last_error_is_cleared_by_a_success_and_set_by_a_failure():
    options = _ffi.acs_client_options_p()
    _ffi.acs_client_options_new(ctypes.byref(options))
    try:
        with pytest.raises(acs_chat.InvalidArgumentError) as info:
            _ffi.acs_client_options_set_max_retries(options, 11)
        assert info.value.result == "ACS_RESULT_INVALID_ARGUMENT"
        assert info.value.message
        assert _ffi._read_string(_ffi.lib.acs_last_error_message) == info.value.message
        _ffi.acs_client_options_set_max_retries(options, 2)
        assert _ffi._read_string(_ffi.lib.acs_last_error_message) == ""
    finally:
        _ffi.acs_client_options_free(options)


def test_free_functions_accept_null():
    _ffi.acs_client_free(None)
    _ffi.acs_client_options_free(None)
    _ffi.acs_message_options_free(None)
    _ffi.acs_string_free(None)


# library lookup, without loading anything


def touch(path: Path, mtime: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    os.utime(path, (mtime, mtime))
    return path


def test_search_order_prefers_package_copy_then_newer_build(tmp_path: Path):
    name = _library.library_file_name()
    package = tmp_path / "repo" / "bindings" / "python" / "src" / "acs_chat"
    package.mkdir(parents=True)
    now = time.time()
    release = touch(tmp_path / "repo" / "target" / "release" / name, now - 100)
    debug = touch(tmp_path / "repo" / "target" / "debug" / name, now)
    paths = _library.search_paths(package, environ={})
    assert paths[0] == package / name
    assert paths.index(debug) < paths.index(release)
    os.utime(release, (now + 100, now + 100))
    paths = _library.search_paths(package, environ={})
    assert paths.index(release) < paths.index(debug)


def test_recorded_source_root_is_searched(tmp_path: Path):
    name = _library.library_file_name()
    package = tmp_path / "site-packages" / "acs_chat"
    package.mkdir(parents=True)
    built = touch(tmp_path / "checkout" / "target" / "debug" / name, time.time())
    (package / _library.SOURCE_ROOT_FILE).write_text(str(tmp_path / "checkout") + "\n")
    assert built in _library.search_paths(package, environ={})


def test_load_uses_first_loadable_candidate(tmp_path: Path):
    name = _library.library_file_name()
    package = tmp_path / "pkg" / "acs_chat"
    package.mkdir(parents=True)
    built = touch(tmp_path / "target" / "debug" / name, time.time())
    loaded: List[str] = []

    def loader(path: str) -> ctypes.CDLL:
        loaded.append(path)
        return "handle"  # type: ignore[return-value]

    handle, path = _library.load(package, environ={}, loader=loader, find_system=lambda _: None)
    assert (handle, path) == ("handle", str(built))
    assert loaded == [str(built)]


def test_environment_override_wins_and_fails_clearly(tmp_path: Path):
    missing = tmp_path / "nowhere" / "libacs_chat.so"
    with pytest.raises(ImportError) as info:
        _library.load(tmp_path, environ={"ACS_CHAT_LIBRARY": str(missing)})
    assert str(missing) in str(info.value)
    assert "ACS_CHAT_LIBRARY" in str(info.value)


def test_import_error_names_every_path_tried(tmp_path: Path):
    package = tmp_path / "a" / "b" / "acs_chat"
    package.mkdir(parents=True)
    broken = touch(tmp_path / "a" / "target" / "release" / _library.library_file_name(), time.time())
    with pytest.raises(ImportError) as info:
        _library.load(package, environ={}, find_system=lambda _: None)
    message = str(info.value)
    for path in _library.search_paths(package, environ={}):
        assert str(path) in message
    assert str(broken) in message
    assert f"{broken} (not found)" not in message  # it exists; the loader's error is shown instead
    assert "find_library('acs_chat')" in message


def test_installed_copy_without_override_finds_the_repo_build(tmp_path: Path):
    """A copy of the package with no library and no source tree above it: ImportError listing
    the paths; with the source root recorded (as the installer does), the repo's build loads."""
    source = REPO / "bindings" / "python" / "src" / "acs_chat"
    target = tmp_path / "site" / "acs_chat"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.so", "_source_root.txt"))
    env = {k: v for k, v in os.environ.items() if k not in ("ACS_CHAT_LIBRARY", "CARGO_TARGET_DIR")}
    env["PYTHONPATH"] = str(tmp_path / "site")
    code = "import ctypes.util; ctypes.util.find_library = lambda name: None; import acs_chat"
    failed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert failed.returncode != 0
    assert "ImportError" in failed.stderr
    assert str(target / _library.library_file_name()) in failed.stderr
    assert "find_library('acs_chat')" in failed.stderr

    (target / _library.SOURCE_ROOT_FILE).write_text(str(REPO))
    code = "import acs_chat; print(acs_chat.LIBRARY_PATH); print(acs_chat.__version__)"
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    path, version = found.stdout.split()
    assert Path(path).parent.parent == REPO / "target"
    assert version == acs_chat.__version__
