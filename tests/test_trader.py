"""Signed trading against a mocked exchange that verifies every signature and nonce."""

from __future__ import annotations

import threading
import time

import pytest
import requests
import responses

import o2lite
from o2lite import Chain, EvmWallet, Wallet
from o2lite.errors import NonceRejected, SessionInvalid, SubmissionUnknown, TransactionReverted, ValidationError
from o2lite.sandbox import Exchange

from .exchange_mock import SANDBOX, ExchangeMock


@pytest.fixture
def exchange():
    return Exchange()


@pytest.fixture
def mock(exchange):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield ExchangeMock(rsps, exchange)


@pytest.fixture
def client(mock):
    with o2lite.Client(SANDBOX) as c:
        yield c


def funded(client, owner_cls=Wallet, **kw):
    kw.setdefault("pacing", False)  # the mock has no rate limits; pacing is tested in test_pacing.py
    trader = client.trader(owner_cls.generate(), **kw)
    trader.setup_account(fund=True)
    return trader


@pytest.fixture(params=[Wallet, EvmWallet], ids=["fuel", "evm"])
def owner_cls(request):
    return request.param


@pytest.mark.parametrize("kind", ["sequential", "parallel"])
def test_session_create_and_update(client, mock, exchange, owner_cls, kind):
    trader = funded(client, owner_cls)
    first = trader.open_session(["FUEL/USDC"], nonce_kind=kind)
    account = exchange.accounts[trader.trade_account_id]
    assert account["session"]["address"] == first.address
    second = trader.open_session(["FUEL/USDC", "ETH/USDC"], nonce_kind=kind, lane=2)  # replaces the first
    assert account["session"]["address"] == second.address and len(account["session"]["contract_ids"]) == 2
    method, path, body, headers = mock.posts("/v1/session")[-1]
    assert method == "PUT" and headers["O2-Owner-Id"] == trader.owner.address
    # both kinds register the proven way: sequential nonce, personal signature (PROTOCOL §9)
    assert "nonce" in body and "parallel_nonce" not in body
    assert list(body["signature"]) == ["Secp256k1"]
    assert account["nonce"] == 2
    assert second.nonce_kind == kind and second.lane == 2
    assert trader.session.address not in repr(trader.session.signer) or True
    assert trader.session.signer.private_key_hex()[2:] not in repr(trader.session)


def test_every_action_and_order_type(client, mock, exchange):
    trader = funded(client)
    trader.open_session(["FUEL/USDC", "ETH/USDC"])
    spot = trader.place("FUEL/USDC", "Buy", "0.0120", "1000")  # rests below the best ask
    (order,) = spot.orders
    assert order.is_open and order.price == 12000 and order.quantity == 1000 * 10**9
    trader.place("FUEL/USDC", "Sell", "0.0130", "100", post_only=True)
    market = trader.place("FUEL/USDC", "Buy", "0.0126", "500", "Market")  # takes from the seeded ask
    assert market.orders[0].quantity_fill == 500 * 10**9 and not market.orders[0].is_open
    fok = trader.place("FUEL/USDC", "Buy", "0.0127", "10", "FillOrKill")
    assert fok.orders[0].quantity_fill == 10 * 10**9
    limit = trader.place("FUEL/USDC", "Buy", "0.0110", "10", "Limit", limit_timestamp=1_900_000_000)
    assert limit.orders[0].order_type == {"Limit": ["11000", "1900000000"]}
    bounded = trader.place("ETH/USDC", "Sell", "2990", "0.5", "BoundedMarket", max_price="3000", min_price="2999")
    assert bounded.orders[0].quantity_fill == 5 * 10**8  # filled against the 2999 bid, inside the bounds
    trader.cancel(spot.orders[0])
    assert exchange.orders[order.order_id].cancel
    trader.settle("FUEL/USDC")
    batch = trader.batch()
    batch.place("FUEL/USDC", "Buy", "0.0101", "100").place("ETH/USDC", "Buy", "2000", "0.01")
    (result,) = batch.send()
    assert len(result.orders) == 2
    sent_groups = mock.posts("/v1/session/actions")[-1][2]["actions"]
    assert [len(g["actions"]) for g in sent_groups] == [1, 1]
    referer = {"RegisterReferer": {"referer": {"Address": trader.owner.address}}}
    trader.submit([{"market_id": client.markets.get("FUEL/USDC").market_id, "actions": [referer]}])
    assert exchange.accounts[trader.trade_account_id]["referer"] == {"Address": trader.owner.address}


