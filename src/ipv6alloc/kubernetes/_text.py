"""JSON or YAML text and files, shared by the node reader and the provider map.

JSON is read with the standard library; YAML needs PyYAML, imported only when the text is not
JSON (the ``kubernetes`` extra installs it).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import IO

__all__ = ["YAML_HINT", "one_line", "parse_documents", "read_text"]

#: How to get YAML support, for messages.
YAML_HINT = "pip install 'ipv6alloc[kubernetes]'"

#: Builds the error to raise from a message (NodeReadError, ConfigurationError, ...).
ErrorFactory = Callable[[str], Exception]


def one_line(text: str, limit: int = 160) -> str:
    r"""``text`` on one line, cut after ``limit`` characters: parser and exception messages.

    >>> one_line("while parsing\n  a block")
    'while parsing a block'
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def parse_documents(text: str | bytes, error: ErrorFactory) -> list[object]:
    """The documents of JSON or YAML text: one for JSON, every document of a YAML stream.

    JSON is tried first; text that is not JSON is read as YAML (safe loader: plain data only).
    Empty YAML documents are kept as None. Runtime complexity: O(len(text)).

    Raises:
        Exception: built by ``error`` with a message: the text is empty, not UTF-8, neither
            JSON nor YAML, or nested too deeply, or it is not JSON and PyYAML is missing.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(f"the text is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    given: object = text  # checked at run time: callers may pass untyped values
    if not isinstance(given, str):
        raise error(f"expected JSON or YAML text, got {type(given).__name__}")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise error("the text is empty")
    try:
        return [json.loads(text)]
    except ValueError as exc:
        json_problem = one_line(str(exc))
    except RecursionError:
        raise error("the text is nested too deeply") from None
    try:
        import yaml  # noqa: PLC0415  # optional: only text that is not JSON needs it
    except ImportError:
        raise error(
            f"the text is not JSON ({json_problem}), and reading YAML needs PyYAML: {YAML_HINT}"
        ) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return list(yaml.load_all(text, Loader=loader))
    except RecursionError:
        raise error("the text is nested too deeply") from None
    except Exception as exc:  # YAMLError, and ValueError from bad timestamps
        raise error(f"the text is neither JSON nor YAML: {one_line(str(exc))}") from None


def read_text(
    path_or_file: str | os.PathLike[str] | IO[str] | IO[bytes],
) -> tuple[str | bytes, str]:
    """The contents of a file and a name for messages; ``"-"`` is standard input.

    Raises:
        OSError: the file cannot be read.
        TypeError: ``path_or_file`` is neither a path nor a readable file.
    """
    given: object = path_or_file
    if given == "-":
        stdin = sys.stdin
        if stdin is None:
            raise OSError("standard input is closed")
        return stdin.read(), "<stdin>"
    if isinstance(given, str | os.PathLike):
        path = os.fspath(given)
        if not isinstance(path, str):
            raise TypeError(f"expected a path or a file, got {type(given).__name__}")
        with open(path, "rb") as handle:
            return handle.read(), path
    read = getattr(given, "read", None)
    if callable(read):
        data = read()
        if not isinstance(data, str | bytes):
            raise TypeError(f"the file's read() returned {type(data).__name__}, not text")
        return data, str(getattr(given, "name", "<file>"))
    raise TypeError(f"expected a path, '-' or a readable file, got {type(given).__name__}")
