"""ipv6alloc: per-node pod prefixes carved from each Kubernetes node's own provider subnet.

The public API is re-exported here; every other module but :mod:`ipv6alloc.strategies` (for
Hypothesis users) is private. Layers, lowest first (each imports only those below it)::

    _errors -> _bits -> _index -> _prefix -> _allocator, _policy -> _node -> this facade
    edge (imports the core, never the reverse): _demo, _cli, strategies

``import ipv6alloc`` loads only the standard library.
"""

from ._allocator import (
    Allocation,
    AllocatorStatistics,
    Placement,
    PoolStatistics,
    PrefixAllocator,
)
from ._errors import (
    ConfigurationError,
    InvalidPrefixError,
    Ipv6AllocError,
    NotAllocatedError,
    NotInPoolError,
    PolicyError,
    PoolExhaustedError,
    PrefixConflictError,
    SnapshotError,
    UnknownNodeError,
    UnknownPoolError,
)
from ._node import Assignment, FamilyAssignment, Node, NodeAllocator, RestoreResult
from ._policy import (
    Decision,
    ExtraBitsPolicy,
    FixedPolicy,
    Interface,
    InterfaceLike,
    PodsPolicy,
    Policy,
    ProviderPolicy,
    SafePolicy,
    TalosPolicy,
)
from ._prefix import AddressLike, Prefix, PrefixLike

__all__ = [
    "AddressLike",
    "Allocation",
    "AllocatorStatistics",
    "Assignment",
    "ConfigurationError",
    "Decision",
    "ExtraBitsPolicy",
    "FamilyAssignment",
    "FixedPolicy",
    "Interface",
    "InterfaceLike",
    "InvalidPrefixError",
    "Ipv6AllocError",
    "Node",
    "NodeAllocator",
    "NotAllocatedError",
    "NotInPoolError",
    "Placement",
    "PodsPolicy",
    "Policy",
    "PolicyError",
    "PoolExhaustedError",
    "PoolStatistics",
    "Prefix",
    "PrefixAllocator",
    "PrefixConflictError",
    "PrefixLike",
    "ProviderPolicy",
    "RestoreResult",
    "SafePolicy",
    "SnapshotError",
    "TalosPolicy",
    "UnknownNodeError",
    "UnknownPoolError",
]

__version__ = "0.1.0.dev0"
