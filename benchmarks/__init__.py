"""Benchmarks of ipv6alloc against the peers a user would pick instead.

Run ``python -m benchmarks.run`` (``--quick`` for the small CI subset), then
``python -m benchmarks.plot``. The method, peers and scenarios are described in
``docs/performance.md``.
"""
