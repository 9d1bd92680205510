"""Typed owner signatures for parallel-nonce operations: SRC-16 (Fuel) and EIP-712 (EVM).

The owner signs ``keccak256(0x19 0x01 ‖ domain_separator ‖ struct_hash)`` directly (a
``TypedSecp256k1`` signature). Which flavour applies is decided by the owner address: an owner
whose B256 starts with 12 zero bytes is an EVM owner (EIP-712), any other is Fuel (SRC-16).

Struct hash = ``keccak256(type_hash ‖ field…)``, every field 32 bytes: integers left-padded,
ids as their 32 bytes, an Identity as its 32 address bytes only, an array as the keccak of its
elements' 32-byte encodings.

Confidence (PROTOCOL §10): ``ParallelWithdrawArgs`` is verified against the official SDK's
golden vectors. ``ParallelSessionArgs`` is *derived* from the contract's SessionArgs fields and
``ParallelMultiCallContractArgs`` is *derived* with the lowest confidence: both are
**experimental**. Every type string lives in :data:`TYPE_STRINGS`, so a correction is one line.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Sequence, Tuple

from ._hex import U256_MAX, BytesLike, b256, to_int
from .encoding import Call, _identity_parts
from .keccak import keccak256

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "TYPE_STRINGS",
    "is_evm_owner",
    "src16_domain_separator",
    "eip712_domain_separator",
    "domain_separator",
    "typed_digest",
    "parallel_withdraw_digest",
    "parallel_session_digest",
    "parallel_owner_calls_digest",
]

DOMAIN_NAME = "TradeAccount"  # the trade account contract's domain name (PROTOCOL §10)
DOMAIN_VERSION = "2"

#: Every type string, keyed by (flavour, type). "derived" ones are experimental (see module doc).
TYPE_STRINGS: Dict[Tuple[str, str], str] = {
    ("src16", "domain"): "SRC16Domain(string name,string version,u256 chain_id,contractId verifying_contract)",
    ("eip712", "domain"): "EIP712Domain(string name,string version,bytes32 salt)",
    # verified against o2-sdk 0.5.0:
    ("src16", "ParallelWithdrawArgs"): "ParallelWithdrawArgs(u256 nonce,identity to,u64 amount,assetId asset_id)",
    ("eip712", "ParallelWithdrawArgs"): "ParallelWithdrawArgs(uint256 nonce,bytes32 to,uint64 amount,bytes32 asset_id)",
    # derived:
    ("src16", "ParallelSessionArgs"):
        "ParallelSessionArgs(u256 nonce,identity session_id,u64 expiry,contractId[] contract_ids)",
    ("eip712", "ParallelSessionArgs"):
        "ParallelSessionArgs(uint256 nonce,bytes32 session_id,uint64 expiry,bytes32[] contract_ids)",
    # derived, lowest confidence:
    ("src16", "ParallelMultiCallContractArgs"):
        "ParallelMultiCallContractArgs(u256 nonce,CallContractArg[] calls)"
        "CallContractArg(contractId contract_id,bytes function_selector,u64 coins,assetId asset_id,"
        "u64 gas,bytes call_data)",
    ("eip712", "ParallelMultiCallContractArgs"):
        "ParallelMultiCallContractArgs(uint256 nonce,CallContractArg[] calls)"
        "CallContractArg(bytes32 contract_id,bytes function_selector,uint64 coins,bytes32 asset_id,"
        "uint64 gas,bytes call_data)",
    ("src16", "CallContractArg"):
        "CallContractArg(contractId contract_id,bytes function_selector,u64 coins,assetId asset_id,"
        "u64 gas,bytes call_data)",
    ("eip712", "CallContractArg"):
        "CallContractArg(bytes32 contract_id,bytes function_selector,uint64 coins,bytes32 asset_id,"
        "uint64 gas,bytes call_data)",
}

_TYPE_HASHES: Dict[Tuple[str, str], bytes] = {}


def _type_hash(flavour: str, name: str) -> bytes:
    key = (flavour, name)
    if key not in _TYPE_HASHES:
        _TYPE_HASHES[key] = keccak256(TYPE_STRINGS[key].encode())
    return _TYPE_HASHES[key]


def _word(value: Any, what: str) -> bytes:
    return to_int(value, what, high=U256_MAX).to_bytes(32, "big")


def is_evm_owner(owner: BytesLike) -> bool:
    """True for an EVM owner: its B256 address starts with 12 zero bytes."""
    return b256(owner, "owner")[:12] == bytes(12)


def src16_domain_separator(chain_id: int, verifying_contract: BytesLike) -> bytes:
    """``keccak(keccak(SRC16Domain type) ‖ keccak("TradeAccount") ‖ keccak("2") ‖ u256 chain_id
    ‖ verifying_contract(32))``; the verifying contract is the trade account id."""
    return keccak256(_type_hash("src16", "domain") + keccak256(DOMAIN_NAME.encode())
                     + keccak256(DOMAIN_VERSION.encode()) + _word(chain_id, "chain_id")
                     + b256(verifying_contract, "verifying_contract"))


def eip712_domain_separator(chain_id: int) -> bytes:
    """``keccak(keccak(EIP712Domain type) ‖ keccak("TradeAccount") ‖ keccak("2") ‖ salt)`` with
    ``salt = 24 zero bytes ‖ u64 chain_id``."""
    salt = bytes(24) + to_int(chain_id, "chain_id").to_bytes(8, "big")
    return keccak256(_type_hash("eip712", "domain") + keccak256(DOMAIN_NAME.encode())
                     + keccak256(DOMAIN_VERSION.encode()) + salt)


def domain_separator(owner: BytesLike, chain_id: int, trade_account_id: BytesLike) -> bytes:
    """The domain separator the exchange uses for this owner (EIP-712 if EVM, else SRC-16)."""
    if is_evm_owner(owner):
        return eip712_domain_separator(chain_id)
    return src16_domain_separator(chain_id, trade_account_id)


def typed_digest(domain: bytes, struct_hash: bytes) -> bytes:
    """``keccak256(0x19 0x01 ‖ domain_separator ‖ struct_hash)``: what the owner signs."""
    return keccak256(b"\x19\x01" + domain + struct_hash)


def _flavour(owner: BytesLike) -> str:
    return "eip712" if is_evm_owner(owner) else "src16"


def parallel_withdraw_digest(owner: BytesLike, chain_id: int, trade_account_id: BytesLike, nonce: int,
                             to: Mapping[str, BytesLike], amount: int, asset_id: BytesLike) -> bytes:
    """Digest of ``ParallelWithdrawArgs(nonce, to, amount, asset_id)`` (verified).

    Struct fields: ``u256 nonce ‖ to address(32) ‖ u256(amount) ‖ asset_id(32)``.
    """
    flavour = _flavour(owner)
    _, to_address = _identity_parts(to)
    struct_hash = keccak256(_type_hash(flavour, "ParallelWithdrawArgs") + _word(nonce, "nonce")
                            + to_address + _word(to_int(amount, "amount"), "amount")
                            + b256(asset_id, "asset_id"))
    return typed_digest(domain_separator(owner, chain_id, trade_account_id), struct_hash)


def parallel_session_digest(owner: BytesLike, chain_id: int, trade_account_id: BytesLike, nonce: int,
                            session_address: BytesLike, expiry: int,
                            contract_ids: Iterable[BytesLike]) -> bytes:
    """Digest of ``ParallelSessionArgs`` — **experimental, derived** (PROTOCOL §10).

    Struct fields: ``u256 nonce ‖ session address(32) ‖ u256(expiry) ‖ keccak(ids…)``.
    """
    flavour = _flavour(owner)
    ids = b"".join(b256(c, "contract id") for c in contract_ids)
    struct_hash = keccak256(_type_hash(flavour, "ParallelSessionArgs") + _word(nonce, "nonce")
                            + b256(session_address, "session address")
                            + _word(to_int(expiry, "expiry"), "expiry") + keccak256(ids))
    return typed_digest(domain_separator(owner, chain_id, trade_account_id), struct_hash)


def parallel_owner_calls_digest(owner: BytesLike, chain_id: int, trade_account_id: BytesLike,
                                nonce: int, calls: Sequence[Call]) -> bytes:
    """Digest of ``ParallelMultiCallContractArgs`` — **experimental, derived, lowest confidence**.

    Each call hashes as ``keccak(CallContractArg type ‖ contract_id ‖ keccak(selector) ‖
    u256 coins ‖ asset_id ‖ u256 gas ‖ keccak(call data or b""))``; the struct is
    ``keccak(type ‖ u256 nonce ‖ keccak(call hashes…))``.
    """
    flavour = _flavour(owner)
    call_type = _type_hash(flavour, "CallContractArg")
    hashes = b"".join(
        keccak256(call_type + b256(c.contract_id, "contract_id") + keccak256(c.function_selector)
                  + _word(c.amount, "coins") + b256(c.asset_id, "asset_id") + _word(c.gas, "gas")
                  + keccak256(c.call_data or b""))
        for c in calls)
    struct_hash = keccak256(_type_hash(flavour, "ParallelMultiCallContractArgs") + _word(nonce, "nonce")
                            + keccak256(hashes))
    return typed_digest(domain_separator(owner, chain_id, trade_account_id), struct_hash)
