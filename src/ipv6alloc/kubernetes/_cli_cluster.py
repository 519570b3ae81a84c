"""The commands of ``ipv6alloc`` that talk to a cluster: ``apply`` and ``run``.

They share ``plan``'s cluster flags (:mod:`ipv6alloc.kubernetes._cli`) and connect as kubectl
does (:mod:`ipv6alloc.kubernetes._connect`); the official client is imported only when one of
them runs. Exit status: 0 when every node is fine, 1 when a node is in ``conflict`` or
``error`` or a write failed (for ``run``: the Lease was lost), 2 for bad configuration or a
cluster that cannot be reached, with one line on standard error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from .._errors import ConfigurationError
from ._cli import EXIT_FAILED, EXIT_OK, _fail, _table, add_cluster_flags, build_allocator
from ._connect import connect, list_nodes, official
from ._plan import plan

__all__ = [
    "add_apply_arguments",
    "add_connection_flags",
    "add_run_arguments",
    "run_apply",
    "run_run",
]


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    """Add ``--kubeconfig`` and ``--context``, as kubectl names them."""
    group = parser.add_argument_group("cluster connection (as kubectl finds it)")
    group.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="the kubeconfig file; else $KUBECONFIG, ~/.kube/config, or the pod's service account",
    )
    group.add_argument("--context", metavar="NAME", help="the kubeconfig context to use")


def add_apply_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``ipv6alloc apply``.

    >>> parser = argparse.ArgumentParser(prog="ipv6alloc apply")
    >>> add_apply_arguments(parser)
    >>> args = parser.parse_args(["--dry-run", "--cluster-cidr", "fd00::/48", "-o", "json"])
    >>> args.dry_run, args.output, args.events
    (True, 'json', True)
    """
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="plan and print the plan; write nothing",
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=("table", "json"),
        default="table",
        help="table (default): one row per node; json: the outcome per node",
    )
    _add_events_flag(parser)
    add_connection_flags(parser)
    add_cluster_flags(parser)


def run_apply(args: argparse.Namespace) -> int:
    """Run ``ipv6alloc apply``: list the nodes, plan, write; returns the exit status.

    Returns:
        :data:`EXIT_OK`, :data:`EXIT_FAILED` (a node in ``conflict`` or ``error``, or a write
        that failed or whose outcome is unknown) or :data:`EXIT_USAGE` (bad configuration,
        or the cluster cannot be reached).
    """
    from ._apply import OfficialClient, apply  # noqa: PLC0415

    try:
        allocator, sources = build_allocator(args)
        api = _core_api(args)
        nodes = list_nodes(api)
    except Exception as exc:  # configuration, kubeconfig, network: one line, exit 2
        return _fail("ipv6alloc apply", exc)
    result = plan(nodes, allocator, sources=sources)
    if args.dry_run:
        if args.output == "json":
            print(json.dumps(result.to_dict(), indent=2))
        else:
            print(_table(result))
        return EXIT_OK if result.ok else EXIT_FAILED
    applied = apply(result, OfficialClient(api), allocator, events=args.events)
    if args.output == "json":
        print(json.dumps(applied.to_dict(), indent=2))
    else:
        print(applied)
    return EXIT_OK if applied.ok else EXIT_FAILED


