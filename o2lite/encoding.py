"""Fuel ABI byte encoding of what O2 owners and session keys sign (PROTOCOL §7–8).

Everything is big-endian. The exchange rebuilds these bytes from the request JSON and recovers
the signer from them, so one wrong byte means code 4000 for every request.

Building blocks::

    u64(v)                 8 bytes
    u256(v)                32 bytes
    function_selector(n)   u64(len(n)) ‖ utf8(n)          (the name itself, not a hash)
    identity(id)           u64(0 Address | 1 ContractId) ‖ 32 bytes
    Option None / Some(x)  u64(0) / u64(1) ‖ x
    call data              u64(0) / u64(1) ‖ u64(len) ‖ bytes

>>> function_selector("create_order").hex()
'000000000000000c6372656174655f6f72646572'
>>> identity({"Address": "0x" + "ab" * 32})[:8].hex()
'0000000000000000'
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from ._hex import U64_MAX, U256_MAX, BytesLike, b256, to_int
from .errors import ValidationError

__all__ = [
    "GAS_MAX",
    "ZERO_B256",
    "u64",
    "u256",
    "function_selector",
    "identity",
    "identity_json",
    "order_args",
    "Call",
    "SELECTORS",
    "calls_from_json",
    "call_bytes",
    "actions_signing_bytes",
    "parallel_actions_signing_bytes",
    "session_signing_bytes",
    "withdraw_signing_bytes",
    "upgrade_signing_bytes",
    "owner_calls_signing_bytes",
]

GAS_MAX = U64_MAX  # u64::MAX: the gas every O2 action call forwards (PROTOCOL §8)
ZERO_B256 = bytes(32)  # the "no asset" id of calls that forward nothing

_U64 = struct.Struct(">Q")
_IDENTITY_KINDS = {"Address": 0, "ContractId": 1}
# Order type discriminants in the OrderArgs enum (PROTOCOL §7).
_ORDER_TYPES = {"Limit": 0, "Spot": 1, "FillOrKill": 2, "PostOnly": 3, "Market": 4, "BoundedMarket": 5}


def u64(value: int, what: str = "u64") -> bytes:
    """8 bytes big-endian; rejects negatives and values ≥ 2^64.

    >>> u64(1).hex()
    '0000000000000001'
    """
    if type(value) is int and 0 <= value <= U64_MAX:  # fast path for the common case
        return _U64.pack(value)
    return _U64.pack(to_int(value, what))


def u256(value: int, what: str = "u256") -> bytes:
    """32 bytes big-endian; rejects negatives and values ≥ 2^256."""
    return to_int(value, what, high=U256_MAX).to_bytes(32, "big")


def function_selector(name: str) -> bytes:
    """Fuel's function selector: ``u64(len(utf8(name))) ‖ utf8(name)``."""
    raw = name.encode("utf-8")
    return _U64.pack(len(raw)) + raw


#: The encoded selectors o2lite signs with, by function name.
SELECTORS = {n: function_selector(n) for n in (
    "create_order", "cancel_order", "settle_balance", "register_referer",
    "set_session", "withdraw", "set_proxy_target_with_signature", "call_contract",
    "call_contracts")}


def _identity_parts(value: Any) -> "tuple[int, bytes]":
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ValidationError('identity must be {"Address": "0x…"} or {"ContractId": "0x…"}')
    (kind, address), = value.items()
    if kind not in _IDENTITY_KINDS:
        raise ValidationError(f"unknown identity kind {kind!r}: expected Address or ContractId")
    return _IDENTITY_KINDS[kind], b256(address, f"{kind}")


def identity_json(value: Any) -> Dict[str, str]:
    """A checked Identity in its JSON form, the id normalised: ``{"Address": "0x…"}``.

    >>> identity_json({"ContractId": "0x" + "AB" * 32})["ContractId"][:6]
    '0xabab'
    """
    kind, address = _identity_parts(value)
    return {"ContractId" if kind else "Address": "0x" + address.hex()}


def identity(value: Mapping[str, BytesLike]) -> bytes:
    """``u64(discriminant) ‖ address(32)``: Address = 0, ContractId = 1."""
    kind, address = _identity_parts(value)
    return _U64.pack(kind) + address


