"""Command-line trigger orders (PROTOCOL §14): take-profit and stop-loss on ``order place``, a
standalone trigger, an OCO pair, the active orders with their triggers, cancelling triggers.

``order place … --take-profit P --stop-loss P [--slippage-bps N]`` attaches the legs (this
module's ``order place`` handles the command and passes a plain order on to
:func:`o2lite.cli.trading.cmd_order_place`). Every signing command explains itself with
``--dry-run``; prices floored to the tick and quantities fitted are reported as warnings.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from .. import Client
from ..dry_run import DryRunTrader
from ..errors import ValidationError
from ..models import TxResult
from ..signed import SignedRequest
from ..trigger_models import TriggerOrder
from ..triggers import TriggerSpec
from .account import order_json, trader_of
from .output import Output, iso
from .trading import cmd_order_place as cmd_plain_order_place, run_bulk, show_prepared

__all__ = ["COMMANDS", "add_trigger_parsers"]


def add_trigger_parsers(order: Any, place: argparse.ArgumentParser,
                        add: Callable[[Any, str, str, str], argparse.ArgumentParser]) -> None:
    """The trigger options of ``order place`` and the trigger commands of the ``order`` group."""
    place.add_argument("--take-profit", metavar="PRICE", help="attach a take-profit that fires at PRICE (the "
                                                              "closing side, the order's quantity)")
    place.add_argument("--stop-loss", metavar="PRICE", help="attach a stop-loss that fires at PRICE")
    place.add_argument("--slippage-bps", type=int, metavar="N", help="triggers execute as market orders bounded "
                                                                     "N basis points either side (default: market)")
    trigger = add(order, "trigger", "order trigger", "a standalone trigger: an entry stop, or protection of --parent")
    trigger.add_argument("pair", help="the market, e.g. FUEL/USDC")
    trigger.add_argument("side", type=str.capitalize, choices=["Buy", "Sell"], help="buy or sell")
    trigger.add_argument("trigger_price", help="the price that fires it (quote units, e.g. 0.0110)")
    trigger.add_argument("quantity", nargs="?", help="omit with --parent to inherit the parent's quantity")
    oco = add(order, "oco", "order oco", "two triggers where one firing cancels the other")
    oco.add_argument("pair", help="the market, e.g. FUEL/USDC")
    oco.add_argument("side", type=str.capitalize, choices=["Buy", "Sell"], help="buy or sell")
    oco.add_argument("first_price", help="one trigger price (quote units)")
    oco.add_argument("second_price", help="the other trigger price (quote units)")
    oco.add_argument("quantity", nargs="?", help="omit with --parent to inherit the parent's quantity")
    for cmd in (trigger, oco):
        cmd.add_argument("--parent", metavar="ORDER_ID", help="protect this resting order of yours")
        cmd.add_argument("--slippage-bps", type=int, metavar="N", help="execute as a market order bounded N bps")
    trigger.add_argument("--limit-price", metavar="PRICE", help="execute as a limit order at PRICE (quote units)")
    active = add(order, "active", "order active", "your resting orders with their triggers, and standalone triggers")
    active.add_argument("pair", help="the market, e.g. FUEL/USDC")
    active.add_argument("--account", metavar="ID", help="a trade account id instead of --key-file")
    cancel = add(order, "cancel-trigger", "order cancel-trigger", "cancel one trigger (id or unique prefix)")
    cancel.add_argument("pair", help="the market, e.g. FUEL/USDC")
    cancel.add_argument("trigger_id", help="the trigger id, or a unique prefix (as `order active` shows it)")
    add(order, "cancel-triggers", "order cancel-triggers", "cancel every trigger of yours in a market").add_argument(
        "pair", help="the market, e.g. FUEL/USDC")


def _shown(out: Output, result: Union[TxResult, SignedRequest]) -> None:
    """A dry run's prepared request, or what a Trader's request did."""
    if isinstance(result, SignedRequest):
        show_prepared(out, [result])
    else:
        _show_tx(out, result)


def _show_tx(out: Output, result: Any) -> None:
    out.show({"tx_id": result.tx_id, "orders": [order_json(o) for o in result.orders]},
             [(out.id(o.order_id), o.side, o.price_human, o.quantity_human, o.filled_human, o.state)
              for o in result.orders] or [(out.id(result.tx_id), "triggers placed")],
             ("order", "side", "price", "quantity", "filled", "state") if result.orders else ("tx", "result"))


def cmd_order_place(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Place one order; with ``--take-profit``/``--stop-loss`` the legs are attached to it."""
    if args.take_profit is None and args.stop_loss is None:
        if args.slippage_bps is not None:
            raise ValidationError("--slippage-bps applies to --take-profit / --stop-loss")
        cmd_plain_order_place(client, args, out)
        return
    trader = trader_of(client, args, with_session=True)
    result = trader.place_with_triggers(args.pair, args.side, args.price, args.quantity, args.type,
                                        take_profit=args.take_profit, stop_loss=args.stop_loss,
                                        slippage_bps=args.slippage_bps, max_price=args.max_price,
                                        min_price=args.min_price)
    _shown(out, result)


