"""The two nonce tracks of one trade account, and how a lost submission is reconciled.

- *Sequential*: one counter per account, consumed by every transaction — reverted ones too.
  A lock per (exchange, trade account), shared by every :class:`~o2lite.Trader` of the process,
  covers read-nonce → sign → send; the cached next nonce, shared the same way (so one Trader's
  send never leaves another's stale), advances only on a confirmed ``tx_id`` and is re-read
  after **any** failure.
- *Parallel*: a :class:`~o2lite.nonce.ParallelNonceIssuer` per lane, seated from
  ``GET /v1/accounts/window``. A nonce refused as out of window or expired (nothing ran) gets
  one single-flight resync and one retry; ``nonce already used`` resyncs and raises, because the
  request that used it may be our own.

A signed request whose outcome is unknown raises :class:`~o2lite.errors.SubmissionUnknown` with
the nonce it used; nothing is resent automatically. :func:`reconcile` then asks the exchange.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple, TypedDict, TypeVar

from ._hex import to_int
from .errors import (NonceRejected, NonceWindowFull, O2ConnectionError, O2Error, SubmissionUnknown,
                     ValidationError)
from .nonce import LANES, ParallelNonceIssuer, unpack_parallel_nonce
from .session import NONCE_KINDS

__all__ = ["NonceTracks", "Reconciliation", "reconcile", "NonceKw", "nonce_kw", "check_kind", "check_lane"]

T = TypeVar("T")

_ACCOUNT_LOCKS: Dict[Tuple[str, str], threading.Lock] = {}
_ACCOUNT_LOCKS_GUARD = threading.Lock()
_NEXT_SEQUENTIAL: Dict[Tuple[str, str], int] = {}  # (exchange, trade account) → next nonce, when known
_ISSUERS: Dict[Tuple[str, str, int], ParallelNonceIssuer] = {}
_ISSUERS_GUARD = threading.Lock()


class NonceKw(TypedDict, total=False):
    nonce: int
    parallel_nonce: int


def nonce_kw(field: str, value: int) -> NonceKw:
    """``{"nonce": n}`` or ``{"parallel_nonce": n}`` as keyword arguments."""
    return {"nonce": value} if field == "nonce" else {"parallel_nonce": value}


def check_kind(nonce_kind: Any) -> str:
    """``"sequential"`` or ``"parallel"``, else :class:`ValidationError`."""
    if nonce_kind not in NONCE_KINDS:
        raise ValidationError("nonce_kind must be 'sequential' or 'parallel'")
    return str(nonce_kind)


def check_lane(lane: Any) -> int:
    """A parallel-nonce lane (``nonce_session_id``): an integer from 0 to ``LANES - 1``."""
    return to_int(lane, "lane (nonce_session_id)", high=LANES - 1)


def account_lock(base_url: str, trade_account_id: str) -> threading.Lock:
    """One lock per (exchange, trade account), shared by every Trader of this process."""
    with _ACCOUNT_LOCKS_GUARD:
        return _ACCOUNT_LOCKS.setdefault((base_url, trade_account_id), threading.Lock())


class NonceTracks:
    """Draws nonces for one trade account and runs a signed send with each (see the module doc).

    Args:
        client: the :class:`o2lite.Client` (its ``accounts`` group reads nonces and windows).
        account: a function returning the trade account id (it may look it up once).
        clock: Unix seconds, for parallel-nonce expiry.
    """

    def __init__(self, client: Any, account: Callable[[], str], clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._account = account
        self._clock = clock

    @property
    def sequential_nonce(self) -> Optional[int]:
        """The account's next sequential nonce, when known (shared by every Trader of it)."""
        return _NEXT_SEQUENTIAL.get((self._client.transport.base_url, self._account()))

    @sequential_nonce.setter
    def sequential_nonce(self, value: Optional[int]) -> None:
        key = (self._client.transport.base_url, self._account())
        if value is None:
            _NEXT_SEQUENTIAL.pop(key, None)
        else:
            _NEXT_SEQUENTIAL[key] = value

    def refresh(self) -> int:
        """Re-read the sequential nonce from ``GET /v1/accounts``."""
        account = self._client.accounts.get(trade_account_id=self._account())
        if account.nonce is None:
            raise O2Error("the exchange did not report the account's nonce")
        nonce: int = account.nonce
        self.sequential_nonce = nonce
        return nonce

    def sequential(self, send: Callable[[int], T]) -> T:
        """Run ``send(nonce)`` under the account lock with the next sequential nonce."""
        with account_lock(self._client.transport.base_url, self._account()):
            nonce = self.sequential_nonce if self.sequential_nonce is not None else self.refresh()
            try:
                result = send(nonce)
            except BaseException as exc:
                self.sequential_nonce = None  # reverts consume the nonce too: re-read before the next one
                _raise_unknown(exc, nonce, "sequential", self._account())
                raise
            self.sequential_nonce = nonce + 1
            return result

    def issuer(self, lane: int) -> ParallelNonceIssuer:
        """The lane's issuer, seated from the window on first use. One per (exchange, account,
        lane) in the whole process, shared by every Trader (and dry run) of the account, so no
        two of them ever hand out the same parallel nonce."""
        key = (self._client.transport.base_url, self._account(), lane)
        with _ISSUERS_GUARD:
            issuer = _ISSUERS.get(key)
            if issuer is None:
                issuer = ParallelNonceIssuer(lane, self._fetcher(lane), clock=self._clock)
                _ISSUERS[key] = issuer
            return issuer

    def _fetcher(self, lane: int) -> Callable[[], Any]:
        account = self._account()
        return lambda: self._client.accounts.nonce_window(account, lane)

    def parallel(self, lane: int, send: Callable[[int], T]) -> T:
        """Run ``send(packed_nonce)`` with a fresh parallel nonce of ``lane`` (see the module doc)."""
        issuer = self.issuer(lane)
        fetch = self._fetcher(lane)
        retried = False
        while True:
            try:
                issued = issuer.issue()
            except NonceWindowFull:
                if retried:
                    raise
                retried = True
                issuer.resync(fetch, seen_generation=issuer.generation)
                continue
            try:
                return send(issued.value)
            except NonceRejected as exc:
                issuer.resync(fetch, seen_generation=issued.generation)
                if exc.retryable and not retried:
                    retried = True  # out of window / expired: provably nothing ran, retry once
                    continue
                raise  # "nonce already used" may be our own landed request: never resend
            except BaseException as exc:
                _raise_unknown(exc, issued.value, "parallel", self._account())
                raise

    def draw(self, kind: str, lane: int) -> Tuple[str, int]:
        """A nonce for a dry run, consuming nothing on the exchange: the account's next
        sequential nonce (not advanced locally), or a parallel position taken from the lane's
        issuer — whose cursor only moves forward, so no later real send reuses it."""
        if kind == "sequential":
            return "nonce", self.sequential_nonce if self.sequential_nonce is not None else self.refresh()
        if kind == "parallel":
            return "parallel_nonce", self.issuer(lane).issue().value
        raise ValidationError("nonce_kind must be 'sequential' or 'parallel'")

    def run(self, kind: str, lane: int, send: Callable[[str, int], T]) -> T:
        """``send("nonce"|"parallel_nonce", value)`` on the chosen track."""
        if kind == "sequential":
            return self.sequential(lambda n: send("nonce", n))
        if kind == "parallel":
            return self.parallel(lane, lambda n: send("parallel_nonce", n))
        raise ValidationError("nonce_kind must be 'sequential' or 'parallel'")


