"""``python -m ipv6alloc.testing serve``: run the API emulator until SIGINT or SIGTERM.

It writes a kubeconfig (``--kubeconfig PATH``, or a file in a fresh temporary directory that is
removed on exit), prints one line, ``serving http://127.0.0.1:PORT kubeconfig PATH``, and serves
until interrupted; it then exits with status 0.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..kubernetes._text import parse_documents, read_text
from ._emulator import Emulator
from ._status import ApiError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType

    from ._server import Fault

__all__ = ["main"]


#: The signals that stop the server (cleanly: exit status 0).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _UsageError(Exception):
    """A problem with the command line or its files (exit status 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ipv6alloc.testing",
        description="A Kubernetes API emulator that enforces the API server's Node rules.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve on 127.0.0.1 until SIGINT or SIGTERM")
    serve.add_argument("--port", type=int, default=0, help="TCP port (default: any free one)")
    serve.add_argument("--kubeconfig", type=Path, help="where to write the kubeconfig")
    serve.add_argument(
        "--nodes", metavar="FILE", help="Nodes to create at start (JSON or YAML; '-' is stdin)"
    )
    for flag, answer in (
        ("--conflict-patches", "409 Conflict"),
        ("--fail-patches", "500 Internal Server Error"),
        ("--lose-patches", "nothing (the write is stored, the connection dropped)"),
    ):
        serve.add_argument(
            flag,
            type=int,
            default=0,
            metavar="N",
            help=f"answer the first N node patches with {answer}",
        )
    serve.add_argument(
        "--lax-cidrs",
        action="store_true",
        help="store podCIDRs with host bits set or leading zeros, as servers before 1.36 did",
    )
    return parser


def _load_nodes(emulator: Emulator, source: str) -> int:
    """Create the Nodes of a file (a List, a NodeList, one Node or a list); return how many."""
    try:
        text, where = read_text(source)
    except (OSError, TypeError) as exc:
        raise _UsageError(f"cannot read {source}: {exc}") from None
    documents = parse_documents(text, lambda message: _UsageError(f"{where}: {message}"))
    created = 0
    for document in documents:
        items = document.get("items", [document]) if isinstance(document, dict) else document
        if not isinstance(items, list):
            raise _UsageError(f"{where}: expected Nodes, a List or a NodeList")
        for item in items:
            if not isinstance(item, dict):
                raise _UsageError(f"{where}: item {created} is not a Node")
            try:
                emulator.add_node(item)
            except ApiError as error:
                raise _UsageError(f"{where}: item {created}: {error}") from None
            created += 1
    return created


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    temporary = None
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    emulator = Emulator(port=args.port, strict_cidrs=not args.lax_cidrs)
    try:
        if args.nodes:
            _load_nodes(emulator, args.nodes)
        faults: tuple[tuple[int, Fault], ...] = (
            (args.conflict_patches, "conflict"),
            (args.fail_patches, "error"),
            (args.lose_patches, "lose"),
        )
        for count, fault in faults:
            if count < 0:
                raise _UsageError(f"a fault count must not be negative, not {count}")
            if count:
                emulator.inject(fault, count, verb="patch", resource="nodes")
        emulator.start()
        if args.kubeconfig is None:
            temporary = tempfile.mkdtemp(prefix="ipv6alloc-emulator-")
            args.kubeconfig = Path(temporary) / "kubeconfig"
        path = emulator.write_kubeconfig(args.kubeconfig)
        previous = {number: signal.signal(number, _on_signal) for number in _STOP_SIGNALS}
        try:
            print(f"serving {emulator.url} kubeconfig {path}", flush=True)
            while not stop.wait(0.2):
                pass
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    except (_UsageError, OSError) as exc:
        print(f"python -m ipv6alloc.testing: error: {exc}", file=sys.stderr)
        return 2
    finally:
        emulator.stop()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
