"""Trigger orders in the sandbox: stored with their lock escrowed, fired by the last trade price.

What the official source states (PROTOCOL §14) and the sandbox follows: the four actions and
their JSON; a leg's lock (ParentOrder → nothing; Sell → the base quantity; Buy → quantity ×
lock price, the lock price being the Spot price, the MarketBounded max or the Market trigger
price) escrowed when the trigger is made; an OCO pair escrows only ``first``'s lock, for both
legs; legs attached at placement must be ``ParentOrder`` (``QuantityMustBeParentOrder``) with the
zero placeholder id, which becomes the new order's id; an activated leg becomes its order
(Market, Spot at its price, MarketBounded as a bounded market order); one OCO leg firing cancels
the other (status ``CanceledBySibling``); a cancelled parent cancels its legs
(``ParentOrderCanceled``); ``cancel_order`` cancels orders and triggers alike; the revert names
and log ids of ``TriggerOrderCreationError`` / ``TriggerOrderCancelError``; the status names.

What the official source does not state, and the sandbox chose (say so wherever it matters) —
the official TypeScript SDK says only that a trigger "rests off-book until the market reaches
its trigger_price" (``triggers.ts``), and neither it nor PROTOCOL §14 names the price or the
direction:

- **activation**: a trigger fires when the market's **last trade price** reaches its trigger
  price. The direction is fixed when it is made, by where the price stands then: a trigger price
  above the reference fires when the last trade is at or above it, one below fires at or below.
  The reference is the parent's average fill price (or its price, before any fill) for a leg of
  a parent, else the last trade price, else the middle of the book; a trigger exactly at the
  reference waits in its stop direction (a Sell fires on a fall, a Buy on a rise). Triggers are
  checked after every transaction that traded, in the order they were made, again after each
  activation that traded (at most :data:`MAX_ROUNDS` rounds);
- a leg of a parent waits until its parent has filled something, and then sells (buys) what the
  parent bought (sold) — the parent's filled quantity, at most the funds there are;
- an activated Market leg is a market order at the market's most generous price that its funds
  (the escrow, the book's unlocked funds and the account's balance) and FractionalPrice allow;
  when the funds are short the trigger ends ``NotEnoughFunds``, and one that cannot make a valid
  order at all (below the market's minimum order) ends ``ForceCanceled``; either way an OCO
  pair's escrow stays locked while its other leg is still active;
- limits: 2 active legs per parent (``ParentTriggerSlotsExhausted``),
  :data:`MAX_ACTIVE_TRIGGERS` per account and market (7010), a MarketBounded band of at most
  :data:`MAX_SLIPPAGE_BPS` either side of the trigger (``SlippageExceedsMax``);
- a pair whose first leg locks less than its second (the official SDK: it "under-funds the pair —
  a rejection after signing", no revert named) reverts ``InvalidInputAmount``; one whose legs take
  different sides reverts ``InvalidAsset``;
- pre-flight codes (the current official numbering, PROTOCOL §14): 7005 a bound parent already
  has fills, 7006 both OCO legs fire in the same direction, 7007 ``expected_quantity`` is not the
  parent's quantity, 7010 too many active triggers. Everything else is an on-chain revert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import gcd, lcm
from typing import Any, Dict, List, Optional, Tuple

from .._hex import U64_MAX
from ..error_codes import ErrorCode
from ..reverts import ERROR_ENUMS
from ..trigger_encoding import PARENT_ORDER_PLACEHOLDER, leg_kind, leg_lock, leg_lock_price, leg_quantity
from .book import Journal, Order, Revert, set_attr
from .config import fresh_id
from .errors import api_error
from .matching import create_order

__all__ = ["Trigger", "TriggerBook", "MAX_ROUNDS", "MAX_ACTIVE_TRIGGERS", "MAX_SLIPPAGE_BPS"]

MAX_ROUNDS = 50  # activation rounds after one transaction (each may trade and fire more)
MAX_ACTIVE_TRIGGERS = 100  # per account and market (the sandbox's choice)
MAX_SLIPPAGE_BPS = 5_000  # a MarketBounded band may reach 50 % either side of the trigger (the sandbox's choice)
MAX_LEGS_PER_PARENT = 2  # one take-profit and one stop-loss
_CREATION, _CANCEL = 1559614116885970782, 11872035487494935780  # the enums' ABI log ids (PROTOCOL §14)


def trigger_revert(variant: str, text: str, log_id: int = _CREATION) -> Revert:
    """A revert rendered as the backend renders a logged error: the variant's name and its
    ``LogData`` (log id, variant index), so a client decodes the enum exactly."""
    names = [name for name, _ in ERROR_ENUMS[log_id][1]]
    return Revert(f"{variant}: {text}; LogData {{ rb: {log_id}, data: Some(Bytes({names.index(variant):016x})) }}")


@dataclass
class Trigger:
    """One stored trigger (chain integers); ``group`` is the id of the OCO pair's first leg."""

    order_id: str
    market_id: str
    account: str
    leg: Dict[str, Any]
    up: bool  # fires when the last trade is at or above the trigger price (else at or below)
    timestamp: int
    seq: int
    group: str
    parent: Optional[str] = None
    sibling: Optional[str] = None
    status: str = "Active"
    order: Optional[str] = None  # the order it became

    @property
    def trigger_price(self) -> int:
        return int(self.leg["trigger_price"])

    def to_json(self) -> Dict[str, Any]:
        """As ``/v1/orders/active`` and the orders stream show it."""
        out: Dict[str, Any] = {"kind": "trigger", "order_id": self.order_id, "market_id": self.market_id,
                               "side": self.leg["side"], "order_type": self.leg["order_type"],
                               "quantity": self.leg["quantity"], "trigger_price": self.leg["trigger_price"],
                               "timestamp": str(self.timestamp), "status": self.status,
                               "owner": {"ContractId": self.account}}
        for key, value in (("parent_order_id", self.parent), ("sibling_order", self.sibling),
                           ("activated_order_id", self.order)):
            if value:
                out[key] = value
        return out


