"""From ccxt's ``create_order(symbol, type, side, amount, price, params)`` to what an O2 order
needs: exact Decimal price and quantity, and an O2 order type. Pure: no I/O.

- Numbers: a ``float`` is read through its shortest ``repr`` (``0.1`` → ``Decimal('0.1')``),
  so the value a script wrote is the value used; ``str``/``int``/``Decimal`` are taken as is.
  As ccxt's ``amount_to_precision`` / ``price_to_precision`` do, the amount is truncated to
  ``precision.amount`` decimal places and the price rounded (half up) to ``precision.price``.
- Limit orders: ``timeInForce`` ``GTC`` → ``Spot``, ``PO`` (or ``postOnly``) → ``PostOnly``,
  ``FOK`` → ``FillOrKill``. ``IOC`` is refused: O2's ``Market`` type is not documented as IOC.
- Market orders: O2 has no unbounded market order; like the official o2-sdk adapter, a ccxt
  market order is sent as **FillOrKill at a protective price** — the worst acceptable price:
  ``params["maxPrice"]`` for a buy, ``params["minPrice"]`` for a sell, else the ``price``
  argument, else the best opposite level moved by ``slippage`` (buy up, sell down). It fills
  completely at that price or better, or reverts (``InvalidOrder``); a buy locks
  ``bound × amount`` of quote until it settles.
"""

from __future__ import annotations

import decimal
import numbers
from decimal import Decimal
from collections.abc import Mapping
from typing import Any, Dict, Optional, Tuple, Union

from ..market import Market
from ..order_building import OrderTypeName
from .errors import ArgumentsRequired, InvalidOrder, NotSupported

__all__ = ["to_decimal", "order_amount", "order_price", "limit_order_type", "protective_price", "KNOWN_PARAMS",
           "Num"]

#: A number as ccxt scripts pass one (ccxt's own ``Num``, without ``None``).
Num = Union[float, int, str, Decimal]

#: ``params`` keys ``create_order`` understands; any other is refused rather than ignored.
KNOWN_PARAMS = frozenset({"timeInForce", "postOnly", "maxPrice", "minPrice", "settleFirst"})
_CONTEXT = decimal.Context(prec=60, traps=[decimal.InvalidOperation])


def to_decimal(value: Any, what: str) -> Decimal:
    """A finite, positive Decimal from a float (via float's shortest ``repr``), an integer
    (``int`` or any ``numbers.Integral``, e.g. numpy's ``int64``), str or Decimal.

    A float subclass is read through ``float.__repr__``: numpy 2's ``float64`` repr is
    ``np.float64(0.1)``, and pandas hands scripts those.
    """
    if isinstance(value, bool) or not isinstance(value, (float, numbers.Integral, str, Decimal)):
        raise InvalidOrder(f"{what} must be a number, not {type(value).__name__}")
    if isinstance(value, float):
        text = float.__repr__(value)
    elif isinstance(value, numbers.Integral):
        text = str(int(value))
    else:
        text = str(value).strip()
    if len(text) > 60:
        raise InvalidOrder(f"{what} is not a number of sensible length")
    try:
        number = Decimal(text)
    except decimal.InvalidOperation:
        raise InvalidOrder(f"{what} is not a number: {text[:30]!r}") from None
    if not number.is_finite() or number <= 0 or abs(number.adjusted()) > 30:
        raise InvalidOrder(f"{what} must be a positive, finite number, got {text[:30]}")
    return number


def order_amount(amount: Any, market: Market) -> Decimal:
    """``amount`` in base units, truncated to the market's amount precision (ccxt TRUNCATE)."""
    step = Decimal(1).scaleb(-market.base.max_precision)
    value = to_decimal(amount, "amount").quantize(step, rounding=decimal.ROUND_DOWN, context=_CONTEXT)
    if value <= 0:
        raise InvalidOrder(f"amount {amount} is below {market.pair}'s amount precision ({step} {market.base.symbol})")
    return value


def order_price(price: Any, market: Market, rounding: str = decimal.ROUND_HALF_UP) -> Decimal:
    """``price`` in quote units, rounded to the market's price precision (ccxt ROUND by default)."""
    step = Decimal(1).scaleb(-market.quote.max_precision)
    value = to_decimal(price, "price").quantize(step, rounding=rounding, context=_CONTEXT)
    if value <= 0:
        raise InvalidOrder(f"price {price} is below {market.pair}'s price step ({step} {market.quote.symbol})")
    return value


def limit_order_type(params: Mapping[str, Any]) -> OrderTypeName:
    """The O2 order type of a ccxt limit order from ``timeInForce`` / ``postOnly``."""
    post_only = params.get("postOnly", False)
    if not isinstance(post_only, bool):
        raise InvalidOrder("params.postOnly must be True or False")
    tif = params.get("timeInForce", "PO" if post_only else "GTC")
    if not isinstance(tif, str):
        raise InvalidOrder("params.timeInForce must be 'GTC', 'PO' or 'FOK'")
    tif = tif.upper()
    if post_only and tif != "PO":
        raise InvalidOrder(f"postOnly contradicts timeInForce {tif}")
    kinds: Dict[str, OrderTypeName] = {"GTC": "Spot", "PO": "PostOnly", "FOK": "FillOrKill"}
    if tif not in kinds:
        raise NotSupported(f"O2 has no timeInForce {tif[:10]!r}: use GTC, PO or FOK")
    return kinds[tif]


def protective_price(side: str, price: Any, params: Mapping[str, Any], market: Market,
                     best: Optional[Decimal], slippage: Decimal) -> Tuple[Decimal, str]:
    """The worst acceptable price of a market order and where it came from (see the module doc).

    ``best`` is the best opposite price (best ask for a buy, best bid for a sell), or ``None``
    when the caller gave a bound or the book side is empty. The bound is rounded *inward* to
    the price step (a buy's cap down, a sell's floor up), so it never loosens the protection.
    """
    key = "maxPrice" if side == "buy" else "minPrice"
    rounding = decimal.ROUND_DOWN if side == "buy" else decimal.ROUND_UP
    if params.get(key) is not None:
        return order_price(params[key], market, rounding), f"params.{key}"
    if price is not None:
        return order_price(price, market, rounding), "price"
    if best is None:
        raise ArgumentsRequired(f"a market {side} needs a protective price: pass price, params.{key}, or wait for "
                                f"{'asks' if side == 'buy' else 'bids'} in the {market.pair} book")
    factor = _CONTEXT.add(1, slippage) if side == "buy" else _CONTEXT.subtract(1, slippage)
    return order_price(_CONTEXT.multiply(best, factor), market, rounding), f"best price × {factor}"
