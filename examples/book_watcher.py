"""Watch an order book live: a snapshot, then signed changes applied to a local copy.

`sub.book` is always the current book; after every update we print the best bid, best ask and
spread. In the embedded sandbox a trader places and cancels orders so the book moves.
"""
import argparse
import contextlib
import threading

import o2lite
from o2lite.sandbox import Sandbox

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--url", help="an O2 base URL (default: an embedded sandbox)")
parser.add_argument("--network", help="testnet or devnet instead")
parser.add_argument("--updates", type=int, default=5, help="stop after this many updates")
args = parser.parse_args()


def move_the_book(client: o2lite.Client) -> None:
    """Sandbox only: rest, take and cancel a few orders."""
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
    if not (args.url or args.network):
        threading.Thread(target=move_the_book, args=(client,), daemon=True).start()
    for seen, update in enumerate(depth, start=1):
        bid, ask = depth.book.best_bid, depth.book.best_ask
        kind = "snapshot" if getattr(update, "snapshot", False) else "update"
        print(f"{kind:8} bid {market.format_price(bid.price) if bid else '-':>8}  "
              f"ask {market.format_price(ask.price) if ask else '-':>8}  "
              f"levels {len(depth.book.buys)}/{len(depth.book.sells)}")
        if seen > args.updates:
            break
