"""Build, then send: every signed operation of one owner, planned once.

A :class:`Plan` is one signed operation with everything decided except its nonce: which nonce
track it draws from (``kind``, ``lane``), which rate limit it counts against (``limit``), how to
build the :class:`~o2lite.signed.SignedRequest` once a nonce is drawn, and how to deliver it
(send it and read the answer). :class:`Planner` checks the arguments and makes the plans, and
holds everything an owner does without signing (the account, the session, the reads).

Two kinds of planner use the plans: :class:`o2lite.Trader` *sends* them (drawing the nonce,
pacing, resending after a 429), :class:`o2lite.DryRunTrader` *prepares* them (drawing a nonce
that no later real send reuses, and returning the request unsent).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Generic, Iterable, Optional, Sequence, Tuple, TypeVar, Union

from ._hex import b256_hex, to_int
from .account_views import AccountViews
from .accounts import UpgradeResult, upgrade_outcome
from .actions import canonical_action
from .encoding import identity_json
from .endpoint_groups import EndpointGroups
from .errors import ValidationError
from .market import Asset, Market, format_units, to_decimal
from .models import Order, TxResult
from .nonce import Nonce, NonceKind, check_kind
from .nonce_tracks import NonceTracks, Reconciliation, check_lane, reconcile
from .order_building import Chain, Number, OrderTypeName, Side, create_order_action, scale_amount
from .reverts import plain_decimal
from .session import TradeSession, warn_parallel_registration
from .session_files import read_session, write_session
from .signed import SignedRequest
from .signing import Signer, Wallet

__all__ = ["Plan", "Need", "Planner", "DEFAULT_SESSION_SECONDS", "MarketRef"]

T = TypeVar("T")
DEFAULT_SESSION_SECONDS = 24 * 3600  # a session key lives one day unless told otherwise
_MAX_EXPIRY = 2**32 - 1  # sessions expire in u64 seconds; beyond u32 is no real date

MarketRef = Union[str, Market]


def _send_it(request: SignedRequest) -> Any:
    return request.send()


@dataclass(frozen=True)
class Need:
    """What an operation needs from the account: ``amount`` chain units of ``asset``, ``doing``
    saying what for (``"for Buy 1000 FUEL at 0.0012"``) — to explain a shortfall revert.
    ``account_only``: only the trade account's own balance counts (a withdrawal), not funds
    still unlocked in order books, which must be settled first."""

    asset: Asset
    amount: int
    doing: str
    account_only: bool = False


@dataclass(frozen=True)
class Plan(Generic[T]):
    """One signed operation, ready but for its nonce (see the module doc).

    ``build(nonce)`` signs with that :class:`~o2lite.nonce.Nonce` (of the plan's ``kind``);
    ``deliver(request)`` sends that very request and returns the result. ``limit`` is
    the rate-limit class of :data:`o2lite.pacing.LIMITS`; ``need``, when known, what the
    operation takes from the account's balance.
    """

    kind: NonceKind
    lane: int
    limit: str
    build: Callable[[Nonce], SignedRequest]
    deliver: Callable[[SignedRequest], T]
    need: Optional[Need] = None


class Planner(AccountViews):
    """Everything a Trader knows and checks, without sending a signed request (see the module doc).

    Args:
        client: an :class:`o2lite.Client`.
        owner: the owner signer (:class:`~o2lite.signing.Wallet`, :class:`~o2lite.signing.EvmWallet`
            or any :class:`~o2lite.signing.Signer`).
        trade_account_id: the account, if known (else found, or created by ``setup_account``).
        clock: Unix seconds; injectable for tests.
    """

    def __init__(self, client: EndpointGroups, owner: Signer, *, trade_account_id: Optional[str] = None,
                 clock: Callable[[], float] = time.time) -> None:
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
        self.nonces = NonceTracks(client, self._account, clock)

    # --- account and session ---------------------------------------------------------------

    def _account(self) -> str:
        if self.trade_account_id is None:
            account = self.client.accounts.get(owner=self.owner.address)
            if account.trade_account_id is None:
                raise ValidationError("this owner has no trade account yet: set one up first "
                                      "(Trader.setup_account(), or `o2lite setup` on the command line)")
            self.trade_account_id = account.trade_account_id
        return self.trade_account_id

    def refresh_nonce(self) -> int:
        """Re-read the sequential nonce from ``GET /v1/accounts``."""
        return self.nonces.refresh()

    def reconcile(self, exc: Any) -> Reconciliation:
        """Did the submission behind ``exc`` (a :class:`~o2lite.errors.SubmissionUnknown`) land?
        Answered from the exchange's own state; see :func:`o2lite.nonce_tracks.reconcile`."""
        return reconcile(self.client, exc, now=self._clock())

    def save_session(self, path: str) -> None:
        """Write the session (with its key) as JSON, file mode 0600, atomically."""
        write_session(self._session(), path)

    def load_session(self, path: str) -> TradeSession:
        """Read a session written by ``save_session`` (it must belong to this owner) and use it."""
        session = read_session(path)
        if session.owner != b256_hex(self.owner.address, "owner"):
            raise ValidationError("that session file belongs to another owner")
        self.trade_account_id = session.trade_account_id
        self.session = session
        return session

    def _session(self) -> TradeSession:
        if self.session is None:
            raise ValidationError("no session: open one first (open_session(), or `o2lite session open`)")
        return self.session

    # --- actions ---------------------------------------------------------------------------

    def create_order_action(self, market: MarketRef, side: Side, price: Number, quantity: Number,
                            order_type: Union[OrderTypeName, Dict[str, Any]] = "Spot", *, post_only: bool = False,
                            max_price: Optional[Number] = None, min_price: Optional[Number] = None,
                            limit_timestamp: Optional[int] = None, round: bool = False) -> Dict[str, Any]:
        """A canonical ``CreateOrder`` action, scaled and validated per PROTOCOL §11 (see
        :func:`o2lite.order_building.create_order_action`)."""
        return create_order_action(self.client.markets.get(market), side, price, quantity, order_type,
                                   post_only=post_only, max_price=max_price, min_price=min_price,
                                   limit_timestamp=limit_timestamp, round=round, clock=self._clock)

    def settle_action(self) -> Dict[str, Any]:
        """``SettleBalance`` to this trade account."""
        return {"SettleBalance": {"to": {"ContractId": self._account()}}}

    def order_ref(self, order: Union[str, Order], market: Optional[MarketRef]) -> Tuple[str, str]:
        """``(order_id, market_id)`` of an :class:`~o2lite.models.Order`, or of an id and ``market``."""
        if isinstance(order, Order):
            market_id = order.market_id or (market and self.client.markets.get(market).market_id)
            order_id = order.order_id
        else:
            order_id = b256_hex(order, "order_id")
            market_id = market and self.client.markets.get(market).market_id
        if not market_id:
            raise ValidationError("which market? pass market= with an order id")
        return order_id, market_id

    # --- plans -----------------------------------------------------------------------------

    def plan_open_session(self, markets: Iterable[MarketRef], *, expiry: Optional[int] = None,
                          nonce_kind: str = "sequential", lane: int = 0, session_key: Any = None,
                          parallel_registration: bool = False) -> Plan[TradeSession]:
        """The session registration ``open_session`` makes (see :meth:`o2lite.Trader.open_session`);
        delivering it keeps the session on this planner."""
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
        registration = self.client.session.registration_request
        if parallel_registration:
            warn_parallel_registration()

        def build(nonce: Nonce) -> SignedRequest:
            return registration(self.owner, account, key.address, contract_ids, expiry, nonce=nonce,
                                parallel_registration=parallel_registration)

        def deliver(request: SignedRequest) -> TradeSession:
            request.send()
            self.session = TradeSession(account, b256_hex(self.owner.address, "owner"), key, tuple(contract_ids),
                                        expiry, kind, lane)
            return self.session

        return Plan("parallel" if parallel_registration else "sequential", lane, "session", build, deliver)

    def plan_submit(self, groups: Sequence[Mapping[str, Any]], *, collect_orders: bool = True) -> Plan[TxResult]:
        """One request of action groups ``[{market_id, actions}]`` (≤ 5 actions), canonicalised
        (:func:`o2lite.actions.canonical_action`) and checked now; the body carries exactly the
        canonical JSON that is signed."""
        if not isinstance(collect_orders, bool):
            raise ValidationError("collect_orders must be True or False")
        session = self._session()
        prepared = self.client.session.prepare_actions(session, groups, now=self._clock())  # checks first
        request = self.client.session.actions_request

        def build(nonce: Nonce) -> SignedRequest:
            return request(session, prepared, nonce=nonce, collect_orders=collect_orders)

        return Plan(check_kind(session.nonce_kind), session.lane, "session", build, _send_it)

    def plan_place(self, market: MarketRef, side: Side, price: Number, quantity: Number,
                   order_type: Union[OrderTypeName, Dict[str, Any]] = "Spot", *, settle_first: bool = True,
                   post_only: bool = False, max_price: Optional[Number] = None, min_price: Optional[Number] = None,
                   limit_timestamp: Optional[int] = None, collect_orders: bool = True,
                   round: bool = False) -> Plan[TxResult]:
        """One order (after a ``SettleBalance`` of the market when ``settle_first``)."""
        if not isinstance(settle_first, bool):
            raise ValidationError("settle_first must be True or False")
        self._session()
        m = self.client.markets.get(market)
        action = self.create_order_action(m, side, price, quantity, order_type, post_only=post_only,
                                          max_price=max_price, min_price=min_price, limit_timestamp=limit_timestamp,
                                          round=round)
        actions = [self.settle_action(), action] if settle_first else [action]
        plan = self.plan_submit([{"market_id": m.market_id, "actions": actions}], collect_orders=collect_orders)
        order = action["CreateOrder"]
        chain_price, chain_quantity = int(order["price"]), int(order["quantity"])
        doing = (f"for {order['side']} {plain_decimal(m.format_quantity(chain_quantity))} {m.base.symbol} at "
                 f"{plain_decimal(m.format_price(chain_price))}")
        need = Need(m.quote, m.quote_amount(chain_price, chain_quantity), doing) if order["side"] == "Buy" \
            else Need(m.base, chain_quantity, doing)
        return replace(plan, need=need)

    def plan_cancel(self, order: Union[str, Order], market: Optional[MarketRef] = None) -> Plan[TxResult]:
        """One ``CancelOrder`` (an :class:`~o2lite.models.Order` knows its market; an id needs ``market``)."""
        order_id, market_id = self.order_ref(order, market)
        return self.plan_submit([{"market_id": market_id, "actions": [{"CancelOrder": {"order_id": order_id}}]}])

    def plan_settle(self, market: MarketRef) -> Plan[TxResult]:
        """``SettleBalance`` of ``market``'s unlocked funds to the trade account."""
        self._session()
        m = self.client.markets.get(market)
        return self.plan_submit([{"market_id": m.market_id, "actions": [self.settle_action()]}])

    def plan_register_referer(self, to: Mapping[str, str], market: MarketRef) -> Plan[TxResult]:
        """``RegisterReferer`` (sent as ``{"to": Identity}``, as the official SDKs send it)."""
        action = canonical_action({"RegisterReferer": {"to": to}})
        self._session()
        return self.plan_submit([{"market_id": self.client.markets.get(market).market_id, "actions": [action]}])

    def plan_withdraw(self, asset: str, amount: Number, to: Optional[Mapping[str, str]] = None, *,
                      nonce_kind: str = "sequential", lane: int = 0) -> Plan[TxResult]:
        """A withdrawal of ``amount`` (human, or :class:`Chain`) of ``asset`` (symbol or id) to
        ``to`` (an Identity; default the owner)."""
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

        def build(nonce: Nonce) -> SignedRequest:
            return request(self.owner, account, a.asset, chain_amount, to, nonce=nonce, amount_text=text)

        return Plan(kind, lane, "owner", build, _send_it, Need(a, chain_amount, "to withdraw", account_only=True))

    def plan_upgrade(self) -> Plan[UpgradeResult]:
        """The account contract's upgrade (sequential nonce, plain signature); an account already
        current answers with a revert that still spends the nonce: ``upgraded=False``."""
        account = self._account()
        build = self.client.accounts.upgrade_request
        return Plan("sequential", 0, "owner", lambda nonce: build(self.owner, account, nonce), upgrade_outcome)
