"""ipv6alloc: per-node pod prefixes carved from each Kubernetes node's own provider subnet.

The public API is re-exported here; every other module is private.
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
from ._prefix import AddressLike, Prefix, PrefixLike

__all__ = [
    "AddressLike",
    "Allocation",
    "AllocatorStatistics",
    "ConfigurationError",
    "InvalidPrefixError",
    "Ipv6AllocError",
    "NotAllocatedError",
    "NotInPoolError",
    "Placement",
    "PolicyError",
    "PoolExhaustedError",
    "PoolStatistics",
    "Prefix",
    "PrefixAllocator",
    "PrefixConflictError",
    "PrefixLike",
    "SnapshotError",
    "UnknownNodeError",
    "UnknownPoolError",
]

__version__ = "0.1.0.dev0"
