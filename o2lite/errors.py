"""Exceptions raised by o2lite (and nothing else: :mod:`o2lite._answers` maps an answer to one).

Everything o2lite raises on purpose derives from :class:`O2Error`. Mistakes the client can see
before it sends anything (bad hex, a float price, six actions) raise :class:`ValidationError`,
which is also a :class:`ValueError`.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "O2Error",
    "ValidationError",
    "O2ConnectionError",
    "RateLimited",
    "InvalidRequest",
    "NotFound",
    "MarketUnavailable",
    "OrderRejected",
    "InvalidSignature",
    "SessionInvalid",
    "TransactionReverted",
    "NonceRejected",
    "TriggerRejected",
    "SubmissionUnknown",
    "NonceWindowFull",
    "StreamError",
    "StreamTimeout",
    "BatchIncomplete",
    "ExperimentalWarning",
]


class O2Error(Exception):
    """Base of every o2lite error.

    Attributes:
        status: HTTP status, or ``None`` when no response was received.
        code: the exchange's numeric error code (PROTOCOL §3), if the body carried one.
        message: the human message (body ``message`` or ``error``, else a summary).
        reason: the body's ``reason`` as a string (revert details), if any.
        raw_reason: ``reason`` exactly as received (string, object or ``None``).
        receipts: the body's ``receipts`` (on-chain reverts), if any.
        method, url: the request that failed, when there was one.
        body: the parsed JSON body, or the first 200 characters of a non-JSON body.
    """

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[int] = None,
        reason: Optional[str] = None,
        raw_reason: Any = None,
        receipts: Any = None,
        method: Optional[str] = None,
        url: Optional[str] = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.reason = reason
        self.raw_reason = raw_reason
        self.receipts = receipts
        self.method = method
        self.url = url
        self.body = body

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.method and self.url:
            parts.append(f"{self.method} {self.url}")
        text = parts[0] + (f" ({', '.join(parts[1:])})" if len(parts) > 1 else "")
        if self.reason and self.reason not in self.message:
            text += f": {self.reason}"
        return text


class ValidationError(O2Error, ValueError):
    """Bad input caught before any request is sent (never has a status)."""


class O2ConnectionError(O2Error):
    """The request never got a whole HTTP answer (timeout, refused, reset). The cause is chained.

    ``may_have_landed`` is ``False`` only when it is certain that no byte of the request left
    the machine (see :mod:`o2lite._sent`); a write for which it is ``True`` may have run.
    """

    def __init__(self, message: str, *, may_have_landed: bool = False, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.may_have_landed = may_have_landed


class RateLimited(O2Error):
    """HTTP 429 or code 1003. ``retry_after`` holds the server's ``Retry-After`` in seconds."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class InvalidRequest(O2Error):
    """The exchange refused the request as malformed or out of limits (1001, 1002, 7xxx)."""


class NotFound(O2Error):
    """A market, order, account, trade, block or event does not exist (2000, 3000, 4002, 5000…)."""


class MarketUnavailable(O2Error):
    """The market is paused, already exists, or the caller is geo-restricted (1004, 2001, 2002)."""


class OrderRejected(O2Error):
    """The order is not active or its parameters are invalid (3001, 3002)."""


class InvalidSignature(O2Error):
    """The exchange recovered a different signer from the signature (4000)."""


class SessionInvalid(O2Error):
    """The session is gone or expired (4001, ``Invalid session address``, ``Expired session``).

    A new nonce will not help: open a new session (``Trader.open_session``) and resend.
    """


