"""Signed requests as values: prepared, explained, then (maybe) sent unchanged.

A :class:`SignedRequest` holds everything about one signed call: the HTTP method, path, headers
and JSON body that will be sent, the signing bytes as named :class:`~o2lite.encoding.Segment`\\ s
(their concatenation *is* what was signed), how the digest was made, the digest, the signature
and its signer, the nonce. :meth:`SignedRequest.explain` prints all of it byte by byte;
:meth:`SignedRequest.send` submits the body exactly as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from .encoding import Segment, join
from .keccak import keccak256
from .nonce import Nonce

__all__ = ["SignedRequest", "RECIPES", "personal_digest_segments"]

#: How each kind of signature turns signing bytes into the 32-byte digest that is signed.
RECIPES = {
    "sha256": "digest = sha256(signing bytes); signed by the session key",
    "fuel-personal": 'digest = sha256("\\x19Fuel Signed Message:\\n" ‖ decimal length ‖ signing bytes); '
                     "signed by the owner (Fuel)",
    "evm-personal": 'digest = keccak256("\\x19Ethereum Signed Message:\\n" ‖ decimal length ‖ signing bytes); '
                    "signed by the owner (EVM)",
    "typed": "digest = keccak256(0x19 0x01 ‖ domain separator ‖ keccak256(struct words)); signed by the owner "
             "as is (TypedSecp256k1)",
}


def personal_digest_segments(message: bytes, evm: bool) -> List[Segment]:
    """The personal-sign preimage: prefix ‖ decimal length ‖ message (hashed into the digest)."""
    prefix = b"\x19Ethereum Signed Message:\n" if evm else b"\x19Fuel Signed Message:\n"
    return [Segment("prefix", prefix, repr(prefix.decode())), Segment("length", str(len(message)).encode(),
                                                                     f"{len(message)} in decimal digits")]


@dataclass(frozen=True, init=False)
class SignedRequest:
    """One signed request, ready to send (see the module doc). Built by keyword only — a
    reader of the call sees which bytes are the digest and which the signature.

    ``segments`` are the signing bytes for personal and session signatures; for a typed
    signature they are the typed preimage (``0x1901 ‖ domain ‖ struct hash``) and ``struct``
    holds the struct words hashed into it. ``recipe`` is a key of :data:`RECIPES`; ``nonce``
    the :class:`~o2lite.nonce.Nonce` the body carries.
    """

    title: str
    method: str
    path: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]
    segments: Tuple[Segment, ...]
    recipe: str
    digest: bytes
    signature: bytes
    signer: str
    nonce: Nonce
    struct: Tuple[Segment, ...] = ()
    sender: Optional[Callable[["SignedRequest"], Any]] = field(default=None, repr=False, compare=False)

    def __init__(self, *, title: str, method: str, path: str, headers: Mapping[str, str], body: Mapping[str, Any],
                 segments: Tuple[Segment, ...], recipe: str, digest: bytes, signature: bytes, signer: str,
                 nonce: Nonce, struct: Tuple[Segment, ...] = (),
                 sender: Optional[Callable[["SignedRequest"], Any]] = None) -> None:
        if recipe not in RECIPES:
            raise ValueError(f"unknown digest recipe {recipe!r}")
        values = dict(title=title, method=method, path=path, headers=headers, body=body, segments=tuple(segments),
                      recipe=recipe, digest=digest, signature=signature, signer=signer, nonce=Nonce.of(nonce),
                      struct=tuple(struct), sender=sender)
        for name, value in values.items():
            object.__setattr__(self, name, value)  # frozen: set once, here

    @property
    def signing_bytes(self) -> bytes:
        """The signed payload: the concatenation of :attr:`segments`."""
        return join(self.segments)

    @property
    def r(self) -> int:
        """The signature's ``r``."""
        return int.from_bytes(self.signature[:32], "big")

    @property
    def s(self) -> int:
        """The signature's ``s`` (low-s), without the recovery bit."""
        return int.from_bytes(self.signature[32:], "big") & ((1 << 255) - 1)

    @property
    def recovery_id(self) -> int:
        """The recovery id (0/1), kept in the top bit of ``s``."""
        return self.signature[32] >> 7

    def send(self) -> Any:
        """Submit the body unchanged (never retried); the parsed answer."""
        if self.sender is None:
            raise RuntimeError("this request was not made by a client: nothing to send it with")
        return self.sender(self)

    def explain(self, *, width: int = 48) -> str:
        """Every signed byte with its meaning, then how the digest and signature were made."""
        lines = [f"{self.title}", f"{self.method} {self.path}  (O2-Owner-Id: {self.headers.get('O2-Owner-Id', '-')})",
                 f"nonce: {self.nonce}", ""]
        lines += _table("signing bytes" if self.recipe != "typed" else "typed preimage", self.segments, width)
        if self.struct:
            lines += [""] + _table("struct words (their keccak256 is the struct hash)", self.struct, width)
        data = self.signing_bytes
        lines += ["", f"digest recipe: {RECIPES[self.recipe]}"]
        if self.recipe in ("fuel-personal", "evm-personal"):
            prefix = personal_digest_segments(data, self.recipe == "evm-personal")
            inner = join(prefix) + data
            check = keccak256(inner) if self.recipe == "evm-personal" else hashlib.sha256(inner).digest()
            lines.append(f"  personal-sign preimage: {join(prefix)!r} ‖ {len(data)} signing bytes")
        elif self.recipe == "sha256":
            check = hashlib.sha256(data).digest()
        else:
            check = keccak256(data)
        assert check == self.digest, "the explanation must describe the very digest that was signed"
        lines += [f"digest:      0x{self.digest.hex()}",
                  f"signature:   r = 0x{self.r:064x}", f"             s = 0x{self.s:064x} (low-s)",
                  f"             recovery id = {self.recovery_id} (top bit of s[0])",
                  f"signer:      {self.signer}",
                  f"body:        {_short_body(self.body)}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()


def _table(title: str, segments: Tuple[Segment, ...], width: int) -> List[str]:
    lines = [f"{title}: {sum(len(s.data) for s in segments)} bytes",
             f"{'offset':>6} {'len':>4}  {'field':{width}}  value / hex"]
    offset = 0
    for seg in segments:
        hexed = seg.data.hex()
        shown = hexed if len(hexed) <= 64 else hexed[:60] + "…"
        value = f"{seg.value}  " if seg.value else ""
        lines.append(f"{offset:>6} {len(seg.data):>4}  {seg.name:{width}}  {value}{shown}")
        offset += len(seg.data)
    return lines


def _short_body(body: Mapping[str, Any]) -> str:
    import json

    shown: Dict[str, Any] = dict(body)
    if isinstance(shown.get("signature"), Mapping):
        shown["signature"] = {k: str(v)[:18] + "…" for k, v in shown["signature"].items()}
    text = json.dumps(shown, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= 400 else text[:400] + "…"
