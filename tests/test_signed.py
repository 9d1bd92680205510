"""``SignedRequest``: a wide record built by keyword only, carrying its :class:`~o2lite.nonce.Nonce`."""

from __future__ import annotations

import hashlib

import pytest

from o2lite.encoding import Segment
from o2lite.nonce import Nonce
from o2lite.signed import SignedRequest
from o2lite.signing import Wallet

KEY = Wallet("0x" + "21" * 32)


def fields() -> dict:
    segments = (Segment("nonce u64", (7).to_bytes(8, "big"), "7"), Segment("calls u64", bytes(8), "0"))
    digest = hashlib.sha256(b"".join(s.data for s in segments)).digest()
    return dict(title="session actions: none", method="POST", path="/v1/session/actions", headers={},
                body={"nonce": "7"}, segments=segments, recipe="sha256", digest=digest,
                signature=bytes(KEY.sign_digest(digest)), signer=KEY.address, nonce=Nonce.sequential(7))


def test_built_by_keyword_only():
    values = fields()
    with pytest.raises(TypeError):
        SignedRequest(*values.values())  # type: ignore[misc]
    request = SignedRequest(**values)
    assert request.nonce == Nonce.sequential(7) and request.nonce.field in request.body
    assert "nonce: sequential 7" in request.explain()
    with pytest.raises(AttributeError):
        request.nonce = Nonce.sequential(8)  # type: ignore[misc]
    with pytest.raises(ValueError, match="recipe"):
        SignedRequest(**dict(values, recipe="md5"))


def test_every_signed_request_of_the_package_is_built_by_keyword():
    """No positional ``SignedRequest(`` call anywhere in the package (12–14 arguments once)."""
    import pathlib
    import re

    root = pathlib.Path(__file__).parent.parent / "o2lite"
    calls = [(path.name, path.read_text()[match.end():match.end() + 40]) for path in root.rglob("*.py")
             for match in re.finditer(r"SignedRequest\(", path.read_text())]
    assert len(calls) >= 4  # session registration, session actions, owner operations, the body checker
    positional = [(name, start) for name, start in calls if not re.match(r"\s*(\w+=|\*\*)", start)]
    assert positional == []
