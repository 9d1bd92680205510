"""How the sandbox checks signatures: rebuild the bytes from the request JSON, recover the
signer, compare addresses — the exchange's own procedure (PROTOCOL §6–10)."""

from __future__ import annotations

import hashlib
from typing import Any, Mapping, Optional

from .. import signing
from ..errors import ValidationError
from ..typed_data import is_evm_owner


class BadSignature(Exception):
    """The recovered signer is not the expected one (code 4000)."""


def signature_bytes(signature: Any, kind: str) -> bytes:
    """The 64 bytes under ``{kind: "0x…"}``; anything else is a bad signature."""
    if not isinstance(signature, Mapping) or set(signature) != {kind}:
        raise BadSignature(f"expected a {kind} signature")
    try:
        return bytes.fromhex(str(signature[kind])[2:])
    except ValueError:
        raise BadSignature("signature is not hex") from None


def recovered_address(signature: bytes, digest: bytes, evm: bool) -> Optional[str]:
    """The Fuel (sha256) or EVM (zero-padded keccak) address that signed ``digest``."""
    try:
        public_key = signing.recover_public_key(signature, digest)
    except ValidationError:
        return None
    return signing.evm_b256_address(public_key) if evm else signing.fuel_address(public_key)


def check_owner_personal(signature: Any, message: bytes, owner: str) -> None:
    """An owner's personal signature (``Secp256k1``) over ``message``."""
    evm = is_evm_owner(owner)
    digest = signing.evm_personal_digest(message) if evm else signing.fuel_personal_digest(message)
    if recovered_address(signature_bytes(signature, "Secp256k1"), digest, evm) != owner:
        raise BadSignature("Invalid signature")


def check_owner_typed(signature: Any, digest: bytes, owner: str) -> None:
    """An owner's typed signature (``TypedSecp256k1``) over an SRC-16/EIP-712 digest."""
    evm = is_evm_owner(owner)
    if recovered_address(signature_bytes(signature, "TypedSecp256k1"), digest, evm) != owner:
        raise BadSignature("Invalid signature")


def check_session(signature: Any, message: bytes, session_address: str) -> None:
    """A session key's ``Secp256k1`` signature over ``sha256(message)``."""
    digest = hashlib.sha256(message).digest()
    if recovered_address(signature_bytes(signature, "Secp256k1"), digest, False) != session_address:
        raise BadSignature("Invalid signature")
