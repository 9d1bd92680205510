"""``Trader``: one owner, one trade account, one session — the high-level way to trade.

Example::

    trader = client.trader(o2lite.Wallet.generate())
    trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
    trader.place("FUEL/USDC", "Buy", "0.0123", "100")

"Parallel mode" runs the way both official SDKs run it — the proven path: the session is
*registered* with the sequential nonce and the owner's personal signature, and its *actions*
(and parallel withdrawals) then draw parallel nonces. Nonce handling lives in
:mod:`o2lite.nonce_tracks` — one nonce state per (exchange, trade account), shared by every
Trader of the account in the process — the planning of each signed operation in
:mod:`o2lite.plans`, pacing in :mod:`o2lite.pacing`.

Every argument is checked before any request — including the first nonce or window read — and
a signed request whose outcome is unknown raises :class:`~o2lite.errors.SubmissionUnknown`
with its nonce; :meth:`Trader.reconcile` tells whether it landed.

Rate limits. Every signed call of an owner (``place``, ``cancel``, batches, ``cancel_all``,
``withdraw``, ``open_session``…) draws on one process-wide window per limit class, so at most
N requests go out in any window (PROTOCOL §4); a request still refused with HTTP 429 / code
1003 was not processed, and is resent — the identical signed bytes, same nonce — after the
server's ``Retry-After``, at most :data:`o2lite.pacing.RESENDS` times.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, TypeVar, Union

from .accounts import UpgradeResult
from .batch import Batch
from .endpoint_groups import EndpointGroups
from .errors import O2Error, TransactionReverted, ValidationError
from .models import Order, TxResult
from .nonce import Nonce
from .order_building import Chain, Number, OrderTypeName, Side
from .market import format_units
from .pacing import LIMITS, send_paced, window_for
from .plans import DEFAULT_SESSION_SECONDS, MarketRef, Need, Plan, Planner
from .reverts import SHORTFALLS, plain_decimal, shortfall_message
from .session import TradeSession
from .signing import Signer
from .trigger_trading import TriggerTrading

__all__ = ["Trader", "Batch", "Chain", "DEFAULT_SESSION_SECONDS"]

T = TypeVar("T")


class Trader(Planner, TriggerTrading):
    """Trade as ``owner`` (a :class:`~o2lite.signing.Wallet`, :class:`~o2lite.signing.EvmWallet`
    or any :class:`~o2lite.signing.Signer`). Thread-safe. Trigger orders (take-profit, stop-loss,
    OCO): :class:`~o2lite.trigger_trading.TriggerTrading`. For requests prepared but not sent,
    use :class:`o2lite.DryRunTrader` (or ``client.trader(owner, dry_run=True)``).

    Args:
        client: an :class:`o2lite.Client`.
        owner: the owner signer.
        trade_account_id: the account, if known (else found or created by :meth:`setup_account`).
        clock: Unix seconds; injectable for tests.
        pacing: keep every signed call under the owner's rate limits (PROTOCOL §4; see the
            module doc). ``False`` sends at once (a 429 is still resent after ``Retry-After``).
    """

    def __init__(self, client: EndpointGroups, owner: Signer, *, trade_account_id: Optional[str] = None,
                 clock: Callable[[], float] = time.time, pacing: bool = True) -> None:
        super().__init__(client, owner, trade_account_id=trade_account_id, clock=clock)
        if not isinstance(pacing, bool):
            raise ValidationError("pacing must be True or False")
        self.pacing = pacing
        self._parallel_support: Optional[bool] = None

    def __repr__(self) -> str:
        return f"Trader(owner={self.owner.address!r}, trade_account_id={self.trade_account_id!r})"

    # --- sending ----------------------------------------------------------------------------

    def send(self, plan: Plan[T], *, pace: Optional[bool] = None) -> T:
        """Draw the plan's nonce, build its signed request and deliver it: within the owner's
        rate-limit window (unless ``pace=False``; default :attr:`pacing`), resent unchanged
        after a 429 (see the module doc)."""
        paced = self.pacing if pace is None else pace
        window = window_for(self.client.transport.base_url, self.owner.address, plan.limit) if paced else None

        def attempt(nonce: Nonce) -> T:
            request = plan.build(nonce)  # built once: every resend is these very bytes
            return send_paced(lambda: plan.deliver(request), window, per=LIMITS[plan.limit][1])

        try:
            return self.nonces.run(plan.kind, plan.lane, attempt)
        except TransactionReverted as exc:
            if plan.need is None or exc.revert is None or exc.revert.name not in SHORTFALLS:
                raise
            raise self._shortfall(exc, plan.need) from exc

    def _shortfall(self, exc: TransactionReverted, need: Need) -> TransactionReverted:
        """The revert retold: not enough of what, how much there is (one balance read), for
        what, the fix — then the chain's words; ``revert``, ``reason`` and ``receipts`` kept."""
        available: Optional[Decimal] = None
        fix = "deposit or fund first"
        try:
            balance = self.client.accounts.balance(need.asset.asset, contract=self._account())
            usable = balance.trading_account_balance if need.account_only else balance.total_unlocked
            available = format_units(usable, need.asset.decimals)
            in_books = balance.total_unlocked - usable
            if in_books > 0:  # unlocked in order books: a settle brings it to the trade account
                fix = (f"settle first: {plain_decimal(format_units(in_books, need.asset.decimals))} {need.asset.symbol} more is "
                       "unlocked in order books; or deposit or fund")
        except O2Error:
            pass  # the explanation loses a number, not the error
        chain = f"Revert({exc.revert.code})" if exc.revert.code is not None else "reverted on chain"
        text = shortfall_message(need.asset.symbol, available, format_units(need.amount, need.asset.decimals),
                                 need.doing, exc.revert, chain, fix=fix)
        return TransactionReverted(text, revert=exc.revert, status=exc.status, code=exc.code, reason=exc.reason,
                                   raw_reason=exc.raw_reason, receipts=exc.receipts, method=exc.method, url=exc.url,
                                   body=exc.body)

    def pace(self, kind: str = "session") -> float:
        """Wait until one more request of limit class ``kind`` (``session``: 5/s, ``owner``:
        10/min) may start, and count it; returns the seconds waited."""
        window = window_for(self.client.transport.base_url, self.owner.address, kind)
        with window.slot() as waited:
            return waited

    # --- account ----------------------------------------------------------------------------

    def setup_account(self, *, fund: bool = False, poll_timeout: float = 15.0, poll_interval: float = 0.25) -> str:
        """Find or create the owner's trade account (idempotent) and return its id.

        A new account is polled until the exchange shows it (at most ``poll_timeout`` s).
        Account creation is paced (1 per second per IP) and resent after a 429, which the
        exchange did not process. ``fund=True`` mints test tokens into it from the faucet (test
        networks only). The retired whitelist endpoint is never called.
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
            window = window_for(self.client.transport.base_url, "this process", "accounts") if self.pacing else None
            created = send_paced(lambda: self.client.accounts.create(self.owner.address), window)
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
        return self.send(self.plan_open_session(markets, expiry=expiry, nonce_kind=nonce_kind, lane=lane,
                                                session_key=session_key,
                                                parallel_registration=parallel_registration))

    # --- actions ----------------------------------------------------------------------------

    def submit(self, groups: Sequence[Mapping[str, Any]], *, collect_orders: bool = True,
               pace: Optional[bool] = None) -> TxResult:
        """Sign and send one request of action groups ``[{market_id, actions}]`` (≤ 5 actions).

        Actions are canonicalised (:func:`o2lite.actions.canonical_action`) before signing, and
        the body carries exactly the canonical JSON that was signed.
        """
        return self.send(self.plan_submit(groups, collect_orders=collect_orders), pace=pace)

    def place(self, market: MarketRef, side: Side, price: Number, quantity: Number,
              order_type: Union[OrderTypeName, Dict[str, Any]] = "Spot", *, settle_first: bool = True,
              post_only: bool = False, max_price: Optional[Number] = None, min_price: Optional[Number] = None,
              limit_timestamp: Optional[int] = None, collect_orders: bool = True, round: bool = False) -> TxResult:
        """Place one order (after a ``SettleBalance`` of the market when ``settle_first``).

        ``price``/``quantity`` in human units (``str``, ``int`` or ``Decimal`` — never a
        ``float``) or :class:`Chain`; finer than the market allows is refused unless
        ``round=True``.

        Returns the :class:`~o2lite.models.TxResult`; its ``orders`` hold the created order(s)
        with their ids.
        """
        return self.send(self.plan_place(market, side, price, quantity, order_type, settle_first=settle_first,
                                         post_only=post_only, max_price=max_price, min_price=min_price,
                                         limit_timestamp=limit_timestamp, collect_orders=collect_orders,
                                         round=round))

    def cancel(self, order: Union[str, Order], market: Optional[MarketRef] = None) -> TxResult:
        """Cancel one order (an :class:`~o2lite.models.Order` knows its market; an id needs ``market``)."""
        return self.send(self.plan_cancel(order, market))

    def cancel_all(self, market: MarketRef) -> List[TxResult]:
        """Cancel every open order of this account in ``market``, five per request, paced."""
        self._session()
        orders = self.open_orders(market)
        batch = self.batch()
        for order in orders:
            batch.cancel(order, market)
        return batch.send() if orders else []

    def settle(self, market: MarketRef) -> TxResult:
        """Move the market's unlocked funds back to the trade account."""
        return self.send(self.plan_settle(market))

    def register_referer(self, to: Mapping[str, str], market: MarketRef) -> TxResult:
        """``RegisterReferer`` (sent as ``{"to": Identity}``, as the official SDKs send it); the
        action is grouped under ``market``, which must be in the session."""
        return self.send(self.plan_register_referer(to, market))

    def batch(self) -> Batch:
        """A builder of mixed actions across markets, split into valid requests by :meth:`Batch.send`."""
        return Batch(self)

    # --- funds and the account contract ----------------------------------------------------

    def withdraw(self, asset: str, amount: Number, to: Optional[Mapping[str, str]] = None, *,
                 nonce_kind: str = "sequential", lane: int = 0) -> TxResult:
        """Withdraw ``amount`` (human, or :class:`Chain`) of ``asset`` (symbol or id) to ``to``
        (an Identity; default the owner). Parallel withdrawals share the lane's issuer with actions."""
        return self.send(self.plan_withdraw(asset, amount, to, nonce_kind=nonce_kind, lane=lane))

    def upgrade(self) -> UpgradeResult:
        """Upgrade the trade account's contract (sequential nonce). An account already current
        answers with an on-chain revert that still spends the nonce: ``upgraded=False``."""
        result = self.send(self.plan_upgrade())
        if not result.upgraded:
            self.nonces.forget_sequential()  # spent by the revert either way: re-read to be sure
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
        plan = self.plan_submit([{"market_id": m.market_id, "actions": [self.settle_action()]}])
        probe = Plan("parallel", session.lane, plan.limit, plan.build, plan.deliver)
        try:
            self.send(probe)
            self._parallel_support = True
        except TransactionReverted as exc:
            if exc.revert is None or exc.revert.name != "MismatchedSelector":
                raise
            self._parallel_support = False
        return self._parallel_support
