"""From an HTTP answer to the right :class:`~o2lite.errors.O2Error`: the one mapping.

The exchange's numeric ``code`` (PROTOCOL §3) picks the class; HTTP 429 or code 1003 is
:class:`~o2lite.errors.RateLimited` whatever else the body says; an on-chain revert (normally with
no ``code``) is :class:`~o2lite.errors.TransactionReverted` with the revert decoded by
:func:`o2lite.reverts.describe_revert`. :func:`classify` is the transport's one classification: a
whole answer (status, headers, bytes) becomes the parsed value or the right error, and
:func:`lost` turns a failed exchange into the public error. Nothing here does I/O.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Optional, Type
from urllib.parse import urlsplit

from ._http import SNIPPET, TooLarge, coded, describe, retry_after_seconds, says_failure, snippet
from ._json import loads as json_loads
from ._parse import digits
from ._sent import ExchangeFailed
from .error_codes import TRIGGER_REJECTION_CODES, TRIGGER_REJECTION_NAMES, ErrorCode
from .errors import (InvalidRequest, InvalidSignature, MarketUnavailable, NonceRejected, NotFound, O2ConnectionError,
                     O2Error, OrderRejected, RateLimited, SessionInvalid, SubmissionUnknown, TransactionReverted,
                     TriggerRejected)
from .reverts import describe_revert

__all__ = ["error_from_response", "Submission", "classify", "lost"]

_AMBIGUOUS_STATUSES = frozenset({502, 504})  # a gateway lost the answer: the request may have run


class Submission(NamedTuple):
    """Which nonce a signed POST/PUT uses: a lost answer becomes :class:`SubmissionUnknown` with it."""

    nonce: Optional[int]
    nonce_kind: str  # "sequential" | "parallel"
    trade_account_id: Optional[str]


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


def unknown(submission: Submission, message: str, **kw: Any) -> SubmissionUnknown:
    """The :class:`SubmissionUnknown` of a signed request whose outcome is unclear."""
    nonce = submission.nonce
    text = f"{message}; nonce {nonce} ({submission.nonce_kind}) may have been used — reconcile before resending"
    return SubmissionUnknown(text, nonce=nonce, nonce_kind=submission.nonce_kind,
                             trade_account_id=submission.trade_account_id, **kw)


def lost(failure: ExchangeFailed, method: str, url: str, submission: Optional[Submission]) -> O2Error:
    """The public error of an exchange that got no whole answer (raise it ``from`` the cause).

    A signed request that may have been sent is :class:`SubmissionUnknown`; an answer over the
    size or time limit is an :class:`O2Error` with its status; anything else an
    :class:`O2ConnectionError` whose ``may_have_landed`` says whether a write may have run.
    """
    sent = failure.stage.sent
    text = describe(failure, url)
    if submission is not None and sent:
        prefix = "" if isinstance(failure.cause, TooLarge) else "no whole answer after sending: "
        return unknown(submission, prefix + text, status=failure.status, method=method, url=url)
    if isinstance(failure.cause, TooLarge):
        return O2Error(text, status=failure.status, method=method, url=url)
    return O2ConnectionError(text, may_have_landed=sent and method != "GET", status=failure.status, method=method,
                             url=url)


def classify(method: str, url: str, answer: Any, submission: Optional[Submission],
             parse: Optional[Callable[[Any], Any]]) -> Any:
    """A whole answer → the parsed body (or ``parse(body)``), or the right :class:`O2Error`.

    - A redirect to a write is an error (o2lite never resends a signed request); one the HTTP
      stack followed by itself (``answer.followed``) re-sent the write: it may have run.
    - An unreadable body: for a signed request under 2xx/5xx, :class:`SubmissionUnknown`; else
      "malformed response" (2xx) or the error of the status.
    - HTTP ≥ 400, or a body that says failure (PROTOCOL §3: pre-flight errors may come with 200):
      :func:`error_from_response`, except that a signed request answered by a gateway (502/504,
      or 5xx without a code) is :class:`SubmissionUnknown`.
    - A signed request answered 3xx, or whose ``parse`` fails: :class:`SubmissionUnknown`.
    - ``parse`` failing on an unsigned request: an :class:`O2Error` chained to the parser's error.
    """
    status, headers, raw = answer.status, answer.headers, answer.raw
    where = f"{method} {urlsplit(url).path}"
    retry_after = retry_after_seconds(headers.get("Retry-After"))
    if answer.followed is not None:
        hop_status, location = answer.followed
        message = (f"{where}: HTTP {hop_status} redirect to {location[:SNIPPET]} was followed and the request "
                   "re-sent there by the HTTP stack: it may have run")
        if submission is not None:
            raise unknown(submission, message, status=status, method=method, url=url)
        raise O2Error(message, status=status, method=method, url=url)
    if status < 200:  # http.client (the requests path) skips only 100: a 1xx is not the answer
        message = f"{where}: HTTP {status} is an interim answer, not a final one"
        if submission is not None:
            raise unknown(submission, message, status=status, method=method, url=url)
        raise O2Error(message, status=status, method=method, url=url)
    if 300 <= status < 400 and method == "GET":  # a redirect the stack could not follow: no data
        target = str(headers.get("Location", "no Location"))[:SNIPPET]
        raise O2Error(f"{where}: unexpected HTTP {status} ({target}), not followed", status=status, method=method,
                      url=url)
    if 300 <= status < 400:
        target = str(headers.get("Location", "?"))[:SNIPPET]
        raise O2Error(f"{where}: the server redirected to {target}; o2lite never resends a signed or "
                      "non-idempotent request: use the final URL", status=status, method=method, url=url)
    try:
        text = raw.decode("utf-8-sig")
        body = json_loads(text) if text.strip() else None
    except ValueError as exc:  # UnicodeDecodeError and every JSON limit are ValueErrors
        text_snippet = raw[:SNIPPET].decode("utf-8", "replace")
        if submission is not None and (status < 400 or status >= 500):
            raise unknown(submission, f"{where}: unreadable answer ({exc})", status=status, method=method,
                          url=url, body=text_snippet) from exc
        if status < 400:
            raise O2Error(f"{where}: malformed response: {exc}", status=status, method=method, url=url,
                          body=text_snippet) from exc
        raise error_from_response(status, text_snippet, method=method, url=url, retry_after=retry_after) from exc
    if status >= 400 or says_failure(body):
        if submission is not None and (status in _AMBIGUOUS_STATUSES or (status >= 500 and not coded(body))):
            raise unknown(submission, f"{where}: HTTP {status} from a gateway: the request may have run",
                          status=status, method=method, url=url, body=snippet(body))
        raise error_from_response(status, body, method=method, url=url, retry_after=retry_after)
    if submission is not None and status >= 300:
        raise unknown(submission, f"{where}: unexpected HTTP {status}", status=status, method=method, url=url,
                      body=snippet(body))
    if parse is None:
        return body
    try:
        return parse(body)
    except Exception as exc:  # a parser's O2Error or a parser bug: one error naming the endpoint, chained
        message = exc.message if isinstance(exc, O2Error) else f"{where}: malformed response ({type(exc).__name__}: " \
                                                                f"{str(exc)[:80]})"
        if submission is not None:
            raise unknown(submission, f"{message} (the request may have run)", status=status, method=method,
                          url=url, body=snippet(body)) from exc
        shown = exc.body if isinstance(exc, O2Error) and exc.body is not None else body
        raise O2Error(message, status=status, method=method, url=url, body=snippet(shown)) from exc
