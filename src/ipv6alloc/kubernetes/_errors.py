"""The errors of the Kubernetes edge.

The tree (both below the core's base class)::

    Ipv6AllocError
    ├── NodeReadError (ValueError)       an object, text or file that holds no valid Node (list)
    └── SubnetSourceError (ValueError)   a subnet source holds malformed data for a node

Each message names the item (its index and name when known) and quotes the bad value with
:func:`ipv6alloc._errors.quote`, cut after 40 characters.
"""

from __future__ import annotations

from .._errors import Ipv6AllocError

__all__ = ["NodeReadError", "SubnetSourceError"]


class NodeReadError(Ipv6AllocError, ValueError):
    """An object, text or file is not a Node (or a list of Nodes); the message names the item."""


class SubnetSourceError(Ipv6AllocError, ValueError):
    """A subnet source holds malformed data for a node (a bad annotation entry, say).

    :func:`~ipv6alloc.kubernetes.find_subnets` turns it into the node's ``"error"`` status:
    retrying does not help until someone fixes the data.
    """
