"""Trigger orders on the client side: the §14 rules in human units, GET /v1/orders/active,
the trigger errors, and trigger updates on the orders stream — every test offline."""

from __future__ import annotations

import json

import pytest
import responses

import o2lite
from o2lite import Chain, TriggerRejected, ValidationError
from o2lite._answers import error_from_response
from o2lite.market import Market
from o2lite.reverts import describe_revert
from o2lite.streams.events import TriggerUpdate, split_orders_message
from o2lite.streams.registry import Registry
from o2lite.streams.subscriptions import Subscription
from o2lite.trigger_models import ActiveOrders
from o2lite.trigger_trading import place_trigger
from o2lite.triggers import TriggerSpec, oco_pair, order_with_triggers, standalone_trigger

from .conftest import BASE, VECTORS

CASES = {c["id"]: c for c in json.loads((VECTORS / "triggers.json").read_text())["cases"]}
M2 = Market.from_json(CASES["client-cto-entry-stop-buy"]["market_fixture"])  # ETH/USDC: 9 and 6 decimals


def action_of(case_id: str):
    return CASES[case_id]["actions"][0]["actions"][-1]


def test_the_official_clients_order_with_triggers_from_human_input():
    """client.createOrderWithTriggers('buy', '2500', '0.01', {TP 2600 slippageBps 50, SL 2400 limit 2390})."""
    plan = order_with_triggers(M2, "buy", "2500", "0.01", take_profit=TriggerSpec("2600", slippage_bps=50),
                               stop_loss=TriggerSpec("2400", limit_price="2390"))
    assert plan.action == action_of("client-cowt-buy-tp-slip-sl-limit") and plan.adjustments == ()
    same = order_with_triggers(M2, "Buy", "2500", "0.01", take_profit="2600", stop_loss=TriggerSpec(
        "2400", limit_price="2390"), slippage_bps=50)  # a bare price takes the common slippage
    assert same.action == plan.action


def test_the_official_clients_entry_stop_with_its_quantity_fitted():
    """client.createTriggerOrder: a Buy entry stop at 2600 with a 2605 limit, 0.123456789 ETH."""
    plan = standalone_trigger(M2, "Buy", TriggerSpec("2600", limit_price="2605"), "0.123456789")
    assert plan.action == action_of("client-cto-entry-stop-buy")
    (note,) = plan.adjustments
    assert "0.123456789 to 0.1234566 ETH" in note and "FractionalPrice" in note


def test_prices_are_floored_to_the_tick_and_the_change_is_reported():
    plan = order_with_triggers(M2, "Sell", "2500.009", "1", "FillOrKill", take_profit="2200.017",
                               stop_loss=Chain(2_800_004_321))
    body = plan.action["CreateOrderWithTriggers"]
    assert (body["price"], body["trigger_1"]["trigger_price"], body["trigger_2"]["trigger_price"]) == \
        ("2500000000", "2200010000", "2800000000")
    assert [n.split(":")[1].strip().split(" ")[0:2] for n in plan.adjustments] == [
        ["order", "price"], ["take-profit", "trigger"], ["stop-loss", "trigger"]]
    assert all("floored to the tick" in n for n in plan.adjustments)
    assert body["trigger_1"]["side"] == body["trigger_2"]["side"] == "Buy"  # the closing side


def test_sending_warns_each_adjustment(monkeypatch):
    sent = []

    class FakeTrader:
        class client:  # noqa: N801
            class markets:  # noqa: N801
                get = staticmethod(lambda market: M2)

        def settle_action(self):
            return {"SettleBalance": {"to": {"ContractId": "0x" + "77" * 32}}}

        def submit(self, groups, collect_orders=True):
            sent.append(groups)
            return "sent"

    with pytest.warns(UserWarning, match="fitted from 0.123456789"):
        assert place_trigger(FakeTrader(), "ETH/USDC", "Buy", TriggerSpec("2600", limit_price="2605"),
                                             "0.123456789") == "sent"
    assert sent[0][0]["actions"] == CASES["client-cto-entry-stop-buy"]["actions"][0]["actions"]


