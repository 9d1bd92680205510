"""How the command line speaks: tables that fit 80 columns, JSON for machines, one-line errors.

Human output shows human units and ISO-8601 UTC times; ``--json`` carries chain integers *and*
human strings, and times as milliseconds plus ISO. Ids are shortened in tables (``--wide``
shows them whole); a shortened id is a unique prefix the commands accept back.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import fields, is_dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence

from ..errors import O2ConnectionError, O2Error, RateLimited, SessionInvalid, SubmissionUnknown

__all__ = ["Output", "iso", "short_id", "plain", "error_line", "table", "fixed", "price_places", "UNKNOWN", "owner_text"]

ID_CHARS = 12  # "0x" + 10 hex digits: unique enough to type back, short enough for 80 columns


def iso(ms: Optional[int]) -> str:
    """Unix milliseconds as ISO-8601 UTC (seconds precision), ``-`` when unknown."""
    if ms is None:
        return "-"
    try:
        return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(ms)


def iso_s(seconds: Optional[int]) -> str:
    """Unix seconds as ISO-8601 UTC."""
    return "-" if seconds is None else iso(seconds * 1000)


def short_id(value: Optional[str], wide: bool) -> str:
    """An id as a table shows it: whole with ``--wide``, else its first characters and ``…``."""
    if not value:
        return "-"
    return value if wide or len(value) <= ID_CHARS + 1 else value[:ID_CHARS] + "…"


def owner_text(address: Optional[str]) -> str:
    """An owner as people know it: an EVM owner (``0x`` + 24 zeros + 40 hex, PROTOCOL §6) as its
    20-byte EVM address, a Fuel owner as is."""
    if address and len(address) == 66 and address.lower().startswith("0x" + "0" * 24):
        return "0x" + address[26:]
    return address or UNKNOWN


def plain(value: Any) -> Any:
    """JSON-ready: dataclasses without ``raw``/``market``/``asset``; Decimals as strings; big ints as strings."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)
                if f.name not in ("raw", "market", "asset", "signer")}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")  # never an exponent: 0.00000001, not 1E-8
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    return value


WIDTH = 80  # columns a table fits by default
UNKNOWN = "—"  # a value the exchange has not got (no trade yet, no session)
_NUMBER = re.compile(r"^[-+]?[0-9][0-9,]*(\.[0-9]+)?( [A-Za-z]{1,12})?[*]?$")


def fixed(value: Optional[Decimal], places: int) -> str:
    """A number with exactly ``places`` decimals (prices at the market's precision), never an
    exponent; ``—`` when unknown.

    >>> fixed(Decimal("0.012"), 4), fixed(None, 2)
    ('0.0120', '—')
    """
    if value is None:
        return UNKNOWN
    return f"{value.quantize(Decimal(1).scaleb(-places)) if places > 0 else value:f}"


def price_places(m: Any) -> int:
    """Decimals of a market's price step in human units (its price precision)."""
    exponent = m.format_price(m.price_step).normalize().as_tuple().exponent
    return max(-int(exponent), 0)


def _cell(value: Any) -> str:
    """A table cell; a Decimal without an exponent (``0.00000001``, never ``1E-8``)."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def table(rows: List[Sequence[Any]], headers: Sequence[str]) -> str:
    """Columns separated by two spaces: numbers right-aligned, text left-aligned. A single row
    wider than :data:`WIDTH` is shown as ``header  value`` lines instead."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_NUMBER.match(r[i]) or r[i] in ("", UNKNOWN, "-") for r in cells[1:]) for i in range(len(headers))]
    if len(rows) == 1 and sum(widths) + 2 * (len(widths) - 1) > WIDTH:
        label = max(len(h) for h in cells[0])
        return "\n".join(f"{h:{label}}  {v}".rstrip() for h, v in zip(cells[0], cells[1]))
    return "\n".join("  ".join(c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     .rstrip() for r in cells)


class Output:
    """Prints a table (humans) or JSON (``--json``); ``wide`` keeps ids whole."""

    def __init__(self, as_json: bool, wide: bool = False) -> None:
        self.as_json, self.wide = as_json, wide

    def show(self, data: Any, rows: Optional[List[Sequence[Any]]] = None, headers: Sequence[str] = ()) -> None:
        """``data`` as JSON, or ``rows`` as a table (``(none)`` when empty), or ``data`` as text."""
        if self.as_json:
            print(json.dumps(plain(data), indent=2))
        elif rows is not None:
            print(table(rows, headers) if rows else "(none)")
        else:
            print(data)

    def id(self, value: Optional[str]) -> str:
        """An id for a table."""
        return short_id(value, self.wide)

    def owner(self, address: Optional[str]) -> str:
        """An owner for a table: an EVM owner by its EVM address (see :func:`owner_text`)."""
        return short_id(owner_text(address), self.wide)

    def line(self, data: Dict[str, Any], text: str) -> None:
        """One event: a JSON object per line, or a line of text (streams)."""
        print(json.dumps(plain(data)) if self.as_json else text, flush=True)

    def error(self, message: str, kind: str = "error") -> None:
        """An error (or a warning) as one line on stderr — a JSON object with ``--json``."""
        if self.as_json:
            print(json.dumps({kind: message}), file=sys.stderr)
        else:
            print(f"o2lite: {kind}: {message}", file=sys.stderr)


#: The library's words for a fix → the command line's (flags and commands, not Python).
CLI_WORDS = (("pass round=True", "add --round"),
             ("set one up first (Trader.setup_account(), or `o2lite setup` on the command line)",
              "run `o2lite setup` first"),
             ("open one first (open_session(), or `o2lite session open`)",
              "run `o2lite session open --markets PAIR` first"),
             ("pass market= with an order id", "give the market pair"),
             ("run Trader.upgrade()", "upgrade the account"))


def cli_words(text: str) -> str:
    """``text`` with the library's fixes said as command-line flags and commands."""
    for library, cli in CLI_WORDS:
        text = text.replace(library, cli)
    return text


def error_line(exc: BaseException, url: str = "") -> str:
    """One line naming the cause of an error and, where there is one, the fix (in CLI words)."""
    return cli_words(_error_line(exc, url))


def _error_line(exc: BaseException, url: str) -> str:
    if isinstance(exc, O2ConnectionError) and "refused" in exc.message:
        hint = " (is the sandbox running? `o2lite sandbox`)" if "127.0.0.1" in url or "localhost" in url else ""
        return f"cannot reach {url or 'the exchange'}: connection refused{hint}"
    if isinstance(exc, SessionInvalid):
        return f"{exc.message}: open a new session (`o2lite session open --markets PAIR`)"
    if isinstance(exc, RateLimited):
        wait = f"; retry in {exc.retry_after:.1f} s" if exc.retry_after is not None else ""
        return f"rate limited by the exchange{wait}"
    if isinstance(exc, SubmissionUnknown):
        return f"{exc.message} (account {exc.trade_account_id})"
    if isinstance(exc, O2Error):
        return str(exc).replace("\n", " ")[:600]
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")[:600]
