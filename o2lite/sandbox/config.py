"""The sandbox's fixed configuration: chain id, ids, the default markets, faucet and rate limits."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, Dict, Tuple

__all__ = ["CHAIN_ID", "DEFAULT_MARKETS", "FAUCET_AMOUNTS", "RATE_LIMITS", "named_id", "fresh_id", "market_entry"]

CHAIN_ID = 9889  # the sandbox's chain id: testnet's (0x26a1 = 9889)


def named_id(label: str) -> str:
    """A stable 32-byte id for a named sandbox object (markets, registries, the seeded maker)."""
    return "0x" + hashlib.sha256(b"o2lite-sandbox:" + label.encode()).hexdigest()


def fresh_id() -> str:
    """A random 32-byte id: transaction and order ids never repeat, even across restarts."""
    return "0x" + secrets.token_hex(32)


def market_entry(base: Tuple[str, int, int], quote: Tuple[str, int, int], min_order: int,
                 fees: Tuple[int, int] = (0, 0)) -> Dict[str, Any]:
    """One ``/v1/markets`` entry from ``(symbol, decimals, max_precision)`` of each asset."""
    pair = f"{base[0]}/{quote[0]}"
    return {"contract_id": named_id("book:" + pair), "market_id": named_id("market:" + pair),
            "maker_fee": str(fees[0]), "taker_fee": str(fees[1]), "min_order": str(min_order), "dust": "1000",
            "price_window": 0,
            "base": {"symbol": base[0], "asset": named_id("asset:" + base[0]), "decimals": base[1],
                     "max_precision": base[2]},
            "quote": {"symbol": quote[0], "asset": named_id("asset:" + quote[0]), "decimals": quote[1],
                      "max_precision": quote[2]}}


#: Two seeded markets: FUEL/USDC (prices around 0.0125) and ETH/USDC (around 3000).
DEFAULT_MARKETS = [
    market_entry(("FUEL", 9, 3), ("USDC", 6, 6), 100_000),
    market_entry(("ETH", 9, 6), ("USDC", 6, 2), 100_000),
]
#: Human amounts the faucet mints per asset.
FAUCET_AMOUNTS = {"FUEL": 100_000, "ETH": 10, "USDC": 10_000}
#: Rate limits (PROTOCOL §4): name -> (requests, seconds).
RATE_LIMITS = {"accounts": (1, 1.0), "session": (5, 1.0), "owner": (10, 60.0), "aggregated": (5, 1.0)}