def test_an_oco_pair_puts_the_larger_lock_first_and_says_so():
    plan = oco_pair(M2, "Buy", TriggerSpec("2000", limit_price="2000"), TriggerSpec("3000", limit_price="3100"), "1")
    body = plan.action["CreateTriggerOrders"]
    assert body["first"]["trigger_price"] == "3000000000" and body["second"]["trigger_price"] == "2000000000"
    assert any("swapped" in n for n in plan.adjustments)
    with pytest.raises(ValidationError, match="different trigger prices"):
        oco_pair(M2, "Sell", "2000", "2000.001", "1")  # equal once floored to the tick


@pytest.mark.parametrize("call, message", [
    (lambda: order_with_triggers(M2, "Buy", "2500", "1", "Limit", stop_loss="2400"), "Limit order cannot carry"),
    (lambda: order_with_triggers(M2, "Buy", "2500", "1"), "take_profit, a stop_loss or both"),
    (lambda: order_with_triggers(M2, "Buy", "2500", "1", take_profit="2400", stop_loss="2600"), "above its stop-loss"),
    (lambda: order_with_triggers(M2, "Buy", "2500", "1", stop_loss=2400.0), "float"),
    (lambda: standalone_trigger(M2, "Sell", "2400"), "give a quantity"),
    (lambda: standalone_trigger(M2, "Sell", TriggerSpec("2400", limit_price="1", slippage_bps=5), "1"), "not both"),
    (lambda: standalone_trigger(M2, "Sell", TriggerSpec("2400", slippage_bps=0), "1"), "basis points"),
    (lambda: standalone_trigger(M2, "Sell", TriggerSpec("2400", slippage_bps=10_000), "1"), "1–9999"),  # min 0
    (lambda: standalone_trigger(M2, "Sell", "0.001", "1"), "at least one price step"),
    (lambda: standalone_trigger(M2, "Sell", "2400", "0.000000001"), "too small"),
])
def test_bad_trigger_input_is_refused_before_signing(call, message):
    with pytest.raises(ValidationError, match=message):
        call()


