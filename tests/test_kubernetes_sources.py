"""ipv6alloc.kubernetes: subnet sources (annotation, provider map, functions) and find_subnets."""

from __future__ import annotations

import io
import ipaddress
import json
import sys
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ipv6alloc import (
    ConfigurationError,
    ExtraBitsPolicy,
    FixedPolicy,
    Interface,
    Ipv6AllocError,
    PodsPolicy,
    Prefix,
    ProviderPolicy,
    SafePolicy,
    TalosPolicy,
)
from ipv6alloc.kubernetes import (
    DEFAULT_SUBNET_ANNOTATION,
    AnnotationSource,
    CallableSource,
    KubeNode,
    ProviderMap,
    SubnetLookup,
    SubnetSource,
    SubnetSourceError,
    find_subnets,
    read_node,
)

if TYPE_CHECKING:
    from pathlib import Path

KEY = "ipv6alloc.io/node-subnets"


def annotated(value: str, name: str = "w1", **fields: Any) -> KubeNode:
    return KubeNode(name, annotations={KEY: value}, **fields)


def iface(text: str) -> Interface:
    return Interface.parse(text)


# -- the annotation ----------------------------------------------------------------------------


def test_default_annotation_key() -> None:
    assert DEFAULT_SUBNET_ANNOTATION == KEY
    assert AnnotationSource().key == KEY
    assert repr(AnnotationSource()) == "AnnotationSource('ipv6alloc.io/node-subnets')"


def test_annotation_entries_are_parsed_in_order() -> None:
    node = annotated(" 2a02:a:152:202::100/121 ,2001:DB8:1::5/64,, ")
    assert AnnotationSource().subnets(node) == [
        iface("2a02:a:152:202::100/121"),
        iface("2001:db8:1::5/64"),
    ]


def test_annotation_read_from_a_real_node_mapping() -> None:
    data = {
        "kind": "Node",
        "metadata": {"name": "worker-3", "annotations": {KEY: "2a02:a:152:202::100/121"}},
    }
    lookup = find_subnets(read_node(data), [AnnotationSource()])
    assert lookup == SubnetLookup(
        (iface("2a02:a:152:202::100/121"),),
        "annotation ipv6alloc.io/node-subnets",
        "ok",
        "annotation ipv6alloc.io/node-subnets gave 2a02:a:152:202::100/121",
    )


@pytest.mark.parametrize("value", ["", " ", ",", " , "])
def test_an_empty_annotation_is_no_answer(value: str) -> None:
    assert AnnotationSource().subnets(annotated(value)) is None


def test_a_missing_annotation_is_no_answer_and_another_key_can_be_read() -> None:
    node = KubeNode("w1", annotations={"example.com/subnets": "2001:db8::5/64"})
    assert AnnotationSource().subnets(node) is None
    assert AnnotationSource("example.com/subnets").subnets(node) == [iface("2001:db8::5/64")]


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("2001:db8::5", "'2001:db8::5' has no prefix length (expected the node's address/len)"),
        ("10.0.0.5/24", "'10.0.0.5/24' is IPv4; provider subnets must be IPv6"),
        (
            "::ffff:10.0.0.5/120",
            "'::ffff:10.0.0.5/120' is an IPv4-mapped address; provider subnets must be IPv6",
        ),
        ("garbage", "'garbage' has no prefix length (expected the node's address/len)"),
        ("2001:db8::5/129", "'2001:db8::5/129' has an invalid prefix length '129' (expected"),
        ("fe80::1%eth0/64", "'fe80::1%eth0/64' has a zone id; a subnet cannot have one"),
    ],
)
def test_a_malformed_entry_is_an_error_naming_entry_and_node(entry: str, why: str) -> None:
    node = annotated(f"2001:db8:1::5/64,{entry}")
    with pytest.raises(SubnetSourceError) as info:
        AnnotationSource().subnets(node)
    expected = f"node 'w1': entry {entry!r} of annotation {KEY}: {why}"
    assert str(info.value).startswith(expected)
    lookup = find_subnets(node, [AnnotationSource()])
    assert lookup.status == "error"
    assert lookup.subnets == ()
    assert lookup.source == f"annotation {KEY}"
    assert lookup.reason.startswith(expected)


