"""The machinery of the proxy's wire models (:mod:`o2lite.bridge.models`): Python names
outside, camelCase JSON on the wire, answers read strictly (a missing required key or a value of
the wrong JSON type is a :class:`ValueError` naming the field), requests written with optional
fields left out when ``None``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Tuple, Type, TypeVar, Union, get_args, get_origin, get_type_hints

from ..errors import ValidationError

__all__ = ["BridgeModel", "wire_name", "raw_field", "need", "is_int", "is_amount"]

M = TypeVar("M", bound="BridgeModel")
_JSON_TYPES = {str: "a string", int: "an integer", bool: "a boolean"}


def wire_name(name: str) -> str:
    """``source_chain_id`` → ``sourceChainId``; ``from_address`` → ``from``."""
    if name == "from_address":
        return "from"
    first, *rest = name.split("_")
    return first + "".join(s.title() for s in rest)


def _convert(typ: Any, value: Any, where: str) -> Any:
    origin = get_origin(typ)
    if origin is Union:
        if value is None:
            return None
        return _convert(next(t for t in get_args(typ) if t is not type(None)), value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{where} must be a list")
        return [_convert(get_args(typ)[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(typ, type) and issubclass(typ, BridgeModel):
        return typ.from_json(value, where)
    if type(value) is not typ:  # exact: a bool is not an integer here
        raise ValueError(f"{where} must be {_JSON_TYPES.get(typ, typ)}")
    return value


_SCHEMAS: Dict[type, List[Tuple[str, str, Any, bool]]] = {}


def _schema(cls: type) -> List[Tuple[str, str, Any, bool]]:
    """``(field, wire key, type, required)`` of a model, worked out once per class: resolving the
    type hints costs more than reading a small object, and a long answer holds thousands."""
    schema = _SCHEMAS.get(cls)
    if schema is None:
        hints = get_type_hints(cls)
        schema = [(f.name, wire_name(f.name), hints[f.name], f.default is dataclasses.MISSING)
                  for f in dataclasses.fields(cls) if f.name != "raw"]
        _SCHEMAS[cls] = schema
    return schema


class BridgeModel:
    """Base of the wire models (frozen dataclasses)."""

    @classmethod
    def from_json(cls: Type[M], data: Any, where: str = "") -> M:
        """Read an answer object; ``ValueError`` naming the field when it is malformed."""
        if not isinstance(data, dict):
            raise ValueError(f"{where or cls.__name__} must be an object")
        values: Dict[str, Any] = {}
        for name, key, hint, required in _schema(cls):
            path = f"{where}.{key}" if where else key
            if key in data:
                values[name] = _convert(hint, data[key], path)
            elif required:
                raise ValueError(f"missing {path}")
        return cls(raw=data, **values)  # type: ignore[call-arg]

    def to_json(self) -> Dict[str, Any]:
        """The request body: camelCase keys, ``None`` optionals left out."""
        out: Dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name == "raw" or (value is None and f.default is not dataclasses.MISSING):
                continue
            out[wire_name(f.name)] = value.to_json() if isinstance(value, BridgeModel) else value
        return out


def raw_field() -> Any:
    """The ``raw`` field of a model: the untouched JSON, out of ``repr`` and comparisons."""
    return dataclasses.field(default_factory=dict, repr=False, compare=False)


def need(ok: bool, message: str) -> None:
    """A check of a request's value: :class:`ValidationError` with ``message`` unless ``ok``."""
    if not ok:
        raise ValidationError(message)


def is_int(value: Any) -> bool:
    """An integer and not a ``bool``."""
    return type(value) is int


def is_amount(value: Any) -> bool:
    """A decimal amount string in Fuel base units (ASCII digits, at most 78)."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 78
