"""The public :class:`Emulator` and the :func:`node_object` helper."""

from __future__ import annotations

import dataclasses
import re
import threading
from typing import TYPE_CHECKING, Any, Final, Self

from ..kubernetes._read import UNINITIALIZED_TAINT
from ._api import Api, Route
from ._kubeconfig import write_kubeconfig
from ._rules import EVENTS, LEASES, NODES
from ._server import FAULTS, Fault, FaultRule, RequestRecord, Server
from ._store import Store

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping
    from pathlib import Path
    from types import TracebackType

__all__ = ["DEFAULT_VERSION", "Emulator", "node_object"]

#: The Kubernetes release the emulator reports and imitates.
DEFAULT_VERSION: Final = "v1.36.0"
_VERSION: Final = re.compile(r"v\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?")
_VERBS: Final = ("*", "get", "list", "watch", "create", "update", "patch", "delete")
_RESOURCES: Final = ("*", "nodes", "nodes/status", "events", "leases")


def node_object(
    name: str,
    *,
    addresses: Iterable[str] = (),
    pod_cidrs: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    uninitialized: bool = False,
) -> dict[str, Any]:
    """A Node as a plain dict, ready for :meth:`Emulator.add_node` or a client's ``create``.

    ``addresses`` become ``InternalIP`` entries of ``status.addresses``; ``pod_cidrs`` fills
    ``spec.podCIDRs`` and ``spec.podCIDR``; ``uninitialized`` adds the cloud provider's
    ``node.cloudprovider.kubernetes.io/uninitialized`` taint.

    >>> node_object("w1", addresses=["2001:db8::7"], pod_cidrs=["10.0.0.0/24"])
    {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': 'w1'}, 'spec': \
{'podCIDR': '10.0.0.0/24', 'podCIDRs': ['10.0.0.0/24']}, 'status': {'addresses': \
[{'type': 'InternalIP', 'address': '2001:db8::7'}]}}
    """
    metadata: dict[str, object] = {"name": name}
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    spec: dict[str, object] = {}
    cidrs = list(pod_cidrs)
    if cidrs:
        spec["podCIDR"] = cidrs[0]
        spec["podCIDRs"] = cidrs
    if uninitialized:
        spec["taints"] = [{"key": UNINITIALIZED_TAINT, "value": "true", "effect": "NoSchedule"}]
    status: dict[str, object] = {}
    listed = [{"type": "InternalIP", "address": address} for address in addresses]
    if listed:
        status["addresses"] = listed
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": metadata,
        "spec": spec,
        "status": status,
    }