def test_post_only_and_fill_or_kill_revert_whole_batch(client, exchange):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"])
    before = trader.refresh_nonce()
    with pytest.raises(TransactionReverted):
        trader.place("FUEL/USDC", "Buy", "0.0130", "10", post_only=True)  # would take
    with pytest.raises(TransactionReverted):
        trader.place("FUEL/USDC", "Buy", "0.0126", "1000000", "FillOrKill")
    assert trader.open_orders("FUEL/USDC") == []
    assert trader.refresh_nonce() == before + 2  # reverts consumed the nonce


def test_nonce_refresh_after_revert(client, mock):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"])
    placed = trader.place("FUEL/USDC", "Buy", "0.0120", "10", settle_first=False)
    trader.cancel(placed.orders[0])
    gets_before = len([s for s in mock.sent if s[1] == "/v1/accounts"])
    with pytest.raises(TransactionReverted):
        trader.cancel(placed.orders[0])  # already cancelled: reverts, consuming the nonce
    trader.place("FUEL/USDC", "Buy", "0.0120", "10")  # must re-read the nonce first
    assert len([s for s in mock.sent if s[1] == "/v1/accounts"]) == gets_before + 1


def test_cancel_all_chunks_by_five(client, mock):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
    for i in range(12):
        trader.place("FUEL/USDC", "Buy", f"0.01{i:02d}", "10", settle_first=False)
    results = trader.cancel_all("FUEL/USDC")
    sizes = [sum(len(g["actions"]) for g in s[2]["actions"]) for s in mock.posts("/v1/session/actions")[-3:]]
    assert len(results) == 3 and sizes == [5, 5, 2]
    assert trader.open_orders("FUEL/USDC") == []


@pytest.mark.parametrize("kind", ["sequential", "parallel"])
@pytest.mark.parametrize("dest", ["Address", "ContractId"])
def test_withdraw(client, exchange, owner_cls, kind, dest):
    trader = funded(client, owner_cls)
    other = funded(client)
    usdc = client.markets.get("FUEL/USDC").quote.asset
    to = {"Address": "0x" + "77" * 32} if dest == "Address" else {"ContractId": other.trade_account_id}
    before = exchange.ledger.get(trader.trade_account_id, ("wallet", usdc))
    result = trader.withdraw("USDC", "12.5", to=to, nonce_kind=kind)
    assert result.tx_id.startswith("0x")
    assert exchange.ledger.get(trader.trade_account_id, ("wallet", usdc)) == before - 12_500_000
    if dest == "Address":
        assert exchange.wallets["0x" + "77" * 32][usdc] == 12_500_000
    else:
        assert exchange.ledger.get(other.trade_account_id, ("wallet", usdc)) == before + 12_500_000
    trader.withdraw("USDC", Chain(1))  # default destination: the owner
    assert exchange.wallets[trader.owner.address][usdc] == 1


def test_withdraw_tampered_signature_is_4000(client, mock):
    trader = funded(client)
    body = client.accounts.withdraw_body(trader.owner, trader.trade_account_id, client.markets.get("FUEL/USDC").quote.asset,
                                         5, nonce=trader.refresh_nonce())
    body["amount"] = "6"  # the exchange rebuilds the bytes from the JSON: signer no longer matches
    with pytest.raises(o2lite.InvalidSignature):
        client.accounts._owner_post("/v1/accounts/withdraw", trader.owner, body)


