"""Your own trades (fills) and what they earned (PnL), in human and chain units.

A fill is one trade of ``GET /v1/trades_by_account`` seen from the account: its **own** side
(the trade's ``side`` is the maker's: a taker traded the other way), its role (``maker``,
``taker``, or ``both`` for a self-trade), price and quantity, and the fee.

Fees. When a trade carries a ``fee`` field it is used as is. Otherwise the fee is estimated from
the market's ``maker_fee``/``taker_fee`` read as parts per million of what this side received —
the base asset for a buyer, the quote asset for a seller (how the sandbox charges; the exchange
does not publish its fee formula) — and ``fee_estimated`` is true.

PnL by average cost, in quote units (see :func:`pnl`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional

from ._parse import digits
from .market import Market
from .market_data import Trade

__all__ = ["Fill", "PnL", "fill_of", "pnl", "FEE_UNIT"]

FEE_UNIT = 1_000_000  # fees read as parts per million when a trade does not state its fee


@dataclass(frozen=True)
class Fill:
    """One of your trades. Chain integers (``price``, ``quantity``, ``fee``) with human accessors."""

    trade_id: str
    market: Market
    side: str  # your side: "Buy" or "Sell"
    role: str  # "maker", "taker" or "both"
    price: int
    quantity: int
    fee: int  # in the asset this side received: base when buying, quote when selling
    fee_estimated: bool
    timestamp: int  # ms

    @property
    def price_human(self) -> Decimal:
        """The price in quote units."""
        return self.market.format_price(self.price)

    @property
    def quantity_human(self) -> Decimal:
        """The quantity in base units."""
        return self.market.format_quantity(self.quantity)

    @property
    def value(self) -> int:
        """``price × quantity`` in quote chain units."""
        return self.market.quote_amount(self.price, self.quantity)

    @property
    def fee_asset(self) -> str:
        """The symbol the fee is paid in."""
        return self.market.base.symbol if self.side == "Buy" else self.market.quote.symbol

    @property
    def fee_human(self) -> Decimal:
        """The fee in its asset's units."""
        m = self.market
        return m.format_quantity(self.fee) if self.side == "Buy" else m.format_price(self.fee)

    @property
    def fee_in_quote(self) -> int:
        """The fee valued in quote chain units (a base fee at this fill's price)."""
        return self.market.quote_amount(self.price, self.fee) if self.side == "Buy" else self.fee


def fill_of(trade: Trade, market: Market, account: str) -> Optional[Fill]:
    """The fill ``trade`` is for ``account``, or ``None`` when the account took no part."""
    roles = [r for r, who in (("maker", trade.maker), ("taker", trade.taker)) if who == account]
    if not roles:
        return None
    role = "both" if len(roles) == 2 else roles[0]
    maker_side = trade.side
    side = maker_side if role != "taker" else ("Sell" if maker_side == "Buy" else "Buy")
    stated = digits(str(trade.raw.get("fee"))) if hasattr(trade.raw, "get") else None
    if stated is not None:
        fee, estimated = stated, False
    else:
        rate = market.maker_fee if role != "taker" else market.taker_fee
        received = trade.quantity if side == "Buy" else market.quote_amount(trade.price, trade.quantity)
        fee, estimated = received * rate // FEE_UNIT, True
    return Fill(trade.trade_id, market, side, role, trade.price, trade.quantity, fee, estimated, trade.timestamp)


@dataclass(frozen=True)
class PnL:
    """Realised PnL by average cost over a sequence of fills of one market (quote chain units).

    ``position`` is in base chain units (negative when short), ``average_entry`` a chain price
    (0 when flat), ``realised`` excludes fees, ``fees`` is every fee valued in quote at its
    fill's price, ``net`` is ``realised − fees``.
    """

    market: Market
    position: int
    average_entry: int
    realised: int
    fees: int
    fills: int

    @property
    def net(self) -> int:
        """Realised PnL after fees (quote chain units)."""
        return self.realised - self.fees

    @property
    def position_human(self) -> Decimal:
        """The position in base units (negative when short)."""
        size = self.market.format_quantity(abs(self.position))
        return -size if self.position < 0 else size

    @property
    def average_entry_human(self) -> Decimal:
        """The average entry price in quote per base (0 when flat)."""
        return self.market.format_price(self.average_entry)

    @property
    def realised_human(self) -> Decimal:
        """Realised PnL before fees, in quote units."""
        return _signed_quote(self.market, self.realised)

    @property
    def fees_human(self) -> Decimal:
        """Every fee, valued in quote units."""
        return _signed_quote(self.market, self.fees)

    @property
    def net_human(self) -> Decimal:
        """Realised PnL after fees, in quote units."""
        return _signed_quote(self.market, self.net)

    def human(self) -> Dict[str, Any]:
        """Every figure in human units: quote amounts, base position, price."""
        return {"market": self.market.pair, "position": self.position_human,
                "average_entry": self.average_entry_human, "realised": self.realised_human,
                "fees": self.fees_human, "net": self.net_human, "fills": self.fills}


def _signed_quote(m: Market, amount: int) -> Decimal:
    return -m.format_price(-amount) if amount < 0 else m.format_price(amount)


def pnl(market: Market, fills: Iterable[Fill]) -> PnL:
    """Average-cost accounting over ``fills`` in time order (oldest first):

    - a fill in the direction of the position (or from flat) grows it, and the average entry
      becomes the quantity-weighted mean of the old entry and this price;
    - a fill against the position realises ``(price − entry) × quantity`` for a long (``(entry −
      price) × quantity`` for a short) on the part that closes it, leaving the entry unchanged;
      a remainder beyond zero opens the other side at this price;
    - amounts use the chain's own arithmetic: ``price × quantity // 10^base.decimals``;
    - fees are added up separately (valued in quote) and never change the entry price.

    Holdings from before the first fill (a faucet, a deposit) carry no cost: selling them
    opens a short in this accounting.
    """
    position = entry = realised = fees = count = 0
    unit = 10 ** market.base.decimals
    for fill in sorted(fills, key=lambda f: (f.timestamp, f.trade_id)):
        count += 1
        fees += fill.fee_in_quote
        signed = fill.quantity if fill.side == "Buy" else -fill.quantity
        if position == 0 or (position > 0) == (signed > 0):
            total = abs(position) + fill.quantity
            entry = (entry * abs(position) + fill.price * fill.quantity) // total
            position += signed
            continue
        closing = min(abs(position), fill.quantity)
        difference = fill.price - entry if position > 0 else entry - fill.price
        realised += difference * closing // unit
        position += signed
        if position == 0:
            entry = 0
        elif (position > 0) == (signed > 0):  # flipped through zero: the rest opens at this price
            entry = fill.price
    return PnL(market, position, entry, realised, fees, count)


def sort_fills(fills: Iterable[Fill]) -> List[Fill]:
    """Fills newest first (as the trades endpoint answers)."""
    return sorted(fills, key=lambda f: (f.timestamp, f.trade_id), reverse=True)