def _order_type_bytes(order_type: Any) -> bytes:
    if isinstance(order_type, str):
        name, payload = order_type, None
    elif isinstance(order_type, Mapping) and len(order_type) == 1:
        (name, payload), = order_type.items()
    else:
        raise ValidationError(f"order type must be a name or a one-key object, got {order_type!r}")
    if name not in _ORDER_TYPES:
        raise ValidationError(f"unknown order type {name!r}: expected one of {sorted(_ORDER_TYPES)}")
    head = _U64.pack(_ORDER_TYPES[name])
    if name == "Limit":
        if not isinstance(payload, (list, tuple)) or len(payload) != 2:
            raise ValidationError("Limit order type needs [price, timestamp]")
        return head + u64(to_int(payload[0], "Limit price")) + u64(to_int(payload[1], "Limit timestamp"))
    if name == "BoundedMarket":
        if not isinstance(payload, Mapping):
            raise ValidationError("BoundedMarket order type needs {max_price, min_price}")
        high = to_int(payload.get("max_price"), "BoundedMarket max_price")
        low = to_int(payload.get("min_price"), "BoundedMarket min_price")
        if high < low:
            raise ValidationError("BoundedMarket max_price must be ≥ min_price")
        return head + _U64.pack(high) + _U64.pack(low)
    if payload not in (None, [], {}):
        raise ValidationError(f"order type {name} takes no arguments")
    return head


def order_args(price: int, quantity: int, order_type: Any) -> bytes:
    """OrderArgs: ``u64 price ‖ u64 quantity ‖ order type``, the order type packed tightly.

    Order type: Limit ``u64(0) ‖ u64 price ‖ u64 timestamp``; Spot ``u64(1)``; FillOrKill
    ``u64(2)``; PostOnly ``u64(3)``; Market ``u64(4)``; BoundedMarket ``u64(5) ‖ u64 max_price
    ‖ u64 min_price``. ``order_type`` is its JSON form: ``"Spot"``, ``{"Limit": [p, t]}``…
    """
    return (u64(to_int(price, "price")) + u64(to_int(quantity, "quantity"))
            + _order_type_bytes(order_type))


@dataclass(frozen=True)
class Call:
    """One contract call of a trade account: what an action becomes before it is signed.

    ``function_selector`` is the encoded selector (``u64 len ‖ name``); ``call_data`` is the
    argument bytes or ``None``.
    """

    contract_id: bytes
    function_selector: bytes
    amount: int
    asset_id: bytes
    gas: int = GAS_MAX
    call_data: Optional[bytes] = None

    def to_json(self) -> Dict[str, Any]:
        """Hex/decimal-string form (as in the golden vectors)."""
        return {
            "contract_id": "0x" + self.contract_id.hex(),
            "function_selector": "0x" + self.function_selector.hex(),
            "amount": str(self.amount),
            "asset_id": "0x" + self.asset_id.hex(),
            "gas": str(self.gas),
            "call_data": None if self.call_data is None else "0x" + self.call_data.hex(),
        }

    def to_owner_call_json(self) -> Dict[str, Any]:
        """The *derived* request shape of ``POST /v1/accounts/call(s)`` (experimental)."""
        return {
            "contract_id": "0x" + self.contract_id.hex(),
            "function_selector": "0x" + self.function_selector.hex(),
            "call_params": {"coins": str(self.amount), "asset_id": "0x" + self.asset_id.hex(),
                            "gas": str(self.gas)},
            "call_data": None if self.call_data is None else "0x" + self.call_data.hex(),
        }


def call_bytes(call: Call) -> bytes:
    """``contract_id(32) ‖ u64 len(selector) ‖ selector ‖ u64 amount ‖ asset_id(32) ‖ u64 gas
    ‖ optional call data`` (``u64(0)``, or ``u64(1) ‖ u64 len ‖ data``)."""
    selector = call.function_selector
    data = call.call_data
    tail = b"\x00" * 8 if data is None else _U64.pack(1) + _U64.pack(len(data)) + data
    return b"".join((b256(call.contract_id, "contract_id"), _U64.pack(len(selector)), selector,
                     u64(call.amount, "amount"), b256(call.asset_id, "asset_id"), u64(call.gas, "gas"),
                     tail))


def _calls_bytes(calls: Sequence[Call]) -> bytes:
    return _U64.pack(len(calls)) + b"".join(call_bytes(c) for c in calls)


def actions_signing_bytes(nonce: int, calls: Sequence[Call]) -> bytes:
    """Session actions, sequential nonce: ``u64 nonce ‖ u64 n_calls ‖ call…`` (see
    :func:`call_bytes`). The session key signs ``sha256`` of this (:func:`~o2lite.signing.raw_sign`)."""
    return u64(nonce, "nonce") + _calls_bytes(calls)


