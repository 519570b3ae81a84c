"""A griffe extension for the API reference: docstrings written for both pydoc and the site.

The docstrings hold runnable ``>>>`` examples (pytest runs them) in their text, not only in an
``Examples:`` section; Markdown would read their output as text (and ``['a', 'b']`` as a link).
This fences each run of example lines as a ``pycon`` block, and shows Sphinx-style roles
(``:class:`~ipv6alloc.Prefix```) as code (``Prefix``), before the docstring is rendered.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

#: An example starts at a ``>>>`` line and runs to the next blank line.
_EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)>>> ")
#: A Sphinx role: ``:class:`~ipv6alloc.Prefix``` or ``:meth:`Prefix.parse <x.Prefix.parse>```.
_ROLE = re.compile(r":(?:[a-z]+:)?[a-z]+:`~?(?P<target>[^`<]+?)(?:\s*<[^>]*>)?`")


def unrole(text: str) -> str:
    """Sphinx roles as inline code, as they read: the last dotted part when ``~`` asks for it.

    >>> unrole(":class:`~ipv6alloc.Prefix` and :meth:`NodeAllocator.assign`")
    '`Prefix` and `NodeAllocator.assign`'
    """

    def code(match: re.Match[str]) -> str:
        target = match.group("target").strip()
        if match.group(0).split("`", 1)[1].startswith("~"):
            target = target.rsplit(".", 1)[-1]
        return f"`{target}`"

    return _ROLE.sub(code, text)


def fence(text: str) -> str:
    r"""``text`` with each run of doctest lines inside a fenced ``pycon`` block.

    >>> fence("Look:\n\n>>> 1 + 1\n2\n\nDone.").splitlines()
    ['Look:', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'Done.']
    """
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    fenced = False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        match = None if fenced else _EXAMPLE.match(line)
        if match is None:
            out.append(line)
            i += 1
            continue
        indent = match.group("indent")
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fence the doctest examples of every docstring (see :func:`fence`)."""

    def on_object(self, *, obj: griffe.Object, loader: Any, **kwargs: Any) -> None:
        """Rewrite the object's docstring, if it has one."""
        _rewrite(obj)

    def on_package(self, *, pkg: griffe.Module, loader: Any, **kwargs: Any) -> None:
        """Rewrite the docstrings of a package's modules (the package's own included)."""
        for module in (pkg, *pkg.modules.values()):
            _rewrite(module)


def _rewrite(obj: griffe.Object) -> None:
    if obj.docstring is not None:
        obj.docstring.value = unrole(fence(obj.docstring.value))
