"""``Trader``: one owner, one trade account, one session — the high-level way to trade.

Example::

    trader = client.trader(o2lite.Wallet.generate())
    trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"], nonce_kind="parallel")
    trader.place("FUEL/USDC", "Buy", "0.0123", "100")

Nonces. Every owner transaction and every action batch needs a nonce:

- *sequential*: one counter per account, consumed by every transaction — reverted ones too.
  A lock per trade account covers read-nonce → sign → send; the cached nonce advances only on
  a confirmed ``tx_id`` and is re-read after **any** failure.
- *parallel*: a :class:`~o2lite.nonce.ParallelNonceIssuer` per lane, seated from
  ``GET /v1/accounts/window``. A nonce refused as out of window or expired (nothing ran) gets
  one single-flight resync and one retry; ``nonce already used`` resyncs and raises, because the
  request that used it may be our own.

A signed request whose answer is lost raises :class:`~o2lite.errors.SubmissionUnknown` with the
nonce it used; nothing is resent automatically.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import warnings
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ._hex import b256_hex
from .encoding import identity_json
from .errors import (NonceRejected, NonceWindowFull, O2ConnectionError, O2Error, SubmissionUnknown,
                     ValidationError)
from .market import Asset, Market, to_decimal
from .models import Balance, Order, TxResult
from .nonce import ParallelNonceIssuer
from .session import MAX_ACTIONS, TradeSession
from .signing import Signer, Wallet

__all__ = ["Trader", "Batch", "Chain", "DEFAULT_SESSION_SECONDS"]

DEFAULT_SESSION_SECONDS = 24 * 3600  # a session key lives one day unless told otherwise
ORDER_TYPES = ("Spot", "Market", "FillOrKill", "PostOnly", "Limit", "BoundedMarket")

_ACCOUNT_LOCKS: Dict[Tuple[str, str], threading.Lock] = {}
_ACCOUNT_LOCKS_GUARD = threading.Lock()


class Chain(int):
    """Marks a number as an explicit chain integer (already scaled), e.g. ``Chain(12300)``."""


Number = Union[str, int, Decimal, Chain]


def _account_lock(base_url: str, trade_account_id: str) -> threading.Lock:
    """One lock per (exchange, trade account), shared by every Trader of this process."""
    with _ACCOUNT_LOCKS_GUARD:
        return _ACCOUNT_LOCKS.setdefault((base_url, trade_account_id), threading.Lock())


class Trader:
    """Trade as ``owner`` (a :class:`~o2lite.signing.Wallet`, :class:`~o2lite.signing.EvmWallet`
    or any :class:`~o2lite.signing.Signer`). Thread-safe.

    Args:
        client: an :class:`o2lite.Client`.
        owner: the owner signer.
        trade_account_id: the account, if known (else found or created by :meth:`setup_account`).
        clock: Unix seconds; injectable for tests.
    """

    def __init__(self, client: Any, owner: Signer, *, trade_account_id: Optional[str] = None,
                 clock: Callable[[], float] = time.time) -> None:
        if not isinstance(owner, Signer):
            raise ValidationError("owner must be a Wallet/EvmWallet or have address, personal_sign, sign_digest")
        self.client = client
        self.owner = owner
        self.trade_account_id = None if trade_account_id is None else b256_hex(trade_account_id, "trade_account_id")
        self.session: Optional[TradeSession] = None
        self._clock = clock
        self._nonce: Optional[int] = None
        self._issuers: Dict[int, ParallelNonceIssuer] = {}
        self._issuers_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Trader(owner={self.owner.address!r}, trade_account_id={self.trade_account_id!r})"

    # --- account ----------------------------------------------------------------------------

    def _account(self) -> str:
        if self.trade_account_id is None:
            account = self.client.accounts.get(owner=self.owner.address)
            if not account.exists:
                raise ValidationError("this owner has no trade account yet: call setup_account() first")
            self.trade_account_id = account.trade_account_id
        return self.trade_account_id

    def setup_account(self, *, fund: bool = False, poll_timeout: float = 15.0, poll_interval: float = 0.25) -> str:
        """Find or create the owner's trade account (idempotent) and return its id.

        A new account is polled until the exchange shows it (at most ``poll_timeout`` s).
        ``fund=True`` mints test tokens into it from the faucet (test networks only). The
        retired whitelist endpoint is never called.
        """
        account = self.client.accounts.get(owner=self.owner.address)
        if account.exists:
            self.trade_account_id = account.trade_account_id
        else:
            created = self.client.accounts.create(self.owner.address)
            deadline = time.monotonic() + poll_timeout
            while not self.client.accounts.get(trade_account_id=created.trade_account_id).exists:
                if time.monotonic() > deadline:
                    raise O2Error(f"trade account {created.trade_account_id} not visible after {poll_timeout} s")
                time.sleep(poll_interval)
            self.trade_account_id = created.trade_account_id
        if fund:
            self.client.faucet.mint_to_contract(self.trade_account_id)
        return self.trade_account_id

    # --- nonces -----------------------------------------------------------------------------

    def refresh_nonce(self) -> int:
        """Re-read the sequential nonce from ``GET /v1/accounts``."""
        account = self.client.accounts.get(trade_account_id=self._account())
        if account.nonce is None:
            raise O2Error("the exchange did not report the account's nonce")
        self._nonce = account.nonce
        return account.nonce

    def _sequential(self, send: Callable[[int], Any]) -> Any:
        with _account_lock(self.client.transport.base_url, self._account()):
            nonce = self._nonce if self._nonce is not None else self.refresh_nonce()
            try:
                result = send(nonce)
            except BaseException as exc:
                self._nonce = None  # reverts consume the nonce too: re-read before the next one
                _raise_unknown(exc, nonce)
                raise
            self._nonce = nonce + 1
            return result

    def _issuer(self, lane: int) -> ParallelNonceIssuer:
        with self._issuers_lock:
            issuer = self._issuers.get(lane)
            if issuer is None:
                issuer = ParallelNonceIssuer(lane, self._window_fetcher(lane), clock=self._clock)
                self._issuers[lane] = issuer
            return issuer

    def _window_fetcher(self, lane: int) -> Callable[[], Any]:
        account = self._account()
        return lambda: self.client.accounts.nonce_window(account, lane)

    def _parallel(self, lane: int, send: Callable[[int], Any]) -> Any:
        issuer = self._issuer(lane)
        fetch = self._window_fetcher(lane)
        retried = False
        while True:
            try:
                issued = issuer.issue()
            except NonceWindowFull:
                if retried:
                    raise
                retried = True
                issuer.resync(fetch, seen_generation=issuer.generation)
                continue
            try:
                return send(issued.value)
            except NonceRejected as exc:
                issuer.resync(fetch, seen_generation=issued.generation)
                if exc.retryable and not retried:
                    retried = True  # out of window / expired: provably nothing ran, retry once
                    continue
                raise  # "nonce already used" may be our own landed request: never resend
            except BaseException as exc:
                _raise_unknown(exc, issued.value)
                raise

    def _with_nonce(self, kind: str, lane: int, send_sequential: Callable[[int], Any],
                    send_parallel: Callable[[int], Any]) -> Any:
        if kind == "sequential":
            return self._sequential(send_sequential)
        if kind == "parallel":
            return self._parallel(lane, send_parallel)
        raise ValidationError("nonce_kind must be 'sequential' or 'parallel'")

    # --- session ----------------------------------------------------------------------------

    def open_session(self, markets: Iterable[Union[str, Market]], *, expiry: Optional[int] = None,
                     nonce_kind: str = "sequential", lane: int = 0, session_key: Any = None) -> TradeSession:
        """Make a fresh session key, have the owner sign it for ``markets``, and keep it.

        ``expiry`` is Unix seconds (default: one day from now). ``nonce_kind`` chooses how this
        session's action batches are numbered; ``"parallel"`` also signs the session itself with
        a typed signature (experimental, see :mod:`o2lite.session`).
        """
        resolved = [self.client.markets.get(m) for m in markets]
        if not resolved:
            raise ValidationError("a session needs at least one market")
        contract_ids = list(dict.fromkeys(m.contract_id for m in resolved))
        expiry = int(self._clock()) + DEFAULT_SESSION_SECONDS if expiry is None else int(expiry)
        if expiry <= self._clock():
            raise ValidationError("session expiry is in the past")
        key = session_key or Wallet.generate()
        account = self._account()
        create = self.client.session.create

        def sequential(nonce: int) -> TradeSession:
            return create(self.owner, account, key, contract_ids, expiry, nonce=nonce, lane=lane)[0]

        def parallel(nonce: int) -> TradeSession:
            return create(self.owner, account, key, contract_ids, expiry, parallel_nonce=nonce, lane=lane)[0]

        session = self._with_nonce(nonce_kind, lane, sequential, parallel)
        self.session = session
        return session

    def save_session(self, path: str) -> None:
        """Write the session (with its key) as JSON, file mode 0600, atomically."""
        session = self._session()
        data = {"trade_account_id": session.trade_account_id, "owner": session.owner,
                "session_private_key": session.signer.private_key_hex(), "contract_ids": list(session.contract_ids),
                "expiry": session.expiry, "nonce_kind": session.nonce_kind, "lane": session.lane}
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".o2lite-session-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def load_session(self, path: str) -> TradeSession:
        """Read a session written by :meth:`save_session` (it must belong to this owner)."""
        with open(path) as handle:
            data = json.load(handle)
        if b256_hex(data["owner"], "owner") != b256_hex(self.owner.address, "owner"):
            raise ValidationError("that session file belongs to another owner")
        self.trade_account_id = b256_hex(data["trade_account_id"], "trade_account_id")
        self.session = TradeSession(self.trade_account_id, data["owner"], Wallet(data["session_private_key"]),
                                    tuple(data["contract_ids"]), int(data["expiry"]), data["nonce_kind"],
                                    int(data.get("lane", 0)))
        return self.session

    def _session(self) -> TradeSession:
        if self.session is None:
            raise ValidationError("no session: call open_session() first")
        return self.session

    # --- actions ----------------------------------------------------------------------------

    def submit(self, groups: Sequence[Mapping[str, Any]], *, collect_orders: bool = True) -> TxResult:
        """Sign and send one request of action groups ``[{market_id, actions}]`` (≤ 5 actions)."""
        session = self._session()
        prepared = self.client.session.prepare_actions(session, groups)  # all checks before any request
        submit = self.client.session.submit
        return self._with_nonce(
            session.nonce_kind, session.lane,
            lambda n: submit(session, prepared, nonce=n, collect_orders=collect_orders),
            lambda n: submit(session, prepared, parallel_nonce=n, collect_orders=collect_orders))

    def create_order_action(self, market: Union[str, Market], side: str, price: Number, quantity: Number,
                            order_type: Any = "Spot", *, post_only: bool = False, max_price: Optional[Number] = None,
                            min_price: Optional[Number] = None, limit_timestamp: Optional[int] = None) -> Dict[str, Any]:
        """A ``CreateOrder`` action, scaled and validated per PROTOCOL §11.

        ``price``/``quantity`` are human numbers (``str``/``Decimal``/``int``) or :class:`Chain`
        integers. The quantity is adjusted down for the FractionalPrice rule, with a warning.
        ``order_type``: ``Spot``, ``Market``, ``FillOrKill``, ``PostOnly``, ``Limit`` (limit
        price = ``price``, timestamp = ``limit_timestamp`` or now) or ``BoundedMarket``
        (``max_price``/``min_price``); a JSON order type is also accepted as is.
        """
        m = self.client.markets.get(market)
        side_name = str(side).capitalize()
        if side_name not in ("Buy", "Sell"):
            raise ValidationError(f"side must be Buy or Sell, got {side!r}")
        chain_price = _chain(price, m.scale_price)
        chain_quantity = _chain(quantity, m.scale_quantity)
        adjusted = m.adjust_quantity(chain_price, chain_quantity) if chain_price > 0 else chain_quantity
        if adjusted != chain_quantity:
            warnings.warn(f"{m.pair}: quantity adjusted from {m.format_quantity(chain_quantity)} to "
                          f"{m.format_quantity(adjusted)} so price × quantity is a whole quote amount "
                          "(FractionalPrice rule)", stacklevel=3)
        m.validate_order(chain_price, adjusted)
        if post_only:
            order_type = "PostOnly"
        if order_type == "Limit":
            order_type = {"Limit": [str(chain_price), str(int(self._clock()) if limit_timestamp is None else limit_timestamp)]}
        elif order_type == "BoundedMarket":
            if max_price is None or min_price is None:
                raise ValidationError("BoundedMarket needs max_price and min_price")
            high, low = _chain(max_price, m.scale_price), _chain(min_price, m.scale_price)
            if high < low:
                raise ValidationError("BoundedMarket max_price must be ≥ min_price")
            order_type = {"BoundedMarket": {"max_price": str(high), "min_price": str(low)}}
        elif isinstance(order_type, str) and order_type not in ORDER_TYPES:
            raise ValidationError(f"order_type must be one of {', '.join(ORDER_TYPES)}")
        return {"CreateOrder": {"side": side_name, "price": str(chain_price), "quantity": str(adjusted),
                                "order_type": order_type}}

    def settle_action(self) -> Dict[str, Any]:
        """``SettleBalance`` to this trade account."""
        return {"SettleBalance": {"to": {"ContractId": self._account()}}}

    def place(self, market: Union[str, Market], side: str, price: Number, quantity: Number,
              order_type: Any = "Spot", *, settle_first: bool = True, post_only: bool = False,
              max_price: Optional[Number] = None, min_price: Optional[Number] = None,
              limit_timestamp: Optional[int] = None, collect_orders: bool = True) -> TxResult:
        """Place one order (after a ``SettleBalance`` of the market when ``settle_first``).

        Returns the :class:`~o2lite.models.TxResult`; its ``orders`` hold the created order(s)
        with their ids.
        """
        m = self.client.markets.get(market)
        action = self.create_order_action(m, side, price, quantity, order_type, post_only=post_only,
                                          max_price=max_price, min_price=min_price, limit_timestamp=limit_timestamp)
        actions = [self.settle_action(), action] if settle_first else [action]
        return self.submit([{"market_id": m.market_id, "actions": actions}], collect_orders=collect_orders)

    def cancel(self, order: Union[str, Order], market: Optional[Union[str, Market]] = None) -> TxResult:
        """Cancel one order (an :class:`~o2lite.models.Order` knows its market; an id needs ``market``)."""
        order_id, market_id = self._order_ref(order, market)
        return self.submit([{"market_id": market_id, "actions": [{"CancelOrder": {"order_id": order_id}}]}])

    def _order_ref(self, order: Union[str, Order], market: Optional[Union[str, Market]]) -> Tuple[str, str]:
        if isinstance(order, Order):
            market_id = order.market_id or (market and self.client.markets.get(market).market_id)
            order_id = order.order_id
        else:
            market_id = market and self.client.markets.get(market).market_id
            order_id = b256_hex(order, "order_id")
        if not market_id:
            raise ValidationError("which market? pass market= with an order id")
        return order_id, market_id

    def cancel_all(self, market: Union[str, Market]) -> List[TxResult]:
        """Cancel every open order of this account in ``market``, five per request."""
        orders = self.open_orders(market)
        batch = self.batch()
        for order in orders:
            batch.cancel(order, market)
        return batch.send() if orders else []

    def settle(self, market: Union[str, Market]) -> TxResult:
        """Move the market's unlocked funds back to the trade account."""
        m = self.client.markets.get(market)
        return self.submit([{"market_id": m.market_id, "actions": [self.settle_action()]}])

    def batch(self) -> "Batch":
        """A builder of mixed actions across markets, split into valid requests by :meth:`Batch.send`."""
        return Batch(self)

    # --- funds and orders -------------------------------------------------------------------

    def assets(self) -> Dict[str, Asset]:
        """``{symbol: Asset}`` of every asset traded in the exchange's markets."""
        out: Dict[str, Asset] = {}
        for m in self.client.markets.list():
            out.setdefault(m.base.symbol, m.base)
            out.setdefault(m.quote.symbol, m.quote)
        return out

    def _asset(self, asset: str) -> Tuple[str, int]:
        """(asset id, decimals) from a symbol or id known to the markets."""
        for a in self.assets().values():
            if asset.upper() == a.symbol.upper() or asset.lower() == a.asset:
                return a.asset, a.decimals
        raise ValidationError(f"unknown asset {asset!r}")

    def withdraw(self, asset: str, amount: Number, to: Optional[Mapping[str, str]] = None, *,
                 nonce_kind: str = "sequential", lane: int = 0) -> TxResult:
        """Withdraw ``amount`` (human, or :class:`Chain`) of ``asset`` (symbol or id) to ``to``
        (an Identity; default the owner). Parallel withdrawals share the lane's issuer with actions."""
        asset_id, decimals = self._asset(asset)
        chain_amount = int(amount) if isinstance(amount, Chain) else int(
            to_decimal(amount, "amount").scaleb(decimals).to_integral_value(rounding="ROUND_FLOOR"))
        if chain_amount <= 0:
            raise ValidationError("amount must be positive")
        if to is not None:
            to = identity_json(to)  # checked before the nonce is read
        account = self._account()
        withdraw = self.client.accounts.withdraw
        return self._with_nonce(
            nonce_kind, lane,
            lambda n: withdraw(self.owner, account, asset_id, chain_amount, to, nonce=n),
            lambda n: withdraw(self.owner, account, asset_id, chain_amount, to, parallel_nonce=n))

    def upgrade(self) -> Any:
        """Upgrade the trade account's contract (sequential nonce); a no-op when already current."""
        account = self._account()
        return self._sequential(lambda n: self.client.accounts.upgrade(self.owner, account, n))

    def balances(self) -> Dict[str, Balance]:
        """``{symbol: Balance}`` of this account for every asset of every market."""
        account = self._account()
        return {symbol: self.client.accounts.balance(a.asset, contract=account) for symbol, a in self.assets().items()}

    def open_orders(self, market: Union[str, Market]) -> List[Order]:
        """Every open order of this account in ``market``."""
        return list(self.client.orders.iter_orders(market, self._account(), is_open=True))


