"""``python -m o2lite …`` / ``o2lite …``: the client from a shell.

Human output is aligned tables with prices in human units; ``--json`` prints machine output.
Errors print one line on stderr and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, is_dataclass
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence

from . import Client, EvmWallet, Trader, Wallet, __version__
from .errors import O2Error
from .market import format_units

__all__ = ["main"]


def _table(rows: List[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     for r in cells)


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses without ``raw``, Decimals and big ints as strings."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items() if k != "raw"}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53):
        return str(value)
    return value


class Output:
    """Prints either a table (humans) or JSON (``--json``)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def show(self, data: Any, rows: Optional[List[Sequence[Any]]] = None, headers: Sequence[str] = ()) -> None:
        if self.as_json:
            print(json.dumps(_plain(data), indent=2))
        elif rows is not None:
            print(_table(rows, headers) if rows else "(none)")
        else:
            print(data)


# --- keys -------------------------------------------------------------------------------------

def _write_private(path: str, data: Dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)


def load_key(path: str) -> Wallet:
    """A wallet from a key file written by ``wallet new``."""
    with open(path) as handle:
        data = json.load(handle)
    cls = EvmWallet if data.get("kind") == "evm" else Wallet
    return cls(data["private_key"])


def _trader(client: Client, args: argparse.Namespace, *, with_session: bool = True) -> Trader:
    trader = Trader(client, load_key(args.key_file))
    session_file = args.key_file + ".session.json"
    if with_session:
        if not os.path.exists(session_file):
            raise O2Error(f"no session for this key: run `o2lite session open --key-file {args.key_file} …` first")
        trader.load_session(session_file)
    return trader


# --- commands ---------------------------------------------------------------------------------

def cmd_markets(client: Client, args: argparse.Namespace, out: Output) -> None:
    markets = client.markets.list()
    out.show(markets, [(m.pair, m.market_id[:18] + "…", m.base.decimals, m.quote.decimals,
                        format_units(m.min_order, m.quote.decimals)) for m in markets],
             ("pair", "market_id", "base dec", "quote dec", "min order"))


def cmd_ticker(client: Client, args: argparse.Namespace, out: Output) -> None:
    m = client.markets.get(args.pair)
    t = client.markets.ticker(m)
    fmt = lambda v: "-" if v is None else m.format_price(v)  # noqa: E731
    out.show(t, [(m.pair, fmt(t.last_price), fmt(t.high_24h), fmt(t.low_24h),
                  "-" if t.volume_24h is None else m.format_quantity(t.volume_24h))],
             ("pair", "last", "high 24h", "low 24h", "volume 24h"))


def cmd_depth(client: Client, args: argparse.Namespace, out: Output) -> None:
    m = client.markets.get(args.pair)
    d = client.markets.depth(m, precision=args.precision, limit=args.limit)
    rows = []
    for i in range(max(len(d.buys), len(d.sells))):
        bid = d.buys[i] if i < len(d.buys) else None
        ask = d.sells[i] if i < len(d.sells) else None
        rows.append((m.format_quantity(bid.quantity) if bid else "", m.format_price(bid.price) if bid else "",
                     m.format_price(ask.price) if ask else "", m.format_quantity(ask.quantity) if ask else ""))
    out.show(d, rows, ("bid size", "bid", "ask", "ask size"))


def cmd_trades(client: Client, args: argparse.Namespace, out: Output) -> None:
    m = client.markets.get(args.pair)
    trades = []
    for trade in client.markets.iter_trades(m, max_items=args.limit):
        trades.append(trade)
        if not out.as_json and len(trades) % 500 == 0:
            print(f"… {len(trades)} trades", file=sys.stderr)
    out.show(trades, [(t.timestamp, t.side, m.format_price(t.price), m.format_quantity(t.quantity)) for t in trades],
             ("timestamp ms", "maker side", "price", "quantity"))


def cmd_bars(client: Client, args: argparse.Namespace, out: Output) -> None:
    import time

    m = client.markets.get(args.pair)
    end = int(time.time() * 1000)
    bars = client.markets.bars(m, args.resolution, end - int(args.hours * 3600 * 1000), end)
    out.show(bars, [(b.time, m.format_price(b.open), m.format_price(b.high), m.format_price(b.low),
                     m.format_price(b.close), m.format_quantity(b.volume)) for b in bars],
             ("time ms", "open", "high", "low", "close", "volume"))


def cmd_account(client: Client, args: argparse.Namespace, out: Output) -> None:
    account = client.accounts.get(owner=args.owner)
    if not account.exists:
        raise O2Error(f"no trade account for owner {args.owner}")
    session = account.session
    out.show(account, [(account.trade_account_id, account.nonce, session.session_id if session else "-",
                        session.expiry if session else "-")], ("trade account", "nonce", "session", "expiry"))


