"""Streams you can leave running (issue #19), the subscriptions' side (o2lite/streams/registry.py):
reference counts, failure isolation, ids normalised on every channel, and a timeout that is not a
failure."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any, Dict, Optional

import pytest

import o2lite
from o2lite.streams import Stream
from o2lite.streams import frames as _ws

from .ws_server import MARKET, FrameServer, Peer, fake_client, trades_message

A, B = "0x" + "0a" * 32, "0x" + "0b" * 32
ASSET = "0x" + "0c" * 32


class Held:
    """The server side of one connection, driven by the test: ``sent`` queues what the client sent
    (JSON text messages, keep-alives left out), ``peer`` sends."""

    def __init__(self) -> None:
        self.peer: Optional[Peer] = None
        self.sent: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        self.ready = threading.Event()

    def __call__(self, peer: Peer) -> None:
        self.peer = peer
        self.ready.set()
        try:
            while True:
                message = peer.receive(timeout=30)
                if message.opcode == _ws.OP_CLOSE:
                    return
                if message.opcode == _ws.OP_TEXT and message.payload != b"PING":
                    self.sent.put(json.loads(message.payload))
        except (ConnectionError, OSError):
            pass

    def next(self) -> Dict[str, Any]:
        return self.sent.get(timeout=10)

    def send(self, message: Dict[str, Any]) -> None:
        assert self.peer is not None
        self.peer.send_json(message)


def balance(who: str, locked: int) -> Dict[str, Any]:
    return {"action": "subscribe_balances", "balance": [
        {"identity": {"ContractId": who}, "asset_id": ASSET, "total_locked": str(locked), "total_unlocked": "0",
         "trading_account_balance": "0"}]}


def order(owner: str, n: int) -> Dict[str, Any]:
    return {"action": "subscribe_orders", "orders": [
        {"order_id": "0x" + f"{n:02x}" * 32, "side": "Buy", "order_type": "Spot", "price": "100", "price_fill": "0",
         "quantity": "5", "quantity_fill": "0", "timestamp": "1", "close": False, "partially_filled": False,
         "cancel": False, "owner": {"ContractId": owner}}]}


def snapshot(market_id: str = MARKET) -> Dict[str, Any]:
    return {"action": "subscribe_depth", "market_id": market_id,
            "view": {"precision": "10", "buys": [{"price": "10", "quantity": "3"}], "sells": []}}


@pytest.fixture
def held():
    peer = Held()
    server = FrameServer([peer])
    yield peer, server
    server.close()
    assert not server.errors


def test_overlapping_subscriptions_closed_one_at_a_time(held):
    peer, server = held
    with Stream(fake_client(), url=server.url) as stream:
        both = stream.balances(A, B)
        assert peer.next() == {"action": "subscribe_balances", "identities": [{"ContractId": A}, {"ContractId": B}]}
        only_b = stream.balances(B)  # B is followed already: nothing new is asked
        orders_a, orders_b = stream.orders(A), stream.orders(B)
        assert peer.next() == {"action": "subscribe_orders", "identities": [{"ContractId": A}]}
        assert peer.next() == {"action": "subscribe_orders", "identities": [{"ContractId": B}]}
        first, second = stream.trades("FUEL/USDC"), stream.trades("FUEL/USDC")
        assert peer.next() == {"action": "subscribe_trades", "market_id": MARKET}  # once for both
        peer.send(balance(A, 1))
        peer.send(balance(B, 2))
        peer.peer.send(_ws.OP_TEXT, trades_message(1))
        assert [both.get(timeout=10).total_locked for _ in range(2)] == [1, 2]
        assert only_b.get(timeout=10).total_locked == 2
        assert first.get(timeout=10).trade_id == second.get(timeout=10).trade_id == "1"

        both.close()  # A is no longer needed; B still is
        assert peer.next() == {"action": "unsubscribe_balances", "identities": [{"ContractId": A}]}
        peer.send(balance(B, 3))
        assert only_b.get(timeout=10).total_locked == 3

        orders_a.close()  # unsubscribe_orders is connection-wide: not sent while orders(B) is open
        first.close()  # the other trades subscription still needs the market: nothing sent
        peer.send(order(A, 1))
        peer.send(order(B, 2))
        peer.peer.send(_ws.OP_TEXT, trades_message(2))
        assert orders_b.get(timeout=10).order_id == "0x" + "02" * 32  # A's order went to nobody
        assert second.get(timeout=10).trade_id == "2"

        only_b.close()
        assert peer.next() == {"action": "unsubscribe_balances", "identities": [{"ContractId": B}]}  # nothing before
        orders_b.close()
        assert peer.next() == {"action": "unsubscribe_orders"}
        second.close()
        assert peer.next() == {"action": "unsubscribe_trades", "market_id": MARKET}
        assert peer.sent.empty()
        with pytest.raises(o2lite.StreamError, match="closed"):
            first.get(timeout=1)


def test_a_malformed_message_fails_only_its_own_channel(held):
    peer, server = held
    with Stream(fake_client(), url=server.url) as stream:
        depth, trades, balances = stream.depth("FUEL/USDC"), stream.trades("FUEL/USDC"), stream.balances(A)
        nonce = stream.nonce(A)
        assert {peer.next()["action"] for _ in range(4)} == \
            {"subscribe_depth", "subscribe_trades", "subscribe_balances", "subscribe_nonce"}
        peer.peer.send(_ws.OP_TEXT, b"not json at all")  # names no channel: dropped, fails nobody
        peer.peer.send(_ws.OP_TEXT, b"[1, 2]")
        peer.send({"action": "subscribe_margin", "whatever": 1})  # a channel added later (PROTOCOL 13)
        bad = balance(A, 1)
        bad["balance"][0]["total_locked"] = "lots"
        peer.send(bad)
        peer.send(snapshot())
        peer.peer.send(_ws.OP_TEXT, trades_message(1))
        peer.send({"action": "subscribe_nonce", "contract_id": A, "nonce": "7"})
        assert depth.get(timeout=10).snapshot
        assert trades.get(timeout=10).trade_id == "1"
        assert nonce.get(timeout=10).nonce == 7
        with pytest.raises(o2lite.StreamError, match="unreadable balances stream message"):
            balances.get(timeout=10)
        # a bad trade fails the trades subscription of its market, and nothing else
        peer.send({"action": "subscribe_trades", "market_id": MARKET, "trades": [{"trade_id": "2"}]})
        peer.send({"action": "subscribe_depth_update", "market_id": MARKET,
                   "changes": {"buys": [{"price": "10", "quantity": "-1"}], "sells": []}})
        assert depth.get(timeout=10).buys == ((10, -1),) and depth.book.best_bid.quantity == 2
        with pytest.raises(o2lite.StreamError, match="unreadable trades stream message"):
            trades.get(timeout=10)
        peer.send({"action": "subscribe_nonce", "contract_id": A, "nonce": "8"})
        assert nonce.get(timeout=10).nonce == 8 and stream.connected and stream.reconnects == 0


def test_ids_are_normalised_on_the_way_in_for_every_channel(held):
    peer, server = held
    bare = lambda value: value[2:].upper()  # noqa: E731 - no 0x, upper case: both allowed (PROTOCOL 2)
    with Stream(fake_client(), url=server.url) as stream:
        depth, trades = stream.depth("FUEL/USDC"), stream.trades("FUEL/USDC")
        orders, balances, nonce = stream.orders(A), stream.balances(A), stream.nonce(A)
        for _ in range(5):
            peer.next()
        peer.send(snapshot(bare(MARKET)))
        peer.peer.send(_ws.OP_TEXT, trades_message(1, market_id=bare(MARKET)))
        peer.send(order(bare(A), 3))
        peer.send(balance(bare(A), 4))
        peer.send({"action": "nonce", "contract_id": bare(A), "nonce": "5"})  # the alias, too
        assert depth.get(timeout=10).market_id == MARKET
        assert trades.get(timeout=10).trade_id == "1"
        assert orders.get(timeout=10).order_id == "0x" + "03" * 32
        assert balances.get(timeout=10).identity == A
        assert nonce.get(timeout=10).nonce == 5
        # a server error routed by its market: the market's subscriptions fail, the others do not
        peer.send({"action": "error", "code": 6002, "message": "Subscription error", "market_id": bare(MARKET)})
        for sub in (depth, trades):
            with pytest.raises(o2lite.StreamError, match="Subscription error") as info:
                sub.get(timeout=10)
            assert info.value.code == 6002
        peer.send(balance(A, 6))
        assert balances.get(timeout=10).total_locked == 6


def test_a_quiet_market_is_a_timeout_not_a_failure(held):
    peer, server = held
    with Stream(fake_client(), url=server.url) as stream:
        trades = stream.trades("FUEL/USDC")
        peer.next()
        with pytest.raises(TimeoutError) as info:
            trades.get(timeout=0.05)
        assert isinstance(info.value, o2lite.StreamTimeout) and isinstance(info.value, o2lite.StreamError)
        peer.peer.send(_ws.OP_TEXT, trades_message(1))
        assert trades.get(timeout=10).trade_id == "1"  # still fine after the timeout


def test_a_second_depth_book_restarts_both_from_a_new_snapshot(held):
    peer, server = held
    with Stream(fake_client(), url=server.url) as stream:
        first = stream.depth("FUEL/USDC")
        assert peer.next()["action"] == "subscribe_depth"
        peer.send(snapshot())
        assert first.get(timeout=10).snapshot and first.book.ready
        second = stream.depth("FUEL/USDC")
        assert [peer.next()["action"] for _ in range(2)] == ["unsubscribe_depth", "subscribe_depth"]
        assert not first.book.ready  # waits for the new snapshot with the new book
        with pytest.raises(o2lite.ValidationError, match="another stream"):
            stream.depth("FUEL/USDC", precision=3)
        peer.send(snapshot())
        assert first.get(timeout=10).snapshot and second.get(timeout=10).snapshot
        first.close()
        second.close()
        assert peer.next() == {"action": "unsubscribe_depth", "market_id": MARKET, "precision": "10"}
        assert peer.sent.empty()
