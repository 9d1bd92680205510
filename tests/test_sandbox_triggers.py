"""Trigger orders end to end: the client's trading API against the sandbox over loopback."""

from __future__ import annotations

import json
import pathlib
import re
import warnings

import pytest

import o2lite
from o2lite import TransactionReverted, TriggerRejected, ValidationError
from o2lite.error_codes import ErrorCode
from o2lite.sandbox import Sandbox
from o2lite.streams.events import TriggerUpdate
from o2lite.triggers import TriggerSpec

PAIR = "FUEL/USDC"  # seeded: bids 0.0124 … 0.0120 (2000, 4000 … 10000 FUEL), asks 0.0126 … 0.0130


@pytest.fixture
def sandbox():
    with Sandbox() as sx:
        yield sx


@pytest.fixture
def client(sandbox):
    with o2lite.Client(sandbox.url) as c:
        yield c


def trader_in(client):
    trader = client.trader(o2lite.Wallet.generate())
    trader.setup_account(fund=True)
    trader.open_session([PAIR])
    return trader


def statuses(sandbox, account):
    return {t.order_id: t.status for t in sandbox.exchange.triggers.all.values() if t.account == account}


def locked(trader, symbol):
    return trader.balances()[symbol].total_locked


def test_a_stop_loss_fires_and_its_take_profit_is_cancelled(client, sandbox):
    me, mover = trader_in(client), trader_in(client)
    placed = me.place_with_triggers(PAIR, "Buy", "0.0126", "1000", take_profit="0.0140", stop_loss="0.0123")
    parent = placed.orders[0]
    assert parent.quantity_fill == 1000 * 10**9  # bought at the best ask
    legs = {t.trigger_price: t for t in me.active_orders(PAIR).triggers}
    assert sorted(legs) == [12300, 14000] and {t.side for t in legs.values()} == {"Sell"}
    assert all(t.parent_order_id == parent.order_id and t.quantity is None for t in legs.values())
    assert legs[12300].sibling_order == legs[14000].order_id
    mover.place(PAIR, "Sell", "0.0122", "7000", "Market")  # last trade 0.0122: at or below the stop
    assert me.active_orders(PAIR).triggers == ()
    assert statuses(sandbox, me.trade_account_id) == {legs[12300].order_id: "Activated",
                                                      legs[14000].order_id: "CanceledBySibling"}
    sold = [f for f in me.fills(PAIR) if f.side == "Sell"]
    assert sum(f.quantity for f in sold) == 1000 * 10**9 and {f.price for f in sold} == {12200}
    fuel = me.balances()["FUEL"]
    assert fuel.total == 100_000 * 10**9 and fuel.total_locked == 0


def test_an_oco_pair_escrows_the_first_lock_once_and_one_leg_cancels_the_other(client, sandbox):
    me, mover = trader_in(client), trader_in(client)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        me.place_oco(PAIR, "Sell", "0.0127", TriggerSpec("0.0119", limit_price="0.0118"), "500")
    assert not caught  # nothing to adjust
    first, second = sorted(me.active_orders(PAIR).standalone, key=lambda t: t.timestamp or 0)
    assert locked(me, "FUEL") == 500 * 10**9  # one lock (a sell escrows the base) for both legs
    mover.place(PAIR, "Buy", "0.0127", "3000", "Market")  # takes 0.0126 and 0.0127: the take-profit fires
    done = statuses(sandbox, me.trade_account_id)
    fired = next(t for t in (first, second) if t.trigger_price == 12700)
    other = first if fired is second else second
    assert done == {fired.order_id: "Activated", other.order_id: "CanceledBySibling"}
    assert locked(me, "FUEL") == 0 and me.balances()["FUEL"].total == 99_500 * 10**9
    assert me.active_orders(PAIR).triggers == ()


