"""Live streams (issue #11): RFC 6455 framing, the client against a hostile frame-level server,
wss with a self-signed CA, and every channel end to end against the sandbox."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import time

import pytest

import o2lite
from o2lite.streams import frames as _ws
from o2lite.models import Trade
from o2lite.sandbox import Sandbox
from o2lite.streams import Stream


from .ws_server import MARKET, FrameServer, Peer, fake_client, trades_message


# --- framing -------------------------------------------------------------------------------------

def test_fragments_with_interleaved_control_frames_are_joined():
    reader = _ws.FrameReader(expect_masked=True)
    data = (_ws.encode_frame(_ws.OP_TEXT, b"hel", mask=True, fin=False)
            + _ws.encode_frame(_ws.OP_PING, b"p", mask=True)
            + _ws.encode_frame(_ws.OP_CONT, "lo \u00e9".encode()[:3], mask=True, fin=False)
            + _ws.encode_frame(_ws.OP_CONT, "lo \u00e9".encode()[3:], mask=True))
    messages = []
    for i in range(0, len(data), 3):  # byte-by-byte-ish arrival
        messages += reader.feed(data[i:i + 3])
    assert messages == [(_ws.OP_PING, b"p"), (_ws.OP_TEXT, "hello \u00e9".encode())]


@pytest.mark.parametrize("frame,code", [
    (bytes([0xC1, 0x80]) + b"\x00" * 4, 1002),  # RSV1 set
    (_ws.encode_frame(_ws.OP_TEXT, b"x", mask=False), 1002),  # unmasked client frame
    (_ws.encode_frame(_ws.OP_PING, b"x" * 126, mask=True), 1002),  # oversized control frame
    (_ws.encode_frame(_ws.OP_PING, b"x", mask=True, fin=False), 1002),  # fragmented control frame
    (_ws.encode_frame(_ws.OP_CONT, b"x", mask=True), 1002),  # continuation of nothing
    (_ws.encode_frame(_ws.OP_TEXT, b"\xff\xfe", mask=True), 1007),  # invalid UTF-8
    (_ws.encode_frame(_ws.OP_TEXT, b"x" * 5000, mask=True), 1009),  # over the message limit
    (bytes([0x83, 0x80]) + b"\x00" * 4, 1002),  # unknown opcode
])
def test_broken_frames_are_protocol_errors(frame, code):
    reader = _ws.FrameReader(expect_masked=True, max_message=4096)
    with pytest.raises(_ws.ProtocolError) as info:
        reader.feed(frame)
    assert info.value.code == code


def test_long_frame_lengths_round_trip():
    for size in (125, 126, 65535, 65536, 200_000):
        reader = _ws.FrameReader(expect_masked=False, max_message=1 << 20)
        assert reader.feed(_ws.encode_frame(_ws.OP_BINARY, b"z" * size, mask=False)) == [(_ws.OP_BINARY, b"z" * size)]


# --- the client against a hostile server ----------------------------------------------------------

def test_client_survives_fragments_pings_bad_frames_and_drops():
    def fragments_then_drop(peer: Peer) -> None:
        assert peer.receive_json()["action"] == "subscribe_trades"
        payload = trades_message(1)
        peer.send(_ws.OP_TEXT, payload[:10], fin=False)
        peer.send(_ws.OP_PING, b"are you there")
        peer.send(_ws.OP_CONT, payload[10:20], fin=False)
        peer.send(_ws.OP_CONT, payload[20:])
        pong = peer.receive()
        assert (pong.opcode, pong.payload) == (_ws.OP_PONG, b"are you there")
        peer.close()  # abrupt: no close frame

    def oversized(peer: Peer) -> None:
        assert peer.receive_json()["action"] == "subscribe_trades"  # re-subscribed
        peer.send(_ws.OP_TEXT, b"[" + b" " * 5000 + b"]")
        close = peer.receive()
        assert close.opcode == _ws.OP_CLOSE and _ws.parse_close(close.payload)[0] == 1009

    def invalid_utf8(peer: Peer) -> None:
        assert peer.receive_json()["action"] == "subscribe_trades"
        peer.send(_ws.OP_TEXT, b'{"action": "\xff"}')
        close = peer.receive()
        assert _ws.parse_close(close.payload)[0] == 1007

    def garbage_then_close(peer: Peer) -> None:
        assert peer.receive_json()["action"] == "subscribe_trades"
        peer.send(_ws.OP_TEXT, b"PONG")  # the answer to a keep-alive: ignored
        peer.send(_ws.OP_TEXT, trades_message(4))
        peer.send(_ws.OP_CLOSE, _ws.close_payload(1001, "going away"))
        assert peer.receive().opcode == _ws.OP_CLOSE  # the client completes the close handshake

    def steady(peer: Peer) -> None:
        assert peer.receive_json()["action"] == "subscribe_trades"
        peer.send(_ws.OP_TEXT, trades_message(5))
        try:
            while True:
                peer.receive(timeout=10)
        except (ConnectionError, OSError):
            pass

    server = FrameServer([fragments_then_drop, oversized, invalid_utf8, garbage_then_close, steady])
    stream = Stream(fake_client(), url=server.url, max_message=2000, sleep=lambda s: time.sleep(0.01))
    try:
        sub = stream.trades("FUEL/USDC")
        events = [sub.get(timeout=10) for _ in range(7)]
        kinds = [type(e).__name__ for e in events]
        assert kinds == ["Trade", "Reconnected", "Reconnected", "Reconnected", "Trade", "Reconnected", "Trade"]
        assert [e.trade_id for e in events if isinstance(e, Trade)] == ["1", "4", "5"]
        assert stream.reconnects == 4 and not server.errors
    finally:
        stream.close()
        server.close()


def test_queue_overflow_is_an_error_not_silence():
    def flood(peer: Peer) -> None:
        peer.receive_json()
        for i in range(6):
            peer.send(_ws.OP_TEXT, trades_message(i))
        time.sleep(1)

    server = FrameServer([flood])
    with Stream(fake_client(), url=server.url, queue_size=3) as stream:
        sub = stream.trades("FUEL/USDC")
        deadline = time.monotonic() + 5
        with pytest.raises(o2lite.StreamError, match="overflowed"):
            while time.monotonic() < deadline:
                sub.get(timeout=0.2) if sub._error is None else sub.get()
    server.close()


def test_depth_resync_required_resubscribes_and_resnapshots():
    def resync(peer: Peer) -> None:
        request = peer.receive_json()
        assert request == {"action": "subscribe_depth", "market_id": MARKET, "precision": "10"}
        peer.send_json({"action": "subscribe_depth_update", "market_id": MARKET,  # before a snapshot: ignored
                        "changes": {"buys": [{"price": "5", "quantity": "9"}], "sells": []}})
        peer.send_json({"action": "subscribe_depth", "market_id": MARKET,
                        "view": {"precision": "10", "buys": [{"price": "10", "quantity": "3"}],
                                 "sells": [{"price": "12", "quantity": "4"}]}})
        peer.send_json({"action": "subscribe_depth_update", "market_id": MARKET,
                        "changes": {"buys": [{"price": "10", "quantity": "-3"}, {"price": "9", "quantity": "2"}],
                                    "sells": [{"price": "12", "quantity": "1"}]}})
        peer.send_json({"action": "error", "message": "gap", "market_id": MARKET, "resync_required": True})
        assert peer.receive_json()["action"] == "subscribe_depth"  # sent again
        peer.send_json({"action": "subscribe_depth", "market_id": MARKET,
                        "view": {"precision": "10", "buys": [{"price": "8", "quantity": "1"}], "sells": []}})
        time.sleep(1)

    server = FrameServer([resync])
    with Stream(fake_client(), url=server.url) as stream:
        sub = stream.depth("FUEL/USDC")
        first = sub.get(timeout=5)
        assert first.snapshot and first.buys == ((10, 3),)
        update = sub.get(timeout=5)
        assert not update.snapshot and update.buys == ((10, -3), (9, 2))
        again = sub.get(timeout=5)
        assert again.snapshot and sub.book.buys == (o2lite.models.DepthLevel(8, 1),) and sub.book.best_ask is None
    assert not server.errors
    server.close()


# --- wss ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A throw-away CA and a server certificate for localhost (openssl, on loopback only)."""
    d = tmp_path_factory.mktemp("tls")
    run = lambda *args: subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=o2lite test CA", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    # Python 3.13's default context verifies strictly (VERIFY_X509_STRICT): the CA needs a key
    # usage, the server certificate an authority key identifier and CA:FALSE, as real ones have.
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                               "authorityKeyIdentifier=keyid,issuer\nkeyUsage=digitalSignature,keyEncipherment\n"
                               "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    return d


