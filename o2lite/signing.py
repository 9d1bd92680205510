"""secp256k1 keys and Fuel-style compact signatures, byte-exact with the official SDK.

A Fuel compact signature is 64 bytes ``r ‖ s``: ``s`` is *low* (≤ n/2) and the recovery id
(0 or 1, the parity of the nonce point's ``y``) is stored in the top bit of ``s[0]``. The nonce
``k`` is RFC 6979 with HMAC-SHA256, the same ``k`` libsecp256k1 derives, so a signature depends
only on key and digest and the golden vectors match to the byte.

What is signed (PROTOCOL §6):

- session actions: ``sha256(message)`` with the session key (:func:`raw_sign`);
- owner "personal sign": :func:`fuel_personal_digest` for Fuel owners,
  :func:`evm_personal_digest` for EVM owners;
- typed owner data (SRC-16 / EIP-712): the 32-byte digest itself (:func:`sign_digest`).

Backends. The pure path computes ``k·G`` with a precomputed fixed-base table of the generator
(:mod:`o2lite._ec`: built lazily on the first signature, ~50 ms and ~1.5 MB once per process)
and uses python-ecdsa for RFC 6979 and public-key recovery (imported on first use, not at
``import o2lite``). If ``coincurve`` (libsecp256k1) is installed — ``pip install o2lite[fast]``
— it is used instead; the bytes are identical. Set ``O2LITE_PURE_SIGNING=1`` or pass
``pure=True`` to force the pure path.

Security note: python-ecdsa's scalar multiplication is not constant-time (CVE-2024-23342 is a
timing side channel on its signing). An attacker who can time many signatures by one key on
your machine may learn that key. o2lite signs most traffic with *session* keys that live for a
short expiry, are scoped to the markets of one trade account and cannot withdraw, which bounds
what such a leak is worth; sign with owner keys rarely, or install ``coincurve``. The fixed-base
table changes nothing here: its lookups depend on the secret nonce's bytes, as python-ecdsa's
own precomputed multiplication does — no worse, and not constant-time either.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import Any, Optional, Protocol, Tuple, Type, TypeVar, runtime_checkable


from . import _ec
from ._hex import BytesLike, to_bytes
from .errors import ValidationError
from .keccak import keccak256

__all__ = [
    "Signer",
    "Wallet",
    "EvmWallet",
    "sign_digest",
    "raw_sign",
    "fuel_personal_digest",
    "evm_personal_digest",
    "recover_public_key",
    "verify",
    "public_key_of",
    "fuel_address",
    "evm_address",
    "evm_b256_address",
]

# secp256k1 domain parameters (SEC 2, §2.4.1).
P = 2**256 - 2**32 - 977  # field prime
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # group order
_HALF_N = N // 2  # low-s bound

_PURE_ENV = "O2LITE_PURE_SIGNING"


def _private_scalar(private_key: BytesLike) -> int:
    """The secret scalar from 32 bytes or 64 hex digits (``0x`` optional), checked 1 ≤ d < n."""
    d = int.from_bytes(to_bytes(private_key, 32, "private key"), "big")
    if not 0 < d < N:
        raise ValidationError("private key is out of range for secp256k1")
    return d


def _digest32(digest: BytesLike) -> bytes:
    return to_bytes(digest, 32, "digest")


# --- backends -----------------------------------------------------------------------------

_coincurve: Any = None  # the module, False when unavailable, None before the first look


def _fast_backend(pure: Optional[bool]) -> Any:
    """coincurve when installed and not disabled, else ``None``."""
    global _coincurve
    if pure or (pure is None and os.environ.get(_PURE_ENV, "") not in ("", "0")):
        return None
    if _coincurve is None:
        try:
            import coincurve  # type: ignore[import-not-found,unused-ignore]

            _coincurve = coincurve
        except ImportError:
            _coincurve = False
    return _coincurve or None


def _curve() -> Tuple[Any, Any]:
    """python-ecdsa's secp256k1 generator (with its precomputed tables) and curve."""
    from ecdsa import SECP256k1  # type: ignore[import-untyped]  # lazy: keeps `import o2lite` cheap

    return SECP256k1.generator, SECP256k1.curve


