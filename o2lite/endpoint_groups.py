"""What the trading layer needs of a client: its transport and endpoint groups, as a Protocol.

:class:`o2lite.Client` satisfies it. The Trader, its dry run and its account views are typed
against this instead of ``Client`` itself, so the imports run one way — the client builds
traders; traders never import the client.
"""

from __future__ import annotations

from typing import Protocol

from .accounts import Accounts
from .faucet import Faucet
from .markets import Markets
from .orders import Orders
from .session import Session
from .transport import Transport

__all__ = ["EndpointGroups"]


class EndpointGroups(Protocol):
    """A :class:`o2lite.Client`, as far as a Trader uses it."""

    transport: Transport
    markets: Markets
    accounts: Accounts
    orders: Orders
    session: Session
    faucet: Faucet