def _raise_unknown(exc: BaseException, nonce: int, kind: str, account: str) -> None:
    """A lost answer reported by an older path (a connection error after sending) becomes
    :class:`SubmissionUnknown`; the transport raises it itself for signed requests."""
    if isinstance(exc, O2ConnectionError) and getattr(exc, "may_have_landed", False):
        raise SubmissionUnknown(f"no answer after sending (nonce {nonce}): the request may have landed; "
                                "reconcile before resending", nonce=nonce, nonce_kind=kind,
                                trade_account_id=account, method=exc.method, url=exc.url) from exc


@dataclass(frozen=True)
class Reconciliation:
    """The exchange's answer to "did it land?" for a :class:`SubmissionUnknown`.

    ``landed`` is True (it ran — a revert counts, the nonce is spent), False (it has not run),
    or None (the exchange's state cannot tell). ``final`` says whether that can still change:
    a sequential nonce not yet passed, or a parallel nonce not used and not expired, may still
    be consumed by the request in flight.
    """

    landed: Optional[bool]
    final: bool
    detail: str


def reconcile(client: Any, exc: SubmissionUnknown, *, now: Optional[float] = None) -> Reconciliation:
    """Ask the exchange whether the submission behind ``exc`` landed (see :class:`Reconciliation`).

    Sequential: landed once the account's nonce has passed the one used. Until then, resending
    with the **same** nonce is safe — if the first request lands after all, the resend is
    refused as stale — which is what a fresh :class:`~o2lite.Trader` call does. Parallel:
    landed when that bit of the lane's window is set; never once its expiry (≤ 120 s) has
    passed unused. Limits: the exchange shows *that* a nonce was spent, not by which request —
    another client signing for the same account and nonce would look the same; a parallel word
    that has slid out of the window can no longer be read.
    """
    if not isinstance(exc, SubmissionUnknown) or exc.nonce is None or exc.trade_account_id is None:
        raise ValidationError("reconcile needs a SubmissionUnknown that carries its nonce and trade account")
    account = exc.trade_account_id
    if exc.nonce_kind == "sequential":
        current = client.accounts.get(trade_account_id=account).nonce
        if current is None:
            return Reconciliation(None, False, "the exchange did not report the account's nonce")
        if current > exc.nonce:
            return Reconciliation(True, True, f"the account nonce is {current}, past {exc.nonce}: it ran "
                                              "(a revert would have spent the nonce too)")
        return Reconciliation(False, False, f"the account nonce is still {current}: it has not run; resending "
                                            "with the same nonce is safe (a late arrival makes the resend stale)")
    fields = unpack_parallel_nonce(exc.nonce)
    if fields.nonce_session_id >= LANES:  # pragma: no cover - unpack already refuses it
        raise ValidationError("bad lane")
    window = client.accounts.nonce_window(account, fields.nonce_session_id)
    clock = time.time() if now is None else now
    if window.is_used(fields.word_position, fields.bitmap_position):
        return Reconciliation(True, True, "that parallel nonce's bit is set in the window: it ran")
    if fields.word_position < window.base:
        return Reconciliation(None, True, "the window has slid past that word: the exchange can no longer tell")
    if fields.expiry < clock:
        return Reconciliation(False, True, "that parallel nonce expired unused: it can never run")
    return Reconciliation(False, False, f"not used yet; it can still run until its expiry in "
                                        f"{int(fields.expiry - clock)} s")
