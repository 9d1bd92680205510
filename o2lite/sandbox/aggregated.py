"""The sandbox's aggregated (CoinGecko/CMC-style) endpoints, in the official models' shapes
(PROTOCOL §5): human-scale JSON numbers, pairs like ``FUEL_USDC``."""

from __future__ import annotations

from decimal import Decimal
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Tuple

from .._parse import digits
from ..market import Market  # noqa: F401 - the type of ex.spec()
from .core import ExchangeCore, Routes
from .errors import api_error
from ..error_codes import ErrorCode


__all__ = ["aggregated_routes"]

_DAY_MS = 86400 * 1000
_FEE_UNIT = Decimal(1_000_000)  # sandbox fees are parts per million


def _number(value: Decimal) -> Any:
    return int(value) if value == value.to_integral_value() else float(value)


def aggregated_routes(ex: ExchangeCore) -> Routes:
    """The ``/v1/aggregated/*`` routes of ``ex``, each run under the exchange lock."""

    def specs() -> List[Tuple[Dict[str, Any], Market]]:
        return [(m, ex.spec(m)) for m in ex.markets]

    def pair_of(spec: Market) -> str:
        return f"{spec.base.symbol}_{spec.quote.symbol}"

    def spec_of(pair: Any) -> Tuple[Dict[str, Any], Market]:
        for m, spec in specs():
            if pair_of(spec) == str(pair).upper():
                return m, spec
        raise api_error(ErrorCode.MARKET_NOT_FOUND, f"Market not found: {str(pair)[:40]}")

    def stats(m: Dict[str, Any], spec: Market) -> Dict[str, Any]:
        trades = ex.trades[m["market_id"]]
        recent = [t for t in trades if t["timestamp"] >= ex.now_ms() - _DAY_MS]
        prices = [spec.format_price(int(t["price"])) for t in recent]
        last = spec.format_price(int(trades[-1]["price"])) if trades else Decimal(0)
        book = ex.books[m["market_id"]]
        first = prices[0] if prices else last
        return {"last": last, "high": max(prices, default=last), "low": min(prices, default=last),
                "base": sum((spec.format_quantity(int(t["quantity"])) for t in recent), Decimal(0)),
                "quote": sum((spec.format_price(int(t["total"])) for t in recent), Decimal(0)),
                "bid": spec.format_price(book.bids[0][2].price) if book.bids else Decimal(0),
                "ask": spec.format_price(book.asks[0][2].price) if book.asks else Decimal(0),
                "change": ((last - first) * 100 / first).quantize(Decimal("0.01")) if first else Decimal(0)}

    def levels(m: Dict[str, Any], spec: Market, side: str, depth: int) -> List[List[Any]]:
        rows = [[_number(spec.format_price(p)), _number(spec.format_quantity(q))]
                for p, q in ex.books[m["market_id"]].depth(side, 1)]
        return rows[:depth] if depth else rows

    def depth_of(query: Mapping[str, str], limit: int) -> int:
        depth = digits(query.get("depth", "0"), 20)
        if depth is None or depth > limit:
            raise api_error(ErrorCode.INVALID_REQUEST, f"depth must be 0..{limit}")
        return depth

    def assets(**_: Any) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for index, symbol in enumerate(ex.assets(), start=1):
            fees = [(Decimal(m["maker_fee"]), Decimal(m["taker_fee"])) for m in ex.markets
                    if symbol in (m["base"]["symbol"], m["quote"]["symbol"])]
            out[symbol] = {"name": symbol, "unified_cryptoasset_id": index, "can_withdraw": True, "can_deposit": True,
                           "min_withdraw": 0, "min_deposit": 0,
                           "maker_fee": _number(fees[0][0] / _FEE_UNIT), "taker_fee": _number(fees[0][1] / _FEE_UNIT)}
        return out

    def orderbook(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        m, spec = spec_of(query.get("market_pair"))
        level = query.get("level", "2")
        if level not in ("2", "3"):
            raise api_error(ErrorCode.INVALID_REQUEST, "level must be 2 or 3")
        depth = depth_of(query, 500)
        return {"timestamp": ex.now_ms(), "bids": levels(m, spec, "Buy", depth), "asks": levels(m, spec, "Sell", depth)}

    def summary(**_: Any) -> List[Dict[str, Any]]:
        out = []
        for m, spec in specs():
            s = stats(m, spec)
            out.append({"trading_pairs": pair_of(spec), "base_currency": spec.base.symbol,
                        "quote_currency": spec.quote.symbol, "last_price": _number(s["last"]),
                        "lowest_ask": _number(s["ask"]), "highest_bid": _number(s["bid"]),
                        "base_volume": _number(s["base"]), "quote_volume": _number(s["quote"]),
                        "price_change_percent_24h": _number(s["change"]), "highest_price_24h": _number(s["high"]),
                        "lowest_price_24h": _number(s["low"])})
        return out

    def ticker(**_: Any) -> Dict[str, Any]:
        out = {}
        for m, spec in specs():
            s = stats(m, spec)
            out[pair_of(spec)] = {"last_price": _number(s["last"]), "base_volume": _number(s["base"]),
                                  "quote_volume": _number(s["quote"])}
        return out

    def trades(query: Mapping[str, str], **_: Any) -> List[Dict[str, Any]]:
        m, spec = spec_of(query.get("market_pair"))
        return [{"trade_id": int(t["trade_id"]), "price": _number(spec.format_price(int(t["price"]))),
                 "base_volume": _number(spec.format_quantity(int(t["quantity"]))),
                 "quote_volume": _number(spec.format_price(int(t["total"]))), "timestamp": t["timestamp"],
                 # the taker's direction: a resting Buy (maker) was hit by a seller
                 "trade_type": "sell" if t["side"] == "Buy" else "buy"}
                for t in reversed(ex.trades[m["market_id"]][-200:])]

    def coingecko_tickers(**_: Any) -> List[Dict[str, Any]]:
        out = []
        for m, spec in specs():
            s = stats(m, spec)
            out.append({"ticker_id": pair_of(spec), "base_currency": spec.base.symbol,
                        "target_currency": spec.quote.symbol, "last_price": _number(s["last"]),
                        "base_volume": _number(s["base"]), "target_volume": _number(s["quote"]),
                        "bid": _number(s["bid"]), "ask": _number(s["ask"]), "high": _number(s["high"]),
                        "low": _number(s["low"])})
        return out

    def coingecko_orderbook(query: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        m, spec = spec_of(query.get("ticker_id"))
        depth = depth_of(query, 500)
        return {"ticker_id": pair_of(spec), "timestamp": ex.now_ms(), "bids": levels(m, spec, "Buy", depth),
                "asks": levels(m, spec, "Sell", depth)}

    routes: Routes = {("GET", "/v1/aggregated/assets"): assets, ("GET", "/v1/aggregated/orderbook"): orderbook,
            ("GET", "/v1/aggregated/summary"): summary, ("GET", "/v1/aggregated/ticker"): ticker,
            ("GET", "/v1/aggregated/trades"): trades,
            ("GET", "/v1/aggregated/coingecko/tickers"): coingecko_tickers,
            ("GET", "/v1/aggregated/coingecko/orderbook"): coingecko_orderbook}
    return {key: ex.locked(route) for key, route in routes.items()}
