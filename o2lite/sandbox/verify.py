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
from collections.abc import Mapping
from typing import Any, Dict, Optional, Set, Tuple

from .. import _ec, signing
from ..errors import ValidationError
from ..typed_data import is_evm_owner

__all__ = ["BadSignature", "Verifier", "signature_bytes"]

_CACHED_KEYS = 4096  # signers whose public keys are remembered (LRU; 64 bytes each)
_SMALL_TABLES = 128  # keys with a 4-bit table (~150 kB each, a few ms to build), LRU
_LARGE_TABLES = 8  # busiest keys with an 8-bit table (~1.5 MB each, ~50 ms to build), LRU
_LARGE_AFTER = 64  # uses before a key earns the larger table


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


class Verifier:
    """Checks that a signature over a digest was made by an address; thread-safe.

    Memory is bounded: at most :data:`_CACHED_KEYS` public keys, :data:`_SMALL_TABLES` 4-bit
    and :data:`_LARGE_TABLES` 8-bit tables, each evicted least-recently-used first.
    """

    def __init__(self) -> None:
        self._keys: "OrderedDict[Tuple[str, bool], bytes]" = OrderedDict()
        self._uses: Dict[Tuple[str, bool], int] = {}
        self._small: "OrderedDict[Tuple[str, bool], _ec.FixedBase]" = OrderedDict()
        self._large: "OrderedDict[Tuple[str, bool], _ec.FixedBase]" = OrderedDict()
        self._building: Set[Tuple[str, bool]] = set()
        self._lock = threading.Lock()

    def _table(self, key: Tuple[str, bool], public_key: bytes) -> "Optional[_ec.FixedBase]":
        """The best table of a known key; builds (outside the lock, one build per key at a
        time) the table the key has earned. ``None`` while its first table is being built."""
        with self._lock:
            uses = self._uses[key] = self._uses.get(key, 0) + 1
            large = self._large.get(key)
            if large is not None:
                self._large.move_to_end(key)
                return large
            small = self._small.get(key)
            if small is not None:
                self._small.move_to_end(key)
            want = "large" if uses >= _LARGE_AFTER else ("small" if small is None else "")
            if not want or key in self._building:
                return small
            self._building.add(key)
        try:
            table = _ec.FixedBase(_ec.point_from_bytes(public_key), window=8 if want == "large" else 4)
        finally:
            with self._lock:
                self._building.discard(key)
        with self._lock:
            cache, limit = (self._large, _LARGE_TABLES) if want == "large" else (self._small, _SMALL_TABLES)
            cache[key] = table
            while len(cache) > limit:
                cache.popitem(last=False)
        return table

    def check(self, signature: Any, labels: Tuple[str, ...], digest: bytes, address: str, evm: bool) -> None:
        """Raise :class:`BadSignature` unless ``signature`` over ``digest`` recovers to ``address``
        (a Fuel address, or an EVM owner's zero-padded B256 when ``evm``)."""
        raw = signature_bytes(signature, labels)
        key = (address, evm)
        with self._lock:
            public_key = self._keys.get(key)
            if public_key is not None:
                self._keys.move_to_end(key)
        table = None
        if public_key is not None and signing._fast_backend(None) is None:
            table = self._table(key, public_key)
        if table is not None and public_key is not None:
            if _ec.verify_recoverable(raw, digest, public_key, table):
                return
            raise BadSignature("Invalid signature")
        try:
            recovered_key = signing.recover_public_key(raw, digest)
        except ValidationError:
            raise BadSignature("Invalid signature") from None
        recovered = signing.evm_b256_address(recovered_key) if evm else signing.fuel_address(recovered_key)
        if recovered != address:
            raise BadSignature("Invalid signature")
        with self._lock:
            self._keys[key] = recovered_key
            while len(self._keys) > _CACHED_KEYS:
                old, _ = self._keys.popitem(last=False)
                self._uses.pop(old, None)

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
