"""Saving and restoring the sandbox's state as JSON (written atomically: temp file + rename)."""

from __future__ import annotations

import json
import os
from typing import Any, Dict

from .._files import write_json_atomic
from .book import Order

VERSION = 1
_TEMP_PREFIX = ".o2lite-sandbox-"


def dump(ex: Any) -> Dict[str, Any]:
    """Everything that changes, as plain JSON (big integers as strings)."""
    return {
        "version": VERSION,
        "sequence": ex.sequence,
        "markets": ex.markets,
        "accounts": {aid: dict(a, windows={str(lane): {"base": str(w["base"]),
                                                       "bitmaps": {str(k): str(v) for k, v in w["bitmaps"].items()}}
                                           for lane, w in a["windows"].items()})
                     for aid, a in ex.accounts.items()},
        "wallets": {addr: {asset: str(v) for asset, v in held.items()} for addr, held in ex.wallets.items()},
        "funds": [[account, list(bucket), str(v)] for (account, bucket), v in ex.ledger.funds.items() if v],
        "orders": [dict(vars(o), price=str(o.price), quantity=str(o.quantity), filled=str(o.filled),
                        fill_value=str(o.fill_value), locked=str(o.locked)) for o in ex.orders.values()],
        "trades": ex.trades,
        "faucet_log": ex.faucet_log,
        "triggers": ex.triggers.dump(),
    }


class StateVersionError(ValueError):
    """A state file without this sandbox's state version (the message says which it has)."""


def load(ex: Any, data: Dict[str, Any]) -> None:
    """Replace ``ex``'s state with a :func:`dump`; the books are rebuilt from open orders."""
    if not isinstance(data, dict) or "version" not in data:
        raise StateVersionError("it has no state version")
    if data["version"] != VERSION:
        raise StateVersionError(f"it is state version {str(data['version'])[:20]}; this sandbox reads version {VERSION}")
    ex.sequence = int(data["sequence"])
    ex.markets = data["markets"]
    ex.by_market_id = {m["market_id"]: m for m in ex.markets}
    ex._specs = {}  # parsed Market objects of the replaced markets
    ex.accounts = {}
    for aid, a in data["accounts"].items():
        a["windows"] = {int(lane): {"base": int(w["base"]), "bitmaps": {int(k): int(v) for k, v in w["bitmaps"].items()}}
                        for lane, w in a["windows"].items()}
        ex.accounts[aid] = a
    ex.by_owner = {a["owner"]: aid for aid, a in ex.accounts.items()}
    ex.wallets = {addr: {asset: int(v) for asset, v in held.items()} for addr, held in data["wallets"].items()}
    ex.ledger.funds = {(account, tuple(bucket)): int(v) for account, bucket, v in data["funds"]}
    ex.orders = {}
    from .book import Book

    ex.books = {m["market_id"]: Book(m["market_id"]) for m in ex.markets}
    for raw in sorted(data["orders"], key=lambda o: o["seq"]):
        order = Order(**dict(raw, price=int(raw["price"]), quantity=int(raw["quantity"]), filled=int(raw["filled"]),
                             fill_value=int(raw["fill_value"]), locked=int(raw["locked"])))
        ex.orders[order.order_id] = order
        if not order.close:
            ex.books[order.market_id].insert(None, order)
    ex.trades = {m["market_id"]: list(data["trades"].get(m["market_id"], [])) for m in ex.markets}
    ex.faucet_log = dict(data["faucet_log"])
    ex.triggers.load(data.get("triggers"))  # absent from files written before trigger orders


def save_file(ex: Any, path: str) -> None:
    """Write :func:`dump` to ``path`` atomically."""
    write_json_atomic(path, dump(ex), prefix=_TEMP_PREFIX)


def remove_stale_temp_files(path: str) -> int:
    """Delete temp files a killed sandbox left beside ``path`` (our prefix only); how many."""
    directory = os.path.dirname(os.path.abspath(path))
    removed = 0
    for name in os.listdir(directory):
        if name.startswith(_TEMP_PREFIX):
            try:
                os.unlink(os.path.join(directory, name))
                removed += 1
            except OSError:
                pass
    return removed


def load_file(ex: Any, path: str) -> bool:
    """Load ``path`` into ``ex`` if it exists (after removing stale temp files); True when it did."""
    remove_stale_temp_files(path)
    if not os.path.exists(path):
        return False
    with open(path) as handle:
        load(ex, json.load(handle))
    return True
