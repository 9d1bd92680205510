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
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

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
    "Segment",
    "join",
    "order_args_segments",
    "call_segments",
    "actions_segments",
    "session_segments",
    "withdraw_segments",
    "upgrade_segments",
    "owner_calls_segments",
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


class Segment(NamedTuple):
    """A named piece of signing bytes: ``name`` in the protocol's words (``nonce u64``,
    ``calls[0].contract_id``…), the ``data`` itself, and ``value`` as a reader would say it.

    The encoders below build these, and every ``*_signing_bytes`` function is the concatenation
    of its segments: an explanation made from them (:meth:`o2lite.signed.SignedRequest.explain`)
    cannot drift from what is signed.
    """

    name: str
    data: bytes
    value: str = ""


def join(segments: Iterable[Segment]) -> bytes:
    """The bytes of a list of segments, in order."""
    return b"".join(seg.data for seg in segments)


def order_type_segments(order_type: Any, prefix: str = "order_type") -> List[Segment]:
    """The order type, packed tightly: discriminant ``u64`` then its payload (see :func:`order_args`)."""
    if isinstance(order_type, str):
        name, payload = order_type, None
    elif isinstance(order_type, Mapping) and len(order_type) == 1:
        (name, payload), = order_type.items()
    else:
        raise ValidationError(f"order type must be a name or a one-key object, got {order_type!r}")
    if name not in _ORDER_TYPES:
        raise ValidationError(f"unknown order type {name!r}: expected one of {sorted(_ORDER_TYPES)}")
    head = [Segment(f"{prefix} u64 (discriminant)", _U64.pack(_ORDER_TYPES[name]), f"{_ORDER_TYPES[name]} = {name}")]
    if name == "Limit":
        if not isinstance(payload, (list, tuple)) or len(payload) != 2:
            raise ValidationError("Limit order type needs [price, timestamp]")
        price, stamp = to_int(payload[0], "Limit price"), to_int(payload[1], "Limit timestamp")
        return head + [Segment(f"{prefix}.Limit.price u64", u64(price), str(price)),
                       Segment(f"{prefix}.Limit.timestamp u64", u64(stamp), str(stamp))]
    if name == "BoundedMarket":
        if not isinstance(payload, Mapping):
            raise ValidationError("BoundedMarket order type needs {max_price, min_price}")
        high = to_int(payload.get("max_price"), "BoundedMarket max_price")
        low = to_int(payload.get("min_price"), "BoundedMarket min_price")
        if high < low:
            raise ValidationError("BoundedMarket max_price must be ≥ min_price")
        return head + [Segment(f"{prefix}.BoundedMarket.max_price u64", _U64.pack(high), str(high)),
                       Segment(f"{prefix}.BoundedMarket.min_price u64", _U64.pack(low), str(low))]
    if payload not in (None, [], {}):
        raise ValidationError(f"order type {name} takes no arguments")
    return head


def order_args_segments(price: int, quantity: int, order_type: Any, *, price_text: str = "",
                        quantity_text: str = "", prefix: str = "order_args") -> List[Segment]:
    """OrderArgs as segments: ``price u64``, ``quantity u64``, then the order type."""
    price, quantity = to_int(price, "price"), to_int(quantity, "quantity")
    return ([Segment(f"{prefix}.price u64", u64(price), price_text or str(price)),
             Segment(f"{prefix}.quantity u64", u64(quantity), quantity_text or str(quantity))]
            + order_type_segments(order_type, f"{prefix}.order_type"))


def order_args(price: int, quantity: int, order_type: Any) -> bytes:
    """OrderArgs: ``u64 price ‖ u64 quantity ‖ order type``, the order type packed tightly.

    Order type: Limit ``u64(0) ‖ u64 price ‖ u64 timestamp``; Spot ``u64(1)``; FillOrKill
    ``u64(2)``; PostOnly ``u64(3)``; Market ``u64(4)``; BoundedMarket ``u64(5) ‖ u64 max_price
    ‖ u64 min_price``. ``order_type`` is its JSON form: ``"Spot"``, ``{"Limit": [p, t]}``…
    """
    return join(order_args_segments(price, quantity, order_type))


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
    #: How the call data reads (segments whose bytes are ``call_data``), and words for the
    #: amount — set by :func:`o2lite.actions.action_to_call`; explanation only.
    data_parts: Tuple[Segment, ...] = field(default=(), compare=False, repr=False)
    amount_text: str = field(default="", compare=False, repr=False)
    title: str = field(default="", compare=False, repr=False)

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