def cmd_balance(client: Client, args: argparse.Namespace, out: Output) -> None:
    assets: Dict[str, Any] = {}
    for m in client.markets.list():
        assets.setdefault(m.base.symbol, m.base)
        assets.setdefault(m.quote.symbol, m.quote)
    target = {"contract": args.account} if args.account else {"address": args.address}
    balances = {symbol: client.accounts.balance(a.asset, **target) for symbol, a in assets.items()}
    out.show(balances, [(s, format_units(b.total_locked, assets[s].decimals),
                         format_units(b.total_unlocked, assets[s].decimals), format_units(b.total, assets[s].decimals))
                        for s, b in balances.items()], ("asset", "locked", "unlocked", "total"))


def cmd_orders(client: Client, args: argparse.Namespace, out: Output) -> None:
    m = client.markets.get(args.pair)
    orders = list(client.orders.iter_orders(m, args.account, is_open=True if args.open else None, max_items=args.limit))
    out.show(orders, [(o.order_id[:18] + "…", o.side, m.format_price(o.price), m.format_quantity(o.quantity),
                       m.format_quantity(o.quantity_fill), "open" if o.is_open else ("cancelled" if o.cancel else "closed"))
                      for o in orders], ("order", "side", "price", "quantity", "filled", "state"))


def cmd_wallet_new(client: Optional[Client], args: argparse.Namespace, out: Output) -> None:
    wallet = (EvmWallet if args.evm else Wallet).generate()
    _write_private(args.out, {"kind": "evm" if args.evm else "fuel", "private_key": wallet.private_key_hex(),
                              "address": wallet.address})
    out.show({"address": wallet.address, "key_file": args.out},
             [(wallet.address, args.out)], ("address", "key file (mode 0600)"))


def cmd_setup(client: Client, args: argparse.Namespace, out: Output) -> None:
    trader = _trader(client, args, with_session=False)
    account = trader.setup_account(fund=args.fund)
    out.show({"trade_account_id": account}, [(trader.owner.address, account)], ("owner", "trade account"))


def cmd_session_open(client: Client, args: argparse.Namespace, out: Output) -> None:
    trader = _trader(client, args, with_session=False)
    session = trader.open_session(args.markets.split(","), nonce_kind="parallel" if args.parallel else "sequential",
                                  lane=args.lane)
    trader.save_session(args.key_file + ".session.json")
    out.show({"session": session.address, "expiry": session.expiry},
             [(session.address, session.expiry, session.nonce_kind)], ("session", "expiry", "nonces"))


def _tx(out: Output, result: Any) -> None:
    out.show(result, [(result.tx_id, len(result.orders))], ("tx", "orders"))


def cmd_order_place(client: Client, args: argparse.Namespace, out: Output) -> None:
    trader = _trader(client, args)
    result = trader.place(args.pair, args.side, args.price, args.quantity, args.type, max_price=args.max_price,
                          min_price=args.min_price)
    m = client.markets.get(args.pair)
    out.show(result, [(o.order_id, o.side, m.format_price(o.price), m.format_quantity(o.quantity),
                       m.format_quantity(o.quantity_fill)) for o in result.orders],
             ("order", "side", "price", "quantity", "filled"))


def cmd_order_cancel(client: Client, args: argparse.Namespace, out: Output) -> None:
    _tx(out, _trader(client, args).cancel(args.order_id, args.pair))


def cmd_order_cancel_all(client: Client, args: argparse.Namespace, out: Output) -> None:
    results = _trader(client, args).cancel_all(args.pair)
    out.show(results, [(r.tx_id,) for r in results], ("tx",))


def cmd_settle(client: Client, args: argparse.Namespace, out: Output) -> None:
    _tx(out, _trader(client, args).settle(args.pair))


def cmd_withdraw(client: Client, args: argparse.Namespace, out: Output) -> None:
    trader = _trader(client, args, with_session=False)
    to = {"Address": args.to} if args.to else None
    _tx(out, trader.withdraw(args.asset, args.amount, to, nonce_kind="parallel" if args.parallel else "sequential"))


def cmd_sandbox(client: Optional[Client], args: argparse.Namespace, out: Output) -> None:
    from .sandbox import Sandbox

    sandbox = Sandbox(args.host, args.port, state=args.state, rate_limits=not args.no_rate_limits,
                      faucet_cooldown=args.faucet_cooldown, verbose=args.verbose)
    print(f"o2lite sandbox on {sandbox.url} (faucet: {sandbox.url}/faucet); Ctrl-C stops", flush=True)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


def cmd_demo(client: Optional[Client], args: argparse.Namespace, out: Output) -> None:
    from .demo import run

    run()


