"""The sandbox exchange's core: accounts, sessions, nonces, signatures, matching — no routes, no HTTP.

:class:`ExchangeCore` holds the state and the operations; it knows nothing of paths.
:class:`~o2lite.sandbox.exchange.Exchange` composes it with the routes (reads, owner operations,
aggregated views) and answers requests.

What it checks is listed in :mod:`o2lite.sandbox.exchange`.

Each signed request is handled in two steps: everything that depends only on the request —
parsing, rebuilding the signing bytes, checking the signature — runs outside the exchange lock,
so threads verify in parallel; then, under the lock, the request is checked against the state
(nonce, session, owner) and applied atomically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .. import encoding
from .._hex import b256_hex
from .._parse import digits
from ..actions import canonical_action, canonical_action_to_call, sent_as_canonical
from ..trigger_encoding import TRIGGER_ACTION_KINDS
from ..errors import ValidationError
from ..market import Market
from ..typed_data import DOMAIN_VERSION, parallel_session_digest
from .book import Book, Journal, Ledger, Order, Revert, set_attr
from .config import CHAIN_ID, DEFAULT_MARKETS, fresh_id, named_id
from .errors import ApiError, api_error, revert_error
from .fields import address_of, need, parse_fail, strict_id
from .limits import RateLimiter
from .matching import create_order, seed
from .nonces import check_nonce, consume, parse_nonce
from .verify import BadSignature, Verifier
from .hub import Hub
from .triggers import TriggerBook
from ..error_codes import ErrorCode

__all__ = ["ExchangeCore", "Route", "Routes"]

Route = Callable[..., Any]
Routes = Dict[Tuple[str, str], Route]  # (method, path) -> route
_ACTION_LABELS = {"nonce": ("Secp256k1",), "parallel_nonce": ("Secp256k1", "TypedSecp256k1")}


class ExchangeCore:
    """The state and operations of an in-memory O2 exchange. Thread-safe.

    Args:
        markets: ``/v1/markets`` entries (default: :data:`DEFAULT_MARKETS`).
        seed_book: rest a few orders from a built-in maker so the book is alive.
        rate_limits: enforce PROTOCOL §4 limits with HTTP 429 / code 1003.
        faucet_cooldown: seconds between two mints to one recipient.
        legacy_accounts: new accounts need ``/v1/accounts/upgrade`` before parallel nonces work.
        domain_version: the typed-data domain version the trade accounts use (PROTOCOL §10).
        clock: Unix seconds, injectable.
    """

    def __init__(self, *, markets: Optional[List[Dict[str, Any]]] = None, seed_book: bool = True, rate_limits: bool = False,
                 faucet_cooldown: float = 60.0, legacy_accounts: bool = False, domain_version: str = DOMAIN_VERSION,
                 clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.rate_limits = rate_limits
        self.faucet_cooldown = faucet_cooldown
        self.legacy_accounts = legacy_accounts
        self.domain_version = domain_version
        self.chain_id = CHAIN_ID
        self.verifier = Verifier()
        self.hub = Hub()  # WebSocket subscribers (o2lite.sandbox.hub)
        self.touched_orders: Optional[List[Order]] = None  # orders changed by the running transaction
        self.touched_triggers: Optional[List[Dict[str, Any]]] = None  # triggers it changed (their JSON)
        self.registry = {"books_registry_id": named_id("books-registry"),
                         "accounts_registry_id": named_id("accounts-registry"),
                         "trade_account_oracle_id": named_id("oracle"), "base_asset_id": named_id("asset:ETH")}
        self.markets: List[Dict[str, Any]] = [dict(m) for m in (markets or DEFAULT_MARKETS)]
        self.by_market_id = {m["market_id"]: m for m in self.markets}
        self._specs: Dict[str, Market] = {}
        self.books = {m["market_id"]: Book(m["market_id"]) for m in self.markets}
        self.triggers = TriggerBook(self)  # take-profit / stop-loss orders (o2lite.sandbox.triggers)
        self.ledger = Ledger()
        self.accounts: Dict[str, Dict[str, Any]] = {}  # trade_account_id -> {owner, nonce, session, windows, version, referer}
        self.by_owner: Dict[str, str] = {}
        self.wallets: Dict[str, Dict[str, int]] = {}  # external addresses (withdrawals, faucet)
        self.orders: Dict[str, Order] = {}
        self.trades: Dict[str, List[Dict[str, Any]]] = {m["market_id"]: [] for m in self.markets}
        self.faucet_log: Dict[str, float] = {}
        # Trade ids count from the clock in ms × 1000, so they stay unique across restarts.
        self.sequence = int(clock() * 1000) * 1000
        self._limiter = RateLimiter(clock)
        if seed_book:
            seed(self)

    # --- plumbing ---------------------------------------------------------------------------

    def locked(self, route: Route) -> Route:
        """``route`` run entirely under the exchange lock (reads and simple writes)."""
        def run(**kw: Any) -> Any:
            with self.lock:
                return route(**kw)
        return run

    def next_seq(self) -> int:
        """The next number of the exchange-wide sequence (time priority, trade ids)."""
        self.sequence += 1
        return self.sequence

    def now_ms(self) -> int:
        """The clock in milliseconds."""
        return int(self.clock() * 1000)

    def market_by_id(self, market_id: Any) -> Dict[str, Any]:
        """A market entry, or code 2000."""
        market = self.by_market_id.get(str(market_id).lower())
        if market is None:
            raise api_error(ErrorCode.MARKET_NOT_FOUND, f"Market not found: {str(market_id)[:80]}")
        return market

    def spec(self, market: Dict[str, Any]) -> Market:
        """The parsed :class:`~o2lite.market.Market` of a market entry (parsed once)."""
        found = self._specs.get(market["market_id"])
        if found is None:
            found = self._specs[market["market_id"]] = Market.from_json(market)
        return found

    def market_by_contract(self, contract_id: str) -> Optional[Dict[str, Any]]:
        """The market whose order book is ``contract_id``."""
        return next((m for m in self.markets if m["contract_id"] == contract_id), None)

    def account(self, trade_account_id: Any) -> Dict[str, Any]:
        """An account's state, or code 4002."""
        try:
            account_id = b256_hex(trade_account_id, "trade_account_id")
        except ValidationError:
            raise api_error(ErrorCode.INVALID_REQUEST, "invalid trade_account_id") from None
        account = self.accounts.get(account_id)
        if account is None:
            raise api_error(ErrorCode.ACCOUNT_NOT_FOUND, f"Account not found: {account_id}")
        return account

    def owner_header(self, account: Dict[str, Any], headers: Mapping[str, str]) -> None:
        """The ``O2-Owner-Id`` header must name the account's owner (else 4000)."""
        if str(headers.get("o2-owner-id", "")).lower() != account["owner"]:
            raise api_error(ErrorCode.INVALID_SIGNATURE, "O2-Owner-Id does not match the trade account's owner")

    def claimed_owner(self, headers: Mapping[str, str]) -> str:
        """The owner named by the header (checked against the account under the lock)."""
        try:
            return b256_hex(headers.get("o2-owner-id", ""), "O2-Owner-Id")
        except ValidationError:
            raise api_error(ErrorCode.INVALID_SIGNATURE, "O2-Owner-Id header missing or not a 32-byte id") from None

    # --- accounts ---------------------------------------------------------------------------

    def create_account(self, body: Any, **_: Any) -> Dict[str, Any]:
        """``POST /v1/accounts``: idempotent per owner."""
        owner = address_of(need(body, "identity")["identity"], "identity")
        account_id = self.by_owner.get(owner)
        if account_id is None:
            account_id = named_id("trade-account:" + owner)
            self.accounts[account_id] = {"id": account_id, "owner": owner, "nonce": 0, "session": None, "windows": {},
                                         "version": 1 if self.legacy_accounts else 2, "referer": None,
                                         "modified": self.now_ms()}
            self.by_owner[owner] = account_id
        return {"trade_account_id": account_id, "nonce": str(self.accounts[account_id]["nonce"])}

    # --- the signed-transaction pipeline ----------------------------------------------------

    def verified(self, check: Callable[[], None]) -> Optional[ApiError]:
        """Run a signature check (outside the lock); the 4000 it may give is raised later, after
        the nonce checks, in the exchange's order: nonce first, then signature."""
        try:
            check()
            return None
        except BadSignature as exc:
            return api_error(ErrorCode.INVALID_SIGNATURE, str(exc))

    def transact(self, account: Dict[str, Any], kind: str, value: int, signature_error: Optional[ApiError],
                 run: Callable[[Journal], Dict[str, Any]], markets: Sequence[Dict[str, Any]] = (),
                 others: Tuple[str, ...] = ()) -> Dict[str, Any]:
        """Under the lock: nonce check → signature verdict → run atomically. Reverts consume the
        nonce. Stream subscribers then get what changed in ``markets`` and for the accounts."""
        check_nonce(account, kind, value, self.clock())
        if signature_error is not None:
            raise signature_error
        watch = self.hub.watch(self, (account["id"],) + tuple(others), markets)
        journal = Journal()
        try:
            result = run(journal)
        except Revert as exc:
            journal.rollback()
            consume(account, kind, value, self.now_ms())
            if watch:
                watch.publish()
            raise revert_error(str(exc)) from None
        except BaseException:
            journal.rollback()  # a malformed action: nothing ran, nothing consumed
            self.touched_orders = self.touched_triggers = None
            raise
        journal.commit()
        consume(account, kind, value, self.now_ms())
        if watch:
            watch.publish()
        return dict(result, tx_id=fresh_id())

    def touch(self, order: Order) -> None:
        """Note an order the running transaction changed (for the order streams)."""
        if self.touched_orders is not None:
            self.touched_orders.append(order)

    # --- session ----------------------------------------------------------------------------

    def put_session(self, body: Any, headers: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        """``PUT /v1/session``: owner-signed; a new session replaces the old."""
        body = need(body, "contract_id", "session_id", "signature", "contract_ids", "expiry")
        account_id = strict_id(body["contract_id"], "contract_id")
        owner = self.claimed_owner(headers)
        session_address = address_of(body["session_id"], "session_id")
        if not isinstance(body["contract_ids"], list):
            raise parse_fail("contract_ids must be a list")
        contract_ids = [strict_id(c, "contract id") for c in body["contract_ids"]]
        expiry = digits(body["expiry"], 20)
        if expiry is None:
            raise parse_fail("expiry must be a base-10 string")
        kind, value = parse_nonce(body)
        if kind == "nonce":
            message = encoding.session_signing_bytes(value, self.chain_id, session_address, contract_ids, expiry)
            bad = self.verified(lambda: self.verifier.owner_personal(body["signature"], message, owner))
        else:
            digest = parallel_session_digest(owner, self.chain_id, account_id, value, session_address, expiry,
                                             contract_ids, version=self.domain_version)
            bad = self.verified(lambda: self.verifier.owner_typed(body["signature"], digest, owner))

        def run(journal: Journal) -> Dict[str, Any]:
            if not contract_ids:
                raise Revert("NoApprovedContractIdsProvided: a session needs at least one market contract")
            if expiry <= self.clock():
                raise Revert("SessionInThePast: the session expiry is in the past")
            if any(self.market_by_contract(c) is None for c in contract_ids):
                raise Revert("InvalidOrderArgs: a session contract id is not a market of this exchange")
            old = account["session"]
            account["session"] = {"address": session_address, "expiry": expiry, "contract_ids": contract_ids}
            journal.record(lambda: account.__setitem__("session", old))
            return {"trade_account_id": account["id"], "contract_ids": contract_ids,
                    "session_id": {"Address": session_address}, "session_expiry": str(expiry)}

        with self.lock:
            account = self.account(account_id)
            self.owner_header(account, headers)
            return self.transact(account, kind, value, bad, run)

    def post_actions(self, body: Any, headers: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        """``POST /v1/session/actions``: session-signed, atomic, orders collected on request."""
        body = need(body, "actions", "signature", "trade_account_id", "session_id")
        account_id = strict_id(body["trade_account_id"], "trade_account_id")
        session_address = address_of(body["session_id"], "session_id")
        groups = body["actions"]
        if not isinstance(groups, list) or not all(
                isinstance(g, Mapping) and isinstance(g.get("actions"), list) for g in groups):
            raise parse_fail("actions must be a list of {market_id, actions: [...]} groups")
        total = sum(len(g["actions"]) for g in groups)
        if total == 0:
            raise api_error(ErrorCode.NO_ACTIONS_PROVIDED, "No actions provided")
        if total > 5 or len(groups) > 5:
            raise api_error(ErrorCode.TOO_MANY_ACTIONS, "Too many actions: at most 5 actions in at most 5 markets")
        markets = [self.market_by_id(g.get("market_id")) for g in groups]
        for group in groups:
            for action in group["actions"]:
                try:
                    canonical = canonical_action(action)
                except ValidationError as exc:
                    raise parse_fail(str(exc)) from None
                if not sent_as_canonical(action, canonical):
                    raise parse_fail(f"action is not in its canonical form: expected {canonical}")
        try:
            calls = [canonical_action_to_call(a, m, self.registry["accounts_registry_id"])
                     for m, g in zip(markets, groups) for a in g["actions"]]
        except ValidationError as exc:
            raise api_error(ErrorCode.INVALID_ORDER_PARAMS, f"Invalid order params: {exc}") from None
        kind, value = parse_nonce(body)
        message = (encoding.actions_signing_bytes(value, calls) if kind == "nonce"
                   else encoding.parallel_actions_signing_bytes(value, calls))
        bad = self.verified(lambda: self.verifier.session(body["signature"], message, session_address,
                                                          _ACTION_LABELS[kind]))

        def run(journal: Journal) -> Dict[str, Any]:
            created: List[Dict[str, Any]] = []
            for market, group in zip(markets, groups):
                for action in group["actions"]:
                    order = self._apply_action(journal, account, market, action)
                    if order is not None:
                        created.append(order.to_json(market["base"]["decimals"]))
            self.triggers.fire(journal, markets)  # trades may have reached trigger prices
            return {"orders": created} if body.get("collect_orders") is True else {}

        with self.lock:
            account = self.account(account_id)
            self.owner_header(account, headers)
            session = account["session"]
            if session is None or session["address"] != session_address:
                raise api_error(ErrorCode.INVALID_SESSION, "Invalid session address")
            if session["expiry"] <= self.clock():
                raise api_error(ErrorCode.INVALID_SESSION, "Expired session")
            for market in markets:
                if market["contract_id"] not in session["contract_ids"]:
                    raise api_error(ErrorCode.INVALID_SESSION, f"Invalid session: market {market['market_id']} is not in its contract ids")
            self.triggers.preflight(account["id"], markets, groups)
            return self.transact(account, kind, value, bad, run, markets)

    # --- actions and matching --------------------------------------------------------------

    def _apply_action(self, journal: Journal, account: Dict[str, Any], market: Dict[str, Any], action: Mapping[str, Any]) -> Optional[Order]:
        (kind, args), = action.items()
        if kind == "CreateOrder":
            return create_order(self, journal, account["id"], market, args)
        if kind in TRIGGER_ACTION_KINDS:
            return self.triggers.apply(journal, account["id"], market, kind, args)
        if kind == "CancelOrder":
            self.cancel_order(journal, account["id"], market, args["order_id"])
        elif kind == "SettleBalance":
            self._settle(journal, account["id"], market, args["to"])
        elif kind == "RegisterReferer":
            old = account["referer"]
            account["referer"] = args["to"]
            journal.record(lambda: account.__setitem__("referer", old))
        return None

    def cancel_order(self, journal: Journal, account_id: str, market: Dict[str, Any], order_id: str) -> None:
        """``cancel_order``: an order (its triggers end with it) or a trigger order — one contract call."""
        if order_id in self.triggers.all:
            self.triggers.cancel(journal, account_id, market, order_id)
            return
        order = self.orders.get(order_id)
        if order is None or order.account != account_id or order.market_id != market["market_id"]:
            raise Revert("NotOrderOwner: no such order of this account in this market")
        if order.close:
            raise Revert("OrderNotActive: the order is already filled or cancelled")
        self.books[market["market_id"]].remove(journal, order)
        self.release(journal, order, market)
        set_attr(journal, order, "cancel", True)
        self.touch(order)
        self.triggers.parent_closed(journal, order)

    def release(self, journal: Optional[Journal], order: Order, market: Dict[str, Any]) -> None:
        """Close an order and return what it still has locked to its unlocked balance."""
        asset = market["quote"]["asset"] if order.side == "Buy" else market["base"]["asset"]
        book = market["contract_id"]
        self.ledger.move(journal, (order.account, ("locked", book, asset)), (order.account, ("unlocked", book, asset)),
                         order.locked)
        set_attr(journal, order, "locked", 0)
        set_attr(journal, order, "close", True)

    def _settle(self, journal: Journal, account_id: str, market: Dict[str, Any], to: Mapping[str, str]) -> None:
        (kind, target), = to.items()
        for asset in (market["base"]["asset"], market["quote"]["asset"]):
            bucket = ("unlocked", market["contract_id"], asset)
            amount = self.ledger.get(account_id, bucket)
            if not amount:
                continue
            if kind == "ContractId" and target in self.accounts:
                self.ledger.move(journal, (account_id, bucket), (target, ("wallet", asset)), amount)
            else:
                self.ledger.add(journal, account_id, bucket, -amount)
                self.credit_wallet(journal, target, asset, amount)

    def credit_wallet(self, journal: Optional[Journal], address: str, asset: str, amount: int) -> None:
        """Credit an external address (withdrawals, settlements elsewhere, the faucet)."""
        wallet = self.wallets.setdefault(address, {})
        old = wallet.get(asset, 0)
        wallet[asset] = old + amount
        if journal is not None:
            journal.record(lambda: wallet.__setitem__(asset, old))

    def assets(self) -> Dict[str, Tuple[str, int]]:
        """``{symbol: (asset id, decimals)}`` of every market asset."""
        out: Dict[str, Tuple[str, int]] = {}
        for m in self.markets:
            for side in ("base", "quote"):
                out.setdefault(m[side]["symbol"], (m[side]["asset"], m[side]["decimals"]))
        return out
