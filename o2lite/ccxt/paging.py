"""ccxt's ``since``/``limit`` over O2's newest-first keyset pages. Pure: no I/O.

O2 lists trades and orders newest first from a cursor (timestamp + id of the last item); ccxt
wants them oldest first: with ``since``, the first ``limit`` items at or after it; without, the
newest ``limit``. With ``since``, pages are read newest first down to ``since``, at most
``SCAN_CAP`` items (or ``limit`` if larger) — an older ``since`` on a busy market gets the
oldest items of that scan, so pass a ``limit`` large enough to reach it.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from .parsers import timestamp_ms

__all__ = ["SCAN_CAP", "scan_size", "back_to", "window"]

SCAN_CAP = 1000  # items read newest first while looking for `since` (20 trade pages, 5 order pages)


def scan_size(since: Optional[int], limit: int) -> int:
    """How many items to read: ``limit`` without ``since``, else enough to look back for it."""
    return limit if since is None else max(limit, SCAN_CAP)


def back_to(items: Iterable[Any], since: Optional[int]) -> List[Any]:
    """Items of a newest-first iterable down to ``since`` (ms); each item's ``.timestamp`` is
    read as the parsers read it, in ms or in Unix seconds (as the official order fixture has it)."""
    out = []
    for item in items:
        if since is not None and (timestamp_ms(item.timestamp) or 0) < since:
            break
        out.append(item)
    return out


def window(parsed: Iterable[Dict[str, Any]], since: Optional[int], limit: int) -> List[Dict[str, Any]]:
    """ccxt structures oldest first: the first ``limit`` at or after ``since``, or the newest
    ``limit`` when ``since`` is ``None``.

    >>> [t["timestamp"] for t in window([{"timestamp": 3}, {"timestamp": 1}, {"timestamp": 2}], None, 2)]
    [2, 3]
    >>> [t["timestamp"] for t in window([{"timestamp": 3}, {"timestamp": 1}, {"timestamp": 2}], 2, 1)]
    [2]
    """
    ordered = sorted((p for p in parsed if since is None or (p["timestamp"] or 0) >= since),
                     key=lambda p: p["timestamp"] or 0)
    return ordered[:limit] if since is not None else ordered[-limit:]
