"""Keyset pagination shared by ``iter_trades``, ``iter_account_trades`` and ``iter_orders``."""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Optional, Set, Tuple, TypeVar

T = TypeVar("T")


def iter_keyset(fetch: Callable[[Optional[int], Optional[str]], List[T]], page_size: int,
                max_items: Optional[int], key: Callable[[T], Tuple[int, Any]]) -> Iterator[T]:
    """Yield items page by page. The next page starts at the last item's ``(timestamp, id)``;
    the server repeats that boundary item, so it is dropped. Stops on a short page, on a page
    with nothing new, or after ``max_items``."""
    yielded = 0
    cursor: Optional[Tuple[int, Any]] = None
    seen_at_cursor: Set[Tuple[int, Any]] = set()
    while max_items is None or yielded < max_items:
        page = fetch(*(cursor if cursor else (None, None)))
        fresh = 0
        for item in page:
            k = key(item)
            if cursor is not None and (k == cursor or k in seen_at_cursor):
                continue
            fresh += 1
            yield item
            yielded += 1
            if max_items is not None and yielded >= max_items:
                return
        if len(page) < page_size or not fresh:
            return
        last = key(page[-1])
        seen_at_cursor = {key(i) for i in page if key(i)[0] == last[0]}
        cursor = last
