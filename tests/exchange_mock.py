"""`responses` callbacks that act as the exchange: every request is served by the sandbox
engine, which recovers the signer of each signature over bytes rebuilt from the request JSON.

Every body sent is also checked: chain integers are base-10 strings, never JSON numbers with a
fraction or an exponent, never floats.
"""

from __future__ import annotations

import json
import re
from typing import Any, List
from urllib.parse import parse_qsl, urlsplit

import responses

from o2lite.sandbox import Exchange

SANDBOX = "http://sandbox.test"
CHAIN_INT_KEYS = {"nonce", "parallel_nonce", "price", "quantity", "amount", "expiry", "max_price", "min_price", "coins", "gas"}
_DECIMAL = re.compile(r"^[0-9]+$")


def assert_exact_integers(value: Any, key: str = "") -> None:
    """No float anywhere; every chain integer a plain base-10 string."""
    assert not isinstance(value, float), f"float sent under {key!r}"
    if isinstance(value, dict):
        for k, v in value.items():
            assert_exact_integers(v, k)
    elif isinstance(value, list):
        if key == "Limit":
            for item in value:
                assert isinstance(item, str) and _DECIMAL.match(item), f"Limit item {item!r}"
        for item in value:
            assert_exact_integers(item, key)
    elif key in CHAIN_INT_KEYS:
        assert isinstance(value, str) and _DECIMAL.match(value), f"{key}={value!r} is not a base-10 string"


class ExchangeMock:
    """Routes every request to ``http://sandbox.test`` through an :class:`Exchange`."""

    def __init__(self, rsps: responses.RequestsMock, exchange: Exchange) -> None:
        self.exchange = exchange
        self.sent: List[tuple] = []
        self.fail_next: List[Exception] = []  # raised instead of answering (after the exchange ran)
        for method in ("GET", "POST", "PUT"):
            rsps.add_callback(method, re.compile(re.escape(SANDBOX) + r"/.*"), callback=self._serve)

    def _serve(self, request):
        url = urlsplit(request.url)
        body = json.loads(request.body) if request.body else None
        if body is not None:
            assert_exact_integers(body)
        self.sent.append((request.method, url.path, body, dict(request.headers)))
        status, payload, headers = self.exchange.handle(request.method, url.path, dict(parse_qsl(url.query)),
                                                        request.headers, body)
        if self.fail_next:
            raise self.fail_next.pop()
        return status, headers, json.dumps(payload)

    def posts(self, path: str) -> List[tuple]:
        return [s for s in self.sent if s[0] in ("POST", "PUT") and s[1] == path]