class TriggerBook:
    """Every trigger of the exchange, their escrows, and the rules above. Runs under the exchange lock."""

    def __init__(self, exchange: Any) -> None:
        self.ex = exchange
        self.all: Dict[str, Trigger] = {}
        self.escrow: Dict[str, Tuple[str, int]] = {}  # group -> (asset, amount locked for it)

    # --- reading ---------------------------------------------------------------------------

    def active(self, market_id: str, account: Optional[str] = None) -> List[Trigger]:
        """Active triggers of a market (of one account), oldest first."""
        return sorted((t for t in self.all.values() if t.status == "Active" and t.market_id == market_id
                       and (account is None or t.account == account)), key=lambda t: t.seq)

    def _reference(self, market: Dict[str, Any], parent: Optional[Order]) -> int:
        if parent is not None:
            return int(parent.fill_value * 10 ** market["base"]["decimals"] // parent.filled) if parent.filled \
                else parent.price
        trades = self.ex.trades[market["market_id"]]
        if trades:
            return int(trades[-1]["price"])
        book = self.ex.books[market["market_id"]]
        if book.bids and book.asks:
            return int(book.bids[0][2].price + book.asks[0][2].price) // 2
        raise trigger_revert("InvalidArgs", "no trade and no book yet: nothing to compare the trigger price with")

    @staticmethod
    def _up(leg: Mapping[str, Any], reference: int) -> bool:
        price = int(leg["trigger_price"])
        return price > reference or (price == reference and leg["side"] == "Buy")

    def _touch(self, trigger: Trigger) -> None:
        if self.ex.touched_triggers is not None:
            self.ex.touched_triggers.append(trigger.to_json())

    # --- pre-flight (coded, nothing runs) ---------------------------------------------------

    def preflight(self, account: str, markets: List[Dict[str, Any]], groups: List[Mapping[str, Any]]) -> None:
        """The coded rejections of a batch's trigger actions, checked before the nonce."""
        for market, group in zip(markets, groups):
            count = len(self.active(market["market_id"], account))
            for action in group["actions"]:
                (kind, body), = action.items()
                if kind not in ("CreateTriggerOrder", "CreateTriggerOrders", "CreateOrderWithTriggers"):
                    continue
                count += 1 if kind == "CreateTriggerOrder" else 2 if kind == "CreateTriggerOrders" else \
                    1 + (body.get("trigger_2") is not None)
                if count > MAX_ACTIVE_TRIGGERS:
                    raise api_error(ErrorCode.TRIGGER_ORDER_QUOTA_EXCEEDED, "Trigger order quota exceeded: at most "
                                    f"{MAX_ACTIVE_TRIGGERS} active trigger orders per account and market")
                parent = self.ex.orders.get((body.get("parent") or {}).get("order_id", ""))
                if parent is not None and parent.account == account:
                    if parent.filled:
                        raise api_error(ErrorCode.PARENT_ORDER_ALREADY_HAS_FILLS, "Parent order already has fills")
                    if int(body["parent"]["expected_quantity"]) != parent.quantity:
                        raise api_error(ErrorCode.PARENT_QUANTITY_MISMATCH, "Parent quantity mismatch: expected "
                                        f"{body['parent']['expected_quantity']}, the order has {parent.quantity}")
                if kind == "CreateTriggerOrders":
                    try:
                        reference = self._reference(market, parent)
                    except Revert:
                        continue  # no price at all: the revert comes when it runs
                    if self._up(body["first"], reference) == self._up(body["second"], reference):
                        raise api_error(ErrorCode.TRIGGER_PAIR_SAME_DIRECTION, "Trigger pair same direction: one leg "
                                        "must be above the price and one below (a take-profit and a stop)")

    # --- actions ----------------------------------------------------------------------------

    def apply(self, journal: Journal, account: str, market: Dict[str, Any], kind: str,
              body: Mapping[str, Any]) -> Optional[Order]:
        """Run one trigger action (canonical JSON); returns the order a CreateOrderWithTriggers made."""
        if kind == "CancelTriggerOrder":
            self.cancel(journal, account, market, body["order_id"])
            return None
        if kind == "CreateOrderWithTriggers":
            order = create_order(self.ex, journal, account, market, body)
            legs = [body["trigger_1"]] + ([body["trigger_2"]] if body.get("trigger_2") is not None else [])
            for leg in legs:
                if "ParentOrder" not in leg["quantity"]:
                    raise trigger_revert("QuantityMustBeParentOrder", "a leg attached at placement inherits the "
                                         "order's quantity")
                if leg["quantity"]["ParentOrder"]["parent_order_id"] != PARENT_ORDER_PLACEHOLDER:
                    raise trigger_revert("InvalidParentOrderId", "a leg attached at placement names the zero id")
            self._create(journal, account, market, [dict(leg, quantity={"ParentOrder": {
                "parent_order_id": order.order_id}}) for leg in legs], order, oco=len(legs) == 2)
            if order.close and not order.filled:
                self.parent_closed(journal, order)
            return order
        parent = None
        if body.get("parent") is not None:  # null is absent (an older official SDK line sends it)
            parent = self.ex.orders.get(body["parent"]["order_id"])
            if parent is None or parent.market_id != market["market_id"]:
                raise trigger_revert("ParentOrderNotFound", "no such order in this market")
            if parent.account != account:
                raise trigger_revert("ParentOrderOwnerMismatch", "the parent order belongs to another account")
            if parent.close:
                raise trigger_revert("ParentOrderFilled", "the parent order is no longer resting")
            if parent.order_type != "Spot":
                raise trigger_revert("ParentOrderIsNotSpot", "triggers bind only to resting Spot orders")
        legs = [body["args"]] if kind == "CreateTriggerOrder" else [body["first"], body["second"]]
        if kind == "CreateTriggerOrders" and legs[0]["trigger_price"] == legs[1]["trigger_price"]:
            raise trigger_revert("OcoSameTriggerPrice", "the two legs need different trigger prices")
        for leg in legs:
            bound = leg["quantity"].get("ParentOrder", {}).get("parent_order_id")
            if bound is not None and (parent is None or bound != parent.order_id):
                raise trigger_revert("InvalidParentOrderId", "a ParentOrder leg must name the bound parent order")
        self._create(journal, account, market, legs, parent, oco=len(legs) == 2)
        return None

    def _check_leg(self, market: Dict[str, Any], leg: Mapping[str, Any], parent: Optional[Order]) -> None:
        spec = self.ex.spec(market)
        trigger, kind = int(leg["trigger_price"]), leg_kind(leg)
        if trigger == 0:
            raise trigger_revert("ZeroTriggerPrice", "the trigger price is zero")
        prices = [trigger] + ([leg_lock_price(leg)] if kind != "Market" else [])
        if kind == "MarketBounded":
            prices.append(int(leg["order_type"]["MarketBounded"]["min_price"]))
            if leg_lock_price(leg) * 10_000 > trigger * (10_000 + MAX_SLIPPAGE_BPS) or \
                    prices[-1] * 10_000 < trigger * (10_000 - MAX_SLIPPAGE_BPS):
                raise trigger_revert("SlippageExceedsMax", f"the band is wider than {MAX_SLIPPAGE_BPS} bps")
        if min(prices) == 0:
            raise trigger_revert("ZeroLimitPrice", "the leg's limit price is zero")
        if any(p % spec.price_step for p in prices):
            raise trigger_revert("PricePrecision", f"a price is not a multiple of {spec.price_step}")
        quantity = leg_quantity(leg)
        if quantity is not None and any(quantity * p % 10 ** spec.base.decimals for p in prices[:2]):
            raise trigger_revert("FractionalPrice", "quantity × the trigger or lock price is not a whole quote amount")
        if quantity == 0:
            raise trigger_revert("ZeroResolvedQtyOrPrice", "the quantity is zero")
        if parent is not None:
            if leg["side"] == parent.side:
                raise trigger_revert("TriggerSideSameAsParent", "a protective leg takes the closing side")
            if trigger == parent.price:
                raise trigger_revert("TriggerPriceSameAsParent", "the trigger price equals the parent's price")
            children = [t for t in self.all.values() if t.parent == parent.order_id and t.status == "Active"]
            if len(children) >= MAX_LEGS_PER_PARENT:
                raise trigger_revert("ParentTriggerSlotsExhausted", f"a parent carries at most {MAX_LEGS_PER_PARENT}")

    def _create(self, journal: Journal, account: str, market: Dict[str, Any], legs: List[Dict[str, Any]],
                parent: Optional[Order], oco: bool) -> None:
        for leg in legs:
            self._check_leg(market, leg, parent)
        if oco:  # the chain escrows only the first leg's lock, for both (PROTOCOL §14)
            decimals = market["base"]["decimals"]
            if legs[0]["side"] != legs[1]["side"]:
                raise trigger_revert("InvalidAsset", "the legs of a pair take one side: the first's lock covers both")
            if leg_lock(legs[1], decimals) > leg_lock(legs[0], decimals):
                raise trigger_revert("InvalidInputAmount", "the first leg must lock at least what the second does: "
                                     "the chain escrows only the first's lock, for both")
        reference = self._reference(market, parent)
        made: List[Trigger] = []
        for leg in legs:
            trigger = Trigger(fresh_id(), market["market_id"], account, leg, self._up(leg, reference),
                              self.ex.now_ms(), self.ex.next_seq(), "", parent.order_id if parent else None)
            trigger.group = made[0].order_id if made else trigger.order_id
            made.append(trigger)
        if oco:
            made[0].sibling, made[1].sibling = made[1].order_id, made[0].order_id
        first = legs[0]
        amount = leg_lock(first, market["base"]["decimals"])
        asset = market["quote"]["asset"] if first["side"] == "Buy" else market["base"]["asset"]
        if self.ex.ledger.get(account, ("wallet", asset)) < amount:
            raise trigger_revert("InvalidInputAmount", "not enough funds to escrow the trigger's lock")
        self.ex.ledger.move(journal, (account, ("wallet", asset)), (account, ("locked", market["contract_id"], asset)),
                            amount)
        self.escrow[made[0].order_id] = (asset, amount)
        for trigger in made:
            self.all[trigger.order_id] = trigger
            self._touch(trigger)

        def forget() -> None:
            for trigger in made:
                self.all.pop(trigger.order_id, None)
            self.escrow.pop(made[0].order_id, None)

        journal.record(forget)

    # --- ending a trigger --------------------------------------------------------------------

    def _end(self, journal: Journal, trigger: Trigger, status: str) -> None:
        """Set a final status; the group's escrow goes back once no leg of it is active."""
        set_attr(journal, trigger, "status", status)
        self._touch(trigger)
        if any(t.status == "Active" for t in self.all.values() if t.group == trigger.group):
            return
        self._release(journal, trigger)

    def _release(self, journal: Journal, trigger: Trigger) -> None:
        asset, amount = self.escrow.get(trigger.group, ("", 0))
        if amount:
            market = self.ex.by_market_id[trigger.market_id]
            self.ex.ledger.move(journal, (trigger.account, ("locked", market["contract_id"], asset)),
                                (trigger.account, ("wallet", asset)), amount)
            self.escrow[trigger.group] = (asset, 0)
            journal.record(lambda: self.escrow.__setitem__(trigger.group, (asset, amount)))

    def cancel(self, journal: Journal, account: str, market: Dict[str, Any], order_id: str) -> None:
        """``cancel_order`` of a trigger id (CancelTriggerOrder, or CancelOrder: the same call)."""
        trigger = self.all.get(order_id)
        if trigger is None or trigger.status != "Active" or trigger.market_id != market["market_id"]:
            if order_id in self.ex.orders:  # the same contract call cancels orders too
                self.ex.cancel_order(journal, account, market, order_id)
                return
            raise trigger_revert("OrderDoesNotExist", "no such active trigger order", _CANCEL)
        if trigger.account != account:
            raise trigger_revert("NotOrderOwner", "only the trigger's owner can cancel it", _CANCEL)
        self._end(journal, trigger, "CanceledByUser")

    def parent_closed(self, journal: Journal, parent: Order) -> None:
        """A parent was cancelled (or closed with nothing filled): its active legs end."""
        for trigger in [t for t in self.all.values() if t.parent == parent.order_id and t.status == "Active"]:
            self._end(journal, trigger, "ParentOrderCanceled")

    # --- activation ---------------------------------------------------------------------------

    def fire(self, journal: Journal, markets: List[Dict[str, Any]]) -> None:
        """Activate every trigger the last trade price has reached (see the module doc)."""
        for market in {m["market_id"]: m for m in markets}.values():
            seen = -1
            for _ in range(MAX_ROUNDS):
                trades = self.ex.trades[market["market_id"]]
                if not trades or len(trades) == seen:
                    break
                seen, last = len(trades), int(trades[-1]["price"])
                for trigger in self.active(market["market_id"]):
                    if trigger.status == "Active" and (last >= trigger.trigger_price if trigger.up
                                                       else last <= trigger.trigger_price):
                        self._activate(journal, market, trigger)

    def _activate(self, journal: Journal, market: Dict[str, Any], trigger: Trigger) -> None:
        spec, leg, account = self.ex.spec(market), trigger.leg, trigger.account
        buy = leg["side"] == "Buy"
        asset = market["quote"]["asset"] if buy else market["base"]["asset"]
        book_id, unit = market["contract_id"], 10 ** spec.base.decimals
        quantity = leg_quantity(leg)
        if quantity is None:
            parent = self.ex.orders[trigger.parent]
            if not parent.filled:
                return  # nothing to protect yet: it waits
            quantity = parent.filled
        # the escrow, the book's unlocked funds and the balance are what it may spend; the escrow is
        # released only once its order is made, so a leg that cannot make one leaves the pair's
        # escrow locked behind its still-active OCO sibling (_end releases it when none is left)
        escrow_asset, escrowed = self.escrow.get(trigger.group, ("", 0))
        self.ex.ledger.move(journal, (account, ("unlocked", book_id, asset)), (account, ("wallet", asset)),
                            self.ex.ledger.get(account, ("unlocked", book_id, asset)))
        funds = self.ex.ledger.get(account, ("wallet", asset)) + (escrowed if escrow_asset == asset else 0)
        if not buy:
            quantity = min(quantity, funds)
        price, order_type = self._order_price(spec, leg, quantity, funds)
        if price:
            quantity -= quantity % (unit // gcd(price, unit))  # FractionalPrice at the price it executes at
        need = price * quantity // unit if buy else quantity
        if not quantity or not price or need > funds:
            self._end(journal, trigger, "NotEnoughFunds")
            return
        try:
            spec.validate_order(price, quantity)
        except ValueError:  # e.g. below the market's minimum order
            self._end(journal, trigger, "ForceCanceled")
            return
        self._release(journal, trigger)
        order = create_order(self.ex, journal, account, market, {"side": leg["side"], "price": price,
                                                                 "quantity": quantity, "order_type": order_type})
        set_attr(journal, trigger, "order", order.order_id)
        self._end(journal, trigger, "Activated")
        if trigger.sibling and self.all[trigger.sibling].status == "Active":
            self._end(journal, self.all[trigger.sibling], "CanceledBySibling")

    @staticmethod
    def _order_price(spec: Any, leg: Mapping[str, Any], quantity: int, funds: int) -> Tuple[int, Any]:
        """The price and order type an activated leg executes as (see the module doc)."""
        if not quantity:
            return 0, "Market"
        unit, buy, kind = 10 ** spec.base.decimals, leg["side"] == "Buy", leg_kind(leg)
        fits = lcm(spec.price_step, unit // gcd(quantity, unit))  # every price quantity fits is a multiple
        floor = -(-spec.min_order * unit // quantity)  # below this the order is under the market's minimum
        lowest = max(fits, -(-floor // fits) * fits)
        if kind == "Spot":
            return int(leg["order_type"]["Spot"]["price"]), "Spot"
        if kind == "MarketBounded":
            bounds = leg["order_type"]["MarketBounded"]
            return (int(bounds["max_price"]) if buy else lowest), {"BoundedMarket": dict(bounds)}
        if not buy:
            return lowest, "Market"
        highest = min(funds * unit // quantity, U64_MAX)  # the most the funds pay for every unit
        return highest - highest % fits, "Market"

    # --- state files ---------------------------------------------------------------------------

    def dump(self) -> Dict[str, Any]:
        """Plain JSON of every trigger and escrow (for :mod:`o2lite.sandbox.state`)."""
        return {"triggers": [dict(vars(t)) for t in self.all.values()],
                "escrow": {group: [asset, str(amount)] for group, (asset, amount) in self.escrow.items()}}

    def load(self, data: Optional[Mapping[str, Any]]) -> None:
        """Replace the triggers with a :meth:`dump` (nothing when ``data`` is ``None``)."""
        data = data or {}
        self.all = {t["order_id"]: Trigger(**t) for t in data.get("triggers", [])}
        self.escrow = {group: (asset, int(amount)) for group, (asset, amount) in data.get("escrow", {}).items()}
