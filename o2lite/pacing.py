"""Pacing under the exchange's rate limits (PROTOCOL §4), and the one safe resend after a 429.

The rule. The exchange allows ``POST /v1/session/actions`` and ``PUT /v1/session`` 5 per second
per owner; owner calls, upgrade and withdraw 10 per minute per owner; ``POST /v1/accounts`` 1 per
second per IP. Its window algorithm is not published, so a client must keep **at most N requests
in any window** of the stated length: a token bucket with a full burst lets a sixth request
through 0.2 s after the fifth and is refused. A :class:`RateWindow` therefore remembers when each
of its last N requests *finished* (the latest moment the server can have counted it) and lets a
new one start only when fewer than N finished within the window and none is still in flight
beyond N. One window per (exchange, owner, limit class), shared by every
:class:`~o2lite.Trader` of the process, so ``place``, ``cancel``, batches, ``cancel_all`` and
withdrawals all draw on the same budget.

The resend. A request refused with HTTP 429 or code 1003 was not processed (PROTOCOL §4), so
:func:`send_paced` waits the server's ``Retry-After`` (capped at :data:`MAX_WAIT`; the limit's
window when absent) and resends the **identical signed bytes** — same body, same nonce, so at
most one of them can ever be processed — at most :data:`RESENDS` times, then raises the
:class:`~o2lite.errors.RateLimited`.

>>> window = RateWindow(2, 1.0)
>>> window.acquire(), window.acquire()
(0.0, 0.0)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Callable, Deque, Dict, Iterator, Optional, Tuple, TypeVar

from .errors import RateLimited

__all__ = ["RateWindow", "LIMITS", "RESENDS", "MAX_WAIT", "window_for", "send_paced"]

T = TypeVar("T")

#: (requests, seconds) per limit class (PROTOCOL §4): ``session`` = session update and session
#: actions per owner, ``owner`` = owner call(s), upgrade and withdraw per owner, ``accounts`` =
#: account creation per IP.
LIMITS: Dict[str, Tuple[int, float]] = {"session": (5, 1.0), "owner": (10, 60.0), "accounts": (1, 1.0)}
RESENDS = 3  # resends of one signed request refused with 429/1003 before giving up
MAX_WAIT = 60.0  # seconds: the longest Retry-After honoured (the owner limit's own window)
_POLL = 0.005  # seconds between looks while every slot is taken by a request still in flight

_WINDOWS: Dict[Tuple[str, str, str], "RateWindow"] = {}
_GUARD = threading.Lock()


class RateWindow:
    """At most ``limit`` requests in any ``per`` seconds (see the module doc). Thread-safe.

    Use :meth:`slot` around one request; ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(self, limit: int, per: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if limit < 1 or per <= 0:
            raise ValueError("a rate window needs limit >= 1 and per > 0")
        self.limit, self.per = limit, per
        self._clock, self._sleep = clock, sleep
        self._finished: Deque[float] = deque()  # finish times within the last `per` seconds
        self._in_flight = 0
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._finished and self._finished[0] + self.per <= now:
            self._finished.popleft()

    def acquire(self) -> float:
        """Wait until a request may start, and count it as in flight; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._expire(now)
                if self._in_flight + len(self._finished) < self.limit:
                    self._in_flight += 1
                    return waited
                delay = self._finished[0] + self.per - now if self._finished else _POLL
            self._sleep(delay)
            waited += delay

    def release(self) -> None:
        """The request started by :meth:`acquire` has finished (answered or failed)."""
        with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)
            self._finished.append(self._clock())

    @contextmanager
    def slot(self) -> Iterator[float]:
        """``with window.slot(): send()`` — waits for room, then counts the request until it ends."""
        waited = self.acquire()
        try:
            yield waited
        finally:
            self.release()


def window_for(base_url: str, key: str, kind: str) -> RateWindow:
    """The process-wide window of ``kind`` (``session``, ``owner``, ``accounts``) for one owner
    (or, for ``accounts``, one client IP: pass any fixed key) on one exchange."""
    if kind not in LIMITS:
        raise ValueError(f"unknown limit class {kind!r}")
    with _GUARD:
        found = _WINDOWS.get((base_url, key, kind))
        if found is None:
            found = _WINDOWS[(base_url, key, kind)] = RateWindow(*LIMITS[kind])
        return found


def send_paced(send: Callable[[], T], window: Optional[RateWindow], *, per: float = 1.0,
               resends: int = RESENDS, sleep: Callable[[float], None] = time.sleep) -> T:
    """``send()`` inside ``window`` (if any); on :class:`~o2lite.errors.RateLimited` wait the
    server's ``Retry-After`` (at most :data:`MAX_WAIT`; ``per`` when absent) and call ``send()``
    again, at most ``resends`` times. ``send`` must resend the *same* request: for a signed one,
    the identical bytes with the same nonce."""
    for attempt in range(resends + 1):
        try:
            if window is None:
                return send()
            with window.slot():
                return send()
        except RateLimited as exc:
            if attempt >= resends:
                raise
            wait = exc.retry_after if exc.retry_after is not None and exc.retry_after >= 0 else per
            sleep(min(wait, MAX_WAIT))
    raise AssertionError("unreachable")  # pragma: no cover
