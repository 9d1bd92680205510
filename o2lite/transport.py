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
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterator, NamedTuple, Optional, Tuple, TypeVar, Union, overload
from urllib.parse import urlsplit

from ._version import __version__
from ._adapter import Templates, lean_adapter
from ._in_process import EMSCRIPTEN, in_process_session
from ._http import (MAX_RESPONSE_BYTES, MAX_RETRY_AFTER, SNIPPET, TooLarge, check_timeout, coded, describe,
                    read_capped, read_deadline, refused, retry_after_seconds, says_failure, snippet)
from ._json import loads as json_loads
from ._answers import error_from_response
from .errors import O2ConnectionError, O2Error, RateLimited, SubmissionUnknown, ValidationError

__all__ = ["NETWORKS", "Network", "Transport", "Submission", "resolve_network", "retry_after_seconds",
           "MAX_RESPONSE_BYTES", "DEFAULT_POOL_SIZE"]

log = logging.getLogger("o2lite")

Timeout = Union[float, Tuple[float, float]]
T = TypeVar("T")

DEFAULT_TIMEOUT: Tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
DEFAULT_ATTEMPTS = 3  # total tries of an idempotent GET
DEFAULT_POOL_SIZE = 32  # pooled connections per host: enough for 32 threads without reconnecting
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_AMBIGUOUS_STATUSES = frozenset({502, 504})  # a gateway lost the answer: the request may have run


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


