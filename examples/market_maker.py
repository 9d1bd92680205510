"""A two-sided market maker: quote one tick inside the best bid and ask, requote on every fill.

It follows its own orders on the WebSocket stream (polling would work too: `trader.open_orders`).
A second trader of its own takes the quotes, so fills happen on any exchange — the embedded
sandbox, one you started (`o2lite sandbox`), or a test network.
"""
import argparse
import contextlib
import os

import o2lite
from o2lite.sandbox import Sandbox

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--url", default=os.environ.get("O2LITE_URL"),
                    help="an O2 base URL, e.g. a sandbox you started (env O2LITE_URL; default: embedded)")
parser.add_argument("--network", help="testnet or devnet instead")
parser.add_argument("--fills", type=int, default=2, help="stop after this many requotes")
parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a fill")
args = parser.parse_args()
SIZE = "500"  # FUEL per side

with contextlib.ExitStack() as stack:
    client = stack.enter_context(o2lite.Client(args.network or args.url or stack.enter_context(Sandbox()).url))
    maker, taker = client.trader(o2lite.Wallet.generate()), client.trader(o2lite.Wallet.generate())
    for trader in (maker, taker):
        trader.setup_account(fund=True)
        trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
    market = client.markets.get("FUEL/USDC")

    def quote() -> o2lite.models.Order:
        """Cancel our quotes, then bid and ask one price step inside the rest of the book."""
        maker.cancel_all(market)
        book = client.markets.depth(market, limit=1)
        bid = o2lite.Chain(book.buys[0].price + market.price_step)  # chain integers, exactly
        ask = o2lite.Chain(book.sells[0].price - market.price_step)
        (sent,) = maker.batch().place(market, "Buy", bid, SIZE).place(market, "Sell", ask, SIZE).send()
        print(f"quoting {market.format_price(bid)} / {market.format_price(ask)} USDC")
        return next(order for order in sent.orders if order.side == "Sell")

    stream = stack.enter_context(client.stream())
    orders = stream.orders(maker)  # every change to our orders arrives here
    stream.balances(maker).get(timeout=args.timeout)  # answered at once: both subscriptions are live

    def seen(order: o2lite.models.Order, filled: bool) -> None:
        """Wait for our order on the stream (placed, or filled); a StreamError after --timeout."""
        while True:
            event = orders.get(timeout=args.timeout)
            if isinstance(event, o2lite.models.Order) and event.order_id == order.order_id \
                    and (event.quantity_fill > 0 or not filled):
                return

    for _ in range(args.fills):
        ask = quote()
        seen(ask, filled=False)  # the stream has our quote: the subscription is live
        taker.place(market, "Buy", o2lite.Chain(ask.price), "100", "FillOrKill")  # lifts our ask
        seen(ask, filled=True)
        print(f"filled: sold 100 FUEL at {market.format_price(ask.price)} USDC")
    maker.cancel_all(market)