def test_a_malformed_annotation_never_falls_through() -> None:
    """The provider map would answer, but the annotation's bad entry stops the search."""
    node = annotated("2001:db8::5", addresses=("2a01:4f8:c0c:1::5",))
    providers = ProviderMap([{"prefix": "2a01:4f8::/32", "prefixlen": 64}])
    assert find_subnets(node, [AnnotationSource(), providers]).status == "error"
    assert find_subnets(node, [providers, AnnotationSource()]).status == "ok"


def test_annotation_key_is_checked() -> None:
    with pytest.raises(
        ConfigurationError, match="an annotation key must be non-empty text, not ''"
    ):
        AnnotationSource("")
    with pytest.raises(ConfigurationError, match="not int '5'"):
        AnnotationSource(5)  # type: ignore[arg-type]


def test_subnet_source_error_is_a_value_error_shown_in_the_edge() -> None:
    assert issubclass(SubnetSourceError, Ipv6AllocError)
    assert issubclass(SubnetSourceError, ValueError)
    assert SubnetSourceError.__module__ == "ipv6alloc.kubernetes"


# -- the provider map --------------------------------------------------------------------------

PROVIDERS = [
    {"prefix": "2a01:4f8::/29", "prefixlen": 64, "policy": {"fixed": 80}},
    {"prefix": "2a01:4f8:c0c::/48", "prefixlen": 64, "policy": {"pods": 256}},
    {"prefix": "2a01:4f8:c0c:100::/56", "prefixlen": 120},
    {"prefix": "2a02:a:152::/48", "prefixlen": 121, "policy": "talos"},
]


def test_the_most_specific_entry_containing_an_address_wins() -> None:
    providers = ProviderMap(PROVIDERS)
    cases = {
        "2a01:4f8:1:2::5": "2a01:4f8:1:2::5/64",  # only the /29
        "2a01:4f8:c0c:1::5": "2a01:4f8:c0c:1::5/64",  # the /48
        "2a01:4f8:c0c:1ff::5": "2a01:4f8:c0c:1ff::5/120",  # the /56 inside the /48
        "2a02:a:152:202::100": "2a02:a:152:202::100/121",
    }
    for address, subnet in cases.items():
        assert providers.subnets(KubeNode("n", addresses=(address,))) == [subnet]


def test_the_order_of_entries_does_not_change_the_match() -> None:
    node = KubeNode("n", addresses=("2a01:4f8:c0c:1ff::5",))
    assert ProviderMap(PROVIDERS).subnets(node) == ProviderMap(PROVIDERS[::-1]).subnets(node)


def test_provider_map_skips_ipv4_and_unknown_addresses_and_keeps_address_order() -> None:
    providers = ProviderMap(PROVIDERS)
    node = KubeNode(
        "n",
        addresses=("10.0.0.5", "2001:db8::5", "2a02:a:152:202::100", "2a01:4f8:1:2::5"),
    )
    assert providers.subnets(node) == ["2a02:a:152:202::100/121", "2a01:4f8:1:2::5/64"]
    assert providers.describe(node) == "provider map 2a02:a:152::/48, 2a01:4f8::/29"
    assert providers.subnets(KubeNode("n", addresses=("10.0.0.5", "2001:db8::5"))) is None
    assert providers.subnets(KubeNode("n")) is None


def test_provider_map_skips_ipv4_mapped_addresses() -> None:
    providers = ProviderMap([{"prefix": "::/0", "prefixlen": 64}])
    node = KubeNode("n", addresses=("::ffff:10.0.0.5", "2001:db8::5"))
    assert providers.subnets(node) == ["2001:db8::5/64"]


def test_provider_map_lookup_names_the_entry() -> None:
    node = KubeNode("w1", addresses=("2a01:4f8:c0c:1::5",))
    lookup = find_subnets(node, [AnnotationSource(), ProviderMap(PROVIDERS)])
    assert lookup == SubnetLookup(
        (iface("2a01:4f8:c0c:1::5/64"),),
        "provider map 2a01:4f8:c0c::/48",
        "ok",
        "provider map 2a01:4f8:c0c::/48 gave 2a01:4f8:c0c:1::5/64",
    )


