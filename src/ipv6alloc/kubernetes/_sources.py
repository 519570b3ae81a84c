"""Where each node's provider subnets come from: subnet sources and :func:`find_subnets`.

A node's provider subnet is its IPv6 address with the on-link prefix length its host reports
(``2a02:a:152:202::100/121``); the Node object does not hold it. A *subnet source* finds it:

- :class:`AnnotationSource` reads an annotation (``ipv6alloc.io/node-subnets`` by default) of
  comma-separated ``address/len`` entries;
- :class:`~ipv6alloc.kubernetes.ProviderMap` (in :mod:`ipv6alloc.kubernetes._providers`)
  knows the on-link length per provider prefix ("every node address in 2a01:4f8::/32 sits on
  a /64"), and may name a mask policy per prefix;
- :class:`CallableSource` wraps any function (one that asks the Talos API or a cloud's metadata
  service).

:func:`find_subnets` tries the sources in order. A source that raises stops the search: the node
must wait (or, for malformed data, is in error); it never falls through to the next source or
to the cluster pool, because ``spec.podCIDRs`` is write-once and a fallback would be permanent.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeAlias

from .._errors import ConfigurationError, InvalidPrefixError, quote
from .._interface import Interface
from ._errors import SubnetSourceError
from ._read import KubeNode, describe
from ._text import one_line

if TYPE_CHECKING:
    from .._interface import InterfaceLike

__all__ = [
    "DEFAULT_SUBNET_ANNOTATION",
    "AnnotationSource",
    "CallableSource",
    "LookupStatus",
    "SubnetFunction",
    "SubnetLookup",
    "SubnetSource",
    "find_subnets",
]

#: The annotation :class:`AnnotationSource` reads unless told another key.
DEFAULT_SUBNET_ANNOTATION: Final = "ipv6alloc.io/node-subnets"

#: What :func:`find_subnets` made of a node: ``"ok"`` (subnets found, or no source knew the
#: node), ``"wait"`` (a source failed: retry later) or ``"error"`` (a source holds malformed
#: data for the node: fix it).
LookupStatus: TypeAlias = Literal["ok", "wait", "error"]
#: A function that finds a node's subnets: ``address/len`` texts (or ``Interface`` values), or
#: None when it knows nothing.
SubnetFunction: TypeAlias = Callable[[KubeNode], "Iterable[InterfaceLike] | InterfaceLike | None"]


class SubnetSource(Protocol):
    """What every subnet source provides: :meth:`subnets`.

    A source may also have a ``describe(node) -> str`` method: the short name
    :attr:`SubnetLookup.source` shows (``"annotation ipv6alloc.io/node-subnets"``). Without one,
    its type's name is shown.
    """

    def subnets(self, node: KubeNode) -> Sequence[InterfaceLike] | None:
        """The node's provider subnets in interface form (``address/len``), most preferred first.

        Text is usual; anything :meth:`Interface.parse <ipv6alloc.Interface.parse>` reads will
        do.

        Args:
            node: the node.

        Returns:
            The subnets, or None (or an empty list) when this source knows nothing of the node:
            the next source is asked.

        Raises:
            SubnetSourceError: the source holds malformed data for the node (it becomes the
                node's ``"error"``). Any other exception makes the node wait.
        """
        ...


# -- the annotation ------------------------------------------------------------------------------


class AnnotationSource:
    """Subnets from an annotation of comma-separated ``address/len`` entries.

    White space around entries is ignored, and so are empty entries; an annotation that is
    absent or holds no entry is no answer. Every other entry must be an IPv6 interface
    (``Interface.parse``): a malformed one raises :class:`SubnetSourceError`, never skipped.

    >>> source = AnnotationSource()
    >>> node = KubeNode("w1", annotations={
    ...     "ipv6alloc.io/node-subnets": "2a02:a:152:202::100/121, 2001:db8:1::5/64"})
    >>> source.subnets(node)
    [Interface('2a02:a:152:202::100/121'), Interface('2001:db8:1::5/64')]
    >>> source.subnets(KubeNode("w2", annotations={"ipv6alloc.io/node-subnets": "2001:db8::5"}))
    Traceback (most recent call last):
    ...
    ipv6alloc.kubernetes.SubnetSourceError: node 'w2': entry '2001:db8::5' of annotation \
ipv6alloc.io/node-subnets: '2001:db8::5' has no prefix length (expected the node's address/len)

    Args:
        key: the annotation's key.

    Raises:
        ConfigurationError: ``key`` is not non-empty text.
    """

    __slots__ = ("_key",)

    def __init__(self, key: str = DEFAULT_SUBNET_ANNOTATION) -> None:
        given: object = key
        if not isinstance(given, str) or not given:
            raise ConfigurationError(
                f"an annotation key must be non-empty text, not {describe(given)}"
            )
        self._key = key

    @property
    def key(self) -> str:
        """The annotation's key."""
        return self._key

    def subnets(self, node: KubeNode) -> list[Interface] | None:
        """The entries of the node's annotation, parsed, or None when it has none.

        Runtime complexity: O(length of the annotation).

        Raises:
            SubnetSourceError: an entry is not an IPv6 ``address/len``; the message names the
                node, the entry and the annotation.
        """
        value = node.annotations.get(self._key)
        if value is None:
            return None
        found: list[Interface] = []
        for piece in value.split(","):
            entry = piece.strip()
            if not entry:
                continue
            try:
                found.append(Interface.parse(entry))
            except InvalidPrefixError as exc:
                raise SubnetSourceError(
                    f"node {quote(node.name)}: entry {quote(entry)} of annotation "
                    f"{self._key}: {exc}"
                ) from None
        return found or None

    def describe(self, node: KubeNode) -> str:
        """``"annotation KEY"``."""
        return f"annotation {self._key}"

    def __repr__(self) -> str:
        return f"AnnotationSource({self._key!r})"


# -- any function --------------------------------------------------------------------------------


class CallableSource:
    """Subnets from any function of a :class:`KubeNode`: ``address/len`` texts, or None.

    The function may ask the Talos API or a cloud's metadata service; if it raises,
    :func:`find_subnets` makes the node wait. A single text counts as one subnet.

    >>> def talos(node):
    ...     return ["2001:db8:0:1::7/64"] if node.name == "w1" else None
    >>> source = CallableSource(talos)
    >>> source.subnets(KubeNode("w1")), source.subnets(KubeNode("w2"))
    (['2001:db8:0:1::7/64'], None)
    >>> source.describe(KubeNode("w1"))
    'talos'

    Args:
        func: the function.
        name: what :attr:`SubnetLookup.source` shows; the function's name if omitted.

    Raises:
        TypeError: ``func`` is not callable.
    """

    __slots__ = ("_func", "_name")

    def __init__(self, func: SubnetFunction, name: str | None = None) -> None:
        if not callable(func):
            raise TypeError(f"a subnet source function must be callable, not {describe(func)}")
        self._func = func
        self._name = name or _callable_name(func)

    @property
    def name(self) -> str:
        """The name :attr:`SubnetLookup.source` shows."""
        return self._name

    def subnets(self, node: KubeNode) -> list[InterfaceLike] | None:
        """Call the function.

        Raises:
            SubnetSourceError: the function returned something that is neither None, text nor
                an iterable of texts.
            Exception: whatever the function raises.
        """
        return _entries(self._func(node), node, self)

    def describe(self, node: KubeNode) -> str:
        """The function's name."""
        return self._name

    def __repr__(self) -> str:
        return f"CallableSource({self._name})"


def _callable_name(func: object) -> str:
    """``ask_talos``, ``Talos.subnets`` or ``<lambda>``: the qualified name without locals."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if not isinstance(name, str):
        return type(func).__name__
    return name.rpartition("<locals>.")[2]


# -- the search ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubnetLookup:
    """What :func:`find_subnets` found for one node.

    Attributes:
        subnets: The node's provider subnets, most preferred first (empty unless ``"ok"``).
        source: The short name of the source that answered, failed or held bad data
            (``"annotation ipv6alloc.io/node-subnets"``, ``"provider map 2a01:4f8::/32"``, a
            function's name), or None when no source knew the node.
        status: ``"ok"``: ``subnets`` holds the answer, or is empty when no source knew the
            node (the cluster pool may then serve it); ``"wait"``: a source failed, retry
            later, and never fall back to the cluster pool; ``"error"``: a source holds
            malformed data for the node, which someone must fix.
        reason: One sentence saying what happened.
    """

    subnets: tuple[Interface, ...]
    source: str | None
    status: LookupStatus
    reason: str


def find_subnets(node: KubeNode, sources: Iterable[SubnetSource | SubnetFunction]) -> SubnetLookup:
    """Ask the sources in order; the first that returns subnets answers.

    A source that returns None or nothing passes to the next. A source that raises stops the
    search: :class:`SubnetSourceError` (malformed data) gives ``"error"`` and any other
    exception ``"wait"``; so does an answer that is not a list of IPv6 ``address/len`` texts
    (``"error"``). When no source knows the node the status is ``"ok"`` with no subnets.
    Runtime complexity: the sources' own, plus O(subnets found).

    >>> from ipv6alloc.kubernetes import ProviderMap
    >>> node = KubeNode("w1", addresses=("2a01:4f8:c0c:1::5",))
    >>> providers = ProviderMap([{"prefix": "2a01:4f8::/32", "prefixlen": 64}])
    >>> find_subnets(node, [AnnotationSource(), providers])
    SubnetLookup(subnets=(Interface('2a01:4f8:c0c:1::5/64'),), source='provider map \
2a01:4f8::/32', status='ok', reason='provider map 2a01:4f8::/32 gave 2a01:4f8:c0c:1::5/64')
    >>> def down(node):
    ...     raise TimeoutError("metadata service timed out")
    >>> find_subnets(node, [down, providers]).reason
    'down raised TimeoutError: metadata service timed out; retry later'

    Args:
        node: the node.
        sources: subnet sources, or plain functions (wrapped in :class:`CallableSource`).

    Returns:
        The lookup.

    Raises:
        TypeError: a source is neither a subnet source nor callable.
    """
    subnets, source, name, status, reason = _lookup(node, sources)
    if name is None and source is not None:
        name = _name(source, node)
    if reason is None:  # found: say which
        reason = f"{name} gave {', '.join(map(str, subnets))}"
    return SubnetLookup(subnets, name, status, reason)


def _lookup(
    node: KubeNode, sources: Iterable[SubnetSource | SubnetFunction]
) -> tuple[tuple[Interface, ...], SubnetSource | None, str | None, LookupStatus, str | None]:
    """:func:`find_subnets` without its text when subnets are found (the planner's).

    Returns ``(subnets, source, name, status, reason)``: the source that answered (None when
    none knew the node); its name and the reason, both None when it gave subnets (the planner,
    which says nothing of those, writes no text per node), each source's ``describe`` called
    at most once.
    """
    for given in sources:
        source = _as_source(given)
        try:
            entries = _entries(source.subnets(node), node, source)
        except SubnetSourceError as exc:
            return (), source, _name(source, node), "error", str(exc)
        except Exception as exc:  # any failure of the source: the node waits, nothing falls back
            name = _name(source, node)
            said = f": {one_line(str(exc))}" if str(exc) else ""
            reason = f"{name} raised {type(exc).__name__}{said}; retry later"
            return (), source, name, "wait", reason
        if not entries:
            continue
        found: dict[Interface, None] = {}
        for entry in entries:
            try:
                found[Interface.parse(entry)] = None
            except InvalidPrefixError as exc:
                name = _name(source, node)
                reason = f"{name} gave node {quote(node.name)} a bad subnet: {exc}"
                return (), source, name, "error", reason
        return tuple(found), source, None, "ok", None
    return (), None, None, "ok", f"no subnet source knew node {quote(node.name)}"


def _entries(answer: object, node: KubeNode, source: object) -> list[Any] | None:
    """A source's answer as a list (None stays None): one subnet alone counts as a list of one.

    Raises:
        SubnetSourceError: the answer is neither None, one subnet nor an iterable of them.
        Exception: whatever iterating the answer raises (a generator's failure), unchanged.
    """
    if answer is None:
        return None
    if type(answer) is list:  # the usual (AnnotationSource's), without the ABC checks below
        return answer
    if isinstance(answer, str | Interface | ipaddress.IPv6Interface):
        return [answer]
    if isinstance(answer, bytes | bytearray | Mapping) or not isinstance(answer, Iterable):
        raise SubnetSourceError(
            f"node {quote(node.name)}: {_name(source, node)} returned {describe(answer)}; "
            "expected a list of address/len texts or None"
        )
    return list(answer)


def _as_source(given: object) -> SubnetSource:
    if callable(getattr(given, "subnets", None)):
        return given  # type: ignore[return-value]  # duck-typed: it has subnets()
    if callable(given):
        return CallableSource(given)
    raise TypeError(
        f"a subnet source must have a subnets(node) method or be callable, not {describe(given)}"
    )


def _name(source: object, node: KubeNode) -> str:
    """The source's short name: its ``describe(node)``, else its type's name."""
    describe_node = getattr(source, "describe", None)
    if callable(describe_node):
        try:
            name = describe_node(node)
        except Exception:  # a name is not worth failing the lookup for
            name = None
        if isinstance(name, str) and name:
            return name
    return type(source).__name__
