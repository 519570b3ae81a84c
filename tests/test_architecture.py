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
    "_snapshot": {"_errors"},
    "_invariants": {"_allocator", "_index", "_state"},
    "_allocator": {
        "_bits",
        "_errors",
        "_invariants",
        "_prefix",
        "_snapshot",
        "_state",
        "_stats",
    },
    "_interface": {"_errors", "_prefix"},
    "_policy": {"_errors", "_interface", "_prefix"},
    "_provider": {"_errors", "_interface", "_policy", "_prefix"},
    "_node": {"_errors", "_interface", "_prefix"},
    "_node_state": {"_interface", "_node", "_prefix"},  # for types only
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
    "_node_invariants": {"_index", "_invariants", "_node_allocator", "_prefix"},
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


def test_every_module_is_classified() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules == set(CORE_LAYERS) | EDGE


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
def test_import_loads_no_third_party_or_edge_module(statement: str) -> None:
    out = _modules_loaded_by(statement)
    loaded = {name.split(".")[0] for name in out} - {"ipv6alloc"}
    assert loaded <= STDLIB, f"{statement} loaded {loaded - STDLIB}"
    edge = {name for name in out if name.split(".")[-1] in EDGE}
    assert not edge, f"{statement} loaded edge modules {edge}"


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