def test_policies_built_from_the_entries() -> None:
    policy = ProviderMap(PROVIDERS).policy(default=TalosPolicy())
    assert isinstance(policy, ProviderPolicy)
    assert policy.rules == (
        (Prefix.parse("2a01:4f8:c0c::/48"), PodsPolicy(256)),
        (Prefix.parse("2a02:a:152::/48"), TalosPolicy()),
        (Prefix.parse("2a01:4f8::/29"), FixedPolicy(80)),
    )
    assert policy.default == TalosPolicy()
    assert policy.choose("2a01:4f8:c0c:1::5/64").prefixlen == 120  # pods 256
    # The /56 names no policy: the /48's applies, not the default.
    assert policy.choose("2a01:4f8:c0c:1ff::5/112").policy == "provider(2a01:4f8:c0c::/48)/pods"
    assert policy.choose("2001:db8::5/64").policy == "provider(default)/talos"
    assert ProviderMap(PROVIDERS).policy().default == SafePolicy()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("talos", TalosPolicy()),
        ("safe", SafePolicy()),
        ({"talos": None}, TalosPolicy()),
        ({"talos": {}}, TalosPolicy()),
        ({"safe": {"min_pod_addresses": 64}}, SafePolicy(min_pod_addresses=64)),
        ({"fixed": 80}, FixedPolicy(80)),
        ({"fixed": {"prefixlen": 80, "max_prefixlen": 120}}, FixedPolicy(80, max_prefixlen=120)),
        ({"pods": 256}, PodsPolicy(256)),
        ({"pods": {"max_pods": 110, "min_prefixlen": 96}}, PodsPolicy(110, min_prefixlen=96)),
        ({"extra-bits": 16}, ExtraBitsPolicy(16)),
        ({"extra-bits": {"bits": 8, "max_prefixlen": 124}}, ExtraBitsPolicy(8, max_prefixlen=124)),
        (FixedPolicy(96), FixedPolicy(96)),
    ],
)
def test_policy_spec_forms(spec: object, expected: object) -> None:
    providers = ProviderMap([{"prefix": "2001:db8::/32", "prefixlen": 64, "policy": spec}])
    assert providers.entries == ((Prefix.parse("2001:db8::/32"), 64, expected),)
    assert providers.policy().rules == ((Prefix.parse("2001:db8::/32"), expected),)


