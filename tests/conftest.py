"""Shared fixtures: golden vectors, a mocked exchange and a client bound to it."""

from __future__ import annotations

import json
import pathlib

import pytest
import responses

import o2lite

VECTORS = pathlib.Path(__file__).parent / "vectors"
BASE = "https://api.testnet.o2.app"


def load_cases(name: str) -> list:
    """Every case of one golden-vector file."""
    return json.loads((VECTORS / f"{name}.json").read_text())["cases"]


def market_json(**over) -> dict:
    """One `/v1/markets` entry shaped like the exchange's (FUEL/USDC)."""
    entry = {
        "contract_id": "0x" + "c1" * 32, "market_id": "0x" + "a1" * 32, "maker_fee": "0",
        "taker_fee": "100", "min_order": "1000000", "dust": "1000", "price_window": 0,
        "base": {"symbol": "FUEL", "asset": "0x" + "b1" * 32, "decimals": 9, "max_precision": 3},
        "quote": {"symbol": "USDC", "asset": "0x" + "d1" * 32, "decimals": 6, "max_precision": 6},
    }
    entry.update(over)
    return entry


MARKETS_BODY = {
    "books_registry_id": "0x" + "e1" * 32, "accounts_registry_id": "0x" + "e2" * 32,
    "trade_account_oracle_id": "0x" + "e3" * 32, "chain_id": "0x0000000000002699",
    "base_asset_id": "0x" + "f1" * 32,
    "markets": [market_json(), market_json(contract_id="0x" + "C2" * 32, market_id="A2" * 32,
                                           base={"symbol": "ETH", "asset": "0x" + "b2" * 32, "decimals": 9,
                                                 "max_precision": 6})],
}


@pytest.fixture
def mocked():
    """A `responses` mock that fails on any unexpected request."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sleeps():
    """Records the delays the transport asked to sleep instead of sleeping."""
    return []


@pytest.fixture
def client(mocked, sleeps):
    """A testnet client over the mock, with `/v1/markets` answered."""
    mocked.get(BASE + "/v1/markets", json=MARKETS_BODY)
    with o2lite.Client("testnet", sleep=sleeps.append) as c:
        yield c
