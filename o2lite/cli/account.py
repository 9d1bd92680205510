"""Command-line commands about who you are: key files, wallets, the account, balances, orders,
fills and PnL. The account comes from ``--key-file`` (or ``O2LITE_KEY_FILE``)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any, Dict, Optional, Union

from .. import Client, EvmWallet, Trader, Wallet
from .output import Output, fixed, iso, owner_text, price_places
from ..errors import O2Error, ValidationError
from ..market import format_units
from ..dry_run import DryRunTrader
from ..plans import Planner

__all__ = ["load_key", "trader_of", "session_path", "COMMANDS"]

KEY_FILE_SHAPE = 'a key file is JSON like {"kind": "fuel", "private_key": "0x…64 hex…", "address": "0x…"} ' \
                 "(make one with `o2lite wallet new --out FILE`)"


def load_key(path: Optional[str]) -> Wallet:
    """A wallet from a key file written by ``wallet new``/``wallet import``, with clear errors."""
    if not path:
        raise ValidationError("this command needs your key: pass --key-file FILE or set O2LITE_KEY_FILE")
    try:
        with open(path) as handle:
            data = json.loads(handle.read(1 << 16))
    except FileNotFoundError:
        raise ValidationError(f"no key file at {path}: {KEY_FILE_SHAPE}") from None
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path} is not a readable key file ({type(exc).__name__}): {KEY_FILE_SHAPE}") from None
    if not isinstance(data, dict) or not isinstance(data.get("private_key"), str):
        raise ValidationError(f"{path} has no private_key: {KEY_FILE_SHAPE}")
    cls = EvmWallet if data.get("kind") == "evm" else Wallet
    try:
        return cls(data["private_key"])
    except ValidationError as exc:
        raise ValidationError(f"{path}: {exc.message}: {KEY_FILE_SHAPE}") from None


def session_path(key_file: str) -> str:
    """Where the session of a key file is kept (``<key file>.session.json``, mode 0600)."""
    return key_file + ".session.json"


def trader_of(client: Client, args: argparse.Namespace, *,
              with_session: bool = False) -> Union[Trader, DryRunTrader]:
    """The Trader of ``--key-file`` (a DryRunTrader with ``--dry-run``); with its saved session
    when ``with_session``."""
    wallet = load_key(args.key_file)
    trader: Union[Trader, DryRunTrader]
    trader = DryRunTrader(client, wallet) if getattr(args, "dry_run", False) else Trader(client, wallet)
    if with_session:
        _load_session(trader, args.key_file)
    return trader


def _load_session(trader: Planner, key_file: str) -> None:
    path = session_path(key_file)
    if not os.path.exists(path):
        raise ValidationError(f"no session for this key: run `o2lite session open --key-file {key_file} "
                              "--markets PAIR` first")
    trader.load_session(path)


def _write_private(path: str, data: Dict[str, Any]) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ValidationError(f"{path} exists already: choose another --out (keys are never overwritten)") from None
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)


def cmd_wallet_new(client: Optional[Client], args: argparse.Namespace, out: Output) -> None:
    """Make a key file (mode 0600); prints the address only."""
    wallet = (EvmWallet if args.evm else Wallet).generate()
    _save_wallet(wallet, args, out)


def _save_wallet(wallet: Wallet, args: argparse.Namespace, out: Output) -> None:
    kind = "evm" if isinstance(wallet, EvmWallet) else "fuel"
    _write_private(args.out, {"kind": kind, "private_key": wallet.private_key_hex(), "address": wallet.address})
    out.show({"address": wallet.address, "kind": kind, "key_file": args.out},
             [(owner_text(wallet.address), kind, args.out)], ("address", "kind", "key file (mode 0600)"))


def cmd_wallet_import(client: Optional[Client], args: argparse.Namespace, out: Output) -> None:
    """Import a private key read from stdin (never from the command line: it would be in your history)."""
    secret = getpass.getpass("private key (hidden): ") if sys.stdin.isatty() else sys.stdin.readline()
    wallet = (EvmWallet if args.evm else Wallet)(secret.strip())
    _save_wallet(wallet, args, out)


def cmd_wallet_show(client: Optional[Client], args: argparse.Namespace, out: Output) -> None:
    """The address of a key file (never the key)."""
    wallet = load_key(args.key_file)
    kind = "evm" if isinstance(wallet, EvmWallet) else "fuel"
    extra = {"evm_address": wallet.evm_address} if isinstance(wallet, EvmWallet) else {}
    out.show(dict({"address": wallet.address, "kind": kind}, **extra), [(owner_text(wallet.address), kind)], ("address", "kind"))


def cmd_account(client: Client, args: argparse.Namespace, out: Output) -> None:
    """The trade account of ``--key-file`` (or of ``--owner``)."""
    owner = args.owner or load_key(args.key_file).address
    account = client.accounts.get(owner=owner)
    if not account.exists:
        raise O2Error(f"no trade account for owner {owner}: run `o2lite setup --key-file FILE` first")
    session = account.session
    data = {"trade_account_id": account.trade_account_id, "owner": owner, "nonce": account.nonce,
            "session": None if session is None else {"address": session.session_id, "expiry": session.expiry,
                                                     "expiry_iso": iso(session.expiry * 1000),
                                                     "contract_ids": list(session.contract_ids)}}
    out.show(data, [(out.id(account.trade_account_id), account.nonce, out.id(session.session_id) if session else "-",
                     iso(session.expiry * 1000) if session else "-")], ("trade account", "nonce", "session", "expires"))


def cmd_balance(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Balances of ``--key-file``'s account (or ``--account`` / ``--address``), every asset."""
    if args.address:
        target = {"address": args.address}
    else:
        target = {"contract": args.account or trader_of(client, args)._account()}
    assets: Dict[str, Any] = {}
    for m in client.markets.list():
        assets.setdefault(m.base.symbol, m.base)
        assets.setdefault(m.quote.symbol, m.quote)
    balances = {symbol: client.accounts.balance(a.asset, **target) for symbol, a in assets.items()}
    data = {s: {"asset_id": assets[s].asset, "locked": b.total_locked, "unlocked": b.total_unlocked, "total": b.total,
                "locked_human": str(format_units(b.total_locked, assets[s].decimals)),
                "unlocked_human": str(format_units(b.total_unlocked, assets[s].decimals)),
                "total_human": str(format_units(b.total, assets[s].decimals))} for s, b in balances.items()}
    out.show(data, [(s, d["locked_human"], d["unlocked_human"], d["total_human"]) for s, d in data.items()],
             ("asset", "locked", "unlocked", "total"))


