"""Signing: python-ecdsa's own verifier agrees, low-s, recovery, wallets never show keys."""

from __future__ import annotations

import hashlib
import os
import random

import ecdsa
import pytest
from ecdsa.util import sigdecode_string

from o2lite import signing
from o2lite.errors import ValidationError

N = ecdsa.SECP256k1.order
KEY = "0x" + "35cf2cdf3dba218e0559fae92c3c889de910a51a2bdb65c6098eacd743455aff"


def _ecdsa_key(private_key: str) -> ecdsa.SigningKey:
    return ecdsa.SigningKey.from_string(bytes.fromhex(private_key[2:]), curve=ecdsa.SECP256k1)


@pytest.mark.parametrize("seed", range(12))
def test_python_ecdsa_verifier_accepts_and_recovers(seed):
    """The cross-check does not trust our curve code: python-ecdsa verifies and recovers."""
    digest = hashlib.sha256(f"message {seed}".encode()).digest()
    sig = signing.sign_digest(KEY, digest, pure=True)
    r, s = sig[:32], bytes([sig[32] & 0x7F]) + sig[33:]
    recovery_id = sig[32] >> 7
    vk = _ecdsa_key(KEY).get_verifying_key()
    assert vk.verify_digest(r + s, digest, sigdecode=sigdecode_string)
    assert int.from_bytes(s, "big") <= ecdsa.SECP256k1.order // 2  # low-s
    candidates = ecdsa.VerifyingKey.from_public_key_recovery_with_digest(
        r + s, digest, ecdsa.SECP256k1, sigdecode=sigdecode_string)
    assert candidates[recovery_id].to_string() == vk.to_string()  # our recovery bit picks the signer
    assert signing.recover_public_key(sig, digest, pure=True) == vk.to_string()


def test_same_k_as_python_ecdsa_rfc6979():
    digest = hashlib.sha256(b"rfc6979").digest()
    theirs = _ecdsa_key(KEY).sign_digest_deterministic(digest, hashfunc=hashlib.sha256,
                                                       sigencode=ecdsa.util.sigencode_string)
    ours = signing.sign_digest(KEY, digest, pure=True)
    assert ours[:32] == theirs[:32]  # r comes from k: same k


def test_rfc6979_k_equals_python_ecdsa_generate_k():
    from ecdsa.rfc6979 import generate_k

    rng = random.Random(6979)
    cases = [(1, b"\x00" * 32), (N - 1, b"\xff" * 32), (N - 1, N.to_bytes(32, "big"))]
    cases += [(rng.randrange(1, N), rng.randbytes(32)) for _ in range(150)]
    for d, digest in cases:
        for retry in (0, 1, 2):
            assert signing._rfc6979_k(d, digest, retry) == generate_k(N, d, hashlib.sha256, digest, retry_gen=retry)


def test_verify_and_tamper():
    wallet = signing.Wallet(KEY)
    digest = os.urandom(32)
    sig = wallet.sign_digest(digest)
    assert signing.verify(sig, digest, wallet.public_key)
    tampered = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
    assert not signing.verify(tampered, digest, wallet.public_key)
    assert not signing.verify(sig, os.urandom(32), wallet.public_key)


@pytest.mark.parametrize("bad", ["0x1234", "zz" * 32, b"\x01" * 31, "0x" + "00" * 32, "0x" + "ff" * 32, 12345])
def test_bad_private_keys_rejected_without_echo(bad):
    with pytest.raises(ValidationError) as info:
        signing.Wallet(bad)
    assert "ff" * 8 not in str(info.value) and "zz" not in str(info.value)


def test_key_forms_agree():
    raw = bytes.fromhex(KEY[2:])
    assert signing.Wallet(KEY).address == signing.Wallet(KEY[2:]).address == signing.Wallet(raw).address \
        == signing.Wallet(KEY.upper().replace("0X", "0x")).address


def test_digest_length_checked():
    with pytest.raises(ValidationError, match="digest must be 32 bytes"):
        signing.sign_digest(KEY, b"short")


def test_wallet_repr_hides_key():
    for cls in (signing.Wallet, signing.EvmWallet):
        wallet = cls(KEY)
        for text in (repr(wallet), str(wallet), f"{wallet}"):
            assert KEY[2:] not in text and KEY[2:].upper() not in text
            assert wallet.address in text
        assert not hasattr(wallet, "__dict__")
        with pytest.raises(TypeError):
            __import__("pickle").dumps(wallet)


def test_generate_is_random_and_valid():
    a, b = signing.Wallet.generate(), signing.EvmWallet.generate()
    assert a.address != signing.Wallet.generate().address
    assert b.address.startswith("0x" + "00" * 12)
    digest = os.urandom(32)
    assert signing.recover_public_key(a.sign_digest(digest), digest) == a.public_key


def test_wallet_is_a_signer():
    assert isinstance(signing.Wallet(KEY), signing.Signer)


def test_pure_env_forces_pure_path(monkeypatch):
    calls = []
    monkeypatch.setattr(signing, "_sign_pure", lambda d, digest: calls.append(1) or b"\x00" * 64)
    monkeypatch.setenv("O2LITE_PURE_SIGNING", "1")
    signing.sign_digest(KEY, bytes(32))
    assert calls == [1]


def test_recover_rejects_garbage():
    with pytest.raises(ValidationError):
        signing.recover_public_key(b"\x00" * 64, bytes(32))


def test_fixed_base_signing_matches_python_ecdsa_for_random_keys():
    """200 random keys and digests: o2lite's pure signature (fixed-base k·G) equals python-ecdsa's
    deterministic signature (low-s, recovery bit added), byte for byte."""
    import random

    import ecdsa
    from ecdsa.util import sigdecode_string, sigencode_string

    rng = random.Random(13)
    n = ecdsa.SECP256k1.order
    for _ in range(200):
        key = rng.randrange(1, n).to_bytes(32, "big")
        digest = rng.randbytes(32)
        ours = signing.sign_digest(key, digest, pure=True)
        sk = ecdsa.SigningKey.from_string(key, curve=ecdsa.SECP256k1)
        r, s = sigdecode_string(sk.sign_digest_deterministic(digest, hashfunc=hashlib.sha256,
                                                             sigencode=sigencode_string), n)
        s = min(s, n - s)
        assert ours[:32] == r.to_bytes(32, "big")
        assert int.from_bytes(ours[32:], "big") & ((1 << 255) - 1) == s
        public = signing.public_key_of(key, pure=True)
        assert public == sk.get_verifying_key().to_string()
        assert signing.recover_public_key(ours, digest, pure=True) == public


def test_verify_recoverable_agrees_with_recovery():
    """The sandbox's cached-key check accepts exactly what recovery accepts."""
    import random

    from o2lite import _ec

    rng = random.Random(14)
    key = rng.randbytes(32)
    public = signing.public_key_of(key, pure=True)
    other = signing.public_key_of(rng.randbytes(32), pure=True)
    table = _ec.FixedBase(_ec.point_from_bytes(public))
    for _ in range(40):
        digest = rng.randbytes(32)
        sig = signing.sign_digest(key, digest, pure=True)
        assert _ec.verify_recoverable(sig, digest, public, table)
        assert not _ec.verify_recoverable(sig, digest, other)
        flipped = sig[:32] + bytes([sig[32] ^ 0x80]) + sig[33:]  # the other recovery id
        assert not _ec.verify_recoverable(flipped, digest, public, table)
        assert signing.recover_public_key(flipped, digest, pure=True) != public
        assert not _ec.verify_recoverable(sig, rng.randbytes(32), public, table)
