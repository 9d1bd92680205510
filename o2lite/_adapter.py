"""o2lite's own ``requests`` adapter and prepared-request templates: the per-request work of
``requests`` that o2lite's own session does not need, done once or not at all.

Used only for a session o2lite creates; a caller's own session goes the ordinary way. The
adapter carries o2lite's own requests when ``requests`` must (a proxy, Pyodide, a test double,
``stdlib_http=False``); the templates also give the ``http.client`` path
(:mod:`o2lite._pool`) the request line and headers ``requests`` would send, via :meth:`Templates.head`.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Mapping, Optional, Tuple

from ._pool import RequestHead, request_head

__all__ = ["lean_adapter", "Templates"]

_ADAPTER_CLASS: Any = None
_CLASS_LOCK = threading.Lock()


def _one_write(base: Any) -> Any:
    """``base`` (a urllib3 connection class) sending the header block and the body in one write.

    ``http.client`` and urllib3 write the header block in ``endheaders()`` and the body in a
    second ``send()``: two system calls, two packets with ``TCP_NODELAY`` (two TLS records on
    HTTPS), and under threads two more hand-offs of the GIL. Here the header block written
    inside ``endheaders()`` is held and goes out with the next write; a request without a body
    (a GET) sends it just before its answer is read. The connection is still opened where
    ``http.client`` opens it, so a refused connection is still an error before anything is
    sent, and urllib3 still sees an open socket to set its read timeout on. The bytes on the
    wire are unchanged.
    """

    class OneWrite(base):  # type: ignore[misc]
        _held: Optional[bytes] = None
        _holding = False

        def endheaders(self, *args: Any, **kwargs: Any) -> Any:
            self._holding = True
            try:
                return super().endheaders(*args, **kwargs)
            finally:
                self._holding = False

        def send(self, data: Any) -> Any:
            if self._holding and self._held is None and isinstance(data, bytes):
                if self.sock is None and self.auto_open:
                    self.connect()  # as http.client's send would: connect errors surface here, unsent
                self._held = data  # the header block: wait for the body
                return None
            held, self._held = self._held, None
            if held is not None:
                if isinstance(data, (bytes, bytearray)):
                    data = held + data
                else:
                    super().send(held)
            return super().send(data)

        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            held, self._held = self._held, None
            if held is not None:
                super().send(held)
            return super().getresponse(*args, **kwargs)

        def close(self) -> None:
            self._held = None
            super().close()

    OneWrite.__name__ = OneWrite.__qualname__ = "OneWrite" + base.__name__
    return OneWrite


def _adapter_class() -> Any:
    global _ADAPTER_CLASS
    with _CLASS_LOCK:
        if _ADAPTER_CLASS is not None:
            return _ADAPTER_CLASS
        import requests
        import urllib3  # requests' own dependency: its connection pools are what we tune

        class HTTPPool(urllib3.HTTPConnectionPool):
            ConnectionCls = _one_write(urllib3.connection.HTTPConnection)

        class HTTPSPool(urllib3.HTTPSConnectionPool):
            ConnectionCls = _one_write(urllib3.connection.HTTPSConnection)

        class LeanAdapter(requests.adapters.HTTPAdapter):
            def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
                super().init_poolmanager(*args, **kwargs)
                # Direct connections only; a proxy manager keeps urllib3's own classes.
                self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

        _ADAPTER_CLASS = LeanAdapter
        return _ADAPTER_CLASS


def lean_adapter(pool_size: int) -> Any:
    """The ``HTTPAdapter`` of o2lite's own session: ``pool_size`` pooled connections per host,
    one write per request (see :func:`_one_write`). Being an ``HTTPAdapter``, its ``send`` is
    the one test mocks such as ``responses`` replace."""
    return _adapter_class()(pool_connections=4, pool_maxsize=pool_size)


class Templates:
    """Prepared requests by (method, URL, headers), copied per call instead of re-prepared.

    ``PreparedRequest.prepare`` re-parses the URL, re-validates every header and re-encodes
    empty params on every call (~35 µs); a copy of a template prepared once costs ~4 µs and
    carries the very same URL, headers and URL-embedded auth. Only the body and its
    ``Content-Length`` differ per call, set exactly as ``prepare_body`` sets them for bytes.
    A URL with a query string is prepared afresh (GET reads, off the order path). At most
    ``limit`` templates are kept; past that the cache starts over.
    """

    def __init__(self, limit: int = 256) -> None:
        self._cache: Dict[Tuple[Any, ...], Any] = {}
        self._heads: Dict[Tuple[Any, ...], RequestHead] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def _template(self, key: Tuple[Any, ...], method: str, url: str, headers: Mapping[str, str]) -> Any:
        import requests

        template = self._cache.get(key)
        if template is None:
            template = requests.PreparedRequest()
            template.prepare(method=method, url=url, headers=headers)
            with self._lock:
                if len(self._cache) >= self._limit:
                    self._cache.clear()
                self._cache[key] = template
        return template

    def prepared(self, method: str, url: str, query: Mapping[str, Any], data: Optional[bytes],
                 headers: Mapping[str, str]) -> Any:
        """A ``PreparedRequest`` for this exchange (a fresh copy: callers may not share it)."""
        import requests

        if query:
            prepared = requests.PreparedRequest()
            prepared.prepare(method=method, url=url, headers=headers, data=data, params=query)
            return prepared
        prepared = self._template((method, url, data is None, *headers.items()), method, url, headers).copy()
        if data is not None:
            prepared.body = data
            prepared.headers["Content-Length"] = str(len(data))
        return prepared

    def head(self, method: str, url: str, query: Mapping[str, Any], headers: Mapping[str, str]) -> RequestHead:
        """The :class:`~o2lite._pool.RequestHead` ``requests`` would write for this exchange
        (its body and ``Content-Length`` are added per call); cached unless there is a query."""
        if query:
            return request_head(self.prepared(method, url, query, None, headers))
        key = ("head", method, url, *headers.items())
        head = self._heads.get(key)
        if head is None:
            head = request_head(self._template((method, url, True, *headers.items()), method, url, headers))
            with self._lock:
                if len(self._heads) >= self._limit:
                    self._heads.clear()
                self._heads[key] = head
        return head
