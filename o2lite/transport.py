"""The one HTTP transport every endpoint group shares: session, base URL, timeouts, errors.

``Transport.request`` is built from three parts, each in one place: one **exchange**
(:meth:`Transport._exchange`: o2lite's own ``http.client`` pool, :mod:`o2lite._pool`, or
``requests``), one **retry policy** (:meth:`Transport._retry_delay`) and one **classification**
(:func:`o2lite._answers.classify` for an answer, :func:`o2lite._answers.lost` for a failed
exchange, whose "was it sent?" rule is :mod:`o2lite._sent`). Every failure leaves through one
``raise … from`` its cause. ``requests`` is imported when the first transport is built, not at
``import o2lite``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import random
import threading
import time
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterator, Optional, Tuple, TypeVar, Union, overload
from urllib.parse import urljoin, urlsplit

from ._version import __version__
from ._adapter import Templates, lean_adapter
from ._answers import Submission, classify, lost
from ._in_process import EMSCRIPTEN, in_process_session, is_in_process
from ._http import MAX_RESPONSE_BYTES, MAX_RETRY_AFTER, TooLarge, check_timeout, read_capped, read_deadline, \
    retry_after_seconds
from ._pool import Answer, Pool, RequestHead, ca_bundle, cookie_header, keep_cookies, request_head, tls_context
from ._sent import ExchangeFailed, Stage, stage_of
from .errors import O2Error, RateLimited, ValidationError
from .networks import NETWORKS, Network, resolve_network

__all__ = ["NETWORKS", "Network", "Transport", "Submission", "resolve_network", "retry_after_seconds",
           "MAX_RESPONSE_BYTES", "DEFAULT_POOL_SIZE"]

log = logging.getLogger("o2lite")

Timeout = Union[float, Tuple[float, float]]
T = TypeVar("T")

DEFAULT_TIMEOUT: Tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
DEFAULT_ATTEMPTS = 3  # total tries of an idempotent GET
DEFAULT_POOL_SIZE = 32  # pooled connections per host: enough for 32 threads without reconnecting
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 30  # as requests.Session (a GET only; a write never follows one)


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



def _requests_patched(adapter_cls: Any, session_cls: Any) -> bool:
    """A test double (``responses``, ``requests-mock``, ``unittest.mock``) has replaced part of
    requests' send path: then every request goes through ``requests`` so the double sees it."""
    return (getattr(adapter_cls.send, "__module__", None) != "requests.adapters"
            or getattr(session_cls.send, "__module__", None) != "requests.sessions"
            or getattr(session_cls.get_adapter, "__module__", None) != "requests.sessions")


def _redirect_target(url: str, location: str, status: int) -> str:
    """Where a GET redirect goes: an ``http(s)`` URL with a host and a valid port, or
    :class:`ExchangeFailed` (``requests`` refuses other schemes; ``urlsplit`` raises on a bad
    port or IPv6 literal)."""
    try:  # the Location's bytes are UTF-8 when they can be, as requests' get_redirect_target reads them
        location = location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    try:
        target = urljoin(url, location)
        parts = urlsplit(target)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        usable = False
    if not usable:
        raise ExchangeFailed(Stage.READING, http.client.HTTPException(f"redirect to an unusable URL {location[:100]!r}"),
                             status=status)
    return target


