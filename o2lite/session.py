"""Session endpoints: ``PUT /v1/session`` and ``POST /v1/session/actions`` (PROTOCOL §5).

These send bodies that are already built and signed; building and signing them lives in the
trading layer. Neither request is ever retried: a lost answer may mean it landed.
"""

from __future__ import annotations

from typing import Any, Mapping

from ._hex import b256_hex
from .errors import ValidationError
from .models import TxResult
from .transport import Transport

__all__ = ["Session", "MAX_ACTIONS", "MAX_MARKET_GROUPS"]

MAX_ACTIONS = 5  # actions per request across all groups (PROTOCOL §4)
MAX_MARKET_GROUPS = 5  # market groups per request (PROTOCOL §4)


class Session:
    """Low-level session calls. ``owner`` goes in the ``O2-Owner-Id`` header."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def update(self, owner: str, body: Mapping[str, Any]) -> TxResult:
        """``PUT /v1/session`` with a signed body ``{contract_id, session_id, signature,
        contract_ids, nonce | parallel_nonce, expiry}`` → ``{tx_id, …}``."""
        if not body.get("contract_ids"):
            raise ValidationError("a session needs at least one contract id")
        reply = self._t.request("PUT", "/v1/session", json_body=dict(body),
                                headers={"O2-Owner-Id": b256_hex(owner, "owner")})
        return TxResult.from_json(reply, "PUT /v1/session")

    def actions(self, owner: str, body: Mapping[str, Any]) -> TxResult:
        """``POST /v1/session/actions`` with a signed body ``{actions: [{market_id, actions}],
        signature, nonce | parallel_nonce, trade_account_id, session_id, collect_orders}``.

        Rejects locally: no actions, more than 5 actions or more than 5 market groups.
        """
        groups = body.get("actions") or []
        total = sum(len(g.get("actions") or []) for g in groups)
        if total == 0:
            raise ValidationError("no actions to send")
        if total > MAX_ACTIONS:
            raise ValidationError(f"at most {MAX_ACTIONS} actions per request, got {total}")
        if len(groups) > MAX_MARKET_GROUPS:
            raise ValidationError(f"at most {MAX_MARKET_GROUPS} market groups per request, got {len(groups)}")
        reply = self._t.request("POST", "/v1/session/actions", json_body=dict(body),
                                headers={"O2-Owner-Id": b256_hex(owner, "owner")})
        return TxResult.from_json(reply, "POST /v1/session/actions")
