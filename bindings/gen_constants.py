#!/usr/bin/env python3
"""Writes the bindings' copies of the constants of ``include/acs_chat.h``:

- ``bindings/python/src/acs_chat/_constants.py``: every ``ACS_*`` integer of the header (result
  codes, message types, log levels, the options' defaults and limits) and ``RESULT_NAMES``;
- ``bindings/csharp/src/NativeConstants.cs``: the options' defaults and limits
  (``ACS_DEFAULT_*``, ``ACS_MAX_*``); ``AcsResult`` and ``AcsLogLevel`` are checked against the
  header by the C# suite.

    bindings/gen_constants.py           rewrite both files from the header
    bindings/gen_constants.py --check   exit 1, naming the stale files, if either differs

Both files are committed; the Python suite runs ``--check``, so a header change that is not
carried over fails the tests, as ``tests/header.rs`` does for the header itself.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include", "acs_chat.h")
PYTHON_OUT = os.path.join(ROOT, "bindings", "python", "src", "acs_chat", "_constants.py")
CSHARP_OUT = os.path.join(ROOT, "bindings", "csharp", "src", "NativeConstants.cs")
BANNER = "Generated from include/acs_chat.h by bindings/gen_constants.py: do not edit."


def header_constants(text: str) -> List[Tuple[str, int]]:
    """``(name, value)`` of every ``#define ACS_... <integer>`` and ``ACS_... = <integer>``
    enumerator of the header, in the header's order (the version macros left out)."""
    found = re.findall(r"^\s*(?:#define\s+(ACS_\w+)\s+|(ACS_\w+)\s*=\s*)(\d+)\b", text, flags=re.M)
    constants = [(define or enumerator, int(value)) for define, enumerator, value in found]
    return [(name, value) for name, value in constants if not name.startswith("ACS_CHAT_VERSION")]


def python_source(constants: List[Tuple[str, int]]) -> str:
    lines = [f'"""Constants of the C ABI. {BANNER}"""', "", "from __future__ import annotations", ""]
    lines += [f"{name} = {value}" for name, value in constants]
    results = [(name, value) for name, value in constants if name.startswith("ACS_RESULT_")]
    lines += ["", "RESULT_NAMES = {"]
    lines += [f'    {value}: "{name}",' for name, value in results]
    lines += ["}", '"""``ACS_RESULT_*`` name of each ``acs_result`` value."""', ""]
    return "\n".join(lines)


def pascal(name: str) -> str:
    return "".join(word.capitalize() for word in name.split("_"))


def csharp_source(constants: List[Tuple[str, int]]) -> str:
    limits = [(n, v) for n, v in constants if n.startswith(("ACS_DEFAULT_", "ACS_MAX_"))]
    lines = [
        f"// {BANNER}",
        "namespace AcsChat",
        "{",
        "    /// <summary>The client options' defaults and limits of <c>include/acs_chat.h</c>.</summary>",
        "    internal static class NativeConstants",
        "    {",
    ]
    for name, value in limits:
        lines.append(f"        /// <summary><c>{name}</c>.</summary>")
        lines.append(f"        internal const uint {pascal(name[len('ACS_'):])} = {value};")
    lines += ["    }", "}", ""]
    return "\n".join(lines)


def outputs() -> Dict[str, str]:
    with open(HEADER, encoding="utf-8") as file:
        constants = header_constants(file.read())
    if not any(name == "ACS_RESULT_OK" for name, _ in constants):
        raise SystemExit(f"{HEADER}: no ACS_RESULT_OK: not the acs_chat header?")
    return {PYTHON_OUT: python_source(constants), CSHARP_OUT: csharp_source(constants)}


def stale() -> List[str]:
    """The generated files that differ from what the header gives."""
    found = []
    for path, text in outputs().items():
        try:
            with open(path, encoding="utf-8", newline="") as file:
                current = file.read()
        except OSError:
            current = None
        if current != text:
            found.append(os.path.relpath(path, ROOT))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    args = parser.parse_args()
    if args.check:
        files = stale()
        for path in files:
            print(f"{path} is stale: run bindings/gen_constants.py", file=sys.stderr)
        return 1 if files else 0
    for path, text in outputs().items():
        with open(path, "w", encoding="utf-8", newline="") as file:
            file.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
