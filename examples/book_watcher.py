"""Watch an order book live: a snapshot, then signed changes applied to a local copy.

`sub.book` is always the current book; after every update we print the best bid, best ask and
spread. A trader of our own places and cancels orders so the book moves; the watcher stops
after `--updates` updates or `--timeout` seconds, whichever comes first.
"""
import argparse
import contextlib
import os
import threading
import time

import o2lite
from o2lite.sandbox import Sandbox

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--url", default=os.environ.get("O2LITE_URL"),
                    help="an O2 base URL, e.g. a sandbox you started (env O2LITE_URL; default: embedded)")
parser.add_argument("--network", help="testnet or devnet instead")
parser.add_argument("--updates", type=int, default=5, help="stop after this many updates")
parser.add_argument("--timeout", type=float, default=20.0, help="stop after this many seconds")
args = parser.parse_args()


def move_the_book(client: o2lite.Client) -> None:
    """Rest and cancel a few orders of our own."""
    trader = client.trader(o2lite.Wallet.generate())
    trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"])
    for price in ("0.0124", "0.0123", "0.0122"):
        order = trader.place("FUEL/USDC", "Buy", price, "1000").orders[0]
        trader.cancel(order)


with contextlib.ExitStack() as stack:
    client = stack.enter_context(o2lite.Client(args.network or args.url or stack.enter_context(Sandbox()).url))
    market = client.markets.get("FUEL/USDC")
    stream = stack.enter_context(client.stream())
    depth = stream.depth(market)  # the first event is a snapshot, then changes
    mover = threading.Thread(target=move_the_book, args=(client,), daemon=True)
    mover.start()
    deadline = time.monotonic() + args.timeout
    for seen in range(args.updates + 1):
        try:
            update = depth.get(timeout=max(deadline - time.monotonic(), 0.001))
        except o2lite.errors.StreamError:
            print(f"no more updates after {args.timeout:g} s")
            break
        bid, ask = depth.book.best_bid, depth.book.best_ask
        kind = "snapshot" if getattr(update, "snapshot", False) else "update"
        print(f"{kind:8} bid {market.format_price(bid.price) if bid else '—':>8}  "
              f"ask {market.format_price(ask.price) if ask else '—':>8}  "
              f"levels {len(depth.book.buys)}/{len(depth.book.sells)}")
    # Our own trader finishes its orders before the client (and an embedded sandbox) closes.
    mover.join(max(deadline - time.monotonic(), 0.001))
