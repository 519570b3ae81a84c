"""ipv6alloc.testing: a Kubernetes API emulator that enforces the API server's Node rules.

No kube-apiserver is needed to test code that assigns ``spec.podCIDRs``: :class:`Emulator`
serves, over HTTP on loopback, what the official Python client, kubectl and this project's
Kubernetes adapter use, and refuses what a real API server refuses, with the same status codes,
reasons, messages and ``details.causes``:

- Nodes: list, get, create, delete, watch (from a resourceVersion; 410 Expired after
  :meth:`Emulator.compact`), update, and patch as JSON merge patch, strategic merge patch or
  JSON patch; ``/status`` too. podCIDRs are write-once (``node updates may not change podCIDR
  except from "" to valid``), one per IP family, strictly valid CIDRs (Kubernetes 1.36's
  ``StrictIPCIDRValidation``), with ``podCIDR``/``podCIDRs`` converted as the API server does
  (the singular field wins); status changes on the main resource are dropped.
- core/v1 Events and coordination.k8s.io/v1 Leases (enough for the official client's
  ``kubernetes.leaderelection``).
- Discovery (``/version``, ``/api``, ``/apis`` ...) for kubectl (with ``--validate=false``).
- Faults on demand (:meth:`Emulator.inject`): 409, 429 with ``Retry-After``, 500, a request
  that never gets an answer, or a write whose answer is lost.

Upstream sources of the rules (kubernetes/kubernetes): ``pkg/apis/core/validation/validation.go``
(``ValidateNode``, ``ValidateNodeUpdate``), ``pkg/registry/core/node/strategy.go``
(``PrepareForUpdate``, ``ValidateUpdate``), ``pkg/apis/core/v1/conversion.go``
(``Convert_v1_NodeSpec_To_core_NodeSpec``), ``k8s.io/apimachinery/pkg/util/validation/ip.go``
(strict CIDRs), ``k8s.io/apimachinery/pkg/api/errors/errors.go`` and
``k8s.io/apimachinery/pkg/util/validation/field/errors.go`` (Status and cause texts),
``k8s.io/apiserver/pkg/endpoints/handlers/patch.go`` (patch handling),
``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`` (strategic merge),
``k8s.io/apiserver/pkg/storage/cacher/watch_cache.go`` and ``cacher.go`` (an expired watch is
an ``ERROR`` event carrying a 410 ``Expired`` Status), ``k8s.io/apiserver/pkg/server/filters/
maxinflight.go`` (429) and ``k8s.io/api/core/v1/types.go`` (patch strategies).

Start one from the command line with ``python -m ipv6alloc.testing serve`` (see
``docs/testing.md``).

An edge of the library: it imports the standard library and the core, never the reverse.
"""

from .._errors import show_as as _show_as
from ._emulator import DEFAULT_VERSION, Emulator, node_object
from ._server import Fault, FaultRule, RequestRecord
from ._status import ApiError

__all__ = [
    "DEFAULT_VERSION",
    "ApiError",
    "Emulator",
    "Fault",
    "FaultRule",
    "RequestRecord",
    "node_object",
]

# Show the public names here in reprs and tracebacks (``ipv6alloc.testing.Emulator``).
_show_as(__name__, globals(), __all__)