def order_json(o: Any) -> Dict[str, Any]:
    """An order with chain integers, human strings and ISO time."""
    data = {"order_id": o.order_id, "market_id": o.market_id, "side": o.side, "order_type": o.order_type,
            "state": o.state, "price": o.price, "quantity": o.quantity, "quantity_fill": o.quantity_fill,
            "timestamp": o.timestamp, "time": iso(o.timestamp)}
    if o.market is not None:
        data.update(price_human=str(o.price_human), quantity_human=str(o.quantity_human),
                    filled_human=str(o.filled_human))
    return data


def cmd_orders(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Orders of ``--key-file``'s account (or ``--account``) in a market."""
    m = client.markets.get(args.pair)
    account = args.account or trader_of(client, args)._account()
    orders = list(client.orders.iter_orders(m, account, is_open=True if args.open else None, max_items=args.limit))
    out.show([order_json(o) for o in orders],
             [(out.id(o.order_id), o.side, fixed(o.price_human, price_places(m)), o.quantity_human, o.filled_human,
               o.state, iso(o.timestamp)) for o in orders], ("order", "side", "price", "quantity", "filled", "state", "time (UTC)"))


def cmd_fills(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Your own trades (side, role, price, quantity, fee), newest first."""
    trader = trader_of(client, args)
    fills = trader.fills(args.pair, since=args.since)[:args.limit]
    data = [{"trade_id": f.trade_id, "market": f.market.pair, "side": f.side, "role": f.role, "price": f.price,
             "quantity": f.quantity, "fee": f.fee, "fee_estimated": f.fee_estimated, "price_human": str(f.price_human),
             "quantity_human": str(f.quantity_human), "fee_human": f"{f.fee_human} {f.fee_asset}",
             "timestamp": f.timestamp, "time": iso(f.timestamp)} for f in fills]
    out.show(data, [(iso(f.timestamp), f.market.pair, f.side, f.role, fixed(f.price_human, price_places(f.market)),
                     f.quantity_human, f"{f.fee_human} {f.fee_asset}" + ("*" if f.fee_estimated else ""))
                    for f in fills], ("time (UTC)", "market", "side", "role", "price", "quantity", "fee"))
    if not out.as_json and any(f.fee_estimated for f in fills):
        print("* fee estimated from the market's fee rate: the exchange did not state it")


def cmd_pnl(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Realised PnL by average cost in a market."""
    result = trader_of(client, args).pnl(args.pair, since=args.since)
    human = result.human()
    data = {"market": human["market"], "position": result.position, "average_entry": result.average_entry,
            "realised": result.realised, "fees": result.fees, "net": result.net, "fills": result.fills,
            "human": {k: str(v) for k, v in human.items()}}
    quote = result.market.quote.symbol
    out.show(data, [(human["market"], human["position"], human["average_entry"], f"{human['realised']} {quote}",
                     f"{human['fees']} {quote}", f"{human['net']} {quote}", result.fills)],
             ("market", "position", "avg entry", "realised", "fees", "net", "fills"))


COMMANDS = {"wallet new": cmd_wallet_new, "wallet import": cmd_wallet_import, "wallet show": cmd_wallet_show,
            "account": cmd_account, "balance": cmd_balance, "orders": cmd_orders, "fills": cmd_fills, "pnl": cmd_pnl}
