"""Reading response JSON: tolerant of the shapes sources disagree on, strict about values.

Policy (PROTOCOL §2, §5): parse tolerantly, send exactly. Integers may arrive as numbers,
base-10 strings or ``0x`` hex; ids with or without ``0x`` in any case; lists bare or wrapped.
But a value is never guessed at: a negative or over-wide integer, an id of the wrong length, a
boolean spelled ``"false"`` read as true, a side that is neither buy nor sell — each raises
:class:`O2Error` naming the endpoint and field. Integer text is bounded before any arithmetic,
so no answer can make a conversion run for long.
"""

from __future__ import annotations

import re
from decimal import Decimal
from collections.abc import Mapping
from typing import Any, Iterable, List, Optional

from .errors import O2Error

_MISSING = object()
_HEX = re.compile(r"(?:0[xX])?([0-9a-fA-F]{1,64})")
_ID = re.compile(r"(?:0[xX])?([0-9a-fA-F]{64})")
_INTEGRAL = re.compile(r"[0-9]{1,78}(?:\.0{0,78})?|[0-9]{1,78}\.?[0-9]{0,78}[eE][+]?[0-9]{1,3}")


def _snippet(obj: Any) -> Any:
    text = repr(obj)
    return obj if len(text) <= 200 else text[:200]


def _bad(where: str, name: str, what: str, value: Any) -> O2Error:
    return O2Error(f"{where}: field {name!r} {what}: {str(value)[:40]!r}")


def mapping(obj: Any, where: str, what: str = "an object") -> Mapping[str, Any]:
    """``obj`` if it is a JSON object, else an :class:`O2Error`."""
    if not isinstance(obj, Mapping):
        raise O2Error(f"{where}: expected {what}, got {type(obj).__name__}", body=_snippet(obj))
    return obj


def require(obj: Any, name: str, where: str) -> Any:
    """``obj[name]``, or an :class:`O2Error` naming the field and endpoint."""
    value = obj.get(name, _MISSING) if isinstance(obj, Mapping) else _MISSING
    if value is _MISSING or value is None:
        raise O2Error(f"{where}: response is missing field {name!r}", body=_snippet(obj))
    return value


def first(obj: Any, names: Iterable[str], where: str, default: Any = _MISSING) -> Any:
    """The first present field among ``names`` (for fields spelled differently by source)."""
    if isinstance(obj, Mapping):
        for name in names:
            if obj.get(name) is not None:
                return obj[name]
    if default is not _MISSING:
        return default
    raise O2Error(f"{where}: response is missing field {' / '.join(names)!r}", body=_snippet(obj))


def digits(text: Any, max_digits: int = 78) -> Optional[int]:
    """The value of ``text`` when it is 1 to ``max_digits`` ASCII digits ``0-9``, else ``None``.

    The default bound is the 78 digits of u256::MAX. ``str.isdigit()`` alone is no guard for
    ``int()``: it is true for ``"²"`` (``int()`` then raises) and for other scripts' digits
    (``int("١") == 1``), and ``int()`` of very long text raises on Python 3.11+ (its digit
    limit). Every place that reads a number someone else wrote (a response field, a header, a
    request body in the sandbox) goes through here.
    """
    if isinstance(text, str) and 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def chain_int(value: Any, name: str = "value", where: str = "response", bits: int = 64) -> int:
    """A chain integer in ``[0, 2**bits)`` from a JSON number, base-10 string or ``0x`` hex.

    Text is checked by length and shape before it is converted; an exponent form
    (``"1e3"``, ``1000.0``) is accepted only when it is whole and its size is in range.
    """
    number: Optional[int] = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, (Decimal, float)):
        number = _whole(Decimal(value) if isinstance(value, float) else value)
    elif isinstance(value, str):
        text = value.strip()
        number = digits(text)
        if number is None and text[:2] in ("0x", "0X") and _HEX.fullmatch(text):
            number = int(text[2:], 16)
        elif number is None and _INTEGRAL.fullmatch(text):
            number = _whole(Decimal(text))
    if number is None:
        raise _bad(where, name, "is not an integer", value)
    if not 0 <= number < 1 << bits:
        raise _bad(where, name, f"is out of range for a u{bits}", value)
    return number


def _whole(number: Decimal) -> Optional[int]:
    if not number.is_finite() or number.adjusted() > 78 or number != number.to_integral_value():
        return None
    return int(number)


def opt_int(obj: Any, name: str, where: str, bits: int = 64) -> Optional[int]:
    """An optional chain integer field."""
    value = obj.get(name) if isinstance(obj, Mapping) else None
    return None if value is None else chain_int(value, name, where, bits)


def req_int(obj: Any, name: str, where: str, bits: int = 64) -> int:
    """A required chain integer field."""
    return chain_int(require(obj, name, where), name, where, bits)


def hex_id(value: Any, name: str = "id", where: str = "response") -> str:
    """A 32-byte id normalised to lowercase ``0x…`` (exactly 64 hex digits, ``0x`` optional)."""
    match = _ID.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _bad(where, name, "is not a 32-byte hex id", value)
    return "0x" + match.group(1).lower()


def opt_id(obj: Any, name: str, where: str) -> Optional[str]:
    """An optional 32-byte id field."""
    value = obj.get(name) if isinstance(obj, Mapping) else None
    return None if value is None else hex_id(value, name, where)


def identity_id(value: Any, where: str, name: str = "identity") -> Optional[str]:
    """The address inside ``{"Address": …}`` / ``{"ContractId": …}`` (or a bare id), normalised."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        if len(value) != 1 or next(iter(value)) not in ("Address", "ContractId"):
            raise _bad(where, name, "is not an Identity", value)
        value = next(iter(value.values()))
    return hex_id(value, name, where)


def flag(obj: Any, name: str, where: str, default: bool = False) -> bool:
    """A boolean field: ``true``/``false`` or the strings ``"true"``/``"false"``; never truthiness."""
    value = obj.get(name) if isinstance(obj, Mapping) else None
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _bad(where, name, "is not a boolean", value)


def side_of(value: Any, where: str, name: str = "side") -> str:
    """``"Buy"``/``"Sell"`` from any case (responses may be lower case)."""
    if isinstance(value, str) and value.strip().lower() in ("buy", "sell"):
        return value.strip().capitalize()
    raise _bad(where, name, "is neither buy nor sell", value)


def text(obj: Any, name: str, where: str, limit: int = 200) -> str:
    """A required string field (a number is accepted and shown as text), at most ``limit`` long."""
    value = require(obj, name, where)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _bad(where, name, "is not a string", value)
    result = str(value)
    if len(result) > limit:
        raise _bad(where, name, f"is longer than {limit} characters", result)
    return result


def unwrap_list(body: Any, keys: Iterable[str], where: str) -> List[Any]:
    """A list that may come bare or wrapped in an object under one of ``keys``."""
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        for key in keys:
            if isinstance(body.get(key), list):
                return list(body[key])
    raise O2Error(f"{where}: expected a list (or an object holding {', '.join(keys)})", body=_snippet(body))


def unwrap_one(body: Any, where: str) -> Mapping[str, Any]:
    """An object that may come bare or as a one-item list."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    return mapping(body, where)


def decimal_of(value: Any, name: str, where: str) -> Decimal:
    """A finite Decimal from a JSON number or numeric string (human-scale aggregated values)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)) or len(str(value)) > 100:
        raise _bad(where, name, "is not a number", value)
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except ArithmeticError:
        raise _bad(where, name, "is not a number", value) from None
    if not number.is_finite() or abs(number.adjusted()) > 60:
        raise _bad(where, name, "is not a finite number of sensible size", value)
    return number
