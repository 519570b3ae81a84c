"""The controller: keep every node's podCIDRs right as Nodes come and go.

:class:`Reconciler` is the part a kopf handler, a plain watch loop or a test calls: one Node
event at a time (``handle``), or the whole cluster (``resync``). :class:`Controller` is the plain
loop of ``ipv6alloc run``: list the Nodes, plan and apply them all (which restores what every
node holds after a restart), then watch from the list's resourceVersion, handling each event;
on ``410 Gone`` (the watch fell too far behind) it lists again. :func:`lead` runs a controller
only while this replica holds a coordination.k8s.io/v1 Lease, through the official client's
``kubernetes.leaderelection``, so that one replica writes and a standby takes over when the
leader dies; the new leader lists again before its first write.

Logs go to the ``ipv6alloc.kubernetes`` logger with structured fields in ``extra`` (``node``,
``action``, ``outcome``, ``podCIDRs``); ``ipv6alloc run --log-format json`` prints them as JSON
lines.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Final

from ._apply import apply, as_writer, status_of
from ._connect import list_nodes, official
from ._errors import NodeReadError
from ._plan import DEFAULT_SOURCES, plan
from ._read import read_node
from ._text import one_line

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from .._node_allocator import NodeAllocator
    from ._apply import ApplyResult, RetryPolicy
    from ._plan import Plan
    from ._sources import SubnetFunction, SubnetSource

__all__ = ["Controller", "Reconciler", "lead"]

log = logging.getLogger("ipv6alloc.kubernetes")

#: Watch event types that carry a Node to reconcile (None: kopf's initial listing).
_CURRENT: Final = (None, "ADDED", "MODIFIED")


class Reconciler:
    """Plans and writes nodes as events arrive; thread-safe, one event at a time.

    >>> from ipv6alloc import NodeAllocator
    >>> written = {}
    >>> def patch(name, body):
    ...     written[name] = body["spec"]["podCIDRs"]
    ...     return {"kind": "Node", "metadata": {"name": name}, "spec": body["spec"]}
    >>> r = Reconciler(NodeAllocator(["10.0.0.0/16"], node_mask={4: 24}), patch)
    >>> r.handle("ADDED", {"kind": "Node", "metadata": {"name": "w1"},
    ...     "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.7"}]}}).ok
    True
    >>> written
    {'w1': ['10.0.0.0/24']}
    >>> r.handle("DELETED", {"kind": "Node", "metadata": {"name": "w1"}})
    >>> "w1" in r.allocator
    False

    Args:
        allocator: The node allocator; the reconciler owns it from now on.
        client: What :func:`~ipv6alloc.kubernetes.apply` writes with (the official client's
            ``CoreV1Api``, a :class:`~ipv6alloc.kubernetes.NodeWriter` or a ``patch``
            function).
        sources: Where each node's provider subnets come from.
        events: Whether to record core/v1 Events.
        retry: How hard each write tries.
        read: Reads a node, for a ``client`` that is a plain function.
        cancelled: Checked before each write: when it says True (leadership lost), nothing
            more is written.
    """

    def __init__(
        self,
        allocator: NodeAllocator,
        client: object,
        *,
        sources: Sequence[SubnetSource | SubnetFunction] = DEFAULT_SOURCES,
        events: bool = True,
        retry: RetryPolicy | None = None,
        read: Callable[[str], object] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.allocator = allocator
        self._writer = as_writer(client, read)
        self._sources = tuple(sources)
        self._events = events
        self._retry = retry
        self._cancelled = cancelled
        self._lock = threading.Lock()

    def resync(self, nodes: Iterable[object] | object) -> ApplyResult:
        """Plan and write the whole cluster: ``nodes`` is every Node there is.

        Nodes the allocator holds that ``nodes`` lacks are released. Call it on start (it
        restores what nodes hold) and after a watch expired.
        """
        with self._lock:
            result = plan(nodes, self.allocator, sources=self._sources)
            return self._apply(result)

    def handle(self, event_type: str | None, obj: object) -> ApplyResult | None:
        """Reconcile one watch event; returns what was applied, if anything.

        ``ADDED`` and ``MODIFIED`` (or None, kopf's initial listing) plan and write the node;
        ``DELETED`` releases it (the Node is gone). Other types, and objects that are not
        Nodes, are logged and ignored.
        """
        try:
            kube = read_node(obj)
        except NodeReadError as exc:
            log.warning("ignored a %s event: %s", event_type, exc, extra={"event": event_type})
            return None
        with self._lock:
            if event_type == "DELETED":
                self._forget(kube.name)
                return None
            if event_type not in _CURRENT:
                return None
            result = plan([kube], self.allocator, sources=self._sources, release_missing=False)
            return self._apply(result)

    def _forget(self, name: str) -> None:
        if name in self.allocator:
            held = self.allocator.release(name)
            log.info(
                "node %s: deleted, released %s",
                name,
                ", ".join(map(str, held.pod_cidrs)),
                extra={"node": name, "outcome": "released"},
            )
        elif name in self.allocator.registered():
            self.allocator.unregister(name)

    def _apply(self, result: Plan) -> ApplyResult:
        applied = apply(
            result,
            self._writer,
            self.allocator,
            events=self._events,
            retry=self._retry,
            cancelled=self._cancelled,
        )
        for outcome in applied.outcomes:
            if outcome.outcome == "unchanged" and outcome.action in ("keep", "adopt", "wait"):
                level = logging.DEBUG
            elif outcome.outcome in ("failed", "unknown") or outcome.action in (
                "conflict",
                "error",
            ):
                level = logging.WARNING
            else:
                level = logging.INFO
            log.log(
                level,
                "node %s: %s, %s: %s",
                outcome.name,
                outcome.action,
                outcome.outcome,
                outcome.reason,
                extra={
                    "node": outcome.name,
                    "action": outcome.action,
                    "outcome": outcome.outcome,
                    "podCIDRs": list(outcome.pod_cidrs),
                },
            )
        return applied


class Controller:
    """``ipv6alloc run``'s loop: list, resync, watch; list again when the watch expires.

    Args:
        api: The official client's ``CoreV1Api`` (for listing and watching Nodes).
        reconciler: What each event is handed to.
        watch_timeout: Seconds each watch request lasts before it is renewed (from the last
            resourceVersion seen, without listing again).
        backoff: Seconds to wait before listing again after an error.
    """

    def __init__(
        self,
        api: Any,
        reconciler: Reconciler,
        *,
        watch_timeout: int = 300,
        backoff: float = 2.0,
        request_timeout: float = 30.0,
    ) -> None:
        self.api = api
        self.reconciler = reconciler
        self.watch_timeout = watch_timeout
        self.backoff = backoff
        self.request_timeout = request_timeout
        self.synced = threading.Event()  # set after each full resync (for tests and probes)

    def run(self, stop: threading.Event) -> None:
        """List, resync and watch until ``stop`` is set."""
        while not stop.is_set():
            try:
                data = list_nodes(self.api, self.request_timeout)
                version = data.get("metadata", {}).get("resourceVersion")
                result = self.reconciler.resync(data)
                log.info(
                    "listed %d nodes at resourceVersion %s: %s",
                    len(data.get("items") or ()),
                    version,
                    result.to_dict()["summary"],
                    extra={"resourceVersion": version},
                )
                self.synced.set()
                self._watch(version, stop)
            except Exception as exc:  # the loop outlives every error: it lists again
                status = status_of(exc)
                if status == 410:
                    log.info("the watch expired (410 Gone): listing again")
                    continue
                log.warning(
                    "listing or watching Nodes failed (%s: %s); listing again in %.0f s",
                    type(exc).__name__,
                    one_line(str(exc), 200),
                    self.backoff,
                )
                stop.wait(self.backoff)

    def _watch(self, version: str | None, stop: threading.Event) -> None:
        watch = official("watch")
        while not stop.is_set():
            stream = watch.Watch()
            for event in stream.stream(
                self.api.list_node,
                resource_version=version,
                timeout_seconds=self.watch_timeout,
                deserialize=False,
            ):
                obj = event.get("object") if isinstance(event, dict) else None
                if isinstance(obj, dict):
                    version = obj.get("metadata", {}).get("resourceVersion", version)
                    self.reconciler.handle(event.get("type"), obj)
                if stop.is_set():
                    stream.stop()
                    return


def lead(
    api_client: Any,
    work: Callable[[threading.Event], None],
    *,
    name: str,
    namespace: str,
    identity: str,
    lease_duration: int = 15,
    renew_deadline: int = 10,
    retry_period: int = 2,
) -> None:
    """Run ``work(stop)`` while this replica holds the Lease ``namespace/name``.

    Blocks: waits to acquire the lease, runs ``work`` in a thread, renews the lease; when a
    renewal fails (or ``work`` returns or raises), ``stop`` is set and this returns, so the
    process can exit and restart as a standby. Uses the official client's
    ``kubernetes.leaderelection`` with a ``LeaseLock``.
    """
    client = official("client")
    electionconfig = official("leaderelection.electionconfig")
    leaderelection = official("leaderelection.leaderelection")
    leaselock = official("leaderelection.resourcelock.leaselock")

    stop = threading.Event()
    lock = leaselock.LeaseLock(name, namespace, identity)
    lock.api_instance = client.CoordinationV1Api(api_client)  # our connection, not the default

    def started() -> None:
        log.info("%s leads: starting", identity, extra={"identity": identity})
        try:
            work(stop)
        finally:
            stop.set()

    def stopped() -> None:
        log.warning("%s lost the lease: stopping", identity, extra={"identity": identity})
        stop.set()

    config = electionconfig.Config(
        lock, lease_duration, renew_deadline, retry_period, started, stopped
    )
    elector = leaderelection.LeaderElection(config)
    runner = threading.Thread(target=elector.run, name="leader-election", daemon=True)
    runner.start()
    while not stop.is_set():
        stop.wait(0.5)
        if not runner.is_alive():
            stop.set()
