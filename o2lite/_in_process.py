"""Exchanges served inside this process: a base URL → the ``requests`` adapter that answers it.

A sandbox started with ``in_process=True`` (:mod:`o2lite.sandbox`) has a URL under
:data:`IN_PROCESS_DOMAIN` and registers an adapter for it here. A :class:`~o2lite.Client` built
for that URL without a session of its own gets a ``requests.Session`` with the adapter mounted,
so every request (the write path included) goes to the exchange by a function call: no socket,
no thread. That is what lets the README, the demo and the examples run in Pyodide, where a
sandbox cannot listen on a socket. ``.invalid`` (RFC 6761) never resolves, so a request that
misses the adapter fails as an unknown host; it never reaches a network.

This module knows nothing of the sandbox: ``import o2lite`` still never loads it.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

from .errors import ValidationError

__all__ = ["IN_PROCESS_DOMAIN", "EMSCRIPTEN", "register", "unregister", "is_in_process", "in_process_session"]

IN_PROCESS_DOMAIN = "sandbox.invalid"  # RFC 6761 reserves .invalid: no DNS answers it
EMSCRIPTEN = sys.platform == "emscripten"  # Pyodide: no sockets of its own, no threads

_ADAPTERS: Dict[str, Any] = {}
_LOCK = threading.Lock()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_in_process(url: str) -> bool:
    """True when ``url`` names an in-process exchange (registered or not)."""
    host = (urlsplit(url).hostname or "").lower()
    return host == IN_PROCESS_DOMAIN or host.endswith("." + IN_PROCESS_DOMAIN)


def register(url: str, adapter: Any) -> None:
    """Answer requests to ``url``'s scheme and host with ``adapter`` from now on."""
    if not is_in_process(url):
        raise ValueError(f"an in-process exchange lives under .{IN_PROCESS_DOMAIN}, not {url!r}")
    with _LOCK:
        _ADAPTERS[_origin(url)] = adapter


def unregister(url: str) -> None:
    """Forget the adapter of ``url`` (a stopped sandbox)."""
    with _LOCK:
        _ADAPTERS.pop(_origin(url), None)


def in_process_session(base_url: str) -> Optional[Any]:
    """A ``requests.Session`` reaching the in-process exchange at ``base_url``, or ``None`` when
    ``base_url`` is an ordinary URL.

    The session trusts nothing from the environment (no proxy or ``.netrc`` applies to a
    function call). Raises :class:`~o2lite.errors.ValidationError` for an in-process URL whose
    sandbox is not running (never started, or stopped).
    """
    if not is_in_process(base_url):
        return None
    with _LOCK:
        adapter = _ADAPTERS.get(_origin(base_url))
    if adapter is None:
        raise ValidationError(f"no in-process sandbox is running at {base_url}: start it first "
                              "(`with Sandbox(in_process=True) as sandbox:` or `sandbox.start()`)")
    import requests  # lazy, as in the transport

    session = requests.Session()
    session.trust_env = False
    session.mount(_origin(base_url) + "/", adapter)
    return session
