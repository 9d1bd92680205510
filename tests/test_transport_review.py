"""Review of the lean HTTP path (issue 26) and the "was it sent?" rule: each test reproduces a
finding on a real loopback socket (or the answer reader on bytes) and fails without its fix."""

from __future__ import annotations

import io
import socket
import threading
import time
from typing import Any, Callable, List

import pytest

import o2lite
from o2lite._response import Headers, read_body
from o2lite.transport import Submission

from .test_wire import RawServer, ok

SIGNED = Submission(5, "sequential", None)


@pytest.fixture(autouse=True)
def stdlib_default(monkeypatch):
    monkeypatch.delenv("O2LITE_STDLIB_HTTP", raising=False)


@pytest.fixture
def serve():
    servers: List[RawServer] = []

    def start(answer: Any, **options: Any) -> RawServer:
        servers.append(RawServer(answer, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("size", [b"-1", b"-10", b"+5", b"0x5", b"5_0", b"", b"1" * 17])
def test_a_chunk_size_must_be_plain_hex(size):
    """A negative chunk size made the reader ignore the 8 MiB limit and read on until the server
    closed (20 MiB here); sign, 0x, underscores and an empty size are not HTTP either."""
    raw = io.BytesIO(size + b"\r\n" + b"x" * (20 << 20))
    fp = io.BufferedReader(raw)
    with pytest.raises(Exception) as caught:
        read_body(fp, "GET", 200, True, Headers({"transfer-encoding": ["chunked"]}), 8 << 20, time.monotonic() + 60)
    assert not isinstance(caught.value, (AssertionError, MemoryError))
    assert raw.tell() < 1 << 20  # refused at the size line, not after reading the stream
