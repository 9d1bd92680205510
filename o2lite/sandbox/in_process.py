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
from typing import Any, Callable, Dict, Mapping, Tuple
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from ..error_codes import ErrorCode
from .dispatch import error_answer

log = logging.getLogger("o2lite.sandbox")

__all__ = ["InProcessAdapter"]

Responder = Callable[[str, str, Dict[str, str], bytes], Tuple[int, Any, Dict[str, str]]]


class InProcessAdapter(requests.adapters.BaseAdapter):
    """Mount it on a ``requests.Session`` for the sandbox's URL (``o2lite.Client`` does this
    itself for a URL of a running in-process sandbox).

    Args:
        respond: ``(method, path and query, headers, body bytes) → (status, JSON body, headers)``
            — :meth:`o2lite.sandbox.Sandbox.answer`.
    """

    def __init__(self, respond: Responder) -> None:
        super().__init__()
        self._respond = respond

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        """Answer ``request`` by a function call. ``timeout``, ``verify``, ``cert`` and
        ``proxies`` have nothing to act on in process and are ignored."""
        url = urlsplit(str(request.url))
        target = url.path + ("?" + url.query if url.query else "")
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and not isinstance(body, bytes):
            # a generator or a file: the server refuses a body without Content-Length the same way
            status, payload, headers = error_answer(411, "send a Content-Length (chunked bodies are not accepted)")
        else:
            sent = {str(k): v if isinstance(v, str) else v.decode("latin-1") for k, v in request.headers.items()}
            try:
                status, payload, headers = self._respond(str(request.method), target, sent, body or b"")
            except Exception:  # e.g. the state file cannot be written: the server answers 500 too
                log.exception("sandbox: internal error on %s %s", request.method, target[:200])
                status, payload, headers = 500, {"code": ErrorCode.INTERNAL_ERROR, "message": "Internal error"}, {}
        return self._response(request, status, payload, headers)

    def _response(self, request: requests.PreparedRequest, status: int, payload: Any,
                  headers: Mapping[str, str]) -> requests.Response:
        data = json.dumps(payload, separators=(",", ":")).encode()
        response = requests.Response()
        response.status_code = status
        try:
            response.reason = http.HTTPStatus(status).phrase
        except ValueError:  # a status outside the standard list
            response.reason = ""
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json",
                                                "Content-Length": str(len(data)), **headers})
        response.raw = io.BytesIO(data)
        response.encoding = "utf-8"
        response.url = str(request.url)
        response.request = request
        response.connection = self  # type: ignore[assignment]  # requests types it as an HTTPAdapter
        return response

    def close(self) -> None:
        """Nothing to close: there is no connection."""
