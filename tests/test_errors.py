"""The error tree, the quoting rule, and a selection of messages from every module."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import traceback

import pytest

import ipv6alloc
from ipv6alloc import (
    ConfigurationError,
    InvalidPrefixError,
    Ipv6AllocError,
    NotAllocatedError,
    NotInPoolError,
    PolicyError,
    PoolExhaustedError,
    Prefix,
    PrefixAllocator,
    PrefixConflictError,
    SnapshotError,
    UnknownNodeError,
    UnknownPoolError,
    _errors,
)
from ipv6alloc._errors import quote

#: The tree as the errors module documents it: class -> the stdlib mix-in it adds, if any.
EXPECTED_TREE: dict[type[Exception], type[Exception] | None] = {
    InvalidPrefixError: ValueError,
    ConfigurationError: ValueError,
    PolicyError: ValueError,
    SnapshotError: ValueError,
    PrefixConflictError: ValueError,
    NotInPoolError: ValueError,
    UnknownPoolError: LookupError,
    NotAllocatedError: LookupError,
    UnknownNodeError: LookupError,
    PoolExhaustedError: None,
}

_DRAWN = re.compile(r"^\s*[├└]── (\w+)(?: \((\w+)\))?\s")


def _drawing() -> dict[str, str | None]:
    """Parse the tree drawn in the errors module's docstring: name -> mix-in name."""
    doc = _errors.__doc__
    assert doc is not None
    drawn: dict[str, str | None] = {}
    for line in doc.splitlines():
        match = _DRAWN.match(line)
        if match:
            drawn[match.group(1)] = match.group(2)
    return drawn


def test_docstring_draws_exactly_the_expected_tree() -> None:
    expected = {
        cls.__name__: (None if mixin is None else mixin.__name__)
        for cls, mixin in EXPECTED_TREE.items()
    }
    assert _drawing() == expected


@pytest.mark.parametrize(("cls", "mixin"), list(EXPECTED_TREE.items()))
def test_class_derives_from_base_and_documented_mixin(
    cls: type[Exception], mixin: type[Exception] | None
) -> None:
    assert cls.__bases__[0] is Ipv6AllocError
    assert issubclass(cls, Ipv6AllocError)
    for other in (ValueError, LookupError):
        assert issubclass(cls, other) == (other is mixin), other


def test_base_is_a_plain_exception() -> None:
    assert Ipv6AllocError.__bases__ == (Exception,)
    assert not issubclass(Ipv6AllocError, ValueError | LookupError)


def test_every_exported_error_is_in_the_tree() -> None:
    exported = {
        name
        for name in ipv6alloc.__all__
        if isinstance(getattr(ipv6alloc, name), type)
        and issubclass(getattr(ipv6alloc, name), BaseException)
    }
    assert exported == {cls.__name__ for cls in EXPECTED_TREE} | {"Ipv6AllocError"}
    assert set(_errors.__all__) == exported | {"quote"}


def test_every_error_has_a_docstring() -> None:
    for cls in [Ipv6AllocError, *EXPECTED_TREE]:
        assert cls.__doc__, cls


# -- where the errors show up -------------------------------------------------------------------

ALL_ERRORS: list[type[Exception]] = [Ipv6AllocError, *EXPECTED_TREE]


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda cls: cls.__name__)
def test_error_shows_as_a_name_of_the_package(cls: type[Exception]) -> None:
    """``ipv6alloc.PoolExhaustedError``, where users import it from, not ``ipv6alloc._errors``."""
    name = f"ipv6alloc.{cls.__name__}"
    assert cls.__module__ == "ipv6alloc"
    assert cls.__qualname__ == cls.__name__
    assert repr(cls) == f"<class '{name}'>"
    assert getattr(ipv6alloc, cls.__name__) is cls
    try:
        raise cls("the message")
    except cls as error:
        formatted = traceback.format_exception(error)
    assert formatted[-1] == f"{name}: the message\n"


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda cls: cls.__name__)
def test_error_pickles(cls: type[Exception]) -> None:
    error = cls("pool '10.0.0.0/24' has no free /24 left")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls
    assert back.args == error.args
    assert str(back) == str(error)


