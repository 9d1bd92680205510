"""Stream messages per second: frames decoded, JSON parsed, depth changes applied to the local
book (not a test; run: python tests/bench/stream.py [--messages N]).

The bytes of N ``subscribe_depth_update`` frames (three signed changes each) are fed to the
client's own machinery — the RFC 6455 frame reader, the bounded JSON parser, the depth parser
and ``OrderBook.apply`` — exactly as the reader thread runs them, without a socket in between.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from o2lite.streams import frames as _ws  # noqa: E402
from o2lite._json import loads  # noqa: E402
from o2lite.streams.events import OrderBook, parse_depth  # noqa: E402

MARKET = "0x" + "a1" * 32


def frames(count: int) -> bytes:
    out = [_ws.encode_frame(_ws.OP_TEXT, json.dumps({
        "action": "subscribe_depth", "market_id": MARKET,
        "view": {"precision": "10", "buys": [{"price": str(1000 - i), "quantity": "100"} for i in range(50)],
                 "sells": [{"price": str(1001 + i), "quantity": "100"} for i in range(50)]}}).encode(), mask=False)]
    for n in range(count):
        changes = {"buys": [{"price": str(1000 - n % 50), "quantity": "-10"}, {"price": str(990 - n % 7), "quantity": "7"}],
                   "sells": [{"price": str(1001 + n % 50), "quantity": "5"}]}
        out.append(_ws.encode_frame(_ws.OP_TEXT, json.dumps({
            "action": "subscribe_depth_update", "market_id": MARKET, "changes": changes,
            "onchain_timestamp": "1700000000", "seen_timestamp": "1700000000000000000"}).encode(), mask=False))
    return b"".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=50_000)
    args = parser.parse_args()
    data = frames(args.messages)
    reader, book = _ws.FrameReader(expect_masked=False, max_message=1 << 20), OrderBook()
    started = time.perf_counter()
    applied = 0
    for offset in range(0, len(data), 65536):  # as recv() hands them over
        for message in reader.feed(data[offset:offset + 65536]):
            book.apply(parse_depth(loads(message.payload.decode("utf-8"))))
            applied += 1
    elapsed = time.perf_counter() - started
    print(f"python {sys.version.split()[0]}: {applied} depth messages in {elapsed:.2f} s = "
          f"{applied / elapsed:,.0f} messages/s ({elapsed / applied * 1e6:.1f} µs each); book {book}")


if __name__ == "__main__":
    main()
