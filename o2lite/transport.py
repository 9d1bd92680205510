"""The one HTTP transport every endpoint group shares: session, base URL, timeouts, errors.

``Transport.request`` is the only place that joins URLs, sends, parses JSON and turns error
bodies into :mod:`o2lite.errors`. ``requests`` is imported when the first transport is built,
not at ``import o2lite``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

from . import __version__
from .errors import O2ConnectionError, O2Error, RateLimited, ValidationError, error_from_response

__all__ = ["NETWORKS", "Network", "Transport", "resolve_network"]

log = logging.getLogger("o2lite")

Timeout = Union[float, Tuple[float, float]]

DEFAULT_TIMEOUT: Tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
DEFAULT_ATTEMPTS = 3  # total tries of an idempotent GET
_RETRY_STATUSES = frozenset({429, 502, 503, 504})


class Network:
    """A REST base URL and, on test networks, the faucet URL (PROTOCOL §1)."""

    __slots__ = ("name", "base_url", "faucet_url")

    def __init__(self, name: str, base_url: str, faucet_url: Optional[str]) -> None:
        self.name, self.base_url, self.faucet_url = name, base_url.rstrip("/"), faucet_url

    def __repr__(self) -> str:
        return f"Network({self.name!r}, {self.base_url!r})"


NETWORKS: Dict[str, Network] = {
    "mainnet": Network("mainnet", "https://api.o2.app", None),
    "testnet": Network("testnet", "https://api.testnet.o2.app",
                       "https://fuel-o2-faucet.vercel.app/api/testnet/mint-v2"),
    "devnet": Network("devnet", "https://api.devnet.o2.app",
                      "https://fuel-o2-faucet.vercel.app/api/devnet/mint-v2"),
}


def resolve_network(network_or_url: Union[str, Network], faucet_url: Optional[str] = None) -> Network:
    """A network name (``mainnet``/``testnet``/``devnet``) or any ``http(s)://`` base URL.

    A custom URL (a local sandbox) gets ``faucet_url`` if given, else ``<url>/faucet``.
    """
    if isinstance(network_or_url, Network):
        return network_or_url
    key = str(network_or_url).strip()
    if key.lower() in NETWORKS:
        net = NETWORKS[key.lower()]
        return Network(net.name, net.base_url, faucet_url or net.faucet_url)
    parts = urlsplit(key)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"unknown network {key!r}: use mainnet, testnet, devnet or an http(s):// URL")
    base = key.rstrip("/")
    return Network("custom", base, faucet_url or base + "/faucet")


def _retry_after(headers: Mapping[str, str]) -> Optional[float]:
    value = headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def _abbreviate(body: Any) -> str:
    """A body for debug logs: signatures shortened (keys are never in bodies)."""
    text = json.dumps(body, separators=(",", ":"), default=str) if body is not None else ""
    if '"signature"' in text and isinstance(body, dict):
        shown = dict(body)
        sig = shown.get("signature")
        if isinstance(sig, dict):
            shown["signature"] = {k: str(v)[:10] + "…" for k, v in sig.items()}
        text = json.dumps(shown, separators=(",", ":"), default=str)
    return text[:300]


class Transport:
    """Owns the ``requests.Session``, the base URL, default timeout, headers and retries.

    Retry rule: only GET is retried (on 429 / code 1003, connection errors and 502/503/504),
    with capped exponential backoff plus jitter, honouring ``Retry-After``. POST and PUT are
    **never** retried: they carry signed transactions, and a lost answer may mean the
    transaction landed, so a resend could trade twice or burn a nonce.

    Args:
        network_or_url: ``mainnet``/``testnet``/``devnet`` or a base URL.
        session: a ``requests.Session`` to use (the caller keeps ownership).
        timeout: seconds, or ``(connect, read)``; default ``(5, 30)``.
        retries: total attempts for a GET (1 disables retrying).
        backoff: first retry delay in seconds; doubles each time up to ``max_backoff``.
        sleep: ``time.sleep`` replacement (tests inject a recorder).
    """

    def __init__(self, network_or_url: Union[str, Network] = "mainnet", *, session: Any = None,
                 timeout: Timeout = DEFAULT_TIMEOUT, retries: int = DEFAULT_ATTEMPTS, backoff: float = 0.5,
                 max_backoff: float = 8.0, sleep: Callable[[float], None] = time.sleep,
                 faucet_url: Optional[str] = None) -> None:
        import requests  # lazy: keeps `import o2lite` cheap

        self.network = resolve_network(network_or_url, faucet_url)
        self.base_url = self.network.base_url
        self.timeout = timeout
        self.attempts = max(int(retries), 1)
        self.backoff, self.max_backoff, self._sleep = backoff, max_backoff, sleep
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.headers = {"User-Agent": f"o2lite/{__version__}", "Accept": "application/json"}
        self._local = threading.local()

    @contextlib.contextmanager
    def timeout_override(self, timeout: Timeout) -> Iterator[None]:
        """Use ``timeout`` for every request this thread makes inside the ``with`` block."""
        previous = getattr(self._local, "timeout", None)
        self._local.timeout = timeout
        try:
            yield
        finally:
            self._local.timeout = previous

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session:
            self.session.close()

    def url(self, path: str) -> str:
        """Join the base URL and a ``/v1/...`` path (an absolute URL is used as is)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + "/" + path.lstrip("/")

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff * 4)
        base = min(self.max_backoff, self.backoff * (2 ** attempt))
        return base / 2 + random.uniform(0, base / 2)  # "equal jitter": never zero, never above cap

    def request(self, method: str, path: str, *, params: Optional[Mapping[str, Any]] = None,
                json_body: Any = None, headers: Optional[Mapping[str, str]] = None,
                timeout: Optional[Timeout] = None) -> Any:
        """Send one request and return its parsed JSON body, or raise an :class:`O2Error`.

        ``params`` with ``None`` values are dropped. A JSON body that reports failure raises
        even under HTTP 200. Only GET is retried (see the class doc).
        """
        import requests

        method = method.upper()
        url = self.url(path)
        query = {k: v for k, v in (params or {}).items() if v is not None}
        send_headers = dict(self.headers)
        if json_body is not None:
            send_headers["Content-Type"] = "application/json"
        send_headers.update(headers or {})
        data = None if json_body is None else json.dumps(json_body, separators=(",", ":"))
        # The rule: signed writes (POST/PUT) get exactly one attempt; see the class docstring.
        attempts = self.attempts if method == "GET" else 1
        for attempt in range(attempts):
            started = time.monotonic()
            try:
                response = self.session.request(method, url, params=query, data=data, headers=send_headers,
                                                timeout=self._timeout(timeout))
            except requests.RequestException as exc:
                sent = not isinstance(exc, (requests.ConnectTimeout,)) and not _refused(exc)
                log.debug("%s %s -> %s after %.1f ms", method, path, type(exc).__name__,
                          (time.monotonic() - started) * 1000)
                if attempt + 1 < attempts and isinstance(exc, (requests.ConnectionError, requests.Timeout)):
                    self._sleep(self._delay(attempt, None))
                    continue
                error = O2ConnectionError(f"{type(exc).__name__}: {exc}", method=method, url=url)
                error.may_have_landed = sent and method != "GET"  # type: ignore[attr-defined]
                raise error from exc
            elapsed = (time.monotonic() - started) * 1000
            log.debug("%s %s -> %s in %.1f ms %s", method, path, response.status_code, elapsed,
                      _abbreviate(json_body) if json_body is not None else "")
            try:
                return self._parse(method, url, response)
            except RateLimited as exc:
                if attempt + 1 < attempts:
                    self._sleep(self._delay(attempt, exc.retry_after))
                    continue
                raise
            except O2Error as exc:
                if exc.status in _RETRY_STATUSES and attempt + 1 < attempts:
                    self._sleep(self._delay(attempt, _retry_after(response.headers)))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _timeout(self, explicit: Optional[Timeout]) -> Timeout:
        if explicit is not None:
            return explicit
        override = getattr(self._local, "timeout", None)
        return self.timeout if override is None else override

    @staticmethod
    def _parse(method: str, url: str, response: Any) -> Any:
        status = response.status_code
        text = response.text
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = None
            if status < 400:
                raise O2Error(f"non-JSON response: {text[:200]}", status=status, method=method, url=url,
                              body=text[:200]) from None
            raise error_from_response(status, text[:200], method=method, url=url,
                                      retry_after=_retry_after(response.headers)) from None
        if status >= 400 or _says_failure(body):
            raise error_from_response(status, body, method=method, url=url,
                                      retry_after=_retry_after(response.headers))
        return body


def _refused(exc: Exception) -> bool:
    """True when the connection was never made (so nothing can have been sent)."""
    text = str(exc).lower()
    return "refused" in text or "name or service not known" in text or "failed to resolve" in text


def _says_failure(body: Any) -> bool:
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
