"""Bounded byte reading shared by the offline parsers (:mod:`.evm`, :mod:`.fuel`).

Every refusal is a :class:`~o2lite.errors.ValidationError` (a ``ValueError``) naming the rule,
the same set of refusals as o2-sdk 0.5.0's ``o2_sdk/bridge/inspection.py``.
"""

from __future__ import annotations

import re

from ..errors import ValidationError

__all__ = ["MAX_TRANSACTION_HEX", "check", "unhex", "hex0x", "Reader"]

MAX_TRANSACTION_HEX = 32770  # characters of "0x…" text: 16 KiB of bytes (o2-sdk's bound)
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})+")


def check(ok: object, rule: str) -> None:
    """Raise :class:`ValidationError` with ``rule`` unless ``ok``."""
    if not ok:
        raise ValidationError(rule)


def unhex(value: object, what: str = "transaction") -> bytes:
    """``0x`` + an even, non-zero number of hex digits (any case), at most 32,770 characters."""
    check(isinstance(value, str), f"{what} must be 0x-hex text")
    assert isinstance(value, str)
    check(len(value) <= MAX_TRANSACTION_HEX, f"{what} over {MAX_TRANSACTION_HEX} characters")
    check(_HEX.fullmatch(value), f"{what} must be 0x followed by whole bytes of hex")
    return bytes.fromhex(value[2:])


def hex0x(data: bytes) -> str:
    """Lowercase ``0x`` hex."""
    return "0x" + data.hex()


class Reader:
    """Reads a byte string front to back; running past the end is a refusal, not an IndexError."""

    __slots__ = ("data", "offset")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int) -> bytes:
        """The next ``size`` bytes."""
        check(0 <= size <= len(self.data) - self.offset, "truncated transaction")
        out = self.data[self.offset:self.offset + size]
        self.offset += size
        return out

    def num(self, size: int = 8) -> int:
        """A big-endian unsigned integer of ``size`` bytes (a Fuel u64 by default)."""
        return int.from_bytes(self.take(size), "big")

    def count(self, maximum: int = 16384, what: str = "field") -> int:
        """A u64 that must not exceed ``maximum`` (lengths, counts, indexes, discriminants)."""
        value = self.num()
        check(value <= maximum, f"unsupported transaction size or {what}: {value} > {maximum}")
        return value

    def padded(self, size: int) -> bytes:
        """``size`` bytes followed by zero padding up to a multiple of 8 (Fuel's word alignment)."""
        out = self.take(size)
        check(not any(self.take(-size % 8)), "nonzero transaction padding")
        return out

    def done(self) -> None:
        """Refuse trailing bytes."""
        check(self.offset == len(self.data), "trailing transaction data")
