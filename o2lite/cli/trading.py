"""Command-line commands that sign: setup, sessions, orders, settle, withdraw.

Every one of them takes ``--key-file`` (or ``O2LITE_KEY_FILE``); order ids may be given as any
unique prefix (as the tables show them); bulk commands are paced under the rate limits and, when
they stop part-way, say what landed and what did not.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, TypeVar, Union

from .. import Client
from .account import order_json, session_path, trader_of
from .output import Output, fixed, iso, iso_s, price_places
from ..dry_run import DryRunTrader
from ..errors import BatchIncomplete, O2Error, RateLimited, ValidationError
from ..plans import Plan, Planner
from ..signed import SignedRequest
from ..check import bodies_of, check_body
from ..trader import Trader

__all__ = ["COMMANDS", "DRY_RUN_COMMANDS", "parse_duration", "parse_since", "resolve_order_id"]

T = TypeVar("T")

_DURATION = re.compile(r"^\s*(\d{1,9})\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> int:
    """Seconds from ``90``, ``30m``, ``12h``, ``7d`` or ``2w``.

    >>> parse_duration("7d"), parse_duration("90")
    (604800, 90)
    """
    match = _DURATION.match(str(text))
    if not match:
        raise ValidationError(f"a duration is a number with s, m, h, d or w (e.g. 7d), got {str(text)[:20]!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_since(text: str, *, now: Optional[float] = None) -> int:
    """Unix ms from an ISO date or time (``2026-12-01``, ``2026-12-01T08:00``, UTC unless it
    says otherwise), a duration back from now (``90m``, ``1d``), or Unix ms as is.

    >>> parse_since("2026-12-01"), parse_since("1d", now=86_400.5)
    (1796083200000, 500)
    """
    raw = str(text).strip()
    if re.fullmatch(r"\d{11,}", raw):
        return int(raw)
    if _DURATION.match(raw) and raw[-1:] in _UNITS and raw[-1:]:
        return int(((time.time() if now is None else now) - parse_duration(raw)) * 1000)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--since takes a date (2026-12-01), a time (2026-12-01T08:00), "
                                         f"a duration back from now (1d, 90m) or Unix ms; got {raw[:30]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def resolve_order_id(trader: Planner, market: str, text: str) -> str:
    """A full order id from a full id or a unique prefix of one of your open orders."""
    raw = text.strip().lower()
    raw = raw[2:] if raw.startswith("0x") else raw
    raw = raw.rstrip("…").rstrip(".")
    if not re.fullmatch(r"[0-9a-f]{1,64}", raw):
        raise ValidationError(f"an order id is hex (a prefix is enough), got {text[:20]!r}")
    if len(raw) == 64:
        return "0x" + raw
    matches = [o.order_id for o in trader.open_orders(market) if o.order_id[2:].startswith(raw)]
    if not matches:
        raise ValidationError(f"no open order of yours starts with {text[:20]}")
    if len(matches) > 1:
        raise ValidationError(f"{text[:20]} matches {len(matches)} open orders: give more digits")
    return str(matches[0])


def show_prepared(out: Output, requests: List[SignedRequest]) -> None:
    """With ``--dry-run``: print the explained request(s) (``--json``: a list that ``o2lite check``
    reads back) instead of a result."""
    if out.as_json:
        out.show([prepared_json(r) for r in requests])
    elif not requests:
        print("nothing to send (dry run)")
    else:
        print("\n\n".join(r.explain() for r in requests) + "\n(dry run: nothing was sent)")


def send_or_show(out: Output, trader: Union[Trader, DryRunTrader], plan: Plan[T]) -> Optional[T]:
    """A Trader sends the plan (its result); a dry run prepares and shows it (``None``)."""
    if isinstance(trader, DryRunTrader):
        show_prepared(out, [trader.prepare(plan)])
        return None
    return trader.send(plan)


def prepared_json(request: SignedRequest) -> Dict[str, Any]:
    """A prepared request for ``--json``: body, named segments, digest and signature."""
    segments, offset = [], 0
    for seg in request.segments:
        segments.append({"offset": offset, "length": len(seg.data), "field": seg.name, "value": seg.value,
                         "hex": seg.data.hex()})
        offset += len(seg.data)
    return {"title": request.title, "method": request.method, "path": request.path, "headers": dict(request.headers),
            "body": request.body, "recipe": request.recipe, "segments": segments,
            "signing_bytes": request.signing_bytes.hex(), "digest": request.digest.hex(),
            "signature": {"r": f"{request.r:064x}", "s": f"{request.s:064x}", "recovery_id": request.recovery_id},
            "signer": request.signer, "nonce_kind": request.nonce.kind, "nonce": str(request.nonce.value)}


def cmd_setup(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Find or create the trade account; ``--fund`` mints test tokens unless the faucet is cooling down."""
    trader = trader_of(client, args)
    if isinstance(trader, DryRunTrader):
        prepared = trader.setup_account(fund=args.fund)
        if out.as_json:
            out.show({"owner": prepared.owner, "trade_account_id": prepared.trade_account_id, "dry_run": True,
                      "would_send": [{"method": m, "url": u, "body": b} for m, u, b in prepared.requests]})
        else:
            print(prepared.explain() + "\n(dry run: nothing was sent)")
        return
    account = trader.setup_account()
    note = ""
    if args.fund:
        try:
            client.faucet.mint_to_contract(account)
            note = "funded from the faucet"
        except (RateLimited, O2Error) as exc:
            if "cooldown" not in exc.message.lower() and not isinstance(exc, RateLimited):
                raise
            wait = re.search(r"(\d+) s(econds?)?\b", exc.message)
            note = "not funded: the faucet is cooling down" + (f" (try in {wait.group(1)} s)" if wait else "")
    out.show({"owner": trader.owner.address, "trade_account_id": account, "note": note},
             [(out.owner(trader.owner.address), out.id(account), note or "-")], ("owner", "trade account", "faucet"))


