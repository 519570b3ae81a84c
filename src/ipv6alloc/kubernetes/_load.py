"""Reading many Nodes: :func:`read_nodes`, :func:`parse_nodes` (text), :func:`load_nodes` (files).

Each item goes through :func:`~ipv6alloc.kubernetes._read.read_one`; this module finds the items
(a ``NodeList``, a ``kind: List``, a single Node, a list, a client's list object, the documents
of a YAML stream), names each in messages (``document 1, item 3``) and refuses two Nodes of
the same name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .._errors import quote
from ._errors import NodeReadError
from ._read import KubeNode, describe, is_record, read_one
from ._text import parse_documents, read_text

if TYPE_CHECKING:
    import os
    from typing import IO

__all__ = ["load_nodes", "parse_nodes", "read_nodes"]


def read_nodes(source: object) -> list[KubeNode]:
    """Read every Node of a NodeList, a ``kind: List``, a single Node or a list of Nodes.

    ``source`` is already parsed: a mapping (what ``kubectl get nodes -o json`` prints, a
    ``NodeList``, or one Node), a list or other iterable of Nodes in any shape
    :func:`read_node` takes, or a client's list object (``V1NodeList``). Read text with
    :func:`parse_nodes` and files with :func:`load_nodes`. Runtime complexity: O(total size).

    >>> nodes = read_nodes({"kind": "List", "items": [
    ...     {"kind": "Node", "metadata": {"name": "w1"}},
    ...     {"kind": "Node", "metadata": {"name": "w2"}},
    ... ]})
    >>> [n.name for n in nodes]
    ['w1', 'w2']
    >>> read_nodes({"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "web"}}]})
    Traceback (most recent call last):
    ...
    ipv6alloc.kubernetes.NodeReadError: item 0 (name 'web') is not a Node: its kind is 'Pod'

    Args:
        source: the Nodes, in any of the shapes above.

    Returns:
        The nodes, in the order given.

    Raises:
        NodeReadError: an item is not a Node (see :func:`read_node`), two items have the same
            name, the list's ``items`` is not a list, or ``source`` is text, a path or
            anything else that is not a Node or a list of Nodes.
        Exception: whatever an iterator given as ``source`` raises (a client's ``list()``
            failing on the network, say), unchanged.
    """
    return _unique(_collect(source, ""))


def parse_nodes(text: str | bytes) -> list[KubeNode]:
    """Read Nodes from JSON or YAML text, as printed by ``kubectl get nodes -o json|yaml``.

    The text holds a NodeList, a ``kind: List``, a single Node or a list of Nodes. YAML may hold
    several documents, each one of those (empty documents are skipped); YAML needs PyYAML
    (``pip install 'ipv6alloc[kubernetes]'``), JSON only the standard library.
    Runtime complexity: O(len(text)).

    >>> [n.name for n in parse_nodes('{"kind": "Node", "metadata": {"name": "w1"}}')]
    ['w1']

    Args:
        text: the JSON or YAML text (bytes are read as UTF-8).

    Returns:
        The nodes, in the order given.

    Raises:
        NodeReadError: the text is empty, is neither JSON nor YAML, is not JSON and PyYAML is
            missing, or holds something that is not a Node (see :func:`read_nodes`).
    """
    return _parse(text, "")


def load_nodes(path_or_file: str | os.PathLike[str] | IO[str] | IO[bytes]) -> list[KubeNode]:
    """Read Nodes from a JSON or YAML file, as :func:`parse_nodes` reads text.

    >>> import io
    >>> [n.name for n in load_nodes(io.StringIO('{"kind": "List", "items": []}'))]
    []

    Args:
        path_or_file: a path, ``"-"`` for standard input, or an open file (text or binary).

    Returns:
        The nodes, in the order given.

    Raises:
        NodeReadError: as :func:`parse_nodes`; the message starts with the file's name.
        OSError: the file cannot be read.
        TypeError: ``path_or_file`` is neither a path nor a readable file.
    """
    text, name = read_text(path_or_file)
    return _parse(text, f"{name}: ")


def _parse(text: str | bytes, origin: str) -> list[KubeNode]:
    documents = parse_documents(text, lambda message: NodeReadError(origin + message))
    pairs: list[tuple[str, KubeNode]] = []
    try:
        for index, document in enumerate(documents):
            if document is not None:  # an empty YAML document
                prefix = f"document {index}, " if len(documents) > 1 else ""
                pairs.extend(_collect(document, prefix))
        return _unique(pairs)
    except NodeReadError as exc:
        raise NodeReadError(f"{origin}{exc}") from None


def _collect(source: object, prefix: str) -> list[tuple[str, KubeNode]]:
    """``(where, node)`` for every Node in ``source``; ``prefix`` starts each ``where``."""
    where = prefix.removesuffix(", ")
    if isinstance(source, str | bytes | bytearray) or _is_path(source):
        raise NodeReadError(
            f"expected Nodes, got {type(source).__name__} {quote(source)}: read text with "
            "parse_nodes() and files with load_nodes()"
        )
    if isinstance(source, Mapping):
        kind = source.get("kind")
        if kind in ("List", "NodeList") or (kind is None and "items" in source):
            return _items(source.get("items"), prefix)
        return [(where, read_one(source, where))]
    if isinstance(source, list | tuple):
        return _items(source, prefix)
    if is_record(source):
        items = getattr(source, "items", None)
        if isinstance(items, list | tuple):  # a client's list object (V1NodeList)
            return _items(items, prefix)
        if hasattr(source, "metadata") or not isinstance(source, Iterable):
            return [(where, read_one(source, where))]
        return _items(list(source), prefix)  # an iterator of Nodes, such as a client's list()
    raise NodeReadError(
        f"{where or 'the object'} is neither a Node nor a list of Nodes: got {describe(source)}"
    )


def _items(items: object, prefix: str) -> list[tuple[str, KubeNode]]:
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        where = prefix.removesuffix(", ") or "the list"
        raise NodeReadError(f"{where}: items must be a list of Nodes, not {describe(items)}")
    return [
        (f"{prefix}item {i}", read_one(item, f"{prefix}item {i}")) for i, item in enumerate(items)
    ]


def _unique(pairs: list[tuple[str, KubeNode]]) -> list[KubeNode]:
    seen: dict[str, str] = {}
    for where, node in pairs:
        first = seen.setdefault(node.name, where)
        if first != where:
            raise NodeReadError(
                f"{where}: node {quote(node.name)} appears twice (also {first or 'the object'})"
            )
    return [node for _, node in pairs]


def _is_path(value: object) -> bool:
    return hasattr(value, "__fspath__")
