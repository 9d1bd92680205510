"""The trading session of each account, shared by every :class:`o2lite.ccxt.O2` of the process.

O2 keeps one session per trade account (PROTOCOL §5, ``PUT /v1/session``): a session opened
for one ``O2`` ends the session of any other. So the ``O2`` instances of one account in one
process share the newest session this process opened, and open it under a lock per account:
two threads at first need open one session, not two that cancel each other.
"""

from __future__ import annotations

import threading
from typing import Dict, Optional, Tuple

from ..session import TradeSession

__all__ = ["SessionKey", "session_lock", "current", "keep", "forget"]

#: (exchange base URL, trade account id, owner address)
SessionKey = Tuple[str, str, str]

_SESSIONS: Dict[SessionKey, TradeSession] = {}
_LOCKS: Dict[SessionKey, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def session_lock(key: SessionKey) -> threading.Lock:
    """The lock under which the account's session is chosen, opened or dropped."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def current(key: SessionKey) -> Optional[TradeSession]:
    """The session this process last opened for the account, if any."""
    return _SESSIONS.get(key)


def keep(key: SessionKey, session: TradeSession) -> None:
    """Make ``session`` the account's session for every ``O2`` of the process."""
    _SESSIONS[key] = session


def forget(key: SessionKey, session: Optional[TradeSession]) -> None:
    """Drop ``session`` (the exchange no longer knows it) unless a newer one replaced it."""
    if session is not None and _SESSIONS.get(key) is session:
        del _SESSIONS[key]