def test_errors_unpickle_in_a_fresh_interpreter() -> None:
    """Unpickling loads each class from ``ipv6alloc`` (on first use: PEP 562), nothing else."""
    data = pickle.dumps([cls(cls.__name__) for cls in ALL_ERRORS])
    code = (
        "import pickle, sys; errors = pickle.loads(sys.stdin.buffer.read()); "
        "print(' '.join(f'{type(e).__module__}.{type(e).__name__}:{e}' for e in errors))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=data, capture_output=True, check=True
    ).stdout.decode()
    assert out.split() == [f"ipv6alloc.{cls.__name__}:{cls.__name__}" for cls in ALL_ERRORS]


# -- quote --------------------------------------------------------------------------------------


def test_quote_keeps_forty_characters() -> None:
    text = "a" * 40
    assert quote(text) == "'" + text + "'"


def test_quote_cuts_after_forty_characters() -> None:
    text = "0123456789" * 4 + "X"
    assert quote(text) == "'" + "0123456789" * 4 + "...'"


def test_quote_reads_objects_through_str() -> None:
    assert quote(Prefix.parse("10.0.0.0/8")) == "'10.0.0.0/8'"
    assert quote(129) == "'129'"
    assert quote(None) == "'None'"


def test_quote_escapes_like_repr() -> None:
    assert quote("it's") == '"it\'s"'
    assert quote("a\nb") == "'a\\nb'"


# -- a message from each layer ------------------------------------------------------------------


def test_prefix_message_states_rule_and_quotes_input() -> None:
    with pytest.raises(InvalidPrefixError) as info:
        Prefix.parse("10.0.0.1/24")
    assert str(info.value) == "'10.0.0.1/24' has host bits set (the prefix is '10.0.0.0/24')"
    assert isinstance(info.value, ValueError)


def test_long_input_is_cut_in_messages() -> None:
    text = "2001:db8:1234:5678:9abc:def0:1234:5678/64x"
    with pytest.raises(InvalidPrefixError) as info:
        Prefix.parse(text)
    assert str(info.value).startswith(repr(text[:40] + "..."))


def test_allocator_messages() -> None:
    allocator = PrefixAllocator(["10.0.0.0/25"])
    allocator.occupy("10.0.0.0/25", owner="node-a")
    cases: list[tuple[type[Exception], str, object]] = []
    with pytest.raises(PoolExhaustedError) as exhausted:
        allocator.allocate(26, pool="10.0.0.0/25")
    cases.append((PoolExhaustedError, "pool '10.0.0.0/25' has no free /26 left", exhausted.value))
    with pytest.raises(PrefixConflictError) as conflict:
        allocator.occupy("10.0.0.64/26", owner="node-b")
    cases.append(
        (
            PrefixConflictError,
            "'10.0.0.64/26' overlaps allocation '10.0.0.0/25' (owner 'node-a')",
            conflict.value,
        )
    )
    with pytest.raises(NotInPoolError) as outside:
        allocator.occupy("10.0.1.0/24")
    cases.append((NotInPoolError, "'10.0.1.0/24' is not inside any pool", outside.value))
    with pytest.raises(NotAllocatedError) as missing:
        allocator.release("10.0.0.0/26")
    cases.append((NotAllocatedError, "'10.0.0.0/26' is not allocated", missing.value))
    with pytest.raises(UnknownPoolError) as unknown:
        allocator.allocate(26, pool="10.0.0.0/24")
    cases.append((UnknownPoolError, "'10.0.0.0/24' is not a pool of this allocator", unknown.value))
    with pytest.raises(ConfigurationError) as twice:
        PrefixAllocator(["10.0.0.0/24", "10.0.0.0/24"])
    cases.append((ConfigurationError, "pool '10.0.0.0/24' is given twice", twice.value))
    with pytest.raises(SnapshotError) as snapshot:
        PrefixAllocator.from_snapshot({"format": "v0"})
    cases.append(
        (
            SnapshotError,
            "unknown snapshot format 'v0' (expected 'ipv6alloc.PrefixAllocator/1')",
            snapshot.value,
        )
    )
    for cls, message, error in cases:
        assert type(error) is cls
        assert str(error) == message
