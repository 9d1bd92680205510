"""ABI encoding: edge values, range checks and clear errors."""

from __future__ import annotations

import pytest

from o2lite import actions, encoding
from o2lite.errors import ValidationError
from o2lite.typed_data import TYPE_STRINGS, is_evm_owner, parallel_owner_calls_digest, parallel_session_digest

from .conftest import market_json

ID = "0x" + "ab" * 32


@pytest.mark.parametrize("value, expected", [
    (0, "0000000000000000"), (1, "0000000000000001"), (2**64 - 1, "ffffffffffffffff"), ("255", "00000000000000ff"),
])
def test_u64_edges(value, expected):
    assert encoding.u64(value).hex() == expected


@pytest.mark.parametrize("value", [-1, 2**64, 1.0, True, "1e3", "0x", None])
def test_u64_rejects(value):
    with pytest.raises(ValidationError):
        encoding.u64(value)


def test_u256_edges():
    assert encoding.u256(0) == bytes(32)
    assert encoding.u256(2**128 - 1).hex() == "00" * 16 + "ff" * 16
    assert encoding.u256(2**256 - 1) == b"\xff" * 32
    with pytest.raises(ValidationError):
        encoding.u256(2**256)


def test_selector_and_identity():
    assert encoding.function_selector("withdraw").hex() == "0000000000000008" + b"withdraw".hex()
    assert encoding.identity({"ContractId": ID}) == (1).to_bytes(8, "big") + bytes.fromhex("ab" * 32)
    assert encoding.identity({"Address": ID.upper().replace("0X", "0x")})[8:] == bytes.fromhex("ab" * 32)
    for bad in ({"Wallet": ID}, {"Address": "0x1234"}, "0x" + "ab" * 32, {}):
        with pytest.raises(ValidationError):
            encoding.identity(bad)


def test_order_types():
    head = encoding.u64(5) + encoding.u64(7)
    assert encoding.order_args(5, 7, "Spot") == head + encoding.u64(1)
    assert encoding.order_args(5, 7, {"Limit": ["9", "10"]}) == head + encoding.u64(0) + encoding.u64(9) + encoding.u64(10)
    assert encoding.order_args(5, 7, {"BoundedMarket": {"max_price": 9, "min_price": 9}}) == \
        head + encoding.u64(5) + encoding.u64(9) + encoding.u64(9)
    with pytest.raises(ValidationError, match="max_price must be ≥ min_price"):
        encoding.order_args(5, 7, {"BoundedMarket": {"max_price": 1, "min_price": 2}})
    with pytest.raises(ValidationError, match="unknown order type"):
        encoding.order_args(5, 7, "IOC")
    with pytest.raises(ValidationError):
        encoding.order_args(5, 7, {"Limit": ["9"]})


def test_buy_amount_overflow_rejected():
    action = {"CreateOrder": {"side": "Buy", "price": str(2**64 - 1), "quantity": str(2**64 - 1),
                              "order_type": "Spot"}}
    with pytest.raises(ValidationError, match="Buy amount"):
        actions.action_to_call(action, market_json(), ID)


def test_unknown_action_and_side():
    with pytest.raises(ValidationError, match="unknown action"):
        actions.action_to_call({"Teleport": {}}, market_json(), ID)
    with pytest.raises(ValidationError, match="side"):
        actions.action_to_call({"CreateOrder": {"side": "Up", "price": 1, "quantity": 1, "order_type": "Spot"}},
                                market_json(), ID)


def test_register_referer_accepts_both_spellings():
    a = actions.action_to_call({"RegisterReferer": {"referer": {"Address": ID}}}, market_json(), ID)
    b = actions.action_to_call({"RegisterReferer": {"to": {"Address": ID}}}, market_json(), ID)
    assert a == b and a.contract_id == bytes.fromhex("ab" * 32)


def test_upgrade_and_owner_call_layouts():
    assert encoding.upgrade_signing_bytes(3, 9889) == encoding.u64(3) + encoding.u64(9889) + \
        encoding.function_selector("set_proxy_target_with_signature")
    call = encoding.Call(bytes(32), encoding.function_selector("f"), 0, bytes(32), 1, None)
    one = encoding.owner_calls_signing_bytes(1, 2, call)
    assert one == encoding.u64(1) + encoding.u64(2) + encoding.function_selector("call_contract") + encoding.call_bytes(call)
    many = encoding.owner_calls_signing_bytes(1, 2, [call, call])
    assert many.startswith(encoding.u64(1) + encoding.u64(2) + encoding.function_selector("call_contracts") + encoding.u64(2))
    with pytest.raises(ValidationError):
        encoding.owner_calls_signing_bytes(1, 2, [])
    assert encoding.calls_from_json([call.to_owner_call_json()]) == [call]
    assert encoding.calls_from_json([call.to_json()]) == [call]


def test_call_bytes_layout():
    call = encoding.Call(b"\x01" * 32, encoding.function_selector("ab"), 7, b"\x02" * 32, 9, b"\xee\xff")
    assert encoding.call_bytes(call) == (b"\x01" * 32 + encoding.u64(10) + encoding.function_selector("ab")
                                         + encoding.u64(7) + b"\x02" * 32 + encoding.u64(9) + encoding.u64(1)
                                         + encoding.u64(2) + b"\xee\xff")


def test_typed_derived_digests_depend_on_every_field():
    fuel_owner, evm_owner = ID, "0x" + "00" * 12 + "ab" * 20
    assert not is_evm_owner(fuel_owner) and is_evm_owner(evm_owner)
    base = parallel_session_digest(fuel_owner, 1, ID, 5, ID, 100, [ID])
    assert base != parallel_session_digest(evm_owner, 1, ID, 5, ID, 100, [ID])
    assert base != parallel_session_digest(fuel_owner, 1, ID, 5, ID, 101, [ID])
    assert base != parallel_session_digest(fuel_owner, 1, ID, 5, ID, 100, [ID, ID])
    call = encoding.Call(bytes(32), encoding.function_selector("f"), 0, bytes(32), 1, None)
    assert parallel_owner_calls_digest(fuel_owner, 1, ID, 5, [call]) != parallel_owner_calls_digest(
        fuel_owner, 1, ID, 6, [call])
    assert all(isinstance(v, str) and "(" in v for v in TYPE_STRINGS.values())
