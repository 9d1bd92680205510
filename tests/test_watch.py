"""``o2lite watch`` (o2lite/cli/watch.py) against the frame-level test server: a lost connection
is reported at once, and the trade side is labelled (issue #19)."""

from __future__ import annotations

import argparse
import json
import threading
from decimal import Decimal
from types import SimpleNamespace

from o2lite.cli.output import Output
from o2lite.cli.watch import cmd_watch_trades
from o2lite.streams import Stream
from o2lite.streams import frames as _ws

from .ws_server import FrameServer, Peer, fake_client, trades_message


def market() -> SimpleNamespace:
    return SimpleNamespace(pair="FUEL/USDC", base=SimpleNamespace(symbol="FUEL"),
                           format_price=lambda p: Decimal(p) / 1000, format_quantity=lambda q: Decimal(q))


def watch_twice(as_json: bool, capsys) -> str:
    """Watch two trades with a drop in between; the reconnect waits until the test has seen the
    "disconnected" line, so that line must come while the connection is down."""
    gate = threading.Event()
    lines = []

    def first(peer: Peer) -> None:
        peer.receive_json()
        peer.send(_ws.OP_TEXT, trades_message(1, side="Sell"))  # the maker sold: the taker bought
        peer.hang_up(1012)

    def second(peer: Peer) -> None:
        peer.receive_json()
        peer.send(_ws.OP_TEXT, trades_message(2, side="Buy"))
        try:
            while peer.receive(timeout=10).opcode != _ws.OP_CLOSE:
                pass
        except (ConnectionError, OSError):
            pass

    server = FrameServer([first, second])
    client = SimpleNamespace(markets=SimpleNamespace(get=lambda pair: market()),
                             stream=lambda: Stream(fake_client(), url=server.url, sleep=lambda s: gate.wait(10)))
    args = argparse.Namespace(pair="FUEL/USDC", count=2)
    watcher = threading.Thread(target=cmd_watch_trades, args=(client, args, Output(as_json=as_json)))
    watcher.start()
    for _ in range(800):  # bounded: the line comes within one look (0.2 s) of the drop, if the machine lets it
        lines.append(capsys.readouterr().out)
        if "disconnected" in "".join(lines):
            break
        gate.wait(0.025)
    assert "disconnected" in "".join(lines) and not gate.is_set()  # said while still disconnected
    gate.set()
    watcher.join(10)
    lines.append(capsys.readouterr().out)
    server.close()
    assert not watcher.is_alive() and not server.errors
    return "".join(lines)


def test_watch_trades_says_disconnected_at_once_and_labels_the_taker_side(capsys):
    text = watch_twice(False, capsys).splitlines()
    assert "taker" in text[0] and "the taker's" in text[0]  # the header line names the side shown
    assert text[1].split()[1] == "Buy"  # the maker sold: the taker bought
    assert text[2].startswith("-- disconnected — retrying in ") and text[2].endswith(" s --")
    assert 0 <= float(text[2].split("retrying in ")[1].split()[0]) <= 1.0  # within the first jittered wait
    assert text[3].startswith("-- reconnected after 1 attempt(s)")
    assert text[4].split()[1] == "Sell"
    assert len(text) == 5


def test_watch_trades_json_keeps_side_and_adds_taker_side(capsys):
    events = [json.loads(line) for line in watch_twice(True, capsys).splitlines()]
    assert [e.get("event", "trade") for e in events] == ["trade", "disconnected", "reconnected", "trade"]
    assert (events[0]["side"], events[0]["taker_side"]) == ("Sell", "Buy")
    assert events[1]["retry_in"] <= 1.0 and events[2]["attempts"] == 1 and events[2]["gap"] > 0
    assert (events[3]["side"], events[3]["taker_side"]) == ("Buy", "Sell")
