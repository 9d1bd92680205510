"""Creating an order: lock its funds, match it with price–time priority, rest or cancel the rest.

Order types: Spot rests what does not fill; Market takes what crosses (its price is the worst
acceptable) and cancels the rest; Limit behaves like Spot; FillOrKill reverts unless it fills
completely at once; PostOnly reverts if it would take; BoundedMarket takes only at prices inside
``[min_price, max_price]`` and cancels the rest. Trades execute at the maker's price.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, Optional

from .._hex import to_int
from ..market import format_units
from .book import Journal, Order, Revert, set_attr
from .config import fresh_id, named_id

FEE_UNIT = 1_000_000  # fee fields are parts per million of what a side receives
_TYPES = ("Spot", "Market", "Limit", "FillOrKill", "PostOnly", "BoundedMarket")


def _type_name(order_type: Any) -> str:
    name = order_type if isinstance(order_type, str) else next(iter(order_type))
    if name not in _TYPES:
        raise Revert(f"InvalidOrderArgs: unknown order type {name}")
    return name


def create_order(exchange: Any, journal: Optional[Journal], account: str, market: Dict[str, Any],
                 args: Mapping[str, Any]) -> Order:
    """Apply one ``CreateOrder`` for ``account`` in ``market``; returns the order as it ends."""
    spec = exchange.spec(market)
    side = str(args["side"]).capitalize()
    price, quantity = to_int(args["price"], "price"), to_int(args["quantity"], "quantity")
    order_type = args["order_type"]
    kind = _type_name(order_type)
    try:
        spec.validate_order(price, quantity)
    except ValueError as exc:
        variant = next((v for v in ("PricePrecision", "FractionalPrice") if v in str(exc)), "InvalidOrderArgs")
        raise Revert(f"{variant}: {exc}") from None
    low, high = 0, 2**64 - 1
    if kind == "BoundedMarket":
        high, low = to_int(order_type["BoundedMarket"]["max_price"]), to_int(order_type["BoundedMarket"]["min_price"])
    base, quote, book_id = market["base"]["asset"], market["quote"]["asset"], market["contract_id"]
    unit = 10 ** spec.base.decimals
    locked_asset, amount = (quote, price * quantity // unit) if side == "Buy" else (base, quantity)
    held = exchange.ledger.get(account, ("wallet", locked_asset))
    if held < amount:
        symbol, decimals = (market["quote"] if side == "Buy" else market["base"])["symbol"], \
            (market["quote"] if side == "Buy" else market["base"])["decimals"]
        raise Revert(f"InvalidInputAmount: not enough {symbol}: {format_units(held, decimals)} available, "
                     f"{format_units(amount, decimals)} needed")
    exchange.ledger.move(journal, (account, ("wallet", locked_asset)), (account, ("locked", book_id, locked_asset)), amount)
    seq = exchange.next_seq()
    order = Order(order_id=fresh_id(),
                  market_id=market["market_id"], account=account, side=side, order_type=order_type, price=price,
                  quantity=quantity, timestamp=exchange.now_ms(), seq=seq, locked=amount)
    exchange.orders[order.order_id] = order
    exchange.touch(order)
    if journal is not None:
        journal.record(lambda: exchange.orders.pop(order.order_id, None))
    book = exchange.books[market["market_id"]]
    opposite = book.asks if side == "Buy" else book.bids

    def crosses(maker: Order) -> bool:
        if not low <= maker.price <= high:
            return False
        return maker.price <= price if side == "Buy" else maker.price >= price

    if kind == "PostOnly" and opposite and crosses(opposite[0][2]):
        raise Revert("OrderPartiallyFilled: the PostOnly order would take liquidity")
    if kind == "FillOrKill":
        available = 0
        for _, _, maker in opposite:
            if not crosses(maker) or available >= quantity:
                break
            available += maker.remaining
        if available < quantity:
            raise Revert("OrderNotFilled: the FillOrKill order cannot fill completely")
    while order.remaining and opposite and crosses(opposite[0][2]):
        _fill(exchange, journal, market, order, opposite[0][2], unit)
    if order.remaining and kind in ("Spot", "Limit", "PostOnly"):
        book.insert(journal, order)
    else:
        if order.remaining:
            set_attr(journal, order, "cancel", True)
        exchange.release(journal, order, market)
    return order


def _fill(exchange: Any, journal: Optional[Journal], market: Dict[str, Any], taker: Order, maker: Order, unit: int) -> None:
    """Trade ``min(remaining)`` at the maker's price; each side's proceeds land unlocked in the book."""
    size = min(taker.remaining, maker.remaining)
    value = maker.price * size // unit
    base, quote, book_id = market["base"]["asset"], market["quote"]["asset"], market["contract_id"]
    buyer, seller = (taker, maker) if taker.side == "Buy" else (maker, taker)
    ledger = exchange.ledger
    fees = {taker.order_id: int(market.get("taker_fee") or 0), maker.order_id: int(market.get("maker_fee") or 0)}
    # the buyer pays quote from its lock, the seller delivers base from its lock
    ledger.add(journal, buyer.account, ("locked", book_id, quote), -value)
    ledger.add(journal, seller.account, ("locked", book_id, base), -size)
    for order, asset, received in ((buyer, base, size), (seller, quote, value)):
        fee = received * fees[order.order_id] // FEE_UNIT
        ledger.add(journal, order.account, ("unlocked", book_id, asset), received - fee)
        if fee:
            ledger.add(journal, order.account, ("fee", book_id, asset), fee)
    set_attr(journal, buyer, "locked", buyer.locked - value)
    set_attr(journal, seller, "locked", seller.locked - size)
    for order in (taker, maker):
        set_attr(journal, order, "filled", order.filled + size)
        set_attr(journal, order, "fill_value", order.fill_value + value)
    exchange.touch(maker)
    if not maker.remaining:
        exchange.books[market["market_id"]].remove(journal, maker)
        exchange.release(journal, maker, market)
    trades = exchange.trades[market["market_id"]]
    trades.append({"trade_id": str(exchange.next_seq()), "side": maker.side, "price": str(maker.price),
                   "quantity": str(size), "total": str(value), "timestamp": exchange.now_ms(),
                   "maker": {"ContractId": maker.account}, "taker": {"ContractId": taker.account},
                   "maker_order_id": maker.order_id, "taker_order_id": taker.order_id})
    if journal is not None:
        journal.record(trades.pop)


def seed(ex: Any) -> None:
    """A built-in maker rests five bids and five asks around a mid price in every market."""
    maker = ex.create_account({"identity": {"Address": named_id("maker")}})["trade_account_id"]
    for symbol, (asset, decimals) in ex.assets().items():
        ex.ledger.add(None, maker, ("wallet", asset), 10**9 * 10**decimals)
    mids = {"FUEL/USDC": (12_500, 100, 2_000 * 10**9), "ETH/USDC": (3_000_000_000, 1_000_000, 10**9)}
    for market in ex.markets:
        pair = f"{market['base']['symbol']}/{market['quote']['symbol']}"
        mid, step, quantity = mids.get(pair, (10**market["quote"]["decimals"], 10**max(
            market["quote"]["decimals"] - market["quote"]["max_precision"], 0), 10**market["base"]["decimals"]))
        for i in range(1, 6):
            for side, price in (("Buy", mid - i * step), ("Sell", mid + i * step)):
                create_order(ex, None, maker, market, {"side": side, "price": str(price),
                                                         "quantity": str(quantity * i), "order_type": "Spot"})