def parallel_actions_signing_bytes(nonce: int, calls: Sequence[Call]) -> bytes:
    """Session actions, parallel nonce: as :func:`actions_signing_bytes` but the nonce is the
    packed u256 (32 bytes)."""
    return u256(nonce, "parallel nonce") + _calls_bytes(calls)


def _owner_prefix(nonce: int, chain_id: int, selector: str) -> bytes:
    return u64(nonce, "nonce") + u64(chain_id, "chain_id") + SELECTORS[selector]


def session_signing_bytes(nonce: int, chain_id: int, session_address: BytesLike,
                          contract_ids: Iterable[BytesLike], expiry: int) -> bytes:
    """``set_session``: ``u64 nonce ‖ u64 chain_id ‖ selector("set_session") ‖ u64(1) (Some) ‖
    u64(0) (Address) ‖ session address(32) ‖ u64 expiry ‖ u64 n ‖ contract ids (32 each)``.
    The owner personal-signs these bytes."""
    ids = [b256(c, "contract id") for c in contract_ids]
    return b"".join([_owner_prefix(nonce, chain_id, "set_session"), _U64.pack(1), _U64.pack(0),
                     b256(session_address, "session address"), u64(expiry, "expiry"),
                     _U64.pack(len(ids))] + ids)


def withdraw_signing_bytes(nonce: int, chain_id: int, to: Mapping[str, BytesLike],
                           asset_id: BytesLike, amount: int) -> bytes:
    """``withdraw``: ``u64 nonce ‖ u64 chain_id ‖ selector("withdraw") ‖ Identity to ‖
    u64 amount ‖ asset_id(32)`` (amount **before** the asset id)."""
    return (_owner_prefix(nonce, chain_id, "withdraw") + identity(to) + u64(amount, "amount")
            + b256(asset_id, "asset_id"))


def upgrade_signing_bytes(nonce: int, chain_id: int) -> bytes:
    """Upgrade: ``u64 nonce ‖ u64 chain_id ‖ selector("set_proxy_target_with_signature")``."""
    return _owner_prefix(nonce, chain_id, "set_proxy_target_with_signature")


def owner_calls_signing_bytes(nonce: int, chain_id: int, calls: Union[Call, Sequence[Call]]) -> bytes:
    """Owner call(s) — **experimental, derived** (PROTOCOL §8; no published vector).

    One :class:`Call`: ``u64 nonce ‖ u64 chain_id ‖ selector("call_contract") ‖ call``;
    a list: ``… ‖ selector("call_contracts") ‖ u64 n ‖ call…`` (see :func:`call_bytes`).
    """
    if isinstance(calls, Call):
        return _owner_prefix(nonce, chain_id, "call_contract") + call_bytes(calls)
    calls = list(calls)
    if not calls:
        raise ValidationError("owner calls need at least one call")
    return _owner_prefix(nonce, chain_id, "call_contracts") + _calls_bytes(calls)


def _hex_bytes(value: Any, what: str, limit: int = 1 << 16) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) > 2 + 2 * limit:
        raise ValidationError(f"{what} must be 0x-hex text of at most {limit} bytes")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise ValidationError(f"{what} is not valid hex") from None


def calls_from_json(calls: Any) -> List[Call]:
    """Calls from their owner-call JSON (:meth:`Call.to_owner_call_json`) or vector form
    (:meth:`Call.to_json`); anything malformed is a :class:`ValidationError`."""
    if not isinstance(calls, list) or not calls:
        raise ValidationError("calls must be a non-empty list")
    out = []
    for c in calls:
        if not isinstance(c, Mapping):
            raise ValidationError("each call must be an object")
        params = c.get("call_params", c)
        if not isinstance(params, Mapping):
            raise ValidationError("call_params must be an object")
        data = c.get("call_data")
        out.append(Call(
            contract_id=b256(c.get("contract_id", ""), "contract_id"),
            function_selector=_hex_bytes(c.get("function_selector"), "function_selector", 256),
            amount=to_int(params.get("coins", params.get("amount")), "coins"),
            asset_id=b256(params.get("asset_id", ""), "asset_id"),
            gas=to_int(params.get("gas"), "gas"),
            call_data=None if data is None else _hex_bytes(data, "call_data"),
        ))
    return out
