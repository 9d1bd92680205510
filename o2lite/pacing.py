"""Pacing requests under the exchange's rate limits (PROTOCOL §4), one token bucket per owner.

``POST /v1/session/actions`` and session updates: 5 per second per owner; owner calls, upgrade
and withdraw: 10 per minute per owner. Multi-request helpers (``Batch.send``, ``cancel_all``,
the CLI's bulk commands) take a token before each request, so a long batch is spread out instead
of meeting HTTP 429 at its sixth request. Thread-safe; buckets are shared by every Trader of the
process for the same (exchange, owner).

>>> bucket = TokenBucket(rate=5, per=1.0)
>>> [bucket.wait_time() == 0 for _ in range(1)]
[True]
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Dict, Tuple

__all__ = ["TokenBucket", "LIMITS", "bucket_for"]

#: (requests, seconds) per owner (PROTOCOL §4).
LIMITS = {"session": (5, 1.0), "owner": (10, 60.0)}

_EPSILON = 1e-9
_BUCKETS: Dict[Tuple[str, str, str], "TokenBucket"] = {}
_GUARD = threading.Lock()


class TokenBucket:
    """``rate`` requests per ``per`` seconds, a burst of ``rate``; :meth:`take` sleeps as needed."""

    def __init__(self, rate: int, per: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.capacity, self.refill = float(rate), rate / per
        self.tokens = float(rate)
        self._clock, self._sleep = clock, sleep
        self._stamp = clock()
        self._lock = threading.Lock()

    def _update(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.refill)
        self._stamp = now

    def wait_time(self) -> float:
        """Seconds until a token is free (0 when one is)."""
        with self._lock:
            self._update()
            return 0.0 if self.tokens >= 1 - _EPSILON else (1 - self.tokens) / self.refill

    def take(self) -> float:
        """Take a token, sleeping until one is free; returns the seconds slept."""
        slept = 0.0
        while True:
            with self._lock:
                self._update()
                if self.tokens >= 1 - _EPSILON:  # float refill may land a hair below 1
                    self.tokens = max(self.tokens - 1, 0.0)
                    return slept
                delay = (1 - self.tokens) / self.refill
            self._sleep(delay)
            slept += delay


def bucket_for(base_url: str, owner: str, kind: str) -> TokenBucket:
    """The process-wide bucket of one owner on one exchange for ``session`` or ``owner`` requests."""
    with _GUARD:
        key = (base_url, owner, kind)
        if key not in _BUCKETS:
            _BUCKETS[key] = TokenBucket(*LIMITS[kind])
        return _BUCKETS[key]
