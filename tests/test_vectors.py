"""Every case of every golden-vector file made by the official o2-sdk 0.5.0."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from o2lite import actions, encoding, nonce, signing, typed_data
from o2lite.errors import NonceWindowFull
from o2lite.keccak import keccak256
from o2lite.market import Market

from .conftest import load_cases

BACKENDS = [True]
try:
    import coincurve  # noqa: F401

    BACKENDS.append(False)
except ImportError:  # the optional fast path is tested where it is installed
    pass


def hx(data: bytes) -> str:
    return "0x" + data.hex()


@pytest.fixture(params=BACKENDS, ids=lambda pure: "pure" if pure else "coincurve")
def pure(request):
    return request.param


@pytest.mark.parametrize("case", load_cases("keccak"), ids=lambda c: f"len{len(c['data']) // 2 - 1}")
def test_keccak(case):
    assert hx(keccak256(bytes.fromhex(case["data"][2:]))) == case["keccak256"]


@pytest.mark.parametrize("case", load_cases("keys"))
def test_keys(case, pure):
    public = signing.public_key_of(case["private_key"], pure=pure)
    assert hx(public) == case["public_key"]
    assert signing.fuel_address(public) == case["fuel_address"]
    assert signing.Wallet(case["private_key"]).address == case["fuel_address"]
    evm = signing.EvmWallet(case["private_key"])
    assert evm.evm_address == case["evm_address"]
    assert evm.address == case["evm_b256_address"]


@pytest.mark.parametrize("case", load_cases("signatures"))
def test_signatures(case, pure):
    key, message = case["private_key"], bytes.fromhex(case["message"][2:])
    assert hx(hashlib.sha256(message).digest()) == case["sha256"]
    assert hx(signing.raw_sign(key, message, pure=pure)) == case["raw_sign"]
    fuel_digest = signing.fuel_personal_digest(message)
    assert hx(fuel_digest) == case["fuel_personal_digest"]
    assert hx(signing.sign_digest(key, fuel_digest, pure=pure)) == case["fuel_personal_sign"]
    evm_digest = signing.evm_personal_digest(message)
    assert hx(evm_digest) == case["evm_personal_digest"]
    assert hx(signing.sign_digest(key, evm_digest, pure=pure)) == case["evm_personal_sign"]
    assert hx(signing.Wallet(key).personal_sign(message)) == case["fuel_personal_sign"]
    assert hx(signing.EvmWallet(key).personal_sign(message)) == case["evm_personal_sign"]


@pytest.mark.parametrize("case", load_cases("order_args"))
def test_order_args(case):
    encoded = encoding.order_args(int(case["price"]), int(case["quantity"]), case["order_type"])
    assert hx(encoded) == case["encoded"]


@pytest.mark.parametrize("case", load_cases("actions"))
def test_actions(case, pure):
    markets = {m["market_id"]: m for m in case["markets"]}
    calls = [actions.action_to_call(action, markets[group["market_id"]], case["accounts_registry_id"])
             for group in case["actions"] for action in group["actions"]]
    assert [c.to_json() for c in calls] == case["calls"]
    # the same calls from o2lite.Market objects
    as_objects = [actions.action_to_call(action, Market.from_json(markets[group["market_id"]]),
                                          case["accounts_registry_id"])
                  for group in case["actions"] for action in group["actions"]]
    assert as_objects == calls
    seq = encoding.actions_signing_bytes(int(case["nonce"]), calls)
    assert hx(seq) == case["signing_bytes"]
    assert hx(signing.raw_sign(case["session_private_key"], seq, pure=pure)) == case["signature"]
    par = encoding.parallel_actions_signing_bytes(int(case["parallel_nonce"]), calls)
    assert hx(par) == case["parallel_signing_bytes"]
    assert hx(signing.raw_sign(case["session_private_key"], par, pure=pure)) == case["parallel_signature"]


def owner_wallet(case):
    cls = signing.EvmWallet if case["owner_kind"] == "evm" else signing.Wallet
    wallet = cls(case["owner_private_key"])
    assert wallet.address == case["owner_address"]
    return wallet


@pytest.mark.parametrize("case", load_cases("sessions"))
def test_sessions(case):
    data = encoding.session_signing_bytes(int(case["nonce"]), case["chain_id"], case["session_address"],
                                          case["contract_ids"], int(case["expiry"]))
    assert hx(data) == case["signing_bytes"]
    assert hx(owner_wallet(case).personal_sign(data)) == case["signature"]


@pytest.mark.parametrize("case", load_cases("withdrawals"))
def test_withdrawals(case):
    wallet = owner_wallet(case)
    data = encoding.withdraw_signing_bytes(int(case["nonce"]), case["chain_id"], case["to"], case["asset_id"],
                                           int(case["amount"]))
    assert hx(data) == case["signing_bytes"]
    assert hx(wallet.personal_sign(data)) == case["signature"]
    digest = typed_data.parallel_withdraw_digest(case["owner_address"], case["chain_id"], case["trade_account_id"],
                                                 int(case["parallel_nonce"]), case["to"], int(case["amount"]),
                                                 case["asset_id"])
    assert hx(digest) == case["typed_digest"]
    assert hx(wallet.sign_digest(digest)) == case["typed_signature"]


@pytest.mark.parametrize("case", load_cases("domains"))
def test_domains(case):
    chain_id = int(case["chain_id"])
    assert hx(typed_data.src16_domain_separator(chain_id, case["verifying_contract"])) == case["src16_domain_separator"]
    assert hx(typed_data.eip712_domain_separator(chain_id)) == case["eip712_domain_separator"]


@pytest.mark.parametrize("case", load_cases("parallel_nonces"))
def test_parallel_nonces(case):
    fields = (case["nonce_session_id"], case["expiry"], int(case["word_position"]), case["bitmap_position"])
    packed = nonce.pack_parallel_nonce(*fields)
    assert str(packed) == case["packed"]
    assert tuple(nonce.unpack_parallel_nonce(case["packed"])) == fields


@pytest.mark.parametrize("case", load_cases("windows"))
def test_windows(case):
    window = nonce.NonceWindow.from_json(case["window"])
    if case["first_free"] == {"error": "window_full"}:
        with pytest.raises(NonceWindowFull):
            window.first_free()
    else:
        word, bit = window.first_free()
        assert {"word_position": str(word), "bitmap_position": bit} == case["first_free"]


@pytest.mark.parametrize("case", load_cases("order_rules"))
def test_order_rules(case):
    market = Market.from_json({
        "contract_id": "0x" + "11" * 32, "market_id": "0x" + "22" * 32, "min_order": case["min_order"],
        "base": {"symbol": "B", "asset": "0x" + "33" * 32, "decimals": case["base_decimals"],
                 "max_precision": case["base_decimals"]},
        "quote": {"symbol": "Q", "asset": "0x" + "44" * 32, "decimals": case["quote_decimals"],
                  "max_precision": case["quote_max_precision"]}})
    # the vectors describe the official rounding (floor, then truncate to the step): round=True
    price, quantity = market.scale_price(case["price"], round=True), market.scale_quantity(case["quantity"], round=True)
    assert (str(price), str(quantity)) == (case["scaled_price"], case["scaled_quantity"])
    if market.format_price(price) != Decimal(case["price"]):
        with pytest.raises(ValueError, match="round=True"):  # by default a finer price is refused, not cut
            market.scale_price(case["price"])
    adjusted = market.adjust_quantity(price, quantity)
    assert str(adjusted) == case["adjusted_quantity"]
    if case["valid_after_adjust"]:
        market.validate_order(price, adjusted)
    else:
        with pytest.raises(ValueError):
            market.validate_order(price, adjusted)
