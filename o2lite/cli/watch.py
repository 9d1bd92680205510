"""``o2lite watch depth|trades|orders|balances``: live streams on the command line.

``watch depth`` redraws the book in place when stdout is a terminal (at most ten times a
second); otherwise, and always with ``--json``, every event is one line (a JSON object with
``--json``). ``--count N`` stops after N events; Ctrl-C stops cleanly. A lost connection is
reported at once ("disconnected — retrying in N s", again before each attempt), and so is its
return. ``watch trades`` shows the taker's side, as trade tapes do (the API's ``side`` is the
maker's, PROTOCOL §5), and says so in a header line; ``--json`` keeps ``side`` and adds ``taker_side``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Dict, Iterator, Optional

from .. import Client
from .account import order_json, trader_of
from .market import depth_json, depth_rows, trade_json
from .output import Output, iso, table
from ..errors import StreamTimeout
from ..streams import Stream, Subscription
from ..streams.events import Reconnected
from ..market import format_units

__all__ = ["COMMANDS"]

_CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear screen
_REDRAW_EVERY = 0.1  # seconds
_LOOK_EVERY = 0.2  # seconds between looks at the connection while no event arrives


def _reconnected(out: Output, event: Reconnected) -> None:
    out.line({"event": "reconnected", "attempts": event.attempts, "gap": round(event.gap, 3),
              "at": iso(int(event.at * 1000))},
             f"-- reconnected after {event.attempts} attempt(s), {event.gap:.1f} s without a connection: "
             "events in between were lost --")


def _events(stream: Stream, sub: Subscription, count: int, out: Output) -> Iterator[Any]:
    """The events of ``sub`` (at most ``count``, notices aside; 0: no limit). While none arrives, each wait
    for a reconnect is announced once, as soon as it starts."""
    seen = 0
    announced: Optional[float] = None  # the last retry_in seen: a larger one is a new wait
    while not count or seen < count:
        try:
            event = sub.get(timeout=_LOOK_EVERY)
        except StreamTimeout:
            retry_in = stream.retry_in
            if retry_in is not None and (announced is None or retry_in > announced):
                out.line({"event": "disconnected", "retry_in": round(retry_in, 1)},
                         f"-- disconnected — retrying in {retry_in:.1f} s --")
            announced = retry_in
            continue
        if isinstance(event, Reconnected):
            announced = None  # back: the next wait is a new outage, however short (a busy stream
            # has no quiet look in between to clear the last one)
        seen += not isinstance(event, Reconnected)  # --count counts events, not notices
        yield event


def cmd_watch_depth(client: Client, args: argparse.Namespace, out: Output) -> None:
    """The live book of a market."""
    m = client.markets.get(args.pair)
    live = sys.stdout.isatty() and not out.as_json
    drawn = 0.0
    with client.stream() as stream:
        sub = stream.depth(m, precision=args.precision)
        for event in _events(stream, sub, args.count, out):
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
    """Every trade of a market as it happens, with the taker's side (as trade tapes show it)."""
    m = client.markets.get(args.pair)
    if not out.as_json:
        print(f"{'time':24}  {'taker':5}  price  quantity ({m.base.symbol})  — side: the taker's, as on a trade tape",
              flush=True)
    with client.stream() as stream:
        for t in _events(stream, stream.trades(m), args.count, out):
            if isinstance(t, Reconnected):
                _reconnected(out, t)
                continue
            taker = "Sell" if t.side == "Buy" else "Buy"  # the API's side is the maker's (PROTOCOL §5)
            out.line(dict(trade_json(m, t), taker_side=taker),
                     f"{iso(t.timestamp)}  {taker:5}  {m.format_price(t.price)}  "
                     f"{m.format_quantity(t.quantity)} {m.base.symbol}")


def cmd_watch_orders(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Your orders as they change."""
    trader = trader_of(client, args)
    markets = client.markets.by_id()
    with client.stream() as stream:
        for o in _events(stream, stream.orders(trader), args.count, out):
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
        for b in _events(stream, stream.balances(trader), args.count, out):
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
