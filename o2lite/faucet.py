"""Test-network faucet: mint test tokens to an address or a trade account (PROTOCOL §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Dict

from ._hex import b256_hex
from .errors import O2Error, ValidationError
from .transport import Transport

__all__ = ["Faucet", "FaucetResult"]


@dataclass(frozen=True)
class FaucetResult:
    """The faucet's ``{message}`` on success."""

    message: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


class Faucet:
    """``POST <faucet url>`` with ``{"address"}`` or ``{"contract"}``; once per 60 s."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @property
    def url(self) -> str:
        """The network's faucet URL; raises on mainnet or when none is known."""
        network = self._t.network
        if not network.faucet_url:
            if network.name == "mainnet":
                raise ValidationError("there is no faucet on mainnet: fund the account with real assets")
            raise ValidationError(f"no faucet URL is known for {network.base_url}: pass faucet_url=")
        return network.faucet_url

    def _mint(self, body: Dict[str, str]) -> FaucetResult:
        url = self.url

        def parse(reply: Any) -> FaucetResult:
            if not isinstance(reply, Mapping) or reply.get("error") or not reply.get("message"):
                detail = reply.get("error") if isinstance(reply, Mapping) else reply
                raise O2Error(f"faucet: {str(detail)[:200]}", body=str(reply)[:200])
            return FaucetResult(str(reply["message"])[:500], raw=reply)
        return self._t.request("POST", url, json_body=body, parse=parse)

    def mint_to_address(self, address: str) -> FaucetResult:
        """Mint test tokens to a wallet address (B256)."""
        return self._mint({"address": b256_hex(address, "address")})

    def mint_to_contract(self, trade_account_id: str) -> FaucetResult:
        """Mint test tokens straight into a trade account."""
        return self._mint({"contract": b256_hex(trade_account_id, "trade_account_id")})