def _rfc6979_k(d: int, digest: bytes, retry: int) -> int:
    """RFC 6979 §3.2 with HMAC-SHA256, specialised to secp256k1 (qlen = hlen = 256 bits).

    ``x`` = int2octets(d) and ``h`` = bits2octets(digest) = (digest as an integer mod N), 32
    bytes each; ``V = 0x01×32``, ``K = 0x00×32``; ``K = HMAC_K(V ‖ 0x00 ‖ x ‖ h)``,
    ``V = HMAC_K(V)``, ``K = HMAC_K(V ‖ 0x01 ‖ x ‖ h)``, ``V = HMAC_K(V)``; then each candidate
    is ``V = HMAC_K(V)`` read big-endian, kept when ``1 ≤ k < N``, and between candidates
    ``K = HMAC_K(V ‖ 0x00)``, ``V = HMAC_K(V)``. ``retry`` skips that many valid candidates
    (python-ecdsa's ``retry_gen``). The one-shot ``hmac.digest`` runs in C: 13 µs against
    18 µs for python-ecdsa's ``generate_k`` here, with the same ``k`` (a test draws both).
    """
    x = d.to_bytes(32, "big")
    h = (int.from_bytes(digest, "big") % N).to_bytes(32, "big")
    v, k = b"\x01" * 32, b"\x00" * 32
    k = hmac.digest(k, v + b"\x00" + x + h, "sha256")
    v = hmac.digest(k, v, "sha256")
    k = hmac.digest(k, v + b"\x01" + x + h, "sha256")
    v = hmac.digest(k, v, "sha256")
    while True:
        v = hmac.digest(k, v, "sha256")
        candidate = int.from_bytes(v, "big")
        if 1 <= candidate < N:
            if retry <= 0:
                return candidate
            retry -= 1
        k = hmac.digest(k, v + b"\x00", "sha256")
        v = hmac.digest(k, v, "sha256")


def _sign_pure(d: int, digest: bytes) -> bytes:
    z = int.from_bytes(digest, "big")
    retry = 0
    while True:
        k = _rfc6979_k(d, digest, retry)
        x, y = _ec.mul_g(k)  # R = k·G from the fixed-base table; its y parity is the recovery id
        r = x % N
        s = pow(k, -1, N) * (z + r * d) % N
        if r and s:
            break
        retry += 1  # libsecp256k1 draws the next RFC 6979 candidate too (astronomically rare)
    recovery_id = y & 1
    if s > _HALF_N:
        s = N - s  # low-s: negating s negates R, which flips its y parity
        recovery_id ^= 1
    return r.to_bytes(32, "big") + (s | (recovery_id << 255)).to_bytes(32, "big")


def _sign_fast(cc: Any, d: int, digest: bytes, key: Any = None) -> bytes:
    """libsecp256k1's recoverable signature in Fuel's compact form; ``key`` is a cached
    ``coincurve.PrivateKey`` of ``d`` (making one costs more than signing)."""
    key = key if key is not None else cc.PrivateKey(d.to_bytes(32, "big"))
    compact: bytes = key.sign_recoverable(digest, hasher=None)
    s0 = compact[32] | (compact[64] << 7)
    return compact[:32] + bytes([s0]) + compact[33:64]


def sign_digest(private_key: BytesLike, digest: BytesLike, *, pure: Optional[bool] = None) -> bytes:
    """Sign **any** 32 bytes as given — no hashing, no prefix — and return 64 bytes ``r ‖ s``.

    Danger: this signs whatever it is handed. Only pass digests you built yourself
    (:func:`raw_sign` and the personal/typed digest helpers do that for you).

    Layout: ``r`` (32, big-endian) ‖ ``s`` (32, big-endian, low-s) with the recovery id in
    the top bit of ``s[0]``. ``k`` is RFC 6979 (HMAC-SHA256); the recovery id is the parity of
    ``R.y``, flipped when ``s`` is negated — never found by trial recovery.
    """
    d = _private_scalar(private_key)
    digest = _digest32(digest)
    cc = _fast_backend(pure)
    return _sign_fast(cc, d, digest) if cc else _sign_pure(d, digest)


