"""``python -m o2lite …`` / ``o2lite …``: the client from a shell.

Global options go anywhere on the line: ``--url`` or ``--network`` (else ``O2LITE_URL`` /
``O2LITE_NETWORK``, else testnet), ``--key-file`` (else ``O2LITE_KEY_FILE``), ``--json``,
``--wide``, ``--timeout``. Human output is tables in human units with ISO-8601 UTC times;
``--json`` prints chain integers and human strings. Every error is one line on stderr (a JSON
object with ``--json``) and exits 1; usage errors exit 2, with a suggestion for a typo.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import warnings
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence, Tuple

from .. import Client, __version__
from .account import COMMANDS as ACCOUNT_COMMANDS
from .bridge import COMMANDS as BRIDGE_COMMANDS, NO_EXCHANGE as BRIDGE_NO_EXCHANGE, add_commands as add_bridge_commands
from .market import COMMANDS as MARKET_COMMANDS
from .output import Output, error_line
from .trading import COMMANDS as TRADING_COMMANDS, DRY_RUN_COMMANDS, parse_since
from .triggers import COMMANDS as TRIGGER_COMMANDS, add_trigger_parsers
from .watch import COMMANDS as WATCH_COMMANDS
from ..errors import BatchIncomplete, O2Error
from ..transport import NETWORKS
from .demo import run as run_demo
from .examples import epilog

__all__ = ["main", "build_parser"]

COMMANDS: Dict[str, Callable[..., None]] = {**MARKET_COMMANDS, **ACCOUNT_COMMANDS, **TRADING_COMMANDS,
                                            **TRIGGER_COMMANDS, **WATCH_COMMANDS,
                                            **BRIDGE_COMMANDS}  # triggers own "order place"
OFFLINE = {"wallet new", "wallet import", "wallet show", "session close", "sandbox", "demo"} | BRIDGE_NO_EXCHANGE


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and "did you mean" suggestions for typos."""

    def error(self, message: str) -> NoReturn:
        choices = _choices_in(message)
        if choices:
            word, options = choices
            close = difflib.get_close_matches(word, options, n=1)
            if close:
                message += f" — did you mean {close[0]!r}?"
        self.exit(2, f"{self.prog}: usage error: {message} (see `{self.prog} --help`)\n")


def _choices_in(message: str) -> Optional[Tuple[str, List[str]]]:
    if "invalid choice: '" in message and "(choose from" in message:
        word = message.split("invalid choice: '", 1)[1].split("'", 1)[0]
        options = [o.strip(" '\")") for o in message.split("(choose from", 1)[1].split(",")]
        return word, options
    return None


def _common(shown: bool = True) -> argparse.ArgumentParser:
    """The global options, accepted before or after the command (values default to SUPPRESS so
    a later position never resets an earlier one). ``shown=False``: the same options, left out
    of a command's help (they are described once, in ``o2lite --help``)."""
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("global options")

    def say(text: str) -> str:
        return text if shown else argparse.SUPPRESS

    g.add_argument("--network", choices=sorted(NETWORKS), default=argparse.SUPPRESS,
                   help=say("mainnet, testnet or devnet (env O2LITE_NETWORK; default testnet)"))
    g.add_argument("--url", default=argparse.SUPPRESS, metavar="URL",
                   help=say("a base URL instead, e.g. http://127.0.0.1:8080 (env O2LITE_URL)"))
    g.add_argument("--key-file", default=argparse.SUPPRESS, metavar="FILE",
                   help=say("your key file (env O2LITE_KEY_FILE)"))
    g.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                   help=say("machine-readable output: chain integers and human strings"))
    g.add_argument("--wide", action="store_true", default=argparse.SUPPRESS, help=say("full ids in tables"))
    g.add_argument("--timeout", type=float, default=argparse.SUPPRESS, metavar="SECONDS",
                   help=say("read timeout in seconds (default 30)"))
    g.add_argument("--dry-run", action="store_true", default=argparse.SUPPRESS,
                   help=say("signing commands: print the explained request instead of sending it"))
    return common


