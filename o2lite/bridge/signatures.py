"""The two bridge signatures, made with o2lite's own keys (:mod:`o2lite.signing`) — no new crypto.

- Deposit (EVM key of ``from``): sign ``keccak256(unsigned transaction bytes)`` **raw** — not
  personal-sign, not EIP-712 — and send 65 bytes ``r ‖ s ‖ v``, ``s`` low, ``v`` = 27 + recovery id.
- Withdraw (Fuel key of ``from``): sign the transaction id (computed locally by
  :func:`~o2lite.bridge.fuel.parse_fuel_unsigned_transaction`) raw, and send the 64-byte Fuel
  compact signature ``r ‖ s`` with the recovery id in the top bit of ``s[0]`` (PROTOCOL §6).

Both digests are derived here from the transaction itself, never taken from the proxy.
"""

from __future__ import annotations

from ..signing import EvmWallet, Wallet, evm_address, fuel_address, recover_public_key
from ._reader import check, hex0x, unhex
from .evm import parse_evm_unsigned_transaction
from .fuel import parse_fuel_unsigned_transaction

__all__ = ["evm_signature_from_compact", "compact_from_evm_signature", "sign_deposit", "sign_withdraw",
           "deposit_signer", "withdraw_signer"]

EVM_V_BASE = 27  # v = 27 + recovery id (pre-EIP-155 style, what the proxy expects for r ‖ s ‖ v)


def evm_signature_from_compact(compact: bytes) -> bytes:
    """Fuel compact ``r ‖ s(top bit = recovery id)`` → EVM ``r ‖ s ‖ v`` (65 bytes)."""
    check(len(compact) == 64, "a compact signature is 64 bytes")
    recovery_id = compact[32] >> 7
    return compact[:32] + bytes([compact[32] & 0x7F]) + compact[33:] + bytes([EVM_V_BASE + recovery_id])


def compact_from_evm_signature(signature: bytes) -> bytes:
    """EVM ``r ‖ s ‖ v`` (``v`` 27/28 or 0/1) → Fuel compact form; refuses a high ``s``."""
    check(len(signature) == 65, "an EVM signature is 65 bytes r ‖ s ‖ v")
    v = signature[64]
    check(v in (0, 1, 27, 28), "signature v must be 27/28 (or 0/1)")
    check(not signature[32] & 0x80, "signature s is not low")
    recovery_id = v - EVM_V_BASE if v >= EVM_V_BASE else v
    return signature[:32] + bytes([signature[32] | (recovery_id << 7)]) + signature[33:64]


def sign_deposit(wallet: EvmWallet, unsigned_transaction: str) -> str:
    """Sign an unsigned deposit: ``0x`` + 65 bytes ``r ‖ s ‖ v`` over ``keccak256(bytes)``.

    The transaction is parsed first (:func:`parse_evm_unsigned_transaction`): only a proxy deposit
    of the known shape is ever signed. Checking *what* it does is the caller's job (the
    :func:`~o2lite.bridge.flows.deposit` helper does it).
    """
    check(isinstance(wallet, EvmWallet), "a deposit is signed by the EvmWallet of `from`")
    digest = unhex(parse_evm_unsigned_transaction(unsigned_transaction).signing_digest, "digest")
    return hex0x(evm_signature_from_compact(wallet.sign_digest(digest)))


def sign_withdraw(wallet: Wallet, unsigned_transaction: str, fuel_chain_id: int, fuel_max_inputs: int) -> str:
    """Sign an unsigned withdrawal: ``0x`` + 64-byte Fuel compact signature over its id.

    The id is computed here from the transaction and the chain id and ``maxInputs`` you trust.
    """
    check(isinstance(wallet, Wallet) and not isinstance(wallet, EvmWallet),
          "a withdrawal is signed by the Fuel Wallet of `from` (an EVM key owns no Fuel coins)")
    tx_id = parse_fuel_unsigned_transaction(unsigned_transaction, fuel_chain_id, fuel_max_inputs).transaction_id
    return hex0x(wallet.sign_digest(unhex(tx_id, "transaction id")))


def deposit_signer(signing_digest: str, signature: str) -> str:
    """The EVM address (lowercase ``0x`` + 40 hex) that made a deposit signature."""
    compact = compact_from_evm_signature(unhex(signature, "signature"))
    return evm_address(recover_public_key(compact, unhex(signing_digest, "digest")))


def withdraw_signer(transaction_id: str, signature: str) -> str:
    """The Fuel address (``0x`` + 64 hex) that made a withdrawal signature."""
    sig = unhex(signature, "signature")
    check(len(sig) == 64, "a withdrawal signature is 64 bytes")
    return fuel_address(recover_public_key(sig, unhex(transaction_id, "transaction id")))