LATEST_EXPIRY = 2**32 - 1  # Unix seconds: the exchange takes a session expiry up to u32 (2106-02-07)


def cmd_session_open(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Open a session for markets (``--parallel`` for parallel nonces on its actions)."""
    trader = trader_of(client, args)
    expiry = int(time.time()) + parse_duration(args.expiry)
    if expiry > LATEST_EXPIRY:
        raise ValidationError(f"--expiry {args.expiry} ends after {iso_s(LATEST_EXPIRY)[:10]}, the latest expiry a "
                              "session can have: give a shorter one, e.g. 30d")
    plan = trader.plan_open_session([m.strip() for m in args.markets.split(",") if m.strip()], expiry=expiry,
                                    nonce_kind="parallel" if args.parallel else "sequential", lane=args.lane)
    session = send_or_show(out, trader, plan)
    if session is None:
        return
    trader.save_session(session_path(args.key_file))
    _show_session(out, session, client)


def _show_session(out: Output, session: Any, client: Client) -> None:
    pairs = [m.pair for m in client.markets.list() if m.contract_id in session.contract_ids]
    out.show({"session": session.address, "trade_account_id": session.trade_account_id, "expiry": session.expiry,
              "expiry_iso": iso(session.expiry * 1000), "markets": pairs, "nonce_kind": session.nonce_kind,
              "lane": session.lane},
             [(out.id(session.address), iso(session.expiry * 1000), ",".join(pairs), session.nonce_kind)],
             ("session", "expires (UTC)", "markets", "nonces"))


def cmd_session_show(client: Client, args: argparse.Namespace, out: Output) -> None:
    """The saved session of ``--key-file``."""
    _show_session(out, trader_of(client, args, with_session=True)._session(), client)


def cmd_session_close(client: Optional[Client], args: argparse.Namespace, out: Output) -> None:
    """Forget the saved session key, so nothing can sign with it any more. On the exchange the
    session stays registered until its expiry or until the next ``session open`` replaces it."""
    path = session_path(args.key_file or "")
    if not args.key_file or not os.path.exists(path):
        raise ValidationError("no saved session for this key file")
    os.unlink(path)
    out.show({"closed": path}, [(path, "deleted (the exchange forgets it at its expiry or the next session)")],
             ("session file", "state"))


def cmd_order_place(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Place one order (human price and quantity)."""
    trader = trader_of(client, args, with_session=True)
    result = send_or_show(out, trader, trader.plan_place(args.pair, args.side, args.price, args.quantity, args.type,
                                                         max_price=args.max_price, min_price=args.min_price,
                                                         round=args.round))
    if result is None:
        return
    out.show({"tx_id": result.tx_id, "orders": [order_json(o) for o in result.orders]},
             [(out.id(o.order_id), o.side, fixed(o.price_human, price_places(o.market)), o.quantity_human,
               o.filled_human, o.state) for o in result.orders], ("order", "side", "price", "quantity", "filled", "state"))


def cmd_order_cancel(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Cancel one order by id or unique prefix."""
    trader = trader_of(client, args, with_session=True)
    order_id = resolve_order_id(trader, args.pair, args.order_id)
    result = send_or_show(out, trader, trader.plan_cancel(order_id, args.pair))
    if result is None:
        return
    out.show({"tx_id": result.tx_id, "cancelled": order_id}, [(out.id(order_id), out.id(result.tx_id))],
             ("cancelled", "tx"))


def cmd_order_cancel_all(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Cancel every open order in a market, five per request, paced; reports partial progress."""
    run_bulk(out, trader_of(client, args, with_session=True), lambda trader: trader.cancel_all(args.pair),
             "(nothing open)")


def run_bulk(out: Output, trader: Union[Trader, DryRunTrader], send: Callable[[Any], Any], nothing: str) -> None:
    """A paced bulk command (``cancel-all``, ``cancel-triggers``): ``send(trader)`` runs it. A dry
    run shows the requests it would send; a partial stop says what landed, what may have landed
    and what was not sent, then raises; else one row per transaction (``nothing`` when none)."""
    if isinstance(trader, DryRunTrader):
        show_prepared(out, send(trader))
        return
    try:
        results = send(trader)
    except BatchIncomplete as exc:
        report_partial(out, exc)
        raise
    out.show({"tx_ids": [r.tx_id for r in results]}, [(out.id(r.tx_id),) for r in results] or [(nothing,)],
             ("tx",))


def report_partial(out: Output, exc: BatchIncomplete) -> None:
    """What a bulk command did before it stopped, in the three lists of :class:`BatchIncomplete`:
    landed, unknown (an answer lost: it may have landed) and not sent."""
    landed: List[Any] = [r.tx_id for r in exc.landed]
    unknown = "".join(f"1 request ({sum(len(g['actions']) for g in groups)} action(s)) unknown — it may have "
                      f"landed: reconcile nonce {error.nonce} before resending; " for groups, error in exc.unknown)
    not_sent = sum(sum(len(g["actions"]) for g in request) for request in exc.not_sent)
    out.error(f"{len(landed)} request(s) landed ({', '.join(out.id(t) for t in landed) or 'none'}); "
              f"{unknown}{not_sent} action(s) not sent", kind="partial")


def cmd_settle(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Settle a market's unlocked funds back to the trade account."""
    trader = trader_of(client, args, with_session=True)
    result = send_or_show(out, trader, trader.plan_settle(args.pair))
    if result is None:
        return
    out.show({"tx_id": result.tx_id}, [(out.id(result.tx_id),)], ("tx",))


def cmd_withdraw(client: Client, args: argparse.Namespace, out: Output) -> None:
    """Withdraw to the owner or ``--to`` (human amount)."""
    trader = trader_of(client, args)
    to = {"Address": args.to} if args.to else None
    plan = trader.plan_withdraw(args.asset, args.amount, to, nonce_kind="parallel" if args.parallel else "sequential")
    result = send_or_show(out, trader, plan)
    if result is None:
        return
    out.show({"tx_id": result.tx_id, "asset": args.asset, "amount": args.amount},
             [(out.id(result.tx_id), args.amount, args.asset)], ("tx", "amount", "asset"))


def cmd_check(client: Optional[Client], args: argparse.Namespace, out: Output) -> None:
    """Rebuild a request body's signing bytes, recover its signer, name what is wrong. The file
    holds a body, or what ``--dry-run --json`` writes (its owner taken from the header)."""
    try:
        with open(args.file) as handle:
            text = handle.read(1 << 20)
    except OSError as exc:
        raise ValidationError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    try:
        bodies = bodies_of(text)
    except ValueError as exc:
        raise ValidationError(f"{args.file} is not JSON: {exc}") from None
    reports = [check_body(body, owner=args.owner or owner, client=client) for body, owner in bodies]
    if out.as_json:
        shown = [{"kind": r.kind, "ok": r.ok, "problems": r.problems, "signer": r.signer, "expected": r.expected}
                 for r in reports]
        out.show(shown[0] if len(shown) == 1 else shown)
    else:
        print("\n\n".join(r.explain() for r in reports))
    problems = sum(len(r.problems) for r in reports)
    if problems:
        raise O2Error(f"{problems} problem(s) in {args.file}")


#: The commands that sign, which ``--dry-run`` prepares instead of sending.
DRY_RUN_COMMANDS = frozenset({"setup", "session open", "order place", "order cancel", "order cancel-all", "settle",
                              "withdraw", "order trigger", "order oco", "order cancel-trigger",
                              "order cancel-triggers"})
COMMANDS = {"check": cmd_check, "setup": cmd_setup, "session open": cmd_session_open, "session show": cmd_session_show,
            "session close": cmd_session_close, "order place": cmd_order_place, "order cancel": cmd_order_cancel,
            "order cancel-all": cmd_order_cancel_all, "settle": cmd_settle, "withdraw": cmd_withdraw}
