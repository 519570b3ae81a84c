"""The layering of the package, its public names, and the cost of importing it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ipv6alloc

PACKAGE = Path(ipv6alloc.__file__).parent

#: Modules of the core, each with the internal modules it may import (the layers, lowest first).
CORE_LAYERS: dict[str, set[str]] = {
    "_errors": set(),
    "_bits": set(),
    "_index": {"_bits"},
    "_prefix": {"_bits", "_errors"},
    "_stats": {"_bits", "_errors", "_prefix"},
    "_state": {"_bits", "_index", "_prefix"},
    "_snapshot": {"_allocator", "_errors", "_prefix"},  # _allocator for types only
    "_invariants": {"_allocator", "_index", "_state"},
    "_messages": {"_bits", "_errors", "_prefix", "_state"},  # _state for types only
    "_reservations": {"_errors", "_messages", "_prefix", "_state"},  # the last two: types
    "_allocator": {
        "_bits",
        "_errors",
        "_invariants",
        "_messages",
        "_prefix",
        "_reservations",
        "_snapshot",
        "_state",
        "_stats",
    },
    "_interface": {"_errors", "_prefix"},
    "_policy": {"_errors", "_interface", "_prefix"},
    "_provider": {"_errors", "_interface", "_policy", "_prefix"},
    "_node": {"_errors", "_interface", "_prefix"},
    "_node_state": {"_bits", "_interface", "_node", "_prefix"},
    "_node_allocator": {
        "_allocator",
        "_bits",
        "_errors",
        "_interface",
        "_node",
        "_node_invariants",
        "_node_restore",
        "_node_snapshot",
        "_node_state",
        "_policy",
        "_prefix",
        "_stats",
    },
    "_node_restore": {"_errors", "_node", "_node_allocator", "_node_state", "_prefix"},
    "_node_invariants": {"_index", "_invariants", "_node_allocator", "_node_state", "_prefix"},
    "_node_snapshot": {
        "_allocator",
        "_errors",
        "_interface",
        "_node",
        "_node_allocator",
        "_node_invariants",
        "_node_state",
        "_policy",
        "_prefix",
        "_snapshot",
    },
    "__init__": {
        "_allocator",
        "_errors",
        "_interface",
        "_node",
        "_node_allocator",
        "_policy",
        "_prefix",
        "_provider",
        "_stats",
    },
}
#: Edge modules: they may import the core and third-party packages; the core never imports them.
EDGE = {"_demo", "_cli", "__main__", "strategies"}
#: Edge subpackages (``ipv6alloc/kubernetes/`` ...): every module in them is an edge module, which
#: may import the core and third-party packages; the core never imports any of them.
EDGE_PACKAGES = {"capacity", "kubernetes", "testing"}
STDLIB = set(sys.stdlib_module_names)


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(internal modules, top-level external packages) imported anywhere in ``module``."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    internal: set[str] = set()
    external: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if node.module:
                    internal.add(node.module.split(".")[0])
                else:
                    internal.update(alias.name for alias in node.names)
            elif node.module:
                external.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            external.update(alias.name.split(".")[0] for alias in node.names)
    return internal, external


def _module_name(path: Path) -> str:
    """The dotted name of the module (or package) in ``path``, a file below the package."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("ipv6alloc", *parts))


def _absolute(target: str, level: int, module: str, *, is_package: bool) -> str:
    """The absolute name of a relative import ``level`` dots up from ``module``."""
    parents = module.split(".") if is_package else module.split(".")[:-1]
    anchor = ".".join(parents[: len(parents) - level + 1])
    return f"{anchor}.{target}" if target else anchor


def _imported_names(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every ``ipv6alloc`` module that ``source``, the text of ``module``, may import.

    Absolute names, from ``import ipv6alloc.x``, ``from ipv6alloc.x import y``, ``from ipv6alloc
    import x``, the relative forms (``from . import x``, ``from .x import y``, ``from .. import
    x`` in a subpackage) and ``import_module``/``__import__`` calls on literal text. For ``from
    m import y`` both ``m`` and ``m.y`` count, since ``y`` may be a module.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _absolute(base, node.level, module, is_package=is_package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None))
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            target = node.args[0].value
            level = len(target) - len(target.lstrip("."))
            if level:
                target = _absolute(target[level:], level, module, is_package=is_package)
            names.add(target)
    return {name for name in names if name.split(".")[0] == "ipv6alloc"}


def _in_subpackage(names: set[str]) -> set[str]:
    """The names that are a subpackage of ipv6alloc or lie in one: planned or on disk."""
    subpackages = EDGE_PACKAGES | {
        p.relative_to(PACKAGE).parts[0] for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE
    }
    return {name for name in names if name.count(".") and name.split(".")[1] in subpackages}


