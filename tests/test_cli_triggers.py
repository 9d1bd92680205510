"""The trigger commands of the command line, run in-process against the sandbox."""

from __future__ import annotations

import json
import warnings

import pytest

from o2lite.cli.main import main
from o2lite.sandbox import Sandbox

PAIR = "FUEL/USDC"


@pytest.fixture
def cli(tmp_path, capsys):
    with Sandbox() as sx:
        key = str(tmp_path / "me.json")
        shown = warnings.showwarning

        def run(*args: str):
            code = main(["--url", sx.url, "--key-file", key, *args])
            out, err = capsys.readouterr()
            return code, out, err

        try:
            assert main(["wallet", "new", "--out", key]) == 0
            assert run("setup", "--fund")[0] == 0
            assert run("session", "open", "--markets", PAIR)[0] == 0
            yield run
        finally:
            warnings.showwarning = shown


def test_place_with_take_profit_and_stop_loss_then_list_and_cancel_them(cli):
    code, out, err = cli("--json", "order", "place", PAIR, "buy", "0.0126", "100", "--take-profit", "0.0140",
                         "--stop-loss", "0.01205", "--slippage-bps", "50")
    assert code == 0, err
    assert json.loads(out)["orders"][0]["quantity_fill"] == 100 * 10**9
    code, out, err = cli("--json", "order", "active", PAIR)
    assert code == 0, err
    triggers = json.loads(out)["standalone_triggers"]  # the parent filled: its legs stand alone
    assert sorted(t["trigger_price_human"] for t in triggers) == ["0.01205", "0.014"]
    assert {json.dumps(t["order_type"])[:16] for t in triggers} == {'{"MarketBounded"'}
    code, out, err = cli("order", "trigger", PAIR, "sell", "0.0100", "50", "--limit-price", "0.0099")
    assert code == 0, err
    code, out, err = cli("order", "oco", PAIR, "sell", "0.0150", "0.0090", "20")
    assert code == 0, err
    code, out, err = cli("order", "active", PAIR)
    assert code == 0 and [line.split()[1] for line in out.splitlines()[1:]] == ["trigger"] * 5 and "Active" in out
    first = json.loads(cli("--json", "order", "active", PAIR)[1])["standalone_triggers"][0]["trigger_id"]
    code, out, err = cli("order", "cancel-trigger", PAIR, first[:14])
    assert code == 0, err
    code, out, err = cli("--json", "order", "cancel-triggers", PAIR)
    assert code == 0 and len(json.loads(out)["tx_ids"]) == 1
    assert json.loads(cli("--json", "order", "active", PAIR)[1]) == {"orders": [], "standalone_triggers": []}


def test_dry_run_explains_the_trigger_bytes_and_sends_nothing(cli):
    code, out, err = cli("--dry-run", "order", "place", PAIR, "Buy", "0.0126", "100", "--stop-loss", "0.0120")
    assert code == 0, err
    assert "create_order_with_triggers" in out and "trigger_1.trigger_price u64" in out
    assert "placeholder: the order created in this call" in out and "dry run: nothing was sent" in out
    code, out, err = cli("--dry-run", "order", "oco", PAIR, "Sell", "0.0150", "0.0090", "20")
    assert code == 0 and "create_trigger_orders" in out and "second.trigger_price u64" in out
    assert json.loads(cli("--json", "order", "active", PAIR)[1]) == {"orders": [], "standalone_triggers": []}


def test_adjustments_are_warned_and_bad_input_is_one_line(cli):
    code, out, err = cli("order", "trigger", PAIR, "Buy", "0.0130", "0.0000001")
    assert code == 1 and "too small" in err and err.count("\n") == 1
    code, out, err = cli("order", "place", PAIR, "Buy", "0.0126", "100", "--type", "Limit", "--stop-loss", "0.0120")
    assert code == 1 and "Limit order cannot carry triggers" in err
    code, out, err = cli("order", "trigger", PAIR, "Sell", "0.0100005", "12.3456789")
    assert code == 0, err
    assert "warning" in err and "0.0100005 floored to the tick: 0.01 USDC" in err
    assert "fitted from 12.3456789 to 12.3456 FUEL" in err
    code, out, err = cli("order", "place", PAIR, "Buy", "0.0126", "100", "--slippage-bps", "10")
    assert code == 1 and "--slippage-bps applies to" in err


def test_active_shows_the_quantity_of_a_nested_trigger_that_has_its_own(cli):
    code, out, err = cli("--json", "order", "place", PAIR, "Buy", "0.0110", "1000")
    assert code == 0, err
    parent = json.loads(out)["orders"][0]["order_id"]
    assert cli("order", "trigger", PAIR, "Sell", "0.0150", "250", "--parent", parent)[0] == 0  # sized explicitly
    assert cli("order", "trigger", PAIR, "Sell", "0.0100", "--parent", parent)[0] == 0  # inherits
    code, out, err = cli("order", "active", PAIR)
    nested = sorted(line.split()[5] for line in out.splitlines() if "└" in line)
    assert code == 0 and nested == ["(inherits)", "250"], out
