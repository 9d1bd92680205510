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


def test_a_withdrawal_counts_only_what_the_trade_account_holds_and_says_to_settle(trader):
    order = trader.place("FUEL/USDC", "Buy", "0.0120", "1000").orders[0]
    trader.cancel(order)  # 12 USDC now unlocked in the market's book, not in the trade account
    balance = trader.balances()["USDC"]
    in_account = balance.trading_account_balance / 10**6
    assert balance.unlocked_human == 10000 and in_account < 10000
    with pytest.raises(TransactionReverted) as info:
        trader.withdraw("USDC", "9999")
    message = info.value.message
    assert message.startswith(f"not enough USDC: {in_account:g} available, 9999 needed to withdraw"), message
    assert "settle" in message.split(" — ")[0]  # the fix: settle the market first
    trader.settle("FUEL/USDC")
    assert trader.withdraw("USDC", "9999").tx_id


def test_other_reverts_put_the_cause_before_the_contract_name():
    info = describe_revert('LogResult { results: [Ok("OrderPartiallyFilled")] }', None, "Revert(1)")
    assert str(info) == ("the PostOnly order would have taken liquidity "
                         "(OrderCreationError::OrderPartiallyFilled)")


def test_the_command_line_speaks_flags_and_plain_numbers(tmp_path, capsys, monkeypatch):
    from o2lite.cli.main import main
    from o2lite.sandbox import Sandbox

    with Sandbox() as sx:
        monkeypatch.setenv("O2LITE_URL", sx.url)
        monkeypatch.setenv("O2LITE_KEY_FILE", str(tmp_path / "k.json"))
        assert main(["wallet", "new", "--out", str(tmp_path / "k.json")]) == 0
        assert main(["session", "open", "--markets", "FUEL/USDC"]) == 1
        assert "run `o2lite setup` first" in capsys.readouterr().err
        assert main(["setup", "--fund"]) == 0 and main(["session", "open", "--markets", "FUEL/USDC"]) == 0
        capsys.readouterr()
        assert main(["order", "place", "FUEL/USDC", "buy", "0.0120", "0.0000000001"]) == 1
        err = capsys.readouterr().err
        assert "0.0000000001" in err and "E-" not in err and "add --round" in err and "round=True" not in err
        assert main(["fills", "FUEL/USDC", "--since", "2026-12-01"]) == 0
        assert main(["fills", "--since", "1d"]) == 0
        with pytest.raises(SystemExit) as usage:
            main(["fills", "--since", "last tuesday"])
        assert usage.value.code == 2 and "a duration back from now (1d, 90m)" in capsys.readouterr().err


def test_a_quantity_too_small_for_the_price_says_the_multiple_in_plain_decimals(trader):
    with pytest.raises(o2lite.ValidationError) as info:
        trader.place("FUEL/USDC", "Buy", "0.0120", "0.00000001")
    message = info.value.message
    assert "quantity 0.00000001 FUEL is too small" in message and "E-" not in message
    assert "a multiple of 0.0" in message


def test_a_too_fine_withdrawal_names_the_amount_and_a_fix_that_exists(trader, tmp_path, capsys, monkeypatch):
    with pytest.raises(o2lite.ValidationError) as info:
        trader.withdraw("USDC", "0.0000001")
    assert str(info.value) == "amount 0.0000001 has more decimals than USDC has (6): give at most 6 decimals"
    # (withdraw has no round= and `o2lite withdraw` no --round: neither may be suggested)


def test_a_session_expiry_too_far_names_the_flag_and_a_date(tmp_path, capsys, monkeypatch):
    from o2lite.cli.main import main
    from o2lite.sandbox import Sandbox

    with Sandbox() as sx:
        monkeypatch.setenv("O2LITE_URL", sx.url)
        monkeypatch.setenv("O2LITE_KEY_FILE", str(tmp_path / "k.json"))
        assert main(["wallet", "new", "--out", str(tmp_path / "k.json")]) == 0 and main(["setup"]) == 0
        capsys.readouterr()
        assert main(["session", "open", "--markets", "FUEL/USDC", "--expiry", "99999d"]) == 1
    err = capsys.readouterr().err
    assert "--expiry 99999d ends after 2106-02-07" in err and "4294967295" not in err, err
