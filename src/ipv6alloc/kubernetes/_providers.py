"""Subnets and policies per provider prefix: :class:`ProviderMap`.

"Every node address in 2a01:4f8::/32 sits on a /64": a provider map knows the on-link prefix
length per provider prefix, so a node's subnet follows from its address. An entry may also name
the mask policy for subnets inside its prefix; :meth:`ProviderMap.policy` gathers those into a
:class:`~ipv6alloc.ProviderPolicy`. Entries are validated when the map is built, and read from
JSON or YAML with :meth:`ProviderMap.load`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from typing import IO, TYPE_CHECKING, Final, NamedTuple

from .._errors import ConfigurationError, InvalidPrefixError, quote
from .._interface import first_address
from .._policy import ExtraBitsPolicy, FixedPolicy, PodsPolicy, SafePolicy, TalosPolicy
from .._prefix import Prefix, address_text
from .._provider import ProviderPolicy
from ._read import KubeNode, describe
from ._text import parse_documents, read_text

if TYPE_CHECKING:
    import os

    from .._interface import Policy

__all__ = ["ProviderMap"]


class _Entry(NamedTuple):
    prefix: Prefix
    prefixlen: int
    policy: Policy | None


#: Policy names a provider map entry may give: the class, the option a bare value sets (None:
#: options only as a mapping), and every option the class takes.
_POLICIES: Final[dict[str, tuple[Callable[..., Policy], str | None, tuple[str, ...]]]] = {
    "talos": (TalosPolicy, None, ()),
    "safe": (SafePolicy, None, ("min_pod_addresses",)),
    "fixed": (FixedPolicy, "prefixlen", ("prefixlen", "min_prefixlen", "max_prefixlen")),
    "pods": (PodsPolicy, "max_pods", ("max_pods", "min_prefixlen", "max_prefixlen")),
    "extra-bits": (ExtraBitsPolicy, "bits", ("bits", "min_prefixlen", "max_prefixlen")),
}
_KEYS = ("prefix", "prefixlen", "policy")


class ProviderMap:
    """Subnets from provider prefixes: "every node address in 2a01:4f8::/32 sits on a /64".

    Each entry is a mapping with ``prefix`` (an IPv6 prefix), ``prefixlen`` (the on-link length
    of node addresses inside it, from the prefix's own length to 128) and optionally
    ``policy``. A node's subnet is each of its IPv6 addresses with the ``prefixlen`` of the
    most specific entry containing it. :meth:`policy` builds a
    :class:`~ipv6alloc.ProviderPolicy` from the entries that name a policy.

    >>> providers = ProviderMap([
    ...     {"prefix": "2a01:4f8::/32", "prefixlen": 64},
    ...     {"prefix": "2a01:4f8:c0c::/48", "prefixlen": 64, "policy": {"pods": 256}},
    ...     {"prefix": "2a02:a:152::/48", "prefixlen": 121, "policy": "talos"},
    ... ])
    >>> providers.subnets(KubeNode("w1", addresses=("10.0.0.5", "2a02:a:152:202::100")))
    ['2a02:a:152:202::100/121']
    >>> providers.subnets(KubeNode("w2", addresses=("2001:db8::5",))) is None
    True

    A policy is a name (``"talos"``, ``"safe"``), a name with a value (``{"fixed": 80}``,
    ``{"pods": 256}``, ``{"extra-bits": 16}``) or a name with options, as the policy class
    takes them (``{"safe": {"min_pod_addresses": 64}}``, ``{"fixed": {"prefixlen": 80,
    "max_prefixlen": 120}}``), or a policy object.

    Args:
        entries: the entries, or a mapping ``{"providers": [entries]}`` as in a file.

    Raises:
        ConfigurationError: the entries are not a list of mappings, or an entry has an unknown
            or missing key, a prefix that is not an IPv6 prefix (or appears twice), a
            ``prefixlen`` out of range, or a policy that is unknown or refuses its options.
            The message names the entry by its index.
    """

    __slots__ = ("_entries", "_longest_first")

    def __init__(self, entries: Iterable[Mapping[str, object]] | Mapping[str, object]) -> None:
        items = _entry_list(entries)
        parsed: list[_Entry] = []
        seen: dict[Prefix, int] = {}
        for index, item in enumerate(items):
            entry = _parse_entry(index, item)
            first = seen.setdefault(entry.prefix, index)
            if first != index:
                raise ConfigurationError(
                    f"provider map entry {index}: prefix {entry.prefix} appears twice "
                    f"(also entry {first})"
                )
            parsed.append(entry)
        self._entries = tuple(parsed)
        # Longest prefix first: the first entry that contains an address is the most specific.
        self._longest_first = tuple(
            sorted(parsed, key=lambda e: (-e.prefix.prefixlen, e.prefix.value))
        )

    @classmethod
    def load(cls, source: str | bytes | os.PathLike[str] | IO[str] | IO[bytes]) -> ProviderMap:
        """Read a provider map from JSON or YAML: a list of entries, or ``{"providers": [...]}``.

        >>> ProviderMap.load('[{"prefix": "2a01:4f8::/32", "prefixlen": 64}]')
        ProviderMap([2a01:4f8::/32 on /64])
        >>> ProviderMap.load('{"providers": [{"prefix": "2a01:4f8::/32"}]}')
        Traceback (most recent call last):
        ...
        ipv6alloc.ConfigurationError: provider map entry 0: missing key 'prefixlen'

        Args:
            source: the text (``str`` or ``bytes``), or a file: a ``pathlib.Path`` (or other
                ``os.PathLike``) or an open file. A ``str`` is always text, never a path.

        Returns:
            The provider map.

        Raises:
            ConfigurationError: the text is not JSON or YAML (or is YAML and PyYAML is
                missing), holds more than one document, or the entries are invalid (see the
                class). The message starts with the file's name.
            OSError: the file cannot be read.
            TypeError: ``source`` is neither text, a path nor a readable file.
        """
        origin = ""
        if isinstance(source, str | bytes):
            text: str | bytes = source
        else:
            text, name = read_text(source)
            origin = f"{name}: "
        documents = [
            doc
            for doc in parse_documents(
                text, lambda m: ConfigurationError(f"{origin}provider map: {m}")
            )
            if doc is not None
        ]
        if len(documents) != 1:
            raise ConfigurationError(
                f"{origin}provider map: expected one document, found {len(documents)}"
            )
        try:
            return cls(documents[0])  # type: ignore[arg-type]  # checked when the map is built
        except ConfigurationError as exc:
            if not origin:
                raise
            raise ConfigurationError(f"{origin}{exc}") from None

    @property
    def entries(self) -> tuple[tuple[Prefix, int, Policy | None], ...]:
        """The entries as ``(prefix, prefixlen, policy)``, in the order given."""
        return tuple((e.prefix, e.prefixlen, e.policy) for e in self._entries)

    def _match(self, value: int) -> _Entry | None:
        for entry in self._longest_first:
            if first_address(value, entry.prefix.prefixlen) == entry.prefix.value:
                return entry
        return None

    def _matches(self, node: KubeNode) -> list[tuple[str, _Entry]]:
        """``(address text, entry)`` for each IPv6 address of the node that an entry contains."""
        found: list[tuple[str, _Entry]] = []
        for text in node.addresses:
            try:
                address = Prefix.from_address(text)
            except InvalidPrefixError:
                continue  # KubeNode read its addresses checked; one built by hand may not be
            if address.version != 6 or address.value >> 32 == 0xFFFF:  # IPv4 or IPv4-mapped
                continue
            entry = self._match(address.value)
            if entry is not None:
                found.append((address_text(6, address.value), entry))
        return found

    def subnets(self, node: KubeNode) -> list[str] | None:
        """Each IPv6 address of the node with the most specific entry's ``prefixlen``.

        Runtime complexity: O(addresses x entries).

        Returns:
            ``address/prefixlen`` texts in the order of the node's addresses, or None when no
            entry contains any of them.
        """
        found = [f"{text}/{entry.prefixlen}" for text, entry in self._matches(node)]
        return found or None

    def describe(self, node: KubeNode) -> str:
        """``"provider map PREFIX"``: the entries that hold the node's addresses."""
        prefixes = dict.fromkeys(str(entry.prefix) for _, entry in self._matches(node))
        return f"provider map {', '.join(prefixes)}".rstrip()

    def policy(self, default: Policy | None = None) -> ProviderPolicy:
        """A :class:`~ipv6alloc.ProviderPolicy` with a rule for each entry that names a policy.

        A subnet gets the policy of the most specific entry *that names one*; an entry without
        a policy does not hide the policy of an entry around it. Subnets no such entry holds
        get ``default``.

        >>> providers = ProviderMap([
        ...     {"prefix": "2a01:4f8::/32", "prefixlen": 64, "policy": {"fixed": 80}},
        ...     {"prefix": "2a02:a:152::/48", "prefixlen": 121, "policy": "talos"},
        ... ])
        >>> providers.policy().choose("2a02:a:152:202::100/121").policy
        'provider(2a02:a:152::/48)/talos'

        Args:
            default: the policy for other subnets (:class:`~ipv6alloc.SafePolicy` if omitted).

        Returns:
            The policy.

        Raises:
            ConfigurationError: ``default`` has no ``choose`` method.
        """
        rules = [(e.prefix, e.policy) for e in self._entries if e.policy is not None]
        return ProviderPolicy(rules, default)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        shown = [
            f"{e.prefix} on /{e.prefixlen}" + ("" if e.policy is None else f" with {e.policy!r}")
            for e in self._entries
        ]
        return f"ProviderMap([{', '.join(shown)}])"


def _entry_list(entries: object) -> list[object]:
    """The entries of a provider map: a list, or the list under ``providers``."""
    if isinstance(entries, Mapping):
        extra = [key for key in entries if key != "providers"]
        if extra or "providers" not in entries:
            raise ConfigurationError(
                "a provider map must be a list of entries or a mapping with the one key "
                f"'providers', not a mapping with keys {quote(sorted(map(str, entries)))}"
            )
        entries = entries["providers"]
    if isinstance(entries, str | bytes | bytearray) or not isinstance(entries, Iterable):
        raise ConfigurationError(
            f"a provider map must be a list of entries, not {describe(entries)}"
        )
    return list(entries)


def _parse_entry(index: int, item: object) -> _Entry:
    where = f"provider map entry {index}"
    if not isinstance(item, Mapping):
        raise ConfigurationError(
            f"{where} must be a mapping with prefix and prefixlen, not {describe(item)}"
        )
    for key in item:
        if key not in _KEYS:
            raise ConfigurationError(
                f"{where}: unknown key {quote(key)} (expected prefix, prefixlen, policy)"
            )
    for key in ("prefix", "prefixlen"):
        if key not in item:
            raise ConfigurationError(f"{where}: missing key {quote(key)}")
    prefix = _prefix(where, item["prefix"])
    where = f"{where} ({prefix})"
    prefixlen = item["prefixlen"]
    if type(prefixlen) is not int or not prefix.prefixlen <= prefixlen <= prefix.max_prefixlen:
        raise ConfigurationError(
            f"{where}: prefixlen must be an integer from {prefix.prefixlen} (the prefix's "
            f"length) to 128, not {describe(prefixlen)}"
        )
    spec = item.get("policy")
    policy = None if spec is None else _policy(where, spec)
    return _Entry(prefix, prefixlen, policy)


def _prefix(where: str, value: object) -> Prefix:
    if not isinstance(value, str | Prefix | ipaddress.IPv6Network):
        raise ConfigurationError(
            f"{where}: prefix must be IPv6 prefix text (such as 2a01:4f8::/32), "
            f"not {describe(value)}"
        )
    if isinstance(value, str) and "/" not in value:  # Prefix.coerce would read an address
        raise ConfigurationError(
            f"{where}: prefix {quote(value)} has no length (expected such as 2a01:4f8::/32)"
        )
    try:
        prefix = Prefix.coerce(value)
    except InvalidPrefixError as exc:
        raise ConfigurationError(f"{where}: prefix {exc}") from None
    if prefix.version != 6:
        raise ConfigurationError(f"{where}: prefix {quote(prefix)} is IPv4; it must be IPv6")
    return prefix


def _policy(where: str, spec: object) -> Policy:
    """The policy an entry names: see :class:`ProviderMap`."""
    if not isinstance(spec, str | Mapping) and callable(getattr(spec, "choose", None)):
        return spec  # type: ignore[return-value]  # a policy object, duck-typed as ProviderPolicy does
    name: object
    value: object
    if isinstance(spec, str):
        name, value = spec, None
    elif isinstance(spec, Mapping) and len(spec) == 1:
        ((name, value),) = spec.items()
    else:
        raise ConfigurationError(
            f"{where}: policy must be a name ('talos', 'safe') or a mapping with one name "
            f"({{'fixed': 80}}), not {describe(spec)}"
        )
    known = _POLICIES.get(name) if isinstance(name, str) else None
    if known is None:
        raise ConfigurationError(
            f"{where}: unknown policy {quote(name)} (expected one of {', '.join(_POLICIES)})"
        )
    build, bare, options = known
    if value is None:
        arguments: dict[str, object] = {}
    elif isinstance(value, Mapping):
        arguments = {}
        for option, setting in value.items():
            if option not in options:
                allowed = ", ".join(options) or "none"
                raise ConfigurationError(
                    f"{where}: policy {name!r} has no option {quote(option)} "
                    f"(its options: {allowed})"
                )
            arguments[option] = setting
    elif bare is not None:
        arguments = {bare: value}
    else:
        raise ConfigurationError(
            f"{where}: policy {name!r} takes no value, only options as a mapping "
            f"({{{name!r}: {{...}}}}), not {describe(value)}"
        )
    if bare is not None and bare not in arguments:
        raise ConfigurationError(
            f"{where}: policy {name!r} needs {bare}, such as {{{name!r}: 80}} "
            f"or {{{name!r}: {{{bare!r}: ...}}}}"
        )
    try:
        return build(**arguments)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: policy {name!r}: {exc}") from None
