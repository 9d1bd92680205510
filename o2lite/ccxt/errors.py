"""ccxt's exception names and hierarchy, and the one mapping from an o2lite failure to them.

The classes carry ccxt's names so ``except ccxt_style.InsufficientFunds`` reads as it does in a
ccxt script, but they are o2lite's own: nothing here imports the ``ccxt`` package, and
``isinstance(e, ccxt.ExchangeError)`` is false (as with the official adapter's fixtures SPEC).
The tree (ccxt's, trimmed to what O2 can raise)::

    BaseError
    ├── ExchangeError                       the exchange answered: a definite outcome
    │   ├── AuthenticationError             bad signature, session or unknown account
    │   ├── ArgumentsRequired, NotSupported
    │   ├── BadRequest
    │   │   └── BadSymbol                   unknown market
    │   ├── InsufficientFunds
    │   └── InvalidOrder                    order rules, PostOnly/FillOrKill outcomes
    │       └── OrderNotFound
    └── OperationFailed                     no definite answer
        ├── NetworkError                    safe to retry: nothing was sent, or it was a read
        │   ├── DDoSProtection
        │   │   └── RateLimitExceeded
        │   ├── ExchangeNotAvailable        HTTP 5xx on a read
        │   └── RequestTimeout
        └── O2AmbiguousSubmission           a signed request may have landed: never resend blindly

``O2AmbiguousSubmission`` is deliberately **not** a ``NetworkError``: a generic
``except NetworkError: retry`` loop must not resend a signed order whose answer was lost.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Literal, Optional, Type

from ..error_codes import ErrorCode
from ..errors import (BatchIncomplete, InvalidRequest, InvalidSignature, MarketUnavailable, NonceRejected,
                      NotFound, O2ConnectionError, O2Error, OrderRejected, RateLimited, SessionInvalid,
                      StreamError, SubmissionUnknown, TransactionReverted, ValidationError)

__all__ = [
    "BaseError", "ExchangeError", "AuthenticationError", "ArgumentsRequired", "NotSupported", "BadRequest",
    "BadSymbol", "InsufficientFunds", "InvalidOrder", "OrderNotFound", "OperationFailed", "NetworkError",
    "DDoSProtection", "RateLimitExceeded", "ExchangeNotAvailable", "RequestTimeout", "O2AmbiguousSubmission",
    "map_error", "Context",
]

#: ``read``: a GET (or a step that sends nothing); ``private``: a signed POST/PUT.
Context = Literal["read", "private"]


class BaseError(Exception):
    """Root of every ccxt-style error (ccxt's ``BaseError``)."""


class ExchangeError(BaseError):
    """The exchange gave a definite answer that is a failure (nothing is pending)."""


class AuthenticationError(ExchangeError):
    """Signature, session or account problem (O2 codes 4000, 4001, 4002)."""


class ArgumentsRequired(ExchangeError):
    """A method needs an argument that was not given (e.g. ``symbol`` for ``fetch_order``)."""


class NotSupported(ExchangeError):
    """O2 has no such thing (an order type, a timeframe, a parameter)."""


class BadRequest(ExchangeError):
    """The request was malformed or out of limits (O2 1001/1002/7xxx, or caught before sending)."""


class BadSymbol(BadRequest):
    """No such market (O2 code 2000, or a symbol not in ``markets``)."""


class InsufficientFunds(ExchangeError):
    """Not enough balance for the order or withdrawal."""


class InvalidOrder(ExchangeError):
    """The order breaks a rule (min_order, PricePrecision, FractionalPrice) or its type's
    condition (PostOnly would take, FillOrKill cannot fill), or is not active (O2 3001/3002)."""


class OrderNotFound(InvalidOrder):
    """No such order (O2 code 3000)."""


class OperationFailed(BaseError):
    """No definite answer from the exchange."""


class NetworkError(OperationFailed):
    """A transport failure where retrying is safe: a read, or a write proven never sent."""


class DDoSProtection(NetworkError):
    """The exchange is shedding load (ccxt's parent of ``RateLimitExceeded``)."""


class RateLimitExceeded(DDoSProtection):
    """HTTP 429 or O2 code 1003: the request was refused unprocessed. ``retry_after`` in s."""

    retry_after: Optional[float] = None


class ExchangeNotAvailable(NetworkError):
    """HTTP 5xx on a read."""


class RequestTimeout(NetworkError):
    """A read timed out."""


class O2AmbiguousSubmission(OperationFailed):
    """A signed request may have landed but its answer was lost (o2lite's ``SubmissionUnknown``).

    Not a :class:`NetworkError` on purpose. Reconcile before resubmitting:
    ``fetch_open_orders`` / ``fetch_my_trades``, or ``o2lite.Trader.reconcile(exc.__cause__)``
    when the cause carries its nonce. ``nonce`` and ``transaction_id`` are set when known.
    """

    nonce: Optional[int] = None
    transaction_id: Optional[str] = None


_INSUFFICIENT = re.compile(r"not.?enough.?balance|insufficient.?funds|not enough [A-Za-z]", re.I)
_INVALID_ORDER = re.compile(
    r"min_order|order value (?:is )?below|below the market's minimum|invalid (?:order|price|quantity)|"
    r"PricePrecision|FractionalPrice|price step|Order(?:Not|Partially)Filled|Post.?Only order|"
    r"Fill.?Or.?Kill order|price and quantity must be positive", re.I)
_UNKNOWN_MARKET = re.compile(r"unknown market|market not found", re.I)
_AUTH_REVERTS = ("SignerError", "SignatureError", "SessionError", "TradeAccountRegistryError")
_NETWORK_TYPES = (ConnectionError, TimeoutError, OSError)
_NOT_FOUND: Dict[int, Type[ExchangeError]] = {ErrorCode.MARKET_NOT_FOUND: BadSymbol,
                                              ErrorCode.ORDER_NOT_FOUND: OrderNotFound,
                                              ErrorCode.ACCOUNT_NOT_FOUND: AuthenticationError}


def _text(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return f"{exc} {reason if isinstance(reason, str) else ''}"


def _by_text(exc: BaseException) -> Optional[Type[ExchangeError]]:
    text = _text(exc)
    if _INSUFFICIENT.search(text):
        return InsufficientFunds
    if _INVALID_ORDER.search(text):
        return InvalidOrder
    return None


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or bool(re.search(r"timed? ?out|timeout", str(exc), re.I))


def _network_class(exc: BaseException) -> Type[NetworkError]:
    return RequestTimeout if _is_timeout(exc) else NetworkError


def _o2_class(exc: O2Error, context: Context) -> Type[BaseError]:
    """The class for an o2lite error (every branch a definite answer unless it says otherwise)."""
    if isinstance(exc, SubmissionUnknown):
        return O2AmbiguousSubmission
    if isinstance(exc, O2ConnectionError):
        # o2lite marks a write whose bytes may have left: only a proven-unsent write is retryable
        if context == "private" and exc.may_have_landed:
            return O2AmbiguousSubmission
        return _network_class(exc)
    if isinstance(exc, RateLimited):
        return RateLimitExceeded  # refused unprocessed (PROTOCOL §4): retrying is safe
    if isinstance(exc, StreamError):
        return NetworkError
    if isinstance(exc, (InvalidSignature, SessionInvalid)):
        return AuthenticationError
    if isinstance(exc, TransactionReverted):
        revert = exc.revert
        found = _by_text(exc)
        if found is InsufficientFunds or (revert is not None and revert.name == "NotEnoughBalance"):
            return InsufficientFunds
        if revert is not None and revert.error == "OrderCreationError":
            return InvalidOrder
        if revert is not None and revert.error in _AUTH_REVERTS:
            return AuthenticationError
        return found or ExchangeError
    if isinstance(exc, NotFound):
        return _NOT_FOUND.get(exc.code or 0, ExchangeError)
    if isinstance(exc, OrderRejected):
        return InvalidOrder
    if isinstance(exc, ValidationError):
        if _UNKNOWN_MARKET.search(str(exc)):
            return BadSymbol
        if "no trade account" in str(exc):
            return AuthenticationError
        return _by_text(exc) or BadRequest
    found = _by_text(exc)
    if found is not None:
        return found
    if isinstance(exc, NonceRejected):
        return ExchangeError  # this request was refused; a stale nonce is o2lite's to re-read
    if isinstance(exc, InvalidRequest):
        return BadRequest
    if isinstance(exc, MarketUnavailable):
        return ExchangeError
    if exc.status is not None and exc.status >= 500:
        # o2lite makes an uncoded 5xx to a signed write a SubmissionUnknown and passes a coded one
        # (e.g. 1000 InternalError) on as it came; an internal error may strike after the
        # transaction left, so on a signed write it is no invitation to retry
        if context == "private" and (exc.method or "POST").upper() != "GET":
            return O2AmbiguousSubmission
        return ExchangeNotAvailable
    return ExchangeError


def map_error(exc: BaseException, context: Context = "read") -> BaseError:
    """The ccxt-style exception for ``exc``, with ``exc`` as its ``__cause__``.

    ``context`` says what failed: ``"read"`` (a GET, or anything that sends nothing) or
    ``"private"`` (a signed request). A transport failure in a private context is
    :class:`O2AmbiguousSubmission` unless o2lite proved nothing was sent, and so is an HTTP 5xx
    answer to a signed write; in a read it is a :class:`NetworkError` (``RequestTimeout`` for
    timeouts, ``ExchangeNotAvailable`` for a 5xx). o2lite's ``SubmissionUnknown`` is
    always ambiguous. An already ccxt-style error is returned unchanged.

    >>> from o2lite.errors import NotFound
    >>> type(map_error(NotFound("Market not found", code=2000))).__name__
    'BadSymbol'
    >>> type(map_error(ConnectionError("response lost"), "private")).__name__
    'O2AmbiguousSubmission'
    """
    if context not in ("read", "private"):
        raise ValueError("context must be 'read' or 'private'")
    if isinstance(exc, BaseError):
        return exc
    if isinstance(exc, BatchIncomplete) and isinstance(exc.cause, BaseException):
        inner = map_error(exc.cause, context)
        error: BaseError = type(inner)(f"{exc}: {inner}")
    elif isinstance(exc, O2Error):
        error = _o2_class(exc, context)(str(exc))
    elif isinstance(exc, _NETWORK_TYPES) or type(exc).__module__.startswith(("requests", "urllib3")):
        error = O2AmbiguousSubmission(str(exc)) if context == "private" else _network_class(exc)(str(exc))
    else:
        error = (_by_text(exc) or ExchangeError)(str(exc))
    _carry(error, exc)
    error.__cause__ = exc
    return error


def _carry(error: BaseError, exc: BaseException) -> None:
    """Copy what a caller needs to act on: the retry delay, the nonce of a lost submission."""
    source: Any = exc.cause if isinstance(exc, BatchIncomplete) else exc
    if isinstance(error, RateLimitExceeded):
        error.retry_after = getattr(source, "retry_after", None)
    if isinstance(error, O2AmbiguousSubmission):
        nonce = getattr(source, "nonce", None)
        error.nonce = nonce if isinstance(nonce, int) else None
