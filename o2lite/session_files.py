"""Keeping a session between runs: a 0600 JSON file written atomically, read back with checks.

The file holds the session's private key (it can trade, never withdraw): it is created with
mode 0600 through a temporary file and a rename, so it is never half-written or world-readable.
"""

from __future__ import annotations

import os
from typing import Any

from ._files import write_json_atomic
from ._json import loads as json_loads
from ._hex import b256_hex, to_int
from .errors import ValidationError
from .nonce import LANES, NONCE_KINDS
from .session import TradeSession
from .signing import Wallet

__all__ = ["write_session", "read_session"]


def _check_path(path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValidationError("path must be a file path")
    return str(path)


def write_session(session: TradeSession, path: str) -> None:
    """Write ``session`` (with its key) as JSON, file mode 0600, atomically."""
    path = _check_path(path)
    data = {"trade_account_id": session.trade_account_id, "owner": session.owner,
            "session_private_key": session.signer.private_key_hex(), "contract_ids": list(session.contract_ids),
            "expiry": session.expiry, "nonce_kind": session.nonce_kind, "lane": session.lane}
    write_json_atomic(path, data, prefix=".o2lite-session-", mode=0o600)


def read_session(path: str) -> TradeSession:
    """A session written by :func:`write_session`; anything else is a :class:`ValidationError`."""
    path = _check_path(path)
    try:
        with open(path) as handle:
            data = json_loads(handle.read(1 << 16))  # bounded: 1000 × "[" is a ValueError, not a RecursionError
        if not isinstance(data, dict):
            raise ValueError("not an object")
        kind = data["nonce_kind"]
        if kind not in NONCE_KINDS:
            raise ValueError(f"nonce_kind {str(kind)[:20]!r}")
        return TradeSession(b256_hex(data["trade_account_id"], "trade_account_id"), b256_hex(data["owner"], "owner"),
                            Wallet(data["session_private_key"]),
                            tuple(b256_hex(c, "contract id") for c in data["contract_ids"]),
                            to_int(data["expiry"], "expiry"), kind,
                            to_int(data.get("lane", 0), "lane", high=LANES - 1))
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise ValidationError(f"{path} is not a session file written by save_session "
                              f"({type(exc).__name__}: {str(exc)[:60]})") from None
