"""The capacity planning notebook: it runs, cell by cell, and what it stores is what it prints.

``docs/notebooks/capacity-planning.ipynb`` is written by ``docs/notebooks/build.py`` from the
cells listed there and stored with its outputs, so that it reads on a code host without running.
Here it runs again in a fresh ``python3`` kernel (the one ``ipykernel`` installs into the
environment, ``make test``'s dev install): any failing cell fails the test, and every text and
HTML output must equal the stored one (plots are compared by kind only: PNG bytes vary with the
matplotlib build).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from types import ModuleType

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "docs" / "notebooks" / "build.py"
NOTEBOOK = ROOT / "docs" / "notebooks" / "capacity-planning.ipynb"
#: The outputs compared as text; images are compared by presence only.
TEXT_KINDS = ("text/plain", "text/html")


def build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("capacity_notebook_build", BUILD)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored() -> Any:
    return nbformat.read(NOTEBOOK, as_version=4)


def texts(cell: Any) -> list[tuple[str, str]]:
    """What a code cell printed and returned, as (kind, text); an image as (kind, "")."""
    found = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            found.append((output["name"], output["text"]))
        elif output["output_type"] == "error":
            found.append(("error", f"{output['ename']}: {output['evalue']}"))
        else:
            data = output.get("data", {})
            found.extend((kind, data[kind]) for kind in TEXT_KINDS if kind in data)
            found.extend((kind, "") for kind in data if kind.startswith("image/"))
    return found


def test_the_stored_notebook_is_the_build_script_s() -> None:
    build = build_module()
    nb = stored()
    assert [(c.cell_type, c.source) for c in nb.cells] == [
        (kind, text) for kind, text, _ in build.CELLS
    ]
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_the_stored_notebook_holds_its_outputs() -> None:
    nb = stored()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code[1:]:  # the first only sets up plotting
        assert cell.outputs, f"no stored output for {cell.source[:60]!r}"
        assert all(o["output_type"] != "error" for o in cell.outputs)
    plots = [c for c in code if ".plot(" in c.source.splitlines()[-1]]
    assert len(plots) == 4
    for cell in plots:
        assert ("image/png", "") in texts(cell), f"no stored plot for {cell.source!r}"


def test_the_notebook_runs_and_prints_what_it_stores() -> None:
    build = build_module()
    fresh = build.run(build.build())  # raises CellExecutionError on the first failing cell
    old = stored()
    assert len(fresh.cells) == len(old.cells)
    for new_cell, old_cell in zip(fresh.cells, old.cells, strict=True):
        if new_cell.cell_type == "code":
            assert texts(new_cell) == texts(old_cell), (
                f"the output of {new_cell.source[:60]!r} changed: "
                "rebuild with python docs/notebooks/build.py notebook"
            )
