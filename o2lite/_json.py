"""JSON with bounded cost, for text that arrives from the network (answers and requests alike).

``json.loads`` alone lets one hostile body cost the whole process: a 1000-deep nesting raises
``RecursionError``, a 100,000-digit number costs quadratic time to convert (and hours once it
reaches ``int(Decimal(…))`` further on), ``NaN`` and ``Infinity`` slip in as floats, and a float
silently loses digits. :func:`loads` refuses all of that up front:

- nesting deeper than :data:`MAX_DEPTH` (checked on the brackets outside strings, before parsing,
  in time linear in the text: see :func:`check_depth`);
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

# A string once its escaped quotes are gone: an opening quote, anything but a quote, then the closing
# quote -- or the end of the text, for a string never closed. Once it has seen a quote this pattern
# cannot fail, so the regex engine never backtracks nor rescans the rest from the next quote. (The
# pattern before it, ``"(?:[^"\\]|\\.)*"``, demanded a closing quote: on ``\\"\\"\\"…`` it failed at
# every quote after scanning to the end -- quadratic, 15 s for 80 KB with the GIL held.)
_STRING = re.compile(r'"[^"]*"?')
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


def _without_escaped_quotes(text: str) -> str:
    """``text`` without its ``\\\\`` pairs, then without its ``\\"`` pairs: what is left has a quote
    only where a JSON string opens or closes. ``str.replace`` pairs backslashes from the left, as a
    JSON string does (a run of backslashes always starts an escape), so ``\\\\"`` keeps its closing
    quote and ``\\\\\\"`` loses its escaped one. Outside strings a backslash is invalid JSON, which
    the parser refuses at that very character, before any nesting that follows it."""
    return text.replace("\\\\", "").replace('\\"', "")


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    r"""Raise :class:`JSONLimitError` when brackets outside strings nest deeper than ``max_depth``.

    Linear time whatever the text -- a few passes, each in C: drop the escaped quotes, drop the
    strings, keep only the brackets, take the highest running sum. No backtracking regex ever
    sees the untrusted text.

    >>> check_depth(r'{"a": ["[[[[", {"b": "\\"}]}', max_depth=3)
    >>> check_depth(r'{"a": ["[[[[", {"b": "\"", "c": []}]}', max_depth=3)
    Traceback (most recent call last):
    ...
    o2lite._json.JSONLimitError: JSON nested deeper than 3 levels
    """
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot be deeper than the number of opening brackets
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _without_escaped_quotes(text)))
    if brackets and max(accumulate(map(_STEP.__getitem__, brackets))) > max_depth:
        raise JSONLimitError(f"JSON nested deeper than {max_depth} levels")


def loads(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text`` within the limits of the module doc; raises ``ValueError`` otherwise."""
    check_depth(text, max_depth)
    try:
        return json.loads(text, parse_int=_int, parse_float=_decimal, parse_constant=_constant)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise JSONLimitError("JSON nested too deeply") from None