def raw_sign(private_key: BytesLike, message: bytes, *, pure: Optional[bool] = None) -> bytes:
    """``sign_digest(key, sha256(message))``: how session keys sign session actions."""
    return sign_digest(private_key, hashlib.sha256(bytes(message)).digest(), pure=pure)


def fuel_personal_digest(message: bytes) -> bytes:
    """``sha256(b"\\x19Fuel Signed Message:\\n" ‖ decimal len(message) ‖ message)``."""
    message = bytes(message)
    return hashlib.sha256(b"\x19Fuel Signed Message:\n" + str(len(message)).encode() + message).digest()


def evm_personal_digest(message: bytes) -> bytes:
    """``keccak256(b"\\x19Ethereum Signed Message:\\n" ‖ decimal len(message) ‖ message)``."""
    message = bytes(message)
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


def _split_signature(signature: BytesLike) -> Tuple[int, int, int]:
    raw = to_bytes(signature, 64, "signature")
    recovery_id = raw[32] >> 7
    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:], "big") & ((1 << 255) - 1)
    if not (0 < r < N and 0 < s < N):
        raise ValidationError("signature r or s is out of range")
    return r, s, recovery_id


def recover_public_key(signature: BytesLike, digest: BytesLike, *, pure: Optional[bool] = None) -> bytes:
    """The 64-byte public key ``x ‖ y`` that made ``signature`` over the 32-byte ``digest``.

    Raises :class:`ValidationError` when no key can have made it.
    """
    r, s, recovery_id = _split_signature(signature)
    digest = _digest32(digest)
    cc = _fast_backend(pure)
    if cc:
        compact = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([recovery_id])
        try:
            key = cc.PublicKey.from_signature_and_message(compact, digest, hasher=None)
        except Exception:  # coincurve raises a bare Exception on invalid signatures
            raise ValidationError("signature does not recover to a public key") from None
        return bytes(key.format(compressed=False)[1:])
    from ecdsa.ellipticcurve import PointJacobi  # type: ignore[import-untyped]

    generator, curve = _curve()
    y_squared = (pow(r, 3, P) + 7) % P
    y = pow(y_squared, (P + 1) // 4, P)
    if y * y % P != y_squared:
        raise ValidationError("signature does not recover to a public key")
    if y & 1 != recovery_id:
        y = P - y
    big_r = PointJacobi(curve, r, y, 1, N)
    r_inv = pow(r, -1, N)
    z = int.from_bytes(digest, "big")
    q = generator.mul_add(-z * r_inv % N, big_r, s * r_inv % N).to_affine()
    if not q or q.x() is None:
        raise ValidationError("signature does not recover to a public key")
    return int(q.x()).to_bytes(32, "big") + int(q.y()).to_bytes(32, "big")


def verify(signature: BytesLike, digest: BytesLike, public_key: BytesLike) -> bool:
    """True when ``signature`` over ``digest`` recovers to the 64-byte ``public_key``."""
    expected = to_bytes(public_key, 64, "public key")
    try:
        return recover_public_key(signature, digest) == expected
    except ValidationError:
        return False


def public_key_of(private_key: BytesLike, *, pure: Optional[bool] = None) -> bytes:
    """The 64-byte uncompressed public key ``x ‖ y`` (no ``0x04`` prefix) of a private key."""
    d = _private_scalar(private_key)
    cc = _fast_backend(pure)
    if cc:
        return bytes(cc.PrivateKey(d.to_bytes(32, "big")).public_key.format(compressed=False)[1:])
    x, y = _ec.mul_g(d)
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def fuel_address(public_key: BytesLike) -> str:
    """Fuel address: ``0x`` + hex of ``sha256(public_key)`` (64-byte key)."""
    return "0x" + hashlib.sha256(to_bytes(public_key, 64, "public key")).hexdigest()


def evm_address(public_key: BytesLike) -> str:
    """EVM address: ``0x`` + the last 20 bytes of ``keccak256(public_key)``, lowercase."""
    return "0x" + keccak256(to_bytes(public_key, 64, "public key"))[12:].hex()


def evm_b256_address(public_key: BytesLike) -> str:
    """An EVM address as an O2 owner: 12 zero bytes ‖ the 20-byte address, as ``0x`` hex."""
    return "0x" + "00" * 12 + evm_address(public_key)[2:]


# --- wallets --------------------------------------------------------------------------------


@runtime_checkable
class Signer(Protocol):
    """What o2lite needs from an owner or session signer; a hardware or remote signer fits.

    ``address`` is the O2 B256 owner address (``0x`` + 64 hex); ``personal_sign`` signs a
    message with the owner's personal-sign digest; ``sign_digest`` signs 32 bytes as given.
    """

    @property
    def address(self) -> str:
        """The B256 owner address, ``0x`` + 64 hex."""

    def personal_sign(self, message: bytes) -> bytes:
        """64-byte signature over the owner's personal-sign digest of ``message``."""

    def sign_digest(self, digest: bytes) -> bytes:
        """64-byte signature over these 32 bytes, as given."""


W = TypeVar("W", bound="Wallet")


class Wallet:
    """A Fuel secp256k1 key: an O2 owner (Fuel kind) or a session key.

    ``repr`` and ``str`` show the address only; the key is never printed.

    >>> w = Wallet("0x" + "11" * 32)
    >>> w.address
    '0xb4e84a53cd74a3ed9bf15e1edd92c2a69e567462c58aa8265f89d24c2204e1d7'
    """

    __slots__ = ("_scalar", "public_key", "address", "_cc_key")

    def __init__(self, private_key: BytesLike) -> None:
        self._cc_key: Any = None  # a coincurve.PrivateKey, made on first use
        self._scalar = _private_scalar(private_key)
        #: 64-byte uncompressed public key ``x ‖ y``.
        self.public_key: bytes = public_key_of(self._scalar.to_bytes(32, "big"))
        #: O2 owner / session address (B256, lowercase ``0x`` hex).
        self.address: str = self._address_of(self.public_key)

    @staticmethod
    def _address_of(public_key: bytes) -> str:
        return fuel_address(public_key)

    @classmethod
    def generate(cls: Type[W]) -> W:
        """A new random key from :mod:`secrets`."""
        return cls(secrets.randbelow(N - 1).__add__(1).to_bytes(32, "big"))

    def private_key_hex(self) -> str:
        """The private key as ``0x`` hex. Only for saving it; never log what this returns."""
        return "0x" + self._scalar.to_bytes(32, "big").hex()

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign 32 bytes as given (see :func:`sign_digest`); with coincurve, the libsecp256k1
        key object is made once per wallet."""
        cc = _fast_backend(None)
        if not cc:
            return _sign_pure(self._scalar, _digest32(digest))
        if self._cc_key is None:
            self._cc_key = cc.PrivateKey(self._scalar.to_bytes(32, "big"))
        return _sign_fast(cc, self._scalar, _digest32(digest), self._cc_key)

    def raw_sign(self, message: bytes) -> bytes:
        """Sign ``sha256(message)`` (session actions)."""
        return raw_sign(self._scalar.to_bytes(32, "big"), message)

    def personal_digest(self, message: bytes) -> bytes:
        """The owner personal-sign digest of ``message`` for this wallet's kind."""
        return fuel_personal_digest(message)

    def personal_sign(self, message: bytes) -> bytes:
        """Sign ``message`` as an owner: Fuel personal-sign digest, then :meth:`sign_digest`."""
        return self.sign_digest(self.personal_digest(message))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(address={self.address!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("wallets are not picklable: save private_key_hex() deliberately instead")


class EvmWallet(Wallet):
    """An EVM (Ethereum-style) owner key. Its O2 ``address`` is the zero-padded B256 form.

    Owner messages are signed with the EVM personal-sign digest (keccak256 with the
    ``\\x19Ethereum Signed Message:\\n`` prefix), in the same 64-byte compact format.
    """

    __slots__ = ("evm_address",)

    def __init__(self, private_key: BytesLike) -> None:
        super().__init__(private_key)
        #: The 20-byte EVM address, lowercase ``0x`` hex.
        self.evm_address: str = evm_address(self.public_key)

    @staticmethod
    def _address_of(public_key: bytes) -> str:
        return evm_b256_address(public_key)

    def personal_digest(self, message: bytes) -> bytes:
        """EVM personal-sign digest of ``message``."""
        return evm_personal_digest(message)