def test_a_buy_entry_stop_escrows_quote_and_becomes_an_order_on_a_rise(client, sandbox):
    me, mover = trader_in(client), trader_in(client)
    me.place_trigger(PAIR, "Buy", TriggerSpec("0.0127", limit_price="0.0128"), "100")
    assert locked(me, "USDC") == 100 * 12_800 * 10**9 // 10**9  # quantity × the limit price
    mover.place(PAIR, "Buy", "0.0127", "3000", "Market")
    (status,) = statuses(sandbox, me.trade_account_id).values()
    assert status == "Activated"
    bought = [f for f in me.fills(PAIR) if f.side == "Buy"]
    assert sum(f.quantity for f in bought) == 100 * 10**9 and locked(me, "USDC") == 0


def test_cancel_all_removes_every_trigger_and_returns_every_lock(client, sandbox):
    me = trader_in(client)
    resting = me.place(PAIR, "Buy", "0.0110", "1000").orders[0]
    me.place_with_triggers(PAIR, "Buy", "0.0111", "1000", take_profit="0.0150", stop_loss="0.0100")
    me.place_trigger(PAIR, "Sell", "0.0100", "200")
    me.place_oco(PAIR, "Sell", "0.0140", "0.0105", "300")
    me.place_trigger(PAIR, "Sell", TriggerSpec("0.0150"), parent=resting.order_id)
    before = me.active_orders(PAIR)
    assert len(before.triggers) == 6 and len(before.orders) == 2
    assert {len(o.triggers) for o in before.orders} == {1, 2}
    assert locked(me, "FUEL") == 500 * 10**9
    results = me.cancel_all_triggers(PAIR)
    assert len(results) == 2  # six cancels, five per request
    assert me.active_orders(PAIR).triggers == ()
    assert set(statuses(sandbox, me.trade_account_id).values()) == {"CanceledByUser"}
    assert locked(me, "FUEL") == 0
    assert len(me.open_orders(PAIR)) == 2  # the orders themselves stay


def test_cancelling_a_parent_cancels_its_legs(client, sandbox):
    me = trader_in(client)
    parent = me.place_with_triggers(PAIR, "Buy", "0.0110", "1000", stop_loss="0.0100").orders[0]
    me.cancel(parent)
    assert set(statuses(sandbox, me.trade_account_id).values()) == {"ParentOrderCanceled"}


def test_one_trigger_cancelled_and_the_cancel_revert_named(client, sandbox):
    me = trader_in(client)
    me.place_trigger(PAIR, "Sell", "0.0100", "200")
    (trigger,) = me.active_orders(PAIR).triggers
    me.cancel_trigger(trigger.order_id, PAIR)
    with pytest.raises(TransactionReverted) as caught:
        me.cancel_trigger(trigger.order_id, PAIR)
    assert (caught.value.revert.error, caught.value.revert.name) == ("TriggerOrderCancelError", "OrderDoesNotExist")


def test_on_chain_reverts_come_back_by_name(client, sandbox):
    me = trader_in(client)
    m = client.markets.get(PAIR)
    leg = {"order_type": "Market", "quantity": {"Quantity": {"quantity": "1000000000"}}, "trigger_price": "11000",
           "side": "Sell"}
    attached = {"CreateOrderWithTriggers": {"side": "Buy", "price": "12600", "quantity": "100000000000",
                                            "order_type": "Spot", "trigger_1": leg}}
    for action, name in ((attached, "QuantityMustBeParentOrder"),
                         ({"CreateTriggerOrder": {"args": dict(leg, trigger_price="0")}}, "ZeroTriggerPrice"),
                         ({"CreateTriggerOrder": {"args": dict(leg, quantity={"Quantity": {"quantity": "1"}})}},
                          "FractionalPrice")):
        with pytest.raises(TransactionReverted) as caught:
            me.submit([{"market_id": m.market_id, "actions": [action]}])
        assert (caught.value.revert.error, caught.value.revert.name) == ("TriggerOrderCreationError", name)


