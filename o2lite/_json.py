"""JSON with bounded cost, for text that arrives from the network (answers and requests alike).

``json.loads`` alone lets one hostile body cost the whole process: a 1000-deep nesting raises
``RecursionError``, a 100,000-digit number costs quadratic time to convert (and hours once it
reaches ``int(Decimal(…))`` further on), ``NaN`` and ``Infinity`` slip in as floats, and a float
silently loses digits. :func:`loads` refuses all of that up front:

- nesting deeper than :data:`MAX_DEPTH` (checked on the brackets outside strings, before parsing);
- numbers longer than :data:`MAX_NUMBER_CHARS` characters;
- ``NaN``/``Infinity``;
- and it reads every non-integer number as an exact :class:`~decimal.Decimal`, never a float.

>>> loads('{"price": "1", "size": 0.1}')
{'price': '1', 'size': Decimal('0.1')}
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from itertools import accumulate
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_NUMBER_CHARS", "JSONLimitError", "loads"]

MAX_DEPTH = 32  # the deepest O2 answer nests 5 levels; 32 leaves room and stays far from recursion limits
MAX_NUMBER_CHARS = 100  # u256::MAX has 78 digits; a longer number is never a real value

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONLimitError(ValueError):
    """The text breaks one of the limits above (a ``ValueError``, like ``json``'s own errors)."""


def _number(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise JSONLimitError(f"a number of {len(text)} characters (limit {MAX_NUMBER_CHARS})")
    return text


def _int(text: str) -> int:
    return int(_number(text))


def _decimal(text: str) -> Decimal:
    return Decimal(_number(text))


def _constant(name: str) -> Any:
    raise JSONLimitError(f"{name} is not a JSON number")


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`JSONLimitError` when brackets outside strings nest deeper than ``max_depth``."""
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot be deeper than the number of opening brackets
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if brackets and max(accumulate(_STEP[c] for c in brackets)) > max_depth:
        raise JSONLimitError(f"JSON nested deeper than {max_depth} levels")


def loads(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text`` within the limits of the module doc; raises ``ValueError`` otherwise."""
    check_depth(text, max_depth)
    try:
        return json.loads(text, parse_int=_int, parse_float=_decimal, parse_constant=_constant)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise JSONLimitError("JSON nested too deeply") from None