class Emulator:
    """A Kubernetes API server on loopback that enforces the API server's Node rules.

    It serves Nodes (with ``/status``), core/v1 Events and coordination.k8s.io/v1 Leases, the
    discovery documents kubectl needs, and faults injected on demand (see :meth:`inject`).
    Objects live in memory; every write takes the next resourceVersion.

    >>> with Emulator() as api:
    ...     stored = api.add_node(node_object("w1", pod_cidrs=["10.0.0.0/24"]))
    ...     api.url.startswith("http://127.0.0.1:"), stored["metadata"]["resourceVersion"]
    (True, '1')

    Args:
        port: The TCP port on 127.0.0.1; 0 picks a free one.
        strict_cidrs: Refuse podCIDRs with host bits set, leading zeros or IPv4-mapped IPv6
            addresses (``StrictIPCIDRValidation``, on by default since Kubernetes 1.36). False
            emulates an older server, which stored such values.
        version: The ``gitVersion`` reported by ``/version`` (kubectl wrappers that dispatch on
            the server's version read its minor number).
        history: How many events of each resource a watch can resume from.

    Raises:
        ValueError: ``version`` is not ``vMAJOR.MINOR.PATCH``, or ``history`` is below 1.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        strict_cidrs: bool = True,
        version: str = DEFAULT_VERSION,
        history: int = 1000,
    ) -> None:
        if not _VERSION.fullmatch(version):
            raise ValueError(f"version must look like 'v1.36.0', not {version!r}")
        self._port = port
        self._version = version
        self._store = Store(history)
        self._api = Api(self._store, strict_cidrs=strict_cidrs)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._faults: list[FaultRule] = []
        self._log: list[RequestRecord] = []
        self._lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving on 127.0.0.1 in a background thread; return the emulator.

        Raises:
            RuntimeError: it is already running.
            OSError: the port cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        server = Server(
            ("127.0.0.1", self._port),
            self._api,
            self._version,
            lock=self._lock,
            faults=self._faults,
            log=self._log,
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: close every connection (watches and held requests end). Idempotent."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.stopping.set()
        self._store.wake()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the emulator is serving."""
        return self._server is not None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``.

        Raises:
            RuntimeError: the emulator is not running.
        """
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() first")
        return f"http://{self._server.address}"

    def write_kubeconfig(self, path: str | os.PathLike[str]) -> Path:
        """Write a kubeconfig (one cluster, user and context) for this emulator to ``path``.

        Raises:
            RuntimeError: the emulator is not running (the port is not known yet).
        """
        return write_kubeconfig(self.url, path)

    # -- objects ------------------------------------------------------------------------------

    def add_node(self, obj: Mapping[str, Any], *, validate: bool = True) -> dict[str, Any]:
        """Create a Node as a ``POST`` would (conversion, rules, a new resourceVersion).

        Args:
            obj: The Node, a plain mapping (see :func:`node_object`).
            validate: False stores podCIDRs without checking them, as an older API server may
                have stored them (``"10.0.0.1/24"``), so that tests can start from them.

        Returns:
            The stored Node.

        Raises:
            ApiError: the API server would refuse it (``.body`` is the ``Status``).
        """
        return self._api.create(Route("create", NODES), dict(obj), validated=validate)[1]

    def delete_node(self, name: str) -> None:
        """Delete a Node as a ``DELETE`` would.

        Raises:
            ApiError: there is no such node (404).
        """
        self._api.delete(Route("delete", NODES, name=name), None)

    def nodes(self) -> list[dict[str, Any]]:
        """Every Node, sorted by name (copies)."""
        return self._store.items(NODES.resource)

    def node(self, name: str) -> dict[str, Any]:
        """One Node (a copy).

        Raises:
            LookupError: there is no Node of that name.
        """
        found = self._store.get(NODES.resource, ("", name))
        if found is None:
            raise LookupError(f"no node named {name!r}")
        return found

    def events(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """The Events of one namespace, or of all (copies)."""
        return self._store.items(EVENTS.resource, namespace)

    def leases(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """The Leases of one namespace, or of all (copies)."""
        return self._store.items(LEASES.resource, namespace)

    @property
    def resource_version(self) -> str:
        """The last resourceVersion written (``"0"`` before the first write)."""
        return str(self._store.rv)

    def compact(self) -> None:
        """Forget the watch history: a watch from an earlier resourceVersion gets 410 Expired."""
        self._store.compact()

    # -- faults and the request log ------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        count: int = 1,
        *,
        verb: str = "patch",
        resource: str = "nodes",
        name: str | None = None,
        retry_after: int = 1,
        hold: float = 30.0,
    ) -> None:
        """Fault the next ``count`` requests that match.

        Args:
            fault: ``"conflict"`` (409), ``"throttle"`` (429 with ``Retry-After``),
                ``"error"`` (500), ``"timeout"`` (no answer: held until the client gives up or
                ``hold`` seconds pass, then the connection is closed) or ``"lose"`` (carried
                out, then the connection is closed without an answer).
            count: How many matching requests to fault.
            verb: ``get``, ``list``, ``watch``, ``create``, ``update``, ``patch``, ``delete``
                or ``"*"``.
            resource: ``nodes``, ``nodes/status``, ``events``, ``leases`` or ``"*"``.
            name: Only requests for this object; None for any.
            retry_after: The ``Retry-After`` seconds of a throttle.
            hold: The longest a timeout holds a request, in seconds.

        Raises:
            ValueError: an unknown fault, verb or resource, or a count below 1.
        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}: expected one of {', '.join(FAULTS)}")
        if verb not in _VERBS:
            raise ValueError(f"unknown verb {verb!r}: expected one of {', '.join(_VERBS)}")
        if resource not in _RESOURCES:
            raise ValueError(
                f"unknown resource {resource!r}: expected one of {', '.join(_RESOURCES)}"
            )
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        rule = FaultRule(fault, count, verb, resource, name, retry_after, hold)
        with self._lock:
            self._faults.append(rule)

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> list[FaultRule]:
        """The faults still to be injected (copies)."""
        with self._lock:
            return [dataclasses.replace(rule) for rule in self._faults if rule.remaining > 0]

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._log)

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._log.clear()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        count = len(self.nodes())
        return (
            f"Emulator({where}, {count} node{'s' if count != 1 else ''}, "
            f"resourceVersion {self.resource_version})"
        )
