"""The Fast Bridge proxy's errors, as o2lite exceptions (PROTOCOL §15).

The proxy answers errors as ``{"error": {"code": str, "message": str, "details": any}}``. The
mapping, exactly o2-sdk 0.5.0's (``o2_sdk/bridge/client.py``):

- a body that is not JSON, whatever the status → ``INVALID_RESPONSE`` "Bridge returned non-JSON response";
- a non-2xx status → the error object's ``code`` and ``message`` when they are strings, else
  ``HTTP_ERROR`` and "Bridge request failed"; ``details`` as sent (or ``None``);
- a 2xx whose JSON is not an object → ``INVALID_RESPONSE`` "Bridge response must be an object";
- a 2xx object missing a required field (or, in o2lite, with a field of the wrong type) →
  ``INVALID_RESPONSE`` "Malformed bridge response".
"""

from __future__ import annotations

from typing import Any, Optional

from ..errors import O2Error, SubmissionUnknown

__all__ = ["BridgeApiError", "BridgeSubmissionUnknown", "INVALID_RESPONSE", "HTTP_ERROR", "NO_RESPONSE",
           "TRANSACTION_NOT_FOUND"]

INVALID_RESPONSE = "INVALID_RESPONSE"  # o2-sdk's code for an answer that cannot be read
HTTP_ERROR = "HTTP_ERROR"  # o2-sdk's code for a non-2xx answer without a proper error object
NO_RESPONSE = "NO_RESPONSE"  # o2lite's: a submit was sent and no answer came back
TRANSACTION_NOT_FOUND = "TRANSACTION_NOT_FOUND"  # the proxy's 404 from the status endpoints ("not found yet")


class BridgeApiError(O2Error):
    """The proxy refused a request or answered something unreadable.

    Attributes (besides :class:`~o2lite.errors.O2Error`'s ``status``, ``method``, ``url``, ``body``):
        bridge_code: the proxy's string code (``TRANSACTION_NOT_FOUND``…) or one of
            ``INVALID_RESPONSE`` / ``HTTP_ERROR`` (o2-sdk's) / ``NO_RESPONSE`` (o2lite's).
        details: the error object's ``details``, as sent.
    """

    def __init__(self, status: Optional[int], bridge_code: str, message: str, details: Any = None, **kw: Any) -> None:
        super().__init__(message, status=status, **kw)
        self.bridge_code = bridge_code
        self.details = details

    def __str__(self) -> str:
        return f"{super().__str__()} [{self.bridge_code}]"


class BridgeSubmissionUnknown(BridgeApiError, SubmissionUnknown):
    """A submit **may have been accepted**: check the status endpoint before submitting again.

    Raised by ``submit_deposit``/``submit_withdraw`` when the request may have reached the proxy
    but no readable verdict came back: no answer after sending (``NO_RESPONSE``), a 5xx, or a 2xx
    that cannot be read (the o2-sdk code is kept in ``bridge_code``). Never retried.

    Attributes:
        operation: ``"deposit"`` or ``"withdraw"``.
        source_chain_id, evm_tx_hash: a deposit's EVM chain and transaction hash, computed offline
            from the signed envelope — ``get_deposit_status(source_chain_id, evm_tx_hash)``.
        fuel_tx_id: a withdrawal's Fuel transaction id — ``get_withdraw_status(fuel_tx_id)``
            (filled in by :func:`o2lite.bridge.withdraw`, which knows the chain id).
    """

    def __init__(self, status: Optional[int], bridge_code: str, message: str, details: Any = None, *,
                 operation: str, source_chain_id: Optional[int] = None, evm_tx_hash: Optional[str] = None,
                 fuel_tx_id: Optional[str] = None, **kw: Any) -> None:
        super().__init__(status, bridge_code, message, details, **kw)
        self.operation = operation
        self.source_chain_id = source_chain_id
        self.evm_tx_hash = evm_tx_hash
        self.fuel_tx_id = fuel_tx_id

    def __str__(self) -> str:
        if self.operation == "deposit" and self.evm_tx_hash:
            hint = f"get_deposit_status({self.source_chain_id}, {self.evm_tx_hash!r})"
        elif self.operation == "withdraw" and self.fuel_tx_id:
            hint = f"get_withdraw_status({self.fuel_tx_id!r})"
        else:
            hint = f"the {self.operation} status endpoint"
        return (f"{self.operation}/submit may have been accepted: check {hint} before submitting again "
                f"({super().__str__()})")