def test_pre_flight_rejections_are_trigger_rejections_and_spend_no_nonce(client, sandbox):
    me, mover = trader_in(client), trader_in(client)
    resting = me.place(PAIR, "Buy", "0.0125", "1000").orders[0]  # the best bid
    leg = {"order_type": "Market", "quantity": {"ParentOrder": {"parent_order_id": resting.order_id}},
           "trigger_price": "10000", "side": "Sell"}
    wrong = {"CreateTriggerOrder": {"args": leg, "parent": {"order_id": resting.order_id, "expected_quantity": "1"}}}
    nonce = me.refresh_nonce()
    with pytest.raises(TriggerRejected) as caught:
        me.submit([{"market_id": resting.market_id, "actions": [wrong]}])
    assert caught.value.code == ErrorCode.PARENT_QUANTITY_MISMATCH and "ParentQuantityMismatch" in caught.value.names
    assert "Parent quantity mismatch" in caught.value.message and "trigger order refused" in str(caught.value)
    assert me.refresh_nonce() == nonce
    with pytest.raises(TriggerRejected) as caught:  # both legs below the price: the same direction
        me.place_oco(PAIR, "Sell", "0.0110", "0.0100", "100")
    assert caught.value.code == ErrorCode.TRIGGER_PAIR_SAME_DIRECTION
    mover.place(PAIR, "Sell", "0.0125", "10", "Market")  # fills part of the resting order
    with pytest.raises(ValidationError, match="already has fills"):  # o2lite refuses it before signing
        me.place_trigger(PAIR, "Sell", "0.0100", parent=resting.order_id)
    quantity = str(resting.quantity)
    bound = {"CreateTriggerOrder": {"args": leg, "parent": {"order_id": resting.order_id,
                                                            "expected_quantity": quantity}}}
    with pytest.raises(TriggerRejected) as caught:  # another client's request: the exchange refuses it
        me.submit([{"market_id": resting.market_id, "actions": [bound]}])
    assert caught.value.code == ErrorCode.PARENT_ORDER_ALREADY_HAS_FILLS


def test_the_orders_stream_delivers_trigger_updates(client, sandbox):
    me, mover = trader_in(client), trader_in(client)
    with client.stream() as stream:
        sub = stream.orders(me)
        # An orders subscription has no answer of its own; the nonce snapshot that follows on the
        # same connection proves the server has read the orders request before anything is placed.
        stream.nonce(me).get(timeout=10)
        stream_ready = me.place(PAIR, "Buy", "0.0100", "10")
        assert sub.get(timeout=10).order_id == stream_ready.orders[0].order_id
        me.place_with_triggers(PAIR, "Buy", "0.0126", "1000", take_profit="0.0140", stop_loss="0.0123")
        mover.place(PAIR, "Sell", "0.0122", "7000", "Market")
        seen = {}
        for _ in range(20):
            event = sub.get(timeout=5)
            if isinstance(event, TriggerUpdate):
                seen[event.trigger.trigger_price] = event.trigger.status
            if seen.get(12300) == "Activated" and seen.get(14000) == "CanceledBySibling":
                break
        assert seen == {12300: "Activated", 14000: "CanceledBySibling"}


def test_triggers_survive_a_state_file(tmp_path):
    path = str(tmp_path / "state.json")
    with Sandbox(state=path) as sx, o2lite.Client(sx.url) as client:
        me = trader_in(client)
        me.place_trigger(PAIR, "Sell", "0.0100", "200")
        account = me.trade_account_id
    with Sandbox(state=path) as sx, o2lite.Client(sx.url) as client:
        (trigger,) = client.orders.active(PAIR, account).triggers
        assert trigger.trigger_price == 10_000 and trigger.quantity == 200 * 10**9
        assert client.accounts.balance(client.markets.get(PAIR).base.asset, contract=account).total_locked == 200 * 10**9


def test_a_limit_order_with_triggers_is_refused_before_anything_is_sent():
    unreachable = o2lite.Client("http://127.0.0.1:9")  # any request would fail with a connection error
    me = unreachable.trader(o2lite.Wallet.generate())
    with pytest.raises(ValidationError, match="Limit order cannot carry triggers"):
        me.place_with_triggers(PAIR, "Buy", "0.0126", "1000", "Limit", stop_loss="0.0120")
    with pytest.raises(ValidationError, match="take_profit, a stop_loss or both"):
        me.place_with_triggers(PAIR, "Buy", "0.0126", "1000")