class Submission(NamedTuple):
    """Which nonce a signed POST/PUT uses: a lost answer becomes :class:`SubmissionUnknown` with it."""

    nonce: Optional[int]
    nonce_kind: str  # "sequential" | "parallel"
    trade_account_id: Optional[str]


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
    with capped exponential backoff plus jitter, honouring ``Retry-After`` (capped at 60 s).
    POST and PUT are **never** retried and never follow a redirect: they carry signed
    transactions, and a lost answer may mean the transaction landed, so a resend could trade
    twice or burn a nonce. A signed request (``submission=``) whose outcome is unclear raises
    :class:`~o2lite.errors.SubmissionUnknown` with its nonce.

    Under Emscripten (Pyodide; ``requests`` over urllib3's ``fetch`` support) a refused
    connection and an abort after sending raise the same error, so a signed write that fails
    there is always ``SubmissionUnknown``; a timeout is still described as one. A redirect that
    an HTTP stack followed by itself on a write (``response.history``: a caller's session, or a
    stack that reports a browser's ``fetch`` following one) raises ``SubmissionUnknown`` naming
    it, since the write was re-sent; urllib3 in a browser does not report it (README, "In the
    browser"). An in-process sandbox's URL gets a session with its adapter mounted
    (:mod:`o2lite._in_process`), used like a caller's session.

    Every answer is read with bounded cost: at most :data:`MAX_RESPONSE_BYTES`, within twice
    the read timeout overall, parsed by :func:`o2lite._json.loads` (nesting, number length,
    no floats), and every parser error becomes an :class:`~o2lite.errors.O2Error` naming the
    endpoint, with ``status`` set.

    Args:
        network_or_url: ``mainnet``/``testnet``/``devnet`` or a base URL.
        session: a ``requests.Session`` to use (the caller keeps ownership and its settings).
        timeout: seconds, or ``(connect, read)``; default ``(5, 30)``.
        retries: total attempts for a GET (1 disables retrying).
        backoff: first retry delay in seconds; doubles each time up to ``max_backoff``.
        sleep: ``time.sleep`` replacement (tests inject a recorder).
        pool_size: connections kept per host (default 32): size it to your thread count.
    """

    def __init__(self, network_or_url: Union[str, Network] = "mainnet", *, session: Any = None,
                 timeout: Timeout = DEFAULT_TIMEOUT, retries: int = DEFAULT_ATTEMPTS, backoff: float = 0.5,
                 max_backoff: float = 8.0, sleep: Callable[[float], None] = time.sleep,
                 faucet_url: Optional[str] = None, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        import requests  # lazy: keeps `import o2lite` cheap

        self.network = resolve_network(network_or_url, faucet_url)
        self.base_url = self.network.base_url
        self.timeout = check_timeout(timeout)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries <= 20:
            raise ValidationError("retries must be an integer from 1 to 20")
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or not 1 <= pool_size <= 1024:
            raise ValidationError("pool_size must be an integer from 1 to 1024")
        self.attempts = retries
        self.backoff, self.max_backoff, self._sleep = backoff, max_backoff, sleep
        if session is None:  # a sandbox in this process is reached through its own session's adapter
            session = in_process_session(self.network.base_url)
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = lean_adapter(pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session
        self.headers = {"User-Agent": f"o2lite/{__version__}", "Accept": "application/json"}
        self._local = threading.local()
        self._env: Dict[str, Dict[str, Any]] = {}  # per scheme://host: proxies/verify from the environment
        self._env_lock = threading.Lock()
        self._templates = Templates()

    @contextlib.contextmanager
    def timeout_override(self, timeout: Timeout) -> Iterator[None]:
        """Use ``timeout`` for every request this thread makes inside the ``with`` block."""
        timeout = check_timeout(timeout)
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

    def _environment(self, url: str) -> Dict[str, Any]:
        """Proxy and CA settings from the environment, resolved once per host (``requests``
        re-reads them on every request, ~0.4 ms each); same behaviour, cached."""
        if not self._owns_session:
            return {}
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        settings = self._env.get(key)
        if settings is None:
            with self._env_lock:
                self.session.trust_env = True
                merged = self.session.merge_environment_settings(key + "/", {}, None, None, None)
                self.session.trust_env = False  # from now on only what we pass counts
                proxies, verify = merged.get("proxies") or {}, merged.get("verify", True)
                if parts.scheme == "http" and not proxies:
                    verify = True  # no TLS to verify; a CA path would be stat()ed on every request
                settings = {"proxies": proxies, "verify": verify, "cert": merged.get("cert")}
                self._env[key] = settings
        return settings

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        base = min(self.max_backoff, self.backoff * (2 ** attempt))
        return float(base / 2 + random.uniform(0, base / 2))  # "equal jitter": never zero, never above cap

    @overload
    def request(self, method: str, path: str, *, params: Optional[Mapping[str, Any]] = ...,
                json_body: Any = ..., headers: Optional[Mapping[str, str]] = ..., timeout: Optional[Timeout] = ...,
                submission: Optional[Submission] = ..., parse: Callable[[Any], T]) -> T: ...

    @overload
    def request(self, method: str, path: str, *, params: Optional[Mapping[str, Any]] = ...,
                json_body: Any = ..., headers: Optional[Mapping[str, str]] = ..., timeout: Optional[Timeout] = ...,
                submission: Optional[Submission] = ..., parse: None = ...) -> Any: ...

    def request(self, method: str, path: str, *, params: Optional[Mapping[str, Any]] = None,
                json_body: Any = None, headers: Optional[Mapping[str, str]] = None,
                timeout: Optional[Timeout] = None, submission: Optional[Submission] = None,
                parse: Optional[Callable[[Any], Any]] = None) -> Any:
        """Send one request and return its parsed JSON body (or ``parse(body)``), or raise.

        ``params`` with ``None`` values are dropped. A JSON body that reports failure raises
        even under HTTP 200. Only GET is retried (see the class doc). ``submission`` marks a
        signed transaction: then an unclear outcome raises :class:`SubmissionUnknown`.
        """
        import requests

        method = method.upper()
        url = self.url(path)
        query = {k: v for k, v in (params or {}).items() if v is not None}
        send_headers = dict(self.headers)
        if json_body is not None:
            send_headers["Content-Type"] = "application/json"
        send_headers.update(headers or {})
        data = None if json_body is None else json.dumps(json_body, separators=(",", ":"), allow_nan=False).encode()
        is_get = method == "GET"
        # The rule: writes (POST/PUT) get exactly one attempt and follow no redirect; see the class doc.
        attempts = self.attempts if is_get else 1
        timeout_value = self._timeout(timeout)
        env = self._environment(url)
        for attempt in range(attempts):
            started = time.monotonic()
            try:
                response = self._send(method, url, query, data, send_headers, timeout_value, is_get, env)
                try:
                    raw = read_capped(response, read_deadline(timeout_value))
                finally:
                    response.close()
            except requests.RequestException as exc:
                # Under Emscripten (Pyodide) a refused connection and an abort after sending raise
                # the same error: a failed write may have been sent.
                sent = EMSCRIPTEN or (not isinstance(exc, requests.ConnectTimeout) and not refused(exc))
                log.debug("%s %s -> %s after %.1f ms", method, path, type(exc).__name__,
                          (time.monotonic() - started) * 1000)
                if attempt + 1 < attempts and isinstance(exc, (requests.ConnectionError, requests.Timeout)):
                    self._sleep(self._delay(attempt, None))
                    continue
                if submission is not None and sent:
                    raise _unknown(submission, f"no answer after sending ({describe(exc, url)})",
                                   method=method, url=url) from exc
                error = O2ConnectionError(describe(exc, url), method=method, url=url)
                error.may_have_landed = sent and not is_get  # type: ignore[attr-defined]
                raise error from exc
            except TooLarge as exc:
                if submission is not None:
                    raise _unknown(submission, str(exc), status=response.status_code, method=method,
                                   url=url) from None
                raise O2Error(str(exc), status=response.status_code, method=method, url=url) from None
            if log.isEnabledFor(logging.DEBUG):  # the abbreviated body costs two JSON encodings
                log.debug("%s %s -> %s in %.1f ms %s", method, path, response.status_code,
                          (time.monotonic() - started) * 1000, _abbreviate(json_body) if json_body is not None else "")
            try:
                return self._answer(method, url, response, raw, submission, parse)
            except RateLimited as exc:
                if attempt + 1 < attempts:
                    self._sleep(self._delay(attempt, exc.retry_after))
                    continue
                raise
            except O2Error as exc:
                if exc.status in _RETRY_STATUSES and attempt + 1 < attempts:
                    self._sleep(self._delay(attempt, retry_after_seconds(response.headers.get("Retry-After"))))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, url: str, query: Mapping[str, Any], data: Optional[bytes],
              headers: Mapping[str, str], timeout: Timeout, redirects: bool, env: Mapping[str, Any]) -> Any:
        """One HTTP exchange. A caller's own session goes the ordinary way (``Session.request``),
        so its headers, auth, cookies and hooks apply. With o2lite's own session nothing needs
        merging (no session headers, cookies or hooks; the environment resolved once), so the
        request is copied from a prepared template and a write goes straight to the adapter:
        ``Session.send`` would only add hook dispatch, cookie bookkeeping and redirect handling,
        and a write follows no redirect. A GET goes through ``Session.send`` to follow them."""
        if not self._owns_session:
            return self.session.request(method, url, params=query, data=data, headers=headers, timeout=timeout,
                                        allow_redirects=redirects, stream=True)
        prepared = self._templates.prepared(method, url, query, data, headers)
        if redirects:
            return self.session.send(prepared, timeout=timeout, allow_redirects=True, stream=True, **env)
        return self.session.get_adapter(prepared.url).send(prepared, stream=True, timeout=timeout, **env)

    def _timeout(self, explicit: Optional[Timeout]) -> Timeout:
        if explicit is not None:
            return check_timeout(explicit)
        override = getattr(self._local, "timeout", None)
        return self.timeout if override is None else override

    @staticmethod
    def _answer(method: str, url: str, response: Any, raw: bytes, submission: Optional[Submission],
                parse: Optional[Callable[[Any], Any]]) -> Any:
        """Status + body → the parsed answer, or the right error (see :meth:`request`)."""
        status = response.status_code
        where = f"{method} {urlsplit(url).path}"
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if response.history and method != "GET":
            # Someone else's HTTP stack followed a redirect and re-sent the write (a caller's
            # session, a browser's fetch where it reports it): it may have run at the target.
            hop = response.history[0]
            target = str(hop.headers.get("Location", response.url))[:SNIPPET]
            message = (f"{where}: HTTP {hop.status_code} redirect to {target} was followed and the request re-sent "
                       "there by the HTTP stack: it may have run")
            if submission is not None:
                raise _unknown(submission, message, status=status, method=method, url=url)
            raise O2Error(message, status=status, method=method, url=url)
        if 300 <= status < 400 and method != "GET":
            target = str(response.headers.get("Location", "?"))[:SNIPPET]
            raise O2Error(f"{where}: the server redirected to {target}; o2lite never resends a signed or "
                          "non-idempotent request: use the final URL", status=status, method=method, url=url)
        try:
            text = raw.decode("utf-8-sig")
            body = json_loads(text) if text.strip() else None
        except ValueError as exc:  # UnicodeDecodeError and every JSON limit are ValueErrors
            text_snippet = raw[:SNIPPET].decode("utf-8", "replace")
            if submission is not None and (status < 400 or status >= 500):
                raise _unknown(submission, f"{where}: unreadable answer ({exc})", status=status, method=method,
                               url=url, body=text_snippet) from None
            if status < 400:
                raise O2Error(f"{where}: malformed response: {exc}", status=status, method=method, url=url,
                              body=text_snippet) from None
            raise error_from_response(status, text_snippet, method=method, url=url,
                                      retry_after=retry_after) from None
        if status >= 400 or says_failure(body):
            if submission is not None and (status in _AMBIGUOUS_STATUSES or (status >= 500 and not coded(body))):
                raise _unknown(submission, f"{where}: HTTP {status} from a gateway: the request may have run",
                               status=status, method=method, url=url, body=snippet(body))
            raise error_from_response(status, body, method=method, url=url, retry_after=retry_after)
        if submission is not None and status >= 300:
            raise _unknown(submission, f"{where}: unexpected HTTP {status}", status=status, method=method, url=url,
                           body=snippet(body))
        if parse is None:
            return body
        try:
            return parse(body)
        except O2Error as exc:
            exc.status, exc.method, exc.url = status, method, url
            if submission is not None:
                raise _unknown(submission, f"{exc.message} (the request may have run)", status=status,
                               method=method, url=url, body=snippet(body)) from None
            exc.body = snippet(exc.body if exc.body is not None else body)
            raise
        except Exception as exc:  # a parser bug must not escape as a stray exception
            if submission is not None:
                raise _unknown(submission, f"{where}: unreadable answer ({type(exc).__name__})", status=status,
                               method=method, url=url, body=snippet(body)) from None
            raise O2Error(f"{where}: malformed response ({type(exc).__name__}: {str(exc)[:80]})", status=status,
                          method=method, url=url, body=snippet(body)) from None


def _unknown(submission: Submission, message: str, **kw: Any) -> SubmissionUnknown:
    nonce = submission.nonce
    text = f"{message}; nonce {nonce} ({submission.nonce_kind}) may have been used — reconcile before resending"
    return SubmissionUnknown(text, nonce=nonce, nonce_kind=submission.nonce_kind,
                             trade_account_id=submission.trade_account_id, **kw)
