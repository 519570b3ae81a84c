"""The documentation: every ``>>>`` example in ``docs/*.md`` runs, and every local link resolves.

The pages show real behaviour, so their examples are doctests: a page whose output drifts from
the code fails here. Links are checked only when they point at a local file (``](path)`` without
a scheme); a ``#fragment`` is ignored.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

#: Loopback sockets left open fail the test that left them (see conftest).
pytestmark = pytest.mark.usefixtures("collect_garbage")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
#: Pages whose links are checked: the docs and the README (skipped while it does not exist).
LINKED = [*PAGES, ROOT / "README.md"]

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def local_links(text: str) -> list[str]:
    """The targets of the Markdown links in ``text`` that point at local files.

    Code (fenced blocks and inline spans) is skipped; so are links with a scheme
    (``https:``, ``mailto:``) and links to a fragment of the same page (``#...``).

    >>> local_links("See [a](a.md#x), [b](https://b.org), [c](#c) and `[d](d.md)`.")
    ['a.md']
    """
    text = _INLINE_CODE.sub("", _FENCE.sub("", text))
    targets = []
    for match in _LINK.finditer(text):
        target = match.group(1).split("#", 1)[0]
        if target and not _SCHEME.match(target):
            targets.append(target)
    return targets


def test_pages_exist() -> None:
    assert PAGES, f"no Markdown pages found in {DOCS}"


@pytest.mark.parametrize(
    "page", [*PAGES, ROOT / "README.md"], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_examples_run(page: Path) -> None:
    failed, _ = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        encoding="utf-8",
    )
    assert failed == 0, f"{failed} example(s) in {page.name} failed (see the captured output)"


@pytest.mark.parametrize("page", LINKED, ids=lambda p: p.name)
def test_local_links_resolve(page: Path) -> None:
    if not page.exists():
        pytest.skip(f"{page.name} does not exist yet")
    missing = [
        target
        for target in local_links(page.read_text(encoding="utf-8"))
        if not (page.parent / target).exists()
    ]
    assert not missing, f"{page.name} links to missing file(s): {missing}"


def test_link_finder_ignores_code_and_urls() -> None:
    text = "\n".join(
        [
            "[guide](guide.md) and [up](../README.md#install)",
            "```python",
            "x = d[k](v)  # [not](a-link.md)",
            "```",
            "[site](http://example.org) [mail](mailto:a@b.c) [here](#top)",
            '[titled](page.md "Title")',
        ]
    )
    assert local_links(text) == ["guide.md", "../README.md", "page.md"]
