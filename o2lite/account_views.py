"""What an account holds and what it did: assets, balances, open orders, fills and PnL.

:class:`AccountViews` is the read-only half of :class:`o2lite.Trader` (which inherits it): each
method reads the exchange and returns values with human-unit accessors (``total_human``,
``price_human``, …), chain integers beside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Union

from ._hex import to_int
from .endpoint_groups import EndpointGroups
from .errors import ValidationError
from .fills import Fill, PnL, fill_of, pnl, sort_fills
from .market import Asset, Market
from .markets import ms_of
from .models import Balance, Order

if TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

__all__ = ["AccountViews"]

MarketRef = Union[str, Market]


class AccountViews:
    """Reads about one trade account (needs ``client`` and ``_account()`` from the Trader)."""

    client: EndpointGroups
    _account: Callable[[], str]  # the Trader's: the trade account id, looked up once

    def assets(self) -> Dict[str, Asset]:
        """``{symbol: Asset}`` of every asset traded in the exchange's markets."""
        out: Dict[str, Asset] = {}
        for m in self.client.markets.list():
            out.setdefault(m.base.symbol, m.base)
            out.setdefault(m.quote.symbol, m.quote)
        return out

    def _asset(self, asset: str) -> Asset:
        """An asset from a symbol or id known to the markets (ValidationError otherwise)."""
        as_id = asset.lower() if asset.lower().startswith("0x") else "0x" + asset.lower()
        for a in self.assets().values():
            if asset.upper() == a.symbol.upper() or as_id == a.asset:
                return a
        raise ValidationError(f"unknown asset {asset!r}")

    def balances(self) -> Dict[str, Balance]:
        """``{symbol: Balance}`` of this account for every asset of every market."""
        account = self._account()
        return {symbol: self.client.accounts.balance(a.asset, contract=account) for symbol, a in self.assets().items()}

    def open_orders(self, market: MarketRef) -> List[Order]:
        """Every open order of this account in ``market``."""
        return list(self.client.orders.iter_orders(market, self._account(), is_open=True))

    # --- what happened ------------------------------------------------------------------------

    def fills(self, market: Optional[MarketRef] = None, since: Optional[Union[int, "datetime"]] = None,
              *, max_items: int = 10_000) -> List[Fill]:
        """Your own trades, newest first: your side, role (maker/taker), price, quantity, fee
        (see :mod:`o2lite.fills` for how fees are read), in every market or one; ``since`` is
        Unix ms or a ``datetime`` (naive means UTC)."""
        since_ms = None if since is None else ms_of(since, "since")
        max_items = to_int(max_items, "max_items", low=1, high=10**6)
        markets = [self.client.markets.get(market)] if market is not None else self.client.markets.list()
        account = self._account()
        out: List[Fill] = []
        for m in markets:
            for trade in self.client.markets.iter_account_trades(m, account, max_items=max_items):
                if since_ms is not None and trade.timestamp < since_ms:
                    break  # newest first: everything further is older
                fill = fill_of(trade, m, account)
                if fill is not None:
                    out.append(fill)
        return sort_fills(out)

    def pnl(self, market: MarketRef, since: Optional[Union[int, "datetime"]] = None) -> PnL:
        """Realised PnL by average cost over your fills in ``market`` (the accounting is defined
        in :func:`o2lite.fills.pnl`): position, average entry, realised, fees, net."""
        m = self.client.markets.get(market)
        return pnl(m, self.fills(m, since))