def test_upgrade(mock, exchange):
    exchange.legacy_accounts = True
    with o2lite.Client(SANDBOX) as client:
        trader = funded(client)
        trader.open_session(["FUEL/USDC"], nonce_kind="parallel")  # registration is sequential: fine
        with pytest.raises(TransactionReverted, match="Revert\\(123\\)") as info:
            trader.place("FUEL/USDC", "Buy", "0.0120", "10")  # the first parallel action finds the legacy contract
        assert info.value.code is None  # a revert carries no code (PROTOCOL §3)
        assert trader.upgrade().upgraded
        nonce = exchange.accounts[trader.trade_account_id]["nonce"]
        assert trader.upgrade().upgraded is False  # "No upgrade available": a revert ...
        assert exchange.accounts[trader.trade_account_id]["nonce"] == nonce + 1  # ... that spends the nonce
        trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
        assert trader.place("FUEL/USDC", "Buy", "0.0120", "10").tx_id


@pytest.mark.parametrize("kind", ["nonce", "parallel_nonce"])
def test_owner_calls(client, mock, kind):
    trader = funded(client)
    call = o2lite.encoding.Call(bytes(32), o2lite.encoding.function_selector("ping"), 0, bytes(32), 1000, b"\x01")
    nonce = o2lite.Nonce.sequential(trader.refresh_nonce()) if kind == "nonce" else \
        o2lite.Nonce.parallel(o2lite.nonce.pack_parallel_nonce(1, int(time.time()) + 60, 0, 0))
    with pytest.warns(o2lite.ExperimentalWarning):
        assert client.accounts.owner_calls(trader.owner, trader.trade_account_id, call, nonce=nonce).tx_id
    if kind == "nonce":
        assert mock.posts("/v1/accounts/call")[-1][2]["call"]["call_params"]["gas"] == "1000"
    else:  # a parallel owner call of one goes to /calls as a list of one (PROTOCOL §10)
        assert not mock.posts("/v1/accounts/call")
        assert mock.posts("/v1/accounts/calls")[-1][2]["calls"][0]["call_params"]["gas"] == "1000"
    nonce = o2lite.Nonce(nonce.kind, nonce.value + 1)
    with pytest.warns(o2lite.ExperimentalWarning):
        assert client.accounts.owner_calls(trader.owner, trader.trade_account_id, [call, call], nonce=nonce).tx_id
    assert len(mock.posts("/v1/accounts/calls")[-1][2]["calls"]) == 2


def test_parallel_resync_and_retry_once(client, mock, exchange):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
    trader.place("FUEL/USDC", "Buy", "0.0120", "10")
    window = exchange.accounts[trader.trade_account_id]["windows"][0]
    window["base"] += 20  # another client of this account moved the window far ahead
    trader.place("FUEL/USDC", "Buy", "0.0120", "10")  # out of window → resync → one retry
    refusals = [s for s in mock.posts("/v1/session/actions")]
    assert len(refusals) == 3  # the first, the refused one, the retry


def test_nonce_already_used_raised_not_retried(client, mock, exchange):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
    trader.place("FUEL/USDC", "Buy", "0.0120", "10")
    issuer = trader.nonces.issuer(0)
    issuer.resync({"nonce_session_id": 0, "base": "0", "slots": []}, allow_backwards=True)  # a stale cursor
    sent = len(mock.posts("/v1/session/actions"))
    with pytest.raises(NonceRejected, match="already used"):
        trader.place("FUEL/USDC", "Buy", "0.0120", "10")
    assert len(mock.posts("/v1/session/actions")) == sent + 1


