"""The values a capacity report is made of: rows, totals, nodes that do not fit, thresholds.

Frozen, slotted records holding plain values (ints, floats, text, a :class:`~ipv6alloc.Prefix`).
Counts are exact Python ints however large (a /48 holds 2**72 /120s); :func:`json_safe` turns
those above 2**53, which a JSON reader in JavaScript would round, into decimal text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from .._errors import ConfigurationError, quote

if TYPE_CHECKING:
    from .._prefix import Prefix

__all__ = [
    "FIELDS",
    "MAX_SAFE_INTEGER",
    "Exhaustion",
    "Kind",
    "NotFit",
    "PoolCapacity",
    "Status",
    "Thresholds",
    "Totals",
    "check_max_pods",
    "check_thresholds",
    "json_safe",
]

#: What a pool is for: a cluster CIDR (or a bare allocator's pool), or a node's provider subnet.
Kind = Literal["cluster", "provider"]
#: A pool's status: ``"ok"``, ``"warn"`` or ``"critical"``.
Status = Literal["ok", "warn", "critical"]
#: The largest integer every JSON reader holds exactly (a double's 53-bit mantissa).
MAX_SAFE_INTEGER: Final = 2**53
#: The keys of :meth:`PoolCapacity.to_record`, in order: the columns of every rendering.
FIELDS: Final = (
    "pool",
    "family",
    "kind",
    "pod_prefixlen",
    "addresses_per_prefix",
    "pods_per_node",
    "prefixes_total",
    "prefixes_used",
    "prefixes_free",
    "prefixes_unusable",
    "nodes_fit",
    "utilization",
    "largest_free_prefixlen",
    "fragmentation",
    "status",
)


def json_safe(value: object) -> object:
    """``value``, or its decimal text when it is an int above 2**53 (exact in any JSON reader).

    >>> json_safe(2**53), json_safe(2**53 + 1), json_safe(0.5), json_safe(None)
    (9007199254740992, '9007199254740993', 0.5, None)
    """
    if type(value) is int and value > MAX_SAFE_INTEGER:
        return str(value)
    return value


def _plain(record: dict[str, Any], *, exact: bool) -> dict[str, Any]:
    """``record`` as it is when ``exact``, else each value through :func:`json_safe`."""
    return record if exact else {key: json_safe(value) for key, value in record.items()}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a pool's status turns ``"warn"`` and ``"critical"``, by utilization.

    A pool is ``"critical"`` from ``critical`` utilization on, or when no node fits any more;
    ``"warn"`` from ``warn`` on; else ``"ok"``. The defaults: warn from 75 %, critical from
    90 %.

    >>> Thresholds().status(0.75, 10), Thresholds().status(0.5, 0)
    ('warn', 'critical')
    >>> Thresholds(warn=0.95, critical=0.9)
    Traceback (most recent call last):
    ...
    ipv6alloc.ConfigurationError: thresholds must satisfy 0 <= warn <= critical <= 1, \
not warn=0.95, critical=0.9

    Attributes:
        warn: The utilization (0.0 to 1.0) from which a pool is ``"warn"``.
        critical: The utilization from which a pool is ``"critical"``.

    Raises:
        ConfigurationError: the thresholds are not numbers with 0 <= warn <= critical <= 1.
    """

    warn: float = 0.75
    critical: float = 0.90

    def __post_init__(self) -> None:
        warn: object = self.warn
        critical: object = self.critical
        if (
            not isinstance(warn, int | float)
            or not isinstance(critical, int | float)
            or isinstance(warn, bool)
            or isinstance(critical, bool)
            or not 0 <= warn <= critical <= 1
        ):
            raise ConfigurationError(
                "thresholds must satisfy 0 <= warn <= critical <= 1, "
                f"not warn={quote(warn)[1:-1]}, critical={quote(critical)[1:-1]}"
            )

    def status(self, utilization: float, nodes_fit: int) -> Status:
        """The status of a pool at this utilization with this many nodes still fitting.

        Runtime complexity: O(1).
        """
        if nodes_fit == 0 or utilization >= self.critical:
            return "critical"
        if utilization >= self.warn:
            return "warn"
        return "ok"


