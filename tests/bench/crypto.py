"""Medians of the crypto core's hot paths (not a test; run: python tests/bench/crypto.py).

Targets on the project's machine kind (CPython 3.11, 2 cores): keccak256 one block ≤ 80 µs;
sign_digest ≤ 0.6 ms and within 10% of python-ecdsa's sign_digest_deterministic; a whole
5-action batch (calls + signing bytes + signature) ≤ 1.0 ms; packing one nonce ≤ 10 µs.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
os.environ.setdefault("O2LITE_PURE_SIGNING", "1")  # measure the pure path unless told otherwise

import ecdsa  # noqa: E402
from ecdsa.util import sigencode_string  # noqa: E402

from o2lite import actions, encoding, nonce, signing  # noqa: E402
from o2lite.keccak import keccak256  # noqa: E402

KEY = bytes.fromhex("35cf2cdf3dba218e0559fae92c3c889de910a51a2bdb65c6098eacd743455aff")
MARKET = {"contract_id": "0x" + "c1" * 32, "market_id": "0x" + "a1" * 32,
          "base": {"symbol": "FUEL", "asset": "0x" + "b1" * 32, "decimals": 9, "max_precision": 3},
          "quote": {"symbol": "USDC", "asset": "0x" + "d1" * 32, "decimals": 6, "max_precision": 6}}
ACTIONS = [{"CreateOrder": {"side": "Buy" if i % 2 else "Sell", "price": str(1_000 + i), "quantity": str(10**9 * (i + 1)),
                            "order_type": "Spot"}} for i in range(4)] + [
    {"CancelOrder": {"order_id": "0x" + "0e" * 32}}]


def median_us(fn, repeat: int, inner: int = 1) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples) * 1e6


def main() -> None:
    digest = hashlib.sha256(b"o2lite").digest()
    block = os.urandom(135)  # one permutation
    sk = ecdsa.SigningKey.from_string(KEY, curve=ecdsa.SECP256k1)

    def batch() -> bytes:
        calls = [actions.action_to_call(a, MARKET, "0x" + "e2" * 32) for a in ACTIONS]
        return signing.raw_sign(KEY, encoding.actions_signing_bytes(42, calls))

    calls = [actions.action_to_call(a, MARKET, "0x" + "e2" * 32) for a in ACTIONS]
    batch_bytes = encoding.actions_signing_bytes(42, calls)
    rows = [
        ("keccak256, one 136-byte block", median_us(lambda: keccak256(block), 30, 50), 80),
        ("sign_digest (o2lite, pure)", median_us(lambda: signing.sign_digest(KEY, digest), 30, 20), 600),
        ("python-ecdsa sign_digest_deterministic", median_us(
            lambda: sk.sign_digest_deterministic(digest, hashfunc=hashlib.sha256, sigencode=sigencode_string), 30, 20), None),
        ("raw_sign of a 5-action batch's bytes", median_us(lambda: signing.raw_sign(KEY, batch_bytes), 30, 20), None),
        ("5-action batch: calls + bytes + signature", median_us(batch, 30, 20), 1000),
        ("pack one parallel nonce", median_us(lambda: nonce.pack_parallel_nonce(3, 1_800_000_000, 12345, 77), 30, 2000), 10),
    ]
    issuer = nonce.ParallelNonceIssuer(0)
    rows.append(("ParallelNonceIssuer.issue", median_us(issuer.issue, 30, 30), 10))
    print(f"python {sys.version.split()[0]}, backend {'pure' if os.environ.get('O2LITE_PURE_SIGNING') else 'auto'}")
    for name, value, target in rows:
        verdict = "" if target is None else ("  ok" if value <= target else f"  over target {target} µs")
        print(f"{name:45s} {value:9.1f} µs{verdict}")
    ratio = rows[1][1] / rows[2][1]
    print(f"{'sign_digest / python-ecdsa':45s} {ratio:9.2f} x{'  ok' if ratio <= 1.10 else '  over 1.10'}")


if __name__ == "__main__":
    main()