def test_every_module_is_classified() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules == set(CORE_LAYERS) | EDGE


def test_every_file_of_every_subpackage_is_classified() -> None:
    """Each file below the package lies in an edge subpackage: a new subpackage must be listed."""
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) == 1:
            assert path.stem in set(CORE_LAYERS) | EDGE, f"{path} is neither core nor edge"
        else:
            assert parts[0] in EDGE_PACKAGES, (
                f"{path} lies in subpackage {parts[0]!r}, which is not classified: add it to "
                "EDGE_PACKAGES (subpackages are edges: they import the core, never the reverse)"
            )


def test_core_imports_no_subpackage() -> None:
    for module in CORE_LAYERS:
        path = PACKAGE / f"{module}.py"
        names = _imported_names(
            path.read_text(), _module_name(path), is_package=module == "__init__"
        )
        reached = _in_subpackage(names)
        assert not reached, (
            f"core module {module} imports {sorted(reached)}: subpackages are edges, "
            "the core never imports them"
        )


def test_the_facade_loads_public_names_from_core_modules_only() -> None:
    sources = set(vars(ipv6alloc)["_SOURCES"].values())
    assert sources <= set(CORE_LAYERS), f"public names from non-core {sources - set(CORE_LAYERS)}"


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from . import kubernetes", "ipv6alloc._node", {"kubernetes"}),
        ("from .kubernetes import x", "ipv6alloc._node", {"kubernetes", "kubernetes.x"}),
        ("from .capacity.report import x", "ipv6alloc", {"capacity.report", "capacity.report.x"}),
        ("import ipv6alloc.testing", "ipv6alloc._node", {"testing"}),
        ("import ipv6alloc.testing.fakes as f", "ipv6alloc._node", {"testing.fakes"}),
        ("from ipv6alloc import testing", "ipv6alloc._node", {"testing"}),
        ("from ipv6alloc.kubernetes import x", "ipv6alloc._node", {"kubernetes", "kubernetes.x"}),
        ("def f():\n    import_module('ipv6alloc.capacity')", "ipv6alloc._x", {"capacity"}),
        ("importlib.import_module('.testing', 'ipv6alloc')", "ipv6alloc._x", {"testing"}),
        ("__import__('ipv6alloc.kubernetes.watch')", "ipv6alloc._x", {"kubernetes.watch"}),
        (
            "from .watch import w",
            "ipv6alloc.kubernetes.x",
            {"kubernetes.watch", "kubernetes.watch.w"},
        ),
        # Not a subpackage: the core itself, from the package and from a subpackage.
        ("from . import _errors", "ipv6alloc._node", set()),
        ("from ._prefix import Prefix", "ipv6alloc", set()),
        ("from .. import _errors", "ipv6alloc.kubernetes.x", set()),
        ("from ..strategies import prefixes", "ipv6alloc.kubernetes.x", set()),
        ("import json, netaddr", "ipv6alloc._node", set()),
    ],
)
def test_every_import_form_of_a_subpackage_is_seen(
    source: str, module: str, expected: set[str]
) -> None:
    """``_imported_names`` resolves each form; ``_in_subpackage`` picks the subpackages' names."""
    names = _imported_names(source, module, is_package=module == "ipv6alloc")
    assert _in_subpackage(names) == {f"ipv6alloc.{name}" for name in expected}


def test_core_imports_only_lower_layers_and_the_standard_library() -> None:
    for module, allowed in CORE_LAYERS.items():
        internal, external = _imports(module)
        assert internal <= allowed, f"{module} imports {internal - allowed}"
        assert external - {"__future__"} <= STDLIB, f"{module} imports {external - STDLIB}"


def test_edge_modules_are_never_imported_by_the_core() -> None:
    for module in CORE_LAYERS:
        internal, _ = _imports(module)
        assert not internal & EDGE, f"{module} imports edge module(s) {internal & EDGE}"


