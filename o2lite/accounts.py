"""Trade accounts: create, look up, balances, the parallel-nonce window, and the owner's
signed operations — withdraw, upgrade, owner call(s) (PROTOCOL §5, §8, §10).

What the owner signs:

- withdraw, sequential: personal-sign over :func:`~o2lite.encoding.withdraw_signing_bytes`
  (``Secp256k1``); parallel: :func:`~o2lite.typed_data.parallel_withdraw_digest` signed as is
  (``TypedSecp256k1``, SRC-16 for Fuel owners, EIP-712 for EVM owners);
- upgrade: always sequential, personal-sign over :func:`~o2lite.encoding.upgrade_signing_bytes`;
- owner call(s) — **experimental**. Derived (unpublished): the request body shape and the
  sequential signing bytes (:func:`~o2lite.encoding.owner_calls_signing_bytes`). Verified: the
  parallel typed structs — :func:`~o2lite.typed_data.parallel_owner_calls_digest` reproduces
  the published ``ParallelMultiCallContractArgs``/``CallContractArg``/``CallParams`` type
  hashes. A parallel owner call of one call goes to ``/v1/accounts/calls`` as a list of one.

None of these requests is ever retried; a lost answer is :class:`~o2lite.errors.SubmissionUnknown`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ._hex import b256_hex, to_int
from .encoding import (Call, Segment, identity_json, join, owner_calls_segments, upgrade_segments,
                       withdraw_segments)
from .keccak import keccak256
from .errors import ExperimentalWarning, O2Error, ValidationError
from .markets import Markets
from .models import Account, Balance, CreatedAccount, TxResult
from .nonce import LANES, Nonce, NonceLike, NonceWindow
from .session import owner_personal, signature_json, submission_of
from .signed import SignedRequest
from .signing import Signer
from .transport import Transport
from .typed_data import DOMAIN_VERSION, parallel_owner_calls_struct, parallel_withdraw_struct, typed_preimage

__all__ = ["Accounts", "UpgradeResult", "upgrade_outcome"]


@dataclass(frozen=True)
class UpgradeResult:
    """``upgraded`` is false when the exchange said ``No upgrade available`` (already current).

    That answer is an on-chain revert: the sequential nonce **was** consumed either way.
    """

    upgraded: bool
    tx_id: Optional[str]
    message: str = ""


def _exactly_one(**choices: Optional[str]) -> Tuple[str, str]:
    given = [(k, v) for k, v in choices.items() if v is not None]
    if len(given) != 1:
        raise ValidationError(f"give exactly one of {', '.join(choices)}")
    name, value = given[0]
    return name, b256_hex(value, name)


class Accounts:
    """``/v1/accounts`` and ``/v1/balance``."""

    def __init__(self, transport: Transport, markets: Markets, *, domain_version: str = DOMAIN_VERSION) -> None:
        self._t = transport
        self._markets = markets
        self.domain_version = domain_version

    def create(self, owner: str) -> CreatedAccount:
        """``POST /v1/accounts {"identity": {"Address": owner}}`` → trade account id and nonce.

        Not retried (a POST); rate limited to 1/s per IP.
        """
        body = {"identity": {"Address": b256_hex(owner, "owner")}}
        return self._t.request("POST", "/v1/accounts", json_body=body, parse=CreatedAccount.from_json)

    def get(self, *, owner: Optional[str] = None, owner_contract: Optional[str] = None,
            trade_account_id: Optional[str] = None) -> Account:
        """``GET /v1/accounts?owner | owner_contract | trade_account_id`` (exactly one).

        Returns an :class:`Account` whose ``exists`` is false when nothing was found.
        """
        name, value = _exactly_one(owner=owner, owner_contract=owner_contract, trade_account_id=trade_account_id)
        return self._t.request("GET", "/v1/accounts", params={name: value}, parse=Account.from_json)

    def balance(self, asset_id: str, *, contract: Optional[str] = None, address: Optional[str] = None) -> Balance:
        """``GET /v1/balance?asset_id&contract|address`` (exactly one of contract/address).

        When the asset is one of the markets', the balance knows it: ``total_human`` etc."""
        name, value = _exactly_one(contract=contract, address=address)
        asset = b256_hex(asset_id, "asset_id")
        balance: Balance = self._t.request("GET", "/v1/balance", params={"asset_id": asset, name: value},
                                           parse=Balance.from_json)
        known = next((a for m in self._markets.list() for a in (m.base, m.quote) if a.asset == asset), None)
        return replace(balance, asset=known) if known else balance

    def nonce_window(self, trade_account_id: str, nonce_session_id: int = 0) -> NonceWindow:
        """``GET /v1/accounts/window?trade_account_id&nonce_session_id`` → the lane's window."""
        lane = to_int(nonce_session_id, "nonce_session_id", high=LANES - 1)
        return self._t.request("GET", "/v1/accounts/window", params={
            "trade_account_id": b256_hex(trade_account_id, "trade_account_id"), "nonce_session_id": str(lane)},
            parse=lambda body: _window(body, lane))

    # --- signed owner operations ------------------------------------------------------------

    def _owner_post(self, path: str, owner: Signer, body: Dict[str, Any]) -> TxResult:
        where = f"POST {path}"
        return self._t.request("POST", path, json_body=body, headers={"O2-Owner-Id": b256_hex(owner.address, "owner")},
                               submission=submission_of(body), parse=lambda reply: TxResult.from_json(reply, where))

    def _request(self, title: str, path: str, owner: Signer, body: Dict[str, Any], segments: List[Segment],
                 recipe: str, digest: bytes, signature: bytes, nonce: Nonce,
                 struct: Sequence[Segment] = ()) -> SignedRequest:
        owner_address = b256_hex(owner.address, "owner")
        return SignedRequest(title=title, method="POST", path=path, headers={"O2-Owner-Id": owner_address},
                             body=body, segments=tuple(segments), recipe=recipe, digest=digest, signature=signature,
                             signer=owner_address, nonce=nonce, struct=tuple(struct),
                             sender=lambda request: self._owner_post(path, owner, dict(request.body)))

    def _sign(self, owner: Signer, nonce: Nonce, account: str, personal: Callable[[], List[Segment]],
              struct: Callable[[], List[Segment]]) -> Tuple[List[Segment], List[Segment], bytes, bytes, str]:
        """Sequential: personal-sign ``personal()``. Parallel: sign the typed digest of ``struct()``."""
        if nonce.kind == "sequential":
            segments = personal()
            raw, digest, recipe = owner_personal(owner, join(segments))
            return segments, [], raw, digest, recipe
        words = struct()
        preimage = typed_preimage(owner.address, self._markets.info().chain_id, account, words, self.domain_version)
        digest = keccak256(join(preimage))
        return preimage, words, bytes(owner.sign_digest(digest)), digest, "typed"

    def withdraw_body(self, owner: Signer, trade_account_id: str, asset_id: str, amount: int,
                      to: Optional[Mapping[str, str]] = None, *, nonce: NonceLike) -> Dict[str, Any]:
        """The signed withdraw body (the body of :meth:`withdraw_request`)."""
        return dict(self.withdraw_request(owner, trade_account_id, asset_id, amount, to, nonce=nonce).body)

    def withdraw_request(self, owner: Signer, trade_account_id: str, asset_id: str, amount: int,
                         to: Optional[Mapping[str, str]] = None, *, nonce: NonceLike,
                         amount_text: str = "") -> SignedRequest:
        """A signed withdrawal as a :class:`~o2lite.signed.SignedRequest`; ``to`` defaults to the
        owner; ``nonce`` a :class:`~o2lite.nonce.Nonce` (an int is a sequential nonce)."""
        nonce = Nonce.of(nonce)
        value = nonce.value
        account = b256_hex(trade_account_id, "trade_account_id")
        asset = b256_hex(asset_id, "asset_id")
        amount = to_int(amount, "amount", low=1)
        to = identity_json(to if to is not None else {"Address": owner.address})
        chain_id = self._markets.info().chain_id
        segments, struct, raw, digest, recipe = self._sign(
            owner, nonce, account, lambda: withdraw_segments(value, chain_id, to, asset, amount, amount_text=amount_text),
            lambda: parallel_withdraw_struct(owner.address, value, to, amount, asset))
        body = {"trade_account_id": account, "signature": signature_json(raw, typed=recipe == "typed"),
                **nonce.json, "to": to, "asset_id": asset, "amount": str(amount)}
        return self._request(f"withdraw {amount_text or amount} to {next(iter(to.values()))}",
                             "/v1/accounts/withdraw", owner, body, segments, recipe, digest, raw, nonce, struct)

    def withdraw(self, owner: Signer, trade_account_id: str, asset_id: str, amount: int,
                 to: Optional[Mapping[str, str]] = None, *, nonce: NonceLike) -> TxResult:
        """``POST /v1/accounts/withdraw`` (header ``O2-Owner-Id``) → ``{tx_id}``.

        ``amount`` is a chain integer of ``asset_id``; ``to`` an Identity (default: the owner);
        ``nonce`` a :class:`~o2lite.nonce.Nonce` (sequential or parallel; an int is sequential).
        """
        result: TxResult = self.withdraw_request(owner, trade_account_id, asset_id, amount, to, nonce=nonce).send()
        return result

    def upgrade_request(self, owner: Signer, trade_account_id: str, nonce: NonceLike) -> SignedRequest:
        """The signed upgrade (always sequential, plain ``Secp256k1``) as a SignedRequest."""
        nonce = Nonce.of(nonce)
        if nonce.kind != "sequential":
            raise ValidationError("an upgrade is signed with the sequential nonce")
        account = b256_hex(trade_account_id, "trade_account_id")
        segments = upgrade_segments(nonce.value, self._markets.info().chain_id)
        raw, digest, recipe = owner_personal(owner, join(segments))
        body = {"trade_account_id": account, **nonce.json, "signature": signature_json(raw)}
        return self._request("upgrade the trade account's contract", "/v1/accounts/upgrade", owner, body, segments,
                             recipe, digest, raw, nonce)

    def upgrade(self, owner: Signer, trade_account_id: str, nonce: NonceLike) -> UpgradeResult:
        """``POST /v1/accounts/upgrade`` (always sequential, plain ``Secp256k1``).

        An account that is already current reverts on chain with ``No upgrade available``
        (consuming the nonce, like every revert); that is reported as ``upgraded=False``.
        """
        return upgrade_outcome(self.upgrade_request(owner, trade_account_id, nonce))

    def owner_calls_request(self, owner: Signer, trade_account_id: str, calls: Union[Call, Sequence[Call]], *,
                            nonce: NonceLike) -> SignedRequest:
        """Signed owner call(s) as a SignedRequest — **experimental** (see :meth:`owner_calls`)."""
        nonce = Nonce.of(nonce)
        value = nonce.value
        account = b256_hex(trade_account_id, "trade_account_id")
        if not isinstance(calls, Call) and (isinstance(calls, (str, bytes)) or not isinstance(calls, Sequence)):
            raise ValidationError("calls must be a Call or a list of Call")
        call_list: List[Call] = [calls] if isinstance(calls, Call) else list(calls)
        if not call_list or not all(isinstance(c, Call) for c in call_list):
            raise ValidationError("owner calls need at least one Call")
        warnings.warn("owner calls are experimental: their request body and sequential signing bytes are derived, "
                      "not published (PROTOCOL §8)", ExperimentalWarning, stacklevel=3)
        # parallel: always the multi-call struct, whose type hashes are published
        single = isinstance(calls, Call) and nonce.kind == "sequential"
        chain_id = self._markets.info().chain_id
        segments, struct, raw, digest, recipe = self._sign(
            owner, nonce, account, lambda: owner_calls_segments(value, chain_id, call_list[0] if single else call_list),
            lambda: parallel_owner_calls_struct(owner.address, value, call_list))
        body: Dict[str, Any] = {"trade_account_id": account, "signature": signature_json(raw, typed=recipe == "typed"),
                                **nonce.json}
        if single:
            body["call"] = call_list[0].to_owner_call_json()
        else:
            body["calls"] = [c.to_owner_call_json() for c in call_list]
        return self._request(f"owner call(s): {len(call_list)} (experimental)",
                             "/v1/accounts/call" if single else "/v1/accounts/calls", owner, body, segments, recipe,
                             digest, raw, nonce, struct)

    def owner_calls(self, owner: Signer, trade_account_id: str, calls: Union[Call, Sequence[Call]], *,
                    nonce: NonceLike) -> TxResult:
        """``POST /v1/accounts/call`` (one :class:`Call`, sequential) or ``/calls`` — **experimental**.

        Derived: the body ``{trade_account_id, signature, nonce | parallel_nonce, call | calls}``
        and the sequential signing bytes. Verified: the parallel typed structs (their type hashes
        equal the published constants). With a parallel ``nonce`` a single call is sent to
        ``/calls`` as a list of one: the single-call struct's type string is unpublished. Warns
        with :class:`~o2lite.errors.ExperimentalWarning`.
        """
        result: TxResult = self.owner_calls_request(owner, trade_account_id, calls, nonce=nonce).send()
        return result


def upgrade_outcome(request: SignedRequest) -> UpgradeResult:
    """Send an upgrade; ``No upgrade available`` (a revert: the nonce is spent) is ``upgraded=False``."""
    try:
        result = request.send()
    except O2Error as exc:
        if "no upgrade available" in f"{exc.message} {exc.reason or ''}".lower():
            return UpgradeResult(False, None, exc.message)
        raise
    return UpgradeResult(True, result.tx_id)


def _window(body: Any, lane: int) -> NonceWindow:
    window = NonceWindow.from_json(body)
    if window.nonce_session_id != lane:
        raise O2Error(f"GET /v1/accounts/window: asked for lane {lane}, got lane {window.nonce_session_id}")
    return window
