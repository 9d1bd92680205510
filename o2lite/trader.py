"""``Trader``: one owner, one trade account, one session — the high-level way to trade.

Example::

    trader = client.trader(o2lite.Wallet.generate())
    trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
    trader.place("FUEL/USDC", "Buy", "0.0123", "100")

"Parallel mode" runs the way both official SDKs run it — the proven path: the session is
*registered* with the sequential nonce and the owner's personal signature, and its *actions*
(and parallel withdrawals) then draw parallel nonces. Nonce handling lives in
:mod:`o2lite.nonce_tracks`, order building in :mod:`o2lite.order_building`.

Every argument is checked before any request — including the first nonce or window read — and
a signed request whose outcome is unknown raises :class:`~o2lite.errors.SubmissionUnknown`
with its nonce; :meth:`Trader.reconcile` tells whether it landed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, cast, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

from ._hex import b256_hex, to_int
from .account_views import AccountViews
from .accounts import UpgradeResult, upgrade_outcome
from .actions import canonical_action
from .batch import Batch
from .encoding import identity_json
from .errors import O2Error, SubmissionUnknown, TransactionReverted, ValidationError
from .market import Market, format_units, to_decimal
from .models import Order, TxResult
from .nonce_tracks import NonceTracks, Reconciliation, check_kind, check_lane, nonce_kw, reconcile
from .pacing import bucket_for
from .order_building import Chain, Number, OrderTypeName, Side, create_order_action, scale_amount
from .session import TradeSession, warn_parallel_registration
from .session_files import read_session, write_session
from .signed import SignedRequest
from .signing import Signer, Wallet
from .trigger_trading import TriggerTrading

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["Trader", "Batch", "Chain", "DEFAULT_SESSION_SECONDS"]

T = TypeVar("T")
DEFAULT_SESSION_SECONDS = 24 * 3600  # a session key lives one day unless told otherwise
_MAX_EXPIRY = 2**32 - 1  # sessions expire in u64 seconds; beyond u32 is no real date

MarketRef = Union[str, Market]


class Trader(AccountViews, TriggerTrading):
    """Trade as ``owner`` (a :class:`~o2lite.signing.Wallet`, :class:`~o2lite.signing.EvmWallet`
    or any :class:`~o2lite.signing.Signer`). Thread-safe. Trigger orders (take-profit, stop-loss,
    OCO): :class:`~o2lite.trigger_trading.TriggerTrading`.

    Args:
        client: an :class:`o2lite.Client`.
        owner: the owner signer.
        trade_account_id: the account, if known (else found or created by :meth:`setup_account`).
        clock: Unix seconds; injectable for tests.
        pacing: multi-request helpers wait for the owner's rate limit (PROTOCOL §4).
        dry_run: prepare instead of sending (see :mod:`o2lite.dry_run`).
    """

    def __new__(cls, client: "Client", owner: Signer, *, dry_run: bool = False, **options: Any) -> Any:
        """``dry_run=True`` makes a :class:`~o2lite.dry_run.DryRunTrader` instead: the same signing
        methods, returning the :class:`~o2lite.signed.SignedRequest` they would send. (Static type
        checkers still see a Trader here: construct ``DryRunTrader`` directly for exact types.)"""
        if dry_run:
            from .dry_run import DryRunTrader

            return DryRunTrader(client, owner, **options)
        return super().__new__(cls)

    def __init__(self, client: "Client", owner: Signer, *, trade_account_id: Optional[str] = None,
                 clock: Callable[[], float] = time.time, pacing: bool = True, dry_run: bool = False) -> None:
        if not isinstance(owner, Signer) or not isinstance(getattr(owner, "address", None), str):
            raise ValidationError("owner must be a Wallet/EvmWallet or have address, personal_sign, sign_digest")
        b256_hex(owner.address, "owner address")
        if not callable(clock):
            raise ValidationError("clock must be a function returning Unix seconds")
        self.client = client
        self.owner = owner
        self.trade_account_id = None if trade_account_id is None else b256_hex(trade_account_id, "trade_account_id")
        self.session: Optional[TradeSession] = None
        self._clock = clock
        self.pacing = bool(pacing)
        self._dry_run = False  # set only by o2lite.dry_run.DryRunTrader
        self.nonces = NonceTracks(client, self._account, clock)
        self._parallel_support: Optional[bool] = None

    def __repr__(self) -> str:
        return f"Trader(owner={self.owner.address!r}, trade_account_id={self.trade_account_id!r})"

    # --- account ----------------------------------------------------------------------------

    def _account(self) -> str:
        if self.trade_account_id is None:
            account = self.client.accounts.get(owner=self.owner.address)
            if account.trade_account_id is None:
                raise ValidationError("this owner has no trade account yet: call setup_account() first")
            self.trade_account_id = account.trade_account_id
        return self.trade_account_id

    def setup_account(self, *, fund: bool = False, poll_timeout: float = 15.0, poll_interval: float = 0.25) -> str:
        """Find or create the owner's trade account (idempotent) and return its id.

        A new account is polled until the exchange shows it (at most ``poll_timeout`` s).
        ``fund=True`` mints test tokens into it from the faucet (test networks only). The
        retired whitelist endpoint is never called.
        """
        if not isinstance(fund, bool):
            raise ValidationError("fund must be True or False")
        for name, value in (("poll_timeout", poll_timeout), ("poll_interval", poll_interval)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 600:
                raise ValidationError(f"{name} must be seconds in (0, 600]")
        account = self.client.accounts.get(owner=self.owner.address)
        if account.exists:
            self.trade_account_id = account.trade_account_id
        else:
            created = self.client.accounts.create(self.owner.address)
            deadline = time.monotonic() + poll_timeout
            while not self.client.accounts.get(trade_account_id=created.trade_account_id).exists:
                if time.monotonic() > deadline:
                    raise O2Error(f"trade account {created.trade_account_id} not visible after {poll_timeout} s")
                time.sleep(poll_interval)
            self.trade_account_id = created.trade_account_id
        account_id = self._account()
        if fund:
            self.client.faucet.mint_to_contract(account_id)
        return account_id

    def pace(self, kind: str = "session") -> float:
        """Wait for a token of this owner's ``session`` (5/s) or ``owner`` (10/min) bucket."""
        return bucket_for(self.client.transport.base_url, self.owner.address, kind).take()

    def refresh_nonce(self) -> int:
        """Re-read the sequential nonce from ``GET /v1/accounts``."""
        return self.nonces.refresh()

    def reconcile(self, exc: SubmissionUnknown) -> Reconciliation:
        """Did the submission behind ``exc`` land? Answered from the exchange's own state; see
        :func:`o2lite.nonce_tracks.reconcile` for the rules and their limits."""
        return reconcile(self.client, exc, now=self._clock())

    # --- session ----------------------------------------------------------------------------

    def open_session(self, markets: Iterable[MarketRef], *, expiry: Optional[int] = None,
                     nonce_kind: str = "sequential", lane: int = 0, session_key: Any = None,
                     parallel_registration: bool = False) -> TradeSession:
        """Make a fresh session key, have the owner sign it for ``markets``, and keep it.

        The session is registered the proven way — sequential nonce, owner personal-sign —
        for both nonce kinds; ``nonce_kind="parallel"`` makes its actions draw parallel nonces
        of ``lane`` (0–4). ``parallel_registration=True`` instead registers it with a parallel
        nonce and a ``ParallelSessionArgs`` typed signature, whose type string is unpublished:
        an explicit opt-in that warns (:class:`~o2lite.errors.ExperimentalWarning`).

        ``expiry`` is Unix seconds (default: one day from now).
        """
        kind = check_kind(nonce_kind)
        lane = check_lane(lane)
        if not isinstance(parallel_registration, bool) or (parallel_registration and kind != "parallel"):
            raise ValidationError("parallel_registration=True needs nonce_kind='parallel'")
        if isinstance(markets, (str, Market)) or not isinstance(markets, Iterable):
            raise ValidationError("markets must be a list of pairs or ids, e.g. ['FUEL/USDC']")
        wanted = list(markets)
        if not wanted:
            raise ValidationError("a session needs at least one market")
        now = int(self._clock())
        expiry = now + DEFAULT_SESSION_SECONDS if expiry is None else to_int(expiry, "expiry", high=_MAX_EXPIRY)
        if expiry <= now:
            raise ValidationError("session expiry is in the past")
        key = Wallet.generate() if session_key is None else session_key
        if not isinstance(key, Wallet):
            raise ValidationError("session_key must be a Wallet")
        contract_ids = list(dict.fromkeys(self.client.markets.get(m).contract_id for m in wanted))
        account = self._account()

        def build(field: str, value: int) -> SignedRequest:
            return self.client.session.registration_request(self.owner, account, key.address, contract_ids, expiry,
                                                           parallel_registration=parallel_registration,
                                                           **nonce_kw(field, value))

        def kept(result: TxResult) -> TradeSession:
            self.session = TradeSession(account, b256_hex(self.owner.address, "owner"), key, tuple(contract_ids),
                                        expiry, kind, lane)
            return self.session

        if parallel_registration:
            warn_parallel_registration()
        result: TradeSession = self._signed("parallel" if parallel_registration else "sequential", lane, build, kept)
        return result

    def _signed(self, kind: str, lane: int, build: Callable[[str, int], SignedRequest],
                finish: Callable[[Any], T]) -> T:
        """Draw a nonce, build the signed request and send it (then ``finish`` its answer) — or,
        in a dry run, return the request itself (the caller, :class:`o2lite.dry_run.DryRunTrader`,
        types it as such)."""
        if self._dry_run:
            field, value = self.nonces.draw(kind, lane)
            return cast(T, build(field, value))
        return self.nonces.run(kind, lane, lambda field, n: finish(build(field, n).send()))

    def save_session(self, path: str) -> None:
        """Write the session (with its key) as JSON, file mode 0600, atomically."""
        write_session(self._session(), path)

    def load_session(self, path: str) -> TradeSession:
        """Read a session written by :meth:`save_session` (it must belong to this owner)."""
        session = read_session(path)
        if session.owner != b256_hex(self.owner.address, "owner"):
            raise ValidationError("that session file belongs to another owner")
        self.trade_account_id = session.trade_account_id
        self.session = session
        return session

    def _session(self) -> TradeSession:
        if self.session is None:
            raise ValidationError("no session: call open_session() first")
        return self.session

    # --- actions ----------------------------------------------------------------------------

    def submit(self, groups: Sequence[Mapping[str, Any]], *, collect_orders: bool = True) -> TxResult:
        """Sign and send one request of action groups ``[{market_id, actions}]`` (≤ 5 actions).

        Actions are canonicalised (:func:`o2lite.actions.canonical_action`) before signing, and
        the body carries exactly the canonical JSON that was signed.
        """
        if not isinstance(collect_orders, bool):
            raise ValidationError("collect_orders must be True or False")
        session = self._session()
        prepared = self.client.session.prepare_actions(session, groups, now=self._clock())  # checks first
        request = self.client.session.actions_request
        result: TxResult = self._signed(session.nonce_kind, session.lane, lambda field, n: request(
            session, prepared, collect_orders=collect_orders, **nonce_kw(field, n)), lambda answer: answer)
        return result

    def create_order_action(self, market: MarketRef, side: Side, price: Number, quantity: Number,
                            order_type: Union[OrderTypeName, Dict[str, Any]] = "Spot", *, post_only: bool = False, max_price: Optional[Number] = None,
                            min_price: Optional[Number] = None, limit_timestamp: Optional[int] = None,
                            round: bool = False) -> Dict[str, Any]:
        """A canonical ``CreateOrder`` action, scaled and validated per PROTOCOL §11 (see
        :func:`o2lite.order_building.create_order_action`)."""
        return create_order_action(self.client.markets.get(market), side, price, quantity, order_type,
                                   post_only=post_only, max_price=max_price, min_price=min_price,
                                   limit_timestamp=limit_timestamp, round=round, clock=self._clock)

    def settle_action(self) -> Dict[str, Any]:
        """``SettleBalance`` to this trade account."""
        return {"SettleBalance": {"to": {"ContractId": self._account()}}}

    def place(self, market: MarketRef, side: Side, price: Number, quantity: Number,
              order_type: Union[OrderTypeName, Dict[str, Any]] = "Spot", *, settle_first: bool = True, post_only: bool = False,
              max_price: Optional[Number] = None, min_price: Optional[Number] = None,
              limit_timestamp: Optional[int] = None, collect_orders: bool = True, round: bool = False) -> TxResult:
        """Place one order (after a ``SettleBalance`` of the market when ``settle_first``).

        ``price``/``quantity`` in human units (or :class:`Chain`); finer than the market allows
        is refused unless ``round=True``.

        Returns the :class:`~o2lite.models.TxResult`; its ``orders`` hold the created order(s)
        with their ids.
        """
        if not isinstance(settle_first, bool):
            raise ValidationError("settle_first must be True or False")
        self._session()
        m = self.client.markets.get(market)
        action = self.create_order_action(m, side, price, quantity, order_type, post_only=post_only,
                                          max_price=max_price, min_price=min_price, limit_timestamp=limit_timestamp,
                                          round=round)
        actions = [self.settle_action(), action] if settle_first else [action]
        return self.submit([{"market_id": m.market_id, "actions": actions}], collect_orders=collect_orders)

    def cancel(self, order: Union[str, Order], market: Optional[MarketRef] = None) -> TxResult:
        """Cancel one order (an :class:`~o2lite.models.Order` knows its market; an id needs ``market``)."""
        order_id, market_id = self._order_ref(order, market)
        return self.submit([{"market_id": market_id, "actions": [{"CancelOrder": {"order_id": order_id}}]}])

    def _order_ref(self, order: Union[str, Order], market: Optional[MarketRef]) -> Tuple[str, str]:
        if isinstance(order, Order):
            market_id = order.market_id or (market and self.client.markets.get(market).market_id)
            order_id = order.order_id
        else:
            order_id = b256_hex(order, "order_id")
            market_id = market and self.client.markets.get(market).market_id
        if not market_id:
            raise ValidationError("which market? pass market= with an order id")
        return order_id, market_id

    def cancel_all(self, market: MarketRef) -> List[TxResult]:
        """Cancel every open order of this account in ``market``, five per request."""
        self._session()
        orders = self.open_orders(market)
        batch = self.batch()
        for order in orders:
            batch.cancel(order, market)
        return batch.send() if orders else []

    def settle(self, market: MarketRef) -> TxResult:
        """Move the market's unlocked funds back to the trade account."""
        self._session()
        m = self.client.markets.get(market)
        return self.submit([{"market_id": m.market_id, "actions": [self.settle_action()]}])

    def register_referer(self, to: Mapping[str, str], market: MarketRef) -> TxResult:
        """``RegisterReferer`` (sent as ``{"to": Identity}``, as the official SDKs send it); the
        action is grouped under ``market``, which must be in the session."""
        action = canonical_action({"RegisterReferer": {"to": to}})
        self._session()
        return self.submit([{"market_id": self.client.markets.get(market).market_id, "actions": [action]}])

    def batch(self) -> Batch:
        """A builder of mixed actions across markets, split into valid requests by :meth:`Batch.send`."""
        return Batch(self)

    # --- funds and orders -------------------------------------------------------------------

    def withdraw(self, asset: str, amount: Number, to: Optional[Mapping[str, str]] = None, *,
                 nonce_kind: str = "sequential", lane: int = 0) -> TxResult:
        """Withdraw ``amount`` (human, or :class:`Chain`) of ``asset`` (symbol or id) to ``to``
        (an Identity; default the owner). Parallel withdrawals share the lane's issuer with actions."""
        kind, lane = check_kind(nonce_kind), check_lane(lane)
        if not isinstance(asset, str) or not asset.strip() or len(asset) > 80:
            raise ValidationError("asset must be a symbol such as 'USDC' or an asset id")
        human = None if isinstance(amount, Chain) else to_decimal(amount, "amount")
        if to is not None:
            to = identity_json(to)
        a = self._asset(asset.strip())
        chain_amount = int(amount) if human is None else scale_amount(human, a)
        if chain_amount <= 0:
            raise ValidationError(f"amount must be positive (at least one unit of {a.symbol}'s {a.decimals} decimals)")
        account = self._account()
        request = self.client.accounts.withdraw_request
        text = f"{format_units(chain_amount, a.decimals)} {a.symbol} ({chain_amount})"
        result: TxResult = self._signed(kind, lane, lambda field, n: request(
            self.owner, account, a.asset, chain_amount, to, amount_text=text, **nonce_kw(field, n)),
            lambda answer: answer)
        return result

    def upgrade(self) -> UpgradeResult:
        """Upgrade the trade account's contract (sequential nonce). An account already current
        answers with an on-chain revert that still spends the nonce: ``upgraded=False``."""
        account = self._account()
        build = self.client.accounts.upgrade_request
        if self._dry_run:
            return cast(UpgradeResult, self._signed("sequential", 0, lambda f, n: build(self.owner, account, n),
                                                    lambda answer: answer))
        result = self.nonces.sequential(lambda n: upgrade_outcome(build(self.owner, account, n)))
        if not result.upgraded:
            self.nonces.sequential_nonce = None  # spent by the revert either way: re-read to be sure
        return result

    def supports_parallel(self, market: Optional[MarketRef] = None) -> bool:
        """Can this account use parallel nonces? Probed once (a ``SettleBalance`` sent with a
        parallel nonce, as the official SDK does: harmless when there is nothing to settle),
        then remembered. ``False`` means a legacy contract: the probe reverted ``Revert(123)``
        (selector mismatch) — run :meth:`upgrade`, then open a new session."""
        if self._parallel_support is not None:
            return self._parallel_support
        session = self._session()
        m = self.client.markets.get(market) if market is not None else next(
            (x for x in self.client.markets.list() if x.contract_id in session.contract_ids), None)
        if m is None:
            raise ValidationError("the session covers none of the exchange's markets")
        groups = [{"market_id": m.market_id, "actions": [self.settle_action()]}]
        prepared = self.client.session.prepare_actions(session, groups, now=self._clock())
        submit = self.client.session.submit
        try:
            self.nonces.parallel(session.lane, lambda n: submit(session, prepared, parallel_nonce=n))
            self._parallel_support = True
        except TransactionReverted as exc:
            if exc.revert is None or exc.revert.name != "MismatchedSelector":
                raise
            self._parallel_support = False
        return self._parallel_support

