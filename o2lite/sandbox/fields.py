"""Strict reading of request fields: the sandbox accepts what a careful client sends, exactly.

A field in any other form (an upper-case id, a number where a string belongs, a missing
``0x``) is a parse error, code 1002 — a client that gets this from the sandbox would risk a
signature mismatch (4000) on the exchange, which rebuilds the signed bytes from the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._hex import b256_hex
from ..errors import ValidationError
from .errors import ApiError, api_error
from ..error_codes import ErrorCode

__all__ = ["parse_fail", "need", "address_of", "strict_id"]


def parse_fail(message: str) -> ApiError:
    """A body that cannot be read: code 1002."""
    return api_error(ErrorCode.PARSE_ERROR, f"Parse error: {message}")


def need(body: Any, *fields: str) -> Mapping[str, Any]:
    """``body`` as an object holding every field, else a 1002 naming what is missing."""
    if not isinstance(body, Mapping):
        raise parse_fail("the body must be a JSON object")
    missing = [f for f in fields if body.get(f) is None]
    if missing:
        raise parse_fail(f"missing field(s) {', '.join(missing)}")
    return body


def address_of(identity: Any, what: str) -> str:
    """The ``Address`` of ``{"Address": "0x…"}`` (lower-case ``0x`` + 64 hex), else 1002."""
    if not isinstance(identity, Mapping) or set(identity) != {"Address"}:
        raise parse_fail(f'{what} must be {{"Address": "0x…"}}')
    return strict_id(identity["Address"], what)


def strict_id(value: Any, what: str) -> str:
    """A 32-byte id exactly as a careful client sends it; anything else is 1002."""
    try:
        normal = b256_hex(value, what)
    except ValidationError as exc:
        raise parse_fail(str(exc)) from None
    if normal != str(value).lower():
        raise parse_fail(f"{what} must be 0x + 64 hex digits")
    return normal
