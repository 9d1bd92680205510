"""Dry runs as plans (issues 18 and 21): a Trader sends a plan, a DryRunTrader prepares it, and a
dry run has the Trader's reads and session helpers."""

from __future__ import annotations

import json

import pytest
import responses

import o2lite
from o2lite import Wallet
from o2lite.cli.main import main
from o2lite.dry_run import DryRunTrader, PreparedSetup
from o2lite.sandbox import Exchange, Sandbox
from o2lite.signed import SignedRequest

from .exchange_mock import SANDBOX, ExchangeMock


@pytest.fixture
def world():
    exchange = Exchange()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock = ExchangeMock(rsps, exchange)
        with o2lite.Client(SANDBOX, faucet_url=SANDBOX + "/faucet") as client:
            yield client, mock


def test_the_front_door_gives_each_kind_its_own_type(world):
    client, _ = world
    owner = Wallet.generate()
    assert type(client.trader(owner)) is o2lite.Trader
    assert type(client.trader(owner, dry_run=True)) is DryRunTrader
    with pytest.raises(TypeError):
        o2lite.Trader(client, owner, dry_run=True)  # no __new__ returning another class


def test_setup_account_as_a_dry_run_says_what_it_would_send(world):
    client, mock = world
    dry = client.trader(Wallet.generate(), dry_run=True)
    prepared = dry.setup_account(fund=True)
    assert isinstance(prepared, PreparedSetup) and prepared.trade_account_id is None
    assert [(m, u.rsplit("/", 2)[-2:]) for m, u, _ in prepared.requests] == [
        ("POST", ["v1", "accounts"]), ("POST", ["sandbox.test", "faucet"])]
    assert prepared.requests[0][2] == {"identity": {"Address": dry.owner.address}}
    assert "would send: POST" in prepared.explain()
    assert not mock.posts("/v1/accounts") and not mock.posts("/faucet")  # nothing was sent
    real = client.trader(dry.owner)
    account = real.setup_account(fund=True)
    again = dry.setup_account(fund=True)
    assert again.trade_account_id == account and [r[2] for r in again.requests] == [{"contract": account}]


def test_a_dry_run_reads_and_loads_sessions_like_a_trader(world, tmp_path):
    client, mock = world
    real = client.trader(Wallet.generate(), pacing=False)
    real.setup_account(fund=True)
    real.open_session(["FUEL/USDC"], nonce_kind="parallel")
    for i in range(7):
        real.place("FUEL/USDC", "Buy", "0.0110", str(10 + i), settle_first=False)
    path = str(tmp_path / "session.json")
    real.save_session(path)
    dry = client.trader(real.owner, dry_run=True)
    assert dry.load_session(path).address == real.session.address
    assert dry.balances()["USDC"].total_human == real.balances()["USDC"].total_human
    before = len(mock.posts("/v1/session/actions"))
    prepared = dry.cancel_all("FUEL/USDC")
    assert all(isinstance(p, SignedRequest) for p in prepared)
    assert [len(p.body["actions"][0]["actions"]) for p in prepared] == [5, 2]
    assert len(mock.posts("/v1/session/actions")) == before and len(real.open_orders("FUEL/USDC")) == 7
    assert real.send(real.plan_cancel(real.open_orders("FUEL/USDC")[0])).tx_id  # a Trader sends a plan


def test_cli_dry_run_setup_fund_and_a_note_where_it_does_not_apply(tmp_path, capsys, monkeypatch):
    with Sandbox() as sx:
        monkeypatch.setenv("O2LITE_URL", sx.url)
        key = str(tmp_path / "k.json")
        assert main(["wallet", "new", "--out", key]) == 0
        capsys.readouterr()
        assert main(["--dry-run", "setup", "--fund", "--key-file", key]) == 0
        out = capsys.readouterr()
        assert "would send: POST" in out.out and "/faucet" in out.out and "Traceback" not in out.err
        assert out.out.startswith("setup for owner ") and "{'" not in out.out  # words, not a Python dict
        owner = json.load(open(key))["address"]
        assert all(a["owner"] != owner for a in sx.exchange.accounts.values())  # nothing was created
        assert main(["--dry-run", "--json", "setup", "--key-file", key]) == 0
        assert json.loads(capsys.readouterr().out)["would_send"][0]["method"] == "POST"
        assert main(["--dry-run", "markets"]) == 0
        assert "--dry-run changes nothing for `markets`" in capsys.readouterr().err


