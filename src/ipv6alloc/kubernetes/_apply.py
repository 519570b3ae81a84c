"""Applying a plan: write each ``assign`` to its Node, correct under faults (:func:`apply`).

Every write is a JSON merge patch carrying the node's ``resourceVersion`` as a precondition,
so it lands only on the node the plan was made from. What can go wrong, and what is done:

- **429 and 5xx**: the same write again after a backoff (exponential, with jitter; a 429's
  ``Retry-After`` is honoured). If a 5xx hid a write that happened, the repeated write fails
  its precondition (409) and the re-read below finds the prefixes.
- **409, 422, and an unknown outcome** (a timeout, a connection lost before the answer): the
  node is read again. If it now holds podCIDRs, they are the fact: the planned ones are
  released and the node's adopted (when they are the planned ones, the write happened). If it
  still holds none, the same prefixes are written again with the new ``resourceVersion``.
- **404**: the Node is gone; what was planned for it is released.
- **Giving up** (attempts or time exhausted, or a refusal such as 403): the planned prefixes are
  released only when the node is known not to hold them; when the last outcome is unknown they
  stay held, so a write that did land never leaves a prefix free for another node.

So a transient fault never moves a node's prefixes, and nothing is handed out twice. Events
follow upstream node IPAM (``pkg/controller/nodeipam/ipam`` in kubernetes/kubernetes): a
Warning ``CIDRNotAvailable`` when no prefix is free, a Warning ``CIDRAssignmentFailed`` when a
write fails, and a Normal ``PodCIDRAssigned`` naming the subnet and the rule.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from .._errors import ConfigurationError, quote
from ._errors import NodeReadError
from ._plan import stored_prefixes
from ._read import read_node
from ._text import one_line

if TYPE_CHECKING:
    from collections.abc import Callable

    from .._node_allocator import NodeAllocator
    from ._plan import NodePlan, Plan

__all__ = [
    "EVENT_NAMESPACE",
    "ApplyResult",
    "NodeOutcome",
    "NodeWriter",
    "Outcome",
    "RetryPolicy",
    "apply",
]

#: What became of one node.
Outcome = Literal["written", "adopted", "unchanged", "gone", "unknown", "failed"]
#: Node events go to this namespace (Nodes are cluster-scoped), as upstream records them.
EVENT_NAMESPACE: Final = "default"
#: The component that records the events.
COMPONENT: Final = "ipv6alloc"


class NodeWriter(Protocol):
    """What :func:`apply` needs of a client: write a patch, read a node, record an event.

    ``patch`` and ``read`` return the Node in any shape :func:`read_node` takes, and raise on
    failure: an exception with an HTTP status (``.status`` as an int, or ``.status.code``, or
    ``.response.status_code``) is an answer; any other exception is an unknown outcome.
    """

    def patch(self, name: str, body: dict[str, Any]) -> object:
        """Send ``body`` as a JSON merge patch to the Node ``name``."""
        ...

    def read(self, name: str) -> object:
        """Read the Node ``name``."""
        ...

    def event(self, body: dict[str, Any]) -> None:
        """Record a core/v1 Event in :data:`EVENT_NAMESPACE`."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard :func:`apply` tries, per node.

    Attributes:
        attempts: Writes at most, re-writes after a conflict included.
        reads: Reads at most after each unknown outcome or conflict.
        backoff: The first wait in seconds; it doubles on each retry.
        max_backoff: The longest single wait.
        deadline: Seconds per node, all retries included.
        jitter: The fraction of each wait drawn at random (0 to 1), so that replicas retrying
            together spread out.
    """

    attempts: int = 5
    reads: int = 3
    backoff: float = 0.2
    max_backoff: float = 5.0
    deadline: float = 30.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        for name in ("attempts", "reads"):
            value: object = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ConfigurationError(f"{name} must be a positive integer, not {quote(value)}")
        for name in ("backoff", "max_backoff", "deadline", "jitter"):
            value = getattr(self, name)
            if type(value) not in (int, float) or not value >= 0:  # type: ignore[operator]
                raise ConfigurationError(f"{name} must be a number >= 0, not {quote(value)}")
        if self.jitter > 1:
            raise ConfigurationError(f"jitter must lie between 0 and 1, not {quote(self.jitter)}")

    def wait(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        full = min(self.max_backoff, self.backoff * 2.0 ** (retry - 1))
        return float(full * (1 - self.jitter * rng.random()))


@dataclass(frozen=True, slots=True)
class NodeOutcome:
    """What became of one node when the plan was applied.

    Attributes:
        name: The node's name.
        action: The plan's action for it.
        outcome: ``written`` (its podCIDRs were written), ``adopted`` (it turned out to hold
            other podCIDRs, now adopted), ``unchanged`` (nothing to write), ``gone`` (the Node
            was deleted meanwhile: released), ``unknown`` (the last write's outcome is unknown:
            its prefixes stay held until the next plan reads the node) or ``failed`` (gave
            up: released).
        pod_cidrs: The node's podCIDRs afterwards, as far as known.
        attempts: Writes sent.
        reason: One line saying what happened.
    """

    name: str
    action: str
    outcome: Outcome
    pod_cidrs: tuple[str, ...]
    attempts: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ``name``, ``action``, ``outcome``, ``podCIDRs``, ``attempts``, ``reason``."""
        return {
            "name": self.name,
            "action": self.action,
            "outcome": self.outcome,
            "podCIDRs": list(self.pod_cidrs),
            "attempts": self.attempts,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The plan, and what became of each node.

    Attributes:
        plan: The plan applied.
        outcomes: One :class:`NodeOutcome` per node of the plan, in its order.
    """

    plan: Plan
    outcomes: tuple[NodeOutcome, ...]

    @property
    def ok(self) -> bool:
        """The plan was ok and every write landed (``unknown`` and ``failed`` are not)."""
        return self.plan.ok and not any(o.outcome in ("unknown", "failed") for o in self.outcomes)

    @property
    def writes(self) -> int:
        """Writes sent, retries included."""
        return sum(o.attempts for o in self.outcomes)

    def get(self, name: str) -> NodeOutcome | None:
        """The outcome of the node of this name, or None."""
        return next((o for o in self.outcomes if o.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ``{"nodes": [...], "summary": {...}}``."""
        summary: dict[str, int] = {}
        for o in self.outcomes:
            summary[o.outcome] = summary.get(o.outcome, 0) + 1
        return {"nodes": [o.to_dict() for o in self.outcomes], "summary": summary}

    def __str__(self) -> str:
        """An aligned table, one row per node."""
        rows = [["NODE", "ACTION", "OUTCOME", "PODCIDRS", "REASON"]]
        rows += [
            [o.name, o.action, o.outcome, ",".join(o.pod_cidrs) or "-", o.reason]
            for o in self.outcomes
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )


def apply(
    plan: Plan,
    client: object,
    allocator: NodeAllocator | None = None,
    *,
    events: bool = True,
    retry: RetryPolicy | None = None,
    read: Callable[[str], object] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    seed: int | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ApplyResult:
    """Write every ``assign`` of ``plan``; adopt, retry or release as the answers say.

    The plan's allocator (the one it was made with) holds the planned prefixes and is updated
    with what each node turns out to hold. Nodes are written one at a time, in the
    plan's order. Runtime complexity: O(n log n), plus the waits.

    Args:
        plan: The plan (:func:`~ipv6alloc.kubernetes.plan`).
        client: The official client's ``CoreV1Api`` (``pip install 'ipv6alloc[kubernetes]'``),
            any object with ``patch(name, body)`` and ``read(name)`` (and ``event(body)``,
            see :class:`NodeWriter`), or a plain function ``patch(name, body)`` (then give
            ``read`` too, or a conflict cannot be resolved and is reported ``unknown``).
        allocator: The node allocator the plan was made with (by default the plan's own).
        events: Whether to record core/v1 Events (never fails the write when it fails).
        retry: How hard to try (:class:`RetryPolicy` defaults).
        read: Reads a node, for a ``client`` that is a plain function.
        sleep: Waits between retries (tests pass a fake).
        clock: Measures the deadline (tests pass a fake).
        seed: Seeds the jitter, for repeatable tests.
        cancelled: Checked before each write: once it says True (a controller lost its
            leadership), nothing more is written; those nodes' outcome is ``unknown`` and
            their planned prefixes stay held (the next leader plans again from the cluster).

    Returns:
        The outcome per node.

    Raises:
        TypeError: ``client`` is none of the above.
        ValueError: no allocator: the plan was built by hand, and none was given.
    """
    if allocator is None:
        allocator = plan.allocator
        if allocator is None:
            raise ValueError("apply() needs the allocator the plan was made with: pass allocator=")
    writer = as_writer(client, read)
    policy = RetryPolicy() if retry is None else retry
    rng = random.Random(seed)
    outcomes = []
    for node in plan:
        if node.action != "assign":
            outcomes.append(
                NodeOutcome(node.name, node.action, "unchanged", node.pod_cidrs, 0, node.reason)
            )
            if events and node.cause == "PoolExhaustedError":
                _record(writer, node.name, "Warning", "CIDRNotAvailable", node.reason)
            continue
        if cancelled is not None and cancelled():
            outcomes.append(
                NodeOutcome(
                    node.name, "assign", "unknown", node.pod_cidrs, 0, "not written: cancelled"
                )
            )
            continue
        write = _Write(writer, allocator, node, policy, rng, sleep, clock)
        outcome = write.run()
        outcomes.append(outcome)
        if events:
            if outcome.outcome == "written":
                _record(
                    writer,
                    node.name,
                    "Normal",
                    "PodCIDRAssigned",
                    f"Assigned podCIDRs {', '.join(outcome.pod_cidrs)}"
                    + (f" from subnet {node.subnet}" if node.subnet else "")
                    + f": {node.reason}",
                )
            elif outcome.outcome in ("failed", "unknown"):
                _record(writer, node.name, "Warning", "CIDRAssignmentFailed", outcome.reason)
    return ApplyResult(plan, tuple(outcomes))


# -- one write -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Write:
    """The retries of one node's write (internal)."""

    writer: NodeWriter | _Patcher
    allocator: NodeAllocator
    node: NodePlan
    policy: RetryPolicy
    rng: random.Random
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    attempts: int = 0
    retries: int = 0
    started: float = 0.0
    #: Whether an earlier write may have landed (its outcome was unknown, or a 5xx): then only
    #: reading the node tells whether its planned prefixes may be released.
    maybe_written: bool = False

    def run(self) -> NodeOutcome:
        self.started = self.clock()
        version = self.node.resource_version
        last = "no answer"
        while self.attempts < self.policy.attempts:
            self.attempts += 1
            try:
                answer = self.writer.patch(self.node.name, _body(self.node, version))
            except Exception as exc:  # every failure is classified: the client is anyone's
                status = status_of(exc)
                last = _describe(exc, status)
                if status == 404:
                    return self._gone()
                if status is None or status >= 500:
                    self.maybe_written = True
                if status == 429 or (status is not None and status >= 500):
                    if not self._wait(retry_after(exc)):
                        break
                    continue
                if status is not None and status not in (409, 422):
                    last = f"the API server refused the write ({last})"
                    if self.maybe_written:
                        break  # an earlier write may have landed: read before releasing
                    return self._give_up(last)
                # 409, 422 or an unknown outcome: what does the node hold now?
                found = self._reread()
                if found is _UNREADABLE:
                    if not self._wait(None):
                        break
                    continue
                if found is None:
                    return self._gone()
                assert isinstance(found, _Seen)  # for mypy: the other two returned
                if found.pod_cidrs:
                    return self._holds(found)
                version = found.resource_version
                if not self._wait(None):
                    break
                continue
            seen = _seen(answer)
            if seen is not None and seen.pod_cidrs:
                return self._holds(seen)
            return self._written(self.node.pod_cidrs)
        # Out of attempts or time: release only when the node is known to hold nothing.
        found = self._reread()
        if isinstance(found, _Seen) and found.pod_cidrs:
            return self._holds(found)
        if found is None:
            return self._gone()
        if found is _UNREADABLE:
            return NodeOutcome(
                self.node.name,
                "assign",
                "unknown",
                self.node.pod_cidrs,
                self.attempts,
                f"gave up after {self.attempts} write(s) ({last}); the node could not be read, "
                "so its planned prefixes stay held until the next plan",
            )
        return self._give_up(f"gave up after {self.attempts} write(s) ({last})")

    def _wait(self, retry_after: float | None) -> bool:
        """Back off before the next try; False when the deadline would pass."""
        self.retries += 1
        seconds = self.policy.wait(self.retries, self.rng)
        if retry_after is not None:
            seconds = max(seconds, retry_after)
        if self.clock() + seconds - self.started > self.policy.deadline:
            return False
        self.sleep(seconds)
        return True

    def _reread(self) -> _Seen | object | None:
        """The node as it is now; None when it is gone; :data:`_UNREADABLE` when unknown."""
        for attempt in range(1, self.policy.reads + 1):
            try:
                answer = self.writer.read(self.node.name)
            except Exception as exc:  # classified like the writes
                status = status_of(exc)
                if status == 404:
                    return None
                if attempt == self.policy.reads or not self._wait(retry_after(exc)):
                    return _UNREADABLE
                continue
            seen = _seen(answer)
            return _UNREADABLE if seen is None else seen
        return _UNREADABLE  # pragma: no cover - the loop returns

    def _holds(self, seen: _Seen) -> NodeOutcome:
        """The node holds podCIDRs: the planned ones (written) or others (adopted)."""
        planned = stored_prefixes(self.node.pod_cidrs)
        held = stored_prefixes(seen.pod_cidrs)
        if planned is not None and held is not None and sorted(held) == sorted(planned):
            return self._written(seen.pod_cidrs)
        name = self.node.name
        if name in self.allocator:
            self.allocator.release(name)
        result = self.allocator.restore(name, seen.pod_cidrs)
        how = "adopted" if result.ok else "holds them, some not adoptable"
        return NodeOutcome(
            name,
            "assign",
            "adopted",
            seen.pod_cidrs,
            self.attempts,
            f"the node holds {', '.join(seen.pod_cidrs)} (written by someone else): {how}; "
            f"the planned {', '.join(self.node.pod_cidrs)} are free again",
        )

    def _written(self, pod_cidrs: tuple[str, ...]) -> NodeOutcome:
        tries = f" after {self.attempts} writes" if self.attempts > 1 else ""
        return NodeOutcome(
            self.node.name, "assign", "written", pod_cidrs, self.attempts, f"written{tries}"
        )

    def _gone(self) -> NodeOutcome:
        return self._released(
            "gone", "the Node was deleted meanwhile: its planned prefixes are free again"
        )

    def _give_up(self, why: str) -> NodeOutcome:
        return self._released("failed", f"{why}; its planned prefixes are free again")

    def _released(self, status: Outcome, detail: str) -> NodeOutcome:
        """Release the planned prefixes: the node is known not to hold them."""
        name = self.node.name
        if name in self.allocator:
            self.allocator.release(name)
        return NodeOutcome(name, "assign", status, (), self.attempts, detail)


@dataclass(frozen=True, slots=True)
class _Seen:
    """A node as read back: its podCIDRs as stored and its resourceVersion."""

    pod_cidrs: tuple[str, ...]
    resource_version: str | None


#: A read that gave no usable answer.
_UNREADABLE: Final = object()


def _seen(answer: object) -> _Seen | None:
    try:
        kube = read_node(answer)
    except NodeReadError:
        return None
    return _Seen(kube.pod_cidrs, kube.resource_version)


def _body(node: NodePlan, version: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if version is not None:
        body["metadata"] = {"resourceVersion": version}
    body["spec"] = {"podCIDR": node.pod_cidrs[0], "podCIDRs": list(node.pod_cidrs)}
    return body


# -- what clients raise --------------------------------------------------------------------------


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an exception carries, or None (an unknown outcome).

    Understands the official client's ``ApiException`` (``.status``), lightkube's ``ApiError``
    (``.status.code``) and httpx's ``HTTPStatusError`` (``.response.status_code``).

    >>> class ApiException(Exception):
    ...     status = 409
    >>> status_of(ApiException()), status_of(TimeoutError())
    (409, None)
    """
    status = getattr(exc, "status", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return status
    code = getattr(status, "code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    return None


def retry_after(exc: BaseException) -> float | None:
    """The seconds a 429 or 503 asks to wait (``Retry-After``), or None."""
    headers: Any = getattr(exc, "headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    get = getattr(headers, "get", None)
    if not callable(get):
        return None
    value: Any = get("Retry-After")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if 0 <= seconds <= 3600 else None


def _describe(exc: BaseException, status: int | None) -> str:
    if status is not None:
        return f"HTTP {status}"
    text = one_line(str(exc), 120)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- clients -------------------------------------------------------------------------------------


class _Patcher:
    """A plain ``patch(name, body)`` function, with an optional ``read(name)``."""

    def __init__(
        self, patch: Callable[[str, dict[str, Any]], object], read: Callable[[str], object] | None
    ) -> None:
        self._patch = patch
        self._read = read

    def patch(self, name: str, body: dict[str, Any]) -> object:
        return self._patch(name, body)

    def read(self, name: str) -> object:
        if self._read is None:
            raise LookupError("no read function was given: the node cannot be read back")
        return self._read(name)

    def event(self, body: dict[str, Any]) -> None:
        """Events need a client; a plain function records none."""


class OfficialClient:
    """The official ``kubernetes`` client's ``CoreV1Api`` as a :class:`NodeWriter`.

    Patches are sent as JSON merge patches (the client sends a dict as a strategic merge patch
    unless told otherwise, which would union podCIDRs instead of replacing them).
    """

    def __init__(self, api: Any, *, request_timeout: float = 10.0) -> None:
        self.api = api
        self.request_timeout = request_timeout

    def patch(self, name: str, body: dict[str, Any]) -> object:
        return self.api.patch_node(
            name,
            body,
            _content_type="application/merge-patch+json",
            _request_timeout=self.request_timeout,
        )

    def read(self, name: str) -> object:
        return self.api.read_node(name, _request_timeout=self.request_timeout)

    def event(self, body: dict[str, Any]) -> None:
        self.api.create_namespaced_event(
            EVENT_NAMESPACE, body, _request_timeout=self.request_timeout
        )


def as_writer(client: object, read: Callable[[str], object] | None = None) -> NodeWriter | _Patcher:
    """``client`` as something :func:`apply` can write with (see its ``client`` argument).

    Raises:
        TypeError: ``client`` is neither a client nor a function.
    """
    if callable(getattr(client, "patch_node", None)) and callable(
        getattr(client, "read_node", None)
    ):
        return OfficialClient(client)
    if callable(getattr(client, "patch", None)) and callable(getattr(client, "read", None)):
        return client  # type: ignore[return-value]  # duck-typed NodeWriter
    if callable(client):
        return _Patcher(client, read)
    raise TypeError(
        "apply() needs the official client's CoreV1Api, an object with patch(name, body) and "
        f"read(name), or a function patch(name, body); not {quote(client, use_repr=True)}"
    )


def _record(writer: object, name: str, kind: str, reason: str, message: str) -> None:
    """Record a core/v1 Event about the node; a failure to record changes nothing."""
    event = getattr(writer, "event", None)
    if not callable(event):
        return
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{name}.", "namespace": EVENT_NAMESPACE},
        "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": name},
        "reason": reason,
        "message": message[:1024],
        "type": kind,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    with contextlib.suppress(Exception):  # events are best effort: never fail a write for one
        event(body)
