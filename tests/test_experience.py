"""A client people enjoy (issue #12): human units, fills and PnL, pacing, partial batches, named
reverts, the parallel-support probe."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import requests
import responses

import o2lite
from o2lite import Wallet
from o2lite.errors import BatchIncomplete, SubmissionUnknown
from o2lite.fills import Fill, pnl
from o2lite.market import Market
from o2lite.pacing import RateWindow
from o2lite.reverts import describe_revert
from o2lite.sandbox import Exchange

from .exchange_mock import SANDBOX, ExchangeMock

MARKET = Market.from_json({"contract_id": "0x" + "01" * 32, "market_id": "0x" + "02" * 32, "min_order": "0",
                           "taker_fee": "1000", "maker_fee": "0",
                           "base": {"symbol": "FUEL", "asset": "0x" + "03" * 32, "decimals": 9, "max_precision": 3},
                           "quote": {"symbol": "USDC", "asset": "0x" + "04" * 32, "decimals": 6,
                                     "max_precision": 6}})


def fill(side: str, price: str, quantity: str, ts: int, fee: int = 0) -> Fill:
    return Fill(str(ts), MARKET, side, "taker", MARKET.scale_price(price), MARKET.scale_quantity(quantity), fee, False,
                ts)


def test_pnl_by_average_cost():
    fills = [fill("Buy", "1.00", "10", 1), fill("Buy", "2.00", "10", 2),  # 20 at 1.50
             fill("Sell", "3.00", "5", 3),  # realises (3 − 1.5) × 5 = 7.5
             fill("Sell", "1.00", "20", 4)]  # closes 15 at −0.5 each (−7.5), opens a short of 5 at 1.00
    result = pnl(MARKET, fills)
    assert result.position == -5 * 10**9 and result.average_entry == MARKET.scale_price("1.00")
    assert result.realised == 0 and result.fills == 4
    report = result.human()
    assert report["position"] == Decimal("-5") and report["average_entry"] == Decimal("1")
    covered = pnl(MARKET, fills + [fill("Buy", "0.50", "5", 5, fee=MARKET.scale_quantity("1"))])
    assert covered.position == 0 and covered.realised == MARKET.scale_price("2.5")  # (1.00 − 0.50) × 5
    assert covered.fees == MARKET.scale_price("0.5")  # a fee of 1 FUEL valued at 0.50
    assert covered.net == covered.realised - covered.fees and covered.human()["net"] == Decimal("2")
    # the same *_human accessors as Order, Balance and Fill
    assert (covered.position_human, covered.realised_human, covered.fees_human, covered.net_human) == (
        Decimal("0"), Decimal("2.5"), Decimal("0.5"), Decimal("2"))
    assert result.position_human == Decimal("-5") and result.average_entry_human == Decimal("1")


@pytest.mark.parametrize("reason,receipts,message,name,error", [
    ('LogResult { results: [Ok("OrderPartiallyFilled")] }', None, "Revert(18446744073709486080)",
     "OrderPartiallyFilled", "OrderCreationError"),
    ('LogResult { results: [Ok(\\"NotEnoughBalance\\")] }', None, "Failed to process transaction",
     "NotEnoughBalance", "WithdrawError"),
    ("Receipts: LogData { id: 0x00, ra: 0, rb: 12033795032676640771, ptr: 1, len: 8, digest: 0x00, "
     "pc: 1, is: 1, data: Some(Bytes(0000000000000007)) } Revert { id: 0x00, ra: 18446744073709486080 }",
     None, "Failed to process transaction", "OrderNotFilled", "OrderCreationError"),
    ("", [{"Revert": {"ra": 123}}], "Failed to process transaction", "MismatchedSelector", None),
    ("require failed: No upgrade available", None, "Revert(18446744073709486080)", "NoUpgradeAvailable", "Proxy"),
    ("", None, "Revert(18446744073709486084)", "FailedAssert", None),
])
def test_reverts_are_named(reason, receipts, message, name, error):
    info = describe_revert(reason, receipts, message)
    assert info is not None and info.name == name and info.error == error
    assert describe_revert("something else entirely", None, "Revert(7)") is None


@pytest.fixture
def exchange():
    return Exchange()


@pytest.fixture
def client(exchange):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock = ExchangeMock(rsps, exchange)
        with o2lite.Client(SANDBOX) as c:
            c.mock = mock  # type: ignore[attr-defined]
            yield c


def funded(client):
    trader = client.trader(Wallet.generate())
    trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC", "ETH/USDC"], nonce_kind="parallel")
    return trader


def test_human_accessors_and_named_reverts_end_to_end(client):
    trader = funded(client)
    order = trader.place("FUEL/USDC", "Buy", "0.0121", "150").orders[0]
    assert (order.price_human, order.quantity_human, order.filled_human, order.state) == \
        (Decimal("0.0121"), Decimal("150"), Decimal("0"), "open")
    listed = client.orders.get("FUEL/USDC", order.order_id)
    assert listed.price_human == Decimal("0.0121")
    usdc = trader.balances()["USDC"]
    assert usdc.total_human == Decimal("10000") and usdc.locked_human == Decimal("1.815")
    with pytest.raises(o2lite.TransactionReverted) as info:
        trader.place("FUEL/USDC", "Buy", "0.0130", "10", post_only=True)
    assert info.value.revert.name == "OrderPartiallyFilled" and info.value.code is None
    assert "PostOnly" in str(info.value)
    with pytest.raises(o2lite.TransactionReverted, match="not enough USDC: 9998.185 available"):
        trader.place("FUEL/USDC", "Buy", "0.0120", "900000")


def test_fills_side_role_and_fee(client):
    trader = funded(client)
    trader.place("FUEL/USDC", "Buy", "0.0126", "700", "Market")
    trader.place("FUEL/USDC", "Sell", "0.0140", "100")  # rests: no fill
    fills = trader.fills("FUEL/USDC")
    assert len(fills) == 1
    (f,) = fills
    assert (f.side, f.role, f.price_human, f.quantity_human) == ("Buy", "taker", Decimal("0.0126"), Decimal("700"))
    assert f.fee_asset == "FUEL" and f.fee_estimated
    assert trader.fills("FUEL/USDC", since=int(time.time() * 1000) + 60_000) == []
    report = trader.pnl("FUEL/USDC").human()
    assert report["position"] == Decimal("700") and report["average_entry"] == Decimal("0.0126")


class CountingWindow(RateWindow):
    """A window on a fake clock that records each request's limit class."""

    def __init__(self, log):
        now = [0.0]
        super().__init__(5, 1.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
        self.log = log

    def acquire(self):
        self.log.append("acquired")
        return super().acquire()


def counting_windows(monkeypatch):
    paced, windows = [], {}

    def window_for(base_url, owner, kind):
        return windows.setdefault((owner, kind), CountingWindow(paced))

    monkeypatch.setattr(o2lite.trader, "window_for", window_for)
    return paced


def test_batch_paced_and_partial_failure_reports_what_landed(client, monkeypatch):
    trader = funded(client)
    paced = counting_windows(monkeypatch)
    batch = trader.batch()
    for i in range(12):
        batch.place("FUEL/USDC", "Buy", "0.0110", str(10 + i))
    client.mock.fail_next.extend([])  # nothing fails: three requests, each paced
    results = batch.send()
    assert len(results) == 3 and paced == ["acquired"] * 3
    batch = trader.batch()
    for i in range(12):
        batch.place("FUEL/USDC", "Buy", "0.0110", str(10 + i))
    original = trader.submit
    calls = []

    def flaky(groups, **kw):
        calls.append(groups)
        if len(calls) == 2:
            raise SubmissionUnknown("lost", nonce=7, nonce_kind="parallel", trade_account_id=trader.trade_account_id)
        return original(groups, **kw)

    monkeypatch.setattr(trader, "submit", flaky)
    with pytest.raises(BatchIncomplete) as info:
        batch.send()
    assert len(info.value.landed) == 1 and len(info.value.not_sent) == 1
    assert isinstance(info.value.cause, SubmissionUnknown) and "reconcile" in info.value.message


def test_cancel_all_is_paced_by_default(client, monkeypatch):
    trader = funded(client)
    for i in range(7):
        trader.place("FUEL/USDC", "Buy", "0.0110", str(10 + i), settle_first=False)
    paced = counting_windows(monkeypatch)
    assert len(trader.cancel_all("FUEL/USDC")) == 2 and paced == ["acquired", "acquired"]
    assert trader.open_orders("FUEL/USDC") == []


def test_supports_parallel_probes_once(client, exchange):
    trader = funded(client)
    sent = len(client.mock.posts("/v1/session/actions"))
    assert trader.supports_parallel() is True and trader.supports_parallel() is True
    assert len(client.mock.posts("/v1/session/actions")) == sent + 1
    exchange.legacy_accounts = True
    legacy = funded(client)
    assert legacy.supports_parallel() is False
    assert legacy.upgrade().upgraded
    legacy._parallel_support = None
    assert legacy.supports_parallel() is True


def test_lost_answer_on_a_signed_request_during_a_batch_is_unknown_not_retried(client):
    trader = funded(client)
    trader.place("FUEL/USDC", "Buy", "0.0110", "10")
    client.mock.fail_next.append(requests.ConnectionError("Connection reset by peer"))
    with pytest.raises(SubmissionUnknown):
        trader.place("FUEL/USDC", "Buy", "0.0110", "11")
