"""The exchange's numeric error codes (PROTOCOL §3), by name, for the client and the sandbox alike."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ErrorCode", "TRIGGER_REJECTION_CODES", "TRIGGER_REJECTION_NAMES"]


class ErrorCode(IntEnum):
    """A body's ``code`` (PROTOCOL §3). An on-chain revert normally carries **no** code."""

    INTERNAL_ERROR = 1000
    INVALID_REQUEST = 1001
    PARSE_ERROR = 1002
    RATE_LIMIT_EXCEEDED = 1003
    GEO_RESTRICTED = 1004
    MARKET_NOT_FOUND = 2000
    MARKET_PAUSED = 2001
    MARKET_ALREADY_EXISTS = 2002
    ORDER_NOT_FOUND = 3000
    ORDER_NOT_ACTIVE = 3001
    INVALID_ORDER_PARAMS = 3002
    INVALID_SIGNATURE = 4000
    INVALID_SESSION = 4001
    ACCOUNT_NOT_FOUND = 4002
    WHITELIST_NOT_CONFIGURED = 4003
    TRADE_NOT_FOUND = 5000
    INVALID_TRADE_COUNT = 5001
    ALREADY_SUBSCRIBED = 6000
    TOO_MANY_SUBSCRIPTIONS = 6001
    SUBSCRIPTION_ERROR = 6002
    INVALID_AMOUNT = 7000
    INVALID_TIME_RANGE = 7001
    INVALID_PAGINATION = 7002
    NO_ACTIONS_PROVIDED = 7003
    TOO_MANY_ACTIONS = 7004
    # Trigger-order pre-flight rejections (PROTOCOL §14). Two official lines disagree on the
    # numbers: these follow the current one (TypeScript SDK 0.4.0 errors.ts and CHANGELOG); an
    # earlier line ("verified against the backend") has the same names one higher, 7006–7012,
    # plus 7013. Key no behaviour on the exact number: every code in TRIGGER_REJECTION_CODES is
    # a trigger rejection (o2lite.errors.TriggerRejected).
    PARENT_ORDER_ALREADY_HAS_FILLS = 7005
    TRIGGER_PAIR_SAME_DIRECTION = 7006
    PARENT_QUANTITY_MISMATCH = 7007
    INVALID_TRIGGER_ORDER_ARGS = 7008
    TRIGGER_CONFLICTS_WITH_PARENT = 7009
    TRIGGER_ORDER_QUOTA_EXCEEDED = 7010
    ACTIVE_SPOT_ORDER_LIMIT_EXCEEDED = 7011
    PARENT_ORDER_ID_MISMATCH = 7013  # earlier line only
    BLOCK_NOT_FOUND = 8000
    EVENTS_NOT_FOUND = 8001


#: Every code either official line uses for a trigger-order pre-flight rejection.
TRIGGER_REJECTION_CODES = range(7005, 7014)
_CURRENT_LINE = {7005: "ParentOrderAlreadyHasFills", 7006: "TriggerPairSameDirection", 7007: "ParentQuantityMismatch",
                 7008: "InvalidTriggerOrderArgs", 7009: "TriggerConflictsWithParent",
                 7010: "TriggerOrderQuotaExceeded", 7011: "ActiveSpotOrderLimitExceeded"}
_EARLIER_LINE = {**{code + 1: name for code, name in _CURRENT_LINE.items()}, 7013: "ParentOrderIdMismatch"}
#: code → what it may mean: the current line's name first, then the earlier line's (PROTOCOL §14).
TRIGGER_REJECTION_NAMES = {code: tuple(dict.fromkeys(name for name in (_CURRENT_LINE.get(code), _EARLIER_LINE.get(code))
                                                     if name)) for code in TRIGGER_REJECTION_CODES}
