"""Sandbox CPU per signed order (not a test; run: python tests/bench/sandbox.py [--orders N]).

Signed order bodies are made first (their signing is not measured), then fed to
``Exchange.handle`` in this process: the figure is the sandbox's own work per order — parsing,
rebuilding the signing bytes, checking the signature, nonce, matching and the answer.
Three verification paths are compared on the pure backend:

- ``recover every time`` — what the sandbox did before: public-key recovery per request;
- ``cached key`` — the key recovered once, then ``u1·G + u2·Q`` with fixed-base tables;
- ``coincurve`` — when installed.

Then the same bodies from 8 threads (the exchange lock is no longer held during verification).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
os.environ.setdefault("O2LITE_PURE_SIGNING", "1")

import responses  # noqa: E402

import o2lite  # noqa: E402
from o2lite.sandbox import Exchange  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from tests.exchange_mock import SANDBOX, ExchangeMock  # noqa: E402


def signed_bodies(exchange: Exchange, count: int):
    """``count`` signed single-order bodies (parallel nonces) for one funded trader."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        ExchangeMock(rsps, exchange)
        with o2lite.Client(SANDBOX) as client:
            trader = client.trader(o2lite.Wallet.generate())
            trader.setup_account(fund=True)
            session = trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
            issuer = trader.nonces.issuer(0)
            issuer.resync(trader.nonces._fetcher(0))
            bodies = []
            for i in range(count):
                side, price = ("Buy", "0.0110") if i % 2 else ("Sell", "0.0140")
                action = trader.create_order_action("FUEL/USDC", side, price, "10")
                prepared = client.session.prepare_actions(session, [{"market_id": "FUEL/USDC", "actions": [action]}])
                bodies.append(client.session.signed_actions(session, prepared, nonce=o2lite.Nonce.parallel(issuer.issue().value)))
            return trader.owner.address, bodies


def run(count: int, threads: int, mode: str) -> float:
    exchange = Exchange()
    owner, bodies = signed_bodies(exchange, count)
    headers = {"O2-Owner-Id": owner}
    if mode == "recover":
        exchange.verifier._keys.clear()
    chunks = [bodies[i::threads] for i in range(threads)]

    def work(chunk):
        for body in chunk:
            status, answer, _ = exchange.handle("POST", "/v1/session/actions", {}, headers, body)
            assert status == 200, answer
            if mode == "recover":
                exchange.verifier._keys.clear()

    cpu, wall = time.process_time(), time.perf_counter()
    pool = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{mode:22s} {threads} thread(s): {cpu / count * 1000:6.3f} ms CPU per order, {count / wall:7.0f} orders/s")
    return cpu / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=400)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, pure signing backend, {args.orders} orders per run")
    run(args.orders, 1, "recover")
    run(args.orders, 1, "cached key")
    run(args.orders, 8, "cached key")
    try:
        import coincurve  # noqa: F401

        os.environ["O2LITE_PURE_SIGNING"] = "0"
        run(args.orders, 1, "coincurve")
    except ImportError:
        print("coincurve not installed: its row is skipped")


if __name__ == "__main__":
    main()
