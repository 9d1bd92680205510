"""Parallel nonces: many threads placing orders at once, no nonce collisions.

With sequential nonces every order waits for the previous one (one counter per account). With
parallel nonces each request carries its own slot of a bitmap window, so threads do not queue
on a nonce. They still share the owner's rate limit (5 requests in any second): o2lite paces
them, so none is refused. The session is registered the proven way (sequential), its actions
then use parallel nonces.
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
parser.add_argument("--threads", type=int, default=4)
parser.add_argument("--orders", type=int, default=5, help="orders per thread")
args = parser.parse_args()

with contextlib.ExitStack() as stack:
    client = stack.enter_context(o2lite.Client(args.network or args.url or stack.enter_context(Sandbox()).url))
    trader = client.trader(o2lite.Wallet.generate())
    account = trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"], nonce_kind="parallel")

    def worker(index: int) -> None:
        for n in range(args.orders):
            price = f"0.01{10 + index}"  # a different price per thread: resting buys
            trader.place("FUEL/USDC", "Buy", price, str(100 + n), settle_first=False)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    placed = len(trader.open_orders("FUEL/USDC"))
    print(f"{placed} orders from {args.threads} threads in {elapsed:.2f} s")
    window = client.accounts.nonce_window(account, 0)
    used = sum(bin(bitmap).count("1") for bitmap in window.bitmaps.values())
    print(f"lane 0 window: {used} parallel nonces consumed, each exactly once")
    trader.cancel_all("FUEL/USDC")
