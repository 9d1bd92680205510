"""Sessions: create/update one (``PUT /v1/session``) and submit actions (``POST /v1/session/actions``).

A session is a short-lived key the owner authorises for a list of order-book contracts. The
owner signs the session once; every batch of actions is then signed by the session key:

- create/update (the proven path, used for *both* nonce kinds of actions): sequential nonce,
  owner personal-sign over :func:`~o2lite.encoding.session_signing_bytes` → ``{"Secp256k1": …}``.
  This is how both official SDKs open a "parallel" session too: the *registration* is
  sequential, the session's *actions* then use parallel nonces;
- create/update with a parallel nonce — **derived, opt-in only** (``parallel_registration=True``,
  with an :class:`~o2lite.errors.ExperimentalWarning`): owner signs
  :func:`~o2lite.typed_data.parallel_session_digest` → ``{"TypedSecp256k1": …}``; the
  ``ParallelSessionArgs`` type string is unpublished;
- actions: session key signs ``sha256`` of :func:`~o2lite.encoding.actions_signing_bytes`
  (sequential) or :func:`~o2lite.encoding.parallel_actions_signing_bytes` (parallel).

Every body is built from the canonical values that were signed (:mod:`o2lite.actions`).
Neither request is ever retried. The ``O2-Owner-Id`` header always carries the owner address.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from ._hex import b256_hex, to_int
from .actions import canonical_action, canonical_action_to_call
from .encoding import Call, Segment, actions_segments, join, session_segments
from .keccak import keccak256
from .errors import ExperimentalWarning, SessionInvalid, ValidationError
from .market import Market
from .markets import Markets
from .models import TxResult
from .nonce import NONCE_KINDS, Nonce, NonceLike, check_kind
from .signing import Signer, evm_personal_digest, fuel_personal_digest
from .transport import Submission, Transport
from .signed import SignedRequest
from .typed_data import DOMAIN_VERSION, TYPE_STRINGS, is_evm_owner, parallel_session_struct, typed_preimage

__all__ = ["Session", "TradeSession", "PreparedActions", "MAX_ACTIONS", "MAX_MARKET_GROUPS", "EXPIRY_MARGIN",
           "PARALLEL_ACTION_SIGNATURE", "NONCE_KINDS", "signature_json", "check_limits"]

MAX_ACTIONS = 5  # actions per request across all groups (PROTOCOL §4)
MAX_MARKET_GROUPS = 5  # market groups per request (PROTOCOL §4)
EXPIRY_MARGIN = 10  # seconds: a session this close to expiry is treated as expired (clock skew)

#: The signature label of session actions sent with a ``parallel_nonce``. The signed bytes are
#: the same either way (PROTOCOL §9); only the JSON key differs. ``"Secp256k1"`` is what the
#: official Python SDK 0.5.0 sends on spot (``client.py``, batch actions); the newest TypeScript
#: SDK labels the same bytes ``"TypedSecp256k1"`` on its margin endpoint. Conflicting evidence,
#: so it is one switch: ``Client(parallel_action_signature="TypedSecp256k1")``.
PARALLEL_ACTION_SIGNATURE = "Secp256k1"
_SIGNATURE_LABELS = ("Secp256k1", "TypedSecp256k1")


def signature_json(signature: bytes, typed: bool = False) -> Dict[str, str]:
    """``{"Secp256k1": "0x…"}`` or, for typed owner signatures, ``{"TypedSecp256k1": "0x…"}``."""
    return {"TypedSecp256k1" if typed else "Secp256k1": "0x" + bytes(signature).hex()}


def owner_personal(owner: Signer, message: bytes) -> Tuple[bytes, bytes, str]:
    """An owner's personal signature of ``message``: ``(signature, digest, recipe)``; the
    digest (Fuel or EVM framing by the owner's address kind) is computed for the record."""
    evm = is_evm_owner(owner.address)
    digest = evm_personal_digest(message) if evm else fuel_personal_digest(message)
    return bytes(owner.personal_sign(message)), digest, "evm-personal" if evm else "fuel-personal"


def submission_of(body: Mapping[str, Any], account_field: str = "trade_account_id") -> Submission:
    """Which nonce a signed body uses (for :class:`~o2lite.errors.SubmissionUnknown`)."""
    nonce = Nonce.from_body(body)
    account = body.get(account_field)
    kind = nonce.kind if nonce else ("parallel" if "parallel_nonce" in body else "sequential")
    return Submission(nonce.value if nonce else None, kind, account if isinstance(account, str) else None)


def check_limits(groups: Sequence[Mapping[str, Any]]) -> None:
    """Raise unless there are 1–5 actions in at most 5 market groups (PROTOCOL §4)."""
    if not isinstance(groups, (list, tuple)):
        raise ValidationError("actions must be a list of {market_id, actions} groups")
    for group in groups:
        if not isinstance(group, Mapping) or not isinstance(group.get("actions"), (list, tuple)) \
                or group.get("market_id") is None:
            raise ValidationError("each group must be {\"market_id\": …, \"actions\": [ … ]}")
    total = sum(len(g["actions"]) for g in groups)
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
        return str(self.signer.address)

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


class PreparedActions(NamedTuple):
    """Action groups in their canonical JSON (exactly what will be sent) and the calls they
    encode to (exactly what will be signed): one source of truth for both."""

    groups: List[Dict[str, Any]]
    calls: List[Call]


def warn_parallel_registration() -> None:
    """The warning every parallel session *registration* gives (its type string is derived)."""
    warnings.warn("registering a session with a parallel nonce signs ParallelSessionArgs with the unpublished "
                  f"type string {TYPE_STRINGS[('src16', 'ParallelSessionArgs')]!r} (derived, PROTOCOL §10); "
                  "the proven path registers with the sequential nonce", ExperimentalWarning, stacklevel=3)


class Session:
    """``PUT /v1/session`` and ``POST /v1/session/actions``.

    Args:
        transport, markets: shared with the other groups.
        domain_version: the typed-data domain version of the trade account contract.
        parallel_action_signature: see :data:`PARALLEL_ACTION_SIGNATURE`.
    """

    def __init__(self, transport: Transport, markets: Markets, *, domain_version: str = DOMAIN_VERSION,
                 parallel_action_signature: str = PARALLEL_ACTION_SIGNATURE) -> None:
        if parallel_action_signature not in _SIGNATURE_LABELS:
            raise ValidationError(f"parallel_action_signature must be one of {', '.join(_SIGNATURE_LABELS)}")
        self._t = transport
        self._markets = markets
        self.domain_version = domain_version
        self.parallel_action_signature = parallel_action_signature

    # --- building blocks ---------------------------------------------------------------------

    def session_body(self, owner: Signer, trade_account_id: str, session_address: str,
                     contract_ids: Sequence[str], expiry: int, *, nonce: NonceLike,
                     parallel_registration: bool = False) -> Dict[str, Any]:
        """The signed ``PUT /v1/session`` body (the body of :meth:`registration_request`)."""
        return dict(self.registration_request(owner, trade_account_id, session_address, contract_ids, expiry,
                                              nonce=nonce, parallel_registration=parallel_registration).body)

    def registration_request(self, owner: Signer, trade_account_id: str, session_address: str,
                             contract_ids: Sequence[str], expiry: int, *, nonce: NonceLike,
                             parallel_registration: bool = False) -> SignedRequest:
        """The signed ``PUT /v1/session`` as a :class:`~o2lite.signed.SignedRequest` (see the
        module doc for what is signed; nothing is sent until ``.send()``).

        ``nonce`` is the account's sequential nonce (a :class:`~o2lite.nonce.Nonce` or an int).
        A parallel one needs ``parallel_registration=True`` and warns: that path signs a derived
        type string. The proven way to run a parallel session is a sequential registration
        followed by parallel nonces on its actions.
        """
        nonce = Nonce.of(nonce)
        value = nonce.value
        if nonce.kind == "parallel":
            if not parallel_registration:
                raise ValidationError("registering a session with a parallel nonce is a derived, unproven flow: "
                                      "register with nonce= (the proven path) or pass parallel_registration=True")
            warn_parallel_registration()
        if isinstance(contract_ids, (str, bytes)) or not isinstance(contract_ids, Sequence):
            raise ValidationError("contract_ids must be a list of contract ids")
        ids = list(dict.fromkeys(b256_hex(c, "contract id") for c in contract_ids))
        if not ids:
            raise ValidationError("a session needs at least one contract id")
        expiry = to_int(expiry, "expiry", high=2**63 - 1)
        account = b256_hex(trade_account_id, "trade_account_id")
        session_address = b256_hex(session_address, "session address")
        chain_id = self._markets.info().chain_id
        struct: List[Segment] = []
        if nonce.kind == "sequential":
            segments = session_segments(value, chain_id, session_address, ids, expiry)
            raw, digest, recipe = owner_personal(owner, join(segments))
        else:
            struct = parallel_session_struct(owner.address, value, session_address, expiry, ids)
            segments = typed_preimage(owner.address, chain_id, account, struct, self.domain_version)
            digest = keccak256(join(segments))
            raw, recipe = owner.sign_digest(digest), "typed"
        body = {"contract_id": account, "session_id": {"Address": session_address},
                "signature": signature_json(raw, typed=recipe == "typed"), "contract_ids": ids, **nonce.json,
                "expiry": str(expiry)}
        owner_address = b256_hex(owner.address, "owner")
        return SignedRequest(
            title=f"session registration for {len(ids)} market contract(s), expiry {expiry}", method="PUT",
            path="/v1/session", headers={"O2-Owner-Id": owner_address}, body=body, segments=tuple(segments),
            recipe=recipe, digest=digest, signature=bytes(raw), signer=owner_address, nonce=nonce,
            struct=tuple(struct), sender=lambda request: self.update(owner_address, request.body))

    def prepare_actions(self, session: TradeSession, groups: Sequence[Mapping[str, Any]], *,
                        now: Optional[float] = None) -> PreparedActions:
        """Check, canonicalise and encode ``groups`` = ``[{market_id, actions}]`` without a nonce.

        Checks: 1–5 actions, ≤ 5 market groups, every market known (pair or id) and in the
        session's contract ids, the session not expired, every action canonical or
        canonicalisable (:func:`~o2lite.actions.canonical_action`). Returns the canonical
        groups (what is sent) and their calls (what is signed).
        """
        check_limits(groups)
        info = self._markets.info()
        markets = [self._markets.get(g["market_id"]) for g in groups]
        session.check_usable([m.contract_id for m in markets], now=now)
        canonical: List[Dict[str, Any]] = [
            {"market_id": m.market_id, "actions": [canonical_action(a) for a in g["actions"]]}
            for m, g in zip(markets, groups)]
        registry = info.accounts_registry_id or bytes(32)
        calls = [canonical_action_to_call(action, market, registry)
                 for market, group in zip(markets, canonical) for action in group["actions"]]
        return PreparedActions(canonical, calls)

    def signed_actions(self, session: TradeSession, prepared: PreparedActions, *, nonce: NonceLike,
                       collect_orders: bool = True) -> Dict[str, Any]:
        """The ``POST /v1/session/actions`` body (the body of :meth:`actions_request`)."""
        return dict(self.actions_request(session, prepared, nonce=nonce, collect_orders=collect_orders).body)

    def actions_request(self, session: TradeSession, prepared: PreparedActions, *, nonce: NonceLike,
                        collect_orders: bool = True) -> SignedRequest:
        """Prepared actions signed by the session key over ``sha256`` of the (parallel) actions
        signing bytes, as a :class:`~o2lite.signed.SignedRequest` (sent by ``.send()``).
        ``nonce``: a :class:`~o2lite.nonce.Nonce` (an int is a sequential nonce)."""
        nonce = Nonce.of(nonce)
        groups, calls = prepared
        segments = actions_segments(nonce.value, calls, parallel=nonce.kind == "parallel")
        label = "Secp256k1" if nonce.kind == "sequential" else self.parallel_action_signature
        digest = hashlib.sha256(join(segments)).digest()
        signature = bytes(session.signer.sign_digest(digest))  # = raw_sign(signing bytes)
        body = {"actions": groups, "signature": {label: "0x" + signature.hex()}, **nonce.json,
                "trade_account_id": session.trade_account_id, "session_id": {"Address": session.address},
                "collect_orders": bool(collect_orders)}
        what = ", ".join(next(iter(a)) for g in groups for a in g["actions"])
        return SignedRequest(
            title=f"session actions: {what}", method="POST", path="/v1/session/actions",
            headers={"O2-Owner-Id": session.owner}, body=body, segments=tuple(segments), recipe="sha256",
            digest=digest, signature=signature, signer=session.address, nonce=nonce,
            sender=lambda request: self.actions(session.owner, request.body, markets=self._markets.by_id()))

    def actions_body(self, session: TradeSession, groups: Sequence[Mapping[str, Any]], *, nonce: NonceLike,
                     collect_orders: bool = True, now: Optional[float] = None) -> Dict[str, Any]:
        """:meth:`prepare_actions` then :meth:`signed_actions`."""
        return self.signed_actions(session, self.prepare_actions(session, groups, now=now), nonce=nonce,
                                   collect_orders=collect_orders)

    # --- requests ----------------------------------------------------------------------------

    def update(self, owner: str, body: Mapping[str, Any]) -> TxResult:
        """``PUT /v1/session`` with a signed body (see :meth:`session_body`) → ``{tx_id, …}``.

        A new session replaces the account's previous one. Never retried; a lost answer is
        :class:`~o2lite.errors.SubmissionUnknown`.
        """
        if not isinstance(body, Mapping) or not body.get("contract_ids"):
            raise ValidationError("a session needs at least one contract id")
        where = "PUT /v1/session"
        return self._t.request("PUT", "/v1/session", json_body=dict(body),
                               headers={"O2-Owner-Id": b256_hex(owner, "owner")},
                               submission=submission_of(body, "contract_id"),
                               parse=lambda reply: TxResult.from_json(reply, where))

    def actions(self, owner: str, body: Mapping[str, Any], *,
                markets: Optional[Mapping[str, Market]] = None) -> TxResult:
        """``POST /v1/session/actions`` with a signed body (see :meth:`actions_body`) → ``{tx_id, orders?}``.

        ``markets`` (by market id, e.g. ``client.markets.by_id()``) is attached to the returned
        orders for their ``*_human`` accessors.

        Rejects locally: no actions, more than 5 actions or more than 5 market groups. Never
        retried; a lost answer is :class:`~o2lite.errors.SubmissionUnknown`.
        """
        if not isinstance(body, Mapping):
            raise ValidationError("body must be a signed actions object")
        check_limits(body.get("actions") or [])
        where = "POST /v1/session/actions"
        return self._t.request("POST", "/v1/session/actions", json_body=dict(body),
                               headers={"O2-Owner-Id": b256_hex(owner, "owner")}, submission=submission_of(body),
                               parse=lambda reply: TxResult.from_json(reply, where, markets))

    def create(self, owner: Signer, trade_account_id: str, session_signer: Any, contract_ids: Sequence[str],
               expiry: int, *, nonce: NonceLike, lane: int = 0, nonce_kind: Optional[str] = None,
               parallel_registration: bool = False) -> Tuple[TradeSession, TxResult]:
        """Sign and send a session for ``session_signer`` → the :class:`TradeSession` and the tx.

        A sequential ``nonce`` registers it the proven way; ``nonce_kind="parallel"`` then makes
        its actions use parallel nonces of ``lane`` (this is "parallel mode" as the official
        SDKs run it). A parallel ``nonce`` (with ``parallel_registration=True``) is the derived,
        warned path; ``nonce_kind`` then defaults to parallel.
        """
        nonce = Nonce.of(nonce)
        kind = check_kind(nonce_kind or nonce.kind)
        lane = to_int(lane, "lane", high=4)
        address = getattr(session_signer, "address", None)
        if not callable(getattr(session_signer, "sign_digest", None)) or not isinstance(address, str):
            raise ValidationError("session_signer must be a Wallet (a key with address and sign_digest)")
        body = self.session_body(owner, trade_account_id, address, contract_ids, expiry, nonce=nonce,
                                 parallel_registration=parallel_registration)
        result = self.update(owner.address, body)
        session = TradeSession(body["contract_id"], b256_hex(owner.address, "owner"), session_signer,
                               tuple(body["contract_ids"]), int(body["expiry"]), kind, lane)
        return session, result

    def submit(self, session: TradeSession, groups: Any, *, nonce: NonceLike, collect_orders: bool = True) -> TxResult:
        """Sign ``groups`` (raw, or :class:`PreparedActions`) with ``nonce`` and send them."""
        prepared = groups if isinstance(groups, PreparedActions) else self.prepare_actions(session, groups)
        body = self.signed_actions(session, prepared, nonce=nonce, collect_orders=collect_orders)
        return self.actions(session.owner, body, markets=self._markets.by_id())