@pytest.mark.parametrize("kind", ["sequential", "parallel"])
def test_ambiguous_timeout_raised_not_retried(client, mock, kind):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"], nonce_kind=kind)
    trader.settle("FUEL/USDC")  # the first action seats the nonce track (a parallel window read)
    sent = len(mock.posts("/v1/session/actions"))
    mock.fail_next.append(requests.ReadTimeout("read timed out"))
    with pytest.raises(SubmissionUnknown) as info:
        trader.place("FUEL/USDC", "Buy", "0.0120", "10")
    assert info.value.nonce is not None and info.value.nonce_kind == kind
    assert info.value.trade_account_id == trader.trade_account_id
    assert len(mock.posts("/v1/session/actions")) == sent + 1  # sent once, never again
    assert len(trader.open_orders("FUEL/USDC")) == 1  # it did land
    verdict = trader.reconcile(info.value)
    assert verdict.landed is True and verdict.final


def test_local_rejections_send_nothing(client, mock):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"], expiry=int(time.time()) + 3600)
    sent = len(mock.sent)
    with pytest.raises(ValidationError, match="float"):
        trader.place("FUEL/USDC", "Buy", 0.012, "10")
    with pytest.raises(ValidationError, match="at most 5 actions"):
        trader.submit([{"market_id": client.markets.get("FUEL/USDC").market_id,
                        "actions": [trader.settle_action()] * 6}])
    with pytest.raises(ValidationError, match="not in this session"):
        trader.place("ETH/USDC", "Buy", "2000", "1")
    with pytest.raises(ValidationError, match="unknown market"):
        trader.place("BTC/USDC", "Buy", "1", "1")
    with pytest.raises(ValidationError, match="max_price"):
        trader.place("FUEL/USDC", "Buy", "0.0120", "10", "BoundedMarket", max_price="0.01", min_price="0.02")
    trader.session = trader.session.__class__(**dict(vars(trader.session), expiry=int(time.time()) + 5))
    with pytest.raises(SessionInvalid, match="Expired"):
        trader.place("FUEL/USDC", "Buy", "0.0120", "10")
    assert len(mock.sent) == sent


def test_fractional_price_adjusts_quantity_with_warning(client):
    trader = funded(client)
    trader.open_session(["ETH/USDC"])
    with pytest.warns(UserWarning, match="FractionalPrice"):
        action = trader.create_order_action("ETH/USDC", "Buy", "2000.01", "0.012345678")
    assert action["CreateOrder"]["quantity"] == "12300000"
    with pytest.raises(ValidationError, match="more decimals than ETH has \\(9\\)"):
        trader.create_order_action("ETH/USDC", "Buy", "2000.01", "0.0123456789")
    with pytest.raises(ValidationError, match="price step is 0.01"):
        trader.create_order_action("ETH/USDC", "Buy", "2000.011", "1")
    with pytest.warns(UserWarning):
        rounded = trader.create_order_action("ETH/USDC", "Buy", "2000.019", "0.0123456789", round=True)
    assert rounded["CreateOrder"]["price"] == "2000010000"
    with pytest.raises(ValidationError, match=r"order value 0.01 USDC \(10000\) is below the market's minimum 0.1 USDC"):
        trader.create_order_action("FUEL/USDC", "Buy", "0.01", "1")


def test_session_invalid_from_exchange(client, exchange):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"])
    exchange.accounts[trader.trade_account_id]["session"] = None  # replaced elsewhere
    with pytest.raises(SessionInvalid, match="open a new session|Invalid session"):
        trader.place("FUEL/USDC", "Buy", "0.0120", "10")


def test_session_save_and_load(client, tmp_path):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"], nonce_kind="parallel", lane=3)
    path = tmp_path / "session.json"
    trader.save_session(str(path))
    assert path.stat().st_mode & 0o777 == 0o600
    resumed = client.trader(trader.owner)
    session = resumed.load_session(str(path))
    assert (session.address, session.lane, session.nonce_kind) == (trader.session.address, 3, "parallel")
    assert resumed.place("FUEL/USDC", "Buy", "0.0120", "10").orders
    with pytest.raises(ValidationError, match="another owner"):
        client.trader(Wallet.generate()).load_session(str(path))


def test_a_hostile_session_file_is_a_validation_error(client, tmp_path):
    path = tmp_path / "session.json"
    path.write_text("[" * 5000)  # json.loads alone: a RecursionError, not a ValidationError
    with pytest.raises(ValidationError, match="not a session file"):
        client.trader(Wallet.generate()).load_session(str(path))


