"""The deposit side: read the proxy's unsigned EIP-1559 transaction offline (no RPC).

What the proxy asks you to sign (EIP-2718 type 2, EIP-1559)::

    0x02 ‖ RLP([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit,
                to (20 bytes: the Messenger), value, data, accessList (empty)])

``data`` calls one of three Messenger methods (4-byte selector = keccak256(signature)[:4], then
32-byte ABI words)::

    deposit(bytes32 recipient, address token, uint256 amount, bool recipientIsContract)   cb2ec895
    depositWithPermit(bytes32, address, uint256, uint256 deadline, uint8 v, bytes32 r,
                      bytes32 s, bool)                                                   8b0cc781
    depositETH(bytes32 recipient, bool recipientIsContract)                              26a5974f

The signature is over ``keccak256(the unsigned bytes above)`` — raw, not personal-sign, not EIP-712
(PROTOCOL §15). Every byte rule and refusal follows o2-sdk 0.5.0's ``inspection.py``: canonical,
bounded RLP (strings and lists of at most 16 KiB, four levels deep, no leading zero in a long
length, a single byte below 0x80 never wrapped), integers of at most 32 bytes with no leading zero,
no trailing bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Union

from ..keccak import keccak256
from ._reader import Reader, check, hex0x, unhex

__all__ = ["EvmPermitInspection", "EvmDepositInspection", "MESSENGER_METHODS", "parse_evm_unsigned_transaction",
           "rlp_decode", "rlp_encode", "signed_transaction", "deposit_transaction_hash"]

Rlp = Union[bytes, List["Rlp"]]

MAX_RLP_LENGTH = 16384  # bytes in one RLP string or list (o2-sdk's bound)
MAX_RLP_DEPTH = 4  # nesting levels: the access list is the only nested field
EIP1559_TYPE = 2

#: method name → (ABI signature, number of 32-byte arguments); selector = keccak256(signature)[:4].
MESSENGER_METHODS = {
    "deposit": ("deposit(bytes32,address,uint256,bool)", 4),
    "depositWithPermit": ("depositWithPermit(bytes32,address,uint256,uint256,uint8,bytes32,bytes32,bool)", 8),
    "depositETH": ("depositETH(bytes32,bool)", 2),
}
_SELECTORS = {keccak256(sig.encode())[:4]: (name, n) for name, (sig, n) in MESSENGER_METHODS.items()}


def _rlp_item(reader: Reader, depth: int) -> Rlp:
    check(depth < MAX_RLP_DEPTH, "RLP nesting too deep")
    tag = reader.num(1)
    if tag < 0x80:
        return bytes([tag])
    is_list = tag >= 0xC0
    short, long = (0xC0, 0xF7) if is_list else (0x80, 0xB7)
    length = tag - short
    if tag > long:
        encoded = reader.take(tag - long)
        length = int.from_bytes(encoded, "big")
        check(encoded[0] != 0 and 56 <= length <= MAX_RLP_LENGTH, "noncanonical or oversized RLP length")
    body = reader.take(length)
    if not is_list:
        check(length != 1 or body[0] >= 0x80, "noncanonical RLP: a single byte below 0x80 must not be wrapped")
        return body
    children = Reader(body)
    out: List[Rlp] = []
    while children.offset < len(body):
        out.append(_rlp_item(children, depth + 1))
    return out


def rlp_decode(data: bytes) -> Rlp:
    """Decode exactly one canonical, bounded RLP item filling ``data``."""
    reader = Reader(data)
    item = _rlp_item(reader, 0)
    reader.done()
    return item


def rlp_encode(item: Rlp) -> bytes:
    """Canonical RLP of bytes / nested lists of bytes (integers go in as minimal big-endian bytes)."""
    if isinstance(item, (bytes, bytearray)):
        if len(item) == 1 and item[0] < 0x80:
            return bytes(item)
        return _length_prefix(len(item), 0x80) + bytes(item)
    body = b"".join(rlp_encode(child) for child in item)
    return _length_prefix(len(body), 0xC0) + body


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(encoded)]) + encoded


@dataclass(frozen=True)
class EvmPermitInspection:
    """The EIP-2612 permit embedded in ``depositWithPermit`` (``deadline`` Unix seconds)."""

    deadline: int
    v: int
    r: str
    s: str


@dataclass(frozen=True)
class EvmDepositInspection:
    """What an unsigned deposit would do. Names and meanings as o2-sdk 0.5.0.

    ``amount`` is in EVM units (token base units, or wei for ``depositETH``), not Fuel units.
    ``estimated_network_fee`` is ``gas_limit × max_fee_per_gas`` in wei: a cap, not the actual fee,
    and it leaves out a rollup's L1 data fee. ``signing_digest`` is ``keccak256`` of the unsigned
    bytes: the 32 bytes the depositor's key signs.
    """

    type: int
    chain_id: int
    nonce: int
    messenger_address: str
    value: int
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    estimated_network_fee: int
    data: str
    method: str
    recipient: str
    recipient_is_contract: bool
    token_address: Optional[str]
    amount: int
    permit: Optional[EvmPermitInspection]
    signing_digest: str


def _fields(raw: bytes) -> List[Rlp]:
    """The nine fields of an unsigned type-2 envelope (type byte, RLP list, nothing after)."""
    reader = Reader(raw)
    check(reader.num(1) == EIP1559_TYPE, "only unsigned EIP-1559 (type 2) deposits are supported")
    fields = _rlp_item(reader, 0)
    reader.done()
    check(isinstance(fields, list) and len(fields) == 9, "expected the 9 fields of an unsigned EIP-1559 transaction")
    assert isinstance(fields, list)
    return fields


def _leaf(fields: List[Rlp], index: int, size: Optional[int] = None) -> bytes:
    value = fields[index]
    check(isinstance(value, bytes) and (size is None or len(value) == size), f"invalid EVM field {index}")
    assert isinstance(value, bytes)
    return value


def _number(fields: List[Rlp], index: int) -> int:
    data = _leaf(fields, index)
    check(len(data) <= 32 and (not data or data[0] != 0), "noncanonical EVM integer (over 32 bytes or a leading zero)")
    return int.from_bytes(data, "big")


def parse_evm_unsigned_transaction(unsigned_transaction: str) -> EvmDepositInspection:
    """Read the proxy's unsigned deposit and derive its raw signing digest (offline, no RPC).

    Refuses (``ValidationError``, a ``ValueError``) anything that is not exactly an unsigned
    type-2 call of ``deposit``, ``depositWithPermit`` or ``depositETH`` with an empty access list:
    noncanonical RLP or integers, trailing bytes, a signed envelope, a wrong calldata length, a
    ``recipientIsContract`` word other than 0/1, a token deposit carrying ETH value, a token word
    with bits above its 20-byte address, a permit ``v`` above 255, ``chainId`` 0, or a priority fee
    above the max fee. Parsing is not approval: compare the result with what you asked for (the
    flow helpers in :mod:`o2lite.bridge.flows` do).
    """
    raw = unhex(unsigned_transaction, "unsignedTransaction")
    fields = _fields(raw)
    check(fields[8] == [], "proxy deposits require an empty access list")
    chain_id, nonce, priority, max_fee, gas = (_number(fields, i) for i in range(5))
    check(chain_id > 0, "EVM chainId must be positive")
    check(priority <= max_fee, "maxPriorityFeePerGas above maxFeePerGas")
    messenger = hex0x(_leaf(fields, 5, 20))
    value = _number(fields, 6)
    data = _leaf(fields, 7)
    found = _SELECTORS.get(data[:4])
    check(found, "unknown Messenger method")
    assert found is not None
    method, count = found
    check(len(data) == 4 + 32 * count, "invalid Messenger calldata length")
    words = [data[4 + 32 * i:36 + 32 * i] for i in range(count)]
    flag = int.from_bytes(words[-1], "big")
    check(flag <= 1, "invalid recipientIsContract (not a bool)")
    token: Optional[str] = None
    amount = value
    permit: Optional[EvmPermitInspection] = None
    if method != "depositETH":
        check(value == 0, "a token deposit must carry no ETH value")
        check(not any(words[1][:12]), "token address word has bits above its 20 bytes")
        token, amount = hex0x(words[1][12:]), int.from_bytes(words[2], "big")
        if method == "depositWithPermit":
            v = int.from_bytes(words[4], "big")
            check(v <= 255, "invalid permit v (over 255)")
            permit = EvmPermitInspection(deadline=int.from_bytes(words[3], "big"), v=v, r=hex0x(words[5]),
                                         s=hex0x(words[6]))
    return EvmDepositInspection(
        type=EIP1559_TYPE, chain_id=chain_id, nonce=nonce, messenger_address=messenger, value=value,
        gas_limit=gas, max_fee_per_gas=max_fee, max_priority_fee_per_gas=priority,
        estimated_network_fee=gas * max_fee, data=hex0x(data), method=method, recipient=hex0x(words[0]),
        recipient_is_contract=flag == 1, token_address=token, amount=amount, permit=permit,
        signing_digest=hex0x(keccak256(raw)))


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def signed_transaction(unsigned_transaction: str, signature: str) -> bytes:
    """The signed envelope ``0x02 ‖ RLP([...9 unsigned fields, yParity, r, s])``.

    ``signature`` is the 65-byte ``r ‖ s ‖ v`` sent to ``deposit/submit`` (``v`` 27/28 or 0/1).
    """
    fields = _fields(unhex(unsigned_transaction, "unsignedTransaction"))
    sig = unhex(signature, "signature")
    check(len(sig) == 65, "a deposit signature is 65 bytes r ‖ s ‖ v")
    v = sig[64]
    check(v in (0, 1, 27, 28), "signature v must be 27/28 (or 0/1)")
    y_parity = v - 27 if v >= 27 else v
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")
    return bytes([EIP1559_TYPE]) + rlp_encode(fields + [_int_bytes(y_parity), _int_bytes(r), _int_bytes(s)])


def deposit_transaction_hash(unsigned_transaction: str, signature: str) -> str:
    """The EVM transaction hash the deposit will have: ``keccak256`` of the signed envelope.

    Computed offline, so an ambiguous ``deposit/submit`` can be reconciled with
    ``get_deposit_status(chain_id, hash)`` before anything is sent again.
    """
    return hex0x(keccak256(signed_transaction(unsigned_transaction, signature)))