def test_wss_verifies_against_the_requests_ca_bundle(certificates, monkeypatch):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certificates / "server.pem"), str(certificates / "server.key"))

    def one_trade(peer: Peer) -> None:
        peer.receive_json()
        peer.send(_ws.OP_TEXT, trades_message(7))
        time.sleep(1)

    server = FrameServer([one_trade], tls=context)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates / "ca.pem"))
    with Stream(fake_client(), url=server.url) as stream:
        assert stream.trades("FUEL/USDC").get(timeout=5).trade_id == "7"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    stranger = Stream(fake_client(), url=server.url, sleep=lambda s: None)  # the default bundle: not trusted
    with pytest.raises(o2lite.StreamError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
        stranger.trades("FUEL/USDC").get(timeout=10)  # raised by either: subscribe returns during an outage
    stranger.close()
    server.close()


# --- against the sandbox --------------------------------------------------------------------------

def test_every_channel_end_to_end_and_the_book_equals_rest():
    with Sandbox() as sx, o2lite.Client(sx.url) as client:
        trader = client.trader(o2lite.Wallet.generate())
        trader.setup_account(fund=True)
        trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
        with client.stream() as stream, client.stream() as second:
            depth = stream.depth("FUEL/USDC")
            with pytest.raises(o2lite.ValidationError, match="another stream"):
                stream.depth("FUEL/USDC", precision=3)
            coarse = second.depth("FUEL/USDC", precision=3)
            trades, orders = stream.trades("FUEL/USDC"), stream.orders(trader)
            balances, nonces = stream.balances(trader), stream.nonce(trader)
            assert depth.get(timeout=5).snapshot and coarse.get(timeout=5).snapshot
            assert nonces.get(timeout=5).nonce == 1
            assert {b.asset_id for b in [balances.get(timeout=5) for _ in range(3)]} == \
                {a.asset for a in trader.assets().values()}
            resting = trader.place("FUEL/USDC", "Buy", "0.0121", "300").orders[0]
            taken = trader.place("FUEL/USDC", "Buy", "0.0126", "700", "Market").orders[0]
            trader.cancel(resting)
            seen_trades = [trades.get(timeout=5)]
            assert seen_trades[0].quantity == 700 * 10**9 and seen_trades[0].price == 12600
            seen_orders = {}
            while len(seen_orders) < 2 or not seen_orders[resting.order_id].cancel:
                order = orders.get(timeout=5)
                seen_orders[order.order_id] = order
            assert seen_orders[taken.order_id].quantity_fill == 700 * 10**9
            deadline = time.monotonic() + 5
            for sub, level in ((depth, 1), (coarse, 3)):
                while time.monotonic() < deadline:
                    rest = client.markets.depth("FUEL/USDC", precision=level, limit=100)
                    if sub.book.buys == rest.buys and sub.book.sells == rest.sells:
                        break
                    sub.get(timeout=1)
                assert sub.book.buys == rest.buys and sub.book.sells == rest.sells
            assert balances.get(timeout=5).identity == trader.trade_account_id


def raw_ws(sx: Sandbox) -> Peer:
    host, port = sx._httpd.server_address[:2]
    sock = socket.create_connection((host, port), timeout=5)
    key = _ws.new_key()
    sock.sendall(f"GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head = data.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 101") and _ws.accept_key(key) in head
    peer = Peer(sock)
    peer.reader = _ws.FrameReader(expect_masked=False)
    peer.send = lambda op, payload=b"", fin=True: sock.sendall(_ws.encode_frame(op, payload, mask=True, fin=fin))
    return peer


def test_sandbox_ws_pings_errors_and_limits():
    with Sandbox(idle_timeout=1.5) as sx:
        peer = raw_ws(sx)
        peer.send(_ws.OP_TEXT, b"PING")
        assert peer.receive().payload == b"PONG"
        peer.send(_ws.OP_PING, b"hi")
        assert peer.receive() == (_ws.OP_PONG, b"hi")
        for request, code in (({"action": "teleport"}, 6002),
                              ({"action": "subscribe_depth", "market_id": "0x" + "00" * 32}, 6002),
                              ({"action": "subscribe_orders", "identities": [{"ContractId": "0x" + "01" * 32}] * 11},
                               6001),
                              ({"action": "subscribe_balances", "identities": "all"}, 6002)):
            peer.send(_ws.OP_TEXT, json.dumps(request).encode())
            answer = json.loads(peer.receive().payload)
            assert answer["action"] == "error" and answer["code"] == code, answer
        market = sx.exchange.markets[0]["market_id"]
        for expected in ("subscribe_depth", "error"):  # the second time: 6000 already subscribed
            peer.send(_ws.OP_TEXT, json.dumps({"action": "subscribe_depth", "market_id": market,
                                               "precision": "10"}).encode())
            assert json.loads(peer.receive().payload)["action"] == expected
        close = peer.receive(timeout=5)  # silent past the idle timeout: the server closes
        assert close.opcode == _ws.OP_CLOSE and _ws.parse_close(close.payload) == (1000, "idle")
        assert sx.exchange.hub.idle()


def test_non_upgrade_get_on_ws_is_a_json_400():
    with Sandbox() as sx, o2lite.Client(sx.url) as client:
        with pytest.raises(o2lite.InvalidRequest, match="WebSocket upgrade"):
            client.transport.request("GET", "/v1/ws")


def test_stream_url_follows_the_client(monkeypatch):
    with o2lite.Client("testnet") as client:
        assert client.stream().url == "wss://api.testnet.o2.app/v1/ws"
    with o2lite.Client("http://127.0.0.1:8080") as client:
        assert client.stream().url == "ws://127.0.0.1:8080/v1/ws"
    assert "o2lite.streams.stream" in __import__("sys").modules


def test_import_o2lite_does_not_load_the_stream_module():
    code = "import sys, o2lite; print('o2lite.streams' in sys.modules, 'o2lite.streams.frames' in sys.modules)"
    out = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.stdout.split() == ["False", "False"]
