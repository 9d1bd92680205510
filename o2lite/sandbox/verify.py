"""How the sandbox checks signatures: rebuild the bytes from the request JSON, and accept the
signature only if it recovers to the expected signer — the exchange's own rule (PROTOCOL §6–10).

Speed without changing the rule. Recovering a public key costs two variable-base scalar
multiplications; the sandbox does that once per signer. Each recovered key is cached by
address, and later signatures of that key are checked by computing ``R = u1·G + u2·Q`` with
fixed-base tables (:mod:`o2lite._ec`) and comparing ``R`` with the signature's ``r`` **and** its
recovery bit — exactly the point recovery would have started from, so the answer is the same.
With ``coincurve`` installed, its recovery is used instead. None of this runs under the
exchange lock: it depends only on the request.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Mapping, Optional, Tuple

from .. import _ec, signing
from ..errors import ValidationError
from ..typed_data import is_evm_owner

__all__ = ["BadSignature", "Verifier", "signature_bytes"]

_CACHED_KEYS = 4096  # signers whose public keys are remembered (LRU)
_TABLE_AFTER = 2  # a key seen this many times gets its own fixed-base table


class BadSignature(Exception):
    """The recovered signer is not the expected one, or the signature is malformed (code 4000)."""


def signature_bytes(signature: Any, labels: Tuple[str, ...]) -> bytes:
    """The 64 bytes under ``{label: "0x…"}`` for one of ``labels``; anything else is bad."""
    if not isinstance(signature, Mapping) or len(signature) != 1 or next(iter(signature)) not in labels:
        raise BadSignature(f"expected a {' or '.join(labels)} signature")
    text = next(iter(signature.values()))
    if not isinstance(text, str) or not text.startswith("0x") or len(text) != 130:
        raise BadSignature("signature must be 0x + 128 hex digits")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise BadSignature("signature is not hex") from None


class _Key:
    __slots__ = ("public_key", "uses", "table")

    def __init__(self, public_key: bytes) -> None:
        self.public_key = public_key
        self.uses = 0
        self.table: Optional[_ec.FixedBase] = None


class Verifier:
    """Checks that a signature over a digest was made by an address; thread-safe."""

    def __init__(self) -> None:
        self._keys: "OrderedDict[Tuple[str, bool], _Key]" = OrderedDict()
        self._lock = threading.Lock()

    def check(self, signature: Any, labels: Tuple[str, ...], digest: bytes, address: str, evm: bool) -> None:
        """Raise :class:`BadSignature` unless ``signature`` over ``digest`` recovers to ``address``
        (a Fuel address, or an EVM owner's zero-padded B256 when ``evm``)."""
        raw = signature_bytes(signature, labels)
        with self._lock:
            key = self._keys.get((address, evm))
            if key is not None:
                self._keys.move_to_end((address, evm))
                key.uses += 1
        if key is not None and signing._fast_backend(None) is None:
            if key.table is None and key.uses >= _TABLE_AFTER:
                key.table = _ec.FixedBase(_ec.point_from_bytes(key.public_key))
            if _ec.verify_recoverable(raw, digest, key.public_key, key.table):
                return
            raise BadSignature("Invalid signature")
        try:
            public_key = signing.recover_public_key(raw, digest)
        except ValidationError:
            raise BadSignature("Invalid signature") from None
        recovered = signing.evm_b256_address(public_key) if evm else signing.fuel_address(public_key)
        if recovered != address:
            raise BadSignature("Invalid signature")
        with self._lock:
            self._keys[(address, evm)] = _Key(public_key)
            while len(self._keys) > _CACHED_KEYS:
                self._keys.popitem(last=False)

    def owner_personal(self, signature: Any, message: bytes, owner: str) -> None:
        """An owner's personal signature (``Secp256k1``) over ``message``."""
        evm = is_evm_owner(owner)
        digest = signing.evm_personal_digest(message) if evm else signing.fuel_personal_digest(message)
        self.check(signature, ("Secp256k1",), digest, owner, evm)

    def owner_typed(self, signature: Any, digest: bytes, owner: str) -> None:
        """An owner's typed signature (``TypedSecp256k1``) over an SRC-16/EIP-712 digest."""
        self.check(signature, ("TypedSecp256k1",), digest, owner, is_evm_owner(owner))

    def session(self, signature: Any, message: bytes, session_address: str, labels: Tuple[str, ...]) -> None:
        """A session key's signature over ``sha256(message)``."""
        self.check(signature, labels, hashlib.sha256(message).digest(), session_address, False)
