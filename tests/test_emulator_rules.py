"""The emulator's building blocks, without HTTP: CIDR parsing, Status texts, patches, the store.

Expected texts are upstream's, written out literally (see docs/testing.md for the sources).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6alloc.testing._cidr import parse_sloppy, strict_problem
from ipv6alloc.testing._patch import (
    PatchApplyError,
    PatchDocumentError,
    json_equal,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)
from ipv6alloc.testing._rules import NODES, convert, decode_problem, validate
from ipv6alloc.testing._status import FieldError, go_quote, invalid
from ipv6alloc.testing._store import Store

#: Loopback sockets left open fail the test that left them (see conftest).
pytestmark = pytest.mark.usefixtures("collect_garbage")

MUST_BE_CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


@pytest.mark.parametrize(
    ("text", "sloppy", "strict"),
    [
        ("10.0.0.0/24", True, None),
        ("2001:db8::/64", True, None),
        ("2001:DB8:0:0:0:0:0:0/64", True, None),  # not canonical, still valid
        ("10.0.0.1/24", True, "must not have bits set beyond the prefix length"),
        ("2001:db8::1/64", True, "must not have bits set beyond the prefix length"),
        ("010.0.0.0/24", True, "must not have leading 0s in IP or prefix length"),
        ("10.0.0.0/024", True, "must not have leading 0s in IP or prefix length"),
        ("::ffff:10.0.0.0/104", True, "must not have an IPv4-mapped IPv6 address"),
        ("foo", False, None),
        ("10.0.0.0", False, None),
        ("10.0.0.0/33", False, None),
        ("2001:db8::/129", False, None),
        ("10.0.0.256/24", False, None),
        ("fe80::%eth0/64", False, None),
        ("10.0.0.0/+8", False, None),
        ("10.0.0.0/", False, None),
        ("", False, None),
        ("1:2:3:4:5:6:7:8:9/64", False, None),
        ("10.0.0.0/24/24", False, None),
    ],
)
def test_cidr_parsing_is_go_sloppy_then_strict(text: str, sloppy: bool, strict: str | None) -> None:
    parsed = parse_sloppy(text)
    assert (parsed is not None) == sloppy
    if parsed is not None:
        assert strict_problem(text) == strict


@given(st.text(max_size=40))
def test_cidr_parsing_never_raises(text: str) -> None:
    if parse_sloppy(text) is not None:
        strict_problem(text)


def test_go_quote_matches_strconv_quote() -> None:
    assert go_quote('say "hi"\t\\') == '"say \\"hi\\"\\t\\\\"'
    assert go_quote("\x01\x7f\u200b") == '"\\x01\\x7f\\u200b"'
    assert go_quote("\U0001f600é") == '"\U0001f600é"'


def test_invalid_status_joins_distinct_messages_and_keeps_every_cause() -> None:
    same = FieldError("spec.podCIDRs", "FieldValueForbidden", None, "no")
    body = invalid("Node", "n1", [same, same]).body
    assert body["message"] == 'Node "n1" is invalid: spec.podCIDRs: Forbidden: no'
    assert len(body["details"]["causes"]) == 2  # type: ignore[index]
    two = invalid("Node", "n1", [same, FieldError.duplicate("spec.podCIDRs[1]", "a")]).body
    assert two["message"] == (
        'Node "n1" is invalid: [spec.podCIDRs: Forbidden: no, '
        'spec.podCIDRs[1]: Duplicate value: "a"]'
    )


def _messages(errors: list[FieldError]) -> list[str]:
    return [error.text() for error in errors]


def test_node_validation_messages_are_upstream_ones() -> None:
    node = {"spec": {"podCIDRs": ["foo"]}}
    assert _messages(validate(NODES, node, None, strict=True)) == [
        f'spec.podCIDRs[0]: Invalid value: "foo": {MUST_BE_CIDR}'
    ]
    node = {"spec": {"podCIDRs": ["10.0.0.0/24", "10.1.0.0/24"]}}
    assert _messages(validate(NODES, node, None, strict=True)) == [
        (
            'spec.podCIDRs: Invalid value: []string{"10.0.0.0/24", "10.1.0.0/24"}: '
            "may specify no more than one CIDR for each IP family"
        )
    ]
    node = {"spec": {"podCIDRs": ["10.0.0.0/24", "foo"]}}
    assert _messages(validate(NODES, node, None, strict=True)) == [
        f'spec.podCIDRs[1]: Invalid value: "foo": {MUST_BE_CIDR}',
        (
            "spec.podCIDRs: Internal error: invalid PodCIDRs. failed to check with dual stack with "
            "error:invalid CIDR[1]: <nil> (invalid CIDR address: foo)"
        ),
        (
            'spec.podCIDRs: Invalid value: []string{"10.0.0.0/24", "foo"}: '
            "may specify no more than one CIDR for each IP family"
        ),
    ]
    node = {"spec": {"podCIDRs": ["10.0.0.0/24", "10.0.0.0/24"]}}
    assert _messages(validate(NODES, node, None, strict=True))[1] == (
        'spec.podCIDRs[1]: Duplicate value: "10.0.0.0/24"'
    )


def test_write_once_gives_one_cause_per_entry_that_differs() -> None:
    old = {"spec": {"podCIDRs": ["10.0.0.0/24", "2001:db8::/64"]}}
    new = {"spec": {"podCIDRs": ["10.1.0.0/24", "2001:db8:1::/64"]}}
    forbidden = (
        'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid'
    )
    assert _messages(validate(NODES, new, old, strict=True)) == [forbidden, forbidden]
    assert validate(NODES, {"spec": {"podCIDRs": ["10.0.0.1/24"]}}, None, strict=False) == []


def test_conversion_keeps_the_pair_in_step() -> None:
    node: dict[str, object] = {"spec": {"podCIDRs": ["2001:db8::/64", "10.0.0.0/24"]}}
    assert convert(NODES, node) is None
    assert node["spec"] == {
        "podCIDR": "2001:db8::/64",
        "podCIDRs": ["2001:db8::/64", "10.0.0.0/24"],
    }
    node = {"spec": {"podCIDR": "10.0.0.0/24"}}
    convert(NODES, node)
    assert node["spec"] == {"podCIDR": "10.0.0.0/24", "podCIDRs": ["10.0.0.0/24"]}
    node = {"spec": {"podCIDR": "", "podCIDRs": []}}
    convert(NODES, node)
    assert node["spec"] == {}


def test_decode_problems_name_the_go_field() -> None:
    assert decode_problem(NODES, {"spec": {"podCIDRs": [1]}}) == (
        "json: cannot unmarshal number into Go struct field NodeSpec.spec.podCIDRs of type string"
    )
    assert decode_problem(NODES, {"metadata": {"labels": {"a": True}}}) == (
        "json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string"
    )
    assert decode_problem(NODES, {"spec": None, "status": {"addresses": None}}) is None


def test_merge_patch_is_rfc_7386() -> None:
    # RFC 7386 appendix A, a few of its cases
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch(["a", "b"], {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "foo"}, "bar") == "bar"


def test_strategic_merge_unions_scalar_lists_and_merges_keyed_ones() -> None:
    lists = NODES.merge_lists
    node = {
        "spec": {"podCIDRs": ["10.0.0.0/24"]},
        "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.5"}]},
    }
    patched = strategic_merge_patch(
        node,
        {
            "spec": {"podCIDRs": ["2001:db8::/64", "10.0.0.0/24"]},
            "status": {"addresses": [{"type": "ExternalIP", "address": "2001:db8::5"}]},
        },
        lists,
    )
    assert patched == {
        "spec": {"podCIDRs": ["10.0.0.0/24", "2001:db8::/64"]},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": "10.0.0.5"},
                {"type": "ExternalIP", "address": "2001:db8::5"},
            ]
        },
    }
    assert strategic_merge_patch(node, {"spec": {"podCIDRs": []}}, lists) == node
    deleted = strategic_merge_patch(
        node, {"status": {"addresses": [{"type": "InternalIP", "$patch": "delete"}]}}, lists
    )
    assert deleted["status"] == {"addresses": []}  # type: ignore[index]
    replaced = strategic_merge_patch(node, {"spec": {"$patch": "replace", "x": 1}}, lists)
    assert replaced["spec"] == {"x": 1}  # type: ignore[index]
    fewer = strategic_merge_patch(
        node, {"spec": {"$deleteFromPrimitiveList/podCIDRs": ["10.0.0.0/24"]}}, lists
    )
    assert fewer["spec"] == {"podCIDRs": []}  # type: ignore[index]
    with pytest.raises(PatchDocumentError, match="does not contain declared merge key: type"):
        strategic_merge_patch(node, {"status": {"addresses": [{"address": "x"}]}}, lists)
    with pytest.raises(PatchDocumentError):
        strategic_merge_patch(node, [1], lists)


def test_json_patch_is_rfc_6902() -> None:
    doc = {"a": {"b": [1, 2]}, "c~/d": 3}
    ops = [
        {"op": "add", "path": "/a/b/1", "value": 9},
        {"op": "remove", "path": "/a/b/0"},
        {"op": "replace", "path": "/c~0~1d", "value": 4},
        {"op": "copy", "from": "/a/b", "path": "/e"},
        {"op": "move", "from": "/e", "path": "/f"},
        {"op": "test", "path": "/f", "value": [9, 2]},
    ]
    assert json_patch(doc, ops) == {"a": {"b": [9, 2]}, "c~/d": 4, "f": [9, 2]}
    assert doc == {"a": {"b": [1, 2]}, "c~/d": 3}  # untouched
    for bad in (
        [{"op": "test", "path": "/a", "value": None}],
        [{"op": "replace", "path": "/missing", "value": 1}],
        [{"op": "remove", "path": "/a/b/5"}],
        [{"op": "add", "path": "/a/b/01", "value": 1}],
        [{"op": "jump", "path": "/a"}],
        [{"op": "move", "from": "/a", "path": "/a/x"}],
    ):
        with pytest.raises(PatchApplyError):
            json_patch(doc, bad)
    with pytest.raises(PatchDocumentError):
        json_patch(doc, {"op": "add"})
    assert json_equal(1, 1.0)
    assert not json_equal(1, True)


def test_store_bumps_one_counter_and_expires_old_history() -> None:
    store = Store(history=2)
    with store.lock:
        for name in "abc":
            store.put("nodes", ("", name), {"metadata": {"name": name}}, "ADDED")
        store.put("leases", ("ns", "l"), {"metadata": {"name": "l"}}, "ADDED")
    assert store.rv == 4
    assert store.events_since("nodes", 0) is None  # event 1 was dropped
    assert [event.rv for event in store.events_since("nodes", 1) or []] == [2, 3]
    deleted = store.delete("nodes", ("", "a"))
    assert deleted is not None
    assert deleted["metadata"] == {"name": "a", "resourceVersion": "5"}
    store.compact()
    assert store.events_since("nodes", 4) is None
    assert store.events_since("nodes", 5) == []
    with pytest.raises(ValueError, match="at least one"):
        Store(history=0)