def _seconds(text: str) -> float:
    """A non-negative number of seconds (an argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seconds, e.g. 60; got {text[:20]!r}") from None
    if not 0 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"seconds from 0 to 86400; got {text[:20]}")
    return value


MAX_HOURS = 24 * 366 * 10  # bars look back at most ten years


def _hours(text: str) -> float:
    """How far back, in hours: more than 0, at most :data:`MAX_HOURS` (an argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"hours, e.g. 6 or 0.5; got {text[:20]!r}") from None
    if not 0 < value <= MAX_HOURS:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"hours above 0, at most {MAX_HOURS} (ten years); got {text[:20]}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every command and option)."""
    common, hidden = _common(), _common(shown=False)
    p = Parser(prog="o2lite", description="The O2 Exchange from the command line", parents=[common],
               epilog="example:\n  o2lite sandbox &  then  o2lite --url http://127.0.0.1:8080 markets\n\n"
                      "`o2lite COMMAND --help` shows a command's options and an example.",
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"o2lite {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    def add(parent: Any, name: str, key: str, help_text: str) -> argparse.ArgumentParser:
        cmd = parent.add_parser(name, help=help_text, description=help_text, parents=[hidden], epilog=epilog(key),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.set_defaults(key=key)
        return cmd  # type: ignore[no-any-return]  # argparse's add_parser is untyped

    def group(name: str, help_text: str) -> Any:
        return sub.add_parser(name, help=help_text).add_subparsers(dest=f"{name}_command", required=True,
                                                                    metavar="ACTION", parser_class=Parser)

    add(sub, "markets", "markets", "list markets")
    for name, text in (("ticker", "a market's ticker"), ("depth", "order book depth"), ("trades", "recent trades"),
                       ("bars", "candles")):
        cmd = add(sub, name, name, text)
        cmd.add_argument("pair", help="the market, e.g. FUEL/USDC")
        if name == "depth":
            cmd.add_argument("--precision", type=int, default=1, metavar="LEVEL",
                             help="price grouping level 1–18 (the exchange's 10^LEVEL; default 1)")
            cmd.add_argument("--limit", type=int, default=10, metavar="N", help="levels per side (default 10)")
        if name == "trades":
            cmd.add_argument("--limit", type=int, default=50, metavar="N", help="trades to show (default 50)")
            cmd.add_argument("--mine", action="store_true", help="only your trades (needs --key-file)")
        if name == "bars":
            cmd.add_argument("--resolution", default="1h", metavar="RES",
                             help="candle length: 1s 1m 5m 15m 30m 1h 4h 1d 1w … (default 1h)")
            cmd.add_argument("--hours", type=_hours, default=24.0, metavar="H", help="how far back, in hours (default 24)")
    account = add(sub, "account", "account", "your trade account (--key-file, or --owner)")
    account.add_argument("--owner", metavar="ADDRESS", help="an owner address instead of --key-file")
    balance = add(sub, "balance", "balance", "balances (--key-file, or --account / --address)")
    target = balance.add_mutually_exclusive_group()
    target.add_argument("--account", metavar="ID", help="a trade account id instead of --key-file")
    target.add_argument("--address", metavar="ADDRESS", help="a wallet address instead of --key-file")
    orders = add(sub, "orders", "orders", "your orders in a market")
    orders.add_argument("pair", help="the market, e.g. FUEL/USDC")
    orders.add_argument("--account", metavar="ID", help="a trade account id instead of --key-file")
    orders.add_argument("--open", action="store_true", help="only open orders")
    orders.add_argument("--limit", type=int, default=200, metavar="N", help="orders to show (default 200)")
    for name, text in (("fills", "your trades: side, role, price, quantity, fee"),
                       ("pnl", "realised PnL by average cost")):
        cmd = add(sub, name, name, text)
        cmd.add_argument("pair", nargs="?" if name == "fills" else None, default=None,
                         help="the market, e.g. FUEL/USDC" + (" (default: every market)" if name == "fills" else ""))
        cmd.add_argument("--since", type=parse_since, metavar="WHEN",
                         help="from a date or time (2026-12-01, 2026-12-01T08:00; UTC), a duration back "
                              "from now (1d, 12h) or Unix ms")
        if name == "fills":
            cmd.add_argument("--limit", type=int, default=100, metavar="N", help="fills to show (default 100)")

    wallet = group("wallet", "keys")
    for action, text in (("new", "make a key file (mode 0600); prints the address only"),
                         ("import", "save a private key read from stdin as a key file"),
                         ("show", "the address of --key-file")):
        cmd = add(wallet, action, f"wallet {action}", text)
        if action != "show":
            cmd.add_argument("--evm", action="store_true", help="an EVM owner key")
            cmd.add_argument("--out", required=True, metavar="FILE", help="the key file to write (never overwritten)")

    add(sub, "setup", "setup", "find or create the trade account").add_argument(
        "--fund", action="store_true", help="mint test tokens (a cooling-down faucet is not an error)")
    session = group("session", "sessions")
    opened = add(session, "open", "session open", "open a session for markets")
    opened.add_argument("--markets", required=True, metavar="PAIRS", help="comma separated, e.g. FUEL/USDC,ETH/USDC")
    opened.add_argument("--parallel", action="store_true", help="parallel nonces for its actions")
    opened.add_argument("--lane", type=int, default=0, metavar="0-4",
                        help="which parallel-nonce lane (nonce_session_id) its actions use (default 0)")
    opened.add_argument("--expiry", default="1d", help="how long it lives: 30m, 12h, 7d … (default 1d)")
    add(session, "show", "session show", "the saved session")
    add(session, "close", "session close", "forget the saved session key")

    order = group("order", "orders")
    place = add(order, "place", "order place", "place an order (human price and quantity)")
    place.add_argument("pair", help="the market, e.g. FUEL/USDC")
    place.add_argument("side", type=str.capitalize, choices=["Buy", "Sell"], help="buy or sell")
    place.add_argument("price", help="in quote units per base unit, e.g. 0.0120 (USDC per FUEL)")
    place.add_argument("quantity", help="in base units, e.g. 1000 (FUEL)")
    place.add_argument("--type", default="Spot", choices=["Spot", "Market", "Limit", "FillOrKill", "PostOnly",
                                                          "BoundedMarket"],
                       metavar="TYPE", help="Spot (default: rests on the book), Market, Limit, FillOrKill, "
                                            "PostOnly or BoundedMarket (with --max-price/--min-price)")
    place.add_argument("--max-price", metavar="PRICE", help="BoundedMarket: the highest price to take (quote units)")
    place.add_argument("--min-price", metavar="PRICE", help="BoundedMarket: the lowest price to take (quote units)")
    place.add_argument("--round", action="store_true", help="round a too-fine price/quantity down")
    cancel = add(order, "cancel", "order cancel", "cancel an order (id or unique prefix)")
    cancel.add_argument("pair", help="the market, e.g. FUEL/USDC")
    cancel.add_argument("order_id", help="the order id, or a unique prefix of it (as tables show it)")
    add(order, "cancel-all", "order cancel-all", "cancel every open order in a market").add_argument(
        "pair", help="the market, e.g. FUEL/USDC")
    add_trigger_parsers(order, place, add)
    add(sub, "settle", "settle", "settle a market's unlocked funds").add_argument("pair", help="the market, e.g. FUEL/USDC")
    withdraw = add(sub, "withdraw", "withdraw", "withdraw to the owner or --to")
    withdraw.add_argument("asset", help="a symbol (USDC) or an asset id")
    withdraw.add_argument("amount", help="in the asset's units, e.g. 25.5")
    withdraw.add_argument("--to", metavar="ADDRESS", help="destination address (default: the owner)")
    withdraw.add_argument("--parallel", action="store_true", help="use a parallel nonce (a typed signature)")

    watch = group("watch", "live streams")
    for name in ("depth", "trades", "orders", "balances"):
        cmd = add(watch, name, f"watch {name}", f"live {name}")
        if name in ("depth", "trades"):
            cmd.add_argument("pair", help="the market, e.g. FUEL/USDC")
        if name == "depth":
            cmd.add_argument("--levels", type=int, default=10, metavar="N", help="levels per side shown (default 10)")
            cmd.add_argument("--precision", type=int, default=1, metavar="LEVEL",
                             help="price grouping level 1–18 (default 1)")
        cmd.add_argument("--count", type=int, default=0, metavar="N", help="stop after N events (default: never)")

    add_bridge_commands(group, add)

    check = add(sub, "check", "check", "rebuild a request body's signed bytes and find the wrong field (after a 4000)")
    check.add_argument("file", help="the JSON body that was sent")
    check.add_argument("--owner", metavar="ADDRESS", help="the owner address (O2-Owner-Id) for owner operations")
    sandbox = add(sub, "sandbox", "sandbox", "serve a local sandbox exchange")
    sandbox.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8080, help="the port to listen on (default 8080; 0: any free)")
    sandbox.add_argument("--state", metavar="FILE", help="JSON state file (survives restarts)")
    sandbox.add_argument("--no-rate-limits", action="store_true",
                         help="do not enforce the exchange's rate limits (on by default, as on the exchange)")
    sandbox.add_argument("--faucet-cooldown", type=_seconds, default=60.0, metavar="SECONDS",
                         help="seconds between two faucet mints to one account (default 60)")
    sandbox.add_argument("--verbose", action="store_true", help="log every request")
    add(sub, "demo", "demo", "run the offline demo against an embedded sandbox")
    return p


def _known_options(parser: argparse.ArgumentParser) -> List[str]:
    out = list(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                out += _known_options(child)
    return sorted(set(out))


def _check_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """An unknown ``--option`` is named (with a suggestion) before positional parsing goes astray."""
    known = _known_options(parser)
    for token in argv:
        if token == "--":
            return
        name = token.split("=", 1)[0]
        if name.startswith("--") and name not in known and not any(k.startswith(name) for k in known):
            close = difflib.get_close_matches(name, known, n=1)
            parser.error(f"unknown option {name}" + (f" — did you mean {close[0]}?" if close else ""))


def _settings(args: argparse.Namespace) -> None:
    """Fill in the global options from the environment and defaults."""
    args.json = getattr(args, "json", False)
    args.wide = getattr(args, "wide", False)
    args.dry_run = getattr(args, "dry_run", False)
    args.timeout = getattr(args, "timeout", 30.0)
    args.key_file = getattr(args, "key_file", None) or os.environ.get("O2LITE_KEY_FILE") or None
    url = getattr(args, "url", None)
    network = getattr(args, "network", None)
    if url and network:
        raise O2Error("give --url or --network, not both")
    args.target = url or network or os.environ.get("O2LITE_URL") or os.environ.get("O2LITE_NETWORK") or "testnet"


def _show_warning(out: Output) -> Callable[..., None]:
    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        out.error(str(message), kind="warning")
    return show


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    _check_options(parser, argv)
    args = parser.parse_args(argv)
    out = Output(bool(getattr(args, "json", False)), bool(getattr(args, "wide", False)))
    warnings.showwarning = _show_warning(out)
    target = ""
    try:
        _settings(args)
        target = args.target
        if args.dry_run and args.key not in DRY_RUN_COMMANDS | {"bridge deposit", "bridge withdraw"}:
            out.error(f"--dry-run changes nothing for `{args.key}`: it signs nothing", kind="note")
        if args.key == "sandbox":
            return _sandbox(args)
        if args.key == "demo":
            return run_demo()
        if args.key in OFFLINE:
            COMMANDS[args.key](None, args, out)
            return 0
        with Client(target, timeout=(5.0, args.timeout)) as client:
            target = client.transport.base_url
            COMMANDS[args.key](client, args, out)
        return 0
    except BatchIncomplete as exc:
        out.error(error_line(exc.cause or exc, target))
        return 1
    except (O2Error, OSError, ValueError) as exc:
        out.error(error_line(exc, target))
        return 1
    except KeyboardInterrupt:
        return 130


def _sandbox(args: argparse.Namespace) -> int:
    from ..sandbox import Sandbox

    if not 0 <= args.port <= 65535:
        raise O2Error(f"--port must be 0–65535, got {args.port}")
    try:
        sandbox = Sandbox(args.host, args.port, state=args.state, rate_limits=not args.no_rate_limits,
                          faucet_cooldown=args.faucet_cooldown, verbose=args.verbose)
    except ValueError as exc:  # a state file or an option the sandbox refuses: it says which
        raise O2Error(str(exc)) from None
    except OSError as exc:
        raise O2Error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    print(f"o2lite sandbox on {sandbox.url} (faucet: {sandbox.url}/faucet, streams: ws on the same port); "
          "Ctrl-C stops", flush=True)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0
