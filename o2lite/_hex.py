"""Small, pure conversions shared by the helpers: 32-byte ids, hex text, chain integers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Union

from .errors import ValidationError

BytesLike = Union[str, bytes, bytearray]

U64_MAX = 2**64 - 1  # u64::MAX
U256_MAX = 2**256 - 1  # u256::MAX
_MAX_DIGITS = 78  # decimal digits of u256::MAX; longer text is never a chain integer


def to_bytes(value: BytesLike, length: int, what: str = "value") -> bytes:
    """``0x`` hex (any case, prefix optional) or bytes → exactly ``length`` bytes.

    Raises :class:`ValidationError` (a ``ValueError``) naming ``what`` on a wrong type, bad hex
    or wrong length; the rejected value itself is never echoed (it may be a key).
    """
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    elif isinstance(value, str):
        text = value[2:] if value[:2] in ("0x", "0X") else value
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise ValidationError(f"{what} is not valid hex") from None
    else:
        raise ValidationError(f"{what} must be 0x-hex text or bytes, not {type(value).__name__}")
    if len(raw) != length:
        raise ValidationError(f"{what} must be {length} bytes, got {len(raw)}")
    return raw


def b256(value: BytesLike, what: str = "id") -> bytes:
    """A 32-byte id (asset, contract, address, order…) from hex or bytes."""
    return to_bytes(value, 32, what)


def b256_hex(value: BytesLike, what: str = "id") -> str:
    """A 32-byte id normalised to lowercase ``0x…`` text."""
    return "0x" + b256(value, what).hex()


def to_int(value: Any, what: str = "value", *, low: int = 0, high: int = U64_MAX) -> int:
    """A chain integer from ``int`` or base-10/``0x`` text, checked to lie in ``[low, high]``.

    ``float`` and ``bool`` are refused: chain integers are exact.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise ValidationError(f"{what} must be an integer, not {type(value).__name__}")
    if isinstance(value, Decimal):
        # bound the exponent before int(): int(Decimal("1e999999999")) would run for hours
        if not value.is_finite() or value.adjusted() > _MAX_DIGITS:
            raise ValidationError(f"{what} out of range [{low}, {high}]")
        if value != value.to_integral_value():
            raise ValidationError(f"{what} must be a whole number")
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_DIGITS + 2:
            raise ValidationError(f"{what} is not an integer of at most 256 bits: {text[:40]!r}…")
        try:
            value = int(text, 16) if text[:2] in ("0x", "0X") else int(text, 10)
        except ValueError:
            raise ValidationError(f"{what} is not an integer: {text[:40]!r}") from None
    if not isinstance(value, int):
        raise ValidationError(f"{what} must be an integer, not {type(value).__name__}")
    if value < low or value > high:
        raise ValidationError(f"{what} out of range [{low}, {high}]: {value}")
    return value
