"""Sessions: create/update one (``PUT /v1/session``) and submit actions (``POST /v1/session/actions``).

A session is a short-lived key the owner authorises for a list of order-book contracts. The
owner signs the session once; every batch of actions is then signed by the session key:

- create/update, sequential nonce: owner personal-sign over
  :func:`~o2lite.encoding.session_signing_bytes` → ``{"Secp256k1": …}``;
- create/update, parallel nonce: owner signs :func:`~o2lite.typed_data.parallel_session_digest`
  → ``{"TypedSecp256k1": …}`` — **experimental**: that digest is derived, not published;
- actions: session key signs ``sha256`` of :func:`~o2lite.encoding.actions_signing_bytes`
  (sequential) or :func:`~o2lite.encoding.parallel_actions_signing_bytes` (parallel).

Neither request is ever retried. The ``O2-Owner-Id`` header always carries the owner address.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ._hex import b256_hex, to_int
from .encoding import Call, action_to_call, actions_signing_bytes, parallel_actions_signing_bytes, session_signing_bytes
from .errors import SessionInvalid, ValidationError
from .markets import Markets
from .models import TxResult
from .signing import Signer
from .transport import Transport
from .typed_data import parallel_session_digest

__all__ = ["Session", "TradeSession", "MAX_ACTIONS", "MAX_MARKET_GROUPS", "EXPIRY_MARGIN",
           "signature_json", "check_limits", "nonce_field"]

MAX_ACTIONS = 5  # actions per request across all groups (PROTOCOL §4)
MAX_MARKET_GROUPS = 5  # market groups per request (PROTOCOL §4)
EXPIRY_MARGIN = 10  # seconds: a session this close to expiry is treated as expired (clock skew)


def signature_json(signature: bytes, typed: bool = False) -> Dict[str, str]:
    """``{"Secp256k1": "0x…"}`` or, for typed owner signatures, ``{"TypedSecp256k1": "0x…"}``."""
    return {"TypedSecp256k1" if typed else "Secp256k1": "0x" + bytes(signature).hex()}


def nonce_field(nonce: Optional[int], parallel_nonce: Optional[int]) -> Tuple[str, int]:
    """``("nonce", n)`` or ``("parallel_nonce", n)``: exactly one of the two must be given."""
    if (nonce is None) == (parallel_nonce is None):
        raise ValidationError("give exactly one of nonce (sequential) or parallel_nonce")
    if nonce is not None:
        return "nonce", to_int(nonce, "nonce")
    return "parallel_nonce", to_int(parallel_nonce, "parallel_nonce", high=2**256 - 1)


def check_limits(groups: Sequence[Mapping[str, Any]]) -> None:
    """Raise unless there are 1–5 actions in at most 5 market groups (PROTOCOL §4)."""
    total = sum(len(g.get("actions") or []) for g in groups)
    if total == 0:
        raise ValidationError("no actions to send")
    if total > MAX_ACTIONS:
        raise ValidationError(f"at most {MAX_ACTIONS} actions per request, got {total}")
    if len(groups) > MAX_MARKET_GROUPS:
        raise ValidationError(f"at most {MAX_MARKET_GROUPS} market groups per request, got {len(groups)}")


@dataclass(frozen=True)
class TradeSession:
    """An open session: which account, which key, which contracts, until when.

    ``signer`` is the session key (a :class:`~o2lite.signing.Wallet`); its ``repr`` shows
    only the address.
    """

    trade_account_id: str
    owner: str
    signer: Any = field(repr=False)
    contract_ids: Tuple[str, ...]
    expiry: int
    nonce_kind: str = "sequential"
    lane: int = 0

    @property
    def address(self) -> str:
        """The session key's address (the ``session_id``)."""
        return self.signer.address

    def check_usable(self, contract_ids: Sequence[str] = (), *, now: Optional[float] = None) -> None:
        """Raise before sending: expired (within :data:`EXPIRY_MARGIN`) or a foreign contract."""
        now = time.time() if now is None else now
        if self.expiry - EXPIRY_MARGIN <= now:
            raise SessionInvalid("Expired session (checked locally): open a new session")
        allowed = set(self.contract_ids)
        for contract_id in contract_ids:
            if contract_id not in allowed:
                raise ValidationError(f"market contract {contract_id} is not in this session's contract ids: "
                                      "open a session that includes it")

    def __repr__(self) -> str:
        return (f"TradeSession(trade_account_id={self.trade_account_id!r}, session={self.address!r}, "
                f"contracts={len(self.contract_ids)}, expiry={self.expiry}, nonce_kind={self.nonce_kind!r})")


