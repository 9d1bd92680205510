"""Nonce checks of the sandbox, as the exchange makes them (PROTOCOL §3, §9).

Sequential: the request's nonce must equal the account's. Parallel: per lane, an expiry and an
8 × 128-bit window of words ``[base, base + 8)``; the six refusal reasons of PROTOCOL §3. A check
consumes nothing; :func:`consume` marks a nonce used once the transaction ran — reverted or not.
Decided here where the protocol is silent: the window slides so the newest used word sits in
its upper half (``base = word − 3`` when a word of the upper half is used).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, Tuple

from .._parse import digits
from ..nonce import LANES, WINDOW_WORDS, WORD_BITS
from .errors import MISMATCHED_SELECTOR, ApiError, api_error, revert_error
from ..error_codes import ErrorCode

__all__ = ["parse_nonce", "check_nonce", "consume"]

_U128 = 2**128 - 1


def parse_nonce(body: Mapping[str, Any]) -> Tuple[str, int]:
    """``("nonce"|"parallel_nonce", value)`` from a body: exactly one, a base-10 string."""
    if ("nonce" in body) == ("parallel_nonce" in body):
        raise api_error(ErrorCode.INVALID_REQUEST, "give exactly one of nonce or parallel_nonce")
    kind = "nonce" if "nonce" in body else "parallel_nonce"
    value = digits(body[kind])
    if value is None:
        raise api_error(ErrorCode.PARSE_ERROR, f"Parse error: {kind} must be a base-10 string")
    if kind == "nonce" and value >= 2**64:
        raise api_error(ErrorCode.PARSE_ERROR, "Parse error: nonce is a u64")
    if value >= 2**256:
        raise api_error(ErrorCode.PARSE_ERROR, "Parse error: parallel_nonce is a u256")
    return kind, value


def check_nonce(account: Dict[str, Any], kind: str, value: int, now: float) -> None:
    """Raise the exchange's refusal unless the nonce can be used now (nothing is consumed).

    A legacy account (``version < 2``) given a parallel nonce runs and reverts ``Revert(123)``
    (selector mismatch); the contract never records that parallel nonce.
    """
    if kind == "nonce":
        if value < account["nonce"]:
            raise api_error(ErrorCode.INVALID_REQUEST, f"Nonce in the request({value}) is less than the nonce in the database"
                                  f"({account['nonce']}).")
        if value > account["nonce"]:
            raise api_error(ErrorCode.INVALID_REQUEST, f"Nonce in the request({value}) is greater than the nonce in the database"
                                  f"({account['nonce']}).")
        return
    if account["version"] < 2:
        # legacy contract: the parallel entry point is missing, so it runs and reverts
        raise revert_error("MismatchedSelector: the account's contract predates parallel nonces", MISMATCHED_SELECTOR)

    def refuse(reason: str) -> ApiError:
        return api_error(ErrorCode.INVALID_REQUEST, f"Parallel nonce is not usable: {reason}")

    if value >> 176:
        raise refuse("reserved bits set")
    lane, expiry = (value >> 168) & 0xFF, (value >> 136) & 0xFFFFFFFF
    word, bit = (value >> 8) & _U128, value & 0xFF
    if lane >= LANES:
        raise refuse("nonce session id out of range")
    if bit >= WORD_BITS:
        raise refuse("bitmap position out of range")
    if expiry < now:
        raise refuse("nonce expired")
    window = account["windows"].get(lane, {"base": 0, "bitmaps": {}})
    if not window["base"] <= word < window["base"] + WINDOW_WORDS:
        raise refuse("word position out of sliding window")
    if window["bitmaps"].get(word, 0) >> bit & 1:
        raise refuse("nonce already used")


def consume(account: Dict[str, Any], kind: str, value: int, now_ms: int) -> None:
    """Mark the nonce used (also for reverted transactions)."""
    account["modified"] = now_ms
    if kind == "nonce":
        account["nonce"] += 1
        return
    lane, word, bit = (value >> 168) & 0xFF, (value >> 8) & _U128, value & 0xFF
    window = account["windows"].setdefault(lane, {"base": 0, "bitmaps": {}})
    window["bitmaps"][word] = window["bitmaps"].get(word, 0) | (1 << bit)
    if word >= window["base"] + WINDOW_WORDS // 2:  # a word of the upper half is used: slide
        window["base"] = word - (WINDOW_WORDS // 2 - 1)
        window["bitmaps"] = {w: b for w, b in window["bitmaps"].items() if w >= window["base"]}
