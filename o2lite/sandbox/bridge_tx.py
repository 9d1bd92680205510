"""The sandbox proxy's transaction builders: unsigned deposits and withdrawals in the real formats.

What they build is exactly what :mod:`o2lite.bridge.evm` and :mod:`o2lite.bridge.fuel` read (and
o2-sdk's inspection accepts): an unsigned EIP-1559 Messenger call, and the proxy's Fuel Script
transaction calling ``withdraw_via_fast_bridge_with_fee`` (layouts in those modules' docs).
"""

from __future__ import annotations

import hashlib
from typing import List, Optional, Sequence

from ..bridge.evm import MESSENGER_METHODS, Rlp, rlp_encode
from ..bridge.fuel import WITHDRAW_SELECTOR, expected_script
from ..keccak import keccak256

__all__ = ["deposit_calldata", "build_deposit_transaction", "build_withdraw_transaction"]

GAS_LIMIT = 150_000  # the sandbox's EVM gas limit for a Messenger call
MAX_FEE_PER_GAS = 3_000_000_000  # 3 gwei
MAX_PRIORITY_FEE_PER_GAS = 1_000_000_000  # 1 gwei
FUEL_SCRIPT_GAS = 1_000_000
_SELECTORS = {name: keccak256(sig.encode())[:4] for name, (sig, _) in MESSENGER_METHODS.items()}


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _minimal(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def deposit_calldata(method: str, words: Sequence[int]) -> bytes:
    """``selector ‖ 32-byte words`` of a Messenger call."""
    return _SELECTORS[method] + b"".join(w.to_bytes(32, "big") for w in words)


def build_deposit_transaction(*, chain_id: int, nonce: int, messenger: bytes, method: str, words: Sequence[int],
                              value: int) -> bytes:
    """``0x02 ‖ RLP([chainId, nonce, priority fee, max fee, gas, messenger, value, data, []])``."""
    fields: List[Rlp] = [_minimal(chain_id), _minimal(nonce), _minimal(MAX_PRIORITY_FEE_PER_GAS), _minimal(MAX_FEE_PER_GAS),
              _minimal(GAS_LIMIT), messenger, _minimal(value), deposit_calldata(method, words), []]
    return b"\x02" + rlp_encode(fields)


def build_withdraw_transaction(*, owner: bytes, coin_amount: int, asset_id: bytes, amount: int, registry: bytes,
                               sub_id: bytes, destination_chain_id: int, recipient: bytes, fee: int,
                               max_inputs: int, expiration: int, utxo: Optional[bytes] = None) -> bytes:
    """The proxy's withdrawal: one coin of ``owner`` (``coin_amount`` of ``asset_id``), the
    registry contract, change back to ``owner``, the contract output and one variable output."""
    offset = 192 + 40 * max_inputs
    selector_pointer = offset + 88
    data = (_u64(amount) + asset_id + registry + _u64(selector_pointer)
            + _u64(selector_pointer + 8 + len(WITHDRAW_SELECTOR)) + _u64(len(WITHDRAW_SELECTOR)) + WITHDRAW_SELECTOR
            + sub_id + destination_chain_id.to_bytes(4, "big") + bytes(12) + recipient + _u64(fee))
    script = expected_script(max_inputs)
    utxo = utxo or hashlib.sha256(b"o2lite-sandbox:utxo:" + owner + asset_id + _u64(coin_amount)).digest()
    inputs: List[bytes] = [
        _u64(0) + utxo + _u64(0) + owner + _u64(coin_amount) + asset_id + _u64(1) + _u64(0) + _u64(0) * 4,
        _u64(1) + bytes(32) + _u64(0) + bytes(64) + _u64(0) + _u64(0) + registry,
    ]
    outputs = [_u64(2) + owner + _u64(0) + asset_id, _u64(1) + _u64(1) + bytes(64), _u64(3) + bytes(72)]
    policies = _u64(0) + _u64(expiration)  # maxFee 0 (the sandbox charges no network fee), expiration
    header = (_u64(0) + _u64(FUEL_SCRIPT_GAS) + bytes(32) + _u64(len(script)) + _u64(len(data)) + _u64(0b11000)
              + _u64(len(inputs)) + _u64(len(outputs)) + _u64(1))
    return (header + script + data + bytes(-len(data) % 8) + policies + b"".join(inputs) + b"".join(outputs)
            + _u64(0))