def call_segments(call: Call, prefix: str = "call") -> List[Segment]:
    """One call: ``contract_id(32) ‖ u64 len(selector) ‖ selector ‖ u64 amount ‖ asset_id(32)
    ‖ u64 gas ‖ optional call data`` (``u64(0)``, or ``u64(1) ‖ u64 len ‖ data``)."""
    selector = call.function_selector
    name = selector[8:].decode("utf-8", "replace") if len(selector) > 8 else selector.hex()
    out = [Segment(f"{prefix}.contract_id", b256(call.contract_id, "contract_id"), call.title),
           Segment(f"{prefix}.selector length u64", _U64.pack(len(selector)), str(len(selector))),
           Segment(f"{prefix}.selector", selector, f'u64 len ‖ "{name}"'),
           Segment(f"{prefix}.amount u64", u64(call.amount, "amount"), call.amount_text or str(call.amount)),
           Segment(f"{prefix}.asset_id", b256(call.asset_id, "asset_id"),
                   "none" if call.asset_id == ZERO_B256 else ""),
           Segment(f"{prefix}.gas u64", u64(call.gas, "gas"), "u64::MAX" if call.gas == GAS_MAX else str(call.gas))]
    data = call.call_data
    if data is None:
        return out + [Segment(f"{prefix}.call_data option u64", _U64.pack(0), "None")]
    out += [Segment(f"{prefix}.call_data option u64", _U64.pack(1), "Some"),
            Segment(f"{prefix}.call_data length u64", _U64.pack(len(data)), str(len(data)))]
    parts = list(call.data_parts)
    if parts and join(parts) == data:
        return out + [Segment(f"{prefix}.{seg.name}", seg.data, seg.value) for seg in parts]
    return out + [Segment(f"{prefix}.call_data", data, "")]


def call_bytes(call: Call) -> bytes:
    """The bytes of :func:`call_segments`."""
    return join(call_segments(call))


def _calls_segments(calls: Sequence[Call]) -> List[Segment]:
    out = [Segment("calls count u64", _U64.pack(len(calls)), str(len(calls)))]
    for index, call in enumerate(calls):
        out += call_segments(call, f"calls[{index}]")
    return out


def actions_segments(nonce: int, calls: Sequence[Call], *, parallel: bool = False) -> List[Segment]:
    """Session actions: ``u64 nonce`` (sequential) or ``u256 nonce`` (the packed parallel nonce)
    ‖ ``u64 n_calls`` ‖ each call (:func:`call_segments`)."""
    head = (Segment("parallel nonce u256", u256(nonce, "parallel nonce"), str(nonce)) if parallel
            else Segment("nonce u64", u64(nonce, "nonce"), str(nonce)))
    return [head] + _calls_segments(calls)


def actions_signing_bytes(nonce: int, calls: Sequence[Call]) -> bytes:
    """Session actions, sequential nonce: ``u64 nonce ‖ u64 n_calls ‖ call…`` (see
    :func:`call_segments`). The session key signs ``sha256`` of this (:func:`~o2lite.signing.raw_sign`)."""
    return join(actions_segments(nonce, calls))


def parallel_actions_signing_bytes(nonce: int, calls: Sequence[Call]) -> bytes:
    """Session actions, parallel nonce: as :func:`actions_signing_bytes` but the nonce is the
    packed u256 (32 bytes)."""
    return join(actions_segments(nonce, calls, parallel=True))


def _owner_prefix(nonce: int, chain_id: int, selector: str) -> List[Segment]:
    return [Segment("nonce u64", u64(nonce, "nonce"), str(nonce)),
            Segment("chain_id u64", u64(chain_id, "chain_id"), str(chain_id)),
            Segment("selector", SELECTORS[selector], f'u64 len ‖ "{selector}"')]


