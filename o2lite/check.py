"""The body checker: after an ``InvalidSignature (4000)``, find the wrong field in one call.

``check_body(body, owner=…, client=…)`` takes a request body alone — made by o2lite or by any
other client — and does what the exchange does with it: reads every field strictly (each field
that is malformed or not in its canonical spelling is named), rebuilds the signing bytes with the
same encoders o2lite signs with, makes the digest, recovers the signer from the signature and
compares it with who should have signed (the owner, or the session key the body names). The
report's ``explain()`` shows the rebuilt bytes field by field.

Market data (contract ids, assets, decimals, the chain id) comes from ``client`` (its
``/v1/markets``); pass ``chain_id=`` to check owner operations without one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Tuple

from ._hex import b256_hex
from ._json import check_depth
from ._parse import digits
from .actions import canonical_action, canonical_action_to_call, sent_as_canonical
from .encoding import (Segment, actions_segments, calls_from_json, identity_json, join, owner_calls_segments,
                       session_segments, upgrade_segments, withdraw_segments)
from .errors import ValidationError
from .keccak import keccak256
from .nonce import Nonce
from .signed import SignedRequest
from .signing import evm_b256_address, evm_personal_digest, fuel_address, fuel_personal_digest, recover_public_key
from .typed_data import (is_evm_owner, parallel_owner_calls_struct, parallel_session_struct, parallel_withdraw_struct,
                         typed_preimage)

__all__ = ["CheckReport", "check_body"]


@dataclass
class CheckReport:
    """What :func:`check_body` found: ``ok`` when every field is canonical and the signature
    recovers to ``expected``; ``problems`` names each thing that is wrong."""

    kind: str
    problems: List[str] = field(default_factory=list)
    signer: Optional[str] = None
    expected: Optional[str] = None
    request: Optional[SignedRequest] = None

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def explain(self) -> str:
        """The verdict, then the rebuilt signing bytes field by field (when they could be built)."""
        lines = [f"{self.kind}: {'OK — the signature is by the expected signer' if self.ok else 'PROBLEMS'}"]
        lines += [f"  - {p}" for p in self.problems]
        lines += [f"  recovered signer: {self.signer or '-'}", f"  expected signer:  {self.expected or '-'}"]
        if self.request is not None:
            lines += ["", self.request.explain()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()


def _kind(body: Mapping[str, Any]) -> str:
    if "actions" in body:
        return "session actions"
    if "session_id" in body and "contract_ids" in body:
        return "session registration"
    if "call" in body or "calls" in body:
        return "owner call(s)"
    if "asset_id" in body and "amount" in body:
        return "withdraw"
    return "upgrade"


def _nonce(body: Mapping[str, Any], report: CheckReport) -> Tuple[str, int]:
    kinds = [k for k in ("nonce", "parallel_nonce") if k in body]
    if len(kinds) != 1:
        report.problems.append("give exactly one of nonce or parallel_nonce")
        return "nonce", 0
    text = body[kinds[0]]
    value = digits(text)
    if value is None or str(value) != text:
        report.problems.append(f"{kinds[0]} must be a base-10 integer string, got {json.dumps(text)[:40]}")
        return kinds[0], 0
    return kinds[0], value


def _field(body: Mapping[str, Any], name: str, report: CheckReport, read: Callable[[Any], Any]) -> Any:
    """Read one field; a missing, malformed or non-canonical value becomes a named problem."""
    if name not in body:
        report.problems.append(f"missing field {name}")
        return None
    try:
        value = read(body[name])
    except (ValidationError, ValueError, TypeError, KeyError) as exc:
        report.problems.append(f"{name}: {exc}")
        return None
    if value != body[name] and not isinstance(value, (bytes, int)):
        where, sent, wanted = first_difference(body[name], value, name)
        report.problems.append(f"{where} is not canonical: the exchange rebuilds bytes from {_short(sent)}, "
                               f"o2lite would send {_short(wanted)}")
    return value


_MISSING = "(absent)"


def first_difference(sent: Any, canonical: Any, path: str = "") -> Tuple[str, Any, Any]:
    """The first place two JSON values differ: ``(path, sent value, canonical value)``.

    >>> first_difference({"CreateOrder": {"order_type": "spot", "side": "Buy"}},
    ...                  {"CreateOrder": {"order_type": "Spot", "side": "Buy"}}, "action")
    ('action.CreateOrder.order_type', 'spot', 'Spot')
    """
    if isinstance(sent, Mapping) and isinstance(canonical, Mapping):
        for key in list(canonical) + [k for k in sent if k not in canonical]:
            if sent.get(key, _MISSING) != canonical.get(key, _MISSING) or (key in sent) != (key in canonical):
                return first_difference(sent.get(key, _MISSING), canonical.get(key, _MISSING), f"{path}.{key}")
    elif isinstance(sent, list) and isinstance(canonical, list):
        for index in range(max(len(sent), len(canonical))):
            a = sent[index] if index < len(sent) else _MISSING
            b = canonical[index] if index < len(canonical) else _MISSING
            if a != b:
                return first_difference(a, b, f"{path}[{index}]")
    return path.lstrip("."), sent, canonical


def _short(value: Any) -> str:
    text = value if value is _MISSING else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "…"


def bodies_of(document: Any) -> List[Tuple[Mapping[str, Any], Optional[str]]]:
    """The request bodies in a document: a body itself, or what ``--dry-run --json`` writes (one
    prepared request, or a list of them, each with ``body`` and ``headers``); each with the owner
    its ``O2-Owner-Id`` header names, if any."""
    if isinstance(document, (str, bytes)):
        text = document.decode("utf-8") if isinstance(document, bytes) else document
        check_depth(text)  # a deep nesting is a ValueError here, not a RecursionError in json.loads
        document = json.loads(text)
    items = document if isinstance(document, list) else [document]
    out: List[Tuple[Mapping[str, Any], Optional[str]]] = []
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get("body"), Mapping) and "digest" in item:
            headers = item.get("headers")
            owner = headers.get("O2-Owner-Id") if isinstance(headers, Mapping) else None
            out.append((item["body"], owner if isinstance(owner, str) else None))
        else:
            out.append((item, None))
    return out


def _digits(value: Any) -> str:
    number = digits(value, 20)
    if number is None:
        raise ValidationError("must be a base-10 integer string")
    return str(number)


def _id(value: Any) -> str:
    normal = b256_hex(value, "id")
    if normal != value:
        raise ValidationError(f"must be lower-case 0x + 64 hex digits, got {str(value)[:70]}")
    return normal


def check_body(body: Any, *, owner: Optional[str] = None, client: Any = None,
               chain_id: Optional[int] = None) -> CheckReport:
    """Check a signed request body (a dict or JSON text); see the module doc."""
    if isinstance(body, (str, bytes)):
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            check_depth(text)  # linear, and keeps json.loads from deep recursion (the body may come from anywhere)
            body = json.loads(text)
        except ValueError as exc:
            return CheckReport("unreadable", [f"not JSON: {exc}"])
    if not isinstance(body, Mapping):
        return CheckReport("unreadable", ["a body is a JSON object"])
    kind = _kind(body)
    report = CheckReport(kind)
    field_kind, nonce = _nonce(body, report)
    parallel = field_kind == "parallel_nonce"
    if chain_id is None and client is not None:
        chain_id = client.markets.info().chain_id
    expected_owner = None if owner is None else b256_hex(owner, "owner")
    struct: List[Segment] = []
    if kind == "session actions":
        segments, expected = _actions(body, report, client, nonce, parallel)
        recipe = "sha256"
    else:
        expected = expected_owner
        if chain_id is None:
            report.problems.append("owner operations need the chain id: pass client= or chain_id=")
            return report
        account = _field(body, "contract_id" if kind == "session registration" else "trade_account_id", report, _id)
        segments, struct = _owner_segments(kind, body, report, nonce, parallel, chain_id, owner or "", account)
        recipe = "typed" if parallel else ("evm-personal" if owner and is_evm_owner(owner) else "fuel-personal")
        if owner is None:
            report.problems.append("pass owner= (the O2-Owner-Id) to know who should have signed")
    label = ("TypedSecp256k1",) if recipe == "typed" else ("Secp256k1", "TypedSecp256k1") if parallel else ("Secp256k1",)
    signature = _signature(body.get("signature"), label, report)
    if segments is None or signature is None:
        return report
    data = join(segments)
    digest = {"sha256": lambda: hashlib.sha256(data).digest(), "typed": lambda: keccak256(data),
              "evm-personal": lambda: evm_personal_digest(data), "fuel-personal": lambda: fuel_personal_digest(data)
              }[recipe]()
    try:
        public = recover_public_key(signature, digest)
        report.signer = evm_b256_address(public) if expected and is_evm_owner(expected) else fuel_address(public)
    except ValidationError:
        report.problems.append("the signature recovers to no public key at all (r/s out of range or corrupted)")
    report.expected = expected
    if report.signer and expected and report.signer != expected:
        report.problems.append(f"the signature recovers to {report.signer}, not {expected}: the signed bytes differ "
                               "from these fields (a field changed after signing, the wrong chain id, nonce or key)")
    try:
        signed_nonce = Nonce("parallel" if parallel else "sequential", nonce)
    except ValidationError as exc:
        report.problems.append(str(exc))
        return report
    report.request = SignedRequest(title=kind, method="", path="", headers={}, body=body, segments=tuple(segments),
                                   recipe=recipe, digest=digest, signature=signature, signer=report.signer or "?",
                                   nonce=signed_nonce, struct=tuple(struct))
    return report


def _signature(value: Any, labels: Tuple[str, ...], report: CheckReport) -> Optional[bytes]:
    if not isinstance(value, Mapping) or len(value) != 1 or next(iter(value)) not in labels:
        report.problems.append(f"signature must be {{{' or '.join(labels)}: \"0x…\"}}, got {json.dumps(value)[:80]}")
        return None
    text = next(iter(value.values()))
    if not isinstance(text, str) or not text.startswith("0x") or len(text) != 130:
        report.problems.append("signature must be 0x + 128 hex digits (r ‖ s with the recovery bit)")
        return None
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        report.problems.append("signature is not hex")
        return None


def _actions(body: Mapping[str, Any], report: CheckReport, client: Any, nonce: int,
             parallel: bool) -> Tuple[Optional[List[Segment]], Optional[str]]:
    session = body.get("session_id")
    expected = None
    if isinstance(session, Mapping) and set(session) == {"Address"}:
        expected = _field(session, "Address", report, _id)
    else:
        report.problems.append('session_id must be {"Address": "0x…"}')
    if client is None:
        report.problems.append("session actions need the markets: pass client=")
        return None, expected
    info = client.markets.info()
    calls = []
    for g, group in enumerate(body.get("actions") or []):
        try:
            market = client.markets.get(group["market_id"])
        except (ValidationError, KeyError, TypeError) as exc:
            report.problems.append(f"actions[{g}].market_id: {exc}")
            continue
        for a, action in enumerate(group.get("actions") or []):
            try:
                canonical = canonical_action(action)
            except ValidationError as exc:
                report.problems.append(f"actions[{g}].actions[{a}]: {exc.message}")
                continue
            if not sent_as_canonical(action, canonical):
                where, sent, wanted = first_difference(action, canonical, f"actions[{g}].actions[{a}]")
                report.problems.append(f"{where} is not canonical: sent {_short(sent)}, canonical {_short(wanted)}")
            calls.append(canonical_action_to_call(canonical, market, info.accounts_registry_id or bytes(32)))
    if not calls:
        report.problems.append("no readable actions")
        return None, expected
    return actions_segments(nonce, calls, parallel=parallel), expected


def _owner_segments(kind: str, body: Mapping[str, Any], report: CheckReport, nonce: int, parallel: bool,
                    chain_id: int, owner: str, account: Optional[str]) -> Tuple[Optional[List[Segment]], List[Segment]]:
    try:
        if kind == "session registration":
            session = _field(body.get("session_id") or {}, "Address", report, _id)
            ids = [_id(c) for c in body.get("contract_ids") or []]
            expiry = digits(body.get("expiry"), 20)
            if expiry is None:
                report.problems.append("expiry must be a base-10 integer string")
                return None, []
            if parallel:
                struct = parallel_session_struct(owner, nonce, session, expiry, ids)
                return typed_preimage(owner, chain_id, account or "", struct), struct
            return session_segments(nonce, chain_id, session, ids, expiry), []
        if kind == "withdraw":
            to = _field(body, "to", report, identity_json)
            asset = _field(body, "asset_id", report, _id)
            amount = _field(body, "amount", report, _digits)
            if to is None or asset is None or amount is None:
                return None, []
            if parallel:
                struct = parallel_withdraw_struct(owner, nonce, to, int(amount), asset)
                return typed_preimage(owner, chain_id, account or "", struct), struct
            return withdraw_segments(nonce, chain_id, to, asset, int(amount)), []
        if kind == "owner call(s)":
            single = "call" in body
            calls = calls_from_json([body["call"]] if single else body["calls"])
            if parallel:
                struct = parallel_owner_calls_struct(owner, nonce, calls)
                return typed_preimage(owner, chain_id, account or "", struct), struct
            return owner_calls_segments(nonce, chain_id, calls[0] if single else calls), []
        return upgrade_segments(nonce, chain_id), []
    except (ValidationError, KeyError, TypeError) as exc:
        report.problems.append(f"{kind}: {exc}")
        return None, []
