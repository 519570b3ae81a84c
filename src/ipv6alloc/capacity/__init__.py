"""ipv6alloc.capacity: how many more nodes fit in each pool, and which runs out first.

An edge of the library: it reads the core through public API only (frozen statistics, the
node allocator's settings and decisions), and the core never imports it. Importing it loads
only the standard library and the core; pandas (``to_pandas()``, ``pip install
'ipv6alloc[pandas]'``), matplotlib (``plot()``, ``pip install 'ipv6alloc[plot]'``) and the
Kubernetes edge (``from_nodes`` with Kubernetes Nodes) are imported when first needed.

- :class:`CapacityReport` holds one :class:`PoolCapacity` row per pool (pod prefixes in it,
  used, free, unusable, how many more nodes fit, utilization, fragmentation, status), the
  :class:`Totals` per family and kind, and what runs out first (:class:`Exhaustion`). It
  renders itself as text, as HTML in Jupyter, as JSON-safe records, CSV, a DataFrame, and
  plots; :meth:`~CapacityReport.what_if` simulates added nodes or new settings on a copy and
  lists the nodes that would not fit (:class:`NotFit`); :meth:`~CapacityReport.diff` compares
  two reports (:class:`CapacityDiff`).
- :class:`Thresholds` sets when a pool turns ``"warn"`` (75 %) and ``"critical"`` (90 %, or
  no node fits).

>>> from ipv6alloc import PrefixAllocator
>>> from ipv6alloc.capacity import CapacityReport
>>> pool = PrefixAllocator(["2001:db8::/64"])
>>> report = CapacityReport.from_allocator(pool, pod_prefixlen=80)
>>> report.rows[0].nodes_fit
65536
"""

from .._errors import show_as as _show_as
from ._diff import CapacityDiff, PoolChange
from ._records import FIELDS, Exhaustion, NotFit, PoolCapacity, Thresholds, Totals
from ._report import DEFAULT_MAX_PODS, CapacityReport

__all__ = [
    "DEFAULT_MAX_PODS",
    "FIELDS",
    "CapacityDiff",
    "CapacityReport",
    "Exhaustion",
    "NotFit",
    "PoolCapacity",
    "PoolChange",
    "Thresholds",
    "Totals",
]

# Show the public names here in reprs and tracebacks (``ipv6alloc.capacity.CapacityReport``).
_show_as(__name__, globals(), __all__)