def test_the_readme_take_profit_and_stop_loss_sample_runs(capsys):
    readme = (pathlib.Path(__file__).parent.parent / "README.rst").read_text()
    section = readme.split("Take-profit and stop-loss\n-------------------------\n", 1)[1]
    block = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", section).group(1)
    script = re.sub(r"^    ", "", block, flags=re.M)
    assert "Sandbox()" in script and "place_with_triggers" in script
    exec(compile(script, "README.rst", "exec"), {})
    assert capsys.readouterr().out.splitlines() == [
        "Sell at 0.0123 Active", "Sell at 0.014 Active", "still active: 0",
        "Sell 1000 FUEL at 0.0122", "Buy 1000 FUEL at 0.0126"]


def test_a_slippage_bounded_stop_becomes_a_bounded_market_order(client, sandbox):
    me, mover = trader_in(client), trader_in(client)
    me.place_with_triggers(PAIR, "Buy", "0.0126", "1000", stop_loss="0.0123", slippage_bps=100)
    (leg,) = me.active_orders(PAIR).triggers
    assert leg.order_type == {"MarketBounded": {"max_price": "12423", "min_price": "12177"}}
    mover.place(PAIR, "Sell", "0.0122", "7000", "Market")
    (trigger,) = [t for t in sandbox.exchange.triggers.all.values() if t.account == me.trade_account_id]
    made = sandbox.exchange.orders[trigger.order]
    assert trigger.status == "Activated" and made.order_type == {"BoundedMarket": {"max_price": "12423",
                                                                                    "min_price": "12177"}}
    assert made.filled == 1000 * 10**9 and made.fill_value == 1000 * 12_200  # inside the band, at 0.0122


def test_a_short_is_protected_by_buy_legs_and_a_market_buy_pays_from_its_funds(client, sandbox):
    me, mover = trader_in(client), trader_in(client)
    me.place_with_triggers(PAIR, "Sell", "0.0124", "1000", take_profit="0.0110", stop_loss="0.0127")
    assert {t.side for t in me.active_orders(PAIR).triggers} == {"Buy"}
    mover.place(PAIR, "Buy", "0.0127", "3000", "Market")  # the price rises to 0.0127: the stop fires
    assert sorted(statuses(sandbox, me.trade_account_id).values()) == ["Activated", "CanceledBySibling"]
    bought = [f for f in me.fills(PAIR) if f.side == "Buy"]
    assert [(f.quantity, f.price) for f in bought] == [(1000 * 10**9, 12_700)]
    usdc = me.balances()["USDC"]
    assert usdc.total_locked == 0 and usdc.total == 9_999_700_000  # 10000 + 12.4 − 12.7 USDC


def test_null_optionals_of_the_older_sdk_line_are_accepted_as_absent(client, sandbox):
    """An older official line sends "parent": null / "trigger_2": null; the signed bytes are the same."""
    me = trader_in(client)
    m = client.markets.get(PAIR)
    leg = {"order_type": "Market", "quantity": {"Quantity": {"quantity": "200000000000"}}, "trigger_price": "10000",
           "side": "Sell"}
    attached = {"side": "Buy", "price": "11000", "quantity": "100000000000", "order_type": "Spot",
                "trigger_1": dict(leg, quantity={"ParentOrder": {"parent_order_id": "0x" + "00" * 32}})}
    groups = [{"market_id": m.market_id, "actions": [{"CreateTriggerOrder": {"args": leg}},
                                                      {"CreateOrderWithTriggers": attached}]}]
    prepared = client.session.prepare_actions(me.session, groups)
    prepared.groups[0]["actions"][0]["CreateTriggerOrder"]["parent"] = None
    prepared.groups[0]["actions"][1]["CreateOrderWithTriggers"]["trigger_2"] = None
    request = client.session.actions_request(me.session, prepared, nonce=me.refresh_nonce())
    assert o2lite.check_body(request.body, client=client).ok
    request.send()
    assert len(me.active_orders(PAIR).triggers) == 2
    bad = dict(request.body)  # a null where no optional exists is still refused
    bad_groups = json.loads(json.dumps(bad["actions"]))
    bad_groups[0]["actions"][0]["CreateTriggerOrder"]["extra"] = None
    assert not o2lite.check_body(dict(bad, actions=bad_groups), client=client).ok


