"""The two nonce tracks of one trade account, and how a lost submission is reconciled.

The state lives once per (exchange, trade account) in the process — :class:`AccountNonces` —
and every :class:`~o2lite.Trader` of that account (two scripts' worth of objects, a CLI call
inside a bot, a dry run) draws from it, so they can alternate and run concurrently:

- *Sequential*: one counter per account, consumed by every transaction — reverted ones too.
  The account's lock covers read-nonce → sign → send; the shared cached nonce advances only on
  a confirmed ``tx_id`` and is re-read after **any** failure. A refusal as stale ("Nonce in the
  request(N) is less than the nonce in the database(M)") proves the request did not run and
  consumed nothing (another process of the account took the nonce): the account is re-read once
  and the request re-signed with the fresh nonce and sent once more — never more. Not when a
  submission of this account whose answer was lost (:class:`~o2lite.errors.SubmissionUnknown`)
  holds a nonce the refusal covers: that lost request may have just run, and this call may be
  its resend (what :func:`reconcile` advises), so the refusal is raised, not retryable.
- *Parallel*: a :class:`~o2lite.nonce.ParallelNonceIssuer` per lane, seated from
  ``GET /v1/accounts/window``. A nonce refused as out of window or expired (nothing ran) gets
  one single-flight resync and one retry; ``nonce already used`` resyncs and raises, because the
  request that used it may be our own.

Locks: the process-wide registry lock only finds or makes an account's entry, never waits on
the network. Reads (the first nonce, a window) run under that account's (or lane's) own lock, so
one slow account never delays another.

A signed request whose outcome is unknown raises :class:`~o2lite.errors.SubmissionUnknown` with
the nonce it used; nothing is resent automatically. :func:`reconcile` then asks the exchange.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit
from typing import Any, Callable, Dict, Optional, Set, Tuple, TypeVar

from ._hex import to_int
from .errors import (NonceRejected, NonceWindowFull, O2ConnectionError, O2Error, SubmissionUnknown,
                     TransactionReverted, ValidationError)
from .nonce import LANES, Nonce, NonceKind, ParallelNonceIssuer, check_kind, unpack_parallel_nonce

__all__ = ["NonceTracks", "AccountNonces", "account_nonces", "exchange_key", "Reconciliation", "reconcile", "check_lane",
           "stale_database_nonce"]

T = TypeVar("T")

# The exchange's stale sequential refusal (PROTOCOL §3); bounded digits, no backtracking.
_STALE = re.compile(r"less than the nonce in the database\((\d{1,20})\)")


def check_lane(lane: Any) -> int:
    """A parallel-nonce lane (``nonce_session_id``): an integer from 0 to ``LANES - 1``."""
    return to_int(lane, "lane (nonce_session_id)", high=LANES - 1)


def stale_database_nonce(exc: BaseException) -> Optional[int]:
    """The database nonce ``M`` of a stale sequential refusal ("…is less than the nonce in the
    database(M)"), or None for any other error."""
    if not isinstance(exc, NonceRejected):
        return None
    found = _STALE.search(exc.message[:500])
    return int(found.group(1)) if found else None


class _Lane:
    """One parallel lane of an account: its issuer, seated on first use under its own lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issuer: Optional[ParallelNonceIssuer] = None


class AccountNonces:
    """The nonce state of one (exchange, trade account), shared by every Trader of the process.

    ``lock`` covers a sequential read → sign → send; ``sequential`` is the next sequential nonce
    when known (None: read it first). Get one with :func:`account_nonces`.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.sequential: Optional[int] = None
        #: Sequential nonces of this account's submissions whose outcome is unknown
        #: (:class:`~o2lite.errors.SubmissionUnknown`): one of them may land at any time.
        self.unknown: Set[int] = set()
        #: Of those, the nonces a later request of this process then spent (it landed or
        #: reverted): the lost request carrying one can never run (:func:`reconcile`).
        self.superseded: Set[int] = set()
        self._lanes_guard = threading.Lock()
        self._lanes: Dict[int, _Lane] = {}

    def spent(self, nonce: int) -> None:
        """A request of this process spent sequential ``nonce`` (call under :attr:`lock`)."""
        if nonce in self.unknown:
            self.unknown.discard(nonce)
            self.superseded.add(nonce)

    def lane(self, lane: int) -> _Lane:
        """The lane's entry (made on first use; no I/O)."""
        with self._lanes_guard:
            return self._lanes.setdefault(lane, _Lane())


_ACCOUNTS: Dict[Tuple[str, str], AccountNonces] = {}
_ACCOUNTS_GUARD = threading.Lock()  # held only to find or make an entry: never around I/O


def exchange_key(base_url: str) -> str:
    """``base_url`` as one exchange: scheme and host in lower case, the default port dropped
    (``HTTPS://API.O2.APP:443`` is ``https://api.o2.app``); the path kept."""
    parts = urlsplit(base_url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return base_url  # not a URL o2lite could have reached: keep it as spelled
    shown = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        shown += f":{port}"
    return f"{scheme}://{shown}{parts.path.rstrip('/')}"


def account_nonces(base_url: str, trade_account_id: str) -> AccountNonces:
    """The process-wide nonce state of one trade account on one exchange (:func:`exchange_key`)."""
    key = (exchange_key(base_url), trade_account_id.lower())
    with _ACCOUNTS_GUARD:
        return _ACCOUNTS.setdefault(key, AccountNonces())


class NonceTracks:
    """One Trader's door to its account's shared nonce state (see the module doc).

    Args:
        client: the :class:`o2lite.Client` (its ``accounts`` group reads nonces and windows).
        account: a function returning the trade account id (it may look it up once).
        clock: Unix seconds, for parallel-nonce expiry.
    """

    def __init__(self, client: Any, account: Callable[[], str], clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._account = account
        self._clock = clock

    def shared(self) -> AccountNonces:
        """This account's :class:`AccountNonces` (looking the account up first if needed)."""
        return account_nonces(self._client.transport.base_url, self._account())

    @property
    def sequential_nonce(self) -> Optional[int]:
        """The account's next sequential nonce as this process knows it (None: unknown)."""
        return self.shared().sequential

    def forget_sequential(self) -> None:
        """Drop the cached sequential nonce: the next sequential send re-reads it first."""
        self.shared().sequential = None

    def _read(self, shared: AccountNonces) -> int:
        account = self._client.accounts.get(trade_account_id=self._account())
        if account.nonce is None:
            raise O2Error("the exchange did not report the account's nonce")
        nonce: int = account.nonce
        shared.sequential = nonce
        return nonce

    def refresh(self) -> int:
        """Re-read the sequential nonce from ``GET /v1/accounts`` (waits for a send in flight)."""
        shared = self.shared()
        with shared.lock:
            return self._read(shared)

    def sequential(self, send: Callable[[Nonce], T]) -> T:
        """Run ``send(nonce)`` under the account lock with the next sequential nonce; a stale
        refusal re-reads the account once and runs ``send`` once more with the fresh nonce."""
        shared = self.shared()
        with shared.lock:
            value = shared.sequential if shared.sequential is not None else self._read(shared)
            shared.unknown = {u for u in shared.unknown if u >= value}  # passed: no refusal can blame them
            resigned = False
            while True:
                try:
                    result = send(Nonce.sequential(value))
                except BaseException as exc:
                    shared.sequential = None  # reverts consume the nonce too: re-read before the next one
                    if isinstance(exc, TransactionReverted):
                        shared.spent(value)
                    if not resigned and stale_database_nonce(exc) is not None:
                        fresh = self._read(shared)
                        lost = sorted(u for u in shared.unknown if value <= u < fresh)
                        if lost:  # that lost request may be the very one this call resends
                            raise _resend_refused(exc, value, lost) from exc
                        if fresh > value:  # the read confirms the refusal: nothing of ours ran
                            value, resigned = fresh, True
                            continue
                    try:
                        _raise_unknown(exc, Nonce.sequential(value), self._account())
                    except SubmissionUnknown:
                        shared.unknown.add(value)
                        raise
                    if isinstance(exc, SubmissionUnknown):
                        shared.unknown.add(value)
                    raise
                shared.sequential = value + 1
                shared.spent(value)
                return result

    def issuer(self, lane: int) -> ParallelNonceIssuer:
        """The lane's issuer, seated from the window on first use. One per (exchange, account,
        lane) in the whole process, shared by every Trader (and dry run) of the account, so no
        two of them ever hand out the same parallel nonce. The window read runs under that
        lane's own lock: other accounts and lanes never wait for it."""
        entry = self.shared().lane(lane)
        with entry.lock:
            if entry.issuer is None:
                entry.issuer = ParallelNonceIssuer(lane, self._fetcher(lane), clock=self._clock)
            return entry.issuer

    def _fetcher(self, lane: int) -> Callable[[], Any]:
        account = self._account()
        return lambda: self._client.accounts.nonce_window(account, lane)

    def parallel(self, lane: int, send: Callable[[Nonce], T]) -> T:
        """Run ``send(nonce)`` with a fresh parallel nonce of ``lane`` (see the module doc)."""
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
            nonce = Nonce.parallel(issued.value)
            try:
                return send(nonce)
            except NonceRejected as exc:
                issuer.resync(fetch, seen_generation=issued.generation)
                if exc.retryable and not retried:
                    retried = True  # out of window / expired: provably nothing ran, retry once
                    continue
                raise  # "nonce already used" may be our own landed request: never resend
            except BaseException as exc:
                _raise_unknown(exc, nonce, self._account())
                raise

    def draw(self, kind: NonceKind, lane: int) -> Nonce:
        """A nonce for a dry run, consuming nothing on the exchange: the account's next
        sequential nonce (not advanced locally), or a parallel position taken from the lane's
        issuer — whose cursor only moves forward, so no later real send reuses it while the
        window has room (:meth:`~o2lite.nonce.ParallelNonceIssuer.issue`, ``shown_only``)."""
        if check_kind(kind) == "sequential":
            shared = self.shared()
            with shared.lock:
                return Nonce.sequential(shared.sequential if shared.sequential is not None else self._read(shared))
        issuer = self.issuer(lane)
        try:
            return Nonce.parallel(issuer.issue(shown_only=True).value)
        except NonceWindowFull:
            issuer.resync(self._fetcher(lane), seen_generation=issuer.generation)
            return Nonce.parallel(issuer.issue(shown_only=True).value)

    def run(self, kind: NonceKind, lane: int, send: Callable[[Nonce], T]) -> T:
        """``send(nonce)`` on the chosen track."""
        if check_kind(kind) == "sequential":
            return self.sequential(send)
        return self.parallel(lane, send)


def _resend_refused(exc: BaseException, value: int, lost: Any) -> NonceRejected:
    """A stale refusal that a lost submission of this process may explain: not re-signed."""
    shown = ", ".join(str(u) for u in lost)
    return NonceRejected(f"nonce {value} was refused as used, and a request of this account whose answer was lost "
                         f"(nonce {shown}) may have run since: if this call resends that request, it has already run. "
                         "Not re-signed; check the account's orders before sending again",
                         retryable=False, status=getattr(exc, "status", None), code=getattr(exc, "code", None),
                         method=getattr(exc, "method", None), url=getattr(exc, "url", None),
                         body=getattr(exc, "body", None))


def _raise_unknown(exc: BaseException, nonce: Nonce, account: str) -> None:
    """A lost answer reported by an older path (a connection error after sending) becomes
    :class:`SubmissionUnknown`; the transport raises it itself for signed requests."""
    if isinstance(exc, O2ConnectionError) and exc.may_have_landed:
        raise SubmissionUnknown(f"no answer after sending (nonce {nonce.value}): the request may have landed; "
                                "reconcile before resending", nonce=nonce.value, nonce_kind=nonce.kind,
                                trade_account_id=account, method=exc.method, url=exc.url) from exc


@dataclass(frozen=True)
class Reconciliation:
    """The exchange's answer to "did it land?" for a :class:`SubmissionUnknown`.

    ``landed`` is True (it ran — a revert counts, the nonce is spent), False (it has not run),
    or None (the exchange's state cannot tell). ``final`` says whether that can still change:
    a sequential nonce not yet passed, or a parallel nonce not used and not expired, may still
    be consumed by the request in flight. A sequential nonce that a later request of this process
    spent (the shared state re-reads the account after a lost answer, so the next send of the
    account may reuse that nonce) is known not to have run.
    """

    landed: Optional[bool]
    final: bool
    detail: str


def reconcile(client: Any, exc: SubmissionUnknown, *, now: Optional[float] = None) -> Reconciliation:
    """Ask the exchange whether the submission behind ``exc`` landed (see :class:`Reconciliation`).

    Sequential: landed once the account's nonce has passed the one used. Until then, resending
    with the **same** nonce is safe — if the first request lands after all, the resend is
    refused as stale — which is what a fresh :class:`~o2lite.Trader` call of the same process
    does (it knows the lost nonce and does not re-sign such a refusal; another process would). Parallel:
    landed when that bit of the lane's window is set; never once its expiry (≤ 120 s) has
    passed unused. Limits: the exchange shows *that* a nonce was spent, not by which request —
    another client signing for the same account and nonce would look the same; a parallel word
    that has slid out of the window can no longer be read.
    """
    if not isinstance(exc, SubmissionUnknown) or exc.nonce is None or exc.trade_account_id is None:
        raise ValidationError("reconcile needs a SubmissionUnknown that carries its nonce and trade account")
    account = exc.trade_account_id
    if exc.nonce_kind == "sequential":
        if exc.nonce in account_nonces(client.transport.base_url, account).superseded:
            return Reconciliation(False, True, f"a later request of this process spent nonce {exc.nonce}: this one "
                                               "can never run (it would be refused as stale)")
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