def test_check_reads_what_dry_run_json_writes_and_names_the_field(tmp_path, capsys, monkeypatch):
    with Sandbox() as sx:
        monkeypatch.setenv("O2LITE_URL", sx.url)
        monkeypatch.setenv("O2LITE_KEY_FILE", str(tmp_path / "k.json"))
        assert main(["wallet", "new", "--out", str(tmp_path / "k.json")]) == 0
        assert main(["setup", "--fund"]) == 0 and main(["session", "open", "--markets", "FUEL/USDC"]) == 0
        capsys.readouterr()
        for command in (["withdraw", "USDC", "1"], ["order", "place", "FUEL/USDC", "buy", "0.0120", "100"]):
            assert main(["--dry-run", "--json", *command]) == 0
            (tmp_path / "prepared.json").write_text(capsys.readouterr().out)
            assert main(["check", str(tmp_path / "prepared.json")]) == 0, capsys.readouterr()
            assert "OK" in capsys.readouterr().out
        prepared = json.loads((tmp_path / "prepared.json").read_text())
        prepared[0]["body"]["actions"][0]["actions"][1]["CreateOrder"]["order_type"] = "spot"
        (tmp_path / "prepared.json").write_text(json.dumps(prepared))
        assert main(["check", str(tmp_path / "prepared.json")]) == 1
        shown = capsys.readouterr().out
        assert 'actions[0].actions[1].CreateOrder.order_type is not canonical: sent "spot", canonical "Spot"' in shown


def test_a_multi_request_dry_run_numbers_sequential_nonces_as_the_trader_would(world):
    client, _ = world
    real = client.trader(Wallet.generate(), pacing=False)
    real.setup_account(fund=True)
    real.open_session(["FUEL/USDC"])  # sequential: cancel_all's two requests take N, then N + 1
    for i in range(7):
        real.place("FUEL/USDC", "Buy", "0.0110", str(10 + i), settle_first=False)
    dry = client.trader(real.owner, dry_run=True)
    dry.session = real.session
    following = real.refresh_nonce()
    prepared = dry.cancel_all("FUEL/USDC")
    assert [int(p.body["nonce"]) for p in prepared] == [following, following + 1]
    for request in prepared:  # sent in order, each lands: the dry run is the plan the Trader would send
        assert request.send().tx_id
    assert real.open_orders("FUEL/USDC") == [] and real.refresh_nonce() == following + 2


MISUSE = '''import o2lite
client = o2lite.Client("http://127.0.0.1:1")
dry = client.trader(o2lite.Wallet.generate(), dry_run=True)
dry.place("FUEL/USDC", "Buy", "0.012", "1000", "BoundedMarket", max_price=0.013)  # misuse
dry.place("FUEL/USDC", "Buy", "0.012", "1000", settle_frist=False)  # misuse
dry.open_session(["FUEL/USDC"], nonce_knd="parallel")  # misuse
dry.open_session(["FUEL/USDC"], nonce_kind="parallel", lane=0)
batch = client.trader(o2lite.Wallet.generate()).batch()
batch.place("FUEL/USDC", "Buy", "0.012", "1000", "BoundedMarket", max_price=0.013)  # misuse
batch.place("FUEL/USDC", "Buy", "0.012", "1000", post_only=True)
'''


def test_mypy_strict_checks_a_dry_run_and_a_batch_like_a_trader(tmp_path):
    """A float bound or a misspelt option passed ``**options: Any`` unchecked."""
    api = pytest.importorskip("mypy.api")  # CI installs mypy after the tests: skipped there
    script = tmp_path / "misuse.py"
    script.write_text(MISUSE)
    out, _, status = api.run(["--strict", "--cache-dir", str(tmp_path / "cache"), str(script)])
    flagged = sorted({int(line.split(":")[1]) for line in out.splitlines()
                      if line.startswith(str(script)) and ": error:" in line})
    misuse = [n for n, line in enumerate(MISUSE.splitlines(), 1) if line.endswith("# misuse")]
    assert status == 1 and flagged == misuse, out


def test_many_parallel_dry_runs_never_stop_the_real_trader(world):
    """Each dry run takes a position of the lane's shared issuer (so a dry-run request sent later
    never collides with a real send); 1024 of them filled the lane's window for good — positions
    nothing ever used on chain, so the window never slid — and every real send then raised
    NonceWindowFull."""
    client, _ = world
    real = client.trader(Wallet.generate(), pacing=False)
    real.setup_account(fund=True)
    real.open_session(["FUEL/USDC"], nonce_kind="parallel")
    dry = client.trader(real.owner, dry_run=True)
    dry.session = real.session
    shown = [dry.settle("FUEL/USDC").nonce for _ in range(8 * 256 + 10)]
    assert len(set(shown[:1000])) == 1000  # distinct while the window has room
    assert real.place("FUEL/USDC", "Buy", "0.0110", "10", settle_first=False).tx_id
    assert real.place("FUEL/USDC", "Buy", "0.0110", "11", settle_first=False).tx_id
