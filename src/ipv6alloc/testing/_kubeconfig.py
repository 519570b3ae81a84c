"""A kubeconfig for the emulator: one cluster, one user with a dummy token, one context.

It is written as JSON, which is YAML too: kubectl and the official client read it as they read
any kubeconfig. The emulator serves plain HTTP, so no certificate is needed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Final

__all__ = ["CONTEXT", "kubeconfig", "write_kubeconfig"]

#: The name of the cluster, the user and the context.
CONTEXT: Final = "ipv6alloc-emulator"
_TOKEN: Final = "ipv6alloc-emulator-token"


def kubeconfig(url: str) -> dict[str, object]:
    """The kubeconfig for an emulator at ``url``.

    >>> kubeconfig("http://127.0.0.1:8080")["clusters"]
    [{'name': 'ipv6alloc-emulator', 'cluster': {'server': 'http://127.0.0.1:8080'}}]
    """
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": url}}],
        "users": [{"name": CONTEXT, "user": {"token": _TOKEN}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write_kubeconfig(url: str, path: str | os.PathLike[str]) -> Path:
    """Write the kubeconfig for ``url`` to ``path`` (owner-only permissions); return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(kubeconfig(url), indent=2) + "\n"
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return target