def _chain(value: Number, scale: Callable[[Any], int]) -> int:
    if isinstance(value, Chain):
        if value < 0:
            raise ValidationError("chain integers are non-negative")
        return int(value)
    return scale(value)


def _raise_unknown(exc: BaseException, nonce: int) -> None:
    """Turn a lost answer to a signed request into :class:`SubmissionUnknown`."""
    if isinstance(exc, O2ConnectionError) and getattr(exc, "may_have_landed", False):
        raise SubmissionUnknown(f"no answer after sending (nonce {nonce}): the request may have landed; "
                                "reconcile before resending", nonce=nonce, method=exc.method, url=exc.url) from exc


_KIND_ORDER = {"CancelOrder": 0, "SettleBalance": 1, "RegisterReferer": 1, "CreateOrder": 2}


class Batch:
    """Mixed actions across markets, sent as few valid requests (≤ 5 actions, ≤ 5 markets each).

    Within each request a market's actions go cancels first, then settles, then new orders.
    """

    def __init__(self, trader: Trader) -> None:
        self._trader = trader
        self._actions: List[Tuple[str, Dict[str, Any]]] = []

    def place(self, market: Union[str, Market], side: str, price: Number, quantity: Number,
              order_type: Any = "Spot", **options: Any) -> "Batch":
        """Add a ``CreateOrder`` (same arguments as :meth:`Trader.create_order_action`)."""
        m = self._trader.client.markets.get(market)
        self._actions.append((m.market_id, self._trader.create_order_action(m, side, price, quantity, order_type,
                                                                            **options)))
        return self

    def cancel(self, order: Union[str, Order], market: Optional[Union[str, Market]] = None) -> "Batch":
        """Add a ``CancelOrder``."""
        order_id, market_id = self._trader._order_ref(order, market)
        self._actions.append((market_id, {"CancelOrder": {"order_id": order_id}}))
        return self

    def settle(self, market: Union[str, Market]) -> "Batch":
        """Add a ``SettleBalance`` to the trade account."""
        self._actions.append((self._trader.client.markets.get(market).market_id, self._trader.settle_action()))
        return self

    def requests(self) -> List[List[Dict[str, Any]]]:
        """The action groups of each request, in sending order."""
        ordered = sorted(enumerate(self._actions), key=lambda ia: (_KIND_ORDER[next(iter(ia[1][1]))], ia[0]))
        out: List[List[Dict[str, Any]]] = []
        for start in range(0, len(ordered), MAX_ACTIONS):
            groups: Dict[str, List[Dict[str, Any]]] = {}
            for _, (market_id, action) in ordered[start:start + MAX_ACTIONS]:
                groups.setdefault(market_id, []).append(action)
            out.append([{"market_id": mid, "actions": acts} for mid, acts in groups.items()])
        return out

    def send(self) -> List[TxResult]:
        """Send every request in order; stops at the first failure (earlier ones have landed)."""
        return [self._trader.submit(groups) for groups in self.requests()]

    def __len__(self) -> int:
        return len(self._actions)
