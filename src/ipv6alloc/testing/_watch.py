"""Selectors and watches: which objects a list or a watch keeps, and the stream of a watch.

A watch from a resourceVersion streams the changes after it; without one it first sends the
current objects as ``ADDED``. When the history no longer reaches back to the resourceVersion
asked for, the stream holds one ``ERROR`` event whose object is a 410 ``Expired`` Status (the
API server's watch cache answers so: ``newErrWatcher`` in
``k8s.io/apiserver/pkg/storage/cacher/cacher.go``, message from ``watch_cache.go``).
Selectors take equality terms only: ``fieldSelector`` on ``metadata.name`` (and
``metadata.namespace``), ``labelSelector`` with ``=``, ``==``, ``!=``, ``key`` and ``!key``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Final

from ._rules import object_meta, text
from ._status import bad_request, status

if TYPE_CHECKING:
    import threading

    from ._api import Route
    from ._rules import Kind
    from ._store import Store

__all__ = ["Selector", "Watch", "selector"]

#: Keeps an object or not.
Selector = Callable[[Mapping[str, object]], bool]
_WAIT_STEP: Final = 0.25


def selector(kind: Kind, query: Mapping[str, str]) -> Selector:
    """The objects a ``fieldSelector`` and a ``labelSelector`` keep (equality terms only)."""
    tests: list[Selector] = []
    fields = ["metadata.name", "metadata.namespace"] if kind.namespaced else ["metadata.name"]
    for term in filter(None, query.get("fieldSelector", "").split(",")):
        key, negate, value = _term(term)
        if key not in fields or value is None:
            raise bad_request(f"field label not supported: {key}")
        tests.append(_field_test(key.split(".")[1], value, negate=negate))
    for term in filter(None, query.get("labelSelector", "").split(",")):
        if "(" in term or " " in term.strip():
            raise bad_request(
                f"unable to parse requirement: {term!r}: only =, == and != are served"
            )
        key, negate, value = _term(term.strip())
        tests.append(_label_test(key, value, negate=negate))
    return lambda obj: all(test(obj) for test in tests)


def _field_test(field: str, value: str, *, negate: bool) -> Selector:
    return lambda obj: (text(object_meta(obj).get(field)) == value) != negate


def _label_test(key: str, value: str | None, *, negate: bool) -> Selector:
    return lambda obj: _label(obj, key, value) != negate


def _term(term: str) -> tuple[str, bool, str | None]:
    """``(key, negated, value)`` of ``k=v``, ``k==v``, ``k!=v``, ``k`` or ``!k``."""
    if "!=" in term:
        key, value = term.split("!=", 1)
        return key, True, value
    if "=" in term:
        key, value = term.split("==", 1) if "==" in term else term.split("=", 1)
        return key, False, value
    if term.startswith("!"):
        return term[1:], True, None
    return term, False, None


def _label(obj: Mapping[str, object], key: str, value: str | None) -> bool:
    labels = object_meta(obj).get("labels")
    labels = labels if isinstance(labels, dict) else {}
    return key in labels if value is None else labels.get(key) == value


# -- watches --------------------------------------------------------------------------------------


class Watch:
    """An open watch: the events to stream, read with :meth:`events`."""

    def __init__(
        self,
        store: Store,
        route: Route,
        keep: Selector,
        start: int | None,
        seconds: float,
    ) -> None:
        self._store = store
        self._route = route
        self._keep = keep
        self._deadline = time.monotonic() + seconds
        self._pending: list[dict[str, object]] = []
        with store.lock:
            if start is None:  # no resourceVersion: the current objects first
                self._pending = [
                    {"type": "ADDED", "object": obj}
                    for obj in store.items(route.kind.resource, route.namespace or None)
                    if self._wanted(obj)
                ]
                start = store.rv
            self._last = start

    def _wanted(self, obj: Mapping[str, object]) -> bool:
        meta = object_meta(obj)
        if self._route.name and meta.get("name") != self._route.name:
            return False
        return self._keep(obj)

    def events(self, stopping: threading.Event) -> Iterator[dict[str, object]]:
        """The events after the start, until the timeout or ``stopping``; a gap ends in 410."""
        yield from self._pending
        resource = self._route.kind.resource
        while not stopping.is_set():
            with self._store.lock:
                while True:
                    events = self._store.events_since(resource, self._last)
                    left = self._deadline - time.monotonic()
                    if events or events is None or left <= 0 or stopping.is_set():
                        break
                    self._store.lock.wait(min(left, _WAIT_STEP))
                oldest = self._store.oldest(resource)
            if events is None:
                message = f"too old resource version: {self._last} ({oldest})"
                yield {"type": "ERROR", "object": status(410, "Expired", message)}
                return
            for event in events:
                self._last = event.rv
                namespace = self._route.namespace
                if (not namespace or event.key[0] == namespace) and self._wanted(event.obj):
                    yield {"type": event.type, "object": event.obj}
            if time.monotonic() >= self._deadline:
                return
