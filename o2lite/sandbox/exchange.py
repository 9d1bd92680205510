"""The sandbox exchange: the core (:mod:`o2lite.sandbox.core`) composed with its routes.

:meth:`Exchange.handle` takes a request (method, path, query, headers, JSON body) and returns
``(status, body, headers)`` the way the O2 exchange would. The HTTP server in
:mod:`o2lite.sandbox.server` and the tests' ``responses`` callbacks both call it.

What it checks, like the exchange: the body in its canonical form (a ``"buy"`` side or a JSON
number price is a parse error, 1002); signatures recovered over bytes rebuilt **from the request
JSON** (code 4000 when the signer is wrong); the nonce (:mod:`o2lite.sandbox.nonces`); one
session per account with expiry and a contract allowlist; the owner header; limits and
(optionally) rate limits. Pre-flight errors carry a ``code`` and consume no nonce; on-chain
reverts carry no ``code`` and consume the nonce (:mod:`o2lite.sandbox.errors`).

Imports run one way: this module → the routes (:mod:`~o2lite.sandbox.reads`,
:mod:`~o2lite.sandbox.owner_ops`, :mod:`~o2lite.sandbox.aggregated`) → the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, Dict, Tuple

from ..error_codes import ErrorCode
from ..errors import ValidationError
from .active_orders import active_routes
from .aggregated import aggregated_routes
from .bridge import BRIDGE_PREFIX, BridgeProxy
from .config import DEFAULT_MARKETS
from .core import ExchangeCore, Routes
from .errors import ApiError
from .owner_ops import owner_routes
from .reads import read_routes

__all__ = ["Exchange", "ApiError", "DEFAULT_MARKETS"]


class Exchange(ExchangeCore):
    """An in-memory O2 exchange that answers requests. Thread-safe.

    Takes the options of :class:`~o2lite.sandbox.core.ExchangeCore` (markets, seed_book,
    rate_limits, faucet_cooldown, legacy_accounts, domain_version, clock).
    """

    @cached_property
    def bridge(self) -> BridgeProxy:
        """The sandbox Fast Bridge proxy, served under ``/bridge`` (:mod:`o2lite.sandbox.bridge`)."""
        return BridgeProxy(self)

    @cached_property
    def routes(self) -> Routes:
        """Every (method, path) this exchange answers, and its route."""
        return {
            ("POST", "/v1/accounts"): self.locked(self.create_account),
            ("PUT", "/v1/session"): self.put_session,
            ("POST", "/v1/session/actions"): self.post_actions,
            **read_routes(self), **aggregated_routes(self), **owner_routes(self), **active_routes(self),
        }

    def handle(self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str],
               body: Any) -> Tuple[int, Any, Dict[str, str]]:
        """Serve one request → ``(status, JSON body, extra headers)``; never raises."""
        method = method.upper()
        path = path.rstrip("/") or "/"
        if path.startswith(BRIDGE_PREFIX + "/"):  # a separate service with its own error shape
            status, payload = self.bridge.handle(method, path[len(BRIDGE_PREFIX):], query, body)
            return status, payload, {}
        route = self.routes.get((method, path))
        if route is None:
            allowed = sorted(m for m, p in self.routes if p == path)
            if allowed:
                return 405, {"code": ErrorCode.INVALID_REQUEST, "message": f"method {method} not allowed on {path}"}, \
                    {"Allow": ", ".join(allowed)}
            return 404, {"code": ErrorCode.INVALID_REQUEST, "message": f"no route {method} {path}"}, {}
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        try:
            with self.lock:
                if self.rate_limits:
                    self._limiter.check(method, path, lowered)
            return 200, route(query=dict(query), headers=lowered, body=body), {}
        except ApiError as exc:
            return exc.status, exc.body, exc.headers
        except (ValidationError, KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as exc:
            return 400, {"code": ErrorCode.PARSE_ERROR, "message": f"Parse error: {type(exc).__name__}: {str(exc)[:200]}"}, {}