def session_segments(nonce: int, chain_id: int, session_address: BytesLike,
                     contract_ids: Iterable[BytesLike], expiry: int) -> List[Segment]:
    """``set_session``: ``u64 nonce ‖ u64 chain_id ‖ selector("set_session") ‖ u64(1) (Some) ‖
    u64(0) (Address) ‖ session address(32) ‖ u64 expiry ‖ u64 n ‖ contract ids (32 each)``."""
    ids = [b256(c, "contract id") for c in contract_ids]
    return (_owner_prefix(nonce, chain_id, "set_session")
            + [Segment("session option u64", _U64.pack(1), "Some"),
               Segment("session_id identity u64", _U64.pack(0), "0 = Address"),
               Segment("session_id address", b256(session_address, "session address"), "the session key"),
               Segment("expiry u64", u64(expiry, "expiry"), f"{expiry} (Unix s)"),
               Segment("contract_ids count u64", _U64.pack(len(ids)), str(len(ids)))]
            + [Segment(f"contract_ids[{i}]", c, "") for i, c in enumerate(ids)])


def session_signing_bytes(nonce: int, chain_id: int, session_address: BytesLike,
                          contract_ids: Iterable[BytesLike], expiry: int) -> bytes:
    """The bytes of :func:`session_segments`; the owner personal-signs them."""
    return join(session_segments(nonce, chain_id, session_address, contract_ids, expiry))


def withdraw_segments(nonce: int, chain_id: int, to: Mapping[str, BytesLike], asset_id: BytesLike, amount: int,
                      *, amount_text: str = "") -> List[Segment]:
    """``withdraw``: ``u64 nonce ‖ u64 chain_id ‖ selector("withdraw") ‖ Identity to ‖
    u64 amount ‖ asset_id(32)`` (amount **before** the asset id)."""
    kind, address = _identity_parts(to)
    return (_owner_prefix(nonce, chain_id, "withdraw")
            + [Segment("to identity u64", _U64.pack(kind), "1 = ContractId" if kind else "0 = Address"),
               Segment("to address", address, ""),
               Segment("amount u64", u64(amount, "amount"), amount_text or str(amount)),
               Segment("asset_id", b256(asset_id, "asset_id"), "")])


def withdraw_signing_bytes(nonce: int, chain_id: int, to: Mapping[str, BytesLike],
                           asset_id: BytesLike, amount: int) -> bytes:
    """The bytes of :func:`withdraw_segments`."""
    return join(withdraw_segments(nonce, chain_id, to, asset_id, amount))


def upgrade_segments(nonce: int, chain_id: int) -> List[Segment]:
    """Upgrade: ``u64 nonce ‖ u64 chain_id ‖ selector("set_proxy_target_with_signature")``."""
    return _owner_prefix(nonce, chain_id, "set_proxy_target_with_signature")


def upgrade_signing_bytes(nonce: int, chain_id: int) -> bytes:
    """The bytes of :func:`upgrade_segments`."""
    return join(upgrade_segments(nonce, chain_id))


def owner_calls_segments(nonce: int, chain_id: int, calls: Union[Call, Sequence[Call]]) -> List[Segment]:
    """Owner call(s) — **experimental, derived** (PROTOCOL §8; no published vector).

    One :class:`Call`: ``u64 nonce ‖ u64 chain_id ‖ selector("call_contract") ‖ call``;
    a list: ``… ‖ selector("call_contracts") ‖ u64 n ‖ call…`` (see :func:`call_segments`).
    """
    if isinstance(calls, Call):
        return _owner_prefix(nonce, chain_id, "call_contract") + call_segments(calls)
    calls = list(calls)
    if not calls:
        raise ValidationError("owner calls need at least one call")
    return _owner_prefix(nonce, chain_id, "call_contracts") + _calls_segments(calls)


def owner_calls_signing_bytes(nonce: int, chain_id: int, calls: Union[Call, Sequence[Call]]) -> bytes:
    """The bytes of :func:`owner_calls_segments`."""
    return join(owner_calls_segments(nonce, chain_id, calls))


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
