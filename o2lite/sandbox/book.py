"""The sandbox's ledger and order books: funds, orders, price–time matching, with undo.

A batch of actions is atomic on the exchange: if one action reverts, none took effect. Every
mutation here goes through :class:`Journal`, which remembers how to undo it, so a failed batch
is rolled back exactly (the nonce, consumed on chain even by a revert, is handled outside).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple


class Revert(Exception):
    """An action failed on chain: the whole batch is undone (the nonce stays consumed)."""


class Journal:
    """Undo log for one batch."""

    def __init__(self) -> None:
        self._undo: List[Callable[[], None]] = []

    def record(self, undo: Callable[[], None]) -> None:
        """Remember how to undo one change."""
        self._undo.append(undo)

    def rollback(self) -> None:
        """Undo every recorded change, newest first."""
        while self._undo:
            self._undo.pop()()

    def commit(self) -> None:
        """Forget the recorded changes (the batch succeeded)."""
        self._undo.clear()


class Ledger:
    """Balances keyed by ``(account, bucket)``: bucket ``("wallet", asset)`` is the trade
    account's own balance; ``("locked"|"unlocked"|"fee", book, asset)`` live in a book."""

    def __init__(self) -> None:
        self.funds: Dict[Tuple[str, Tuple[Any, ...]], int] = {}

    def get(self, account: str, bucket: Tuple[Any, ...]) -> int:
        """The balance of one bucket (0 when empty)."""
        return self.funds.get((account, bucket), 0)

    def add(self, journal: Optional[Journal], account: str, bucket: Tuple[Any, ...], delta: int) -> None:
        """Change a bucket by ``delta``; going below zero reverts."""
        key = (account, bucket)
        old = self.funds.get(key, 0)
        if old + delta < 0:
            raise Revert(f"insufficient funds: {bucket[0]} {old} < {-delta}")
        self.funds[key] = old + delta
        if journal is not None:
            journal.record(lambda: self.funds.__setitem__(key, old))

    def move(self, journal: Optional[Journal], src: Tuple[str, Tuple[Any, ...]], dst: Tuple[str, Tuple[Any, ...]], amount: int) -> None:
        """Move ``amount`` from one bucket to another."""
        if amount:
            self.add(journal, src[0], src[1], -amount)
            self.add(journal, dst[0], dst[1], amount)


@dataclass
class Order:
    """A resting or finished order (chain integers)."""

    order_id: str
    market_id: str
    account: str
    side: str
    order_type: Any
    price: int
    quantity: int
    timestamp: int
    seq: int
    filled: int = 0
    fill_value: int = 0  # quote paid/received so far (for the average fill price)
    locked: int = 0  # what is still locked for this order in the book
    close: bool = False
    cancel: bool = False

    @property
    def remaining(self) -> int:
        """Quantity not filled yet."""
        return self.quantity - self.filled

    def to_json(self, base_decimals: int) -> Dict[str, Any]:
        """The order as the exchange's ``Order`` JSON."""
        price_fill = self.fill_value * 10**base_decimals // self.filled if self.filled else 0
        return {"order_id": self.order_id, "market_id": self.market_id, "side": self.side,
                "order_type": self.order_type, "price": str(self.price), "price_fill": str(price_fill),
                "quantity": str(self.quantity), "quantity_fill": str(self.filled), "timestamp": str(self.timestamp),
                "close": self.close, "partially_filled": 0 < self.filled < self.quantity, "cancel": self.cancel,
                "owner": {"ContractId": self.account}}


@dataclass
class Book:
    """One market's resting orders, best first. Keys sort bids by (-price, seq), asks by (price, seq)."""

    market_id: str
    bids: List[Tuple[int, int, Order]] = field(default_factory=list)
    asks: List[Tuple[int, int, Order]] = field(default_factory=list)

    def side_list(self, side: str) -> List[Tuple[int, int, Order]]:
        """The resting orders of one side, best first."""
        return self.bids if side == "Buy" else self.asks

    @staticmethod
    def _key(order: Order) -> Tuple[int, int, Order]:
        return (-order.price if order.side == "Buy" else order.price, order.seq, order)

    def insert(self, journal: Optional[Journal], order: Order) -> None:
        """Rest an order at its price–time place: a binary search (``seq`` is unique, so the
        order object itself is never compared), then one C-level list insert."""
        entries = self.side_list(order.side)
        key = self._key(order)
        index = bisect.bisect_left(entries, key[:2])
        entries.insert(index, key)
        if journal is not None:
            journal.record(lambda: self.remove(None, order))

    def remove(self, journal: Optional[Journal], order: Order) -> None:
        """Take an order off the book (found by binary search)."""
        entries = self.side_list(order.side)
        key = self._key(order)
        index = bisect.bisect_left(entries, key[:2])
        if index < len(entries) and entries[index][2] is order:
            del entries[index]
            if journal is not None:
                journal.record(lambda: self.insert(None, order))

    def depth(self, side: str, precision: int) -> List[Tuple[int, int]]:
        """Aggregated levels of one side; prices bucketed to multiples of ``precision``
        (bids rounded down, asks rounded up), best first."""
        levels: Dict[int, int] = {}
        for _, _, order in self.side_list(side):
            price = order.price
            if precision > 1:
                price = (price // precision) * precision if side == "Buy" else -(-price // precision) * precision
            levels[price] = levels.get(price, 0) + order.remaining
        return sorted(levels.items(), key=lambda kv: -kv[0] if side == "Buy" else kv[0])


def set_attr(journal: Optional[Journal], obj: Any, name: str, value: Any) -> None:
    """``setattr`` with undo."""
    old = getattr(obj, name)
    setattr(obj, name, value)
    if journal is not None:
        journal.record(lambda: setattr(obj, name, old))