class Session:
    """``PUT /v1/session`` and ``POST /v1/session/actions``."""

    def __init__(self, transport: Transport, markets: Markets) -> None:
        self._t = transport
        self._markets = markets

    # --- building blocks ---------------------------------------------------------------------

    def session_body(self, owner: Signer, trade_account_id: str, session_address: str,
                     contract_ids: Sequence[str], expiry: int, *, nonce: Optional[int] = None,
                     parallel_nonce: Optional[int] = None) -> Dict[str, Any]:
        """The signed ``PUT /v1/session`` body (see the module doc for what is signed)."""
        kind, value = nonce_field(nonce, parallel_nonce)
        ids = [b256_hex(c, "contract id") for c in contract_ids]
        if not ids:
            raise ValidationError("a session needs at least one contract id")
        expiry = to_int(expiry, "expiry")
        account = b256_hex(trade_account_id, "trade_account_id")
        session_address = b256_hex(session_address, "session address")
        chain_id = self._markets.info().chain_id
        if kind == "nonce":
            signature = signature_json(owner.personal_sign(
                session_signing_bytes(value, chain_id, session_address, ids, expiry)))
        else:
            signature = signature_json(owner.sign_digest(parallel_session_digest(
                owner.address, chain_id, account, value, session_address, expiry, ids)), typed=True)
        return {"contract_id": account, "session_id": {"Address": session_address}, "signature": signature,
                "contract_ids": ids, kind: str(value), "expiry": str(expiry)}

    def prepare_actions(self, session: TradeSession, groups: Sequence[Mapping[str, Any]], *,
                        now: Optional[float] = None) -> Tuple[List[Dict[str, Any]], List[Call]]:
        """Check and encode ``groups`` = ``[{market_id, actions}]`` without a nonce.

        Checks: 1–5 actions, ≤ 5 market groups, every market known and in the session's
        contract ids, the session not expired, every action encodable. Returns the normalised
        groups and their calls.
        """
        check_limits(groups)
        info = self._markets.info()
        markets = [self._markets.get(g["market_id"]) for g in groups]
        session.check_usable([m.contract_id for m in markets], now=now)
        calls = [action_to_call(action, market, info.accounts_registry_id or bytes(32))
                 for market, group in zip(markets, groups) for action in group["actions"]]
        normalised = [{"market_id": m.market_id, "actions": list(g["actions"])} for m, g in zip(markets, groups)]
        return normalised, calls

    def signed_actions(self, session: TradeSession, prepared: Tuple[List[Dict[str, Any]], List[Call]], *,
                       nonce: Optional[int] = None, parallel_nonce: Optional[int] = None,
                       collect_orders: bool = True) -> Dict[str, Any]:
        """The ``POST /v1/session/actions`` body for prepared actions, signed by the session key
        over ``sha256`` of the (parallel) actions signing bytes."""
        kind, value = nonce_field(nonce, parallel_nonce)
        groups, calls = prepared
        data = (actions_signing_bytes(value, calls) if kind == "nonce"
                else parallel_actions_signing_bytes(value, calls))
        signature = session.signer.sign_digest(hashlib.sha256(data).digest())  # = raw_sign(data)
        return {"actions": groups, "signature": signature_json(signature), kind: str(value),
                "trade_account_id": session.trade_account_id, "session_id": {"Address": session.address},
                "collect_orders": bool(collect_orders)}

    def actions_body(self, session: TradeSession, groups: Sequence[Mapping[str, Any]], *,
                     nonce: Optional[int] = None, parallel_nonce: Optional[int] = None,
                     collect_orders: bool = True, now: Optional[float] = None) -> Dict[str, Any]:
        """:meth:`prepare_actions` then :meth:`signed_actions`."""
        return self.signed_actions(session, self.prepare_actions(session, groups, now=now), nonce=nonce,
                                   parallel_nonce=parallel_nonce, collect_orders=collect_orders)

    # --- requests ----------------------------------------------------------------------------

    def update(self, owner: str, body: Mapping[str, Any]) -> TxResult:
        """``PUT /v1/session`` with a signed body (see :meth:`session_body`) → ``{tx_id, …}``.

        A new session replaces the account's previous one. Never retried.
        """
        if not body.get("contract_ids"):
            raise ValidationError("a session needs at least one contract id")
        reply = self._t.request("PUT", "/v1/session", json_body=dict(body),
                                headers={"O2-Owner-Id": b256_hex(owner, "owner")})
        return TxResult.from_json(reply, "PUT /v1/session")

    def actions(self, owner: str, body: Mapping[str, Any]) -> TxResult:
        """``POST /v1/session/actions`` with a signed body (see :meth:`actions_body`) → ``{tx_id, orders?}``.

        Rejects locally: no actions, more than 5 actions or more than 5 market groups. Never retried.
        """
        groups = body.get("actions") or []
        check_limits(groups)
        reply = self._t.request("POST", "/v1/session/actions", json_body=dict(body),
                                headers={"O2-Owner-Id": b256_hex(owner, "owner")})
        return TxResult.from_json(reply, "POST /v1/session/actions")

    def create(self, owner: Signer, trade_account_id: str, session_signer: Any, contract_ids: Sequence[str],
               expiry: int, *, nonce: Optional[int] = None, parallel_nonce: Optional[int] = None,
               lane: int = 0) -> Tuple[TradeSession, TxResult]:
        """Sign and send a session for ``session_signer`` → the :class:`TradeSession` and the tx."""
        body = self.session_body(owner, trade_account_id, session_signer.address, contract_ids, expiry,
                                 nonce=nonce, parallel_nonce=parallel_nonce)
        result = self.update(owner.address, body)
        session = TradeSession(body["contract_id"], b256_hex(owner.address, "owner"), session_signer,
                               tuple(body["contract_ids"]), int(body["expiry"]),
                               "sequential" if nonce is not None else "parallel", lane)
        return session, result

    def submit(self, session: TradeSession, groups: Any, *, nonce: Optional[int] = None,
               parallel_nonce: Optional[int] = None, collect_orders: bool = True) -> TxResult:
        """Sign ``groups`` (raw, or the result of :meth:`prepare_actions`) and send them."""
        prepared = groups if isinstance(groups, tuple) else self.prepare_actions(session, groups)
        body = self.signed_actions(session, prepared, nonce=nonce, parallel_nonce=parallel_nonce,
                                   collect_orders=collect_orders)
        return self.actions(session.owner, body)