# --- parser -----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every command and option)."""
    p = argparse.ArgumentParser(prog="o2lite", description="O2 Exchange from the command line")
    p.add_argument("--version", action="version", version=f"o2lite {__version__}")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--network", default=os.environ.get("O2LITE_NETWORK", "testnet"),
                       choices=["mainnet", "testnet", "devnet"], help="default: testnet")
    where.add_argument("--url", help="a base URL instead, e.g. http://127.0.0.1:8080 (a sandbox)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeout", type=float, default=30.0, help="read timeout in seconds")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Any, help_text: str, parent: Any = sub, network: bool = True) -> argparse.ArgumentParser:
        cmd = parent.add_parser(name, help=help_text)
        cmd.set_defaults(fn=fn, needs_client=network)
        return cmd

    add("markets", cmd_markets, "list markets")
    for name, fn, text in (("ticker", cmd_ticker, "a market's ticker"), ("depth", cmd_depth, "order book depth"),
                           ("trades", cmd_trades, "recent trades"), ("bars", cmd_bars, "candles")):
        cmd = add(name, fn, text)
        cmd.add_argument("pair", help="e.g. FUEL/USDC")
        if name == "depth":
            cmd.add_argument("--precision", type=int, default=1, help="level 1–18")
            cmd.add_argument("--limit", type=int, default=10)
        if name == "trades":
            cmd.add_argument("--limit", type=int, default=50)
        if name == "bars":
            cmd.add_argument("--resolution", default="1h")
            cmd.add_argument("--hours", type=float, default=24)
    add("account", cmd_account, "an owner's trade account").add_argument("owner")
    bal = add("balance", cmd_balance, "balances of a trade account or address")
    target = bal.add_mutually_exclusive_group(required=True)
    target.add_argument("--account", help="trade account id")
    target.add_argument("--address", help="wallet address")
    orders = add("orders", cmd_orders, "orders of a trade account")
    orders.add_argument("pair")
    orders.add_argument("--account", required=True)
    orders.add_argument("--open", action="store_true", help="only open orders")
    orders.add_argument("--limit", type=int, default=200)

    wallet = sub.add_parser("wallet", help="keys").add_subparsers(dest="wallet_command", required=True, metavar="ACTION")
    new = add("new", cmd_wallet_new, "make a key file (mode 0600); prints the address only", wallet, network=False)
    new.add_argument("--evm", action="store_true", help="an EVM owner key")
    new.add_argument("--out", required=True)

    def keyed(cmd: argparse.ArgumentParser) -> argparse.ArgumentParser:
        cmd.add_argument("--key-file", required=True, help="from `o2lite wallet new`")
        return cmd

    keyed(add("setup", cmd_setup, "find or create the trade account")).add_argument("--fund", action="store_true")
    session = sub.add_parser("session", help="sessions").add_subparsers(dest="session_command", required=True,
                                                                         metavar="ACTION")
    opened = keyed(add("open", cmd_session_open, "open a session for markets", session))
    opened.add_argument("--markets", required=True, help="comma separated, e.g. FUEL/USDC,ETH/USDC")
    opened.add_argument("--parallel", action="store_true", help="use parallel nonces")
    opened.add_argument("--lane", type=int, default=0)
    order = sub.add_parser("order", help="orders").add_subparsers(dest="order_command", required=True, metavar="ACTION")
    place = keyed(add("place", cmd_order_place, "place an order", order))
    place.add_argument("pair")
    place.add_argument("side", choices=["buy", "sell", "Buy", "Sell"])
    place.add_argument("price")
    place.add_argument("quantity")
    place.add_argument("--type", default="Spot", choices=["Spot", "Market", "Limit", "FillOrKill", "PostOnly",
                                                          "BoundedMarket"])
    place.add_argument("--max-price")
    place.add_argument("--min-price")
    cancel = keyed(add("cancel", cmd_order_cancel, "cancel an order", order))
    cancel.add_argument("pair")
    cancel.add_argument("order_id")
    keyed(add("cancel-all", cmd_order_cancel_all, "cancel every open order in a market", order)).add_argument("pair")
    keyed(add("settle", cmd_settle, "settle a market's unlocked funds")).add_argument("pair")
    withdraw = keyed(add("withdraw", cmd_withdraw, "withdraw to the owner or --to"))
    withdraw.add_argument("asset")
    withdraw.add_argument("amount")
    withdraw.add_argument("--to", help="destination address (default: the owner)")
    withdraw.add_argument("--parallel", action="store_true")
    sandbox = add("sandbox", cmd_sandbox, "serve a local sandbox exchange", network=False)
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8080)
    sandbox.add_argument("--state", help="JSON state file (survives restarts)")
    sandbox.add_argument("--no-rate-limits", action="store_true")
    sandbox.add_argument("--faucet-cooldown", type=float, default=60.0)
    sandbox.add_argument("--verbose", action="store_true")
    add("demo", cmd_demo, "run the offline demo against an embedded sandbox", network=False)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = Output(args.json)
    try:
        if not args.needs_client:
            args.fn(None, args, out)
            return 0
        with Client(args.url or args.network, timeout=(5.0, args.timeout)) as client:
            args.fn(client, args, out)
        return 0
    except (O2Error, OSError, KeyError, ValueError) as exc:
        print(f"o2lite: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
