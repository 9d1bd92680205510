"""A local O2-compatible exchange for learning, testing and demos (not imported by ``import o2lite``).

``Exchange`` is the engine (no I/O); ``Sandbox`` serves it over HTTP on loopback, or, with
``in_process=True`` (the default under Pyodide), to clients in this process with no socket and
no thread (:mod:`o2lite.sandbox.in_process`)::

    from o2lite.sandbox import Sandbox
    with Sandbox() as sx, o2lite.Client(sx.url) as client:
        ...
"""

from .exchange import DEFAULT_MARKETS, Exchange
from .server import Sandbox

__all__ = ["Exchange", "Sandbox", "DEFAULT_MARKETS"]
