"""The sandbox's owner operations and faucet: withdraw, upgrade, owner call(s), mint.

Like the session routes, each verifies its signature outside the exchange lock and applies the
transaction under it (see :mod:`o2lite.sandbox.exchange`). Decided here where the protocol is
silent: owner calls are verified (signature, nonce) but not executed; the faucet mints
:data:`~o2lite.sandbox.config.FAUCET_AMOUNTS` of every asset once per cooldown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict

from .. import encoding
from .._parse import digits
from ..errors import ValidationError
from ..market import format_units
from ..typed_data import parallel_owner_calls_digest, parallel_withdraw_digest
from .book import Journal, Revert
from .config import FAUCET_AMOUNTS
from .core import ExchangeCore, Routes
from .errors import ApiError, api_error
from .fields import need, parse_fail, strict_id
from .nonces import parse_nonce
from ..error_codes import ErrorCode


__all__ = ["owner_routes", "mint"]


def _amount(text: Any) -> int:
    amount = digits(text, 20)
    if amount is None or amount >= 2**64:
        raise parse_fail("amount must be a base-10 u64 string")
    return amount


def owner_routes(ex: ExchangeCore) -> Routes:
    """The owner-operation and faucet routes of ``ex`` (each takes the lock itself)."""

    def withdraw(body: Any, headers: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        """``POST /v1/accounts/withdraw``: debits the trade account's own balance."""
        body = need(body, "trade_account_id", "signature", "to", "asset_id", "amount")
        account_id = strict_id(body["trade_account_id"], "trade_account_id")
        owner = ex.claimed_owner(headers)
        try:
            to = encoding.identity_json(body["to"])
        except ValidationError as exc:
            raise parse_fail(str(exc)) from None
        if to != body["to"]:
            raise parse_fail("to must be an Identity with a lower-case 0x id")
        asset, amount = strict_id(body["asset_id"], "asset_id"), _amount(body["amount"])
        kind, value = parse_nonce(body)
        if kind == "nonce":
            message = encoding.withdraw_signing_bytes(value, ex.chain_id, to, asset, amount)
            bad = ex.verified(lambda: ex.verifier.owner_personal(body["signature"], message, owner))
        else:
            digest = parallel_withdraw_digest(owner, ex.chain_id, account_id, value, to, amount, asset,
                                              version=ex.domain_version)
            bad = ex.verified(lambda: ex.verifier.owner_typed(body["signature"], digest, owner))

        def run(journal: Journal) -> Dict[str, Any]:
            (target_kind, address), = to.items()
            held = ex.ledger.get(account_id, ("wallet", asset))
            if held < amount:
                decimals = next((d for a, d in ex.assets().values() if a == asset), 0)
                raise Revert(f"NotEnoughBalance: {format_units(held, decimals)} available, "
                             f"{format_units(amount, decimals)} asked")
            ex.ledger.add(journal, account_id, ("wallet", asset), -amount)
            if target_kind == "ContractId" and address in ex.accounts:
                ex.ledger.add(journal, address, ("wallet", asset), amount)
            else:
                ex.credit_wallet(journal, address, asset, amount)
            return {}

        with ex.lock:
            account = ex.account(account_id)
            ex.owner_header(account, headers)
            others = (to["ContractId"],) if "ContractId" in to else ()
            return ex.transact(account, kind, value, bad, run, others=others)

    def upgrade(body: Any, headers: Mapping[str, str], **_: Any) -> Dict[str, Any]:
        """``POST /v1/accounts/upgrade``: always sequential. An account already current reverts
        on chain (``No upgrade available``) and, like every revert, consumes the nonce."""
        body = need(body, "trade_account_id", "signature", "nonce")
        if "parallel_nonce" in body:
            raise api_error(ErrorCode.INVALID_REQUEST, "upgrade takes a sequential nonce")
        account_id = strict_id(body["trade_account_id"], "trade_account_id")
        owner = ex.claimed_owner(headers)
        kind, value = parse_nonce(body)
        message = encoding.upgrade_signing_bytes(value, ex.chain_id)
        bad = ex.verified(lambda: ex.verifier.owner_personal(body["signature"], message, owner))

        def run(journal: Journal) -> Dict[str, Any]:
            if account["version"] >= 2:
                raise Revert("No upgrade available")
            account["version"] = 2
            journal.record(lambda: account.__setitem__("version", 1))
            return {}

        with ex.lock:
            account = ex.account(account_id)
            ex.owner_header(account, headers)
            return ex.transact(account, kind, value, bad, run)

    def owner_calls(body: Any, headers: Mapping[str, str], path: str) -> Dict[str, Any]:
        """``POST /v1/accounts/call`` (``call``) and ``/calls`` (``calls``), derived shapes:
        signature and nonce are checked; the calls are not executed."""
        single = path.endswith("/call")
        body = need(body, "trade_account_id", "signature", "call" if single else "calls")
        account_id = strict_id(body["trade_account_id"], "trade_account_id")
        owner = ex.claimed_owner(headers)
        try:
            calls = encoding.calls_from_json([body["call"]] if single else body["calls"])
        except ValidationError as exc:
            raise parse_fail(str(exc)) from None
        kind, value = parse_nonce(body)
        if kind == "nonce":
            message = encoding.owner_calls_signing_bytes(value, ex.chain_id, calls[0] if single else calls)
            bad = ex.verified(lambda: ex.verifier.owner_personal(body["signature"], message, owner))
        elif single:
            raise api_error(ErrorCode.INVALID_REQUEST, "a parallel owner call goes to /v1/accounts/calls (its single-call struct is "
                                  "unpublished)")
        else:
            digest = parallel_owner_calls_digest(owner, ex.chain_id, account_id, value, calls,
                                                 version=ex.domain_version)
            bad = ex.verified(lambda: ex.verifier.owner_typed(body["signature"], digest, owner))
        with ex.lock:
            account = ex.account(account_id)
            ex.owner_header(account, headers)
            return ex.transact(account, kind, value, bad, lambda journal: {})

    def faucet(body: Any, **_: Any) -> Dict[str, Any]:
        """``POST /faucet {"address"} | {"contract"}``: mint every asset, once per cooldown.

        Errors carry both ``error`` (the faucet's own field) and ``message`` (what most clients read).
        """
        def refuse(status: int, text: str) -> ApiError:
            return ApiError(status, {"error": text, "message": text})

        if not isinstance(body, Mapping) or len(body) != 1 or next(iter(body)) not in ("address", "contract"):
            raise refuse(400, 'body must be {"address": "0x…"} or {"contract": "0x…"}')
        (kind, value), = body.items()
        try:
            target = strict_id(value, kind)
        except ApiError:
            raise refuse(400, f"{kind} must be 0x + 64 hex digits") from None
        with ex.lock:
            last = ex.faucet_log.get(target)
            if last is not None and ex.clock() - last < ex.faucet_cooldown:
                wait = int(ex.faucet_cooldown - (ex.clock() - last)) + 1
                raise refuse(429, f"Faucet cooldown: try again in {wait} seconds")
            if kind == "contract" and target not in ex.accounts:
                raise refuse(400, f"unknown trade account {target}")
            watch = ex.hub.watch(ex, (target,), ())
            mint(ex, target, kind == "contract")
            ex.faucet_log[target] = ex.clock()
            if watch:
                watch.publish()
        return {"message": f"Minted test assets to {target}"}

    return {
        ("POST", "/v1/accounts/withdraw"): withdraw,
        ("POST", "/v1/accounts/upgrade"): upgrade,
        ("POST", "/v1/accounts/call"): lambda **kw: owner_calls(kw["body"], kw["headers"], "/call"),
        ("POST", "/v1/accounts/calls"): lambda **kw: owner_calls(kw["body"], kw["headers"], "/calls"),
        ("POST", "/faucet"): faucet,
    }


def mint(ex: ExchangeCore, target: str, to_account: bool) -> None:
    """Credit :data:`FAUCET_AMOUNTS` of every asset to an account or a wallet (under the lock)."""
    for symbol, (asset, decimals) in ex.assets().items():
        amount = FAUCET_AMOUNTS.get(symbol, 1_000) * 10**decimals
        if to_account:
            ex.ledger.add(None, target, ("wallet", asset), amount)
        else:
            ex.credit_wallet(None, target, asset, amount)