ENTRY = "provider map entry 0 (2001:db8::/32)"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "nope",
            (
                f"{ENTRY}: unknown policy 'nope' (expected one of talos, safe, fixed, pods, "
                f"extra-bits)"
            ),
        ),
        ({"Fixed": 80}, f"{ENTRY}: unknown policy 'Fixed' (expected one of"),
        ("fixed", f"{ENTRY}: policy 'fixed' needs prefixlen, such as {{'fixed': 80}}"),
        ({"pods": {"min_prefixlen": 64}}, f"{ENTRY}: policy 'pods' needs max_pods"),
        (
            {"fixed": 80, "pods": 1},
            f"{ENTRY}: policy must be a name ('talos', 'safe') or a mapping",
        ),
        ({}, f"{ENTRY}: policy must be a name"),
        (
            5,
            (
                f"{ENTRY}: policy must be a name ('talos', 'safe') or a mapping with one name "
                f"({{'fixed': 80}}), not int '5'"
            ),
        ),
        ({"safe": 64}, f"{ENTRY}: policy 'safe' takes no value, only options as a mapping"),
        ({"talos": 1}, f"{ENTRY}: policy 'talos' takes no value"),
        (
            {"safe": {"min-pod-addresses": 64}},
            (
                f"{ENTRY}: policy 'safe' has no option 'min-pod-addresses' (its options: "
                f"min_pod_addresses)"
            ),
        ),
        ({"talos": {"x": 1}}, f"{ENTRY}: policy 'talos' has no option 'x' (its options: none)"),
        (
            {"fixed": 200},
            f"{ENTRY}: policy 'fixed': prefixlen must be an integer from 0 to 128, not '200'",
        ),
        (
            {"fixed": True},
            f"{ENTRY}: policy 'fixed': prefixlen must be an integer from 0 to 128, not 'True'",
        ),
        (
            {"safe": {"min_pod_addresses": 3}},
            f"{ENTRY}: policy 'safe': min_pod_addresses must be a power of two, not '3'",
        ),
        (
            {"pods": 0},
            f"{ENTRY}: policy 'pods': max_pods must be an integer from 1 to 2**128, not '0'",
        ),
    ],
)
def test_bad_policy_specs(spec: object, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        ProviderMap([{"prefix": "2001:db8::/32", "prefixlen": 64, "policy": spec}])
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("2001:db8::/32", "a provider map must be a list of entries, not '2001:db8::/32'"),
        (5, "a provider map must be a list of entries, not int '5'"),
        (
            {"prefix": "2001:db8::/32", "prefixlen": 64},
            (
                "a provider map must be a list of entries or a mapping with the one key "
                "'providers', not a mapping with keys \"['prefix', 'prefixlen']\""
            ),
        ),
        ({"providers": 7}, "a provider map must be a list of entries, not int '7'"),
        (
            [["2001:db8::/32", 64]],
            (
                "provider map entry 0 must be a mapping with prefix and prefixlen, not a list of "
                "2 items"
            ),
        ),
        ([{"prefix": "2001:db8::/32"}], "provider map entry 0: missing key 'prefixlen'"),
        ([{"prefixlen": 64}], "provider map entry 0: missing key 'prefix'"),
        (
            [{"prefix": "2001:db8::/32", "prefixlen": 64, "prefix_len": 64}],
            "provider map entry 0: unknown key 'prefix_len' (expected prefix, prefixlen, policy)",
        ),
        (
            [{"prefix": "10.0.0.0/8", "prefixlen": 24}],
            "provider map entry 0: prefix '10.0.0.0/8' is IPv4; it must be IPv6",
        ),
        (
            [{"prefix": "2001:db8::1/32", "prefixlen": 64}],
            (
                "provider map entry 0: prefix '2001:db8::1/32' has host bits set (the prefix is "
                "'2001:db8::/32')"
            ),
        ),
        (
            [{"prefix": "2001:db8::", "prefixlen": 64}],
            (
                "provider map entry 0: prefix '2001:db8::' has no length (expected such as "
                "2a01:4f8::/32)"
            ),
        ),
        (
            [{"prefix": "nonsense/12", "prefixlen": 64}],
            "provider map entry 0: prefix 'nonsense/12'",
        ),
        (
            [{"prefix": 32, "prefixlen": 64}],
            (
                "provider map entry 0: prefix must be IPv6 prefix text (such as 2a01:4f8::/32), "
                "not int '32'"
            ),
        ),
        (
            [{"prefix": "2001:db8::/32", "prefixlen": 16}],
            (
                "provider map entry 0 (2001:db8::/32): prefixlen must be an integer from 32 (the "
                "prefix's length) to 128, not int '16'"
            ),
        ),
        (
            [{"prefix": "2001:db8::/32", "prefixlen": 129}],
            "provider map entry 0 (2001:db8::/32): prefixlen must be an integer from 32",
        ),
        (
            [{"prefix": "2001:db8::/32", "prefixlen": "64"}],
            (
                "provider map entry 0 (2001:db8::/32): prefixlen must be an integer from 32 (the "
                "prefix's length) to 128, not '64'"
            ),
        ),
        (
            [{"prefix": "2001:db8::/32", "prefixlen": True}],
            (
                "provider map entry 0 (2001:db8::/32): prefixlen must be an integer from 32 (the "
                "prefix's length) to 128, not bool 'True'"
            ),
        ),
        (
            [
                {"prefix": "2001:db8::/32", "prefixlen": 64},
                {"prefix": "2001:db8:1::/48", "prefixlen": 64},
                {"prefix": "2001:DB8::/32", "prefixlen": 80},
            ],
            "provider map entry 2: prefix 2001:db8::/32 appears twice (also entry 0)",
        ),
    ],
)
def test_provider_map_validation(entries: Any, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        ProviderMap(entries)
    assert str(info.value).startswith(message)


def test_provider_map_accepts_prefix_objects_and_edge_lengths() -> None:
    providers = ProviderMap(
        [
            {"prefix": Prefix.parse("2001:db8::/32"), "prefixlen": 32},
            {"prefix": ipaddress.IPv6Network("2001:db9::/48"), "prefixlen": 128},
        ]
    )
    assert [entry[:2] for entry in providers.entries] == [
        (Prefix.parse("2001:db8::/32"), 32),
        (Prefix.parse("2001:db9::/48"), 128),
    ]
    assert len(providers) == 2
    assert repr(providers) == "ProviderMap([2001:db8::/32 on /32, 2001:db9::/48 on /128])"


def test_provider_map_from_json_yaml_files_and_the_providers_key(tmp_path: Path) -> None:
    expected = ProviderMap(PROVIDERS).entries
    as_json = json.dumps(PROVIDERS)
    as_yaml = yaml.safe_dump({"providers": PROVIDERS})
    assert ProviderMap.load(as_json).entries == expected
    assert ProviderMap.load(as_yaml).entries == expected
    assert ProviderMap.load(as_yaml.encode()).entries == expected
    assert ProviderMap({"providers": PROVIDERS}).entries == expected
    path = tmp_path / "providers.yaml"
    path.write_text(as_yaml)
    assert ProviderMap.load(path).entries == expected
    assert ProviderMap.load(io.StringIO(as_json)).entries == expected
    handwritten = """
providers:
  - prefix: 2a01:4f8::/29   # Hetzner
    prefixlen: 64
    policy: {fixed: 80}
  - {prefix: "2a02:a:152::/48", prefixlen: 121, policy: talos}
"""
    assert ProviderMap.load(handwritten).entries == (
        (Prefix.parse("2a01:4f8::/29"), 64, FixedPolicy(80)),
        (Prefix.parse("2a02:a:152::/48"), 121, TalosPolicy()),
    )


def test_provider_map_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "providers.json"
    path.write_text('[{"prefix": "2001:db8::/32", "prefixlen": 16}]')
    with pytest.raises(ConfigurationError) as info:
        ProviderMap.load(path)
    assert str(info.value).startswith(f"{path}: provider map entry 0 (2001:db8::/32): prefixlen")
    with pytest.raises(ConfigurationError, match=r"^provider map: expected one document, found 2$"):
        ProviderMap.load("- {prefix: '2001:db8::/32', prefixlen: 64}\n---\n- {}\n")
    with pytest.raises(ConfigurationError, match=r"^provider map: the text is empty$"):
        ProviderMap.load("")
    with pytest.raises(
        ConfigurationError, match=r"^provider map: the text is neither JSON nor YAML"
    ):
        ProviderMap.load("[{prefix: ")
    # A str is text, not a path: a file name reads as a YAML string.
    with pytest.raises(
        ConfigurationError, match=r"must be a list of entries, not 'providers\.yaml'$"
    ):
        ProviderMap.load("providers.yaml")
    with pytest.raises(FileNotFoundError):
        ProviderMap.load(tmp_path / "missing.yaml")


def test_provider_map_without_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    assert len(ProviderMap.load(json.dumps(PROVIDERS))) == 4
    with pytest.raises(ConfigurationError, match=r"pip install 'ipv6alloc\[kubernetes\]'$"):
        ProviderMap.load("- prefix: 2001:db8::/32\n  prefixlen: 64\n")


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(
        ["2001:db8::/32", "prefix", "prefixlen", "policy", "talos", "fixed", "10.0.0.0/8"]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["prefix", "prefixlen", "policy", "providers", "fixed", "safe"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=30,
)


@given(_JSON)
def test_arbitrary_provider_maps_raise_only_configuration_error(value: object) -> None:
    try:
        providers = ProviderMap(value)  # type: ignore[arg-type]
    except ConfigurationError:
        return
    providers.policy()
    assert all(isinstance(prefix, Prefix) for prefix, _, _ in providers.entries)


# -- functions and the search ------------------------------------------------------------------


def talos_api(node: KubeNode) -> list[str] | None:
    return {"w1": ["2001:db8:0:1::7/64"], "w2": []}.get(node.name)


def test_callable_source() -> None:
    source = CallableSource(talos_api)
    assert source.subnets(KubeNode("w1")) == ["2001:db8:0:1::7/64"]
    assert source.subnets(KubeNode("w3")) is None
    assert source.name == "talos_api"
    assert repr(source) == "CallableSource(talos_api)"
    assert CallableSource(talos_api, name="talos").describe(KubeNode("w1")) == "talos"
    assert CallableSource(lambda node: "2001:db8::7/64").subnets(KubeNode("w")) == [
        "2001:db8::7/64"
    ]
    with pytest.raises(TypeError, match="a subnet source function must be callable, not int '5'"):
        CallableSource(5)  # type: ignore[arg-type]


def test_a_callable_returning_the_wrong_type_is_an_error() -> None:
    node = KubeNode("w1")
    lookup = find_subnets(node, [lambda n: 64])  # type: ignore[list-item, return-value]
    assert lookup == SubnetLookup(
        (),
        "<lambda>",
        "error",
        "node 'w1': <lambda> returned int '64'; expected a list of address/len texts or None",
    )


def test_sources_are_tried_in_order_first_answer_wins() -> None:
    providers = ProviderMap([{"prefix": "2001:db8::/32", "prefixlen": 64}])
    both = annotated("2001:db8:5::5/96", addresses=("2001:db8::5",))
    assert find_subnets(both, [AnnotationSource(), providers]).subnets == (
        iface("2001:db8:5::5/96"),
    )
    assert find_subnets(both, [providers, AnnotationSource()]).subnets == (iface("2001:db8::5/64"),)
    # An empty answer passes to the next source, as None does.
    w2 = KubeNode("w2", addresses=("2001:db8::9",))
    assert find_subnets(w2, [talos_api, providers]).source == "provider map 2001:db8::/32"
    w1 = KubeNode("w1", addresses=("2001:db8::9",))
    assert find_subnets(w1, [talos_api, providers]).source == "talos_api"


def test_no_source_knows_the_node() -> None:
    lookup = find_subnets(KubeNode("w9"), [AnnotationSource(), talos_api])
    assert lookup == SubnetLookup((), None, "ok", "no subnet source knew node 'w9'")
    assert find_subnets(KubeNode("w9"), []) == lookup


class Flaky:
    """A source whose service is down: it raises on every call and counts them."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def subnets(self, node: KubeNode) -> list[str] | None:
        self.calls += 1
        raise self.error


def test_a_raising_source_makes_the_node_wait_and_stops_the_search() -> None:
    never = Flaky(RuntimeError("must not be asked"))
    down = Flaky(TimeoutError("metadata\nservice  timed out"))
    node = annotated("2001:db8::5/64")
    lookup = find_subnets(node, [down, AnnotationSource(), never])
    assert lookup == SubnetLookup(
        (), "Flaky", "wait", "Flaky raised TimeoutError: metadata service timed out; retry later"
    )
    assert (down.calls, never.calls) == (1, 0)


def test_a_raising_callable_makes_the_node_wait() -> None:
    def ask_talos(node: KubeNode) -> list[str]:
        raise ConnectionRefusedError

    lookup = find_subnets(KubeNode("w1"), [ask_talos, AnnotationSource()])
    assert lookup.status == "wait"
    assert lookup.source == "ask_talos"
    assert lookup.reason == f"{lookup.source} raised ConnectionRefusedError; retry later"


def test_a_source_raising_while_iterating_its_answer_makes_the_node_wait() -> None:
    def generator(node: KubeNode) -> Any:
        yield "2001:db8::5/64"
        raise OSError("connection reset")

    lookup = find_subnets(KubeNode("w1"), [generator])
    assert lookup.status == "wait"
    assert lookup.reason.endswith("raised OSError: connection reset; retry later")


def test_a_source_answering_garbage_is_an_error() -> None:
    node = KubeNode("w1")
    lookup = find_subnets(node, [lambda n: ["2001:db8::5/64", "10.0.0.1/24"]])
    assert lookup == SubnetLookup(
        (),
        "<lambda>",
        "error",
        (
            "<lambda> gave node 'w1' a bad subnet: '10.0.0.1/24' is IPv4; provider subnets must "
            "be IPv6"
        ),
    )


def test_duplicates_are_dropped_and_interfaces_accepted() -> None:
    lookup = find_subnets(
        KubeNode("w1"),
        [lambda n: ["2001:db8::5/64", Interface.parse("2001:DB8::5/64"), "2001:db8:1::5/64"]],
    )
    assert lookup.subnets == (iface("2001:db8::5/64"), iface("2001:db8:1::5/64"))
    assert lookup.reason == "<lambda> gave 2001:db8::5/64, 2001:db8:1::5/64"


class Described:
    def subnets(self, node: KubeNode) -> list[str] | None:
        return ["2001:db8::5/64"]

    def describe(self, node: KubeNode) -> str:
        raise RuntimeError("no name today")


def test_a_source_without_a_usable_name_shows_its_type() -> None:
    assert find_subnets(KubeNode("w1"), [Described()]).source == "Described"


def test_a_source_that_is_neither_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="must have a subnets\\(node\\) method or be callable"):
        find_subnets(KubeNode("w1"), [5])  # type: ignore[list-item]


def test_lookup_result_is_frozen_and_the_protocol_is_met() -> None:
    sources: list[SubnetSource] = [AnnotationSource(), ProviderMap([]), CallableSource(talos_api)]
    lookup = find_subnets(KubeNode("w1"), sources)
    assert lookup.status == "ok"
    with pytest.raises(AttributeError):
        lookup.status = "wait"  # type: ignore[misc]


def test_the_subnets_found_build_the_core_node() -> None:
    node = annotated("2a02:a:152:202::100/121", addresses=("10.1.0.4",))
    lookup = find_subnets(node, [AnnotationSource()])
    core = node.to_node(lookup.subnets)
    assert core.subnets == (iface("2a02:a:152:202::100/121"),)
    assert [str(a) for a in core.addresses] == ["10.1.0.4/32", "2a02:a:152:202::100/128"]


class Odd:
    """A source object (not a function) answering with a single value or garbage."""

    def __init__(self, answer: object) -> None:
        self.answer = answer

    def subnets(self, node: KubeNode) -> Any:
        return self.answer


def test_a_source_object_may_answer_one_subnet_but_not_garbage() -> None:
    node = KubeNode("w1")
    assert find_subnets(node, [Odd("2001:db8::5/64")]).subnets == (iface("2001:db8::5/64"),)
    assert find_subnets(node, [Odd(iface("2001:db8::5/64"))]).subnets == (iface("2001:db8::5/64"),)
    lookup = find_subnets(node, [Odd({"subnet": "2001:db8::5/64"})])
    assert lookup == SubnetLookup(
        (),
        "Odd",
        "error",
        "node 'w1': Odd returned a mapping of 1 key; expected a list of address/len texts or None",
    )


class _Counted:
    """A subnet source that counts the calls of its describe()."""

    def __init__(self, answer: list[str] | Exception) -> None:
        self.answer = answer
        self.described = 0

    def subnets(self, node: KubeNode) -> list[str]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def describe(self, node: KubeNode) -> str:
        self.described += 1
        return "counted"


@pytest.mark.parametrize(
    ("answer", "status", "reason"),
    [
        (["2001:db8::5/64"], "ok", "counted gave 2001:db8::5/64"),
        (TimeoutError("slow"), "wait", "counted raised TimeoutError: slow; retry later"),
        (["banana"], "error", "counted gave node 'w' a bad subnet: 'banana'"),
        (SubnetSourceError("bad data"), "error", "bad data"),
    ],
)
def test_a_lookup_asks_a_source_its_name_once(
    answer: list[str] | Exception, status: str, reason: str
) -> None:
    source = _Counted(answer)
    lookup = find_subnets(KubeNode("w"), [source])
    assert (lookup.source, lookup.status) == ("counted", status)
    assert lookup.reason.startswith(reason)
    assert source.described == 1
