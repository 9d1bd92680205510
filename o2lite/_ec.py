"""secp256k1 point arithmetic in pure Python, with fixed-base tables (the hot path of signing).

Why: a signature is one scalar multiplication ``k·G`` of a point that never changes. A table of
``j · 2^(w·i) · P`` for every window ``i`` and digit ``j`` turns ``k·P`` into one mixed
Jacobian–affine addition per ``w``-bit window of ``k`` and no doublings: 32 additions for
``w = 8`` instead of python-ecdsa's ~256 doublings and ~50 additions.

Cost and memory (measured by ``tests/bench/crypto.py``): the generator's 8-bit table holds
32 × 255 points (about 1.5 MB) and is built once, lazily, on the first signature (~50 ms).
Per-key 4-bit tables (64 × 15 points, ~150 kB, a few ms) serve the sandbox's verification.

Side channels: like python-ecdsa (CVE-2024-23342), this is not constant-time — table lookups
are indexed by secret bytes and zero windows are skipped, so timing depends on the scalar. The
stance is unchanged: session keys are short-lived and scoped, owner keys sign rarely, and
``coincurve`` (constant-time libsecp256k1) is used whenever it is installed.

Points: affine ``(x, y)`` tuples, Jacobian ``(X, Y, Z)`` tuples, ``None`` for infinity.
"""

from __future__ import annotations

import threading
from typing import List, Optional, Tuple

__all__ = ["P", "N", "G", "FixedBase", "generator_table", "mul_g", "point_from_bytes", "verify_recoverable"]

P = 2**256 - 2**32 - 977  # field prime (SEC 2, §2.4.1)
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # group order
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)

Affine = Tuple[int, int]
Jacobian = Tuple[int, int, int]


def _double(p: Jacobian) -> Optional[Jacobian]:
    """2·p in Jacobian coordinates (a = 0: dbl-2009-l)."""
    x, y, z = p
    if not y:
        return None
    a = x * x % P
    b = y * y % P
    c = b * b % P
    d = 2 * ((x + b) * (x + b) - a - c) % P
    e = 3 * a
    x3 = (e * e - 2 * d) % P
    return x3, (e * (d - x3) - 8 * c) % P, 2 * y * z % P


def _add_affine(p: Optional[Jacobian], q: Affine) -> Optional[Jacobian]:
    """p + q with q affine (madd-2007-bl style); handles infinity, doubling and p = −q."""
    if p is None:
        return q[0], q[1], 1
    x1, y1, z1 = p
    z1z1 = z1 * z1 % P
    h = (q[0] * z1z1 - x1) % P
    r = (q[1] * z1 * z1z1 - y1) % P
    if not h:
        return _double(p) if not r else None
    hh = h * h % P
    hhh = h * hh % P
    v = x1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    return x3, (r * (v - x3) - y1 * hhh) % P, z1 * h % P


def to_affine(p: Optional[Jacobian]) -> Optional[Affine]:
    """``(X/Z², Y/Z³)``, or ``None`` for infinity."""
    if p is None:
        return None
    zi = pow(p[2], -1, P)
    zi2 = zi * zi % P
    return p[0] * zi2 % P, p[1] * zi2 * zi % P


def _batch_affine(points: List[Jacobian]) -> List[Affine]:
    """Many Jacobian points to affine with one inversion (Montgomery's trick)."""
    prefix, acc = [], 1
    for _, _, z in points:
        prefix.append(acc)
        acc = acc * z % P
    inv = pow(acc, -1, P)
    out: List[Affine] = [(0, 0)] * len(points)
    for i in range(len(points) - 1, -1, -1):
        x, y, z = points[i]
        zi = inv * prefix[i] % P
        inv = inv * z % P
        zi2 = zi * zi % P
        out[i] = (x * zi2 % P, y * zi2 * zi % P)
    return out


