"""Dry runs: every signed operation of a :class:`~o2lite.Trader`, prepared but not sent.

``Trader(client, owner, dry_run=True)`` (or ``DryRunTrader(client, owner)``) has the Trader's
signing methods — ``open_session``, ``submit``, ``place``, ``cancel``, ``settle``,
``register_referer``, ``withdraw``, ``upgrade``, and the trigger orders' ``place_with_triggers``,
``place_trigger``, ``place_oco``, ``cancel_trigger`` — each returning the
:class:`~o2lite.signed.SignedRequest` it would have sent: ``print(request.explain())`` shows every
signed byte, ``request.send()`` submits it unchanged. Reads (markets, the account, balances, the
nonce) still go to the exchange; nothing is written.

Nonces. A dry run consumes nothing on the exchange. A parallel nonce is taken from the lane's
issuer, whose cursor only moves forward: no later real send reuses it. A sequential nonce is the
account's next one, *shown* but not taken: the next real transaction takes it, after which the
dry-run request is stale and the exchange refuses it if it is sent ("less than the nonce in the
database") — at most one of the two can ever land.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional, Sequence, Union, cast

from .models import Order
from .order_building import Number, OrderTypeName, Side
from .signed import SignedRequest

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client
    from .market import Market
    from .signing import Signer

__all__ = ["DryRunTrader"]

MarketRef = Union[str, "Market"]


class DryRunTrader:
    """A Trader that prepares instead of sending (see the module doc). ``trader`` is the real
    :class:`~o2lite.Trader` underneath, for reads (``balances``, ``open_orders``, …)."""

    def __init__(self, client: "Client", owner: "Signer", **options: Any) -> None:
        from .trader import Trader

        self.trader: "Trader" = Trader(client, owner, **options)
        self.trader._dry_run = True

    @property
    def session(self) -> Any:
        """The session the prepared actions are signed with (load or set it on ``trader``)."""
        return self.trader.session

    def open_session(self, markets: Iterable[MarketRef], **options: Any) -> SignedRequest:
        """The session registration :meth:`Trader.open_session` would send (the session is not kept)."""
        return cast(SignedRequest, self.trader.open_session(markets, **options))

    def submit(self, groups: Sequence[Mapping[str, Any]], *, collect_orders: bool = True) -> SignedRequest:
        """The signed actions request :meth:`Trader.submit` would send."""
        return cast(SignedRequest, self.trader.submit(groups, collect_orders=collect_orders))

    def place(self, market: MarketRef, side: Side, price: Number, quantity: Number,
              order_type: Union[OrderTypeName, Dict[str, Any]] = "Spot", **options: Any) -> SignedRequest:
        """The request :meth:`Trader.place` would send."""
        return cast(SignedRequest, self.trader.place(market, side, price, quantity, order_type, **options))

    def cancel(self, order: Union[str, Order], market: Optional[MarketRef] = None) -> SignedRequest:
        """The request :meth:`Trader.cancel` would send."""
        return cast(SignedRequest, self.trader.cancel(order, market))

    def place_with_triggers(self, market: MarketRef, side: Side, price: Number, quantity: Number,
                            order_type: str = "Spot", **options: Any) -> SignedRequest:
        """The request :meth:`Trader.place_with_triggers` would send."""
        return cast(SignedRequest, self.trader.place_with_triggers(market, side, price, quantity, order_type, **options))

    def place_trigger(self, market: MarketRef, side: Side, trigger: Any, quantity: Optional[Number] = None,
                      **options: Any) -> SignedRequest:
        """The request :meth:`Trader.place_trigger` would send."""
        return cast(SignedRequest, self.trader.place_trigger(market, side, trigger, quantity, **options))

    def place_oco(self, market: MarketRef, side: Side, first: Any, second: Any, quantity: Optional[Number] = None,
                  **options: Any) -> SignedRequest:
        """The request :meth:`Trader.place_oco` would send."""
        return cast(SignedRequest, self.trader.place_oco(market, side, first, second, quantity, **options))

    def cancel_trigger(self, trigger_id: str, market: MarketRef) -> SignedRequest:
        """The request :meth:`Trader.cancel_trigger` would send."""
        return cast(SignedRequest, self.trader.cancel_trigger(trigger_id, market))

    def settle(self, market: MarketRef) -> SignedRequest:
        """The request :meth:`Trader.settle` would send."""
        return cast(SignedRequest, self.trader.settle(market))

    def register_referer(self, to: Mapping[str, str], market: MarketRef) -> SignedRequest:
        """The request :meth:`Trader.register_referer` would send."""
        return cast(SignedRequest, self.trader.register_referer(to, market))

    def withdraw(self, asset: str, amount: Number, to: Optional[Mapping[str, str]] = None,
                 **options: Any) -> SignedRequest:
        """The request :meth:`Trader.withdraw` would send."""
        return cast(SignedRequest, self.trader.withdraw(asset, amount, to, **options))

    def upgrade(self) -> SignedRequest:
        """The request :meth:`Trader.upgrade` would send."""
        return cast(SignedRequest, self.trader.upgrade())

    def __repr__(self) -> str:
        return f"DryRunTrader(owner={self.trader.owner.address!r})"
