"""The sandbox's read endpoints, in the shapes a server must emit (PROTOCOL §5).

Where sources differ, the answers follow the strictest official typed models (the Rust SDK's),
which every official client parses: chain integers as decimal strings, the ticker as a one-item
list, trades as ``{trades, market_id}``, bars with ``timestamp`` and buy/sell volumes — and also
``time`` and ``volume``, which o2-sdk 0.5.0 reads (``o2_sdk/models.py`` ``Bar.from_dict``). A
missing required query parameter (:data:`REQUIRED`) is a 400 naming it. The aggregated
endpoints speak human-scale JSON numbers. Every read runs under the exchange lock.
"""

from __future__ import annotations

from decimal import Decimal
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Tuple, Union

from .._hex import b256_hex
from .._parse import digits
from ..markets import RESOLUTIONS
from ..nonce import LANES, WINDOW_WORDS
from .core import ExchangeCore, Routes
from .errors import api_error
from .views import balance_json, trade_json
from ..error_codes import ErrorCode


__all__ = ["read_routes", "resolution_ms", "query_int"]

_SECOND = 1000
_DAY = 86400 * _SECOND
_RESOLUTION_MS = {"s": _SECOND, "m": 60 * _SECOND, "h": 3600 * _SECOND, "d": 86400 * _SECOND,
                  "w": 7 * 86400 * _SECOND, "M": 30 * 86400 * _SECOND}  # months count as 30 days


def resolution_ms(resolution: str) -> int:
    """Milliseconds of a bar resolution such as ``15m`` or ``1M``."""
    return int(resolution[:-1]) * _RESOLUTION_MS[resolution[-1]]


