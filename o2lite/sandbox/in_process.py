"""A ``requests`` transport adapter that answers from the sandbox exchange in this process.

No socket, no thread: :meth:`InProcessAdapter.send` hands the prepared request's method,
path, headers and body bytes to the sandbox (:func:`o2lite.sandbox.dispatch.answer`, the very
function the loopback server calls) and wraps the answer in a ``requests.Response`` whose
body is read like any other (``iter_content``, ``json()``). The JSON is encoded as the server
encodes it, so a client reads the same bytes either way.

>>> import o2lite
>>> from o2lite.sandbox import Sandbox
>>> with Sandbox(in_process=True) as sx, o2lite.Client(sx.url) as client:
...     [m.pair for m in client.markets.list()]
['FUEL/USDC', 'ETH/USDC']
"""

from __future__ import annotations

import http
import io
import json
import logging
from typing import Any, Callable, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from .._sent import RefusedBeforeSending
from .dispatch import Answer, cors_headers, error_answer, internal_error

log = logging.getLogger("o2lite.sandbox")

__all__ = ["InProcessAdapter"]

Responder = Callable[[str, str, Dict[str, str], bytes], Tuple[int, Any, Dict[str, str]]]


class InProcessAdapter(requests.adapters.BaseAdapter):
    """Mount it on a ``requests.Session`` for the sandbox's URL (``o2lite.Client`` does this
    itself for a URL of a running in-process sandbox).

    What the loopback server refuses before the exchange sees a request is refused here the
    same way (the limits of the standard library's ``http.server``): a request line over
    64 KiB (414), a header line over 64 KiB or more than 100 headers (431), a body without a
    length (411). While :attr:`accepting` is false (a sandbox not started, or stopped) every
    request fails as a refused connection: nothing reached the exchange.

    Args:
        respond: ``(method, path and query, headers, body bytes) → (status, JSON body, headers)``
            — :meth:`o2lite.sandbox.Sandbox.answer`.
    """

    def __init__(self, respond: Responder) -> None:
        super().__init__()
        self._respond = respond
        self.accepting = True

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        """Answer ``request`` by a function call. ``timeout``, ``verify``, ``cert`` and
        ``proxies`` have nothing to act on in process and are ignored."""
        url = urlsplit(str(request.url))
        if not self.accepting:
            refused = RefusedBeforeSending(f"the in-process sandbox at {url.netloc} is not running")
            raise requests.ConnectionError(f"connection refused: {refused}", request=request) from refused
        method = str(request.method)
        target = url.path + ("?" + url.query if url.query else "")
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        sent = {str(k): v if isinstance(v, str) else v.decode("latin-1") for k, v in request.headers.items()}
        refusal = _refused_by_http(method, target, sent, body)
        if refusal is not None:
            status, payload, headers = refusal
        else:
            try:
                status, payload, headers = self._respond(method, target, sent, body or b"")  # type: ignore[arg-type]
            except Exception:  # a bug: the server answers the same 500
                log.exception("sandbox: internal error on %s %s", method, target[:200])
                status, payload, headers = internal_error(method)
        try:
            data = b"" if status == 204 else json.dumps(payload, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:  # a bug: the server drops the connection, unanswered
            log.exception("sandbox: unencodable answer to %s %s", method, target[:200])
            raise requests.ConnectionError(f"the in-process sandbox sent no answer ({exc})", request=request) from None
        return self._response(request, status, data, headers)

    def _response(self, request: requests.PreparedRequest, status: int, data: bytes,
                  headers: Mapping[str, str]) -> requests.Response:
        # as the server sends it: a 204 has no body and no Content-Type/Length, a HEAD answer no body
        content = {} if status == 204 else {"Content-Type": "application/json", "Content-Length": str(len(data))}
        response = requests.Response()
        response.status_code = status
        try:
            response.reason = http.HTTPStatus(status).phrase
        except ValueError:  # a status outside the standard list
            response.reason = ""
        response.headers = CaseInsensitiveDict({**content, **cors_headers(), **headers})
        response.raw = io.BytesIO(b"" if request.method == "HEAD" else data)
        response.encoding = "utf-8"
        response.url = str(request.url)
        response.request = request
        response.connection = self  # type: ignore[assignment]  # requests types it as an HTTPAdapter
        return response

    def close(self) -> None:
        """Nothing to close: there is no connection."""


_MAX_LINE = 65536  # http.server's (and http.client's) limit on the request line and each header line
_MAX_HEADERS = 100  # http.client's limit on the number of headers


def _refused_by_http(method: str, target: str, headers: Mapping[str, str], body: Any) -> Optional[Answer]:
    """The answer the loopback server gives before the exchange sees the request, or ``None``."""
    if len(f"{method} {target} HTTP/1.1\r\n") > _MAX_LINE:
        return error_answer(414, "request line too long")
    if len(headers) + 1 > _MAX_HEADERS:  # + Host, which the wire adds
        return error_answer(431, "Too many headers")
    if any(len(f"{name}: {value}\r\n") > _MAX_LINE for name, value in headers.items()):
        return error_answer(431, "Line too long")
    if body is not None and not isinstance(body, bytes):
        # a generator or a file: the server refuses a body without Content-Length the same way
        return error_answer(411, "send a Content-Length (chunked bodies are not accepted)")
    return None
