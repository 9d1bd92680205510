"""Every case of tests/vectors/triggers.json (made by running the official TypeScript encoder):
calls, sequential and parallel signing bytes, signatures and the full request bodies, byte-exact."""

from __future__ import annotations

import json

import pytest
import responses

import o2lite
from o2lite import actions, encoding, signing
from o2lite.check import check_body
from o2lite.errors import ValidationError
from o2lite.market import Market
from o2lite.session import PreparedActions, TradeSession
from o2lite.trigger_encoding import canonical_leg, join, toa_segments

from .conftest import BASE, VECTORS

DATA = json.loads((VECTORS / "triggers.json").read_text())
CASES = DATA["cases"]


def hx(data: bytes) -> str:
    return "0x" + data.hex()


def test_the_file_holds_every_case():
    assert DATA["count"] == len(CASES) == 15


@pytest.mark.parametrize("leg", DATA["leg_encodings"], ids=lambda c: c["name"])
def test_leg_encodings(leg):
    canonical = canonical_leg(leg["leg_json"])
    assert canonical == leg["leg_json"]
    assert hx(join(toa_segments(canonical))) == leg["trigger_order_args_hex"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_calls_and_signatures(case):
    market = case["market_fixture"]
    for group in case["actions"]:
        for action in group["actions"]:
            assert actions.canonical_action(action) == action  # the vector JSON is already canonical
    calls = [actions.action_to_call(a, market, case["accounts_registry_id"])
             for g in case["actions"] for a in g["actions"]]
    expected = [{k: v for k, v in c.items() if k != "function_name"} for c in case["calls"]]
    assert [c.to_json() for c in calls] == expected
    assert [c.function_selector[8:].decode() for c in calls] == [c["function_name"] for c in case["calls"]]
    # the same calls from a Market object, and every call's named segments are its bytes
    assert [actions.action_to_call(a, Market.from_json(market), case["accounts_registry_id"])
            for g in case["actions"] for a in g["actions"]] == calls
    for call in calls:
        if call.data_parts:
            assert encoding.join(call.data_parts) == call.call_data
    seq = encoding.actions_signing_bytes(int(case["nonce"]), calls)
    assert hx(seq) == case["signing_bytes"]
    assert hx(signing.raw_sign(case["session_private_key"], seq)) == case["signature"]
    par = encoding.parallel_actions_signing_bytes(int(case["parallel_nonce"]), calls)
    assert hx(par) == case["parallel_signing_bytes"]
    assert hx(signing.raw_sign(case["session_private_key"], par)) == case["parallel_signature"]


def _markets_body(case):
    return {"books_registry_id": "0x" + "00" * 32, "accounts_registry_id": case["accounts_registry_id"],
            "trade_account_oracle_id": "0x" + "00" * 32, "chain_id": "0x2699", "base_asset_id": "0x" + "00" * 32,
            "markets": [dict(case["market_fixture"], maker_fee="0", taker_fee="0")]}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
@responses.activate
def test_request_bodies(case):
    """The body o2lite sends is the vector's body to the byte, and check_body accepts it."""
    responses.get(f"{BASE}/v1/markets", json=_markets_body(case))
    wallet = o2lite.Wallet(case["session_private_key"])
    assert wallet.address == case["session_address"]
    session = TradeSession(case["request_body_sequential"]["trade_account_id"], case["header_O2_Owner_Id"], wallet,
                           (case["market_fixture"]["contract_id"],), 2**40)
    for label, body_key, kw in (("Secp256k1", "request_body_sequential", {"nonce": int(case["nonce"])}),
                                ("TypedSecp256k1", "request_body_parallel_ts_turbo_style",
                                 {"nonce": o2lite.Nonce.parallel(int(case["parallel_nonce"]))})):
        client = o2lite.Client(BASE, parallel_action_signature=label)
        prepared = client.session.prepare_actions(session, case["actions"], now=0)
        assert isinstance(prepared, PreparedActions)
        request = client.session.actions_request(session, prepared, collect_orders=case[body_key]["collect_orders"],
                                                 **kw)
        assert json.dumps(request.body, sort_keys=True) == json.dumps(case[body_key], sort_keys=True)
        assert dict(request.headers) == {"O2-Owner-Id": case["header_O2_Owner_Id"]}
        assert "trigger" in request.explain().lower() or "Trigger" not in json.dumps(case["actions"])
        report = check_body(request.body, client=client)
        assert report.ok, report.problems
        assert report.signer == case["session_address"]


def test_explain_names_every_trigger_field():
    case = next(c for c in CASES if c["id"] == "client-cowt-buy-tp-slip-sl-limit")
    call = actions.action_to_call(case["actions"][0]["actions"][1], case["market_fixture"],
                                  case["accounts_registry_id"])
    names = [s.name for s in encoding.call_segments(call)]
    for name in ("call.trigger_1.quantity u64 (discriminant)", "call.trigger_1.parent_order_id",
                 "call.trigger_1.MarketBounded.max_price u64", "call.trigger_2 option u64",
                 "call.trigger_2.Spot.price u64", "call.trigger_2.trigger_price u64"):
        assert name in names


@pytest.mark.parametrize("action, message", [
    ({"CreateOrderWithTriggers": {"side": "Buy", "price": "1", "quantity": "1", "order_type": {"Limit": ["1", "2"]},
                                  "trigger_1": DATA["leg_encodings"][0]["leg_json"]}}, "Limit order cannot carry"),
    ({"CreateTriggerOrder": {"args": dict(DATA["leg_encodings"][0]["leg_json"], order_type="Limit")}}, "order_type"),
    ({"CreateTriggerOrder": {"args": dict(DATA["leg_encodings"][0]["leg_json"], trigger_price=1.5)}}, "float"),
    ({"CreateTriggerOrder": {"args": dict(DATA["leg_encodings"][0]["leg_json"], side="Long")}}, "side"),
    ({"CreateTriggerOrder": {"args": {**DATA["leg_encodings"][0]["leg_json"],
                                      "order_type": {"MarketBounded": {"max_price": "1", "min_price": "2"}}}}}, "≥"),
    ({"CreateTriggerOrders": {"first": DATA["leg_encodings"][0]["leg_json"]}}, "missing second"),
    ({"CreateTriggerOrder": {"args": DATA["leg_encodings"][0]["leg_json"], "parent": {"order_id": "0x12"}}},
     "expected_quantity"),
    ({"CancelTriggerOrder": {"order_id": "0x12"}}, "32 bytes"),
])
def test_malformed_trigger_actions_are_refused_before_signing(action, message):
    with pytest.raises(ValidationError, match=message):
        actions.canonical_action(action)


def test_lower_case_input_is_canonicalised_and_null_optionals_dropped():
    leg = {"order_type": {"spot": {"price": 2600}}, "quantity": {"ParentOrder": {"parent_order_id": "0x" + "AA" * 32}},
           "trigger_price": "2600", "side": "sell"}
    canonical = actions.canonical_action({"CreateTriggerOrder": {"args": leg, "parent": None}})
    assert canonical == {"CreateTriggerOrder": {"args": {
        "order_type": {"Spot": {"price": "2600"}}, "quantity": {"ParentOrder": {"parent_order_id": "0x" + "aa" * 32}},
        "trigger_price": "2600", "side": "Sell"}}}


@pytest.mark.parametrize("action", [
    {"CancelTriggerOrder": {"order_id": "0x" + "11" * 32, "trigger_2": None}},
    {"CancelTriggerOrder": {"order_id": "0x" + "11" * 32, "parnet": None}},
    {"CreateOrderWithTriggers": {"side": "Buy", "price": "1", "quantity": "1", "order_type": "Spot", "parent": None,
                                 "trigger_1": {"order_type": "Market", "trigger_price": "1", "side": "Sell",
                                               "quantity": {"ParentOrder": {"parent_order_id": "0x" + "00" * 32}}}}},
])
def test_a_null_is_absent_only_for_the_actions_own_optionals(action):
    """Like every other action, an unknown field is refused, null or not (it used to vanish)."""
    with pytest.raises(ValidationError, match="unknown field"):
        actions.canonical_action(action)
    (kind, body), = action.items()
    canonical = {kind: {k: v for k, v in body.items() if v is not None}}
    assert not actions.sent_as_canonical(action, canonical)  # the sandbox and check_body refuse it too
