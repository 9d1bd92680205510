"""The preparation proof: the proxy's token binding a prepared transaction to its submit.

Layout: ``b64url(claims JSON) "." b64url(MAC)``, unpadded, canonical (re-encoding the bytes gives
the same text), at most 2048 characters; the MAC is 32 bytes; the claims are exactly
``{"version": 1, "keyId": str, "expiresAt": Unix seconds, "signer": "0x" + 40 or 64 lower hex}``.

The MAC is the proxy's HMAC over the operation, the claims and the exact transaction bytes, under
a key only the proxy holds: a client can read the claims but **cannot verify them**. They are
useful for one offline check — refuse to sign a proof that has already expired.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from .._json import loads as json_loads
from ..errors import ValidationError
from ._reader import check

__all__ = ["PreparationProofClaims", "MAX_PROOF_CHARS", "parse_preparation_proof"]

MAX_PROOF_CHARS = 2048  # o2-sdk 0.5.0's bound
MAX_EXPIRES_AT = 9007199254740991  # 2**53 - 1: a JavaScript safe integer
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_SIGNER = re.compile(r"0x(?:[0-9a-f]{40}|[0-9a-f]{64})")
_CLAIMS = {"version", "keyId", "expiresAt", "signer"}


@dataclass(frozen=True)
class PreparationProofClaims:
    """UNAUTHENTICATED claims of a proof; ``expires_at`` is Unix seconds (expired proofs still parse)."""

    version: int
    key_id: str
    expires_at: int
    signer: str


def _decode(part: str) -> bytes:
    check(_B64URL.fullmatch(part), "invalid preparation proof encoding (not base64url)")
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):  # a length of 4k+1 characters decodes to nothing
        raise ValidationError("invalid preparation proof encoding (impossible base64 length)") from None
    check(base64.urlsafe_b64encode(data).decode().rstrip("=") == part, "noncanonical preparation proof encoding")
    return data


def parse_preparation_proof(proof: str) -> PreparationProofClaims:
    """Decode a proof's claims (no authentication: see the module doc).

    >>> import base64, json
    >>> claims = json.dumps({"version": 1, "keyId": "k", "expiresAt": 1, "signer": "0x" + "ab" * 20})
    >>> text = base64.urlsafe_b64encode(claims.encode()).decode().rstrip("=")
    >>> parse_preparation_proof(text + "." + "A" * 43).key_id  # "A" * 43: a 32-byte MAC of zeros
    'k'

    Raises:
        ValidationError: over 2048 characters, not two canonical base64url parts, a MAC that is not
            32 bytes, claims that are not exactly the four fields with their types and ranges.
    """
    check(isinstance(proof, str), "preparation proof must be text")
    check(len(proof) <= MAX_PROOF_CHARS, f"preparation proof over {MAX_PROOF_CHARS} characters")
    parts = proof.split(".")
    check(len(parts) == 2, "invalid preparation proof (expected claims.mac)")
    check(len(_decode(parts[1])) == 32, "invalid preparation proof MAC length (expected 32 bytes)")
    try:
        claims = json_loads(_decode(parts[0]).decode("utf-8"))
    except ValueError:  # UnicodeDecodeError, JSON errors and JSON limits are all ValueErrors
        raise ValidationError("invalid preparation proof claims (not UTF-8 JSON)") from None
    check(isinstance(claims, dict) and set(claims) == _CLAIMS, "invalid preparation proof claims (fields)")
    version, key_id, expires_at, signer = (claims[k] for k in ("version", "keyId", "expiresAt", "signer"))
    check(type(version) is int and version == 1, "unsupported preparation proof version")
    check(isinstance(key_id, str) and key_id, "invalid preparation proof keyId")
    check(type(expires_at) is int and 0 < expires_at <= MAX_EXPIRES_AT, "invalid preparation proof expiresAt")
    check(isinstance(signer, str) and _SIGNER.fullmatch(signer), "invalid preparation proof signer")
    return PreparationProofClaims(version=version, key_id=key_id, expires_at=expires_at, signer=signer)
