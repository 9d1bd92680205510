"""``o2lite watch depth|trades|orders|balances``: live streams on the command line.

``watch depth`` redraws the book in place when stdout is a terminal (at most ten times a
second); otherwise, and always with ``--json``, every event is one line (a JSON object with
``--json``). ``--count N`` stops after N events; Ctrl-C stops cleanly.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Dict

from .. import Client
from .account import order_json, trader_of
from .market import depth_json, depth_rows, trade_json
from .output import Output, iso, table
from ..streams.events import Reconnected
from ..market import format_units

__all__ = ["COMMANDS"]

_CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear screen
_REDRAW_EVERY = 0.1  # seconds


def _reconnected(out: Output, event: Reconnected) -> None:
    out.line({"event": "reconnected", "attempts": event.attempts, "at": iso(int(event.at * 1000))},
             f"-- reconnected after {event.attempts} attempt(s): events in between were lost --")


def _events(sub: Any, count: int) -> Any:
    seen = 0
    for event in sub:
        yield event
        seen += 1
        if count and seen >= count:
            return


def cmd_watch_depth(client: Client, args: argparse.Namespace, out: Output) -> None:
    """The live book of a market."""
    m = client.markets.get(args.pair)
    live = sys.stdout.isatty() and not out.as_json
    drawn = 0.0
    with client.stream() as stream:
        sub = stream.depth(m, precision=args.precision)
        for event in _events(sub, args.count):
            if isinstance(event, Reconnected):
                _reconnected(out, event)
                continue
            buys, sells = sub.book.levels(args.levels)
            if live:
                if time.monotonic() - drawn >= _REDRAW_EVERY:
                    drawn = time.monotonic()
                    spread = sub.book.spread
                    print(_CLEAR + f"{m.pair}  spread {m.format_price(spread) if spread is not None else '-'}  "
                          f"{iso(int(time.time() * 1000))}\n"
                          + table(depth_rows(m, buys, sells), ("bid size", "bid", "ask", "ask size")), flush=True)
            else:
                data: Dict[str, Any] = dict(depth_json(m, buys, sells), snapshot=event.snapshot)
                best = sub.book.best_bid, sub.book.best_ask
                out.line(data, f"{iso(int(time.time() * 1000))} bid "
                               f"{m.format_price(best[0].price) if best[0] else '-'} ask "
                               f"{m.format_price(best[1].price) if best[1] else '-'}")


def cmd_watch_trades(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Every trade of a market as it happens."""
    m = client.markets.get(args.pair)
    with client.stream() as stream:
        for t in _events(stream.trades(m), args.count):
            if isinstance(t, Reconnected):
                _reconnected(out, t)
                continue
            out.line(trade_json(m, t), f"{iso(t.timestamp)}  {t.side:4}  {m.format_price(t.price)}  "
                                       f"{m.format_quantity(t.quantity)} {m.base.symbol}")


def cmd_watch_orders(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Your orders as they change."""
    trader = trader_of(client, args)
    markets = client.markets.by_id()
    with client.stream() as stream:
        for o in _events(stream.orders(trader), args.count):
            if isinstance(o, Reconnected):
                _reconnected(out, o)
                continue
            o = o.in_market(markets[o.market_id]) if o.market_id in markets else o
            text = (f"{iso(o.timestamp)}  {out.id(o.order_id)}  {o.side:4}  {o.state:9}  "
                    + (f"{o.price_human} × {o.quantity_human} (filled {o.filled_human})" if o.market else ""))
            out.line(order_json(o), text)


def cmd_watch_balances(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Your balances as they change."""
    trader = trader_of(client, args)
    assets = {a.asset: a for a in trader.assets().values()}
    with client.stream() as stream:
        for b in _events(stream.balances(trader), args.count):
            if isinstance(b, Reconnected):
                _reconnected(out, b)
                continue
            asset = assets.get(b.asset_id or "")
            symbol, decimals = (asset.symbol, asset.decimals) if asset else (b.asset_id or "?", 0)
            total = b.total_locked + b.total_unlocked
            out.line({"asset": symbol, "asset_id": b.asset_id, "locked": b.total_locked, "unlocked": b.total_unlocked,
                      "total": total, "total_human": str(_units(total, decimals))},
                     f"{iso(int(time.time() * 1000))}  {symbol:6} total {_units(total, decimals)}  "
                     f"(locked {_units(b.total_locked, decimals)})")


def _units(amount: int, decimals: int) -> Any:
    return format_units(amount, decimals)


COMMANDS = {"watch depth": cmd_watch_depth, "watch trades": cmd_watch_trades, "watch orders": cmd_watch_orders,
            "watch balances": cmd_watch_balances}
