"""A two-sided market maker: quote one tick inside the best bid and ask, requote on every fill.

It follows its own orders on the WebSocket stream (polling would work too: `trader.open_orders`).
In the embedded sandbox a second trader takes the quotes so that fills happen.
"""
import argparse
import contextlib

import o2lite
from o2lite.sandbox import Sandbox

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--url", help="an O2 base URL (default: an embedded sandbox)")
parser.add_argument("--network", help="testnet or devnet instead")
parser.add_argument("--fills", type=int, default=2, help="stop after this many requotes")
args = parser.parse_args()
SIZE = "500"  # FUEL per side

with contextlib.ExitStack() as stack:
    client = stack.enter_context(o2lite.Client(args.network or args.url or stack.enter_context(Sandbox()).url))
    maker = client.trader(o2lite.Wallet.generate())
    maker.setup_account(fund=True)
    maker.open_session(["FUEL/USDC"], nonce_kind="parallel")
    market = client.markets.get("FUEL/USDC")

    def quote() -> None:
        """Cancel our quotes, then bid and ask one price step inside the rest of the book."""
        maker.cancel_all(market)
        book = client.markets.depth(market, limit=1)
        bid = o2lite.Chain(book.buys[0].price + market.price_step)  # chain integers, exactly
        ask = o2lite.Chain(book.sells[0].price - market.price_step)
        maker.batch().place(market, "Buy", bid, SIZE).place(market, "Sell", ask, SIZE).send()
        print(f"quoting {market.format_price(bid)} / {market.format_price(ask)}")

    stream = stack.enter_context(client.stream())
    orders = stream.orders(maker)  # every change to our orders arrives here
    quote()
    if not (args.url or args.network):  # someone to trade with in the sandbox
        taker = client.trader(o2lite.Wallet.generate())
        taker.setup_account(fund=True)
        taker.open_session(["FUEL/USDC"])
    for _ in range(args.fills):
        if not (args.url or args.network):
            taker.place(market, "Buy", "0.0130", "100", "Market")  # lifts our ask, the best one
        while True:
            event = orders.get(timeout=30)  # raises a StreamError rather than waiting forever
            if isinstance(event, o2lite.models.Order) and event.quantity_fill > 0 and event.side == "Sell":
                print(f"filled: sold {market.format_quantity(event.quantity_fill)} FUEL")
                break
        quote()
    maker.cancel_all(market)
