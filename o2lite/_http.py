"""What the transport does with raw HTTP: read an answer with bounded cost, describe a network
failure in one line, read ``Retry-After``, tell a failure body from a success (PROTOCOL §3)."""

from __future__ import annotations

import email.utils
import http.client
import json
import math
import socket
import time
from datetime import timezone
from typing import Any, Optional, Tuple, Union
from urllib.parse import urlsplit

from ._parse import digits
from ._sent import ExchangeFailed, Stage, causes, stage_of, tls_errors
from .errors import ValidationError

__all__ = ["MAX_RESPONSE_BYTES", "MAX_RETRY_AFTER", "SNIPPET", "TooLarge", "retry_after_seconds", "check_timeout",
           "read_deadline", "read_capped", "coded", "snippet", "describe", "says_failure"]

Timeout = Union[float, Tuple[float, float]]
MAX_RESPONSE_BYTES = 8 << 20  # the largest real answer (5000 bars) is under 1 MiB
MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is capped, never obeyed blindly
SNIPPET = 200  # characters of a non-JSON body kept on an error


def retry_after_seconds(value: Optional[str], *, now: Optional[float] = None) -> Optional[float]:
    """``Retry-After`` as seconds in ``[0, MAX_RETRY_AFTER]``: delta-seconds or an HTTP date.

    Anything else (``nan``, ``inf``, garbage) is ``None``; a negative value or a past date is 0;
    a huge one is capped.

    >>> retry_after_seconds("2.5"), retry_after_seconds("nan"), retry_after_seconds("-4"), retry_after_seconds("9e99")
    (2.5, None, 0.0, 60.0)
    """
    if value is None:
        return None
    text = str(value).strip()[:64]
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class TooLarge(Exception):
    """The answer is over the size cap, or still arriving past the deadline."""

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


def check_timeout(timeout: Any) -> Timeout:
    def ok(value: Any) -> bool:
        return (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
                and 0 < value <= 3600)

    if isinstance(timeout, tuple) and len(timeout) == 2 and all(ok(v) for v in timeout):
        return (float(timeout[0]), float(timeout[1]))
    if ok(timeout):
        return float(timeout)
    raise ValidationError("timeout must be seconds (0 < t ≤ 3600) or a (connect, read) pair of them")


def read_deadline(timeout: Timeout) -> float:
    read = timeout[1] if isinstance(timeout, tuple) else timeout
    return time.monotonic() + 2 * read


def read_capped(response: Any, deadline: float) -> bytes:
    """The whole body of a ``requests`` response, at most :data:`MAX_RESPONSE_BYTES`, arriving
    before ``deadline``. A body shorter than its ``Content-Length`` is cut: urllib3 1.26 returns
    it without a word, so this raises ``http.client.IncompleteRead`` itself."""
    status = getattr(response, "status_code", None)
    declared = digits(str(response.headers.get("Content-Length", "")).strip())
    if declared is not None and declared > MAX_RESPONSE_BYTES:
        raise TooLarge(f"response of {declared} bytes is over the {MAX_RESPONSE_BYTES}-byte limit", status)
    chunks, size = [], 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise TooLarge(f"response is over the {MAX_RESPONSE_BYTES}-byte limit", status)
        if time.monotonic() > deadline:
            raise TooLarge("response body still arriving after twice the read timeout: gave up", status)
        chunks.append(chunk)
    data = b"".join(chunks)
    if declared is not None and size < declared and not response.headers.get("Content-Encoding"):
        raise http.client.IncompleteRead(data, declared - size)
    response._content, response._content_consumed = data, True  # so close() returns the connection to the pool
    return data


def coded(body: Any) -> bool:
    return isinstance(body, dict) and (body.get("code") is not None or "reason" in body)


def snippet(body: Any) -> Any:
    text = json.dumps(body, default=str) if not isinstance(body, str) else body
    return body if len(text) <= SNIPPET else text[:SNIPPET]


def describe(failure: Union[ExchangeFailed, BaseException], url: str) -> str:
    """One short line for a network failure (``failure``: an :class:`ExchangeFailed`, or a
    ``requests`` error, read by :func:`o2lite._sent.stage_of`), from the stage and the error
    types; urllib3's own text runs to hundreds of characters."""
    import requests  # loaded already: a failure comes from a transport, which loads requests
    import urllib3.exceptions as u3

    if not isinstance(failure, ExchangeFailed):
        failure = ExchangeFailed(stage_of(failure), failure)
    host = urlsplit(url).netloc.rpartition("@")[2]
    chain = list(causes(failure.cause))

    def has(*types: Any) -> bool:
        return any(isinstance(c, types) for c in chain)

    read_timeout = has(TimeoutError, socket.timeout, requests.ReadTimeout, u3.ReadTimeoutError)
    # urllib3's Emscripten (Pyodide) connection raises its bare TimeoutError: fetch cannot tell
    # connecting from reading (NewConnectionError is a urllib3 TimeoutError too, for history)
    other_timeout = any(isinstance(c, u3.TimeoutError) and not isinstance(c, u3.NewConnectionError) for c in chain)
    if has(TooLarge):
        return str(failure.cause)
    if failure.stage is Stage.CONNECTING:
        if has(ConnectionRefusedError):
            return f"cannot reach {host}: connection refused"
        if has(socket.gaierror, getattr(u3, "NameResolutionError", socket.gaierror)):
            return f"cannot reach {host}: host unknown (name resolution failed)"
        if has(*tls_errors(), requests.exceptions.SSLError):
            return f"TLS handshake with {host} failed: {_first_line(failure.cause)}"
        if read_timeout or other_timeout or has(requests.ConnectTimeout):
            return f"cannot reach {host}: connect timed out"
        return f"cannot reach {host}: {_first_line(failure.cause)}"
    if failure.stage is Stage.READING:
        return f"the answer from {host} was cut off ({_first_line(failure.cause)})"
    if read_timeout:
        return f"{host} did not answer in time (read timeout)"
    if other_timeout:
        return f"{host} did not answer in time (timeout)"
    if has(*tls_errors(), requests.exceptions.SSLError):
        return f"TLS error talking to {host}: {_first_line(failure.cause)}"
    # A browser's fetch (Pyodide) says no more than "Failed to fetch": its words pick the
    # description only, never whether anything was sent.
    if any("failed to fetch" in str(c).lower() for c in chain):
        return (f"the browser could not fetch from {host}: unreachable, or its answer lacks the CORS "
                "headers that let this page read it")
    return f"{_first_line(failure.cause)} talking to {host}"


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:120]}"


def says_failure(body: Any) -> bool:
    """A 2xx body that is really an error: ``{"error": …}``, or a ``code``+``message`` body
    without a ``tx_id`` (PROTOCOL §3: pre-flight errors may come with HTTP 200)."""
    if not isinstance(body, dict):
        return False
    if body.get("error"):
        return True
    if "tx_id" not in body and str(body.get("message", "")).startswith(("Revert", "Failed to process")):
        return True
    code = body.get("code")
    return (code is not None and code != 0 and "message" in body and "tx_id" not in body
            and not isinstance(code, bool))
