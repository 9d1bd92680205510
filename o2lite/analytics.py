"""Analytics endpoints on ``/analytics/v1`` of the same host (PROTOCOL §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Optional

from ._hex import b256_hex
from ._parse import flag, hex_id, require
from .errors import ValidationError
from .transport import Transport

__all__ = ["Analytics", "WhitelistResult", "ReferralInfo"]


@dataclass(frozen=True)
class WhitelistResult:
    """``{success, tradeAccount, alreadyWhitelisted?}``."""

    success: bool
    trade_account: Optional[str]
    already_whitelisted: bool
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ReferralInfo:
    """``{valid, ownerAddress?, isActive?}`` for a referral code."""

    valid: bool
    owner_address: Optional[str]
    is_active: Optional[bool]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


class Analytics:
    """Whitelist and referral lookups."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def whitelist(self, trade_account_id: str) -> WhitelistResult:
        """``POST /analytics/v1/whitelist {"tradeAccount": id}``.

        Retired on current networks; o2lite never calls it implicitly.
        """
        where = "POST /analytics/v1/whitelist"

        def parse(body: Any) -> WhitelistResult:
            require(body, "success", where)
            account = body.get("tradeAccount")
            return WhitelistResult(flag(body, "success", where), None if account is None else hex_id(account, "tradeAccount", where),
                                   flag(body, "alreadyWhitelisted", where), raw=body)
        return self._t.request("POST", "/analytics/v1/whitelist", parse=parse,
                               json_body={"tradeAccount": b256_hex(trade_account_id, "trade_account_id")})

    def referral_info(self, code: str) -> ReferralInfo:
        """``GET /analytics/v1/referral/code-info?code``."""
        if not isinstance(code, str) or not code.strip() or len(code) > 100:
            raise ValidationError("referral code must be a non-empty string (at most 100 characters)")
        where = "GET /analytics/v1/referral/code-info"

        def parse(body: Any) -> ReferralInfo:
            require(body, "valid", where)
            owner = body.get("ownerAddress")
            active = body.get("isActive")
            return ReferralInfo(flag(body, "valid", where), None if owner is None else hex_id(owner, "ownerAddress", where),
                                None if active is None else flag(body, "isActive", where), raw=body)
        return self._t.request("GET", "/analytics/v1/referral/code-info", params={"code": code.strip()}, parse=parse)
