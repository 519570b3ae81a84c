"""Every exception ipv6alloc raises.

The tree::

    Ipv6AllocError                      base of everything raised on purpose
    ├── InvalidPrefixError (ValueError)     text or object that is not a valid prefix/address
    ├── ConfigurationError (ValueError)     an allocator or policy set up with impossible settings
    ├── PolicyError (ValueError)            a policy cannot place pods in a node's subnet
    ├── SnapshotError (ValueError)          a snapshot that does not describe a valid state
    ├── PrefixConflictError (ValueError)    the prefix overlaps an allocation, reservation or pool
    ├── NotInPoolError (ValueError)         no pool contains the prefix
    ├── UnknownPoolError (LookupError)      ``pool=`` names no pool of the allocator
    ├── NotAllocatedError (LookupError)     releasing or asking for a prefix that is not allocated
    ├── UnknownNodeError (LookupError)      a node name the node allocator does not know
    └── PoolExhaustedError                  no free block of the requested length is left

Each message states the rule that was broken and quotes the input, cut after 40 characters.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "ConfigurationError",
    "InvalidPrefixError",
    "Ipv6AllocError",
    "NotAllocatedError",
    "NotInPoolError",
    "PolicyError",
    "PoolExhaustedError",
    "PrefixConflictError",
    "SnapshotError",
    "UnknownNodeError",
    "UnknownPoolError",
    "quote",
]

_QUOTE_LIMIT = 40


def quote(value: object, *, use_repr: bool = False) -> str:
    """Quote a user's input for an error message, cut after 40 characters.

    The value is read through ``str()`` (``repr()`` with ``use_repr``). An int too long for
    decimal text (see ``sys.set_int_max_str_digits``) is shown in hex, a container holding one
    by its type name: a message never fails to build.

    >>> quote("2001:db8::/64")
    "'2001:db8::/64'"
    >>> quote("x" * 50)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"
    >>> print(quote("64", use_repr=True), quote(10**5000))
    "'64'" '0x31e20801036510f3c591fde5361dc619987896...'
    """
    if isinstance(value, str) and not use_repr:
        text = value
    else:
        try:
            text = repr(value) if use_repr else str(value)
        except ValueError:  # an int beyond the decimal conversion limit, maybe inside a container
            text = f"{value:#x}" if isinstance(value, int) else f"<{type(value).__name__}>"
    if len(text) > _QUOTE_LIMIT:
        text = text[:_QUOTE_LIMIT] + "..."
    return repr(text)


class Ipv6AllocError(Exception):
    """Base class of every error ipv6alloc raises on purpose."""


class InvalidPrefixError(Ipv6AllocError, ValueError):
    """The input is not a valid prefix or address (bad text, host bits, zone id, length)."""


class ConfigurationError(Ipv6AllocError, ValueError):
    """An allocator or policy was configured with settings that cannot work."""


class PolicyError(Ipv6AllocError, ValueError):
    """A mask policy cannot place pod prefixes in the given subnet; the message says why."""


class SnapshotError(Ipv6AllocError, ValueError):
    """A snapshot does not describe a valid allocator state."""


class PrefixConflictError(Ipv6AllocError, ValueError):
    """The prefix overlaps an allocation, a reservation or a pool it may not touch."""


class NotInPoolError(Ipv6AllocError, ValueError):
    """No pool of the allocator contains the prefix."""


class UnknownPoolError(Ipv6AllocError, LookupError):
    """The ``pool=`` argument names a prefix that is not one of the allocator's pools."""


class NotAllocatedError(Ipv6AllocError, LookupError):
    """The prefix is not allocated (nothing to release)."""


class UnknownNodeError(Ipv6AllocError, LookupError):
    """The node allocator holds nothing for this node name."""


class PoolExhaustedError(Ipv6AllocError):
    """No free block of the requested length is left; the message names the pool and length."""


def show_as(package: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Show the classes ``names`` of ``namespace`` defined below ``package`` as ``package``'s.

    Users import them from the package: tracebacks and reprs say ``ipv6alloc.PoolExhaustedError``,
    not ``ipv6alloc._errors.PoolExhaustedError``, as httpx does, and pickle finds them there.
    The core's errors and each edge package's public classes go through this.
    """
    for name in names:
        value = namespace[name]
        if isinstance(value, type) and value.__module__.startswith(f"{package}."):
            value.__module__ = package


# Pickle finds the errors in ``ipv6alloc`` too: the package loads each name on first use.
show_as("ipv6alloc", globals(), __all__)
