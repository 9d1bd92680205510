"""Sign only what is proven; send exactly what is signed (issue #8).

The property test builds signed bodies from random, messy inputs and then rebuilds the signing
bytes from the **sent JSON alone** with an independent, strict decoder written here (it
refuses anything but the canonical spelling, as the exchange would), and checks that they are
the bytes that were signed and that the signature recovers to the signer.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import warnings
from decimal import Decimal

import pytest
import responses

import o2lite
from o2lite import EvmWallet, Wallet, actions, encoding, signing, typed_data
from o2lite.encoding import function_selector, u64, u256
from o2lite.keccak import keccak256
from o2lite.session import TradeSession

from .conftest import BASE, MARKETS_BODY

DIGITS = re.compile(r"(0|[1-9][0-9]*)")
ID = re.compile(r"0x[0-9a-f]{64}")
ORDER_TYPE_CODES = {"Limit": 0, "Spot": 1, "FillOrKill": 2, "PostOnly": 3, "Market": 4, "BoundedMarket": 5}
MARKETS = {m["market_id"].lower() if m["market_id"].startswith("0x") else "0x" + m["market_id"].lower(): m
           for m in MARKETS_BODY["markets"]}


def recording(base: type) -> type:
    """A wallet class that remembers every digest it signed."""

    class Recording(base):  # type: ignore[misc, valid-type]
        __slots__ = ("digests",)

        def __init__(self, key: str) -> None:
            super().__init__(key)
            self.digests = []

        def sign_digest(self, digest: bytes) -> bytes:
            self.digests.append(bytes(digest))
            return super().sign_digest(digest)

    return Recording


Recording, RecordingEvm = recording(Wallet), recording(EvmWallet)


# --- the independent strict decoder ---------------------------------------------------------

def strict_int(text, bits=64):
    assert isinstance(text, str) and DIGITS.fullmatch(text), f"not a canonical integer string: {text!r}"
    value = int(text)
    assert value < 2**bits
    return value


def strict_id(text):
    assert isinstance(text, str) and ID.fullmatch(text), f"not a canonical id: {text!r}"
    return bytes.fromhex(text[2:])


def strict_identity(obj):
    assert isinstance(obj, dict) and len(obj) == 1
    (kind, value), = obj.items()
    assert kind in ("Address", "ContractId")
    return u64(0 if kind == "Address" else 1) + strict_id(value)


def order_type_bytes(ot):
    if isinstance(ot, str):
        assert ot in ("Spot", "Market", "FillOrKill", "PostOnly")
        return u64(ORDER_TYPE_CODES[ot])
    (name, payload), = ot.items()
    if name == "Limit":
        assert isinstance(payload, list) and len(payload) == 2
        return u64(0) + u64(strict_int(payload[0])) + u64(strict_int(payload[1]))
    assert name == "BoundedMarket" and set(payload) == {"max_price", "min_price"}
    return u64(5) + u64(strict_int(payload["max_price"])) + u64(strict_int(payload["min_price"]))


def call_from_json(action, market):
    (kind, body), = action.items()
    contract = strict_id(market["contract_id"].lower() if market["contract_id"].startswith("0x")
                         else "0x" + market["contract_id"].lower())
    zero = bytes(32)
    if kind == "CreateOrder":
        assert set(body) == {"side", "price", "quantity", "order_type"} and body["side"] in ("Buy", "Sell")
        price, quantity = strict_int(body["price"]), strict_int(body["quantity"])
        data = u64(price) + u64(quantity) + order_type_bytes(body["order_type"])
        if body["side"] == "Buy":
            amount, asset = price * quantity // 10**market["base"]["decimals"], market["quote"]["asset"]
        else:
            amount, asset = quantity, market["base"]["asset"]
        return contract, "create_order", amount, bytes.fromhex(asset[2:]), data
    if kind == "CancelOrder":
        assert set(body) == {"order_id"}
        return contract, "cancel_order", 0, zero, strict_id(body["order_id"])
    if kind == "SettleBalance":
        assert set(body) == {"to"}
        return contract, "settle_balance", 0, zero, strict_identity(body["to"])
    assert kind == "RegisterReferer" and set(body) == {"to"}
    registry = strict_id(MARKETS_BODY["accounts_registry_id"])
    return registry, "register_referer", 0, zero, strict_identity(body["to"])


def actions_bytes_from_json(body):
    calls = []
    for group in body["actions"]:
        market = MARKETS[strict_id(group["market_id"]) and group["market_id"]]
        calls += [call_from_json(a, market) for a in group["actions"]]
    if "nonce" in body:
        head = u64(strict_int(body["nonce"]))
    else:
        head = u256(strict_int(body["parallel_nonce"], 256))
    out = head + u64(len(calls))
    for contract, name, amount, asset, data in calls:
        selector = function_selector(name)  # u64 len ‖ name, itself length-prefixed in a call (PROTOCOL §8)
        out += (contract + u64(len(selector)) + selector + u64(amount) + asset + u64(2**64 - 1)
                + u64(1) + u64(len(data)) + data)
    return out


def signature_of(body):
    (label, text), = body["signature"].items()
    return label, bytes.fromhex(text[2:])


# --- messy inputs -----------------------------------------------------------------------------

def messy_case(rng, text):
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def messy_int(rng, value):
    return rng.choice([value, str(value), f" {value} ", Decimal(value), o2lite.Chain(value)])


def messy_id(rng, raw: bytes):
    hexed = raw.hex()
    return rng.choice(["0x" + hexed, "0X" + hexed.upper(), hexed.upper(), hexed, raw, messy_case(rng, "0x" + hexed)])


def messy_order_type(rng):
    name = rng.choice(list(ORDER_TYPE_CODES))
    if name == "Limit":
        return {messy_case(rng, "limit"): [messy_int(rng, rng.randrange(1, 10**9)), messy_int(rng, 1_700_000_000)]}
    if name == "BoundedMarket":
        low = rng.randrange(1, 10**6)
        return {"BoundedMarket": {"max_price": messy_int(rng, low + rng.randrange(0, 10**6)),
                                  "min_price": messy_int(rng, low)}}
    return rng.choice([name, name.lower(), name.upper()])


def messy_action(rng):
    kind = rng.choice(["CreateOrder", "CancelOrder", "SettleBalance", "RegisterReferer"])
    if kind == "CreateOrder":
        return {"CreateOrder": {"side": rng.choice(["buy", "Buy", "SELL", " sell"]),
                                "price": messy_int(rng, rng.randrange(1, 10**8)),
                                "quantity": messy_int(rng, rng.randrange(1, 10**12)),
                                "order_type": messy_order_type(rng)}}
    if kind == "CancelOrder":
        return {"CancelOrder": {"order_id": messy_id(rng, rng.randbytes(32))}}
    identity = {rng.choice(["Address", "ContractId"]): messy_id(rng, rng.randbytes(32))}
    if kind == "SettleBalance":
        return {"SettleBalance": {"to": identity}}
    return {"RegisterReferer": {rng.choice(["to", "referer"]): identity}}


@pytest.fixture
def client():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(BASE + "/v1/markets", json=MARKETS_BODY)
        with o2lite.Client("testnet") as c:
            yield c


def test_sent_action_json_alone_rebuilds_the_signed_bytes(client):
    """400 random, messy action requests × both nonce kinds: JSON alone → the signed bytes."""
    rng = random.Random(8)
    key = Recording("0x" + "21" * 32)
    session = TradeSession("0x" + "aa" * 32, "0x" + "bb" * 32, key,
                           tuple(m["contract_id"].lower() for m in MARKETS.values()), 2**40)
    pairs = ["FUEL/USDC", "eth/usdc", MARKETS_BODY["markets"][0]["market_id"].upper(),
             MARKETS_BODY["markets"][1]["market_id"]]
    for case in range(400):
        groups = [{"market_id": rng.choice(pairs), "actions": [messy_action(rng) for _ in range(rng.randint(1, 2))]}
                  for _ in range(rng.randint(1, 2))]
        nonce = ({"nonce": messy_int(rng, rng.randrange(0, 10**9))} if case % 2
                 else {"nonce": o2lite.Nonce.parallel(rng.randrange(0, 2**176))})
        body = client.session.actions_body(session, groups, now=0, **nonce)
        sent = json.loads(json.dumps(body))  # exactly what goes on the wire
        label, signature = signature_of(sent)
        assert label == "Secp256k1"
        rebuilt = actions_bytes_from_json(sent)
        digest = hashlib.sha256(rebuilt).digest()
        assert key.digests[-1] == digest, f"case {case}: sent JSON does not rebuild the signed bytes"
        assert signing.fuel_address(signing.recover_public_key(signature, digest)) == key.address


@pytest.mark.parametrize("owner_cls", [Recording, RecordingEvm], ids=["fuel", "evm"])
def test_sent_owner_json_alone_rebuilds_the_signed_bytes(client, owner_cls):
    """Session registration and withdrawals (both nonce kinds) from messy ids and amounts."""
    rng = random.Random(9)
    owner = owner_cls("0x" + "31" * 32)
    chain_id = 0x2699
    for case in range(40):
        contract_ids = [messy_id(rng, bytes.fromhex(m["contract_id"][2:].lower().zfill(64)))
                        for m in MARKETS.values()]
        account = messy_id(rng, rng.randbytes(32))
        session_key = messy_id(rng, rng.randbytes(32))
        body = json.loads(json.dumps(client.session.session_body(owner, account, session_key, contract_ids,
                                                                 messy_int(rng, 1_800_000_000), nonce=case)))
        message = (u64(strict_int(body["nonce"])) + u64(chain_id) + function_selector("set_session") + u64(1)
                   + u64(0) + strict_id(body["session_id"]["Address"]) + u64(strict_int(body["expiry"]))
                   + u64(len(body["contract_ids"])) + b"".join(strict_id(c) for c in body["contract_ids"]))
        assert owner.digests[-1] == owner.personal_digest(message)
        recovered = signing.recover_public_key(signature_of(body)[1], owner.digests[-1])
        address = signing.evm_b256_address(recovered) if owner_cls is RecordingEvm else signing.fuel_address(recovered)
        assert address == owner.address

        to = {rng.choice(["Address", "ContractId"]): messy_id(rng, rng.randbytes(32))}
        asset = messy_id(rng, rng.randbytes(32))
        parallel = case % 2 == 1
        nonce = {"nonce": o2lite.Nonce.parallel(rng.randrange(0, 2**176))} if parallel else {"nonce": case}
        body = json.loads(json.dumps(client.accounts.withdraw_body(owner, account, asset, messy_int(rng, 5000), to,
                                                                   **nonce)))
        if parallel:
            (kind, value), = body["to"].items()
            digest = typed_data.parallel_withdraw_digest(owner.address, chain_id, strict_id(body["trade_account_id"]),
                                                         strict_int(body["parallel_nonce"], 256), {kind: value},
                                                         strict_int(body["amount"]), strict_id(body["asset_id"]))
            assert signature_of(body)[0] == "TypedSecp256k1"
        else:
            message = (u64(strict_int(body["nonce"])) + u64(chain_id) + function_selector("withdraw")
                       + strict_identity(body["to"]) + u64(strict_int(body["amount"])) + strict_id(body["asset_id"]))
            digest = owner.personal_digest(message)
        assert owner.digests[-1] == digest


@pytest.mark.parametrize("bad", [
    {"CreateOrder": {"side": "up", "price": "1", "quantity": "1", "order_type": "Spot"}},
    {"CreateOrder": {"side": "Buy", "price": 1.5, "quantity": "1", "order_type": "Spot"}},
    {"CreateOrder": {"side": "Buy", "price": "-1", "quantity": "1", "order_type": "Spot"}},
    {"CreateOrder": {"side": "Buy", "price": str(2**64), "quantity": "1", "order_type": "Spot"}},
    {"CreateOrder": {"side": "Buy", "price": "1e3", "quantity": "1", "order_type": "Spot"}},
    {"CreateOrder": {"side": "Buy", "price": "1", "quantity": "1", "order_type": "Teleport"}},
    {"CreateOrder": {"side": "Buy", "price": "1", "quantity": "1", "order_type": "Spot", "extra": 1}},
    {"CreateOrder": {"side": "Buy", "price": "1", "quantity": "1", "order_type": {"Limit": ["1"]}}},
    {"CreateOrder": {"side": "Buy", "price": "1", "quantity": "1",
                     "order_type": {"BoundedMarket": {"max_price": "1", "min_price": "2"}}}},
    {"CancelOrder": {"order_id": "0x1"}},
    {"CancelOrder": {"order_id": "0x" + "00" * 33}},
    {"SettleBalance": {"to": {"Wallet": "0x" + "00" * 32}}},
    {"RegisterReferer": {"to": {"Address": "0x" + "01" * 32}, "referer": {"Address": "0x" + "02" * 32}}},
    {"Teleport": {}},
    None,
])
def test_uncanonicalisable_actions_are_refused_before_signing(bad):
    with pytest.raises(o2lite.ValidationError):
        actions.canonical_action(bad)


def test_register_referer_sends_to():
    identity = {"Address": "0x" + "AB" * 32}
    assert actions.canonical_action({"RegisterReferer": {"referer": identity}}) == \
        {"RegisterReferer": {"to": {"Address": "0x" + "ab" * 32}}}


PUBLISHED_TYPE_HASHES = {  # PROTOCOL §10: the official constants (SRC-16, EIP-712)
    "CallParams": ("05816efb1220d5dd49f0abf9882712729285e7080da3dc2ba051a6ab701cf3b8",
                   "322b030cfd61eddd3d0acc5c37358539477197bfc2599dc09a9c75ad47f6e5b8"),
    "CallContractArg": ("c8ac163d1f87886f48788901b8e5eb4eebb3edad4ae111859b2a051059920048",
                        "325b44fd679189ccd8f708a440a27448cbfd6f47f90205e8ace3f1efc27c92d6"),
    "ParallelMultiCallContractArgs": ("b913eb232c21ef9250e65abc3c1cb9f75af53ed044455ea484d4f3fa3b4b0ee5",
                                      "3c5f4ecf0e01c024666fd99c1a6b05d93d7ca2ca31879f4d66d008356c8dcbf2"),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_TYPE_HASHES))
def test_owner_call_type_hashes_equal_the_published_constants(name):
    for flavour, expected in zip(("src16", "eip712"), PUBLISHED_TYPE_HASHES[name]):
        assert keccak256(typed_data.TYPE_STRINGS[(flavour, name)].encode()).hex() == expected


def test_owner_calls_digest_follows_the_struct_rules():
    call = encoding.Call(b"\x01" * 32, function_selector("ping"), 7, b"\x02" * 32, 1000, b"\x03")
    owner, account, nonce = "0x" + "44" * 32, "0x" + "55" * 32, 12345

    def th(name):
        return bytes.fromhex(PUBLISHED_TYPE_HASHES[name][0])

    params = keccak256(th("CallParams") + (7).to_bytes(32, "big") + b"\x02" * 32 + (1000).to_bytes(32, "big"))
    call_hash = keccak256(th("CallContractArg") + b"\x01" * 32 + keccak256(function_selector("ping")) + params
                          + keccak256(b"\x03"))
    struct = keccak256(th("ParallelMultiCallContractArgs") + nonce.to_bytes(32, "big") + keccak256(call_hash))
    domain = typed_data.src16_domain_separator(0x2699, account)
    assert typed_data.parallel_owner_calls_digest(owner, 0x2699, account, nonce, [call]) == \
        keccak256(b"\x19\x01" + domain + struct)


def test_domain_version_1_check_value_and_client_option():
    """PROTOCOL §10: EIP-712 domain, version "1", chain id 0x42C026D7."""
    assert typed_data.eip712_domain_separator(0x42C026D7, version="1").hex() == \
        "2177b5d66662dcd3c8e3dd12a3d951aab14834bd1b3a4aaee22ac3591ae1e32d"
    assert typed_data.eip712_domain_separator(0x42C026D7) != typed_data.eip712_domain_separator(0x42C026D7, "1")
    with o2lite.Client("http://127.0.0.1:9", domain_version="1") as c:
        assert c.accounts.domain_version == "1" and c.session.domain_version == "1"


def test_parallel_registration_is_an_explicit_warned_opt_in(client):
    owner, key = Wallet("0x" + "61" * 32), Wallet("0x" + "62" * 32)
    ids = [MARKETS_BODY["markets"][0]["contract_id"]]
    with pytest.raises(o2lite.ValidationError, match="parallel_registration=True"):
        client.session.session_body(owner, "0x" + "aa" * 32, key.address, ids, 2**31, nonce=o2lite.Nonce.parallel(5))
    with pytest.warns(o2lite.ExperimentalWarning, match="ParallelSessionArgs"):
        body = client.session.session_body(owner, "0x" + "aa" * 32, key.address, ids, 2**31, nonce=o2lite.Nonce.parallel(5),
                                           parallel_registration=True)
    assert list(body["signature"]) == ["TypedSecp256k1"] and body["parallel_nonce"] == "5"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the proven path warns about nothing
        body = client.session.session_body(owner, "0x" + "aa" * 32, key.address, ids, 2**31, nonce=5)
    assert list(body["signature"]) == ["Secp256k1"]


def test_parallel_action_signature_label_is_one_switch():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(BASE + "/v1/markets", json=MARKETS_BODY)
        with o2lite.Client("testnet", parallel_action_signature="TypedSecp256k1") as c:
            session = TradeSession("0x" + "aa" * 32, "0x" + "bb" * 32, Wallet("0x" + "21" * 32),
                                   (MARKETS_BODY["markets"][0]["contract_id"],), 2**40, "parallel")
            groups = [{"market_id": "FUEL/USDC", "actions": [{"CancelOrder": {"order_id": "0x" + "01" * 32}}]}]
            assert list(c.session.actions_body(session, groups, nonce=o2lite.Nonce.parallel(1), now=0)["signature"]) == \
                ["TypedSecp256k1"]
            assert list(c.session.actions_body(session, groups, nonce=1, now=0)["signature"]) == ["Secp256k1"]
    with pytest.raises(o2lite.ValidationError):
        o2lite.Client("http://127.0.0.1:9", parallel_action_signature="Ed25519")


def test_unknown_order_types_in_responses_parse():
    from o2lite.models import Order

    for order_type in ("TurboSharedSpot", "TurboSharedPostOnly", {"TurboShared": {"x": "1"}}):
        order = Order.from_json({"order_id": "0x" + "01" * 32, "side": "buy", "order_type": order_type,
                                 "price": "1", "quantity": "2", "close": False})
        assert order.order_type == order_type and order.side == "Buy"
