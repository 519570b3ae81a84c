"""A policy per provider: :class:`ProviderPolicy` picks a mask policy by the node's subnet.

Clusters spread over several clouds get their provider subnets from different prefixes (one
/29 per provider, say) and want a different rule for each. :class:`ProviderPolicy` maps
provider prefixes to policies (any object with the :class:`~ipv6alloc._interface.Policy`
interface, usually those of :mod:`ipv6alloc._policy`); the longest prefix that contains the
node's subnet wins, and a default covers the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, overload

from ._errors import ConfigurationError, PolicyError, quote
from ._interface import Decision, Interface, first_address
from ._policy import SafePolicy
from ._prefix import Prefix

if TYPE_CHECKING:
    from ._interface import InterfaceLike, Policy
    from ._prefix import AddressLike

__all__ = ["ProviderPolicy"]


class ProviderPolicy:
    """A policy per provider prefix: the longest rule containing the node's subnet wins.

    A subnet no rule contains goes to ``default``. The decision's ``reason`` starts with the
    rule that matched, and its ``policy`` reads ``provider(RULE)/NAME``.

    >>> from ipv6alloc import FixedPolicy, PodsPolicy, TalosPolicy
    >>> policy = ProviderPolicy(
    ...     {"2a01:4f8::/29": FixedPolicy(80), "2a01:4f8:c0c::/48": PodsPolicy(256)},
    ...     default=TalosPolicy(),
    ... )
    >>> d = policy.choose("2a01:4f8:c0c:1::1/64")
    >>> d.prefixlen, d.policy
    (120, 'provider(2a01:4f8:c0c::/48)/pods')
    >>> policy.choose("2001:db8::1/64").policy
    'provider(default)/talos'

    Args:
        rules: a mapping, or an iterable of pairs, from an IPv6 prefix (anything
            ``Prefix.coerce`` takes) to a :class:`Policy`.
        default: the policy for subnets no rule contains (:class:`SafePolicy` if omitted).

    Raises:
        ConfigurationError: a rule's prefix is IPv4 or appears twice, or a rule's policy (or
            ``default``) has no ``choose`` method.
        InvalidPrefixError: a rule's prefix is not a valid prefix.
    """

    __slots__ = ("_default", "_rules")

    @overload
    def __init__(self, rules: Mapping[Any, Policy], default: Policy | None = None) -> None: ...
    @overload
    def __init__(
        self, rules: Iterable[tuple[Any, Policy]], default: Policy | None = None
    ) -> None: ...
    def __init__(
        self,
        rules: Mapping[Any, Policy] | Iterable[tuple[Any, Policy]],
        default: Policy | None = None,
    ) -> None:
        given: object = rules  # checked at run time: callers may pass untyped values
        if isinstance(given, Mapping):
            pairs: Iterable[object] = given.items()
        elif isinstance(given, Iterable) and not isinstance(given, str | bytes | bytearray):
            pairs = given
        else:
            raise TypeError(
                "rules must be a mapping or an iterable of (prefix, policy) pairs, "
                f"not {type(given).__name__} {quote(given)}"
            )
        seen: dict[Prefix, Policy] = {}
        for pair in pairs:
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise TypeError(
                    f"each rule must be a (prefix, policy) pair, not {type(pair).__name__} "
                    f"{quote(pair)}"
                )
            key, policy = pair
            prefix = Prefix.coerce(key)
            if prefix.version != 6:
                raise ConfigurationError(
                    f"rule {quote(key)} is IPv4; provider subnets must be IPv6"
                )
            if prefix in seen:
                raise ConfigurationError(f"rule {quote(prefix)} appears twice")
            _check_policy(f"the policy of rule {prefix}", policy)
            seen[prefix] = policy
        if default is None:
            default = SafePolicy()
        _check_policy("default", default)
        # Longest prefix first: the first rule that contains the subnet is the most specific.
        self._rules = tuple(sorted(seen.items(), key=lambda r: (-r[0].prefixlen, r[0].value)))
        self._default = default

    @property
    def name(self) -> str:
        """``"provider"``."""
        return "provider"

    @property
    def rules(self) -> tuple[tuple[Prefix, Policy], ...]:
        """The rules as ``(prefix, policy)`` pairs, longest prefix first."""
        return self._rules

    @property
    def default(self) -> Policy:
        """The policy for subnets no rule contains."""
        return self._default

    def rule_for(self, interface: InterfaceLike) -> Prefix | None:
        """The prefix of the rule that applies to ``interface``, or None for the default.

        Runtime complexity: O(number of rules).

        >>> from ipv6alloc import TalosPolicy
        >>> ProviderPolicy({"2001:db8::/32": TalosPolicy()}).rule_for("2001:db8::1/64")
        Prefix('2001:db8::/32')
        """
        match = self._match(Interface.parse(interface))
        return None if match is None else match[0]

    def _match(self, interface: Interface) -> tuple[Prefix, Policy] | None:
        subnet = interface.subnet
        for rule in self._rules:
            prefix = rule[0]
            if prefix.prefixlen <= subnet.prefixlen and (
                first_address(subnet.value, prefix.prefixlen) == prefix.value
            ):
                return rule
        return None

    def choose(self, interface: InterfaceLike, reserved: Iterable[AddressLike] = ()) -> Decision:
        """Apply the policy of the longest rule that contains the subnet, else the default.

        Runtime complexity: O(number of rules) plus the chosen policy's.

        >>> from ipv6alloc import FixedPolicy
        >>> ProviderPolicy({"2001:db8::/32": FixedPolicy(80)}).choose("2001:db8::7/64").reason
        'rule 2001:db8::/32: 2001:db8::7/64 is a /64: pods get /80 blocks from it (fixed /80), \
except blocks holding one of its 2 reserved addresses'

        Raises:
            PolicyError: the chosen policy refuses; the message starts with the rule.
            InvalidPrefixError: ``interface`` or a ``reserved`` entry is not valid.
        """
        iface = Interface.parse(interface)
        match = self._match(iface)
        if match is None:
            label, head, policy = "default", "no rule matched, default policy", self._default
        else:
            label, head, policy = str(match[0]), f"rule {match[0]}", match[1]
        try:
            decision = policy.choose(iface, reserved)
        except PolicyError as exc:
            raise PolicyError(f"{head}: {exc}") from exc
        return Decision._explained(
            decision.interface,
            decision.pool,
            decision.prefixlen,
            _RuleReason(head, decision),
            decision._reserved,
            f"provider({label})/{decision.policy}",
            decision.reserve_node_addresses,
        )

    def __repr__(self) -> str:
        rules = ", ".join(f"{str(prefix)!r}: {policy!r}" for prefix, policy in self._rules)
        return f"ProviderPolicy({{{rules}}}, default={self._default!r})"


def _check_policy(what: str, policy: object) -> None:
    if not callable(getattr(policy, "choose", None)):
        raise ConfigurationError(
            f"{what} must be a policy with a choose() method, not {quote(policy, use_repr=True)}"
        )


class _RuleReason:
    """Writes a :class:`ProviderPolicy` decision's reason: the rule, then the inner reason."""

    __slots__ = ("head", "inner")

    def __init__(self, head: str, inner: Decision) -> None:
        self.head = head
        self.inner = inner

    def _explain(self, decision: Decision) -> str:
        return f"{self.head}: {self.inner.reason}"
