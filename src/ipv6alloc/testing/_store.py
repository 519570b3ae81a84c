"""The emulator's storage: objects, one resourceVersion counter, and each resource's history.

One lock (a condition, re-entrant) guards everything; watchers wait on it for new events. The
resourceVersion counter is global and only grows, as etcd's revision does, and every write
takes the next value. Each resource keeps its last ``history`` events for watches; a watch from
a resourceVersion older than that (or older than the last :meth:`Store.compact`) has expired,
with upstream's message ``too old resource version: RV (OLDEST)`` (``watch_cache.go`` in
``k8s.io/apiserver/pkg/storage/cacher``).
"""

from __future__ import annotations

import collections
import copy
import threading
from dataclasses import dataclass
from typing import Final

__all__ = ["Event", "Key", "Store"]

#: ``(namespace, name)``; the namespace is ``""`` for cluster-scoped objects.
Key = tuple[str, str]
_DEFAULT_HISTORY: Final = 1000


@dataclass(frozen=True, slots=True)
class Event:
    """One change, as a watch sends it.

    Attributes:
        rv: The resourceVersion of the change.
        type: ``ADDED``, ``MODIFIED`` or ``DELETED``.
        key: The object's key.
        obj: The object after the change (before it, with the new resourceVersion, for
            ``DELETED``).
    """

    rv: int
    type: str
    key: Key
    obj: dict[str, object]


class Store:
    """Objects by resource and key, a resourceVersion counter, and bounded histories.

    Read through :meth:`get` and :meth:`items`, which return copies; write through
    :meth:`put` and :meth:`delete` while holding :attr:`lock` for a read-modify-write.

    >>> store = Store()
    >>> with store.lock:
    ...     store.put("nodes", ("", "a"), {"metadata": {"name": "a"}}, "ADDED")
    '1'
    >>> store.get("nodes", ("", "a"))["metadata"]["resourceVersion"], store.rv
    ('1', 1)
    """

    def __init__(self, history: int = _DEFAULT_HISTORY) -> None:
        if history < 1:
            raise ValueError(f"history must keep at least one event, not {history}")
        self.lock = threading.Condition(threading.RLock())
        self.rv = 0
        self._history_size = history
        self._objects: dict[str, dict[Key, dict[str, object]]] = collections.defaultdict(dict)
        self._history: dict[str, collections.deque[Event]] = collections.defaultdict(
            lambda: collections.deque(maxlen=self._history_size)
        )
        self._floor: dict[str, int] = collections.defaultdict(int)
        self._compacted = 0

    def get(self, resource: str, key: Key) -> dict[str, object] | None:
        """A copy of the object stored under ``key``, or None."""
        with self.lock:
            found = self._objects[resource].get(key)
            return copy.deepcopy(found) if found is not None else None

    def items(self, resource: str, namespace: str | None = None) -> list[dict[str, object]]:
        """Copies of the objects of a resource (one namespace, or all), sorted by key."""
        with self.lock:
            stored = self._objects[resource]
            return [
                copy.deepcopy(stored[key])
                for key in sorted(stored)
                if namespace is None or key[0] == namespace
            ]

    def put(self, resource: str, key: Key, obj: dict[str, object], event: str) -> str:
        """Store ``obj`` (taken over, not copied) with the next resourceVersion; return it."""
        with self.lock:
            self._objects[resource][key] = obj
            return self._record(resource, key, obj, event)

    def delete(self, resource: str, key: Key) -> dict[str, object] | None:
        """Remove an object; return it with its deletion's resourceVersion, or None."""
        with self.lock:
            obj = self._objects[resource].pop(key, None)
            if obj is not None:
                self._record(resource, key, obj, "DELETED")
            return obj

    def _record(self, resource: str, key: Key, obj: dict[str, object], event: str) -> str:
        """Give ``obj`` the next resourceVersion and add the change to the history; return it."""
        self.rv += 1
        rv = str(self.rv)
        metadata = obj.setdefault("metadata", {})
        if isinstance(metadata, dict):
            metadata["resourceVersion"] = rv
        history = self._history[resource]
        if len(history) == history.maxlen:
            self._floor[resource] = history[0].rv
        history.append(Event(self.rv, event, key, copy.deepcopy(obj)))
        self.lock.notify_all()
        return rv

    def events_since(self, resource: str, rv: int) -> list[Event] | None:
        """The events of a resource after ``rv``; None when some of them are gone."""
        with self.lock:
            if rv < self.oldest(resource):
                return None
            return [event for event in self._history[resource] if event.rv > rv]

    def oldest(self, resource: str) -> int:
        """The oldest resourceVersion a watch of ``resource`` may start from."""
        with self.lock:
            return max(self._floor[resource], self._compacted)

    def compact(self) -> None:
        """Forget every history: a watch from before now has expired (410 Gone)."""
        with self.lock:
            for history in self._history.values():
                history.clear()
            self._compacted = self.rv
            self.lock.notify_all()

    def wake(self) -> None:
        """Wake every watcher (the emulator is stopping)."""
        with self.lock:
            self.lock.notify_all()
