"""The sandbox's read endpoints: markets, depth, trades, bars, orders, accounts, balances,
the nonce window, analytics and the aggregated (human-scale) views."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .._hex import b256_hex
from ..market import Market
from ..markets import RESOLUTIONS
from ..nonce import LANES, WINDOW_WORDS
from .exchange import Exchange, api_error

__all__ = ["register", "resolution_ms"]

_SECOND = 1000
_RESOLUTION_MS = {"s": _SECOND, "m": 60 * _SECOND, "h": 3600 * _SECOND, "d": 86400 * _SECOND,
                  "w": 7 * 86400 * _SECOND, "M": 30 * 86400 * _SECOND}  # months count as 30 days


def resolution_ms(resolution: str) -> int:
    """Milliseconds of a bar resolution such as ``15m`` or ``1M``."""
    return int(resolution[:-1]) * _RESOLUTION_MS[resolution[-1]]


def _count(query: Mapping[str, str], limit: int) -> int:
    count = int(query.get("count", limit))
    if not 1 <= count <= limit:
        raise api_error(7002, f"count must be between 1 and {limit}")
    return count


def _keyset(items: List[Any], key: Callable[[Any], Tuple[int, Any]], query: Mapping[str, str], id_param: str,
            id_type: Callable[[str], Any], count: int) -> List[Any]:
    """Sort by (timestamp, id) and start *at* the cursor — the boundary item is repeated, as
    the exchange does; ``direction`` asc or desc."""
    descending = query.get("direction", "desc") == "desc"
    items = sorted(items, key=key, reverse=descending)
    if query.get("start_timestamp") is not None:
        if query.get(id_param) is None:
            raise api_error(7002, f"start_timestamp needs {id_param}")
        cursor = (int(query["start_timestamp"]), id_type(query[id_param]))
        items = [i for i in items if (key(i) <= cursor if descending else key(i) >= cursor)]
    return items[:count]


def register(ex: Exchange) -> None:
    """Add the read routes to ``ex.routes``."""

    def markets(**_: Any) -> dict:
        return dict(ex.registry, chain_id=hex(ex.chain_id), markets=ex.markets)

    def market_of(query: Mapping[str, str]) -> dict:
        if "market_id" not in query:
            raise api_error(1001, "market_id is required")
        return ex.market_by_id(b256_hex(query["market_id"], "market_id"))

    def stats(query: Mapping[str, str], **_: Any) -> dict:
        market = market_of(query)
        day_ago = ex.now_ms() - 86400 * _SECOND
        trades = ex.trades[market["market_id"]]
        recent = [t for t in trades if t["timestamp"] >= day_ago]
        prices = [int(t["price"]) for t in recent]
        book = ex.books[market["market_id"]]
        return {"market_id": market["market_id"], "last_price": trades[-1]["price"] if trades else None,
                "volume_24h": str(sum(int(t["quantity"]) for t in recent)),
                "high_24h": str(max(prices)) if prices else None, "low_24h": str(min(prices)) if prices else None,
                "best_bid": str(book.bids[0][2].price) if book.bids else None,
                "best_ask": str(book.asks[0][2].price) if book.asks else None}

    def depth(query: Mapping[str, str], **_: Any) -> dict:
        market = market_of(query)
        precision = int(query.get("precision", "10"))
        if precision < 1 or precision > 10**18:
            raise api_error(1001, "precision must be a power of ten from 10 to 10^18")
        book = ex.books[market["market_id"]]
        limit = int(query["limit"]) if query.get("limit") else None
        levels = {side: [{"price": str(p), "quantity": str(q)} for p, q in book.depth(side, precision)][:limit]
                  for side in ("Buy", "Sell")}
        return {"action": "snapshot", "market_id": market["market_id"],
                "orders": {"buys": levels["Buy"], "sells": levels["Sell"]}}

    def trade_key(t: dict) -> Tuple[int, int]:
        return t["timestamp"], int(t["trade_id"])

    def trades(query: Mapping[str, str], **_: Any) -> List[dict]:
        market = market_of(query)
        return _keyset(ex.trades[market["market_id"]], trade_key, query, "start_trade_id", int, _count(query, 50))

    def trades_by_account(query: Mapping[str, str], **_: Any) -> dict:
        market = market_of(query)
        account = b256_hex(query.get("contract") or query.get("account"), "contract")
        mine = [t for t in ex.trades[market["market_id"]]
                if account in (t["maker"]["ContractId"], t["taker"]["ContractId"])]
        return {"trades": _keyset(mine, trade_key, query, "start_trade_id", int, _count(query, 50))}

    def bars(query: Mapping[str, str], **_: Any) -> dict:
        market = market_of(query)
        resolution = query.get("resolution", "")
        if resolution not in RESOLUTIONS:
            raise api_error(1001, f"unknown resolution {resolution!r}")
        start, end, step = int(query["from"]), int(query["to"]), resolution_ms(resolution)
        if end < start:
            raise api_error(7001, "Invalid time range")
        out: Dict[int, dict] = {}
        for t in ex.trades[market["market_id"]]:
            if not start <= t["timestamp"] <= end:
                continue
            bucket, price = t["timestamp"] // step * step, int(t["price"])
            bar = out.setdefault(bucket, {"time": bucket, "open": price, "high": price, "low": price,
                                          "close": price, "volume": 0})
            bar["high"], bar["low"] = max(bar["high"], price), min(bar["low"], price)
            bar["close"] = price
            bar["volume"] += int(t["quantity"])
        rows = [dict(b, **{k: str(b[k]) for k in ("open", "high", "low", "close", "volume")})
                for _, b in sorted(out.items())]
        return {"bars": rows[:5000]}

    def orders(query: Mapping[str, str], **_: Any) -> dict:
        market = market_of(query)
        account = b256_hex(query.get("contract") or query.get("account"), "contract")
        mine = [o for o in ex.orders.values() if o.account == account and o.market_id == market["market_id"]]
        if query.get("is_open") is not None:
            wanted = query["is_open"].lower() == "true"
            mine = [o for o in mine if (not o.close) == wanted]
        page = _keyset(mine, lambda o: (o.timestamp, o.order_id), query, "start_order_id",
                       lambda v: b256_hex(v, "start_order_id"), _count(query, 200))
        decimals = market["base"]["decimals"]
        return {"identity": {"ContractId": account}, "market_id": market["market_id"],
                "orders": [o.to_json(decimals) for o in page]}

    def order(query: Mapping[str, str], **_: Any) -> dict:
        market = market_of(query)
        found = ex.orders.get(b256_hex(query.get("order_id", ""), "order_id"))
        if found is None or found.market_id != market["market_id"]:
            raise api_error(3000, "Order not found")
        return {"order": found.to_json(market["base"]["decimals"])}

    def accounts(query: Mapping[str, str], **_: Any) -> dict:
        given = [k for k in ("owner", "owner_contract", "trade_account_id") if query.get(k)]
        if len(given) != 1:
            raise api_error(1001, "give exactly one of owner, owner_contract, trade_account_id")
        value = b256_hex(query[given[0]], given[0])
        account_id = value if given[0] == "trade_account_id" else ex.by_owner.get(value)
        account = ex.accounts.get(account_id) if account_id else None
        if account is None:
            return {"trade_account_id": None, "trade_account": None, "session": None}
        session = account["session"]
        return {"trade_account_id": account["id"],
                "trade_account": {"nonce": str(account["nonce"]), "owner": {"Address": account["owner"]},
                                  "last_modification": account["modified"], "synced_with_network": True},
                "session": None if session is None else {
                    "session_id": {"Address": session["address"]}, "expiry": str(session["expiry"]),
                    "contract_ids": session["contract_ids"]}}

    def window(query: Mapping[str, str], **_: Any) -> dict:
        account = ex.account(query.get("trade_account_id"))
        lane = int(query.get("nonce_session_id", "0"))
        if not 0 <= lane < LANES:
            raise api_error(1001, "nonce_session_id out of range")
        state = account["windows"].get(lane, {"base": 0, "bitmaps": {}})
        base = state["base"]
        slots = [{"word_position": str(w), "bitmap": str(state["bitmaps"].get(w, 0))}
                 for w in sorted(range(base, base + WINDOW_WORDS), key=lambda w: w % WINDOW_WORDS)]
        return {"nonce_session_id": lane, "base": str(base), "slots": slots}

    def balance(query: Mapping[str, str], **_: Any) -> dict:
        asset = b256_hex(query.get("asset_id", ""), "asset_id")
        if bool(query.get("contract")) == bool(query.get("address")):
            raise api_error(1001, "give exactly one of contract or address")
        if query.get("address"):
            held = ex.wallets.get(b256_hex(query["address"], "address"), {}).get(asset, 0)
            return {"order_books": {}, "total_locked": "0", "total_unlocked": str(held),
                    "trading_account_balance": str(held)}
        account = b256_hex(query["contract"], "contract")
        books, locked_total, unlocked_total = {}, 0, 0
        for m in ex.markets:
            if asset not in (m["base"]["asset"], m["quote"]["asset"]):
                continue
            locked = ex.ledger.get(account, ("locked", m["contract_id"], asset))
            unlocked = ex.ledger.get(account, ("unlocked", m["contract_id"], asset))
            fee = ex.ledger.get(account, ("fee", m["contract_id"], asset))
            books[m["contract_id"]] = {"locked": str(locked), "unlocked": str(unlocked), "fee": str(fee)}
            locked_total, unlocked_total = locked_total + locked, unlocked_total + unlocked
        own = ex.ledger.get(account, ("wallet", asset))
        return {"order_books": books, "total_locked": str(locked_total),
                "total_unlocked": str(unlocked_total + own), "trading_account_balance": str(own)}

    def whitelist(body: Any, **_: Any) -> dict:
        account = ex.account(body.get("tradeAccount"))
        already = account.setdefault("whitelisted", False)
        account["whitelisted"] = True
        return {"success": True, "tradeAccount": account["id"], "alreadyWhitelisted": already}

    def referral(query: Mapping[str, str], **_: Any) -> dict:
        code = query.get("code", "").upper()
        owner = next((a["owner"] for a in ex.accounts.values() if a["id"][2:10].upper() == code), None)
        return {"valid": owner is not None, "ownerAddress": owner, "isActive": owner is not None} if owner \
            else {"valid": False}

    register_aggregated(ex)
    ex.routes.update({
        ("GET", "/v1/markets"): markets, ("GET", "/v1/markets/summary"): stats, ("GET", "/v1/markets/ticker"): stats,
        ("GET", "/v1/depth"): depth, ("GET", "/v1/trades"): trades, ("GET", "/v1/trades_by_account"): trades_by_account,
        ("GET", "/v1/bars"): bars, ("GET", "/v1/orders"): orders, ("GET", "/v1/order"): order,
        ("GET", "/v1/accounts"): accounts, ("GET", "/v1/accounts/window"): window, ("GET", "/v1/balance"): balance,
        ("POST", "/analytics/v1/whitelist"): whitelist, ("GET", "/analytics/v1/referral/code-info"): referral,
    })


def register_aggregated(ex: Exchange) -> None:
    """``/v1/aggregated/*`` with human-scale numbers and ``BASE_QUOTE`` pairs."""

    def spec_of(pair: Optional[str]) -> Tuple[dict, Market]:
        for m in ex.markets:
            if f"{m['base']['symbol']}_{m['quote']['symbol']}" == str(pair).upper():
                return m, Market.from_json(m)
        raise api_error(2000, f"Market not found: {pair}")

    def ticker_row(m: dict) -> dict:
        spec, trades = Market.from_json(m), ex.trades[m["market_id"]]
        book, day_ago = ex.books[m["market_id"]], ex.now_ms() - 86400 * _SECOND
        recent = [t for t in trades if t["timestamp"] >= day_ago]
        return {"ticker_id": f"{spec.base.symbol}_{spec.quote.symbol}", "base_currency": spec.base.symbol,
                "target_currency": spec.quote.symbol,
                "last_price": str(spec.format_price(int(trades[-1]["price"]))) if trades else "0",
                "base_volume": str(spec.format_quantity(sum(int(t["quantity"]) for t in recent))),
                "target_volume": str(spec.format_price(0) + sum((spec.format_price(int(t["price"])) *
                                                                 spec.format_quantity(int(t["quantity"])) for t in recent), Decimal(0))),
                "bid": str(spec.format_price(book.bids[0][2].price)) if book.bids else "0",
                "ask": str(spec.format_price(book.asks[0][2].price)) if book.asks else "0"}

    def assets(**_: Any) -> dict:
        return {symbol: {"name": symbol, "unified_cryptoasset_id": asset, "can_withdraw": True, "can_deposit": True}
                for symbol, (asset, _) in ex.assets().items()}

    def orderbook(query: Mapping[str, str], **_: Any) -> dict:
        m, spec = spec_of(query.get("market_pair"))
        depth = int(query.get("depth", "0"))
        if not 0 <= depth <= 500:
            raise api_error(1001, "depth must be 0..500")
        book = ex.books[m["market_id"]]

        def side(name: str) -> List[List[str]]:
            levels = [[str(spec.format_price(p)), str(spec.format_quantity(q))] for p, q in book.depth(name, 1)]
            return levels[:depth] if depth else levels

        return {"ticker_id": f"{spec.base.symbol}_{spec.quote.symbol}", "timestamp": ex.now_ms(),
                "bids": side("Buy"), "asks": side("Sell")}

    def summary(**_: Any) -> List[dict]:
        return [dict(ticker_row(m), trading_pairs=ticker_row(m)["ticker_id"]) for m in ex.markets]

    def ticker(**_: Any) -> List[dict]:
        return [ticker_row(m) for m in ex.markets]

    def trades(query: Mapping[str, str], **_: Any) -> List[dict]:
        m, spec = spec_of(query.get("market_pair"))
        return [{"trade_id": int(t["trade_id"]), "price": str(spec.format_price(int(t["price"]))),
                 "base_volume": str(spec.format_quantity(int(t["quantity"]))), "trade_timestamp": t["timestamp"],
                 "type": "sell" if t["side"] == "Buy" else "buy"} for t in reversed(ex.trades[m["market_id"]][-200:])]

    ex.routes.update({("GET", "/v1/aggregated/assets"): assets, ("GET", "/v1/aggregated/orderbook"): orderbook,
                      ("GET", "/v1/aggregated/summary"): summary, ("GET", "/v1/aggregated/ticker"): ticker,
                      ("GET", "/v1/aggregated/trades"): trades})


