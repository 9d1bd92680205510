"""``Batch.send`` accounts for every request when it stops part-way (issue #20): each one is
``landed``, ``unknown`` (with its ``SubmissionUnknown``) or ``not_sent``."""

from __future__ import annotations

import pytest
import requests
import responses

import o2lite
from o2lite import Wallet
from o2lite.errors import BatchIncomplete, OrderRejected, SubmissionUnknown
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
def trader(mock):
    with o2lite.Client(SANDBOX) as client:
        trader = client.trader(Wallet.generate(), pacing=False)
        trader.setup_account(fund=True)
        trader.open_session(["FUEL/USDC"])
        yield trader


def three_requests(trader) -> o2lite.Batch:
    batch = trader.batch()
    for i in range(15):
        batch.place("FUEL/USDC", "Buy", "0.0110", str(10 + i))
    assert len(batch.requests()) == 3
    return batch


def fail_second(trader, monkeypatch, failure) -> list:
    """Make the second request of the batch fail with ``failure(trader)``; returns what was sent."""
    original, calls = trader.submit, []

    def submit(groups, **kw):
        calls.append(groups)
        if len(calls) == 2:
            return failure(groups, original, **kw)
        return original(groups, **kw)

    monkeypatch.setattr(trader, "submit", submit)
    return calls


def test_a_lost_answer_is_unknown_with_its_submission_unknown(trader, mock, exchange, monkeypatch):
    def lost(groups, original, **kw):
        mock.fail_next.append(requests.ConnectionError("Connection reset by peer"))  # after the exchange ran
        return original(groups, **kw)

    batch = three_requests(trader)
    requests_ = batch.requests()
    fail_second(trader, monkeypatch, lost)
    posts = len(mock.posts("/v1/session/actions"))
    with pytest.raises(BatchIncomplete) as info:
        batch.send()
    exc = info.value
    assert len(exc.landed) == 1 and exc.landed[0].tx_id
    ((groups, error),) = exc.unknown
    assert groups == requests_[1] and isinstance(error, SubmissionUnknown) and error is exc.cause
    assert error.nonce == 2 and error.nonce_kind == "sequential"  # what trader.reconcile needs
    assert exc.not_sent == [requests_[2]]
    assert len(exc.landed) + len(exc.unknown) + len(exc.not_sent) == 3
    assert "1 landed, 1 unknown, 1 not sent" in exc.message
    assert len(mock.posts("/v1/session/actions")) == posts + 2  # the third was never sent
    assert trader.reconcile(error).landed is True  # the exchange did run it


def test_a_refused_request_is_not_sent_with_every_later_one(trader, mock, monkeypatch):
    def refused(groups, original, **kw):
        raise OrderRejected("Invalid order params", status=400, code=3002)

    batch = three_requests(trader)
    requests_ = batch.requests()
    fail_second(trader, monkeypatch, refused)
    with pytest.raises(BatchIncomplete) as info:
        batch.send()
    exc = info.value
    assert len(exc.landed) == 1 and exc.unknown == [] and exc.not_sent == requests_[1:]
    assert isinstance(exc.cause, OrderRejected)
