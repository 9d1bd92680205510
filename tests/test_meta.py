"""Meta: the public API imports, every group hangs off Client, nothing prints key material."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import o2lite
from o2lite import actions, keccak, nonce, signing, typed_data

MODULES = ["o2lite", "o2lite.client", "o2lite.transport", "o2lite.errors", "o2lite.market", "o2lite.models",
           "o2lite.markets", "o2lite.accounts", "o2lite.orders", "o2lite.session", "o2lite.analytics",
           "o2lite.aggregated", "o2lite.faucet", "o2lite.keccak", "o2lite.signing", "o2lite.encoding",
           "o2lite.typed_data", "o2lite.nonce", "o2lite.trader", "o2lite.cli", "o2lite.cli.demo", "o2lite.sandbox",
           "o2lite.sandbox.exchange", "o2lite.sandbox.server", "o2lite.sandbox.reads", "o2lite.sandbox.state",
           "o2lite.actions", "o2lite.batch", "o2lite.nonce_tracks", "o2lite.order_building", "o2lite.account_views",
           "o2lite.fills", "o2lite.pacing", "o2lite.reverts", "o2lite.streams", "o2lite.streams.stream", "o2lite.streams.events", "o2lite.streams.frames",
           "o2lite._ec", "o2lite._json", "o2lite.sandbox.aggregated", "o2lite.sandbox.config",
           "o2lite.sandbox.errors", "o2lite.sandbox.fields", "o2lite.sandbox.nonces", "o2lite.sandbox.owner_ops",
           "o2lite.sandbox.verify", "o2lite.sandbox.ws"]
GROUPS = ["markets", "accounts", "orders", "session", "analytics", "aggregated", "faucet"]
KEY = "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"


@pytest.mark.parametrize("name", MODULES)
def test_everything_in_all_imports(name):
    module = importlib.import_module(name)
    for attr in getattr(module, "__all__", []):
        assert hasattr(module, attr), f"{name}.{attr}"


def test_every_group_reachable_and_shares_transport():
    client = o2lite.Client("testnet")
    for group in GROUPS:
        assert getattr(client, group)._t is client.transport


def test_import_is_cheap():
    code = ("import sys, o2lite; "
            "print(sorted(m for m in ('ecdsa', 'requests', 'coincurve', 'o2lite.sandbox') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_key_material_in_any_repr():
    wallet, evm = signing.Wallet(KEY), signing.EvmWallet(KEY)
    issuer = nonce.ParallelNonceIssuer(0)
    client = o2lite.Client("testnet")
    objects = [wallet, evm, issuer, client, client.transport, client.transport.network,
               actions.action_to_call({"CancelOrder": {"order_id": "0x" + "01" * 32}},
                                       {"contract_id": "0x" + "02" * 32, "base": {"asset": "0x" + "03" * 32, "decimals": 9},
                                        "quote": {"asset": "0x" + "04" * 32}}, "0x" + "05" * 32)]
    for group in GROUPS:
        objects.append(getattr(client, group))
    for obj in objects:
        for text in (repr(obj), str(obj)):
            assert KEY not in text.lower()
    try:
        signing.Wallet("0x" + KEY[:-2])
    except o2lite.ValidationError as exc:
        assert KEY[:-2] not in str(exc) and KEY[:-2] not in repr(exc)


def test_version_single_source():
    assert o2lite.__version__ and o2lite.Client("testnet").transport.headers["User-Agent"] == f"o2lite/{o2lite.__version__}"
    assert keccak.keccak256 and typed_data.TYPE_STRINGS
