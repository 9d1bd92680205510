"""o2lite: a small, synchronous, pure-Python client for the O2 Exchange REST API.

``import o2lite`` loads only the standard library: ``requests`` is imported when the first
``Client`` is built and ``ecdsa`` on the first signature.

Layout (the README's "Layout" section has the whole map): ``o2lite/cli/`` the command line,
the trading layer (``trader``, ``plans``, ``batch``, ``dry_run``…), one flat module per endpoint
group, the transport and the pure helpers. Beside them, loaded only when used:
``o2lite/streams/`` (the WebSocket client), ``o2lite/sandbox/`` (the local exchange),
``o2lite/bridge/`` (the Fast Bridge) and ``o2lite/ccxt/`` (the ccxt-shaped face). Imports run
one way, from the command line down to the helpers.
"""

from ._version import __version__

from .check import CheckReport, check_body  # noqa: E402
from .client import Client  # noqa: E402
from .dry_run import DryRunTrader  # noqa: E402
from .errors import (  # noqa: E402
    BatchIncomplete, ExperimentalWarning, InvalidRequest, InvalidSignature, MarketUnavailable, NonceRejected, NonceWindowFull,
    NotFound, O2ConnectionError, O2Error, OrderRejected, RateLimited, SessionInvalid, StreamError,
    StreamTimeout, SubmissionUnknown, TransactionReverted, TriggerRejected, ValidationError,
)
from .market import Asset, Market  # noqa: E402
from .nonce import Nonce  # noqa: E402
from .signing import EvmWallet, Wallet  # noqa: E402
from .trader import Batch, Chain, Trader  # noqa: E402
from .triggers import TriggerSpec  # noqa: E402

__all__ = [
    "__version__", "Client", "check_body", "CheckReport", "DryRunTrader", "Market", "Asset", "Wallet", "EvmWallet", "Trader", "Batch", "Chain", "TriggerSpec",
    "Nonce",
    "O2Error", "ValidationError", "O2ConnectionError", "RateLimited", "InvalidRequest", "NotFound",
    "MarketUnavailable", "OrderRejected", "InvalidSignature", "SessionInvalid", "TransactionReverted",
    "NonceRejected", "TriggerRejected", "SubmissionUnknown", "NonceWindowFull", "StreamError", "StreamTimeout",
    "BatchIncomplete", "ExperimentalWarning",
]
