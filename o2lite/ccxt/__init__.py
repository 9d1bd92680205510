"""A synchronous, ccxt-shaped face over o2lite, for scripts written against ccxt.

>>> from o2lite.ccxt import O2
>>> exchange = O2({"network": "testnet"})      # no I/O yet
>>> exchange.has["fetchOHLCV"]
True

``O2`` speaks ccxt's method names, positional signatures and unified structures; the pure
parsers (:mod:`o2lite.ccxt.parsers`) reproduce the official ccxt conformance fixtures; errors
carry ccxt's class names (:mod:`o2lite.ccxt.errors`). It does not need — or import — the ccxt
package, and ``import o2lite`` does not load this wing.

This face alone follows ccxt's numbers: ``float`` in human units. The exact O2 JSON stays in
each structure's ``info``; use :class:`o2lite.Trader` where exactness matters.
"""

from .errors import (ArgumentsRequired, AuthenticationError, BadRequest, BadSymbol, BaseError, DDoSProtection,
                     ExchangeError, ExchangeNotAvailable, InsufficientFunds, InvalidOrder, NetworkError,
                     NotSupported, O2AmbiguousSubmission, OperationFailed, OrderNotFound, RateLimitExceeded,
                     RequestTimeout, map_error)
from .exchange import O2
from .normalise import human_bar, human_ticker
from .parsers import (parse_balance, parse_market, parse_ohlcv, parse_order, parse_order_book, parse_ticker,
                      parse_trade)

__all__ = [
    "O2", "parse_market", "parse_ticker", "parse_order_book", "parse_trade", "parse_ohlcv", "parse_balance",
    "parse_order", "human_ticker", "human_bar", "map_error",
    "BaseError", "ExchangeError", "AuthenticationError", "ArgumentsRequired", "NotSupported", "BadRequest",
    "BadSymbol", "InsufficientFunds", "InvalidOrder", "OrderNotFound", "OperationFailed", "NetworkError",
    "DDoSProtection", "RateLimitExceeded", "ExchangeNotAvailable", "RequestTimeout", "O2AmbiguousSubmission",
]