def cmd_order_trigger(client: Client, args: argparse.Namespace, out: Output) -> None:
    """A standalone trigger (entry stop, or protection of ``--parent``)."""
    trader = trader_of(client, args, with_session=True)
    spec = TriggerSpec(args.trigger_price, limit_price=args.limit_price, slippage_bps=args.slippage_bps)
    result = trader.place_trigger(args.pair, args.side, spec, args.quantity, parent=args.parent)
    _shown(out, result)


def cmd_order_oco(client: Client, args: argparse.Namespace, out: Output) -> None:
    """An OCO pair of triggers."""
    trader = trader_of(client, args, with_session=True)
    result = trader.place_oco(args.pair, args.side, args.first_price, args.second_price, args.quantity,
                              parent=args.parent, slippage_bps=args.slippage_bps)
    _shown(out, result)


def _trigger_json(t: TriggerOrder, parent: Optional[str] = None) -> Dict[str, Any]:
    data = {"trigger_id": t.order_id, "side": t.side, "order_type": t.order_type, "trigger_price": t.trigger_price,
            "quantity": t.quantity, "status": t.status, "parent_order_id": t.parent_order_id or parent,
            "sibling_order": t.sibling_order, "timestamp": t.timestamp}
    if t.market is not None:
        data["trigger_price_human"] = str(t.trigger_price_human)
    return data


def cmd_order_active(client: Client, args: argparse.Namespace, out: Output) -> None:
    """``GET /v1/orders/active``: resting orders, each followed by its triggers, then standalone
    triggers; the time column only with ``--wide`` (the table fits 80 columns without it)."""
    account = args.account or trader_of(client, args)._account()
    page = client.orders.active(args.pair, account)
    m = client.markets.get(args.pair)

    def trigger_row(t: TriggerOrder, indent: str) -> Any:
        return (indent + out.id(t.order_id), "trigger", t.side, t.trigger_price_human,
                "(inherits)" if t.quantity is None else m.format_quantity(t.quantity), t.status or "-",
                iso(t.timestamp) if t.timestamp else "-")

    rows: List[Any] = []
    for entry in page.orders:
        o = entry.order
        rows.append((out.id(o.order_id), "order", o.side, o.price_human, o.quantity_human, "-", iso(o.timestamp)))
        rows += [trigger_row(t, "  └ ") for t in entry.triggers]
    rows += [trigger_row(t, "") for t in page.standalone]
    data = {"orders": [dict(order_json(e.order), triggers=[_trigger_json(t) for t in e.triggers]) for e in page.orders],
            "standalone_triggers": [_trigger_json(t) for t in page.standalone]}
    headers: Tuple[str, ...] = ("id", "kind", "side", "price / trigger", "quantity", "status", "time (UTC)")
    if not out.wide:  # 80 columns: the time is shown with --wide (and in --json)
        rows, headers = [row[:-1] for row in rows], headers[:-1]
    out.show(data, rows, headers)


def cmd_order_cancel_trigger(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Cancel one trigger by id or a unique prefix of one of your active triggers."""
    trader = trader_of(client, args, with_session=True)
    raw = args.trigger_id.strip().lower()
    raw = (raw[2:] if raw.startswith("0x") else raw).rstrip("…").rstrip(".")
    if not raw or any(c not in "0123456789abcdef" for c in raw):
        raise ValidationError(f"a trigger id is hex (a prefix is enough), got {args.trigger_id[:20]!r}")
    matches = [t.order_id for t in trader.active_orders(args.pair).triggers if t.order_id[2:].startswith(raw)]
    if len(matches) != 1:
        raise ValidationError(f"{args.trigger_id[:20]} matches {len(matches)} active triggers of yours"
                              + (": give more digits" if matches else ""))
    result = trader.cancel_trigger(matches[0], args.pair)
    if isinstance(result, SignedRequest):
        show_prepared(out, [result])
        return
    out.show({"tx_id": result.tx_id, "cancelled": matches[0]}, [(out.id(matches[0]), out.id(result.tx_id))],
             ("cancelled trigger", "tx"))


def cmd_order_cancel_triggers(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Cancel every active trigger of yours in a market, five per request."""
    run_bulk(out, trader_of(client, args, with_session=True), lambda trader: trader.cancel_all_triggers(args.pair),
             "(no active triggers)")


COMMANDS = {"order place": cmd_order_place, "order trigger": cmd_order_trigger, "order oco": cmd_order_oco,
            "order active": cmd_order_active, "order cancel-trigger": cmd_order_cancel_trigger,
            "order cancel-triggers": cmd_order_cancel_triggers}
