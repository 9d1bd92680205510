"""Tolerant reading of response JSON: the exchange and its SDKs disagree on shapes (PROTOCOL §5).

Policy: parse tolerantly, send exactly. Integers may arrive as numbers, base-10 strings or
``0x`` hex; ids with or without ``0x`` in any case; lists bare or wrapped. A required field
that is missing raises :class:`O2Error` naming the field and the endpoint, never ``KeyError``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, List, Mapping, Optional

from .errors import O2Error

_MISSING = object()


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


def _snippet(obj: Any) -> Any:
    text = repr(obj)
    return obj if len(text) <= 200 else text[:200]


def chain_int(value: Any, name: str = "value", where: str = "response") -> int:
    """A chain integer from a JSON number, base-10 string or ``0x`` hex string."""
    if isinstance(value, bool):
        raise O2Error(f"{where}: field {name!r} is not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if text[:2] in ("0x", "0X"):
                return int(text, 16)
            if "." in text or "e" in text or "E" in text:
                number = Decimal(text)
                if number == number.to_integral_value():
                    return int(number)
            else:
                return int(text, 10)
        except (ValueError, ArithmeticError):
            pass
    raise O2Error(f"{where}: field {name!r} is not an integer: {str(value)[:40]!r}")


def opt_int(obj: Any, name: str, where: str) -> Optional[int]:
    """An optional chain integer field."""
    value = obj.get(name) if isinstance(obj, Mapping) else None
    return None if value is None else chain_int(value, name, where)


def req_int(obj: Any, name: str, where: str) -> int:
    """A required chain integer field."""
    return chain_int(require(obj, name, where), name, where)


def hex_id(value: Any, name: str = "id", where: str = "response") -> str:
    """An id normalised to lowercase ``0x…``."""
    if not isinstance(value, str) or not value:
        raise O2Error(f"{where}: field {name!r} is not a hex id: {str(value)[:80]!r}")
    text = value.strip().lower()
    text = text[2:] if text.startswith("0x") else text
    try:
        int(text, 16)
    except ValueError:
        raise O2Error(f"{where}: field {name!r} is not a hex id: {value[:80]!r}") from None
    return "0x" + text


def opt_id(obj: Any, name: str, where: str) -> Optional[str]:
    value = obj.get(name) if isinstance(obj, Mapping) else None
    return None if value is None else hex_id(value, name, where)


def identity_id(value: Any, where: str) -> Optional[str]:
    """The address inside ``{"Address": …}`` / ``{"ContractId": …}`` (or a bare id), normalised."""
    if value is None:
        return None
    if isinstance(value, Mapping) and len(value) == 1:
        value = next(iter(value.values()))
    return hex_id(value, "identity", where)


def unwrap_list(body: Any, keys: Iterable[str], where: str) -> List[Any]:
    """A list that may come bare or wrapped in an object under one of ``keys``."""
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        for key in keys:
            if isinstance(body.get(key), list):
                return body[key]
    raise O2Error(f"{where}: expected a list (or an object holding {', '.join(keys)})", body=_snippet(body))


def unwrap_one(body: Any, where: str) -> Mapping[str, Any]:
    """An object that may come bare or as a one-item list."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, Mapping):
        raise O2Error(f"{where}: expected an object", body=_snippet(body))
    return body


def decimal_of(value: Any, name: str, where: str) -> Decimal:
    """A Decimal from a number or string (human-scale aggregated values)."""
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise O2Error(f"{where}: field {name!r} is not a number: {str(value)[:40]!r}") from None
