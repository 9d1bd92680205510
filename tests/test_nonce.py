"""Parallel nonces: packing edges, windows, and the thread-safe issuer."""

from __future__ import annotations

import threading

import pytest

from o2lite.errors import NonceWindowFull, ValidationError
from o2lite.nonce import (NonceWindow, ParallelNonceIssuer, pack_parallel_nonce, unpack_parallel_nonce)


def test_pack_edges_round_trip():
    for fields in [(0, 0, 0, 0), (4, 2**32 - 1, 2**128 - 1, 127), (2, 1700000000, 12345, 64)]:
        assert tuple(unpack_parallel_nonce(pack_parallel_nonce(*fields))) == fields
        assert tuple(unpack_parallel_nonce(str(pack_parallel_nonce(*fields)))) == fields


@pytest.mark.parametrize("fields", [(5, 0, 0, 0), (0, 2**32, 0, 0), (0, 0, 2**128, 0), (0, 0, 0, 128), (-1, 0, 0, 0)])
def test_pack_rejects_out_of_range(fields):
    with pytest.raises(ValidationError):
        pack_parallel_nonce(*fields)


@pytest.mark.parametrize("value, reason", [(1 << 176, "reserved"), (5 << 168, "session id"), (200, "bitmap position")])
def test_unpack_rejects(value, reason):
    with pytest.raises(ValidationError, match=reason):
        unpack_parallel_nonce(value)


def test_fresh_window_and_short_slots():
    assert NonceWindow.from_json({"nonce_session_id": 1, "base": "0", "slots": []}).first_free() == (0, 0)
    window = NonceWindow.from_json({"nonce_session_id": 1, "base": "10", "slots": [
        {"word_position": "10", "bitmap": str(2**128 - 1)}, {"word_position": "11", "bitmap": "1"}]})
    assert window.first_free() == (11, 1)
    assert window.is_used(10, 127) and not window.is_used(11, 1)


class FakeClock:
    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_issuer_sequence_expiry_and_full():
    clock = FakeClock()
    issuer = ParallelNonceIssuer(2, {"nonce_session_id": 2, "base": "0",
                                     "slots": [{"word_position": "7", "bitmap": str(2**126)}]}, clock=clock)
    first = issuer.issue()
    assert (first.word_position, first.bitmap_position) == (7, 127)
    assert unpack_parallel_nonce(first.value) == (2, 1_700_000_120, 7, 127)
    with pytest.raises(NonceWindowFull):
        issuer.issue()


def test_issuer_rejects_wrong_lane_window():
    with pytest.raises(ValidationError):
        ParallelNonceIssuer(1, {"nonce_session_id": 0, "base": "0", "slots": []})


def test_resync_is_single_flight():
    issuer = ParallelNonceIssuer(0)
    generation = issuer.issue().generation
    fetches = []

    def fetch():
        fetches.append(1)
        return {"nonce_session_id": 0, "base": "3", "slots": []}

    assert issuer.resync(fetch, seen_generation=generation)
    assert not issuer.resync(fetch, seen_generation=generation)  # another thread already did it
    assert len(fetches) == 1
    assert issuer.issue().word_position == 3


def test_64_threads_100k_nonces_unique():
    """64 threads draw 100,000 nonces; when the window is used up, a fake exchange slides it
    by 8 words (single-flight: one slide per exhaustion). No duplicate, every field in range."""
    issuer = ParallelNonceIssuer(3, clock=FakeClock())
    issued = [[] for _ in range(64)]
    exchange = {"base": 0, "slides": 0}
    per_thread = 100_000 // 64 + 1

    def exchange_window():
        exchange["base"] += 8
        exchange["slides"] += 1
        return {"nonce_session_id": 3, "base": str(exchange["base"]), "slots": []}

    def worker(out):
        while len(out) < per_thread:
            try:
                got = issuer.issue()
            except NonceWindowFull:
                issuer.resync(exchange_window, seen_generation=issuer.generation)
                continue
            out.append(got.value)

    threads = [threading.Thread(target=worker, args=(out,)) for out in issued]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    values = [v for out in issued for v in out]
    assert len(values) >= 100_000
    assert len(set(values)) == len(values)
    assert exchange["slides"] == len(values) // 1024  # exactly one resync per used-up window
    for v in values[::97]:
        lane, expiry, word, bit = unpack_parallel_nonce(v)
        assert lane == 3 and 0 <= bit < 128 and expiry == 1_700_000_120


def test_resync_never_moves_behind_handed_out_positions():
    issuer = ParallelNonceIssuer(0)
    for _ in range(5):
        issuer.issue()
    stale = {"nonce_session_id": 0, "base": "0", "slots": [{"word_position": "0", "bitmap": "3"}]}
    issuer.resync(stale)
    assert issuer.issue().bitmap_position == 5  # not 2: positions 2–4 may still be in flight
    issuer.resync(stale, allow_backwards=True)
    assert issuer.issue().bitmap_position == 2


# --- the Nonce value: one kind, one value, the JSON key it travels under ----------------------

def test_a_nonce_is_one_value_with_its_kind_and_json_key():
    from o2lite.nonce import Nonce

    sequential, parallel = Nonce.sequential(7), Nonce.parallel(pack_parallel_nonce(1, 2, 3, 4))
    assert (sequential.kind, sequential.value, sequential.field) == ("sequential", 7, "nonce")
    assert (parallel.kind, parallel.field) == ("parallel", "parallel_nonce")
    assert sequential.json == {"nonce": "7"} and str(sequential) == "sequential 7"
    assert Nonce.of(7) == Nonce.of("7") == sequential and Nonce.of(parallel) is parallel
    assert Nonce.from_body({"parallel_nonce": str(parallel.value), "x": 1}) == parallel
    assert Nonce.from_body({"nonce": "7"}) == sequential and Nonce.from_body({}) is None
    for bad in (lambda: Nonce("fast", 1), lambda: Nonce.sequential(2**64), lambda: Nonce.sequential(-1),
                lambda: Nonce.parallel(2**256), lambda: Nonce.of(1.5), lambda: Nonce.of(True), lambda: Nonce.of(None)):
        with pytest.raises(ValidationError):
            bad()


def test_no_signing_method_takes_a_pair_of_nonce_arguments():
    import inspect

    from o2lite.accounts import Accounts
    from o2lite.session import Session

    methods = [m for cls in (Session, Accounts) for name, m in vars(cls).items()
               if callable(m) and "nonce" in inspect.signature(m).parameters]
    assert len(methods) >= 12
    for method in methods:
        assert "parallel_nonce" not in inspect.signature(method).parameters, method.__qualname__
