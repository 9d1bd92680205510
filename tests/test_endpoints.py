"""Orders, accounts, analytics, aggregated, faucet and session groups: sent and parsed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from responses import matchers

import o2lite

from .conftest import BASE

M1 = "0x" + "a1" * 32
ACCOUNT = "0x" + "cc" * 32
OWNER = "0x" + "dd" * 32
ASSET = "0x" + "d1" * 32
FAUCET = "https://fuel-o2-faucet.vercel.app/api/testnet/mint-v2"


def q(**params):
    return [matchers.query_param_matcher(params)]


def _order(i, ts, **over):
    order = {"order_id": "0x" + f"{i:02x}" * 32, "side": "buy", "order_type": "Spot", "price": "100",
             "price_fill": "0", "quantity": "5", "quantity_fill": 0, "timestamp": ts, "close": False,
             "partially_filled": False, "cancel": False}
    order.update(over)
    return order


def test_orders_list_and_open_flag(client, mocked):
    mocked.get(BASE + "/v1/orders", json={"identity": {"ContractId": ACCOUNT}, "market_id": M1,
                                          "orders": [_order(1, 5), _order(2, 4, close=True)]},
               match=q(market_id=M1, contract=ACCOUNT, direction="desc", count="200", is_open="true"))
    page = client.orders.list("FUEL/USDC", ACCOUNT, is_open=True)
    assert page.identity == ACCOUNT and [o.is_open for o in page.orders] == [True, False]
    assert page.orders[0].side == "Buy" and page.orders[0].market_id == M1
    assert page.orders[0].market.pair == "FUEL/USDC"  # attached while parsing: *_human works


def test_a_page_naming_no_market_is_the_asked_market(client, mocked):
    mocked.get(BASE + "/v1/orders", json=[_order(1, 5), _order(2, 4, market_id="0x" + "a2" * 32)])
    page = client.orders.list("FUEL/USDC", ACCOUNT)
    assert page.market_id == M1 and page.orders[0].market_id == M1 and page.orders[0].market.pair == "FUEL/USDC"
    assert page.orders[1].market is None  # an order of another market never gets this one's scale


def test_iter_orders(client, mocked):
    mocked.get(BASE + "/v1/orders", json={"orders": [_order(3, 30), _order(2, 20)]},
               match=q(market_id=M1, contract=ACCOUNT, direction="desc", count="2"))
    mocked.get(BASE + "/v1/orders", json={"orders": [_order(2, 20)]},
               match=q(market_id=M1, contract=ACCOUNT, direction="desc", count="2", start_timestamp="20",
                       start_order_id="0x" + "02" * 32))
    assert [o.timestamp for o in client.orders.iter_orders("FUEL/USDC", ACCOUNT, page_size=2)] == [30, 20]


@pytest.mark.parametrize("wrap", [lambda o: {"order": o}, lambda o: o])
def test_get_order(client, mocked, wrap):
    oid = "0x" + "0f" * 32
    mocked.get(BASE + "/v1/order", json=wrap(_order(15, 1, quantity=7)), match=q(market_id=M1, order_id=oid))
    order = client.orders.get("FUEL/USDC", oid.upper().replace("0X", "0x"))
    assert order.quantity == 7 and order.market_id == M1 and order.market.pair == "FUEL/USDC"


def test_order_missing_field(client, mocked):
    mocked.get(BASE + "/v1/order", json={"order": {"order_id": "0x" + "01" * 32}})
    with pytest.raises(o2lite.O2Error, match="GET /v1/order.*'side'"):
        client.orders.get("FUEL/USDC", "0x" + "01" * 32)


def test_account_create(client, mocked):
    mocked.post(BASE + "/v1/accounts", json={"trade_account_id": ACCOUNT.upper().replace("0X", ""), "nonce": "0"},
                match=[matchers.json_params_matcher({"identity": {"Address": OWNER}})])
    created = client.accounts.create(OWNER)
    assert created.trade_account_id == ACCOUNT and created.nonce == 0


def test_account_get(client, mocked):
    mocked.get(BASE + "/v1/accounts", match=q(owner=OWNER), json={
        "trade_account_id": ACCOUNT, "trade_account": {"nonce": "0x10", "owner": {"Address": OWNER},
                                                       "last_modification": 1},
        "session": {"session_id": {"Address": "0x" + "ee" * 32}, "expiry": "1800000000", "contract_ids": ["0x" + "c1" * 32]}})
    account = client.accounts.get(owner=OWNER)
    assert account.exists and account.nonce == 16 and account.owner == OWNER
    assert account.session.expiry == 1800000000 and account.session.session_id == "0x" + "ee" * 32
    mocked.get(BASE + "/v1/accounts", match=q(trade_account_id=ACCOUNT),
               json={"trade_account_id": None, "trade_account": None, "session": None})
    assert not client.accounts.get(trade_account_id=ACCOUNT).exists


def test_account_lookup_needs_exactly_one(client, mocked):
    for kwargs in ({}, {"owner": OWNER, "trade_account_id": ACCOUNT}):
        with pytest.raises(o2lite.ValidationError, match="exactly one"):
            client.accounts.get(**kwargs)
    with pytest.raises(o2lite.ValidationError):
        client.accounts.balance(ASSET, contract=ACCOUNT, address=OWNER)
    with pytest.raises(o2lite.ValidationError, match="32 bytes"):
        client.accounts.get(owner="0x1234")
    assert [c.request.url for c in mocked.calls] == []


def test_balance(client, mocked):
    mocked.get(BASE + "/v1/balance", match=q(asset_id=ASSET, contract=ACCOUNT), json={
        "order_books": {"0x" + "C1" * 32: {"locked": "10", "unlocked": 5}}, "total_locked": "10",
        "total_unlocked": "25", "trading_account_balance": "20"})
    bal = client.accounts.balance(ASSET, contract=ACCOUNT)
    assert bal.total == 35 and bal.order_books["0x" + "c1" * 32].locked == 10


def test_nonce_window(client, mocked):
    mocked.get(BASE + "/v1/accounts/window", match=q(trade_account_id=ACCOUNT, nonce_session_id="2"),
               json={"nonce_session_id": 2, "base": "0", "slots": [{"word_position": "0", "bitmap": "3"}]})
    assert client.accounts.nonce_window(ACCOUNT, 2).first_free() == (0, 2)


def test_analytics(client, mocked):
    mocked.post(BASE + "/analytics/v1/whitelist", json={"success": True, "tradeAccount": ACCOUNT, "alreadyWhitelisted": True},
                match=[matchers.json_params_matcher({"tradeAccount": ACCOUNT})])
    assert client.analytics.whitelist(ACCOUNT).already_whitelisted
    mocked.get(BASE + "/analytics/v1/referral/code-info", json={"valid": True, "ownerAddress": OWNER, "isActive": False},
               match=q(code="ABC"))
    info = client.analytics.referral_info("ABC")
    assert info.valid and info.owner_address == OWNER and info.is_active is False


def test_aggregated_map_and_list_shapes(client, mocked):
    mocked.get(BASE + "/v1/aggregated/assets", json={"FUEL": {"name": "Fuel"}, "USDC": {"name": "USD Coin"}})
    assert [a.symbol for a in client.aggregated.assets()] == ["FUEL", "USDC"]
    mocked.get(BASE + "/v1/aggregated/ticker", json={"FUEL_USDC": {"last_price": "0.0123", "base_volume": 5}})
    mocked.get(BASE + "/v1/aggregated/summary", json=[{"trading_pairs": "FUEL_USDC", "last_price": 0.5}])
    (ticker,) = client.aggregated.ticker()
    assert ticker.pair == "FUEL_USDC" and ticker.last_price == Decimal("0.0123") and ticker.base_volume == 5
    assert client.aggregated.summary()[0].last_price == Decimal("0.5")
    mocked.get(BASE + "/v1/aggregated/orderbook", match=q(market_pair="FUEL_USDC", depth="10", level="2"),
               json={"timestamp": 1, "bids": [["0.1", "5"]], "asks": [{"price": "0.2", "quantity": "1"}]})
    book = client.aggregated.orderbook("fuel/usdc", depth=10)
    assert book.bids == ((Decimal("0.1"), Decimal(5)),) and book.asks[0][0] == Decimal("0.2")
    mocked.get(BASE + "/v1/aggregated/trades", match=q(market_pair="FUEL_USDC"),
               json=[{"trade_id": 9, "price": "0.1", "base_volume": "2", "timestamp": 5, "type": "buy"}])
    assert client.aggregated.trades("FUEL_USDC")[0].trade_id == "9"
    with pytest.raises(o2lite.ValidationError):
        client.aggregated.orderbook("FUEL-USDC")
    with pytest.raises(o2lite.ValidationError):
        client.aggregated.orderbook("FUEL_USDC", depth=501)


def test_faucet(client, mocked):
    mocked.post(FAUCET, json={"message": "minted"}, match=[matchers.json_params_matcher({"address": OWNER})])
    assert client.faucet.mint_to_address(OWNER).message == "minted"
    mocked.post(FAUCET, status=429, json={"error": "Please wait 60 seconds"},
                match=[matchers.json_params_matcher({"contract": ACCOUNT})])
    with pytest.raises(o2lite.O2Error, match="60 seconds"):
        client.faucet.mint_to_contract(ACCOUNT)


def test_faucet_error_body_under_200(client, mocked):
    mocked.post(FAUCET, json={"error": "cooldown"})
    with pytest.raises(o2lite.O2Error, match="cooldown"):
        client.faucet.mint_to_address(OWNER)


def test_no_faucet_on_mainnet(mocked):
    with o2lite.Client("mainnet") as c:
        with pytest.raises(o2lite.ValidationError, match="no faucet on mainnet"):
            c.faucet.mint_to_address(OWNER)
    assert len(mocked.calls) == 0


def test_session_actions_limits_checked_locally(client, mocked):
    action = {"CancelOrder": {"order_id": "0x" + "01" * 32}}
    body = {"actions": [{"market_id": M1, "actions": [action] * 6}]}
    with pytest.raises(o2lite.ValidationError, match="at most 5 actions"):
        client.session.actions(OWNER, body)
    with pytest.raises(o2lite.ValidationError, match="no actions"):
        client.session.actions(OWNER, {"actions": []})
    assert not mocked.calls or all("/session" not in c.request.url for c in mocked.calls)


def test_session_sends_owner_header_and_requires_tx_id(client, mocked):
    body = {"actions": [{"market_id": M1, "actions": [{"CancelOrder": {"order_id": "0x" + "01" * 32}}]}], "nonce": "3"}
    mocked.post(BASE + "/v1/session/actions", json={"tx_id": "0xabc", "orders": [_order(1, 1)]},
                match=[matchers.header_matcher({"O2-Owner-Id": OWNER}), matchers.json_params_matcher(body)])
    result = client.session.actions(OWNER, body)
    assert result.tx_id == "0xabc" and result.orders[0].quantity == 5
    mocked.put(BASE + "/v1/session", json={"message": "ok but no tx"})
    with pytest.raises(o2lite.SubmissionUnknown, match="missing field 'tx_id'"):  # landed or not: unknown
        client.session.update(OWNER, {"contract_ids": ["0x" + "c1" * 32]})
    sent = json.loads(mocked.calls[-1].request.body)
    assert sent == {"contract_ids": ["0x" + "c1" * 32]}