def test_slippage_band_is_rounded_inward_to_the_tick():
    plan = standalone_trigger(M2, "Sell", TriggerSpec("2600.01", slippage_bps=33), "1")
    bounds = plan.action["CreateTriggerOrder"]["args"]["order_type"]["MarketBounded"]
    band = 2_600_010_000 * 33 // 10_000
    assert int(bounds["max_price"]) == (2_600_010_000 + band) // 10_000 * 10_000
    assert int(bounds["min_price"]) == -(-(2_600_010_000 - band) // 10_000) * 10_000


def _active_body(nested_key: str) -> dict:
    order = {"order_id": "0x" + "11" * 32, "side": "buy", "order_type": "Spot", "price": "2500000000",
             "quantity": "1000000000", "price_fill": "0", "quantity_fill": "0", "timestamp": "5", "close": False,
             "partially_filled": False, "cancel": False}
    child = {"order_id": "0x" + "22" * 32, "side": "Sell", "order_type": {"Spot": {"price": "2600000000"}},
             "trigger_price": "2600000000", "status": "Active", "parent_order_id": order["order_id"]}
    lone = {"kind": "trigger", "order_id": "0x" + "33" * 32, "side": "Sell", "order_type": "Market",
            "trigger_price": 2400000000, "timestamp": 7, "sibling_order": {"order_id": "0x" + "44" * 32},
            "quantity": {"Quantity": {"quantity": "5"}}, "margin": {"new": "field"}}
    return {"identity": {"ContractId": "0x" + "77" * 32}, "market_id": M2.market_id,
            "entries": [dict(order, kind="order", **{nested_key: [child]}), lone, {"kind": "twap", "x": 1}],
            "next_timestamp": "7", "next_id": "0x" + "33" * 32, "next_kind": "trigger"}


def test_an_order_carrying_both_nested_names_keeps_every_trigger_once():
    body = _active_body("active_trigger_orders")
    order = body["entries"][0]
    order["triggers"] = []  # an empty leftover under the other name must not hide them
    assert [t.order_id[:4] for t in ActiveOrders.from_json(body, market=M2).orders[0].triggers] == ["0x22"]
    order["triggers"] = list(order["active_trigger_orders"])  # the same trigger twice: listed once
    assert len(ActiveOrders.from_json(body, market=M2).orders[0].triggers) == 1
    order["triggers"] = {"0": "not a list"}
    with pytest.raises(o2lite.O2Error, match="triggers is not a list"):
        ActiveOrders.from_json(body, market=M2)


@pytest.mark.parametrize("nested_key", ["triggers", "active_trigger_orders"])
@responses.activate
def test_active_orders_reads_both_official_shapes_and_the_cursor(nested_key):
    markets = {"books_registry_id": "0x" + "00" * 32, "accounts_registry_id": "0x" + "00" * 32,
               "trade_account_oracle_id": "0x" + "00" * 32, "chain_id": "0x2699", "base_asset_id": "0x" + "00" * 32,
               "markets": [CASES["client-cto-entry-stop-buy"]["market_fixture"]]}
    responses.get(f"{BASE}/v1/markets", json=markets)
    responses.get(f"{BASE}/v1/orders/active", json=_active_body(nested_key), match=[
        responses.matchers.query_param_matcher({"market_id": M2.market_id, "contract": "0x" + "77" * 32,
                                                "direction": "desc", "count": "200"})])
    with o2lite.Client(BASE) as client:
        page = client.orders.active("ETH/USDC", "0x" + "77" * 32)
    assert isinstance(page, ActiveOrders)
    (entry,) = page.orders
    assert entry.order.side == "Buy" and [t.trigger_price for t in entry.triggers] == [2_600_000_000]
    assert entry.triggers[0].trigger_price_human == 2600 and entry.triggers[0].is_active
    (lone,) = page.standalone
    assert (lone.quantity, lone.sibling_order, lone.timestamp) == (5, "0x" + "44" * 32, 7)
    assert lone.raw["margin"] == {"new": "field"} and page.other == ({"kind": "twap", "x": 1},)
    assert page.cursor.next_kind == "trigger" and page.cursor.next_timestamp == 7
    assert len(page.triggers) == 2


@pytest.mark.parametrize("code", range(7005, 7014))
def test_every_trigger_pre_flight_code_is_one_error_keeping_the_message(code):
    error = error_from_response(400, {"code": code, "message": "the server's own words"})
    assert isinstance(error, TriggerRejected) and isinstance(error, o2lite.InvalidRequest)
    assert error.message == "the server's own words" and error.names and error.code == code


def test_a_logged_trigger_revert_is_told_from_the_order_enum_of_the_same_name():
    reason = ('Revert(18446744073709486080); LogData { id: 0x1, ra: 0, rb: 1559614116885970782, ptr: 1, len: 8, '
              'digest: 0x2, pc: 3, is: 4, data: Some(Bytes(0000000000000004)) }; LogResult { results: [Ok("FractionalPrice")] }')
    info = describe_revert(reason, None)
    assert (info.error, info.name) == ("TriggerOrderCreationError", "FractionalPrice")
    plain = describe_revert('LogResult { results: [Ok("FractionalPrice")] }', None)
    assert plain.error == "OrderCreationError"  # no log id: the first enum, as before


def test_trigger_updates_from_an_orders_message_never_fail():
    message = {"action": "subscribe_orders",
               "orders": [{"order_id": "0x" + "11" * 32, "side": "Buy", "price": "1", "quantity": "1",
                           "triggers": [{"order_id": "0x" + "22" * 32, "side": "Sell", "trigger_price": "9"}]},
                          {"kind": "trigger", "order_id": "0x" + "33" * 32, "side": "Sell", "trigger_price": "8"}],
               "standalone_trigger_orders": [{"order_id": "0x" + "44" * 32, "side": "Buy", "trigger_price": "7",
                                              "status": "CanceledBySibling"}, {"weird": True}, "text"]}
    plain, updates = split_orders_message(message)
    assert [o["order_id"][:4] for o in plain] == ["0x11"]
    assert all(isinstance(u, TriggerUpdate) for u in updates)
    assert [u.trigger.trigger_price if u.trigger else None for u in updates] == [8, 9, 7, None, None]
    assert updates[2].trigger.status == "CanceledBySibling" and updates[3].problem
    assert split_orders_message({"standalone_trigger_orders": {"not": "a list"}})[1][0].trigger is None


def test_a_nested_trigger_reaches_only_its_orders_owner():
    """Nested triggers name no owner: they are routed by their order's, never to every subscription."""
    a, b = "0x" + "0a" * 32, "0x" + "0b" * 32
    registry = Registry(lambda message: True)
    subs = {}
    for who in (a, b):
        subs[who] = Subscription(lambda sub: None, "orders", (who,),
                                 {"action": "subscribe_orders", "identities": [{"ContractId": who}]}, 10)
        registry.add(subs[who])
    registry.dispatch(json.dumps({"action": "subscribe_orders", "orders": [
        {"order_id": "0x" + "01" * 32, "side": "Buy", "order_type": "Spot", "price": "100", "quantity": "5",
         "timestamp": "1", "owner": {"ContractId": a},
         "triggers": [{"order_id": "0x" + "11" * 32, "side": "Sell", "order_type": "Market", "trigger_price": "90"}]}]}))
    got_a = [subs[a].get(timeout=1) for _ in range(2)]
    assert isinstance(got_a[1], TriggerUpdate) and got_a[1].owner == a
    assert subs[b]._queue.empty()


def test_protecting_a_resting_order_is_checked_before_signing():
    """Side, fills and price of the parent: what the exchange would refuse after signing."""
    def parent(**changes):
        order = {"order_id": "0x" + "01" * 32, "side": "Buy", "order_type": "Spot", "price": "2500000000",
                 "quantity": "10000000", "quantity_fill": "0", "price_fill": "0", "timestamp": "1", "close": False,
                 "cancel": False, "partially_filled": False}
        return o2lite.models.Order.from_json(dict(order, **changes), "test", M2.market_id)

    plan = standalone_trigger(M2, "Sell", "2400", parent=parent())
    body = plan.action["CreateTriggerOrder"]
    assert body["parent"] == {"order_id": "0x" + "01" * 32, "expected_quantity": "10000000"}
    assert body["args"]["quantity"] == {"ParentOrder": {"parent_order_id": "0x" + "01" * 32}}
    with pytest.raises(ValidationError, match="closing side, Sell"):
        standalone_trigger(M2, "Buy", "2400", parent=parent())
    with pytest.raises(ValidationError, match="closing side, Sell"):
        oco_pair(M2, "Buy", "2600", "2400", parent=parent())
    with pytest.raises(ValidationError, match="already has fills"):
        standalone_trigger(M2, "Sell", "2400", parent=parent(quantity_fill="1000000", partially_filled=True))
    with pytest.raises(ValidationError, match="TriggerPriceSameAsParent"):
        oco_pair(M2, "Sell", "2600", "2500", parent=parent())
    elsewhere = o2lite.models.Order.from_json(dict(parent().raw, order_id="0x" + "01" * 32), "test", "0x" + "09" * 32)
    with pytest.raises(ValidationError, match="another market"):
        standalone_trigger(M2, "Sell", "2400", parent=elsewhere)


def test_trader_and_dry_run_trader_offer_the_trigger_methods():
    for name in ("place_with_triggers", "place_trigger", "place_oco", "cancel_trigger", "cancel_all_triggers",
                 "active_orders"):
        assert callable(getattr(o2lite.Trader, name))
    for name in ("place_with_triggers", "place_trigger", "place_oco", "cancel_trigger"):
        assert callable(getattr(o2lite.DryRunTrader, name))


@pytest.mark.parametrize("order_type", ["Spot", "Market", "FillOrKill", "PostOnly"])
def test_bounds_with_an_order_type_other_than_bounded_market_are_refused(order_type):
    """max_price/min_price shape a BoundedMarket only: with another type they were dropped without
    a word (review of issue 20: conflicting options raise before any request)."""
    with pytest.raises(ValidationError, match="belong to a BoundedMarket"):
        order_with_triggers(M2, "Buy", "2500", "0.01", order_type, stop_loss="2400", max_price="2510",
                            min_price="2490")
    with pytest.raises(ValidationError, match="belong to a BoundedMarket"):
        order_with_triggers(M2, "Buy", "2500", "0.01", order_type, stop_loss="2400", min_price="2490")
