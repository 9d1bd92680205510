"""Trade accounts: create, look up, balances and the parallel-nonce window (PROTOCOL §5).

Signed owner operations (withdraw, upgrade, owner calls) are added by the trading layer.
"""

from __future__ import annotations

from typing import Optional

from ._hex import b256_hex, to_int
from .errors import ValidationError
from .models import Account, Balance, CreatedAccount
from .nonce import LANES, NonceWindow
from .transport import Transport

__all__ = ["Accounts"]


def _exactly_one(**choices: Optional[str]) -> tuple:
    given = [(k, v) for k, v in choices.items() if v is not None]
    if len(given) != 1:
        raise ValidationError(f"give exactly one of {', '.join(choices)}")
    name, value = given[0]
    return name, b256_hex(value, name)


class Accounts:
    """``/v1/accounts`` and ``/v1/balance``."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, owner: str) -> CreatedAccount:
        """``POST /v1/accounts {"identity": {"Address": owner}}`` → trade account id and nonce.

        Not retried (a POST); rate limited to 1/s per IP.
        """
        body = {"identity": {"Address": b256_hex(owner, "owner")}}
        return CreatedAccount.from_json(self._t.request("POST", "/v1/accounts", json_body=body))

    def get(self, *, owner: Optional[str] = None, owner_contract: Optional[str] = None,
            trade_account_id: Optional[str] = None) -> Account:
        """``GET /v1/accounts?owner | owner_contract | trade_account_id`` (exactly one).

        Returns an :class:`Account` whose ``exists`` is false when nothing was found.
        """
        name, value = _exactly_one(owner=owner, owner_contract=owner_contract, trade_account_id=trade_account_id)
        return Account.from_json(self._t.request("GET", "/v1/accounts", params={name: value}))

    def balance(self, asset_id: str, *, contract: Optional[str] = None, address: Optional[str] = None) -> Balance:
        """``GET /v1/balance?asset_id&contract|address`` (exactly one of contract/address)."""
        name, value = _exactly_one(contract=contract, address=address)
        return Balance.from_json(self._t.request("GET", "/v1/balance", params={
            "asset_id": b256_hex(asset_id, "asset_id"), name: value}))

    def nonce_window(self, trade_account_id: str, nonce_session_id: int = 0) -> NonceWindow:
        """``GET /v1/accounts/window?trade_account_id&nonce_session_id`` → the lane's window."""
        lane = to_int(nonce_session_id, "nonce_session_id", high=LANES - 1)
        body = self._t.request("GET", "/v1/accounts/window", params={
            "trade_account_id": b256_hex(trade_account_id, "trade_account_id"), "nonce_session_id": str(lane)})
        return NonceWindow.from_json(body)