def _add_events_flag(parser: argparse.ArgumentParser) -> None:
    """``--no-events``, of ``apply`` and ``run``."""
    parser.add_argument(
        "--no-events", action="store_false", dest="events", help="record no core/v1 Events"
    )


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``ipv6alloc run`` (leader election flags as upstream names them).

    >>> parser = argparse.ArgumentParser(prog="ipv6alloc run")
    >>> add_run_arguments(parser)
    >>> args = parser.parse_args(["--cluster-cidr", "fd00::/48", "--leader-elect=false"])
    >>> args.leader_elect, args.leader_elect_lease_duration, args.leader_elect_resource_name
    (False, 15, 'ipv6alloc')
    """
    _add_events_flag(parser)
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="logs on standard error: text (default) or one JSON object per line",
    )
    parser.add_argument(
        "--watch-timeout",
        type=_seconds,
        default=300,
        metavar="SECONDS",
        help="how long each watch request lasts before it is renewed (default 300)",
    )
    election = parser.add_argument_group("leader election (one replica writes)")
    election.add_argument(
        "--leader-elect",
        type=_boolean,
        nargs="?",
        const=True,
        default=True,
        metavar="BOOL",
        help="hold a coordination.k8s.io/v1 Lease while writing (default true)",
    )
    election.add_argument(
        "--leader-elect-lease-duration", type=_seconds, default=15, metavar="DURATION"
    )
    election.add_argument(
        "--leader-elect-renew-deadline", type=_seconds, default=10, metavar="DURATION"
    )
    election.add_argument(
        "--leader-elect-retry-period", type=_seconds, default=2, metavar="DURATION"
    )
    election.add_argument("--leader-elect-resource-name", default="ipv6alloc", metavar="NAME")
    election.add_argument(
        "--leader-elect-resource-namespace", default="kube-system", metavar="NAMESPACE"
    )
    election.add_argument(
        "--leader-elect-identity",
        metavar="ID",
        help="this replica's identity in the Lease (default: host name and process id)",
    )
    add_connection_flags(parser)
    add_cluster_flags(parser)


def run_run(args: argparse.Namespace) -> int:
    """Run ``ipv6alloc run``: the controller, until SIGINT or SIGTERM; returns the exit status.

    With leader election (the default), it waits for the Lease, then lists, resyncs and
    watches; losing the Lease stops it with status 1, so that the pod restarts as a standby.
    """
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415
    import socket  # noqa: PLC0415
    import threading  # noqa: PLC0415

    from ._controller import Controller, Reconciler, lead  # noqa: PLC0415

    _configure_logging(args.log_format)
    try:
        allocator, sources = build_allocator(args)
        api_client = _api_client(args)
        api = official("client").CoreV1Api(api_client)
        if args.leader_elect and not (
            args.leader_elect_lease_duration
            > args.leader_elect_renew_deadline
            > 1.2 * args.leader_elect_retry_period
            >= 1.2
        ):
            raise ConfigurationError(
                "leader election needs lease duration > renew deadline > 1.2 x retry period "
                ">= 1.2 seconds"
            )
    except Exception as exc:  # configuration and kubeconfig: one line, exit 2
        return _fail("ipv6alloc run", exc)
    stop = threading.Event()
    lost = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    reconciler = Reconciler(
        allocator, api, sources=sources, events=args.events, cancelled=stop.is_set
    )
    controller = Controller(api, reconciler, watch_timeout=args.watch_timeout)
    if not args.leader_elect:
        controller.run(stop)
        return EXIT_OK
    identity = args.leader_elect_identity or f"{socket.gethostname()}_{os.getpid()}"

    def work(leading: threading.Event) -> None:
        def watch_leading() -> None:
            leading.wait()
            if not stop.is_set():
                lost.set()
            stop.set()

        threading.Thread(target=watch_leading, daemon=True).start()
        controller.run(stop)

    runner = threading.Thread(
        target=lead,
        args=(api_client, work),
        kwargs={
            "name": args.leader_elect_resource_name,
            "namespace": args.leader_elect_resource_namespace,
            "identity": identity,
            "lease_duration": args.leader_elect_lease_duration,
            "renew_deadline": args.leader_elect_renew_deadline,
            "retry_period": args.leader_elect_retry_period,
        },
        daemon=True,
    )
    runner.start()
    while not stop.is_set() and runner.is_alive():
        stop.wait(0.5)
    stop.set()
    return EXIT_FAILED if lost.is_set() else EXIT_OK


def _api_client(args: argparse.Namespace) -> Any:
    return connect(args.kubeconfig, args.context)


def _core_api(args: argparse.Namespace) -> Any:
    return official("client").CoreV1Api(_api_client(args))


def _seconds(text: str) -> int:
    """Whole seconds from ``15``, ``15s``, ``2m`` or ``1m30s`` (upstream's durations)."""
    import re  # noqa: PLC0415

    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s?)?", text.strip())
    if not text.strip() or match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 15s or 2m")
    minutes, seconds = match.groups()
    return int(minutes or 0) * 60 + int(seconds or 0)


def _boolean(text: str) -> bool:
    """``true``/``false`` (and 1/0, yes/no), as Go's flags read booleans."""
    value = text.strip().lower()
    if value in ("true", "1", "yes", "t"):
        return True
    if value in ("false", "0", "no", "f"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not true or false")


class _JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the structured fields."""

    _PLAIN = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)))

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in self._PLAIN and key != "message"
        )
        return json.dumps(data, default=str)


def _configure_logging(form: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if form == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("ipv6alloc")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("leaderelection").handlers[:] = [handler]
    logging.getLogger("leaderelection").setLevel(logging.INFO)
