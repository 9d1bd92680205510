"""A market and its two assets, with the order rules of PROTOCOL §11 (Decimal in, int out).

Chain prices and quantities are integers: ``price_chain = floor(price × 10^quote.decimals)``
truncated to a multiple of ``10^(quote.decimals − quote.max_precision)``, and
``quantity_chain = floor(quantity × 10^base.decimals)``. All arithmetic runs in a private
:mod:`decimal` context, so a caller's global context can't change a result; ``float`` is
refused because ``0.1`` is not one tenth.

>>> m = Market.from_json({"contract_id": "0x" + "01" * 32, "market_id": "0x" + "02" * 32,
...     "min_order": "1000000", "base": {"symbol": "FUEL", "asset": "0x" + "03" * 32,
...     "decimals": 9, "max_precision": 3}, "quote": {"symbol": "USDC",
...     "asset": "0x" + "04" * 32, "decimals": 6, "max_precision": 4}})
>>> m.pair, m.scale_price("0.0123"), m.scale_price("0.0123456", round=True), m.scale_quantity("150")
('FUEL/USDC', 12300, 12300, 150000000000)
>>> m.format_price(12300)
Decimal('0.0123')
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from decimal import Decimal
from math import gcd
from collections.abc import Mapping
from typing import Any, Union

from ._hex import U64_MAX
from ._parse import chain_int, hex_id, mapping, opt_int, req_int, require, text
from .errors import O2Error, ValidationError

__all__ = ["Asset", "Market", "to_decimal", "format_units", "scale_amount"]

# Enough digits for u64 chain values times 10^18 scales, exact floor rounding.
_CONTEXT = decimal.Context(prec=100, rounding=decimal.ROUND_FLOOR, traps=[decimal.InvalidOperation])

HumanNumber = Union[str, int, Decimal]
MAX_DECIMALS = 38  # no asset has more; bounds every 10**decimals computed from an answer
_MAX_HUMAN_DIGITS = 60  # significant digits of a human number: far beyond any u64 chain value
_MAX_HUMAN_EXPONENT = 40  # |adjusted exponent| of a human number


def to_decimal(value: HumanNumber, what: str = "value") -> Decimal:
    """A finite, non-negative Decimal from ``str``/``int``/``Decimal``; ``float`` is refused."""
    if isinstance(value, float):
        raise ValidationError(f"{what} must be a str or Decimal, not float (floats are inexact): "
                              f"use {what}='{value!r}' or Decimal('{value!r}')")
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValidationError(f"{what} must be a str, int or Decimal, not {type(value).__name__}")
    if isinstance(value, str) and len(value) > 100:
        raise ValidationError(f"{what} is not a number of sensible length: {value[:20]!r}…")
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except decimal.InvalidOperation:
        raise ValidationError(f"{what} is not a number: {str(value)[:40]!r}") from None
    if not number.is_finite() or number < 0:
        raise ValidationError(f"{what} must be a finite, non-negative number, got {str(value)[:40]}")
    # bound the size before any scaling: Decimal("1e999999999") × 10^9 → int() would run for hours
    if number and (abs(number.adjusted()) > _MAX_HUMAN_EXPONENT or len(number.as_tuple().digits) > _MAX_HUMAN_DIGITS):
        raise ValidationError(f"{what} {str(value)[:40]} is out of any market's range")
    return number


@dataclass(frozen=True)
class Asset:
    """One side of a market: ``symbol``, ``asset`` id, chain ``decimals``, ``max_precision``."""

    symbol: str
    asset: str
    decimals: int
    max_precision: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "/v1/markets") -> "Asset":
        """Parse an Asset object (``{symbol, asset, decimals, max_precision}``)."""
        obj = mapping(obj, where, "an asset")
        decimals = req_int(obj, "decimals", where)
        precision = opt_int(obj, "max_precision", where)
        if decimals > MAX_DECIMALS or (precision is not None and precision > decimals):
            raise O2Error(f"{where}: asset decimals {decimals} / max_precision {precision} out of range "
                          f"(decimals ≤ {MAX_DECIMALS}, max_precision ≤ decimals)")
        return cls(symbol=text(obj, "symbol", where, 40),
                   asset=hex_id(require(obj, "asset", where), "asset", where),
                   decimals=decimals, max_precision=decimals if precision is None else precision,
                   raw=obj)


@dataclass(frozen=True)
class Market:
    """One entry of ``GET /v1/markets``. Fees and limits are chain integers."""

    contract_id: str
    market_id: str
    base: Asset
    quote: Asset
    maker_fee: int = 0
    taker_fee: int = 0
    min_order: int = 0
    dust: int = 0
    price_window: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "/v1/markets") -> "Market":
        """Build a Market from one ``/v1/markets`` entry (the JSON object)."""
        def num(name: str) -> int:
            value = obj.get(name) if isinstance(obj, Mapping) else None
            return 0 if value is None else chain_int(value, name, where)

        return cls(contract_id=hex_id(require(obj, "contract_id", where), "contract_id", where),
                   market_id=hex_id(require(obj, "market_id", where), "market_id", where),
                   base=Asset.from_json(require(obj, "base", where), where),
                   quote=Asset.from_json(require(obj, "quote", where), where),
                   maker_fee=num("maker_fee"), taker_fee=num("taker_fee"), min_order=num("min_order"),
                   dust=num("dust"), price_window=num("price_window"), raw=obj)

    @property
    def pair(self) -> str:
        """``BASE/QUOTE`` symbols, e.g. ``FUEL/USDC``."""
        return f"{self.base.symbol}/{self.quote.symbol}"

    @property
    def price_step(self) -> int:
        """Chain prices are multiples of this: ``10^(quote.decimals − quote.max_precision)``."""
        return int(10 ** max(self.quote.decimals - self.quote.max_precision, 0))

    def scale_price(self, price: HumanNumber, *, round: bool = False) -> int:
        """Human price → chain integer (≤ u64::MAX).

        A price with more decimals than the market's price step allows is refused, naming the
        step, unless ``round=True`` (then it is rounded down to the step).
        """
        number = to_decimal(price, "price")
        scaled = _scale(number, self.quote.decimals, "price", self.quote.symbol, exact=not round)
        if scaled % self.price_step and not round:
            raise ValidationError(f"price {number:f} {self.quote.symbol} is finer than {self.pair} allows: its price "
                                  f"step is {self.format_price(self.price_step)} (pass round=True to round down)")
        return scaled - scaled % self.price_step

    def scale_quantity(self, quantity: HumanNumber, *, round: bool = False) -> int:
        """Human quantity → chain integer (≤ u64::MAX); more decimals than the base asset has
        are refused unless ``round=True`` (then rounded down)."""
        return _scale(to_decimal(quantity, "quantity"), self.base.decimals, "quantity", self.base.symbol,
                      exact=not round)

    def adjust_quantity(self, price: int, quantity: int) -> int:
        """Largest chain quantity ≤ ``quantity`` with ``price × quantity`` divisible by
        ``10^base.decimals`` (the FractionalPrice rule): a multiple of
        ``10^base.decimals / gcd(price, 10^base.decimals)``."""
        unit = 10 ** self.base.decimals
        if price <= 0:
            raise ValidationError("price must be positive")
        quantum: int = unit // gcd(price, unit)
        return quantity - quantity % quantum

    def quote_amount(self, price: int, quantity: int) -> int:
        """Quote forwarded by a buy: ``price × quantity // 10^base.decimals``."""
        return int(price * quantity // 10 ** self.base.decimals)

    def validate_order(self, price: int, quantity: int) -> None:
        """Raise :class:`ValidationError` unless the chain ``price``/``quantity`` pass the
        exchange's checks: positive, PricePrecision, FractionalPrice and ``min_order``."""
        if isinstance(price, bool) or not isinstance(price, int) or isinstance(quantity, bool) \
                or not isinstance(quantity, int):
            raise ValidationError("validate_order takes chain integers (use scale_price/scale_quantity)")
        if price <= 0 or quantity <= 0:
            raise ValidationError(f"{self.pair}: price and quantity must be positive")
        if price % self.price_step:
            raise ValidationError(f"{self.pair}: price {self.price_text(price)} is not a multiple of the price step "
                                  f"{self.price_text(self.price_step)} (PricePrecision)")
        if price * quantity % 10 ** self.base.decimals:
            raise ValidationError(f"{self.pair}: price × quantity is not a whole amount of {self.quote.symbol} "
                                  f"(FractionalPrice); the nearest valid quantity is "
                                  f"{self.quantity_text(self.adjust_quantity(price, quantity))}")
        value = self.quote_amount(price, quantity)
        if value < self.min_order:
            raise ValidationError(f"{self.pair}: order value {self.price_text(value)} is below the market's "
                                  f"minimum {self.price_text(self.min_order)}")

    def price_text(self, amount: int) -> str:
        """A chain amount of the quote asset in words: ``0.06 USDC (60000)``."""
        return f"{self.format_price(amount)} {self.quote.symbol} ({amount})"

    def quantity_text(self, amount: int) -> str:
        """A chain amount of the base asset in words: ``1.5 FUEL (1500000000)``."""
        return f"{self.format_quantity(amount)} {self.base.symbol} ({amount})"

    def format_price(self, price: int) -> Decimal:
        """Chain price → human Decimal (no exponent, no trailing zeros)."""
        return _human(price, self.quote.decimals)

    def format_quantity(self, quantity: int) -> Decimal:
        """Chain quantity → human Decimal (no exponent, no trailing zeros)."""
        return _human(quantity, self.base.decimals)


def scale_amount(amount: HumanNumber, asset: Asset) -> int:
    """A human amount of ``asset`` (a withdrawal, a deposit) as a chain integer; more decimals
    than the asset has are refused (there is no rounding option: say the amount exactly).

    >>> scale_amount("1.5", Asset("USDC", "0x" + "00" * 32, 6, 2))
    1500000
    """
    return _scale(to_decimal(amount, "amount"), asset.decimals, "amount", asset.symbol, exact=True,
                  remedy=f"give at most {asset.decimals} decimals")


def _scale(number: Decimal, decimals: int, what: str, symbol: str, *, exact: bool = False,
           remedy: str = "pass round=True to round down") -> int:
    product = _CONTEXT.multiply(number, Decimal(10) ** decimals)
    scaled = int(product.to_integral_value(rounding=decimal.ROUND_FLOOR))
    if exact and product != scaled:
        raise ValidationError(f"{what} {number:f} has more decimals than {symbol} has ({decimals}): {remedy}")
    if scaled > U64_MAX:
        raise ValidationError(f"{what} {number:f} {symbol} is above the largest amount the chain can hold "
                              f"({_human(U64_MAX, decimals)} {symbol})")
    return scaled


def format_units(value: int, decimals: int) -> Decimal:
    """A chain integer of an asset with ``decimals`` as a human Decimal (no exponent).

    >>> format_units(1_500_000, 6)
    Decimal('1.5')
    """
    return _human(value, decimals)


def _human(value: int, decimals: int) -> Decimal:
    number = Decimal(value).scaleb(-decimals, _CONTEXT).normalize(_CONTEXT)
    exponent = number.as_tuple().exponent
    return number.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else number
