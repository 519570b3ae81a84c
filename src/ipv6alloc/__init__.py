"""ipv6alloc: per-node pod prefixes carved from each Kubernetes node's own provider subnet.

The public API is re-exported here; every other module but :mod:`ipv6alloc.strategies` (for
Hypothesis users) is private. Layers, lowest first (each imports only those below it)::

    _errors -> _bits -> _index -> _prefix -> _state, _stats, _interface
    -> _allocator, _policy -> _provider -> _node -> _node_allocator -> this facade;
    edge modules (_demo, _cli, strategies) import the core, never the reverse.

Names are loaded on first use (PEP 562), so ``import ipv6alloc`` costs next to nothing and a
program that only needs :class:`PrefixAllocator` never loads the node layer. Everything loads
only the standard library.
"""

from importlib import import_module

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from ._allocator import (
        Placement,
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
    from ._interface import (
        Decision,
        Interface,
        InterfaceLike,
        Policy,
    )
    from ._node import (
        Assignment,
        FamilyAssignment,
        Node,
        RestoreResult,
    )
    from ._node_allocator import NodeAllocator
    from ._policy import (
        ExtraBitsPolicy,
        FixedPolicy,
        PodsPolicy,
        SafePolicy,
        TalosPolicy,
    )
    from ._prefix import (
        AddressLike,
        Prefix,
        PrefixLike,
    )
    from ._provider import ProviderPolicy
    from ._stats import (
        Allocation,
        AllocatorStatistics,
        PoolStatistics,
    )

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

#: Where each public name is defined.
_SOURCES = {
    "AddressLike": "_prefix",
    "Allocation": "_stats",
    "AllocatorStatistics": "_stats",
    "Assignment": "_node",
    "ConfigurationError": "_errors",
    "Decision": "_interface",
    "ExtraBitsPolicy": "_policy",
    "FamilyAssignment": "_node",
    "FixedPolicy": "_policy",
    "Interface": "_interface",
    "InterfaceLike": "_interface",
    "InvalidPrefixError": "_errors",
    "Ipv6AllocError": "_errors",
    "Node": "_node",
    "NodeAllocator": "_node_allocator",
    "NotAllocatedError": "_errors",
    "NotInPoolError": "_errors",
    "Placement": "_allocator",
    "PodsPolicy": "_policy",
    "Policy": "_interface",
    "PolicyError": "_errors",
    "PoolExhaustedError": "_errors",
    "PoolStatistics": "_stats",
    "Prefix": "_prefix",
    "PrefixAllocator": "_allocator",
    "PrefixConflictError": "_errors",
    "PrefixLike": "_prefix",
    "ProviderPolicy": "_provider",
    "RestoreResult": "_node",
    "SafePolicy": "_policy",
    "SnapshotError": "_errors",
    "TalosPolicy": "_policy",
    "UnknownNodeError": "_errors",
    "UnknownPoolError": "_errors",
}


def __getattr__(name: str) -> object:
    """Load a public name from its module on first use (PEP 562)."""
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module 'ipv6alloc' has no attribute {name!r}")
    value: object = getattr(import_module(f"ipv6alloc.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
