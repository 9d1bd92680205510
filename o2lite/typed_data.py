"""Typed owner signatures for parallel-nonce operations: SRC-16 (Fuel) and EIP-712 (EVM).

The owner signs ``keccak256(0x19 0x01 ‖ domain_separator ‖ struct_hash)`` directly (a
``TypedSecp256k1`` signature). Which flavour applies is decided by the owner address: an owner
whose B256 starts with 12 zero bytes is an EVM owner (EIP-712), any other is Fuel (SRC-16).

Struct hash = ``keccak256(type_hash ‖ field…)``, every field 32 bytes: integers left-padded,
ids as their 32 bytes, an Identity as its 32 address bytes only, ``bytes`` as their keccak, a
nested struct as its own struct hash, an array as the keccak of its elements' encodings. A type
string lists referenced struct types after the main one (``A(…)B(…)C(…)``).

Confidence (PROTOCOL §10), one line per type in :data:`TYPE_STATUS`:

- ``ParallelWithdrawArgs``: **verified** — digests equal the official SDK's golden vectors.
- ``ParallelMultiCallContractArgs`` / ``CallContractArg`` / ``CallParams``: **verified type
  hashes** — the six published constants are reproduced (a test checks them); the field
  encoding follows the rules above.
- ``ParallelSessionArgs``: **derived** — field order from the contract ABI, the type string
  itself is unpublished. Used only behind ``parallel_registration=True``.

The domain version is a per-deployment contract setting (``"2"`` today, ``"1"`` on an older
deployment): every function takes ``version``; ``Client(domain_version=…)`` sets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, Sequence, Tuple

from ._hex import U256_MAX, BytesLike, b256, to_int
from .encoding import Call, Segment, _identity_parts, join
from .errors import ValidationError
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
    "call_params_hash",
    "call_contract_arg_hash",
    "TYPE_STATUS",
    "typed_preimage",
    "parallel_withdraw_struct",
    "parallel_session_struct",
    "parallel_owner_calls_struct",
]

DOMAIN_NAME = "TradeAccount"  # the trade account contract's domain name (PROTOCOL §10)
DOMAIN_VERSION = "2"

_SRC16_CALL_PARAMS = "CallParams(u64 coins,assetId asset_id,u64 gas)"
_EIP712_CALL_PARAMS = "CallParams(uint64 coins,bytes32 asset_id,uint64 gas)"
_SRC16_CALL = ("CallContractArg(contractId contract_id,bytes function_selector,CallParams call_params,"
               "bytes call_data)")
_EIP712_CALL = ("CallContractArg(bytes32 contract_id,bytes function_selector,CallParams call_params,"
                "bytes call_data)")

#: Every type string, keyed by (flavour, type); a correction is one line. See :data:`TYPE_STATUS`.
TYPE_STRINGS: Dict[Tuple[str, str], str] = {
    ("src16", "domain"): "SRC16Domain(string name,string version,u256 chain_id,contractId verifying_contract)",
    ("eip712", "domain"): "EIP712Domain(string name,string version,bytes32 salt)",
    ("src16", "ParallelWithdrawArgs"): "ParallelWithdrawArgs(u256 nonce,identity to,u64 amount,assetId asset_id)",
    ("eip712", "ParallelWithdrawArgs"): "ParallelWithdrawArgs(uint256 nonce,bytes32 to,uint64 amount,bytes32 asset_id)",
    ("src16", "CallParams"): _SRC16_CALL_PARAMS,
    ("eip712", "CallParams"): _EIP712_CALL_PARAMS,
    ("src16", "CallContractArg"): _SRC16_CALL + _SRC16_CALL_PARAMS,
    ("eip712", "CallContractArg"): _EIP712_CALL + _EIP712_CALL_PARAMS,
    ("src16", "ParallelMultiCallContractArgs"):
        "ParallelMultiCallContractArgs(u256 nonce,CallContractArg[] call_contract_args)"
        + _SRC16_CALL + _SRC16_CALL_PARAMS,
    ("eip712", "ParallelMultiCallContractArgs"):
        "ParallelMultiCallContractArgs(uint256 nonce,CallContractArg[] call_contract_args)"
        + _EIP712_CALL + _EIP712_CALL_PARAMS,
    ("src16", "ParallelSessionArgs"):
        "ParallelSessionArgs(u256 nonce,identity session_id,u64 expiry,contractId[] contract_ids)",
    ("eip712", "ParallelSessionArgs"):
        "ParallelSessionArgs(uint256 nonce,bytes32 session_id,uint64 expiry,bytes32[] contract_ids)",
}

#: How far each type string is proven (PROTOCOL §10).
TYPE_STATUS: Dict[str, str] = {
    "ParallelWithdrawArgs": "verified: digests equal the official SDK's vectors",
    "ParallelMultiCallContractArgs": "verified type hash: equals the published constant",
    "CallContractArg": "verified type hash: equals the published constant",
    "CallParams": "verified type hash: equals the published constant",
    "ParallelSessionArgs": "derived: the type string is unpublished (field order from the contract ABI)",
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


def src16_domain_separator(chain_id: int, verifying_contract: BytesLike, version: str = DOMAIN_VERSION) -> bytes:
    """``keccak(keccak(SRC16Domain type) ‖ keccak("TradeAccount") ‖ keccak(version) ‖ u256 chain_id
    ‖ verifying_contract(32))``; the verifying contract is the trade account id."""
    return keccak256(_type_hash("src16", "domain") + keccak256(DOMAIN_NAME.encode())
                     + keccak256(_version(version)) + _word(chain_id, "chain_id")
                     + b256(verifying_contract, "verifying_contract"))


def eip712_domain_separator(chain_id: int, version: str = DOMAIN_VERSION) -> bytes:
    """``keccak(keccak(EIP712Domain type) ‖ keccak("TradeAccount") ‖ keccak(version) ‖ salt)`` with
    ``salt = 24 zero bytes ‖ u64 chain_id``.

    >>> eip712_domain_separator(0x42C026D7, version="1").hex()[:16]
    '2177b5d66662dcd3'
    """
    salt = bytes(24) + to_int(chain_id, "chain_id").to_bytes(8, "big")
    return keccak256(_type_hash("eip712", "domain") + keccak256(DOMAIN_NAME.encode())
                     + keccak256(_version(version)) + salt)


def _version(version: str) -> bytes:
    if not isinstance(version, str) or not version or len(version) > 32:
        raise ValidationError("domain version must be a short non-empty string such as \"2\"")
    return version.encode()


def domain_separator(owner: BytesLike, chain_id: int, trade_account_id: BytesLike,
                     version: str = DOMAIN_VERSION) -> bytes:
    """The domain separator the exchange uses for this owner (EIP-712 if EVM, else SRC-16)."""
    if is_evm_owner(owner):
        return eip712_domain_separator(chain_id, version)
    return src16_domain_separator(chain_id, trade_account_id, version)


def typed_digest(domain: bytes, struct_hash: bytes) -> bytes:
    """``keccak256(0x19 0x01 ‖ domain_separator ‖ struct_hash)``: what the owner signs."""
    return keccak256(b"\x19\x01" + domain + struct_hash)


def _flavour(owner: BytesLike) -> str:
    return "eip712" if is_evm_owner(owner) else "src16"


def parallel_withdraw_struct(owner: BytesLike, nonce: int, to: Mapping[str, BytesLike], amount: int,
                             asset_id: BytesLike) -> List[Segment]:
    """``ParallelWithdrawArgs`` struct words: ``type hash ‖ u256 nonce ‖ to address(32) ‖
    u256(amount) ‖ asset_id(32)``; its keccak is the struct hash (verified)."""
    flavour = _flavour(owner)
    _, to_address = _identity_parts(to)
    return [Segment("type hash", _type_hash(flavour, "ParallelWithdrawArgs"), TYPE_STRINGS[(flavour, "ParallelWithdrawArgs")]),
            Segment("nonce u256", _word(nonce, "nonce"), str(nonce)),
            Segment("to address", to_address, ""),
            Segment("amount u256", _word(to_int(amount, "amount"), "amount"), str(amount)),
            Segment("asset_id", b256(asset_id, "asset_id"), "")]


def typed_preimage(owner: BytesLike, chain_id: int, trade_account_id: BytesLike, struct: List[Segment],
                   version: str = DOMAIN_VERSION) -> List[Segment]:
    """What is hashed into the digest: ``0x19 0x01 ‖ domain separator ‖ keccak(struct words)``."""
    flavour = "EIP-712" if is_evm_owner(owner) else "SRC-16"
    return [Segment("prefix", b"\x19\x01", "EIP-191 version 0x01"),
            Segment("domain separator", domain_separator(owner, chain_id, trade_account_id, version),
                    f"{flavour}: TradeAccount, version {version!r}, chain {chain_id}"),
            Segment("struct hash", keccak256(join(struct)), "keccak of the struct words")]


def parallel_withdraw_digest(owner: BytesLike, chain_id: int, trade_account_id: BytesLike, nonce: int,
                             to: Mapping[str, BytesLike], amount: int, asset_id: BytesLike, *,
                             version: str = DOMAIN_VERSION) -> bytes:
    """Digest of ``ParallelWithdrawArgs(nonce, to, amount, asset_id)`` (verified): keccak of
    :func:`typed_preimage` of :func:`parallel_withdraw_struct`."""
    struct = parallel_withdraw_struct(owner, nonce, to, amount, asset_id)
    return keccak256(join(typed_preimage(owner, chain_id, trade_account_id, struct, version)))


def parallel_session_struct(owner: BytesLike, nonce: int, session_address: BytesLike, expiry: int,
                            contract_ids: Iterable[BytesLike]) -> List[Segment]:
    """``ParallelSessionArgs`` struct words — **derived** (the type string is unpublished):
    ``type hash ‖ u256 nonce ‖ session address(32) ‖ u256(expiry) ‖ keccak(ids…)``."""
    flavour = _flavour(owner)
    ids = b"".join(b256(c, "contract id") for c in contract_ids)
    return [Segment("type hash", _type_hash(flavour, "ParallelSessionArgs"), TYPE_STRINGS[(flavour, "ParallelSessionArgs")]),
            Segment("nonce u256", _word(nonce, "nonce"), str(nonce)),
            Segment("session_id address", b256(session_address, "session address"), "the session key"),
            Segment("expiry u256", _word(to_int(expiry, "expiry"), "expiry"), str(expiry)),
            Segment("contract_ids keccak", keccak256(ids), f"keccak of {len(ids) // 32} ids")]


def parallel_session_digest(owner: BytesLike, chain_id: int, trade_account_id: BytesLike, nonce: int,
                            session_address: BytesLike, expiry: int, contract_ids: Iterable[BytesLike], *,
                            version: str = DOMAIN_VERSION) -> bytes:
    """Digest of ``ParallelSessionArgs`` — **derived**: the type string is unpublished (PROTOCOL §10)."""
    struct = parallel_session_struct(owner, nonce, session_address, expiry, contract_ids)
    return keccak256(join(typed_preimage(owner, chain_id, trade_account_id, struct, version)))


def call_params_hash(flavour: str, call: Call) -> bytes:
    """``keccak(CallParams type ‖ u256 coins ‖ asset_id(32) ‖ u256 gas)``."""
    return keccak256(_type_hash(flavour, "CallParams") + _word(call.amount, "coins")
                     + b256(call.asset_id, "asset_id") + _word(call.gas, "gas"))


def call_contract_arg_hash(flavour: str, call: Call) -> bytes:
    """``keccak(CallContractArg type ‖ contract_id ‖ keccak(function_selector) ‖
    hash(CallParams) ‖ keccak(call_data, or b"" when none))``; the selector bytes are the
    encoded selector as sent in ``function_selector``."""
    return keccak256(_type_hash(flavour, "CallContractArg") + b256(call.contract_id, "contract_id")
                     + keccak256(call.function_selector) + call_params_hash(flavour, call)
                     + keccak256(call.call_data or b""))


def parallel_owner_calls_digest(owner: BytesLike, chain_id: int, trade_account_id: BytesLike,
                                nonce: int, calls: Sequence[Call], *, version: str = DOMAIN_VERSION) -> bytes:
    """Digest of ``ParallelMultiCallContractArgs {nonce, call_contract_args}`` (PROTOCOL §10).

    ``keccak(type ‖ u256 nonce ‖ keccak(hash(call_1) ‖ … ‖ hash(call_n)))`` with each call hashed
    by :func:`call_contract_arg_hash`. The type hashes equal the published constants; a single
    parallel owner call is sent as a list of one (``/v1/accounts/calls``), because the contract's
    single-call struct ``ParallelCallContractArgs`` has no published type string.
    """
    struct = parallel_owner_calls_struct(owner, nonce, calls)
    return keccak256(join(typed_preimage(owner, chain_id, trade_account_id, struct, version)))


def parallel_owner_calls_struct(owner: BytesLike, nonce: int, calls: Sequence[Call]) -> List[Segment]:
    """``ParallelMultiCallContractArgs`` struct words: ``type hash ‖ u256 nonce ‖
    keccak(hash(call_1) ‖ … ‖ hash(call_n))``."""
    calls = list(calls)
    if not calls:
        raise ValidationError("owner calls need at least one call")
    flavour = _flavour(owner)
    hashes = b"".join(call_contract_arg_hash(flavour, c) for c in calls)
    return [Segment("type hash", _type_hash(flavour, "ParallelMultiCallContractArgs"),
                    "ParallelMultiCallContractArgs (+ CallContractArg, CallParams)"),
            Segment("nonce u256", _word(nonce, "nonce"), str(nonce)),
            Segment("call_contract_args keccak", keccak256(hashes), f"keccak of {len(calls)} call hash(es)")]