def _modules_loaded_by(statement: str) -> list[str]:
    """The modules a fresh interpreter loads while running ``statement``."""
    code = (
        f"import sys; before = set(sys.modules); {statement}; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()


@pytest.mark.parametrize(
    "statement",
    [
        "import ipv6alloc",
        # Every public name, resolved: what a program using the whole API loads.
        "import ipv6alloc; [getattr(ipv6alloc, n) for n in ipv6alloc.__all__]",
    ],
)
def test_import_loads_no_third_party_edge_or_subpackage_module(statement: str) -> None:
    out = _modules_loaded_by(statement)
    loaded = {name.split(".")[0] for name in out} - {"ipv6alloc"}
    assert loaded <= STDLIB, f"{statement} loaded {loaded - STDLIB}"
    ours = {name for name in out if name.split(".")[0] == "ipv6alloc"}
    subpackage = _in_subpackage(ours)
    assert not subpackage, f"{statement} loaded modules of edge subpackages {sorted(subpackage)}"
    edge = {name for name in ours if name.split(".")[-1] in EDGE}
    assert not edge, f"{statement} loaded edge modules {edge}"
    core = {"ipv6alloc", *(f"ipv6alloc.{module}" for module in CORE_LAYERS)}
    assert ours <= core, f"{statement} loaded modules outside the core {sorted(ours - core)}"


def test_the_allocator_loads_only_what_the_stdlib_floor_loads() -> None:
    """PrefixAllocator needs nothing beyond ``dataclasses, ipaddress, threading, bisect`` (and
    ``re``, which those load): in particular not ``typing``, the costliest module to import."""
    floor = set(_modules_loaded_by("import dataclasses, ipaddress, threading, bisect, re"))
    extra = {
        name
        for name in _modules_loaded_by("from ipv6alloc import PrefixAllocator")
        if name.split(".")[0] != "ipv6alloc"
    }
    assert extra <= floor | {"__future__", "types"}, f"beyond the floor: {sorted(extra - floor)}"


def test_all_is_pinned() -> None:
    assert sorted(ipv6alloc.__all__) == [
        "AddressLike",
        "Allocation",
        "AllocatorStatistics",
        "Assignment",
        "ConfigurationError",
        "Decision",
        "ExtraBitsPolicy",
        "FamilyAssignment",
        "FixedPolicy",
        "Interface",
        "InterfaceLike",
        "InvalidPrefixError",
        "Ipv6AllocError",
        "Node",
        "NodeAllocator",
        "NotAllocatedError",
        "NotInPoolError",
        "Placement",
        "PodsPolicy",
        "Policy",
        "PolicyError",
        "PoolExhaustedError",
        "PoolStatistics",
        "Prefix",
        "PrefixAllocator",
        "PrefixConflictError",
        "PrefixLike",
        "ProviderPolicy",
        "RestoreResult",
        "SafePolicy",
        "SnapshotError",
        "TalosPolicy",
        "UnknownNodeError",
        "UnknownPoolError",
    ]


def test_every_public_name_is_exported_from_its_module() -> None:
    for name in ipv6alloc.__all__:
        obj = getattr(ipv6alloc, name)
        module = getattr(obj, "__module__", None)
        if module is not None and module.startswith("ipv6alloc."):
            assert name in vars(sys.modules[module])["__all__"], f"{name} not in {module}.__all__"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"module 'ipv6alloc' has no attribute 'Nope'"):
        _ = ipv6alloc.Nope
    assert "PrefixAllocator" in dir(ipv6alloc)


#: PrefixAllocator methods allowed to touch the families' state without the choke point:
#: building it (``__init__``, ``__setstate__``), the choke point itself, and ``pools``, which
#: reads only the pools' prefixes (a run never changes them).
_SETTLE_EXEMPT = {"__init__", "_family", "_settled", "_settle", "__setstate__", "pools"}


def _self_attributes(function: ast.FunctionDef) -> set[str]:
    return {
        node.attr
        for node in ast.walk(function)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }


def test_pending_runs_are_settled_at_one_choke_point() -> None:
    """No PrefixAllocator method reaches the indexes a pending run has not reached yet.

    The families' state is read only through ``_family(version)`` or ``_settled()``, which
    settle the run first; ``_settle`` itself is called nowhere else; and a method that walks
    the pools (whose gaps and counters a run changes) has settled first.
    """
    tree = ast.parse((PACKAGE / "_allocator.py").read_text())
    cls = next(
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == "PrefixAllocator"
    )
    methods = [node for node in cls.body if isinstance(node, ast.FunctionDef)]
    assert len(methods) > 20
    for method in methods:
        used = _self_attributes(method)
        if method.name in _SETTLE_EXEMPT:
            continue
        assert "_families" not in used, f"{method.name} bypasses the choke point"
        assert "_settle" not in used, f"{method.name} settles by hand"
        walks_pools = any(
            isinstance(node, ast.For | ast.comprehension)
            and isinstance(node.iter, ast.Attribute)
            and node.iter.attr == "_order"
            for node in ast.walk(method)
        )
        if walks_pools:
            assert used & {"_settled", "_family", "_pool"}, f"{method.name} walks unsettled pools"
