"""Every message speaks the user's language (issue 21): the cause first in human units with
symbols, then the fix, then the chain detail."""

from __future__ import annotations

import pytest
import responses

import o2lite
from o2lite import Wallet
from o2lite.errors import TransactionReverted
from o2lite.reverts import describe_revert
from o2lite.sandbox import Exchange

from .exchange_mock import SANDBOX, ExchangeMock


@pytest.fixture
def trader():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        ExchangeMock(rsps, Exchange())
        with o2lite.Client(SANDBOX) as client:
            trader = client.trader(Wallet.generate(), pacing=False)
            trader.setup_account(fund=True)
            trader.open_session(["FUEL/USDC"])
            yield trader


def test_an_order_beyond_the_balance_says_what_is_missing_first(trader):
    usdc = trader.balances()["USDC"].total_human
    with pytest.raises(TransactionReverted) as info:
        trader.place("FUEL/USDC", "Buy", "0.0120", "10000000")
    message = info.value.message
    assert message.startswith(f"not enough USDC: {usdc} available, 120000 needed for Buy 10000000 FUEL at 0.012 "
                              "(deposit or fund first) — OrderCreationError::InvalidInputAmount"), message
    assert info.value.revert.name == "InvalidInputAmount" and info.value.raw_reason  # the chain detail stays


def test_a_withdrawal_beyond_the_balance_names_the_asset_and_amounts(trader):
    with pytest.raises(TransactionReverted) as info:
        trader.withdraw("USDC", "20000.5")
    assert info.value.message.startswith("not enough USDC: 10000 available, 20000.5 needed to withdraw (deposit "
                                         "or fund first) — WithdrawError::NotEnoughBalance")


def test_other_reverts_put_the_cause_before_the_contract_name():
    info = describe_revert('LogResult { results: [Ok("OrderPartiallyFilled")] }', None, "Revert(1)")
    assert str(info) == ("the PostOnly order would have taken liquidity "
                         "(OrderCreationError::OrderPartiallyFilled)")