def test_an_oco_leg_that_cannot_make_its_order_leaves_its_sibling_funded(client, sandbox):
    """The first leg to fire ends ForceCanceled (its order is below the market's minimum); the
    pair's one escrow must stay locked behind the sibling, which still fires with it."""
    me, mover = trader_in(client), trader_in(client)
    m = client.markets.get(PAIR)
    small = {"order_type": {"Spot": {"price": "12700"}}, "quantity": {"Quantity": {"quantity": "5000000000"}},
             "trigger_price": "12700", "side": "Sell"}  # 5 FUEL × 0.0127 = 0.0635 USDC < min_order 0.1
    stop = {"order_type": "Market", "quantity": {"Quantity": {"quantity": "10000000000"}}, "trigger_price": "12300",
            "side": "Sell"}  # the larger lock, first
    me.submit([{"market_id": m.market_id, "actions": [{"CreateTriggerOrders": {"first": stop, "second": small}}]}])
    assert locked(me, "FUEL") == 10 * 10**9
    mover.place(PAIR, "Buy", "0.0127", "3000", "Market")
    by_price = {t.trigger_price: t for t in sandbox.exchange.triggers.all.values() if t.account == me.trade_account_id}
    assert (by_price[12700].status, by_price[12300].status) == ("ForceCanceled", "Active")
    assert locked(me, "FUEL") == 10 * 10**9  # still escrowed for the active sibling
    mover.place(PAIR, "Sell", "0.0122", "7000", "Market")
    assert by_price[12300].status == "Activated" and locked(me, "FUEL") == 0
    assert sum(f.quantity for f in me.fills(PAIR) if f.side == "Sell") == 10 * 10**9


def test_cancel_all_reads_the_active_orders_again_until_none_is_left(client, sandbox):
    """GET /v1/orders/active answers one page: triggers beyond it must not be left behind silently."""
    me = trader_in(client)
    for price in ("0.0100", "0.0101", "0.0102", "0.0103", "0.0104", "0.0105", "0.0106"):
        me.place_trigger(PAIR, "Sell", price, "100")
    one_page = client.orders.active
    client.orders.active = lambda market, account, **kw: one_page(market, account, count=3)  # a small page
    results = me.cancel_all_triggers(PAIR)
    client.orders.active = one_page
    assert me.active_orders(PAIR).triggers == () and len(results) == 3  # rounds of 3, 3 and 1
    assert set(statuses(sandbox, me.trade_account_id).values()) == {"CanceledByUser"} and locked(me, "FUEL") == 0


def test_a_pair_the_first_lock_cannot_cover_is_reverted(client, sandbox):
    """The chain escrows only the first leg's lock for both: a cheaper first leg, or legs of two
    sides, would leave the second unfunded (the official SDK: a rejection after signing)."""
    me = trader_in(client)
    m = client.markets.get(PAIR)
    small = {"order_type": "Market", "quantity": {"Quantity": {"quantity": "10000000000"}}, "trigger_price": "14000",
             "side": "Sell"}
    big = dict(small, quantity={"Quantity": {"quantity": "90000000000"}}, trigger_price="11000")
    for first, second, name in ((small, big, "InvalidInputAmount"), (dict(small, side="Buy"), big, "InvalidAsset")):
        with pytest.raises(TransactionReverted) as caught:
            me.submit([{"market_id": m.market_id, "actions": [{"CreateTriggerOrders": {"first": first,
                                                                                        "second": second}}]}])
        assert (caught.value.revert.error, caught.value.revert.name) == ("TriggerOrderCreationError", name)
    assert me.active_orders(PAIR).triggers == () and locked(me, "FUEL") == 0
    me.submit([{"market_id": m.market_id, "actions": [{"CreateTriggerOrders": {"first": big, "second": small}}]}])
    assert len(me.active_orders(PAIR).triggers) == 2 and locked(me, "FUEL") == 90 * 10**9
