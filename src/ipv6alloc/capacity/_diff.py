"""What changed per pool between two capacity reports: :class:`CapacityDiff`.

Pools are matched by prefix. A pool only in the second report is ``"added"`` (a what-if's new
provider subnet), one only in the first ``"removed"``, one whose row differs ``"changed"``;
pools whose rows are equal are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from ._records import json_safe
from ._render import count_text, html_row, not_fit_html, not_fit_lines, table_lines

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .._prefix import Prefix
    from ._records import Kind, NotFit, PoolCapacity
    from ._report import CapacityReport

__all__ = ["CapacityDiff", "Change", "PoolChange"]

#: How a pool changed.
Change = Literal["added", "removed", "changed"]
#: The row fields a change shows before and after.
COMPARED: Final = ("pod_prefixlen", "prefixes_used", "nodes_fit", "utilization", "status")
#: The headings of a diff's table.
_HEADINGS: Final = ("POOL", "KIND", "CHANGE", "BEFORE", "AFTER", "NODES FIT")
#: No column of a diff's table is flush right.
_LEFT: Final[frozenset[int]] = frozenset()


@dataclass(frozen=True, slots=True)
class PoolChange:
    """One pool's change.

    Attributes:
        pool: The pool.
        family: Its IP version.
        kind: ``"cluster"`` or ``"provider"``.
        change: ``"added"``, ``"removed"`` or ``"changed"``.
        before: Its row in the first report (None when added).
        after: Its row in the second report (None when removed).
    """

    pool: Prefix
    family: int
    kind: Kind
    change: Change
    before: PoolCapacity | None
    after: PoolCapacity | None

    @property
    def nodes_fit_delta(self) -> int:
        """``after.nodes_fit - before.nodes_fit`` (a missing side counts 0)."""
        return (self.after.nodes_fit if self.after else 0) - (
            self.before.nodes_fit if self.before else 0
        )

    @property
    def prefixes_used_delta(self) -> int:
        """``after.prefixes_used - before.prefixes_used`` (a missing side counts 0)."""
        return (self.after.prefixes_used if self.after else 0) - (
            self.before.prefixes_used if self.before else 0
        )

    def to_record(self) -> dict[str, Any]:
        """The change as a JSON-safe dict.

        Keys: pool, family, kind, change, ``<field>_before`` and ``<field>_after`` for
        pod_prefixlen, prefixes_used, nodes_fit, utilization and status, and the two deltas.
        """
        record: dict[str, Any] = {
            "pool": str(self.pool),
            "family": self.family,
            "kind": self.kind,
            "change": self.change,
        }
        for name in COMPARED:
            record[f"{name}_before"] = json_safe(getattr(self.before, name, None))
            record[f"{name}_after"] = json_safe(getattr(self.after, name, None))
        record["prefixes_used_delta"] = json_safe(self.prefixes_used_delta)
        record["nodes_fit_delta"] = json_safe(self.nodes_fit_delta)
        return record


def _signed(value: int) -> str:
    if value < 0:
        return f"-{count_text(-value)}"
    return f"+{count_text(value)}"


def _side(row: PoolCapacity | None) -> str:
    if row is None:
        return "-"
    return (
        f"/{row.pod_prefixlen} used {count_text(row.prefixes_used)} fit "
        f"{count_text(row.nodes_fit)} ({row.utilization * 100:.1f} %, {row.status})"
    )


@dataclass(frozen=True, slots=True)
class CapacityDiff:
    """What changed per pool from one report to another.

    Attributes:
        changes: One :class:`PoolChange` per pool that changed, in the first report's pool
            order, then the added pools in the second's.
        not_fit: The second report's nodes that would not get prefixes.
    """

    changes: tuple[PoolChange, ...]
    not_fit: tuple[NotFit, ...] = ()

    @classmethod
    def between(cls, before: CapacityReport, after: CapacityReport) -> CapacityDiff:
        """Compare two reports pool by pool. Runtime complexity: O(p) for p pools."""
        later = {row.pool: row for row in after.rows}
        changes = []
        for row in before.rows:
            other = later.pop(row.pool, None)
            if other is None:
                changes.append(PoolChange(row.pool, row.family, row.kind, "removed", row, None))
            elif other != row:
                changes.append(PoolChange(row.pool, row.family, row.kind, "changed", row, other))
        changes.extend(
            PoolChange(row.pool, row.family, row.kind, "added", None, row) for row in later.values()
        )
        return cls(tuple(changes), after.not_fit)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[PoolChange]:
        return iter(self.changes)

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-safe dict per change (see :meth:`PoolChange.to_record`)."""
        return [change.to_record() for change in self.changes]

    def _cells(self) -> list[list[str]]:
        return [
            [
                str(c.pool),
                c.kind,
                c.change,
                _side(c.before),
                _side(c.after),
                _signed(c.nodes_fit_delta),
            ]
            for c in self.changes
        ]

    def __str__(self) -> str:
        if self.changes:
            lines = table_lines([list(_HEADINGS), *self._cells()])
        else:
            lines = ["no pool changed"]
        return "\n".join([*lines, *not_fit_lines(self.not_fit, None)])

    def _repr_html_(self) -> str:
        if self.changes:
            head = html_row((h.lower() for h in _HEADINGS), _LEFT, heading=True)
            body = "".join(html_row(row, _LEFT) for row in self._cells())
            table = (
                '<table style="border-collapse:collapse;font-family:monospace">'
                f"<thead>{head}</thead><tbody>{body}</tbody></table>"
            )
        else:
            table = "<p>no pool changed</p>"
        return table + not_fit_html(self.not_fit, None)

    def __repr__(self) -> str:
        counts = {
            kind: sum(1 for c in self.changes if c.change == kind)
            for kind in ("added", "removed", "changed")
        }
        text = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        return f"CapacityDiff({text}, {len(self.not_fit)} not fit)"