class Transport:
    """Owns the HTTP connections, the base URL, default timeout, headers and retries.

    Two paths, one behaviour. o2lite's own session (no ``session=`` given) sends through a
    pool of kept-alive ``http.client`` connections (:mod:`o2lite._pool`), the cheapest the
    standard library allows; ``requests`` carries the request instead for a caller's own
    session, a proxy from the environment (``HTTP(S)_PROXY``/``ALL_PROXY``, ``NO_PROXY``
    honoured), Pyodide (``sys.platform == "emscripten"``: no sockets; urllib3's browser path),
    ``stdlib_http=False``, and whenever a test double such as ``responses`` has patched
    ``requests``' send path (checked per request, so a mock sees every request). Both paths
    send the same bytes, keep and send back cookies as a ``requests.Session`` does, and apply
    the same timeouts and limits.

    Retry rule: only GET is retried (on 429 / code 1003, a failed exchange — refused, reset,
    timed out or an answer cut mid-body — and 502/503/504), with capped exponential backoff
    plus jitter, honouring ``Retry-After`` (capped at 60 s). POST and PUT are **never** retried
    and never follow a redirect: they carry signed transactions, and a lost answer may mean the
    transaction landed. A signed request (``submission=``) that may have been sent
    (:mod:`o2lite._sent`) and has no clear answer raises
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
        stdlib_http: ``False`` sends o2lite's own requests through ``requests`` too; the
            default is ``True`` unless the environment sets ``O2LITE_STDLIB_HTTP=0``.
    """

    def __init__(self, network_or_url: Union[str, Network] = "mainnet", *, session: Any = None,
                 timeout: Timeout = DEFAULT_TIMEOUT, retries: int = DEFAULT_ATTEMPTS, backoff: float = 0.5,
                 max_backoff: float = 8.0, sleep: Callable[[float], None] = time.sleep,
                 faucet_url: Optional[str] = None, pool_size: int = DEFAULT_POOL_SIZE,
                 stdlib_http: Optional[bool] = None) -> None:
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
        self._requests_classes = (requests.adapters.HTTPAdapter, requests.Session)
        self._tls: Dict[str, Any] = {}
        if stdlib_http is None:
            stdlib_http = os.environ.get("O2LITE_STDLIB_HTTP", "1") != "0"
        lean = self._owns_session and stdlib_http and not EMSCRIPTEN
        self._pool: Optional[Pool] = Pool(pool_size, self._tls_context) if lean else None

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
        """Close the session and the connections if this transport created them."""
        if self._owns_session:
            self.session.close()
        if self._pool is not None:
            self._pool.close()

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

    def _tls_context(self) -> Any:
        """The TLS context of o2lite's own connections, on the CA bundle ``requests`` uses."""
        bundle = ca_bundle()
        context = self._tls.get(bundle)
        if context is None:
            context = self._tls[bundle] = tls_context(bundle)
        return context

    def _timeout(self, explicit: Optional[Timeout]) -> Timeout:
        if explicit is not None:
            return check_timeout(explicit)
        override = getattr(self._local, "timeout", None)
        return self.timeout if override is None else override

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
        method = method.upper()
        url = self.url(path)
        query = {k: v for k, v in (params or {}).items() if v is not None}
        send_headers = dict(self.headers)
        if json_body is not None:
            send_headers["Content-Type"] = "application/json"
        send_headers.update(headers or {})
        data = None if json_body is None else json.dumps(json_body, separators=(",", ":"), allow_nan=False).encode()
        # The rule: writes (POST/PUT) get exactly one attempt and follow no redirect; see the class doc.
        attempts = self.attempts if method == "GET" else 1
        timeout_value = self._timeout(timeout)
        for attempt in range(attempts):
            started = time.monotonic()
            try:
                answer = self._exchange(method, url, query, data, send_headers, timeout_value)
            except ExchangeFailed as failure:
                log.debug("%s %s -> %s at %s after %.1f ms", method, path, type(failure.cause).__name__,
                          failure.stage.value, (time.monotonic() - started) * 1000)
                delay = self._retry_delay(attempt, attempts, failure, None)
                if delay is not None:
                    self._sleep(delay)
                    continue
                raise lost(failure, method, url, submission) from failure.cause
            if log.isEnabledFor(logging.DEBUG):  # the abbreviated body costs two JSON encodings
                log.debug("%s %s -> %s in %.1f ms %s", method, path, answer.status,
                          (time.monotonic() - started) * 1000, _abbreviate(json_body) if json_body is not None else "")
            try:
                return classify(method, url, answer, submission, parse)
            except O2Error as exc:
                delay = self._retry_delay(attempt, attempts, exc, answer.headers.get("Retry-After"))
                if delay is None:
                    raise
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_delay(self, attempt: int, attempts: int, failure: Union[ExchangeFailed, O2Error],
                     retry_after: Optional[str]) -> Optional[float]:
        """The one retry policy: seconds to wait before the next attempt, or ``None`` to give up.

        ``attempts`` is 1 for every method but GET. A GET is tried again after a failed
        exchange at any stage (never after an answer over the size or time limit), after HTTP
        429 or code 1003 (waiting ``Retry-After`` if given) and after 502/503/504.
        """
        if attempt + 1 >= attempts:
            return None
        if isinstance(failure, ExchangeFailed):
            return None if isinstance(failure.cause, TooLarge) else self._delay(attempt, None)
        if isinstance(failure, RateLimited):
            return self._delay(attempt, failure.retry_after)
        if failure.status in _RETRY_STATUSES:
            return self._delay(attempt, retry_after_seconds(retry_after))
        return None

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        base = min(self.max_backoff, self.backoff * (2 ** attempt))
        return float(base / 2 + random.uniform(0, base / 2))  # "equal jitter": never zero, never above cap

    def _exchange(self, method: str, url: str, query: Mapping[str, Any], data: Optional[bytes],
                  headers: Dict[str, str], timeout: Timeout) -> Answer:
        """One HTTP exchange (a GET with the redirects it follows): the whole answer, or
        :class:`~o2lite._sent.ExchangeFailed` naming how far it got."""
        env = self._environment(url)
        if (self._pool is not None and not EMSCRIPTEN and not env["proxies"]
                and not _requests_patched(*self._requests_classes)):
            return self._exchange_stdlib(method, url, query, data, headers, timeout)
        return self._exchange_requests(method, url, query, data, headers, timeout, env)

    def _exchange_stdlib(self, method: str, url: str, query: Mapping[str, Any], data: Optional[bytes],
                         headers: Mapping[str, str], timeout: Timeout) -> Answer:
        assert self._pool is not None
        pair = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        jar = self.session.cookies
        for _ in range(MAX_REDIRECTS + 1):
            head: RequestHead = self._templates.head(method, url, query, headers)
            answer = self._pool.exchange(head, cookie_header(jar, head.url), data, pair, MAX_RESPONSE_BYTES, method)
            keep_cookies(jar, head.url, answer.headers)
            location = answer.headers.get("Location")
            if method != "GET" or answer.status not in _REDIRECTS or not location:
                return answer
            url, query = _redirect_target(url, location, answer.status), {}  # the redirect's own URL, as requests
        raise ExchangeFailed(Stage.READING, http.client.HTTPException(f"more than {MAX_REDIRECTS} redirects"),
                             status=answer.status)

    def _exchange_requests(self, method: str, url: str, query: Mapping[str, Any], data: Optional[bytes],
                           headers: Dict[str, str], timeout: Timeout, env: Mapping[str, Any]) -> Answer:
        """Through ``requests``. A caller's own session goes the ordinary way
        (``Session.request``: its headers, auth, cookies and hooks apply). o2lite's own session
        copies the request from a prepared template; a write goes straight to the adapter
        (nothing to merge, and a write follows no redirect), a GET through ``Session.send``
        to follow them."""
        import requests

        response = None
        try:
            if not self._owns_session:
                response = self.session.request(method, url, params=query, data=data, headers=headers,
                                                timeout=timeout, allow_redirects=method == "GET", stream=True)
            else:
                cookie = cookie_header(self.session.cookies, url)
                if cookie:
                    headers = dict(headers, Cookie=cookie)
                prepared = self._templates.prepared(method, url, query, data, headers)
                if method == "GET":
                    response = self.session.send(prepared, timeout=timeout, allow_redirects=True, stream=True, **env)
                else:
                    response = self.session.get_adapter(prepared.url).send(prepared, stream=True, timeout=timeout,
                                                                           **env)
                if response.cookies:
                    self.session.cookies.update(response.cookies)
            try:
                raw = read_capped(response, read_deadline(timeout))
            finally:
                response.close()
        except requests.RequestException as exc:
            # Under Emscripten a browser's fetch cannot tell a refusal from a lost answer; an
            # in-process sandbox is no fetch: its refusal (stopped) is certain.
            stage = stage_of(exc, emscripten=EMSCRIPTEN and not is_in_process(url))
            raise ExchangeFailed(stage, exc, status=None if response is None else response.status_code) from exc
        except OSError as exc:  # a bare one: requests' own checks before it connects (a missing CA bundle)
            stage = stage_of(exc, emscripten=EMSCRIPTEN and not is_in_process(url))
            raise ExchangeFailed(stage, exc, status=None if response is None else response.status_code) from exc
        except ValueError as exc:
            if method != "GET":
                raise
            # requests follows a GET's redirect through urlparse, which raises on a bad Location
            raise ExchangeFailed(Stage.READING, exc, status=None if response is None else response.status_code) \
                from exc
        except (TooLarge, http.client.HTTPException) as exc:  # over a limit, or cut short (urllib3 1.26)
            raise ExchangeFailed(Stage.READING, exc, status=None if response is None else response.status_code) \
                from exc
        followed = None
        if response.history and method != "GET":  # the stack re-sent the write after a redirect
            hop = response.history[0]
            followed = (hop.status_code, str(hop.headers.get("Location", response.url)))
        return Answer(response.status_code, response.headers, raw, followed)
