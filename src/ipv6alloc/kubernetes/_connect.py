"""Connecting to a cluster with the official client, as kubectl finds its configuration.

The order is kubectl's: ``--kubeconfig``, then ``$KUBECONFIG`` (its first file), then
``~/.kube/config``, and in a pod without any of them the pod's service account (in-cluster
configuration). The ``kubernetes`` package is imported here only: ``pip install
'ipv6alloc[kubernetes]'``.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError
from ._errors import NodeReadError

__all__ = ["connect", "kubeconfig_path", "list_nodes", "official"]

_HINT = "pip install 'ipv6alloc[kubernetes]'"


def official(name: str) -> Any:
    """The official client's module ``kubernetes.<name>``, imported when first needed.

    Typed Any: parts of the client (``watch``, ``leaderelection``) ship no types.

    Raises:
        ConfigurationError: the ``kubernetes`` package is missing (the message says how to
            install it).
    """
    try:
        return importlib.import_module(f"kubernetes.{name}")
    except ImportError:
        raise ConfigurationError(
            f"talking to a cluster needs the official client: {_HINT}"
        ) from None


def list_nodes(api: Any, timeout: float = 30.0) -> dict[str, Any]:
    """Every Node, as the API server's JSON ``NodeList`` (``CoreV1Api.list_node``, unparsed).

    Raises:
        NodeReadError: the answer is not a JSON object.
    """
    response = api.list_node(_request_timeout=timeout, _preload_content=False)
    try:
        data = json.loads(response.data)
    finally:
        response.release_conn()
    if not isinstance(data, dict):
        raise NodeReadError("the API server's node list is not a JSON object")
    return data


def kubeconfig_path(given: str | None = None) -> str | None:
    """The kubeconfig file to use, as kubectl picks it, or None (in-cluster or nothing).

    >>> kubeconfig_path("/etc/k8s/admin.conf")
    '/etc/k8s/admin.conf'
    """
    if given:
        return given
    listed = os.environ.get("KUBECONFIG", "")
    first = next((p for p in listed.split(os.pathsep) if p), None)
    if first:
        return first
    default = Path.home() / ".kube" / "config"
    return str(default) if default.is_file() else None


def connect(kubeconfig: str | None = None, context: str | None = None) -> Any:
    """An ``ApiClient`` of the official client for the cluster kubectl would talk to.

    Raises:
        ConfigurationError: the ``kubernetes`` package is missing, no configuration is found,
            or the kubeconfig is not valid (the message says which).
    """
    client, config = official("client"), official("config")
    path = kubeconfig_path(kubeconfig)
    try:
        if path is not None:
            return config.new_client_from_config(config_file=path, context=context)
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
    except (config.ConfigException, OSError, ValueError, TypeError) as exc:
        where = path or "the in-cluster service account"
        raise ConfigurationError(f"cannot use {where}: {exc}") from None
    raise ConfigurationError(
        "no cluster configuration: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, "
        "or run in a pod"
    )
