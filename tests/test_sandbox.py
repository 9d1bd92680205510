"""End to end over real sockets: the client against the sandbox exchange on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest

import o2lite
from o2lite import EvmWallet, Wallet
from o2lite.errors import InvalidRequest, InvalidSignature, NonceRejected, RateLimited, SessionInvalid
from o2lite.nonce import pack_parallel_nonce
from o2lite.sandbox import Sandbox


@pytest.fixture
def sandbox():
    with Sandbox() as sx:
        yield sx


@pytest.fixture
def client(sandbox):
    with o2lite.Client(sandbox.url) as c:
        yield c


def totals(exchange) -> Counter:
    """Every unit of every asset the exchange holds anywhere (accounts, books, fees, wallets)."""
    out: Counter = Counter()
    for (_, bucket), value in exchange.ledger.funds.items():
        out[bucket[-1]] += value
    for held in exchange.wallets.values():
        for asset, value in held.items():
            out[asset] += value
    return out


@pytest.mark.parametrize("owner_cls", [Wallet, EvmWallet], ids=["fuel", "evm"])
@pytest.mark.parametrize("kind", ["sequential", "parallel"])
def test_full_story(client, sandbox, owner_cls, kind):
    trader = client.trader(owner_cls.generate())
    account = trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC", "ETH/USDC"], nonce_kind=kind)
    resting = trader.place("FUEL/USDC", "Buy", "0.0121", "1000").orders[0]
    taken = trader.place("FUEL/USDC", "Buy", "0.0127", "2500", "Market").orders[0]
    assert taken.quantity_fill == 2500 * 10**9
    trader.place("ETH/USDC", "Sell", "2999", "0.25", "FillOrKill")
    listed = client.orders.list("FUEL/USDC", account, is_open=True).orders
    assert [o.order_id for o in listed] == [resting.order_id]
    trader.cancel(resting)
    trader.settle("FUEL/USDC")
    trader.settle("ETH/USDC")
    balances = trader.balances()
    assert balances["FUEL"].total == (100_000 + 2_500) * 10**9 and balances["FUEL"].total_locked == 0
    trader.withdraw("USDC", "100", nonce_kind=kind)
    assert client.accounts.balance(client.markets.get("FUEL/USDC").quote.asset, address=trader.owner.address).total == 10**8
    trades = client.markets.account_trades("FUEL/USDC", account)
    assert sum(t.quantity for t in trades) == 2500 * 10**9


def _signed_actions(client, trader, groups, **nonce):
    return client.session.actions_body(trader.session, groups, **nonce)


def test_refusals_carry_the_exchanges_codes(client, sandbox):
    trader = client.trader(Wallet.generate())
    trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"])
    fuel = client.markets.get("FUEL/USDC")
    group = [{"market_id": fuel.market_id, "actions": [trader.settle_action()]}]
    transport = client.transport
    headers = {"O2-Owner-Id": trader.owner.address}

    body = _signed_actions(client, trader, group, nonce=trader.refresh_nonce())
    tampered = json.loads(json.dumps(body))
    tampered["actions"][0]["actions"][0]["SettleBalance"]["to"]["ContractId"] = "0x" + "00" * 32
    with pytest.raises(InvalidSignature) as info:
        transport.request("POST", "/v1/session/actions", json_body=tampered, headers=headers)
    assert info.value.code == 4000

    transport.request("POST", "/v1/session/actions", json_body=body, headers=headers)
    with pytest.raises(NonceRejected, match=r"Nonce in the request\(\d+\) is less than the nonce in the database"):
        transport.request("POST", "/v1/session/actions", json_body=body, headers=headers)  # replay

    expired = pack_parallel_nonce(0, int(time.time()) - 5, 0, 0)
    with pytest.raises(NonceRejected, match="Parallel nonce is not usable: nonce expired") as info:
        transport.request("POST", "/v1/session/actions", headers=headers,
                          json_body=_signed_actions(client, trader, group, nonce=o2lite.Nonce.parallel(expired)))
    assert info.value.retryable and info.value.code == 1001

    fresh = pack_parallel_nonce(0, int(time.time()) + 60, 0, 0)
    signed = _signed_actions(client, trader, group, nonce=o2lite.Nonce.parallel(fresh))
    transport.request("POST", "/v1/session/actions", json_body=signed, headers=headers)
    with pytest.raises(NonceRejected, match="nonce already used") as info:
        transport.request("POST", "/v1/session/actions", json_body=signed, headers=headers)
    assert not info.value.retryable

    eth = client.markets.get("ETH/USDC")
    foreign = dict(body, actions=[{"market_id": eth.market_id, "actions": [trader.settle_action()]}])
    with pytest.raises(SessionInvalid) as info:
        transport.request("POST", "/v1/session/actions", json_body=foreign, headers=headers)
    assert info.value.code == 4001

    six = dict(body, actions=[{"market_id": fuel.market_id, "actions": [trader.settle_action()] * 6}])
    with pytest.raises(InvalidRequest) as info:
        transport.request("POST", "/v1/session/actions", json_body=six, headers=headers)
    assert info.value.code == 7004


def test_parallel_window_slides(client, sandbox):
    trader = client.trader(Wallet.generate())
    account = trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
    issuer = trader.nonces.issuer(0)
    issuer.resync({"nonce_session_id": 0, "base": "0", "slots": [{"word_position": "4", "bitmap": "1"}]})
    trader.settle("FUEL/USDC")  # uses word 4: the upper half → the window slides
    window = client.accounts.nonce_window(account, 0)
    assert window.base == 1 and window.is_used(4, 1)


def test_state_survives_restart(tmp_path):
    path = str(tmp_path / "state.json")
    owner = Wallet.generate()
    with Sandbox(state=path) as sx, o2lite.Client(sx.url) as client:
        trader = client.trader(owner)
        trader.setup_account(fund=True)
        trader.open_session(["FUEL/USDC"])
        order = trader.place("FUEL/USDC", "Buy", "0.0121", "1000").orders[0]
        trader.save_session(str(tmp_path / "session.json"))
        before = trader.balances()
        nonce = trader.refresh_nonce()
    with Sandbox(state=path) as sx, o2lite.Client(sx.url) as client:
        trader = client.trader(owner)
        trader.load_session(str(tmp_path / "session.json"))
        assert trader.refresh_nonce() == nonce
        assert [o.order_id for o in trader.open_orders("FUEL/USDC")] == [order.order_id]
        assert trader.balances() == before
        depth = client.markets.depth("FUEL/USDC", limit=10)
        assert any(level.price == 12100 for level in depth.buys)
        trader.cancel(order)  # the restored book works


def test_rate_limits_and_faucet_cooldown():
    with Sandbox(rate_limits=True) as sx, o2lite.Client(sx.url) as client:
        trader = client.trader(Wallet.generate())
        trader.setup_account(fund=True)
        with pytest.raises(o2lite.O2Error, match="cooldown"):
            client.faucet.mint_to_contract(trader.trade_account_id)
        trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
        for _ in range(7):  # paced: at most 5 in any second, so none is refused
            trader.settle("FUEL/USDC")
        unpaced = client.trader(trader.owner, pacing=False)
        unpaced.session = trader.session
        for _ in range(7):  # refused ones are resent unchanged after Retry-After, and land
            unpaced.settle("FUEL/USDC")
        headers = {"O2-Owner-Id": Wallet.generate().address}
        errors = []
        for _ in range(6):  # malformed, but counted first: the sixth in a second is refused
            with pytest.raises(o2lite.O2Error) as info:
                client.transport.request("PUT", "/v1/session", json_body={}, headers=headers)
            errors.append(info.value)
        assert not any(isinstance(e, RateLimited) for e in errors[:5])
        limited = errors[5]
        assert isinstance(limited, RateLimited) and limited.status == 429 and limited.code == 1003
        assert limited.retry_after


def test_read_endpoints_over_http(client, sandbox):
    trader = client.trader(Wallet.generate())
    account = trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"])
    for size in ("100", "200", "300", "400", "500"):
        trader.place("FUEL/USDC", "Buy", "0.0126", size, "Market", settle_first=False)
    trades = list(client.markets.iter_trades("FUEL/USDC", page_size=2))
    assert [t.quantity // 10**9 for t in trades] == [500, 400, 300, 200, 100]
    now = int(time.time() * 1000)
    (bar,) = client.markets.bars("FUEL/USDC", "1d", now - 86_400_000, now + 1000)
    assert bar.volume == 1500 * 10**9 and bar.high == bar.low == 12600
    assert client.markets.ticker("FUEL/USDC").last_price == 12600
    assert len(list(client.orders.iter_orders("FUEL/USDC", account, page_size=2))) == 5
    assert client.aggregated.orderbook("FUEL_USDC", depth=2).asks[0][0] == o2lite.market.Decimal("0.0126")
    assert {a.symbol for a in client.aggregated.assets()} == {"FUEL", "USDC", "ETH"}
    assert client.aggregated.trades("FUEL_USDC")[0].base_volume == 500
    assert client.analytics.whitelist(account).success
    assert client.analytics.referral_info("NOPE").valid is False


def test_16_threads_50_orders_parallel_conserves_funds(client, sandbox):
    exchange = sandbox.exchange
    traders = []
    for _ in range(2):
        trader = client.trader(Wallet.generate(), pacing=False)  # a concurrency test, not a pacing one
        trader.setup_account(fund=True)
        trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
        traders.append(trader)
    before = totals(exchange)
    results, errors = [], []

    def worker(i):
        trader = traders[i % 2]
        for j in range(50):
            side, price = ("Buy", "0.0125") if (i + j) % 2 else ("Sell", "0.0125")
            try:
                results.append(trader.place("FUEL/USDC", side, price, "10", settle_first=False))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 800
    ids = [r.orders[0].order_id for r in results]
    assert len(set(ids)) == 800
    assert totals(exchange) == before  # nothing created or lost
    book = exchange.books[client.markets.get("FUEL/USDC").market_id]
    assert not book.bids or not book.asks or book.bids[0][2].price < book.asks[0][2].price  # never crossed
    for trader in traders:
        for balance in trader.balances().values():
            assert balance.total_locked >= 0 and balance.total_unlocked >= 0


def test_issuer_keeps_going_as_the_exchange_window_slides():
    """3,000 nonces (three windows' worth) through the exchange's own checks, no signatures:
    each time the local window is used up, one resync finds the slid window and carries on."""
    from o2lite.errors import NonceWindowFull
    from o2lite.nonce import ParallelNonceIssuer
    from o2lite.sandbox import Exchange
    from o2lite.sandbox.nonces import check_nonce, consume

    exchange = Exchange(seed_book=False)
    account_id = exchange.create_account({"identity": {"Address": "0x" + "12" * 32}})["trade_account_id"]
    account = exchange.accounts[account_id]
    window = lambda: exchange.handle("GET", "/v1/accounts/window",  # noqa: E731
                                     {"trade_account_id": account_id, "nonce_session_id": "1"}, {}, None)[1]
    issuer = ParallelNonceIssuer(1, window())
    resyncs = 0
    for _ in range(3000):
        try:
            issued = issuer.issue()
        except NonceWindowFull:
            resyncs += issuer.resync(window, seen_generation=issuer.generation)
            issued = issuer.issue()
        check_nonce(account, "parallel_nonce", issued.value, time.time())  # raises if the exchange would refuse it
        consume(account, "parallel_nonce", issued.value, 0)
    assert 3000 // 1024 <= resyncs <= 3000 // 512
    assert int(window()["base"]) > 16
