"""Rate limits of the sandbox (PROTOCOL §4), when enabled: HTTP 429 with code 1003 and a
``Retry-After`` header, counted over a sliding window per owner (or per IP)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Callable, Dict, List, Tuple

from .config import RATE_LIMITS
from .errors import ApiError
from ..error_codes import ErrorCode

__all__ = ["MAX_KEY", "RateLimiter"]


MAX_KEY = 200  # characters of an owner id or address kept as a key: a real one is 66
_SWEEP_AT = 1024  # counters kept before the idle ones are swept out


class RateLimiter:
    """Sliding-window counters per (limit, owner or IP); call :meth:`check` under the exchange lock.

    Its memory is bounded for a sandbox left running: a key is cut to :data:`MAX_KEY`
    characters (a garbage 60 kB header is not kept), and once the counters double in number,
    those whose window has passed are dropped (amortised O(1) a request)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._hits: Dict[Tuple[str, str], List[float]] = {}
        self._sweep_at = _SWEEP_AT

    def check(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        """Count this request; raise 429/1003 when its limit is used up."""
        owner = headers.get("o2-owner-id", "")
        if path == "/v1/accounts" and method == "POST":
            name, key = "accounts", headers.get("x-forwarded-for", "ip")
        elif path in ("/v1/session", "/v1/session/actions"):
            name, key = "session", owner
        elif path.startswith("/v1/accounts/") and method == "POST":
            name, key = "owner", owner
        elif path.startswith("/v1/aggregated/"):
            name, key = "aggregated", "ip"
        else:
            return
        key = key[:MAX_KEY]
        count, window = RATE_LIMITS[name]
        now = self.clock()
        if len(self._hits) >= self._sweep_at:
            self._sweep(now)
        hits = [t for t in self._hits.get((name, key), []) if now - t < window]
        if len(hits) >= count:
            # rounded up to the millisecond: a client waiting exactly Retry-After is let through
            retry = max(math.ceil((window - (now - hits[0])) * 1000) / 1000, 0.001)
            raise ApiError(429, {"code": ErrorCode.RATE_LIMIT_EXCEEDED, "message": "Rate limit exceeded"}, {"Retry-After": f"{retry:.3f}"})
        hits.append(now)
        self._hits[(name, key)] = hits

    def _sweep(self, now: float) -> None:
        self._hits = {k: v for k, v in self._hits.items() if now - v[-1] < RATE_LIMITS[k[0]][1]}
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._hits))
