"""MkDocs hooks: the site shows the benchmark results and sources, which live outside docs/.

The pages link to ``../benchmarks/...``, which is right when they are read on the code host. On
the site, the hook copies those files beside the pages and points the links at the copies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
#: Files outside docs/ that the pages link to or show.
EXTERNAL = (
    "benchmarks/results/*.png",
    "benchmarks/results/*.csv",
    "benchmarks/*.py",
    "benchmarks/peers/*.py",
)


def on_files(files: Files, config: Any) -> Files:
    """Add the benchmark results and sources to the site."""
    for pattern in EXTERNAL:
        for path in sorted(ROOT.glob(pattern)):
            uri = path.relative_to(ROOT).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Point ``../benchmarks/...`` links at the copies on the site."""
    depth = page.file.src_uri.count("/")
    return markdown.replace("](../benchmarks/", "](" + "../" * depth + "benchmarks/")
