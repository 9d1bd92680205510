"""What the order benches share: alternating orders placed from many threads at once."""

from __future__ import annotations

import threading
from typing import Any, Callable, List


def on_threads(threads: int, work: Callable[[int], None]) -> None:
    """``work(i)`` on ``threads`` threads at once, ``i`` = 0 … threads − 1; returns when all end."""
    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def place_orders(trader: Any, threads: int, per_thread: int) -> List[Exception]:
    """``per_thread`` FUEL/USDC orders from each of ``threads`` threads, buys and sells
    alternating (apart in price, so nothing fills); returns the failures."""
    errors: List[Exception] = []

    def work(i: int) -> None:
        for j in range(per_thread):
            side, price = ("Buy", "0.0110") if (i + j) % 2 else ("Sell", "0.0140")
            try:
                trader.place("FUEL/USDC", side, price, "10", settle_first=False)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(exc)

    on_threads(threads, work)
    return errors
