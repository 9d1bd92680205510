"""Markets group: what is sent and what is parsed, disputed shapes both ways."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from responses import matchers

import o2lite

from .conftest import BASE, MARKETS_BODY

M1 = "0x" + "a1" * 32


def q(**params):
    return [matchers.query_param_matcher(params)]


def test_list_parses_and_normalises(client):
    info = client.markets.info()
    assert info.chain_id == 0x2699 and info.accounts_registry_id == "0x" + "e2" * 32
    second = info.markets[1]
    assert second.market_id == "0x" + "a2" * 32 and second.contract_id == "0x" + "c2" * 32
    assert second.pair == "ETH/USDC" and second.taker_fee == 100 and second.min_order == 1_000_000
    assert info.raw is not None and second.raw["market_id"] == "A2" * 32


def test_chain_id_decimal(mocked):
    mocked.get(BASE + "/v1/markets", json=dict(MARKETS_BODY, chain_id="9889"))
    assert o2lite.Client("testnet").markets.info().chain_id == 9889


def test_find_market_by_pair_id_and_contract(client, mocked):
    assert client.markets.get("fuel/usdc").market_id == M1
    assert client.markets.get("0x" + "A1" * 32).pair == "FUEL/USDC"
    assert client.markets.get("0x" + "c2" * 32).pair == "ETH/USDC"
    assert len([c for c in mocked.calls if c.request.url.endswith("/v1/markets")]) == 1  # cached
    with pytest.raises(o2lite.ValidationError, match="unknown market 'BTC/USDC'"):
        client.markets.get("BTC/USDC")


def test_by_id_follows_a_refresh(client, mocked):
    first = client.markets.by_id()
    assert list(first) == ["0x" + "a1" * 32, "0x" + "a2" * 32] and first["0x" + "a1" * 32].pair == "FUEL/USDC"
    assert client.markets.by_id() is first  # built once per answer
    with pytest.raises(TypeError):
        first["0x" + "a3" * 32] = first["0x" + "a1" * 32]  # read-only: a caller cannot corrupt the cache
    mocked.replace(mocked.GET, BASE + "/v1/markets", json=dict(MARKETS_BODY, markets=MARKETS_BODY["markets"][1:]))
    client.markets.refresh()
    assert list(client.markets.by_id()) == ["0x" + "a2" * 32]


def test_missing_field_names_field_and_endpoint(mocked):
    bad = dict(MARKETS_BODY, markets=[{"market_id": M1}])
    mocked.get(BASE + "/v1/markets", json=bad)
    with pytest.raises(o2lite.O2Error, match="/v1/markets.*'contract_id'"):
        o2lite.Client("testnet").markets.info()


@pytest.mark.parametrize("body", [
    {"action": "snapshot", "market_id": M1, "orders": {"buys": [{"price": "100", "quantity": "5"}, {"price": "300", "quantity": 1}],
                                                      "sells": [["500", "2"], ["400", "3"]]}},
    {"market_id": M1, "view": {"buys": [["300", "1"], ["100", "5"]], "sells": [{"price": 400, "quantity": "3"}, ["500", "2"]]}},
    {"buys": [["100", "5"], ["300", "1"]], "sells": [["400", "3"], ["500", "2"]]},
])
def test_depth_shapes(client, mocked, body):
    mocked.get(BASE + "/v1/depth", json=body, match=q(market_id=M1, precision=str(10**3), limit="1"))
    depth = client.markets.depth("FUEL/USDC", precision=3, limit=1)
    assert [(lv.price, lv.quantity) for lv in depth.buys] == [(300, 1)]
    assert [(lv.price, lv.quantity) for lv in depth.sells] == [(400, 3)]


def test_depth_precision_checked_before_request(client, mocked):
    for bad in (0, 19, "x"):
        with pytest.raises(o2lite.ValidationError):
            client.markets.depth("FUEL/USDC", precision=bad)
    assert not any("/v1/depth" in c.request.url for c in mocked.calls)


@pytest.mark.parametrize("wrap", [lambda x: x, lambda x: {"trades": x}])
def test_trades_page(client, mocked, wrap):
    trades = [{"trade_id": "7", "side": "sell", "price": "100", "quantity": 2, "total": "200", "timestamp": 1700000000000,
               "maker": {"ContractId": "0x" + "AA" * 32}, "taker": "0x" + "bb" * 32}]
    mocked.get(BASE + "/v1/trades", json=wrap(trades), match=q(market_id=M1, direction="desc", count="10"))
    (t,) = client.markets.trades("FUEL/USDC", count=10)
    assert (t.trade_id, t.side, t.price, t.quantity, t.total) == ("7", "Sell", 100, 2, 200)
    assert t.maker == "0x" + "aa" * 32 and t.taker == "0x" + "bb" * 32


def test_trade_cursor_both_or_neither(client):
    with pytest.raises(o2lite.ValidationError, match="both"):
        client.markets.trades("FUEL/USDC", start_timestamp=5)
    with pytest.raises(o2lite.ValidationError):
        client.markets.trades("FUEL/USDC", count=51)


def _trade(i, ts):
    return {"trade_id": str(i), "side": "Buy", "price": "1", "quantity": "1", "timestamp": ts}


def test_iter_trades_follows_cursor_and_drops_boundary(client, mocked):
    page1 = [_trade(5, 50), _trade(4, 40)]
    page2 = [_trade(4, 40), _trade(3, 30)]  # server repeats the boundary item
    page3 = [_trade(3, 30)]  # short page: stop
    mocked.get(BASE + "/v1/trades", json=page1, match=q(market_id=M1, direction="desc", count="2"))
    mocked.get(BASE + "/v1/trades", json=page2, match=q(market_id=M1, direction="desc", count="2",
                                                        start_timestamp="40", start_trade_id="4"))
    mocked.get(BASE + "/v1/trades", json=page3, match=q(market_id=M1, direction="desc", count="2",
                                                        start_timestamp="30", start_trade_id="3"))
    assert [t.trade_id for t in client.markets.iter_trades("FUEL/USDC", page_size=2)] == ["5", "4", "3"]
    assert [t.trade_id for t in client.markets.iter_trades("FUEL/USDC", page_size=2, max_items=1)] == ["5"]


def test_account_trades(client, mocked):
    account = "0x" + "cc" * 32
    mocked.get(BASE + "/v1/trades_by_account", json={"trades": [_trade(1, 10)]},
               match=q(market_id=M1, contract=account, direction="asc", count="50"))
    assert [t.trade_id for t in client.markets.iter_account_trades("FUEL/USDC", account, direction="asc")] == ["1"]


def test_bars(client, mocked):
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    mocked.get(BASE + "/v1/bars", json={"bars": [
        {"time": 1767225600000, "open": "1", "high": 3, "low": "1", "close": "2", "volume": "10"},
        {"timestamp": 1767225660000, "open": "2", "high": "2", "low": "2", "close": "2", "buy_volume": "1", "sell_volume": 2}]},
        match=q(market_id=M1, **{"from": "1767225600000", "to": "1767229200000", "resolution": "1m"}))
    bars = client.markets.bars("FUEL/USDC", "1m", start, 1767229200000)
    assert [(b.time, b.high, b.volume) for b in bars] == [(1767225600000, 3, 10), (1767225660000, 2, 3)]
    with pytest.raises(o2lite.ValidationError, match="resolution"):
        client.markets.bars("FUEL/USDC", "7m", 0, 1)


@pytest.mark.parametrize("body", [{"market_id": M1, "last_price": "123", "volume_24h": 9}, [{"market_id": M1, "price": 123, "volume": "9"}]])
def test_ticker_and_summary_shapes(client, mocked, body):
    mocked.get(BASE + "/v1/markets/ticker", json=body, match=q(market_id=M1))
    mocked.get(BASE + "/v1/markets/summary", json=body, match=q(market_id=M1))
    for stats in (client.markets.ticker("FUEL/USDC"), client.markets.summary("FUEL/USDC")):
        assert (stats.market_id, stats.last_price, stats.volume_24h) == (M1, 123, 9)


def test_market_scaling_rejects_float(client):
    market = client.markets.get("FUEL/USDC")
    with pytest.raises(o2lite.ValidationError, match="float"):
        market.scale_price(0.1)
    assert market.scale_price(Decimal("0.123456")) == 123456
    assert market.format_quantity(1_500_000_000) == Decimal("1.5")
