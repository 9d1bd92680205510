"""Command-line commands that read the market: markets, ticker, depth, trades, bars."""

from __future__ import annotations

import argparse
import time
from typing import Any, Dict, List, Sequence

from .. import Client
from .account import trader_of
from .output import UNKNOWN, Output, fixed, iso, price_places
from ..market import Market, format_units

__all__ = ["COMMANDS", "depth_rows"]


def cmd_markets(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Every market with its precision and minimum order."""
    markets = client.markets.list()
    data = [{"pair": m.pair, "market_id": m.market_id, "contract_id": m.contract_id, "base": m.base.symbol,
             "quote": m.quote.symbol, "base_decimals": m.base.decimals, "quote_decimals": m.quote.decimals,
             "price_step": str(m.format_price(m.price_step)), "min_order": m.min_order,
             "min_order_human": str(format_units(m.min_order, m.quote.decimals))} for m in markets]
    out.show(data, [(m.pair, out.id(m.market_id), m.format_price(m.price_step),
                     f"{format_units(m.min_order, m.quote.decimals)} {m.quote.symbol}") for m in markets],
             ("pair", "market_id", "price step", "min order"))


def cmd_ticker(client: Client, args: argparse.Namespace, out: Output) -> None:
    """A market's last price, 24 h high/low and volume."""
    m = client.markets.get(args.pair)
    t = client.markets.ticker(m)

    def fmt(v: Any) -> Any:  # 0 and None both mean "no trade yet"
        return UNKNOWN if not v else fixed(m.format_price(v), price_places(m))

    data = {"pair": m.pair, "last_price": t.last_price, "high_24h": t.high_24h, "low_24h": t.low_24h,
            "volume_24h": t.volume_24h, "last_price_human": str(fmt(t.last_price)),
            "volume_24h_human": UNKNOWN if t.volume_24h is None else str(m.format_quantity(t.volume_24h))}
    out.show(data, [(m.pair, fmt(t.last_price), fmt(t.high_24h), fmt(t.low_24h), data["volume_24h_human"])],
             ("pair", "last", "high 24h", "low 24h", "volume 24h"))


def depth_rows(m: Market, buys: Any, sells: Any) -> List[Sequence[Any]]:
    """Bid and ask levels side by side, human units."""
    rows: List[Sequence[Any]] = []
    places = price_places(m)
    for i in range(max(len(buys), len(sells))):
        bid = buys[i] if i < len(buys) else None
        ask = sells[i] if i < len(sells) else None
        rows.append((m.format_quantity(bid.quantity) if bid else "", fixed(m.format_price(bid.price), places) if bid else "",
                     fixed(m.format_price(ask.price), places) if ask else "",
                     m.format_quantity(ask.quantity) if ask else ""))
    return rows


def depth_json(m: Market, buys: Any, sells: Any) -> Dict[str, Any]:
    """Levels with chain integers and human strings."""
    def side(levels: Any) -> List[Dict[str, Any]]:
        return [{"price": lv.price, "quantity": lv.quantity, "price_human": str(m.format_price(lv.price)),
                 "quantity_human": str(m.format_quantity(lv.quantity))} for lv in levels]
    return {"pair": m.pair, "buys": side(buys), "sells": side(sells)}


def cmd_depth(client: Client, args: argparse.Namespace, out: Output) -> None:
    """The order book, best levels first."""
    m = client.markets.get(args.pair)
    d = client.markets.depth(m, precision=args.precision, limit=args.limit)
    out.show(depth_json(m, d.buys, d.sells), depth_rows(m, d.buys, d.sells), ("bid size", "bid", "ask", "ask size"))


def trade_json(m: Market, t: Any) -> Dict[str, Any]:
    """A trade with chain integers, human strings and times as ms + ISO."""
    return {"trade_id": t.trade_id, "side": t.side, "price": t.price, "quantity": t.quantity,
            "price_human": str(m.format_price(t.price)), "quantity_human": str(m.format_quantity(t.quantity)),
            "timestamp": t.timestamp, "time": iso(t.timestamp)}


def cmd_trades(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Recent trades of a market (``--mine``: only yours, with ``--key-file``)."""
    m = client.markets.get(args.pair)
    if args.mine:
        trades = list(client.markets.iter_account_trades(m, trader_of(client, args)._account(), max_items=args.limit))
    else:
        trades = list(client.markets.iter_trades(m, max_items=args.limit))
    out.show([trade_json(m, t) for t in trades],
             [(iso(t.timestamp), t.side, fixed(m.format_price(t.price), price_places(m)), m.format_quantity(t.quantity))
              for t in trades],
             ("time (UTC)", "maker side", "price", "quantity"))


def cmd_bars(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Candles over the last ``--hours``."""
    m = client.markets.get(args.pair)
    end = int(time.time() * 1000)
    bars = client.markets.bars(m, args.resolution, end - int(args.hours * 3600 * 1000), end)
    data = [{"time": b.time, "time_iso": iso(b.time), "open": b.open, "high": b.high, "low": b.low, "close": b.close,
             "volume": b.volume, "close_human": str(m.format_price(b.close)),
             "volume_human": str(m.format_quantity(b.volume))} for b in bars]
    out.show(data, [(iso(b.time), m.format_price(b.open), m.format_price(b.high), m.format_price(b.low),
                     m.format_price(b.close), m.format_quantity(b.volume)) for b in bars],
             ("time (UTC)", "open", "high", "low", "close", "volume"))


COMMANDS = {"markets": cmd_markets, "ticker": cmd_ticker, "depth": cmd_depth, "trades": cmd_trades, "bars": cmd_bars}
