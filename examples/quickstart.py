"""Quickstart: a new key, a trade account, a session, one order, its cancellation.

Runs against a sandbox exchange embedded in this script; `--network testnet` (or `--url URL`)
runs the same steps against a real network instead (a fresh key, funded by the faucet).
"""
import argparse
import contextlib
import os

import o2lite
from o2lite.sandbox import Sandbox

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--network", help="testnet or devnet instead")
parser.add_argument("--url", default=os.environ.get("O2LITE_URL"),
                    help="an O2 base URL, e.g. a sandbox you started (env O2LITE_URL; default: embedded)")
args = parser.parse_args()

with contextlib.ExitStack() as stack:
    # Where to trade: a network, a URL, or a throw-away local exchange.
    target = args.network or args.url or stack.enter_context(Sandbox()).url
    client = stack.enter_context(o2lite.Client(target))

    # 1. An owner key. Keep it secret: it can withdraw everything (o2lite never prints it).
    owner = o2lite.Wallet.generate()
    print("owner address:", owner.address)

    # 2. A trade account: the on-chain contract that holds your funds; test tokens from the faucet.
    trader = client.trader(owner)
    print("trade account:", trader.setup_account(fund=True))

    # 3. A session: a short-lived key the owner signs once, allowed to trade FUEL/USDC only.
    session = trader.open_session(["FUEL/USDC"])
    print("session key:  ", session.address)

    # 4. An order in human units. o2lite scales it to chain integers, checks the market's rules,
    #    signs it with the session key and sends exactly what it signed.
    order = trader.place("FUEL/USDC", "Buy", "0.0120", "100").orders[0]
    print(f"placed: {order.side} {order.quantity_human} FUEL @ {order.price_human} USDC ({order.state})")

    # 5. Cancel it, and look at what is left.
    trader.cancel(order)
    print("open orders after cancelling:", len(trader.open_orders("FUEL/USDC")))
    print("USDC balance:", trader.balances()["USDC"].total_human)