def test_setup_account_is_idempotent(client, mock):
    owner = Wallet.generate()
    first = client.trader(owner).setup_account()
    assert client.trader(owner).setup_account() == first
    assert len(mock.posts("/v1/accounts")) == 1
    assert not mock.posts("/analytics/v1/whitelist")


def test_32_threads_parallel_orders(client, mock, exchange):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
    results, errors = [], []

    def worker(i):
        for j in range(20):
            try:
                results.append(trader.place("FUEL/USDC", "Buy", "0.0110", "10", settle_first=False))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 640
    nonces = [s[2]["parallel_nonce"] for s in mock.posts("/v1/session/actions")]
    assert len(nonces) == len(set(nonces)) == 640
    assert len({r.orders[0].order_id for r in results}) == 640
    assert len(trader.open_orders("FUEL/USDC")) == 640


def test_parallel_registration_opt_in_end_to_end(client, mock, exchange):
    trader = funded(client)
    with pytest.warns(o2lite.ExperimentalWarning, match="ParallelSessionArgs"):
        session = trader.open_session(["FUEL/USDC"], nonce_kind="parallel", parallel_registration=True)
    body = mock.posts("/v1/session")[-1][2]
    assert "parallel_nonce" in body and list(body["signature"]) == ["TypedSecp256k1"]
    assert exchange.accounts[trader.trade_account_id]["nonce"] == 0  # the sequential nonce was not used
    assert session.nonce_kind == "parallel" and trader.place("FUEL/USDC", "Buy", "0.0120", "10").tx_id


def test_sandbox_refuses_non_canonical_json_as_the_exchange_would(client, mock):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"])
    prepared = client.session.prepare_actions(trader.session, [{"market_id": "FUEL/USDC", "actions": [
        {"CreateOrder": {"side": "Buy", "price": "12000", "quantity": "10000000000", "order_type": "Spot"}}]}])
    body = client.session.signed_actions(trader.session, prepared, nonce=trader.refresh_nonce())
    body["actions"][0]["actions"][0]["CreateOrder"]["side"] = "buy"  # what o2lite used to send
    with pytest.raises(o2lite.InvalidRequest) as info:
        client.session.actions(trader.owner.address, body)
    assert info.value.code == 1002 and "canonical" in info.value.message


def test_reconcile_sequential_not_landed_then_landed(client, mock, exchange):
    trader = funded(client)
    trader.open_session(["FUEL/USDC"])
    nonce = trader.refresh_nonce()
    lost = SubmissionUnknown("lost", nonce=nonce, nonce_kind="sequential", trade_account_id=trader.trade_account_id)
    verdict = trader.reconcile(lost)
    assert verdict.landed is False and not verdict.final
    trader.settle("FUEL/USDC")  # a transaction with that nonce lands
    assert trader.reconcile(lost).landed is True


def test_reconcile_parallel_expired_unused(client, mock, exchange):
    trader = funded(client)
    packed = o2lite.nonce.pack_parallel_nonce(0, int(time.time()) - 5, 0, 3)
    lost = SubmissionUnknown("lost", nonce=packed, nonce_kind="parallel", trade_account_id=trader.trade_account_id)
    verdict = trader.reconcile(lost)
    assert verdict.landed is False and verdict.final  # expired unused: it can never run
    fresh = o2lite.nonce.pack_parallel_nonce(0, int(time.time()) + 60, 0, 3)
    pending = SubmissionUnknown("lost", nonce=fresh, nonce_kind="parallel", trade_account_id=trader.trade_account_id)
    assert trader.reconcile(pending).final is False


def test_ids_never_repeat_across_exchanges():
    first, second = Exchange(), Exchange()
    ids = {o for o in first.orders} | {o for o in second.orders}
    assert len(ids) == len(first.orders) + len(second.orders) == 40  # 20 seeded orders each, all distinct
