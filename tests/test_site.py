"""The documentation site as a reader sees it: built strictly, then opened in headless Chromium.

The build is ``mkdocs build --strict`` (a broken link, a missing reference or a docstring that
does not render fails it); Chromium (Debian's package, which ``.ci/run`` installs) opens pages
from disk and the tests check what they render, not the Markdown.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _screenshots() -> Any:
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "docs" / "screenshots.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCREENSHOTS = _screenshots()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return out


def rendered(site: Path, page: str) -> str:
    """The page's DOM after Chromium ran its scripts (what a reader's browser shows)."""
    done = SCREENSHOTS.run("--dump-dom", (site / page).as_uri())
    assert done.returncode == 0, done.stderr[-1000:]
    return str(done.stdout)


def test_the_home_page_renders_its_navigation_and_search(site: Path) -> None:
    dom = rendered(site, "index.html")
    assert "gives every Kubernetes node its pod prefixes" in dom
    for section in ("Tutorial", "How-to guides", "Reference", "Explanation"):
        assert section in dom, section
    assert 'name="query"' in dom  # the search box: the index is local (search/search_index.json)
    assert (site / "search" / "search_index.json").is_file()
    assert "fonts.googleapis.com" not in dom  # no web fonts: nothing is fetched at build or view


def test_a_reference_page_renders_the_docstrings(site: Path) -> None:
    dom = rendered(site, "reference/ipv6alloc.html")
    assert "NodeAllocator" in dom
    assert "Assign pod prefixes to nodes" in dom  # NodeAllocator's docstring
    assert "Prefix.parse" in dom
    assert ":class:" not in dom  # roles are shown as code, not as rST
    assert 'class="gp">&gt;&gt;&gt;' in dom  # doctests are highlighted code, prompts and all


def test_the_notebook_page_shows_its_stored_outputs(site: Path) -> None:
    dom = rendered(site, "notebooks/capacity-planning.html")
    assert "CapacityReport" in dom
    assert "data:image/png;base64," in dom  # a stored plot


def test_the_built_site_holds_the_benchmark_plots_the_pages_show(site: Path) -> None:
    performance = (site / "performance.html").read_text(encoding="utf-8")
    assert 'src="benchmarks/results/S4.png"' in performance
    assert (site / "benchmarks" / "results" / "S4.png").is_file()
