"""Dollar-cost averaging: buy a fixed amount of USDC's worth of FUEL at regular intervals.

Each round buys at the best ask with a bounded market order (never worse than 1 % above it),
then prints the average cost so far from your own fills (`trader.pnl`).
"""
import argparse
import contextlib
import os
import time
from decimal import Decimal

import o2lite
from o2lite.sandbox import Sandbox

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--url", default=os.environ.get("O2LITE_URL"),
                    help="an O2 base URL, e.g. a sandbox you started (env O2LITE_URL; default: embedded)")
parser.add_argument("--network", help="testnet or devnet instead")
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--every", type=float, default=0.2, help="seconds between rounds")
parser.add_argument("--spend", default="5", help="USDC per round")
args = parser.parse_args()

with contextlib.ExitStack() as stack:
    client = stack.enter_context(o2lite.Client(args.network or args.url or stack.enter_context(Sandbox()).url))
    trader = client.trader(o2lite.Wallet.generate())
    trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"])
    market = client.markets.get("FUEL/USDC")

    for round_number in range(1, args.rounds + 1):
        ask = market.format_price(client.markets.depth(market, limit=1).sells[0].price)
        quantity = (Decimal(args.spend) / ask).quantize(Decimal("1"))  # whole FUEL
        limit = (ask * Decimal("1.01")).quantize(Decimal("0.000001"))
        # BoundedMarket: takes what is offered inside [min_price, max_price], cancels the rest
        result = trader.place(market, "Buy", str(limit), str(quantity), "BoundedMarket",
                              max_price=str(limit), min_price="0.000001")
        filled = result.orders[0].filled_human
        print(f"round {round_number}: bought {filled} FUEL (best ask {ask})")
        time.sleep(args.every)

    report = trader.pnl(market).human()
    print(f"holding {report['position']} FUEL at an average {report['average_entry']} USDC; "
          f"fees {report['fees']} USDC")