def query_int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter in ``[low, high]``, else code 1001."""
    text = query.get(name)
    if text is None:
        return default
    value = digits(text, 20)
    if value is None or not low <= value <= high:
        raise api_error(ErrorCode.INVALID_REQUEST, f"{name} must be an integer from {low} to {high}")
    return value


def _keyset(items: List[Any], key: Callable[[Any], Tuple[int, Any]], query: Mapping[str, str], id_param: str,
            id_type: Callable[[str], Any], count: int) -> List[Any]:
    """Sort by (timestamp, id) and start *at* the cursor — the boundary item is repeated, as
    the exchange does; ``direction`` asc or desc."""
    direction = query.get("direction", "desc")
    if direction not in ("asc", "desc"):
        raise api_error(ErrorCode.INVALID_REQUEST, "direction must be asc or desc")
    descending = direction == "desc"
    items = sorted(items, key=key, reverse=descending)
    if query.get("start_timestamp") is not None:
        if query.get(id_param) is None:
            raise api_error(ErrorCode.INVALID_PAGINATION, f"start_timestamp needs {id_param}")
        cursor = (query_int(query, "start_timestamp", 0, 0, 2**63), id_type(query[id_param]))
        items = [i for i in items if (key(i) <= cursor if descending else key(i) >= cursor)]
    return items[:count]


def read_routes(ex: ExchangeCore) -> Routes:
    """The read routes of ``ex``, each run under the exchange lock."""

    def markets(**_: Any) -> Dict[str, Any]:
        return dict(ex.registry, chain_id=hex(ex.chain_id), markets=ex.markets)

    def market_of(query: Mapping[str, str]) -> Dict[str, Any]:
        if "market_id" not in query:
            raise api_error(ErrorCode.INVALID_REQUEST, "market_id is required")
        return ex.market_by_id(b256_hex(query["market_id"], "market_id"))

    def day_stats(market: Dict[str, Any]) -> Dict[str, Any]:
        trades = ex.trades[market["market_id"]]
        recent = [t for t in trades if t["timestamp"] >= ex.now_ms() - _DAY]
        prices = [int(t["price"]) for t in recent]
        last = int(trades[-1]["price"]) if trades else 0
        older = [t for t in trades if t["timestamp"] < ex.now_ms() - _DAY]
        previous = int(older[-1]["price"]) if older else (prices[0] if prices else last)
        return {"last": last, "high": max(prices, default=last), "low": min(prices, default=last),
                "open": prices[0] if prices else last, "previous": previous,
                "base": sum(int(t["quantity"]) for t in recent), "quote": sum(int(t["total"]) for t in recent)}

    def summary(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        market = market_of(query)
        s = day_stats(market)
        return {"market_id": market["market_id"], "high_price": str(s["high"]), "low_price": str(s["low"]),
                "last_price": str(s["last"]), "volume_24h": str(s["base"]), "change_24h": str(s["last"] - s["open"])}

    def ticker(query: Mapping[str, str], **_: Any) -> List[Dict[str, Any]]:
        market = market_of(query)
        s, book = day_stats(market), ex.books[market["market_id"]]
        bid = book.bids[0][2] if book.bids else None
        ask = book.asks[0][2] if book.asks else None
        change = s["last"] - s["previous"]
        percentage = (Decimal(change) * 100 / s["previous"]).quantize(Decimal("0.01")) if s["previous"] else Decimal(0)
        return [{"market_id": market["market_id"], "high": str(s["high"]), "low": str(s["low"]),
                 "bid": str(bid.price if bid else 0), "bid_volume": str(bid.remaining if bid else 0),
                 "ask": str(ask.price if ask else 0), "ask_volume": str(ask.remaining if ask else 0),
                 "open": str(s["open"]), "close": str(s["last"]), "last": str(s["last"]),
                 "previous_close": str(s["previous"]), "change": str(change), "percentage": str(percentage),
                 "average": str((s["open"] + s["last"]) // 2), "base_volume": str(s["base"]),
                 "quote_volume": str(s["quote"]), "timestamp": str(ex.now_ms())}]

    def depth(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        market = market_of(query)
        precision = query_int(query, "precision", 10, 1, 10**18)
        limit = query_int(query, "limit", 0, 0, 10_000) or None
        book = ex.books[market["market_id"]]
        levels = {side: [{"price": str(p), "quantity": str(q)} for p, q in book.depth(side, precision)][:limit]
                  for side in ("Buy", "Sell")}
        return {"action": "snapshot", "market_id": market["market_id"],
                "orders": {"buys": levels["Buy"], "sells": levels["Sell"]}}

    def trade_key(t: Dict[str, Any]) -> Tuple[int, int]:
        return t["timestamp"], int(t["trade_id"])

    def trade_id(text: str) -> int:
        value = digits(text, 30)
        if value is None:
            raise api_error(ErrorCode.INVALID_REQUEST, "start_trade_id must be a trade id")
        return value

    def trades(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        market = market_of(query)
        page = _keyset(ex.trades[market["market_id"]], trade_key, query, "start_trade_id", trade_id,
                       query_int(query, "count", 50, 1, 50))
        return {"trades": [trade_json(t) for t in page], "market_id": market["market_id"]}

    def trades_by_account(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        market = market_of(query)
        account = b256_hex(query.get("contract") or query.get("account") or "", "contract")
        mine = [t for t in ex.trades[market["market_id"]]
                if account in (t["maker"]["ContractId"], t["taker"]["ContractId"])]
        page = _keyset(mine, trade_key, query, "start_trade_id", trade_id, query_int(query, "count", 50, 1, 50))
        return {"trades": [trade_json(t, account) for t in page], "market_id": market["market_id"]}

    def bars(query: Mapping[str, str], **_: Any) -> List[Dict[str, Any]]:
        market = market_of(query)
        resolution = query.get("resolution", "")
        if resolution not in RESOLUTIONS:
            raise api_error(ErrorCode.INVALID_REQUEST, f"unknown resolution {resolution[:10]!r}")
        start, end = query_int(query, "from", 0, 0, 2**63), query_int(query, "to", 0, 0, 2**63)
        step = resolution_ms(resolution)
        if end < start:
            raise api_error(ErrorCode.INVALID_TIME_RANGE, "Invalid time range")
        out: Dict[int, Dict[str, Any]] = {}
        for t in ex.trades[market["market_id"]]:
            if not start <= t["timestamp"] <= end:
                continue
            bucket, price = t["timestamp"] // step * step, int(t["price"])
            bar = out.setdefault(bucket, {"timestamp": bucket, "time": bucket, "open": price, "high": price,
                                          "low": price, "close": price, "volume": 0, "buy_volume": 0,
                                          "sell_volume": 0})
            bar["high"], bar["low"], bar["close"] = max(bar["high"], price), min(bar["low"], price), price
            # the taker's side names the volume: a maker Sell was taken by a buyer
            bar["buy_volume" if t["side"] == "Sell" else "sell_volume"] += int(t["quantity"])
            bar["volume"] += int(t["quantity"])  # o2-sdk 0.5.0 reads {time, volume}; the Rust SDK the rest
        return [{k: str(v) for k, v in b.items()} for _, b in sorted(out.items())][:5000]

    def orders(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        market = market_of(query)
        account = b256_hex(query.get("contract") or query.get("account") or "", "contract")
        mine = [o for o in ex.orders.values() if o.account == account and o.market_id == market["market_id"]]
        if query.get("is_open") is not None:
            if query["is_open"] not in ("true", "false"):
                raise api_error(ErrorCode.INVALID_REQUEST, "is_open must be true or false")
            wanted = query["is_open"] == "true"
            mine = [o for o in mine if (not o.close) == wanted]
        page = _keyset(mine, lambda o: (o.timestamp, o.order_id), query, "start_order_id",
                       lambda v: b256_hex(v, "start_order_id"), query_int(query, "count", 200, 1, 200))
        decimals = market["base"]["decimals"]
        return {"identity": {"ContractId": account}, "market_id": market["market_id"],
                "orders": [o.to_json(decimals) for o in page]}

    def order(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        market = market_of(query)
        found = ex.orders.get(b256_hex(query.get("order_id", ""), "order_id"))
        if found is None or found.market_id != market["market_id"]:
            raise api_error(ErrorCode.ORDER_NOT_FOUND, "Order not found")
        return {"order": found.to_json(market["base"]["decimals"])}

    def accounts(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        given = [k for k in ("owner", "owner_contract", "trade_account_id") if query.get(k)]
        if len(given) != 1:
            raise api_error(ErrorCode.INVALID_REQUEST, "give exactly one of owner, owner_contract, trade_account_id")
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

    def window(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        account = ex.account(query.get("trade_account_id"))
        lane = query_int(query, "nonce_session_id", 0, 0, LANES - 1)
        state = account["windows"].get(lane, {"base": 0, "bitmaps": {}})
        base = state["base"]
        slots = [{"word_position": str(w), "bitmap": str(state["bitmaps"].get(w, 0))}
                 for w in sorted(range(base, base + WINDOW_WORDS), key=lambda w: w % WINDOW_WORDS)]
        return {"nonce_session_id": lane, "base": str(base), "slots": slots}

    def balance(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        asset = b256_hex(query.get("asset_id", ""), "asset_id")
        if bool(query.get("contract")) == bool(query.get("address")):
            raise api_error(ErrorCode.INVALID_REQUEST, "give exactly one of contract or address")
        if query.get("address"):
            held = ex.wallets.get(b256_hex(query["address"], "address"), {}).get(asset, 0)
            return {"order_books": {}, "total_locked": "0", "total_unlocked": str(held),
                    "trading_account_balance": str(held)}
        return balance_json(ex, b256_hex(query["contract"], "contract"), asset)

    def whitelist(body: Any, **_: Any) -> Dict[str, Any]:
        if not isinstance(body, Mapping):
            raise api_error(ErrorCode.PARSE_ERROR, "Parse error: body must be {\"tradeAccount\": \"0x…\"}")
        account = ex.account(body.get("tradeAccount"))
        already = account.setdefault("whitelisted", False)
        account["whitelisted"] = True
        return {"success": True, "tradeAccount": account["id"], "alreadyWhitelisted": already}

    def referral(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        code = query.get("code", "").upper()
        owner = next((a["owner"] for a in ex.accounts.values() if a["id"][2:10].upper() == code), None)
        return {"valid": True, "ownerAddress": owner, "isActive": True} if owner else {"valid": False}

    def health(**_: Any) -> Dict[str, Any]:
        return {"status": "ok"}

    routes: Dict[Tuple[str, str], Callable[..., Any]] = {
        ("GET", "/v1/markets"): markets, ("GET", "/v1/markets/summary"): summary,
        ("GET", "/v1/markets/ticker"): ticker, ("GET", "/v1/depth"): depth, ("GET", "/v1/trades"): trades,
        ("GET", "/v1/trades_by_account"): trades_by_account, ("GET", "/v1/bars"): bars,
        ("GET", "/v1/orders"): orders, ("GET", "/v1/order"): order, ("GET", "/v1/accounts"): accounts,
        ("GET", "/v1/accounts/window"): window, ("GET", "/v1/balance"): balance,
        ("POST", "/analytics/v1/whitelist"): whitelist, ("GET", "/analytics/v1/referral/code-info"): referral,
        ("GET", "/health"): health,
    }
    return {key: ex.locked(_requiring(key, route)) for key, route in routes.items()}


#: Query parameters a read cannot do without (PROTOCOL §5; every official client sends them):
#: missing, the answer is 400 naming them — never an empty 200 a script learns nothing from.
REQUIRED: Dict[Tuple[str, str], Tuple[str, ...]] = {
    ("GET", "/v1/depth"): ("market_id", "precision"),
    ("GET", "/v1/trades"): ("market_id", "direction", "count"),
    ("GET", "/v1/trades_by_account"): ("market_id", "direction", "count"),
    ("GET", "/v1/bars"): ("market_id", "from", "to", "resolution"),
    ("GET", "/v1/orders"): ("market_id", "direction", "count"),
    ("GET", "/v1/order"): ("market_id", "order_id"),
    ("GET", "/v1/balance"): ("asset_id",),
}


def _requiring(key: Tuple[str, str], route: Callable[..., Any]) -> Callable[..., Any]:
    names = REQUIRED.get(key)
    if not names:
        return route

    def checked(query: Mapping[str, str], **kw: Any) -> Any:
        missing = [n for n in names if not query.get(n)]
        if missing:
            raise api_error(ErrorCode.INVALID_REQUEST, f"missing query parameter{'s' if len(missing) > 1 else ''} "
                                                       f"{', '.join(missing)}: {key[0]} {key[1]} needs {', '.join(names)}")
        return route(query, **kw)

    return checked