class FixedBase:
    """``k·base`` for any scalar ``k`` with one table lookup and addition per window.

    ``table[i][j - 1] = j · 2^(window·i) · base`` (affine), ``j`` = 1 … 2^window − 1.
    """

    __slots__ = ("window", "mask", "table")

    def __init__(self, base: Affine, window: int = 4) -> None:
        self.window = window
        self.mask = (1 << window) - 1
        rows: List[Jacobian] = []
        point: Affine = base
        for _ in range((256 + window - 1) // window):
            acc: Optional[Jacobian] = None
            for _ in range(self.mask):
                acc = _add_affine(acc, point)
                assert acc is not None  # a multiple below the group order is never infinity
                rows.append(acc)
            doubled = _add_affine(acc, point)  # 2^window · point: the next window's base
            assert doubled is not None
            point = to_affine(doubled)  # type: ignore[assignment]
        flat = _batch_affine(rows)
        self.table = [flat[i:i + self.mask] for i in range(0, len(flat), self.mask)]

    def mul(self, k: int) -> Optional[Jacobian]:
        """``k·base`` in Jacobian coordinates (``None`` for infinity); ``0 ≤ k < 2^256``."""
        acc: Optional[Jacobian] = None
        window, mask = self.window, self.mask
        for row in self.table:
            digit = k & mask
            if digit:
                acc = _add_affine(acc, row[digit - 1])
            k >>= window
        return acc


_G_TABLE: Optional[FixedBase] = None
_G_LOCK = threading.Lock()


def generator_table() -> FixedBase:
    """The generator's 8-bit table, built on first use (once per process, thread-safe)."""
    global _G_TABLE
    if _G_TABLE is None:
        with _G_LOCK:
            if _G_TABLE is None:
                _G_TABLE = FixedBase(G, window=8)
    return _G_TABLE


def mul_g(k: int) -> Affine:
    """``k·G`` (affine) for ``0 < k < N``."""
    point = to_affine(generator_table().mul(k))
    if point is None:  # pragma: no cover - impossible for 0 < k < N
        raise ValueError("k·G is infinity")
    return point


def point_from_bytes(public_key: bytes) -> Affine:
    """A 64-byte ``x ‖ y`` public key as an affine point (checked to lie on the curve)."""
    x, y = int.from_bytes(public_key[:32], "big"), int.from_bytes(public_key[32:64], "big")
    if len(public_key) != 64 or not (x < P and y < P) or (y * y - x * x * x - 7) % P:
        raise ValueError("not a point on secp256k1")
    return x, y


def verify_recoverable(signature: bytes, digest: bytes, public_key: bytes, table: Optional[FixedBase] = None) -> bool:
    """True exactly when recovering ``signature`` (Fuel compact: ``r ‖ s`` with the recovery id
    in the top bit of ``s``) over ``digest`` yields ``public_key``.

    Recovery starts from the point ``R = (r, y)`` with ``y``'s parity = the recovery id and
    returns ``Q = r⁻¹(s·R − z·G)``. Equivalently ``R = u1·G + u2·Q`` with ``u1 = z·s⁻¹`` and
    ``u2 = r·s⁻¹``: so computing that ``R`` and comparing its ``x`` with ``r`` and its parity
    with the recovery id gives the same verdict without a square root or a variable-base
    multiplication (``table`` is ``public_key``'s :class:`FixedBase`, built by the caller).
    """
    if len(signature) != 64 or len(digest) != 32:
        return False
    r = int.from_bytes(signature[:32], "big")
    s_word = int.from_bytes(signature[32:], "big")
    recovery_id, s = s_word >> 255, s_word & ((1 << 255) - 1)
    if not (0 < r < N and 0 < s < N):
        return False
    w = pow(s, -1, N)
    u1 = int.from_bytes(digest, "big") * w % N
    u2 = r * w % N
    if table is None:
        table = FixedBase(point_from_bytes(public_key))
    q_part = to_affine(table.mul(u2))
    total = generator_table().mul(u1)
    if q_part is not None:
        total = _add_affine(total, q_part)
    point = to_affine(total)
    return point is not None and point[0] == r and point[1] & 1 == recovery_id