class TransactionReverted(O2Error):
    """The transaction ran on chain and reverted. The sequential nonce **was** consumed.

    ``revert`` names what failed when the reason or receipts say it
    (:func:`o2lite.reverts.describe_revert`): ``revert.error`` (e.g. ``OrderCreationError``),
    ``revert.name`` (e.g. ``OrderPartiallyFilled``), ``revert.description`` and ``revert.code``;
    ``raw_reason`` keeps the reason untouched.
    """

    def __init__(self, message: str, *, revert: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.revert = revert


class NonceRejected(InvalidRequest):
    """A nonce was refused (stale sequential nonce, or a parallel nonce not usable).

    ``retryable`` is true when the text proves nothing ran (``word position out of sliding
    window``, ``nonce expired``, a stale sequential nonce); ``nonce already used`` is not
    retryable: it may be our own request that landed.
    """

    def __init__(self, message: str, *, retryable: bool = False, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retryable = retryable


class TriggerRejected(InvalidRequest):
    """The exchange refused a trigger order before running it (codes 7005–7013, PROTOCOL §14):
    nothing ran and no nonce was consumed.

    ``message`` is the server's own message, unchanged. ``names`` says what the code may mean —
    two official lines number these differently (7005–7011 vs 7006–7013), so o2lite keys nothing
    on the exact number and gives both readings, the current line's first. (An on-chain trigger
    *revert* is a :class:`TransactionReverted` whose ``revert.error`` is
    ``TriggerOrderCreationError`` or ``TriggerOrderCancelError``.)
    """

    def __init__(self, message: str, *, names: Any = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.names = tuple(names)

    def __str__(self) -> str:
        meaning = f" [{' or '.join(self.names)}]" if self.names else ""
        return f"trigger order refused{meaning}: {super().__str__()}"


class SubmissionUnknown(O2Error):
    """A signed request reached (or may have reached) the exchange, but its outcome is unknown.

    Raised for a lost answer (read timeout or dropped connection after sending), HTTP 502/504,
    a truncated or unparseable 2xx answer, or a 2xx answer without a readable ``tx_id``. The
    transaction may or may not have landed, so o2lite never resends it. ``nonce`` (sequential
    or packed parallel), ``nonce_kind`` (``"sequential"``/``"parallel"``) and
    ``trade_account_id`` say which nonce was used: :meth:`o2lite.Trader.reconcile` answers "did
    it land?" from the exchange's own state.
    """

    def __init__(self, message: str, *, nonce: Optional[int] = None, nonce_kind: Optional[str] = None,
                 trade_account_id: Optional[str] = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.nonce = nonce
        self.nonce_kind = nonce_kind
        self.trade_account_id = trade_account_id


class NonceWindowFull(O2Error):
    """Every bit of a parallel-nonce lane's 8×128 window is used: wait for it to slide."""


class StreamError(O2Error):
    """A WebSocket stream failed: the connection gave up after its reconnects, a subscription's
    queue overflowed (events were lost), the server refused a subscription, or a message could
    not be read. ``code`` carries the server's code when it sent one (6000–6002)."""


class StreamTimeout(StreamError, TimeoutError):
    """``Subscription.get(timeout=…)`` saw no event in time: a quiet market, not a failure.

    Also a :class:`TimeoutError`, so ``except TimeoutError`` reads "nothing yet" while
    ``except StreamError`` still catches it; the subscription stays usable."""


class BatchIncomplete(O2Error):
    """A multi-request helper (``Batch.send``, ``cancel_all``) failed part-way.

    Every request of the batch is in exactly one of three lists, in sending order:

    - ``landed``: the :class:`~o2lite.models.TxResult` of each request that went through;
    - ``unknown``: ``(groups, error)`` for the request whose answer was lost — ``error`` is its
      :class:`SubmissionUnknown` (with the nonce to reconcile), ``groups`` its action groups;
    - ``not_sent``: the action groups of each request whose actions did not run and were not
      left in doubt: every request after the failure, and the failed one itself when the
      exchange refused it (a refusal before it ran, or an on-chain revert, which undoes the whole
      request — ``cause`` says which).

    ``cause`` is the error that stopped the batch.
    """

    def __init__(self, message: str, *, landed: Any = (), unknown: Any = (), not_sent: Any = (), cause: Any = None,
                 **kw: Any) -> None:
        super().__init__(message, **kw)
        self.landed = list(landed)
        self.unknown = list(unknown)
        self.not_sent = list(not_sent)
        self.cause = cause


class ExperimentalWarning(UserWarning):
    """A flow that rests on a derived, unpublished protocol fact was used (PROTOCOL §13)."""
