"""The house review: where the pieces landed in parallel meet (CLI × batches, streams × transport,
README × modules)."""

from __future__ import annotations

import pytest

import o2lite.trader
from o2lite.cli.main import main
from o2lite.errors import SubmissionUnknown
from o2lite.sandbox import Sandbox

PAIR = "FUEL/USDC"


@pytest.mark.parametrize("make,cancel", [
    (("order", "trigger", PAIR, "sell", "0.0100", "50"), ("order", "cancel-triggers", PAIR)),
    (("order", "place", PAIR, "buy", "0.0110", "50"), ("order", "cancel-all", PAIR)),
])
def test_a_partial_bulk_cancel_names_the_request_left_in_doubt(tmp_path, capsys, monkeypatch, make, cancel):
    """Six items → two cancel requests; the first lands, the second's answer is lost. The partial
    report must not call the lost one "not sent" (it may have landed): it says it is unknown."""
    with Sandbox() as sx:
        key = str(tmp_path / "me.json")

        def run(*args: str):
            code = main(["--url", sx.url, "--key-file", key, *args])
            return (code, *capsys.readouterr())

        assert main(["wallet", "new", "--out", key]) == 0
        assert run("setup", "--fund")[0] == 0
        assert run("session", "open", "--markets", PAIR)[0] == 0
        for _ in range(6):
            assert run(*make)[0] == 0
        original, calls = o2lite.trader.Trader.submit, []

        def lossy(self, groups, **kw):
            calls.append(groups)
            if len(calls) == 2:
                raise SubmissionUnknown("no answer", nonce=9, nonce_kind="sequential",
                                        trade_account_id=self.trade_account_id)
            return original(self, groups, **kw)

        monkeypatch.setattr(o2lite.trader.Trader, "submit", lossy)
        code, out, err = run(*cancel)
        assert code == 1 and len(calls) == 2
        partial = err.splitlines()[0]
        assert "1 request(s) landed" in partial
        assert "1 request (1 action(s)) unknown" in partial and "reconcile" in partial
        assert "0 action(s) not sent" in partial and "the rest was not sent" not in partial
