"""keccak256: known answers, the 136-byte rate boundary, and a textbook reference."""

from __future__ import annotations

import hashlib
import os

import pytest

from o2lite.keccak import keccak256

_RC = [0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
       0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
       0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
       0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
       0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
       0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008]
_R = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
_M = 2**64 - 1


def _rot(x, n):
    return ((x << n) | (x >> (64 - n))) & _M if n else x


def reference_keccak256(data: bytes, pad_byte: int = 0x01) -> bytes:
    """Textbook Keccak-f[1600] sponge, lane by lane (FIPS-202 step by step)."""
    msg = bytearray(data) + bytes([pad_byte])
    while len(msg) % 136:
        msg.append(0)
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), 136):
        for i in range(17):
            a[i % 5][i // 5] ^= int.from_bytes(msg[off + 8 * i:off + 8 * i + 8], "little")
        for rc in _RC:
            c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
            d = [c[(x - 1) % 5] ^ _rot(c[(x + 1) % 5], 1) for x in range(5)]
            a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
            b = [[0] * 5 for _ in range(5)]
            for x in range(5):
                for y in range(5):
                    b[y][(2 * x + 3 * y) % 5] = _rot(a[x][y], _R[x][y])
            a = [[b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
            a[0][0] ^= rc
    return b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))


def test_known_answers():
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    # EIP-712's own example type hash: keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    assert keccak256(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)").hex() \
        == "8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f"


def test_is_not_sha3():
    assert keccak256(b"abc") != hashlib.sha3_256(b"abc").digest()
    # same permutation, only the padding differs: our reference with 0x06 gives SHA3
    assert reference_keccak256(b"abc", pad_byte=0x06) == hashlib.sha3_256(b"abc").digest()


@pytest.mark.parametrize("length", [0, 1, 31, 32, 64, 134, 135, 136, 137, 271, 272, 273, 408, 1000])
def test_rate_boundaries_match_reference(length):
    data = os.urandom(length)
    assert keccak256(data) == reference_keccak256(data)


def test_accepts_bytearray_and_memoryview():
    assert keccak256(bytearray(b"abc")) == keccak256(memoryview(b"abc")) == keccak256(b"abc")
