"""The sandbox's two error forms, as the exchange sends them (PROTOCOL §3).

- A **pre-flight** error (nothing ran, no nonce consumed) carries a numeric ``code``:
  ``{"code": ErrorCode.INVALID_SIGNATURE, "message": "…"}``.
- An **on-chain revert** (it ran and failed; the nonce *is* consumed) carries **no** ``code``:
  ``{"message": "Revert(…)", "reason": "…", "receipts": [...]}``. The official SDK tells the two
  apart by the presence of ``code``, so a revert must never carry one.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional
from ..error_codes import ErrorCode

__all__ = ["ApiError", "api_error", "revert_error", "FAILED_REQUIRE", "MISMATCHED_SELECTOR"]


class ApiError(Exception):
    """An answer other than success: HTTP ``status``, JSON ``body`` and extra ``headers``."""

    def __init__(self, status: int, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(body.get("message") or body.get("error"))
        self.status, self.body, self.headers = status, body, headers or {}


def api_error(code: int, message: str, status: int = 400) -> ApiError:
    """A coded pre-flight error: nothing ran."""
    return ApiError(status, {"code": code, "message": message})


FAILED_REQUIRE = 0xFFFF_FFFF_FFFF_0000  # FuelVM's revert code of a failed require() (std error signal)
MISMATCHED_SELECTOR = 123  # FuelVM's revert code for a method the contract does not have


def revert_error(reason: str, ra: int = FAILED_REQUIRE, receipts: Optional[List[Any]] = None) -> ApiError:
    """An on-chain revert: ``{"message": "Revert(<ra>)", "reason": …, "receipts": […]}`` and no
    ``code``; ``reason`` is the sandbox's readable name for what failed."""
    variant = reason.split(":", 1)[0]
    if variant.isidentifier():  # as the backend renders the decoded log of a failed require
        reason = f'{reason}; LogResult {{ results: [Ok("{variant}")] }}'
    return ApiError(400, {"message": f"Revert({ra})", "reason": reason,
                          "receipts": [{"Revert": {"ra": ra}}] if receipts is None else receipts})
