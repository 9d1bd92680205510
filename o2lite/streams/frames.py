"""RFC 6455 WebSocket framing, without I/O: the handshake keys, frame encoding, and an
incremental reader that turns bytes into whole messages. Shared by the client
(:mod:`o2lite.streams.connection`) and the sandbox's server.

Frame layout (RFC 6455 §5.2)::

    byte 0    FIN(1) RSV1-3(3, must be 0) opcode(4)
    byte 1    MASK(1) payload length(7): 0–125, 126 → u16 follows, 127 → u64 follows
    [2 or 8]  extended length, big-endian
    [4]       masking key, when MASK is set (client → server frames must be masked)
    payload   (XOR-ed with the masking key, byte i with key[i % 4])

Opcodes: 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong. Control frames (≥ 8) are
never fragmented and carry at most 125 bytes; they may arrive between the fragments of a message.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from typing import List, NamedTuple, Optional, Tuple

__all__ = ["GUID", "OP_CONT", "OP_TEXT", "OP_BINARY", "OP_CLOSE", "OP_PING", "OP_PONG", "ProtocolError",
           "Message", "new_key", "accept_key", "encode_frame", "close_payload", "parse_close", "FrameReader"]

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_DATA_OPS = (OP_TEXT, OP_BINARY)
_CONTROL_OPS = (OP_CLOSE, OP_PING, OP_PONG)
_U16, _U64 = struct.Struct(">H"), struct.Struct(">Q")


class ProtocolError(Exception):
    """The peer broke RFC 6455; ``code`` is the close code to answer with (1002, 1007, 1009)."""

    def __init__(self, message: str, code: int = 1002) -> None:
        super().__init__(message)
        self.code = code


class Message(NamedTuple):
    """A whole message (fragments joined) or a control frame: ``opcode`` and ``payload``."""

    opcode: int
    payload: bytes


def new_key() -> str:
    """A fresh ``Sec-WebSocket-Key``: base64 of 16 random bytes."""
    return base64.b64encode(os.urandom(16)).decode()


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a key: ``base64(sha1(key + GUID))``.

    >>> accept_key("dGhlIHNhbXBsZSBub25jZQ==")
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
    """
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def _mask(payload: bytes, key: bytes) -> bytes:
    if not payload:
        return payload
    # XOR with the 4-byte key repeated: one big-int operation instead of a per-byte loop
    repeated = (key * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def encode_frame(opcode: int, payload: bytes = b"", *, mask: bool, fin: bool = True) -> bytes:
    """One frame (see the module doc); ``mask=True`` for frames a client sends."""
    head = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([bit | length])
    elif length < 1 << 16:
        head += bytes([bit | 126]) + _U16.pack(length)
    else:
        head += bytes([bit | 127]) + _U64.pack(length)
    if mask:
        key = os.urandom(4)
        return head + key + _mask(payload, key)
    return head + payload


def close_payload(code: int, reason: str = "") -> bytes:
    """A close frame's payload: ``u16 code ‖ utf-8 reason`` (reason cut to fit 125 bytes)."""
    return _U16.pack(code) + reason.encode()[:123]


def parse_close(payload: bytes) -> Tuple[Optional[int], str]:
    """``(code, reason)`` of a close frame (``(None, "")`` when it carries none)."""
    if len(payload) < 2:
        return None, ""
    return _U16.unpack(payload[:2])[0], payload[2:].decode("utf-8", "replace")


class FrameReader:
    """Feed bytes, take whole messages. Enforces the RFC: zero reserved bits, control frames
    unfragmented and ≤ 125 bytes, continuation only inside a fragmented message, masking as
    expected for the side, UTF-8 text, and ``max_message`` bytes per message (1009 beyond).

    Args:
        expect_masked: True on the server side (client frames are masked), False on the client.
        max_message: the largest message accepted, fragments joined.
    """

    def __init__(self, *, expect_masked: bool, max_message: int = 1 << 20) -> None:
        self.expect_masked = expect_masked
        self.max_message = max_message
        self._buffer = bytearray()
        # fragments joined as they come: an empty continuation frame then costs nothing, where a
        # list of them grew by a pointer for every two bytes received
        self._fragments = bytearray()
        self._fragment_op: Optional[int] = None

    @property
    def buffered(self) -> int:
        """Bytes held of what is not yet a whole message (a frame or fragments still arriving)."""
        return len(self._buffer) + len(self._fragments)

    def feed(self, data: bytes) -> List[Message]:
        """Add received bytes; return every message they complete (control frames included)."""
        self._buffer += data
        out: List[Message] = []
        while True:
            frame = self._frame()
            if frame is None:
                return out
            message = self._assemble(*frame)
            if message is not None:
                out.append(message)

    def _frame(self) -> Optional[Tuple[bool, int, bytes]]:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        if first & 0x70:
            raise ProtocolError("reserved bits set (no extension was negotiated)")
        fin, opcode = bool(first & 0x80), first & 0x0F
        masked, length = bool(second & 0x80), second & 0x7F
        if masked != self.expect_masked:
            raise ProtocolError("client frames must be masked, server frames must not be")
        offset = 2
        if length == 126:
            if len(buffer) < 4:
                return None
            length, offset = _U16.unpack_from(buffer, 2)[0], 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            length, offset = _U64.unpack_from(buffer, 2)[0], 10
            if length >> 63:
                raise ProtocolError("frame length has its top bit set")
        if opcode in _CONTROL_OPS:
            if not fin or length > 125:
                raise ProtocolError("control frames are unfragmented and at most 125 bytes")
        elif opcode not in _DATA_OPS and opcode != OP_CONT:
            raise ProtocolError(f"unknown opcode {opcode}")
        if length > self.max_message or len(self._fragments) + length > self.max_message:
            raise ProtocolError(f"message over {self.max_message} bytes", 1009)
        key = b""
        if masked:
            if len(buffer) < offset + 4:
                return None
            key, offset = bytes(buffer[offset:offset + 4]), offset + 4
        if len(buffer) < offset + length:
            return None
        payload = bytes(buffer[offset:offset + length])
        del buffer[:offset + length]
        return fin, opcode, _mask(payload, key) if masked else payload

    def _assemble(self, fin: bool, opcode: int, payload: bytes) -> Optional[Message]:
        if opcode in _CONTROL_OPS:
            if opcode == OP_CLOSE and payload:
                if len(payload) == 1:
                    raise ProtocolError("close payload of one byte")
                try:
                    payload[2:].decode("utf-8")
                except UnicodeDecodeError:
                    raise ProtocolError("close reason is not UTF-8", 1007) from None
            return Message(opcode, payload)
        if opcode == OP_CONT:
            if self._fragment_op is None:
                raise ProtocolError("continuation frame with no message to continue")
        elif self._fragment_op is not None:
            raise ProtocolError("a new message started inside a fragmented one")
        else:
            self._fragment_op = opcode
        if not fin:
            self._fragments += payload
            return None
        op, data = self._fragment_op, bytes(self._fragments) + payload if self._fragments else payload
        self._fragments, self._fragment_op = bytearray(), None
        if op == OP_TEXT:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError("text message is not valid UTF-8", 1007) from None
        assert op is not None
        return Message(op, data)
