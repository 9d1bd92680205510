"""One HTTP/1.1 answer read from a socket, with bounded cost (o2lite's own ``http.client`` path).

``http.client.HTTPResponse`` parses headers through the ``email`` package (a feed parser and a
``Message`` per answer: about a fifth of an order's client CPU). This reads the same answers
with the same limits — a status line and header lines of at most 65,536 bytes, at most 100
headers (``http.client``'s own), interim ``1xx`` answers skipped — and the body by
``Content-Length``, ``Transfer-Encoding: chunked`` (at most 100 trailers) or until the server
closes, never more than ``limit`` bytes; the whole answer, head included, never past
``deadline`` (read through :class:`DeadlineReader`). A body shorter than announced raises
``http.client.IncompleteRead`` (``http.client`` itself returns it cut, without a word, when read
in pieces); a broken status line ``http.client.BadStatusLine``; an overlong line
``http.client.LineTooLong``; a stream the server closed before any byte
``http.client.RemoteDisconnected`` — the ``http.client`` exception types throughout.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
from io import BufferedIOBase
from typing import Any, Dict, List, Optional, Tuple

from ._http import TooLarge

__all__ = ["Headers", "DeadlineReader", "read_head", "read_body"]

MAX_LINE = 65536  # http.client._MAXLINE
MAX_HEADERS = 100  # http.client._MAXHEADERS
STEP = 65536  # bytes per read of a body: the deadline is checked between reads
_HEX = frozenset(b"0123456789abcdefABCDEF")


class Headers:
    """An answer's headers: ``get`` (first value, any case) and ``get_all`` (every value), which
    is what the transport and ``http.cookiejar`` read."""

    __slots__ = ("_values",)

    def __init__(self, values: Dict[str, List[str]]) -> None:
        self._values = values

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        found = self._values.get(name.lower())
        return found[0] if found else default

    def get_all(self, name: str, default: Any = None) -> Any:
        return list(self._values.get(name.lower(), ())) or default

    def __repr__(self) -> str:
        return f"Headers({self._values!r})"


LATE = "answer still arriving after twice the read timeout: gave up"


class DeadlineReader(io.RawIOBase):
    """The socket of ``connection`` (``.sock``, and ``.timeout``: the timeout set on it) read
    before ``deadline``: every receive waits at most the time left, so a server dripping a
    byte at a time — into the status line, headers, interim answers or trailers as much as
    into the body — cannot hold an answer past the deadline. The socket's timeout is shortened
    only once less than the read timeout is left (no system call per receive otherwise)."""

    def __init__(self, connection: Any, deadline: float) -> None:
        super().__init__()
        self._connection, self._deadline = connection, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        connection = self._connection
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TooLarge(LATE)
        shortened = connection.timeout is None or left < connection.timeout
        if shortened:
            connection.sock.settimeout(left)
            connection.timeout = left
        try:
            return int(connection.sock.recv_into(buffer))
        except socket.timeout:
            if shortened:
                raise TooLarge(LATE) from None
            raise


def _line(fp: BufferedIOBase) -> bytes:
    line = fp.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise http.client.LineTooLong("header line")
    return line


def read_head(fp: BufferedIOBase) -> Tuple[int, bool, Headers]:
    """Status, HTTP/1.1?, headers of the next answer on ``fp`` (a buffered reader of the
    socket), skipping interim 1xx answers."""
    while True:
        line = _line(fp)
        if not line:
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
            raise http.client.BadStatusLine(line[:100].decode("latin-1"))
        status = int(parts[1])
        values: Dict[str, List[str]] = {}
        for _ in range(MAX_HEADERS + 1):
            line = _line(fp)
            if line in (b"\r\n", b"\n", b""):
                break
            # a bare CR ends a header as in http.client's parser (the requests path): never
            # inside a value, which could be written back (a cookie) into a request's head
            for part in line.rstrip(b"\r\n").split(b"\r"):
                name, colon, value = part.partition(b":")
                if colon:
                    values.setdefault(name.strip().decode("latin-1").lower(), []).append(
                        value.strip().decode("latin-1"))
        else:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        if not 100 <= status < 200:
            return status, parts[0] == b"HTTP/1.1", Headers(values)


def _read(fp: BufferedIOBase, size: int, got: int, limit: int, deadline: float, status: int) -> bytes:
    """Exactly ``size`` bytes (``got`` already read), in steps that each check the limits."""
    if got + size > limit:
        raise TooLarge(f"response is over the {limit}-byte limit", status)
    chunks: List[bytes] = []
    missing = size
    while missing:
        chunk = fp.read1(min(missing, STEP))
        if not chunk:
            raise http.client.IncompleteRead(b"".join(chunks), missing)
        chunks.append(chunk)
        missing -= len(chunk)
        if time.monotonic() > deadline:
            raise TooLarge("response body still arriving after twice the read timeout: gave up", status)
    return b"".join(chunks)


def read_body(fp: BufferedIOBase, method: str, status: int, http11: bool, headers: Headers, limit: int,
              deadline: float) -> Tuple[bytes, bool]:
    """The body after :func:`read_head`, and whether the connection may carry another request."""
    connection = (headers.get("Connection") or "").lower()
    keep = ("close" not in connection) if http11 else ("keep-alive" in connection)
    if method == "HEAD" or status in (204, 304):
        return b"", keep
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        pieces: List[bytes] = []
        got = 0
        while True:
            size_text = _line(fp).split(b";", 1)[0].strip()
            # only HEXDIG: int() would also take a sign ("-1" once read past the size limit), 0x, _
            if not size_text or len(size_text) > 16 or not _HEX.issuperset(size_text):
                raise http.client.IncompleteRead(b"".join(pieces))
            size = int(size_text, 16)
            if size == 0:
                for _ in range(MAX_HEADERS + 1):  # trailers, ignored
                    if _line(fp) in (b"\r\n", b"\n", b""):
                        return b"".join(pieces), keep
                raise http.client.HTTPException(f"got more than {MAX_HEADERS} trailers")
            pieces.append(_read(fp, size, got, limit, deadline, status))
            got += size
            if _read(fp, 2, 0, limit, deadline, status) != b"\r\n":
                raise http.client.IncompleteRead(b"".join(pieces))
    declared = headers.get("Content-Length")
    if declared is not None and len(set(headers.get_all("Content-Length"))) > 1:
        raise http.client.HTTPException("different Content-Length headers")  # RFC 9112 §6.3; urllib3 too
    if declared is not None:
        length = int(declared) if declared.isdigit() and declared.isascii() and len(declared) < 19 else -1
        if length < 0:
            raise http.client.HTTPException(f"bad Content-Length {declared[:40]!r}")
        if length > limit:
            raise TooLarge(f"response of {length} bytes is over the {limit}-byte limit", status)
        return _read(fp, length, 0, limit, deadline, status), keep
    pieces = []  # no length: the body ends when the server closes
    got = 0
    while True:
        chunk = fp.read1(STEP)
        if not chunk:
            return b"".join(pieces), False
        got += len(chunk)
        if got > limit:
            raise TooLarge(f"response is over the {limit}-byte limit", status)
        if time.monotonic() > deadline:
            raise TooLarge("response body still arriving after twice the read timeout: gave up", status)
        pieces.append(chunk)
