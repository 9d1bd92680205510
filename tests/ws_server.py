"""A frame-level WebSocket test server of our own (standard library): each accepted connection
runs the next scripted behaviour, so a test can send fragments, interleaved pings, oversized or
invalid frames and abrupt disconnects, and see what the client sends back. The script
:data:`REFUSE` answers the upgrade with ``503`` instead. Also the fake client stream tests use."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from types import SimpleNamespace
from typing import Callable, List, Optional

from o2lite.streams import frames as _ws

PEER_THREAD = "ws-test-peer"  # the name of each served connection's thread

Script = Callable[["Peer"], None]

MARKET = "0x" + "a1" * 32
TRADE = {"trade_id": "1", "side": "Buy", "price": "100", "quantity": "5", "total": "5", "timestamp": "1"}


def fake_client() -> SimpleNamespace:
    """Just enough of a Client for a Stream with an explicit URL: market names resolve to MARKET."""
    return SimpleNamespace(markets=SimpleNamespace(get=lambda ref: SimpleNamespace(market_id=MARKET)),
                           transport=SimpleNamespace(base_url="http://unused"))


def trades_message(n: int = 1, market_id: str = MARKET, **fields: str) -> bytes:
    """A ``subscribe_trades`` message with one trade, ``trade_id`` ``n``."""
    return json.dumps({"action": "subscribe_trades", "market_id": market_id,
                       "trades": [dict(TRADE, trade_id=str(n), **fields)]}).encode()


def REFUSE(peer: "Peer") -> None:
    """A script that is never run: the server answers this connection's upgrade with 503."""
    raise AssertionError("REFUSE is answered in the handshake")


class Peer:
    """One accepted, upgraded connection, seen from the server."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = _ws.FrameReader(expect_masked=True)
        self.pending: List[_ws.Message] = []

    def send(self, opcode: int, payload: bytes = b"", fin: bool = True) -> None:
        self.sock.sendall(_ws.encode_frame(opcode, payload, mask=False, fin=fin))

    def send_json(self, message: dict) -> None:
        self.send(_ws.OP_TEXT, json.dumps(message).encode())

    def raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self, timeout: float = 5.0) -> _ws.Message:
        """The next frame the client sent."""
        self.sock.settimeout(timeout)
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("client closed")
            self.pending.extend(self.reader.feed(data))
        return self.pending.pop(0)

    def receive_json(self, timeout: float = 5.0) -> dict:
        """The next JSON text message the client sent (skipping PING keep-alives and pongs)."""
        while True:
            message = self.receive(timeout)
            if message.opcode == _ws.OP_TEXT and message.payload != b"PING":
                return json.loads(message.payload)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def hang_up(self, code: Optional[int] = None) -> None:
        """End the connection from the server's side: a close frame with ``code`` (or none: just
        FIN), then read until the client closes, so nothing sent is lost to a reset."""
        try:
            if code is not None:
                self.send(_ws.OP_CLOSE, _ws.close_payload(code, "bye"))
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(5)
            while self.sock.recv(65536):
                pass
        except OSError:
            pass


class FrameServer:
    """Serves ``scripts`` in order, one per accepted connection (then keeps the last one)."""

    def __init__(self, scripts: List[Script], tls: Optional[ssl.SSLContext] = None) -> None:
        self.scripts = scripts
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.errors: List[BaseException] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://localhost:{self.port}/v1/ws"

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            script = self.scripts[min(self.connections, len(self.scripts) - 1)]
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock, script), name=PEER_THREAD, daemon=True).start()

    def _serve(self, sock: socket.socket, script: Script) -> None:
        try:
            if self.tls:
                sock = self.tls.wrap_socket(sock, server_side=True)
            sock.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                data += chunk
            if script is REFUSE:
                sock.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                return
            key = next(line.split(":", 1)[1].strip() for line in data.decode().split("\r\n")
                       if line.lower().startswith("sec-websocket-key:"))
            sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {_ws.accept_key(key)}\r\n\r\n").encode())
            peer = Peer(sock)
            script(peer)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test
            self.errors.append(exc)
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()