@dataclass(frozen=True, slots=True)
class PoolCapacity:
    """One pool's capacity, counted in pod prefixes (one per node): a row of the report.

    Attributes:
        pool: The pool.
        family: Its IP version, 4 or 6.
        kind: ``"cluster"`` (a cluster CIDR, or any pool of a bare
            :class:`~ipv6alloc.PrefixAllocator`) or ``"provider"`` (a node's provider subnet).
        pod_prefixlen: The length of the pod prefixes a node gets from the pool: the node mask
            for a cluster pool, the policy's decision for a provider subnet.
        addresses_per_prefix: Addresses in one pod prefix, ``2**(width - pod_prefixlen)``.
        pods_per_node: ``addresses_per_prefix`` capped by the report's ``max_pods``.
        prefixes_total: Aligned ``/pod_prefixlen`` blocks in the pool,
            ``2**(pod_prefixlen - pool.prefixlen)``.
        prefixes_used: The pool's allocations, in pod prefixes: one per node holding a
            prefix from it, when (as usual) every allocation is ``/pod_prefixlen``. A shorter
            allocation (a /24 held from before the node mask became /25) counts the blocks it
            covers; a longer one counts one block, and all of them together at most the blocks
            that are not free.
        prefixes_free: Aligned blocks still allocatable: clear of allocations, reservations
            and nested pools.
        prefixes_unusable: The rest, ``total - used - free``: blocks a reservation or a
            nested pool spoils.
        nodes_fit: How many more nodes get a prefix from the pool: ``prefixes_free``.
        utilization: ``prefixes_used / prefixes_total`` (at most 1.0).
        largest_free_prefixlen: The length of the largest aligned free block of any size, or
            None when nothing is free.
        fragmentation: ``1 - largest free block / free addresses``; 0.0 when nothing is free.
        status: ``"ok"``, ``"warn"`` or ``"critical"`` (see :class:`Thresholds`).
        allocations: How many prefixes the pool holds, one per node: the nodes that took a
            prefix from it (what the rates of
            :meth:`~ipv6alloc.capacity.CapacityReport.exhaustion` count). Not a record key.
    """

    pool: Prefix
    family: int
    kind: Kind
    pod_prefixlen: int
    addresses_per_prefix: int
    pods_per_node: int
    prefixes_total: int
    prefixes_used: int
    prefixes_free: int
    prefixes_unusable: int
    nodes_fit: int
    utilization: float
    largest_free_prefixlen: int | None
    fragmentation: float
    status: Status
    allocations: int = 0

    def to_record(self, *, exact: bool = False) -> dict[str, Any]:
        """The row as a plain dict with the keys of :data:`FIELDS`; the pool as text.

        Args:
            exact: keep every count an int; by default counts above 2**53 are decimal text
                (JSON-safe).
        """
        record = {name: getattr(self, name) for name in FIELDS}
        record["pool"] = str(self.pool)
        return _plain(record, exact=exact)


@dataclass(frozen=True, slots=True)
class Totals:
    """The sums over the pools of one family and kind.

    Attributes:
        family: The IP version.
        kind: ``"cluster"`` or ``"provider"``.
        pools: How many pools.
        prefixes_total: Their pod prefixes, summed (each pool at its own ``pod_prefixlen``).
        prefixes_used: Their allocations.
        prefixes_free: Their free aligned blocks.
        prefixes_unusable: Their unusable blocks.
        nodes_fit: How many more nodes they take, summed over the pools.
        utilization: ``prefixes_used / prefixes_total`` over them all.
        ok: Pools whose status is ``"ok"``.
        warn: Pools whose status is ``"warn"``.
        critical: Pools whose status is ``"critical"``.
    """

    family: int
    kind: Kind
    pools: int
    prefixes_total: int
    prefixes_used: int
    prefixes_free: int
    prefixes_unusable: int
    nodes_fit: int
    utilization: float
    ok: int
    warn: int
    critical: int

    def to_record(self, *, exact: bool = False) -> dict[str, Any]:
        """The totals as a plain dict (counts above 2**53 as text unless ``exact``)."""
        return _plain({name: getattr(self, name) for name in self.__slots__}, exact=exact)


@dataclass(frozen=True, slots=True)
class NotFit:
    """A node that would not get its pod prefixes, and why.

    Attributes:
        node: The node's name.
        reason: What stopped it (the allocator's or the planner's message).
    """

    node: str
    reason: str

    def to_record(self) -> dict[str, str]:
        """``{"node": ..., "reason": ...}``."""
        return {"node": self.node, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Exhaustion:
    """When a pool runs out if new nodes keep arriving at the current rates.

    Attributes:
        row: The pool's row.
        share: The share of new nodes that take a prefix from the pool (0.0 to 1.0).
        new_nodes: How many more nodes the cluster takes, in those proportions, before the
            pool has no free block left: ``nodes_fit / share``, rounded down (0: full now).
    """

    row: PoolCapacity
    share: float
    new_nodes: int


def check_max_pods(max_pods: object) -> int:
    """``max_pods``, checked: an int from 1 (ConfigurationError otherwise)."""
    if type(max_pods) is not int or max_pods < 1:
        raise ConfigurationError(f"max_pods must be an integer from 1, not {quote(max_pods)}")
    return max_pods


def check_thresholds(thresholds: object) -> Thresholds:
    """``thresholds``, checked (None: the defaults); TypeError for anything else."""
    if thresholds is None:
        return Thresholds()
    if not isinstance(thresholds, Thresholds):
        raise TypeError(
            f"thresholds must be a Thresholds value, not {quote(thresholds, use_repr=True)}"
        )
    return thresholds
