"""A local O2-compatible exchange for learning, testing and demos (not imported by ``import o2lite``).

``Exchange`` is the engine (no I/O); ``Sandbox`` serves it over HTTP on loopback.
"""

from .exchange import DEFAULT_MARKETS, Exchange

__all__ = ["Exchange", "DEFAULT_MARKETS"]
