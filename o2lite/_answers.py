"""From an HTTP answer to the right :class:`~o2lite.errors.O2Error`: the one mapping.

The exchange's numeric ``code`` (PROTOCOL §3) picks the class; HTTP 429 or code 1003 is
:class:`~o2lite.errors.RateLimited` whatever else the body says; an on-chain revert (normally with
no ``code``) is :class:`~o2lite.errors.TransactionReverted` with the revert decoded by
:func:`o2lite.reverts.describe_revert`. The transport calls :func:`error_from_response`; nothing
here does I/O.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

from ._parse import digits
from .error_codes import TRIGGER_REJECTION_CODES, TRIGGER_REJECTION_NAMES, ErrorCode
from .errors import (InvalidRequest, InvalidSignature, MarketUnavailable, NonceRejected, NotFound, O2Error,
                     OrderRejected, RateLimited, SessionInvalid, TransactionReverted, TriggerRejected)
from .reverts import describe_revert

__all__ = ["error_from_response"]


# One mapping from the exchange's code (PROTOCOL §3) to a class.
_CODE_CLASSES: Dict[int, Type[O2Error]] = {
    ErrorCode.INTERNAL_ERROR: O2Error,
    ErrorCode.INVALID_REQUEST: InvalidRequest,
    ErrorCode.PARSE_ERROR: InvalidRequest,
    ErrorCode.RATE_LIMIT_EXCEEDED: RateLimited,
    ErrorCode.GEO_RESTRICTED: MarketUnavailable,
    ErrorCode.MARKET_NOT_FOUND: NotFound,
    ErrorCode.MARKET_PAUSED: MarketUnavailable,
    ErrorCode.MARKET_ALREADY_EXISTS: MarketUnavailable,
    ErrorCode.ORDER_NOT_FOUND: NotFound,
    ErrorCode.ORDER_NOT_ACTIVE: OrderRejected,
    ErrorCode.INVALID_ORDER_PARAMS: OrderRejected,
    ErrorCode.INVALID_SIGNATURE: InvalidSignature,
    ErrorCode.INVALID_SESSION: SessionInvalid,
    ErrorCode.ACCOUNT_NOT_FOUND: NotFound,
    ErrorCode.WHITELIST_NOT_CONFIGURED: InvalidRequest,
    ErrorCode.TRADE_NOT_FOUND: NotFound,
    ErrorCode.INVALID_TRADE_COUNT: InvalidRequest,
    ErrorCode.ALREADY_SUBSCRIBED: InvalidRequest,
    ErrorCode.TOO_MANY_SUBSCRIPTIONS: InvalidRequest,
    ErrorCode.SUBSCRIPTION_ERROR: InvalidRequest,
    ErrorCode.INVALID_AMOUNT: InvalidRequest,
    ErrorCode.INVALID_TIME_RANGE: InvalidRequest,
    ErrorCode.INVALID_PAGINATION: InvalidRequest,
    ErrorCode.NO_ACTIONS_PROVIDED: InvalidRequest,
    ErrorCode.TOO_MANY_ACTIONS: InvalidRequest,
    ErrorCode.BLOCK_NOT_FOUND: NotFound,
    ErrorCode.EVENTS_NOT_FOUND: NotFound,
    **{code: TriggerRejected for code in TRIGGER_REJECTION_CODES},  # both official numberings (PROTOCOL §14)
}

_STATUS_CLASSES: Dict[int, Type[O2Error]] = {400: InvalidRequest, 404: NotFound, 429: RateLimited}

_SESSION_TEXTS = ("invalid session address", "expired session")
_RETRYABLE_NONCE_TEXTS = ("word position out of sliding window", "nonce expired")


def _pick_class(status: Optional[int], code: Optional[int], text: str) -> Type[O2Error]:
    lowered = text.lower()
    if status == 429 or code == ErrorCode.RATE_LIMIT_EXCEEDED:
        return RateLimited
    if any(t in lowered for t in _SESSION_TEXTS):
        return SessionInvalid
    if "parallel nonce is not usable" in lowered or "is less than the nonce in the database" in lowered:
        return NonceRejected
    if lowered.startswith("revert") or "failed to process transaction" in lowered:
        return TransactionReverted
    if code is not None and code in _CODE_CLASSES:
        return _CODE_CLASSES[code]
    if status is not None and status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    return O2Error


def _as_int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return digits(value.strip())
    return None


def error_from_response(
    status: Optional[int],
    body: Any,
    *,
    method: Optional[str] = None,
    url: Optional[str] = None,
    retry_after: Optional[float] = None,
) -> O2Error:
    """Build the right :class:`O2Error` subclass from an HTTP status and a (parsed) body.

    ``body`` is the parsed JSON when there was any, else a string snippet (≤ 200 characters).
    """
    code = reason = raw_reason = receipts = None
    if isinstance(body, dict):
        code = _as_int(body.get("code"))
        raw_reason = body.get("reason")
        reason = raw_reason if isinstance(raw_reason, str) or raw_reason is None else str(raw_reason)
        receipts = body.get("receipts")
        message = body.get("message") or body.get("error") or reason
        message = str(message) if message else f"request failed with HTTP {status}"
    elif isinstance(body, str) and body.strip():
        message = f"non-JSON response: {body[:200]}"
    else:
        message = f"request failed with HTTP {status}"
    cls = _pick_class(status, code, f"{message} {reason or ''}")
    kw: Dict[str, Any] = dict(status=status, code=code, reason=reason, raw_reason=raw_reason,
                              receipts=receipts, method=method, url=url, body=body)
    if cls is RateLimited:
        return RateLimited(message, retry_after=retry_after, **kw)
    if cls is TransactionReverted:
        info = describe_revert(raw_reason, receipts, message)
        if info is not None and info.name and info.name not in message:
            message = f"{info}: {message}"  # the cause first, the chain's wording after it
        return TransactionReverted(message, revert=info, **kw)
    if cls is NonceRejected:
        retryable = any(t in f"{message} {reason}".lower() for t in _RETRYABLE_NONCE_TEXTS)
        retryable = retryable or "is less than the nonce in the database" in message.lower()
        return NonceRejected(message, retryable=retryable, **kw)
    if cls is TriggerRejected:
        return TriggerRejected(message, names=TRIGGER_REJECTION_NAMES.get(code or 0, ()), **kw)
    return cls(message, **kw)
