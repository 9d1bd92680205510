"""One HTTP request → the sandbox's answer, the same whichever way the request arrived.

The loopback server (:mod:`o2lite.sandbox.server`) and the in-process adapter
(:mod:`o2lite.sandbox.in_process`) both hand the request's bytes to :func:`answer`, so a body,
a signature, a nonce or a rate limit gets one verdict, served or in process — a method it does
not serve and a CORS preflight too. CORS headers (:func:`cors_headers`) are what a browser needs
to call a sandbox served on the same machine; the in-process adapter sends them too, so the
answers agree header for header.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

from .._json import loads as json_loads
from ..error_codes import ErrorCode
from .exchange import Exchange

__all__ = ["MAX_BODY", "MAX_QUERY_FIELDS", "METHODS", "ALLOW", "Answer", "answer", "decode_body", "error_answer",
           "internal_error", "not_allowed", "cors_headers", "preflight_headers"]

log = logging.getLogger("o2lite.sandbox")

MAX_BODY = 1 << 20  # bytes: the largest real request (5 actions) is a few kB
MAX_QUERY_FIELDS = 50  # the most parameters a real query has is under ten
METHODS = ("GET", "POST", "PUT")
ALLOW = ", ".join(METHODS + ("OPTIONS",))  # OPTIONS: CORS preflights
CORS_MAX_AGE = 600  # seconds a browser may reuse a preflight answer
# RFC 9110 tokens separated by commas and optional whitespace — SP and HTAB only: ``\s`` would
# also let CR LF (a folded request header), VT, FF and NBSP through into the answer's header.
_TOKEN_LIST = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:[ \t]*,[ \t]*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*")

Answer = Tuple[int, Any, Dict[str, str]]  # (status, JSON body, extra headers)


def error_answer(status: int, message: str) -> Answer:
    """A transport-level refusal: 400 is a parse error (1002), anything else an invalid request."""
    code = ErrorCode.PARSE_ERROR if status == 400 else ErrorCode.INVALID_REQUEST
    return status, {"code": code, "message": message}, {}


def not_allowed(method: str) -> Answer:
    """405 for a method the sandbox does not serve (``OPTIONS`` is a preflight, not this)."""
    return 405, {"code": ErrorCode.INVALID_REQUEST, "message": f"method {method[:20]} not allowed"}, {"Allow": ALLOW}


def internal_error(method: str) -> Answer:
    """500 for a failure of the sandbox itself. On a write it may come after the exchange
    applied the request (a state file that cannot be written, a bug half-way), so it carries no
    ``code``: a client reads a coded error as a refusal, and an uncoded 500 as "may have run"
    (a signed write becomes ``SubmissionUnknown``, to reconcile)."""
    if method.upper() in ("GET", "HEAD", "OPTIONS"):
        return 500, {"code": ErrorCode.INTERNAL_ERROR, "message": "Internal error"}, {}
    return 500, {"message": "Internal error: the request may have been applied"}, {}


def decode_body(raw: bytes) -> Tuple[Optional[int], Any]:
    """``(None, parsed JSON)`` (``None`` for an empty body) or ``(400, message)``."""
    if len(raw) > MAX_BODY:
        return 413, f"request body over {MAX_BODY} bytes"
    if not raw:
        return None, None
    try:
        return None, json_loads(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and every JSON limit are ValueErrors
        return 400, f"Parse error: body is not JSON within limits ({str(exc)[:80]})"


def answer(exchange: Exchange, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> Answer:
    """The exchange's answer to ``method target`` (path and query) with body bytes ``raw``.
    Never raises: a bug costs this one request a 500 (:func:`internal_error`)."""
    try:
        if method == "OPTIONS":
            return 204, None, preflight_headers(headers)
        if method not in METHODS:
            return not_allowed(method)
        status, body = decode_body(raw)
        if status is not None:
            return error_answer(status, body)
        url = urlsplit(target)
        try:
            query = dict(parse_qsl(url.query, max_num_fields=MAX_QUERY_FIELDS))
        except ValueError:  # more fields than that: the client's mistake, not the sandbox's
            return error_answer(400, f"more than {MAX_QUERY_FIELDS} query parameters")
        return exchange.handle(method, url.path, query, headers, body)
    except Exception:
        log.exception("sandbox: internal error on %s %s", method, target[:200])
        return internal_error(method)


def cors_headers() -> Dict[str, str]:
    """Headers on every answer so a page of any origin may read it (no cookies are involved,
    hence ``*``). ``Retry-After`` is exposed so a browser client can honour a 429."""
    return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}


def preflight_headers(request: Mapping[str, str]) -> Dict[str, str]:
    """The answer to a CORS preflight (``OPTIONS`` with ``Access-Control-Request-*``): the
    methods the sandbox serves and the request headers asked for (``O2-Owner-Id``,
    ``Content-Type``, …) when they are a well-formed token list. A page on a public origin
    asking for loopback (Chrome's Private Network Access) is allowed too: the sandbox is a
    local test exchange."""
    lowered = {str(k).lower(): str(v) for k, v in request.items()}
    asked = lowered.get("access-control-request-headers", "").strip()
    allowed = asked if asked and len(asked) <= 1000 and _TOKEN_LIST.fullmatch(asked) else "Content-Type, O2-Owner-Id"
    headers = dict(cors_headers(), **{"Access-Control-Allow-Methods": ", ".join(METHODS),
                                      "Access-Control-Allow-Headers": allowed,
                                      "Access-Control-Max-Age": str(CORS_MAX_AGE), "Allow": ALLOW})
    if lowered.get("access-control-request-private-network", "").lower() == "true":
        headers["Access-Control-Allow-Private-Network"] = "true"
    return headers
