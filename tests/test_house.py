"""The house review: where the pieces landed in parallel meet (CLI × batches, streams × transport,
README × modules)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time

import pytest

import o2lite.trader
from o2lite.cli.main import main
from o2lite.errors import SubmissionUnknown
from o2lite.sandbox import Sandbox
from o2lite.streams import Stream
from o2lite.streams import frames as _ws

from .test_stream import certificates  # noqa: F401  (a fixture: a throw-away CA and server certificate)
from .ws_server import FrameServer, Peer, fake_client, trades_message

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


def test_a_stream_trusts_a_ca_directory_as_the_http_path_does(certificates, tmp_path, monkeypatch):  # noqa: F811
    """``REQUESTS_CA_BUNDLE`` may name a directory of hashed certificates (``requests`` and
    o2lite's HTTP pool accept one); the stream's TLS context reads the same setting the same way."""
    folder = tmp_path / "cas"
    folder.mkdir()
    subject_hash = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(certificates / "ca.pem")],
                                  check=True, capture_output=True, text=True).stdout.strip()
    shutil.copy(certificates / "ca.pem", folder / f"{subject_hash}.0")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certificates / "server.pem"), str(certificates / "server.key"))

    def one_trade(peer: Peer) -> None:
        peer.receive_json()
        peer.send(_ws.OP_TEXT, trades_message(7))
        time.sleep(1)

    server = FrameServer([one_trade], tls=context)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(folder))
    try:
        with Stream(fake_client(), url=server.url, sleep=lambda s: None) as stream:
            assert stream.trades("FUEL/USDC").get(timeout=5).trade_id == "7"
    finally:
        server.close()


def test_every_python_sample_of_the_readme_is_one_ci_type_checks():
    """``.ci/readme_samples.py`` hands mypy --strict the ``.. code-block:: python`` blocks only: a
    Python sample written as a plain literal block (``::``) escapes the check."""
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent.parent / "README.rst").read_text()
    literal = [block for block in re.findall(r"::\n\n((?:    .*\n|\n)+)", readme)
               if re.search(r"^    (import o2lite|from o2lite|with o2lite\.)", block, flags=re.M)]
    assert literal == []
