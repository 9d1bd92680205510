"""The sandbox exchange: accounts, sessions, nonces, signatures, matching — without HTTP.

:meth:`Exchange.handle` takes a request (method, path, query, headers, JSON body) and returns
``(status, body, headers)`` the way the O2 exchange would. The HTTP server in
:mod:`o2lite.sandbox.server` and the tests' ``responses`` callbacks both call it.

What it checks, like the exchange: signatures recovered over bytes rebuilt **from the request
JSON** (code 4000 when the signer is wrong); the sequential nonce must equal the account's and
is consumed by every transaction, reverted ones included; parallel nonces per lane with expiry
and an 8×128 bitmap window that slides when a word of its upper half is used (the six reasons
of PROTOCOL §3); one session per account with expiry and a contract allowlist; the owner header;
limits and (optionally) rate limits. Pre-flight errors consume no nonce; reverts do.

Facts the protocol leaves open, decided here: ``Limit [price, timestamp]`` behaves like Spot
(the timestamp is recorded, not enforced); fees are parts per million of what a side receives;
months in bars are 30 days.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .. import encoding
from .._hex import b256_hex
from ..errors import ValidationError
from ..nonce import LANES, WINDOW_WORDS, WORD_BITS
from ..typed_data import parallel_owner_calls_digest, parallel_session_digest, parallel_withdraw_digest
from .book import Book, Journal, Ledger, Order, Revert, set_attr
from .verify import BadSignature, check_owner_personal, check_owner_typed, check_session

__all__ = ["Exchange", "ApiError", "DEFAULT_MARKETS"]

CHAIN_ID = 9889  # the sandbox's chain id (testnet's, 0x2699)


class ApiError(Exception):
    """A pre-flight error: nothing ran, no nonce consumed."""

    def __init__(self, status: int, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(body.get("message") or body.get("error"))
        self.status, self.body, self.headers = status, body, headers or {}


def api_error(code: int, message: str, status: int = 400) -> ApiError:
    """A coded pre-flight error body."""
    return ApiError(status, {"code": code, "message": message})


def _id(label: str) -> str:
    return "0x" + hashlib.sha256(b"o2lite-sandbox:" + label.encode()).hexdigest()


def _market_entry(base: Tuple[str, int, int], quote: Tuple[str, int, int], min_order: int, fees=(0, 0)) -> dict:
    pair = f"{base[0]}/{quote[0]}"
    return {"contract_id": _id("book:" + pair), "market_id": _id("market:" + pair), "maker_fee": str(fees[0]),
            "taker_fee": str(fees[1]), "min_order": str(min_order), "dust": "1000", "price_window": 0,
            "base": {"symbol": base[0], "asset": _id("asset:" + base[0]), "decimals": base[1], "max_precision": base[2]},
            "quote": {"symbol": quote[0], "asset": _id("asset:" + quote[0]), "decimals": quote[1],
                      "max_precision": quote[2]}}


#: Two seeded markets: FUEL/USDC (prices around 0.0125) and ETH/USDC (around 3000).
DEFAULT_MARKETS = [
    _market_entry(("FUEL", 9, 3), ("USDC", 6, 6), 100_000),
    _market_entry(("ETH", 9, 6), ("USDC", 6, 2), 100_000),
]
# Human amounts the faucet mints per asset.
FAUCET_AMOUNTS = {"FUEL": 100_000, "ETH": 10, "USDC": 10_000}

# Rate limits (PROTOCOL §4): name -> (requests, seconds).
RATE_LIMITS = {"accounts": (1, 1.0), "session": (5, 1.0), "owner": (10, 60.0), "aggregated": (5, 1.0)}


class Exchange:
    """An in-memory O2 exchange. Thread-safe (one lock around each request).

    Args:
        markets: ``/v1/markets`` entries (default: :data:`DEFAULT_MARKETS`).
        seed_book: rest a few orders from a built-in maker so the book is alive.
        rate_limits: enforce PROTOCOL §4 limits with HTTP 429 / code 1003.
        faucet_cooldown: seconds between two mints to one recipient.
        legacy_accounts: new accounts need ``/v1/accounts/upgrade`` before parallel nonces work.
        clock: Unix seconds, injectable.
    """

    def __init__(self, *, markets: Optional[List[dict]] = None, seed_book: bool = True, rate_limits: bool = False,
                 faucet_cooldown: float = 60.0, legacy_accounts: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.rate_limits = rate_limits
        self.faucet_cooldown = faucet_cooldown
        self.legacy_accounts = legacy_accounts
        self.chain_id = CHAIN_ID
        self.registry = {"books_registry_id": _id("books-registry"), "accounts_registry_id": _id("accounts-registry"),
                         "trade_account_oracle_id": _id("oracle"), "base_asset_id": _id("asset:ETH")}
        self.markets: List[dict] = [dict(m) for m in (markets or DEFAULT_MARKETS)]
        self.by_market_id = {m["market_id"]: m for m in self.markets}
        self.books = {m["market_id"]: Book(m["market_id"]) for m in self.markets}
        self.ledger = Ledger()
        self.accounts: Dict[str, dict] = {}  # trade_account_id -> {owner, nonce, session, windows, version, referer}
        self.by_owner: Dict[str, str] = {}
        self.wallets: Dict[str, Dict[str, int]] = {}  # external addresses (withdrawals, faucet)
        self.orders: Dict[str, Order] = {}
        self.trades: Dict[str, List[dict]] = {m["market_id"]: [] for m in self.markets}
        self.faucet_log: Dict[str, float] = {}
        self.sequence = 0
        self._rate: Dict[Tuple[str, str], List[float]] = {}
        self.routes: Dict[Tuple[str, str], Callable[..., Any]] = {}
        from . import reads  # the read endpoints live in their own module

        reads.register(self)
        self.routes.update({
            ("POST", "/v1/accounts"): self.create_account,
            ("PUT", "/v1/session"): self.put_session,
            ("POST", "/v1/session/actions"): self.post_actions,
            ("POST", "/v1/accounts/withdraw"): self.post_withdraw,
            ("POST", "/v1/accounts/upgrade"): self.post_upgrade,
            ("POST", "/v1/accounts/call"): self.post_owner_calls,
            ("POST", "/v1/accounts/calls"): self.post_owner_calls,
            ("POST", "/faucet"): self.post_faucet,
        })
        if seed_book:
            self._seed()

    # --- plumbing ---------------------------------------------------------------------------

    def next_seq(self) -> int:
        """The next number of the exchange-wide sequence (time priority, ids)."""
        self.sequence += 1
        return self.sequence

    def now_ms(self) -> int:
        """The clock in milliseconds."""
        return int(self.clock() * 1000)

    def handle(self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str],
               body: Any) -> Tuple[int, Any, Dict[str, str]]:
        """Serve one request → ``(status, JSON body, extra headers)``."""
        route = self.routes.get((method.upper(), path.rstrip("/") or "/"))
        if route is None:
            return 404, {"code": 1001, "message": f"no route {method} {path}"}, {}
        lowered = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            try:
                self._check_rate(method.upper(), path, lowered, body)
                return 200, route(query=dict(query), headers=lowered, body=body), {}
            except ApiError as exc:
                return exc.status, exc.body, exc.headers
            except (ValidationError, KeyError, TypeError, ValueError) as exc:
                return 400, {"code": 1002, "message": f"Parse error: {exc}"}, {}

    def _check_rate(self, method: str, path: str, headers: Mapping[str, str], body: Any) -> None:
        if not self.rate_limits:
            return
        owner = headers.get("o2-owner-id", "")
        if path == "/v1/accounts" and method == "POST":
            name, key = "accounts", headers.get("x-forwarded-for", "ip")
        elif path in ("/v1/session", "/v1/session/actions"):
            name, key = "session", owner
        elif path.startswith("/v1/accounts/") and method == "POST":
            name, key = "owner", owner
        elif path.startswith("/v1/aggregated/"):
            name, key = "aggregated", "ip"
        else:
            return
        count, window = RATE_LIMITS[name]
        now = self.clock()
        hits = [t for t in self._rate.get((name, key), []) if now - t < window]
        if len(hits) >= count:
            retry = max(window - (now - hits[0]), 0.001)
            raise ApiError(429, {"code": 1003, "message": "Rate limit exceeded"}, {"Retry-After": f"{retry:.3f}"})
        hits.append(now)
        self._rate[(name, key)] = hits

    def market_by_id(self, market_id: str) -> dict:
        """A market entry, or code 2000."""
        market = self.by_market_id.get(str(market_id).lower())
        if market is None:
            raise api_error(2000, f"Market not found: {market_id}")
        return market

    def market_by_contract(self, contract_id: str) -> Optional[dict]:
        """The market whose order book is ``contract_id``."""
        return next((m for m in self.markets if m["contract_id"] == contract_id), None)

    def account(self, trade_account_id: Any) -> dict:
        """An account's state, or code 4002."""
        try:
            account_id = b256_hex(trade_account_id, "trade_account_id")
        except ValidationError:
            raise api_error(1001, "invalid trade_account_id") from None
        account = self.accounts.get(account_id)
        if account is None:
            raise api_error(4002, f"Account not found: {account_id}")
        return account

    def _owner_header(self, account: dict, headers: Mapping[str, str]) -> None:
        header = str(headers.get("o2-owner-id", "")).lower()
        if header != account["owner"]:
            raise api_error(4000, "O2-Owner-Id does not match the trade account's owner")

    # --- accounts ---------------------------------------------------------------------------

    def create_account(self, body: Any, **_: Any) -> dict:
        """``POST /v1/accounts``: idempotent per owner."""
        owner = b256_hex(body["identity"]["Address"], "owner")
        account_id = self.by_owner.get(owner)
        if account_id is None:
            account_id = _id("trade-account:" + owner)
            self.accounts[account_id] = {"id": account_id, "owner": owner, "nonce": 0, "session": None, "windows": {},
                                         "version": 1 if self.legacy_accounts else 2, "referer": None,
                                         "modified": self.now_ms()}
            self.by_owner[owner] = account_id
        return {"trade_account_id": account_id, "nonce": str(self.accounts[account_id]["nonce"])}

    # --- nonces -----------------------------------------------------------------------------

    def _take_nonce(self, account: dict, body: Mapping[str, Any]) -> Tuple[str, int]:
        """Check the request's nonce; return ``(kind, value)``. Raises before anything ran."""
        if ("nonce" in body) == ("parallel_nonce" in body):
            raise api_error(1001, "give exactly one of nonce or parallel_nonce")
        if "nonce" in body:
            value = int(str(body["nonce"]))
            if value < account["nonce"]:
                raise api_error(1001, f"Nonce in the request({value}) is less than the nonce in the database"
                                      f"({account['nonce']}).")
            if value > account["nonce"]:
                raise api_error(1001, f"Nonce in the request({value}) is greater than the nonce in the database"
                                      f"({account['nonce']}).")
            return "nonce", value
        value = int(str(body["parallel_nonce"]))
        if account["version"] < 2:
            raise Revert("Revert(123)")  # legacy contract: parallel selector mismatch, runs and reverts
        self._check_parallel(account, value)
        return "parallel_nonce", value

    def _check_parallel(self, account: dict, value: int) -> None:
        def refuse(reason: str) -> ApiError:
            return api_error(1001, f"Parallel nonce is not usable: {reason}")

        if value >> 176:
            raise refuse("reserved bits set")
        lane, expiry, word, bit = (value >> 168) & 0xFF, (value >> 136) & 0xFFFFFFFF, (value >> 8) & (2**128 - 1), value & 0xFF
        if lane >= LANES:
            raise refuse("nonce session id out of range")
        if bit >= WORD_BITS:
            raise refuse("bitmap position out of range")
        if expiry < self.clock():
            raise refuse("nonce expired")
        window = account["windows"].setdefault(lane, {"base": 0, "bitmaps": {}})
        if not window["base"] <= word < window["base"] + WINDOW_WORDS:
            raise refuse("word position out of sliding window")
        if window["bitmaps"].get(word, 0) >> bit & 1:
            raise refuse("nonce already used")

    def _consume(self, account: dict, kind: str, value: int) -> None:
        """Mark the nonce used (also for reverted transactions)."""
        account["modified"] = self.now_ms()
        if kind == "nonce":
            account["nonce"] += 1
            return
        lane, word, bit = (value >> 168) & 0xFF, (value >> 8) & (2**128 - 1), value & 0xFF
        window = account["windows"][lane]
        window["bitmaps"][word] = window["bitmaps"].get(word, 0) | (1 << bit)
        if word >= window["base"] + WINDOW_WORDS // 2:  # a word of the upper half is used: slide
            window["base"] = word - (WINDOW_WORDS // 2 - 1)
            window["bitmaps"] = {w: b for w, b in window["bitmaps"].items() if w >= window["base"]}

    def _transact(self, account: dict, body: Mapping[str, Any], verify: Callable[[str, int], None],
                  run: Callable[[Journal], dict]) -> dict:
        """Nonce check → signature check → run atomically. Reverts consume the nonce."""
        try:
            kind, value = self._take_nonce(account, body)
        except Revert as exc:  # legacy account given a parallel nonce: it ran and reverted
            raise ApiError(400, {"message": str(exc), "reason": "selector mismatch", "receipts": []}) from None
        try:
            verify(kind, value)
        except BadSignature as exc:
            raise api_error(4000, str(exc)) from None
        journal = Journal()
        try:
            result = run(journal)
        except Revert as exc:
            journal.rollback()
            self._consume(account, kind, value)
            raise ApiError(400, {"code": 1000, "message": f"Revert({exc})", "reason": str(exc),
                                 "receipts": [{"Revert": {"ra": 1}}]}) from None
        except BaseException:
            journal.rollback()  # a malformed action: nothing ran, nothing consumed
            raise
        journal.commit()
        self._consume(account, kind, value)
        return dict(result, tx_id="0x" + hashlib.sha256(f"tx{self.next_seq()}".encode()).hexdigest())

    # --- session ----------------------------------------------------------------------------

    def put_session(self, body: Any, headers: Mapping[str, str], **_: Any) -> dict:
        """``PUT /v1/session``: owner-signed; a new session replaces the old."""
        account = self.account(body["contract_id"])
        self._owner_header(account, headers)
        session_address = b256_hex(body["session_id"]["Address"], "session_id")
        contract_ids = [b256_hex(c, "contract id") for c in body.get("contract_ids") or []]
        expiry = int(str(body["expiry"]))

        def verify(kind: str, value: int) -> None:
            if kind == "nonce":
                check_owner_personal(body["signature"], encoding.session_signing_bytes(
                    value, self.chain_id, session_address, contract_ids, expiry), account["owner"])
            else:
                check_owner_typed(body["signature"], parallel_session_digest(
                    account["owner"], self.chain_id, account["id"], value, session_address, expiry, contract_ids),
                    account["owner"])

        def run(journal: Journal) -> dict:
            if not contract_ids:
                raise Revert("EmptyContractIds")
            if expiry <= self.clock():
                raise Revert("ExpiredSession")
            if any(self.market_by_contract(c) is None for c in contract_ids):
                raise Revert("UnknownContract")
            old = account["session"]
            account["session"] = {"address": session_address, "expiry": expiry, "contract_ids": contract_ids}
            journal.record(lambda: account.__setitem__("session", old))
            return {"trade_account_id": account["id"], "contract_ids": contract_ids,
                    "session_id": {"Address": session_address}, "session_expiry": str(expiry)}

        return self._transact(account, body, verify, run)

    def post_actions(self, body: Any, headers: Mapping[str, str], **_: Any) -> dict:
        """``POST /v1/session/actions``: session-signed, atomic, orders collected on request."""
        account = self.account(body["trade_account_id"])
        self._owner_header(account, headers)
        session = account["session"]
        if session is None or session["address"] != b256_hex(body["session_id"]["Address"], "session_id"):
            raise api_error(4001, "Invalid session address")
        if session["expiry"] <= self.clock():
            raise api_error(4001, "Expired session")
        groups = body.get("actions") or []
        total = sum(len(g.get("actions") or []) for g in groups)
        if total == 0:
            raise api_error(7003, "No actions provided")
        if total > 5 or len(groups) > 5:
            raise api_error(7004, "Too many actions: at most 5 actions in at most 5 markets")
        markets = [self.market_by_id(g["market_id"]) for g in groups]
        for market in markets:
            if market["contract_id"] not in session["contract_ids"]:
                raise api_error(4001, f"Invalid session: market {market['market_id']} is not in its contract ids")
        try:
            calls = [encoding.action_to_call(a, m, self.registry["accounts_registry_id"])
                     for m, g in zip(markets, groups) for a in g["actions"]]
        except ValidationError as exc:
            raise api_error(3002, f"Invalid order params: {exc}") from None

        def verify(kind: str, value: int) -> None:
            data = (encoding.actions_signing_bytes(value, calls) if kind == "nonce"
                    else encoding.parallel_actions_signing_bytes(value, calls))
            check_session(body["signature"], data, session["address"])

        def run(journal: Journal) -> dict:
            created: List[dict] = []
            for market, group in zip(markets, groups):
                for action in group["actions"]:
                    order = self._apply_action(journal, account, market, action)
                    if order is not None:
                        created.append(order.to_json(market["base"]["decimals"]))
            return {"orders": created} if body.get("collect_orders") else {}

        return self._transact(account, body, verify, run)

    # --- actions and matching --------------------------------------------------------------

    def _apply_action(self, journal: Journal, account: dict, market: dict, action: Mapping[str, Any]) -> Optional[Order]:
        (kind, args), = action.items()
        if kind == "CreateOrder":
            from .matching import create_order

            return create_order(self, journal, account["id"], market, args)
        if kind == "CancelOrder":
            self._cancel(journal, account["id"], market, b256_hex(args["order_id"], "order_id"))
        elif kind == "SettleBalance":
            self._settle(journal, account["id"], market, args["to"])
        elif kind == "RegisterReferer":
            referer = args.get("referer", args.get("to"))
            old = account["referer"]
            account["referer"] = referer
            journal.record(lambda: account.__setitem__("referer", old))
        return None

    def _cancel(self, journal: Journal, account_id: str, market: dict, order_id: str) -> None:
        order = self.orders.get(order_id)
        if order is None or order.account != account_id or order.market_id != market["market_id"]:
            raise Revert("OrderNotFound")
        if order.close:
            raise Revert("OrderNotActive")
        self.books[market["market_id"]].remove(journal, order)
        self.release(journal, order, market)
        set_attr(journal, order, "cancel", True)

    def release(self, journal: Journal, order: Order, market: dict) -> None:
        """Close an order and return what it still has locked to its unlocked balance."""
        asset = market["quote"]["asset"] if order.side == "Buy" else market["base"]["asset"]
        book = market["contract_id"]
        self.ledger.move(journal, (order.account, ("locked", book, asset)), (order.account, ("unlocked", book, asset)),
                         order.locked)
        set_attr(journal, order, "locked", 0)
        set_attr(journal, order, "close", True)

    def _settle(self, journal: Journal, account_id: str, market: dict, to: Mapping[str, str]) -> None:
        (kind, address), = to.items()
        target = b256_hex(address, "to")
        for asset in (market["base"]["asset"], market["quote"]["asset"]):
            bucket = ("unlocked", market["contract_id"], asset)
            amount = self.ledger.get(account_id, bucket)
            if not amount:
                continue
            if kind == "ContractId" and target in self.accounts:
                self.ledger.move(journal, (account_id, bucket), (target, ("wallet", asset)), amount)
            else:
                self.ledger.add(journal, account_id, bucket, -amount)
                self._credit_wallet(journal, target, asset, amount)

    def _credit_wallet(self, journal: Optional[Journal], address: str, asset: str, amount: int) -> None:
        wallet = self.wallets.setdefault(address, {})
        old = wallet.get(asset, 0)
        wallet[asset] = old + amount
        if journal is not None:
            journal.record(lambda: wallet.__setitem__(asset, old))

    # --- owner operations -------------------------------------------------------------------

    def post_withdraw(self, body: Any, headers: Mapping[str, str], **_: Any) -> dict:
        """``POST /v1/accounts/withdraw``: debits the trade account's own balance."""
        account = self.account(body["trade_account_id"])
        self._owner_header(account, headers)
        to = encoding.identity_json(body["to"])
        asset, amount = b256_hex(body["asset_id"], "asset_id"), int(str(body["amount"]))

        def verify(kind: str, value: int) -> None:
            if kind == "nonce":
                check_owner_personal(body["signature"], encoding.withdraw_signing_bytes(
                    value, self.chain_id, to, asset, amount), account["owner"])
            else:
                check_owner_typed(body["signature"], parallel_withdraw_digest(
                    account["owner"], self.chain_id, account["id"], value, to, amount, asset), account["owner"])

        def run(journal: Journal) -> dict:
            (kind, address), = to.items()
            self.ledger.add(journal, account["id"], ("wallet", asset), -amount)
            if kind == "ContractId" and address in self.accounts:
                self.ledger.add(journal, address, ("wallet", asset), amount)
            else:
                self._credit_wallet(journal, address, asset, amount)
            return {}

        return self._transact(account, body, verify, run)

    def post_upgrade(self, body: Any, headers: Mapping[str, str], **_: Any) -> dict:
        """``POST /v1/accounts/upgrade``: always sequential; current accounts say so."""
        account = self.account(body["trade_account_id"])
        self._owner_header(account, headers)
        if account["version"] >= 2:
            raise api_error(1001, "No upgrade available")
        if "parallel_nonce" in body:
            raise api_error(1001, "upgrade takes a sequential nonce")

        def verify(kind: str, value: int) -> None:
            check_owner_personal(body["signature"], encoding.upgrade_signing_bytes(value, self.chain_id),
                                 account["owner"])

        def run(journal: Journal) -> dict:
            account["version"] = 2
            journal.record(lambda: account.__setitem__("version", 1))
            return {}

        return self._transact(account, body, verify, run)

    def post_owner_calls(self, body: Any, headers: Mapping[str, str], **_: Any) -> dict:
        """``POST /v1/accounts/call(s)`` (derived shape): signature and nonce are checked;
        the calls themselves are not executed by the sandbox."""
        account = self.account(body["trade_account_id"])
        self._owner_header(account, headers)
        single = "call" in body
        calls = encoding.calls_from_json([body["call"]] if single else body["calls"])

        def verify(kind: str, value: int) -> None:
            if kind == "nonce":
                check_owner_personal(body["signature"], encoding.owner_calls_signing_bytes(
                    value, self.chain_id, calls[0] if single else calls), account["owner"])
            else:
                check_owner_typed(body["signature"], parallel_owner_calls_digest(
                    account["owner"], self.chain_id, account["id"], value, calls), account["owner"])

        return self._transact(account, body, verify, lambda journal: {})

    # --- faucet and seeding -----------------------------------------------------------------

    def post_faucet(self, body: Any, **_: Any) -> dict:
        """``POST /faucet {"address"} | {"contract"}``: mint every asset, once per cooldown."""
        if not isinstance(body, Mapping) or len(body) != 1 or next(iter(body)) not in ("address", "contract"):
            raise ApiError(400, {"error": "body must be {\"address\": …} or {\"contract\": …}"})
        (kind, value), = body.items()
        target = b256_hex(value, kind)
        last = self.faucet_log.get(target)
        if last is not None and self.clock() - last < self.faucet_cooldown:
            wait = int(self.faucet_cooldown - (self.clock() - last)) + 1
            raise ApiError(429, {"error": f"Faucet cooldown: try again in {wait} seconds"})
        if kind == "contract" and target not in self.accounts:
            raise ApiError(400, {"error": f"unknown trade account {target}"})
        self.mint(target, kind == "contract")
        self.faucet_log[target] = self.clock()
        return {"message": f"Minted test assets to {target}"}

    def assets(self) -> Dict[str, Tuple[str, int]]:
        """``{symbol: (asset id, decimals)}`` of every market asset."""
        out: Dict[str, Tuple[str, int]] = {}
        for m in self.markets:
            for side in ("base", "quote"):
                out.setdefault(m[side]["symbol"], (m[side]["asset"], m[side]["decimals"]))
        return out

    def mint(self, target: str, to_account: bool) -> None:
        """Credit :data:`FAUCET_AMOUNTS` of every asset to an account or wallet."""
        for symbol, (asset, decimals) in self.assets().items():
            amount = FAUCET_AMOUNTS.get(symbol, 1_000) * 10**decimals
            if to_account:
                self.ledger.add(None, target, ("wallet", asset), amount)
            else:
                self._credit_wallet(None, target, asset, amount)

    def _seed(self) -> None:
        """A built-in maker rests five bids and five asks around a mid price in every market."""
        from .matching import create_order

        maker = self.create_account({"identity": {"Address": _id("maker")}})["trade_account_id"]
        for symbol, (asset, decimals) in self.assets().items():
            self.ledger.add(None, maker, ("wallet", asset), 10**9 * 10**decimals)
        mids = {"FUEL/USDC": (12_500, 100, 2_000 * 10**9), "ETH/USDC": (3_000_000_000, 1_000_000, 10**9)}
        for market in self.markets:
            pair = f"{market['base']['symbol']}/{market['quote']['symbol']}"
            mid, step, quantity = mids.get(pair, (10**market["quote"]["decimals"], 10**max(
                market["quote"]["decimals"] - market["quote"]["max_precision"], 0), 10**market["base"]["decimals"]))
            for i in range(1, 6):
                for side, price in (("Buy", mid - i * step), ("Sell", mid + i * step)):
                    create_order(self, None, maker, market, {"side": side, "price": str(price),
                                                             "quantity": str(quantity * i), "order_type": "Spot"})
