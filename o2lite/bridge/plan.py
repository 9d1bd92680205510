"""What the flow helpers hand back: a checked plan (the dry run) and a handle to poll.

A :class:`BridgePlan` is everything that would be signed and why it is safe to sign: the request,
the proxy's unsigned transaction and proof, the offline inspection, the digest, and two lists —
the checks that passed (each naming what was compared with what) and what could not be checked
offline and is trusted. ``plan.explain()`` prints it. Sending a plan signs exactly its digest.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Tuple

from .errors import BridgeApiError, TRANSACTION_NOT_FOUND
from .proof import PreparationProofClaims

__all__ = ["BridgePlan", "BridgeTransfer"]


@dataclasses.dataclass(frozen=True)
class BridgePlan:
    """A prepared and inspected deposit or withdrawal, not yet signed.

    Attributes:
        operation: ``"deposit"`` or ``"withdraw"``.
        request: the prepare body that was sent (camelCase JSON).
        unsigned_transaction, preparation_proof: the proxy's answer, exactly as received.
        claims: the proof's (unauthenticated) claims.
        inspection: :class:`~o2lite.bridge.evm.EvmDepositInspection` or
            :class:`~o2lite.bridge.fuel.FuelWithdrawalInspection`.
        digest: the 32 bytes that will be signed (``0x`` hex): the deposit's ``keccak256`` or the
            withdrawal's transaction id, both computed here.
        chain_id: the EVM chain (source of a deposit, destination of a withdrawal).
        fuel_chain_id, fuel_max_inputs: the trusted Fuel chain id and ``maxInputs`` (withdrawals).
        checks: ``(check, detail)`` pairs, every one passed.
        trusted: what was not checked offline and is trusted.
    """

    operation: str
    request: Dict[str, Any]
    unsigned_transaction: str
    preparation_proof: str
    claims: PreparationProofClaims
    inspection: Any
    digest: str
    chain_id: int
    fuel_chain_id: Optional[int]
    fuel_max_inputs: Optional[int]
    checks: Tuple[Tuple[str, str], ...]
    trusted: Tuple[str, ...]

    def explain(self) -> str:
        """A readable account of what would be signed and why it is safe to sign."""
        what = ("sign keccak256(unsigned EIP-1559 transaction) raw with the EVM key of `from`, "
                "send r ‖ s ‖ v" if self.operation == "deposit"
                else "sign the Fuel transaction id raw with the Fuel key of `from`, send the 64-byte compact signature")
        lines = [f"Fast Bridge {self.operation} (dry run: nothing signed, nothing submitted)",
                 f"prepare body: {self.request}", f"digest to sign: {self.digest}", f"how: {what}",
                 f"proof: key {self.claims.key_id!r}, signer {self.claims.signer}, expires at {self.claims.expires_at}"
                 " (claims are unauthenticated)", "", "checked offline:"]
        lines += [f"  ✓ {name}: {detail}" for name, detail in self.checks]
        lines += ["", "trusted, not checkable offline:"] + [f"  • {t}" for t in self.trusted]
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class BridgeTransfer:
    """A submitted deposit or withdrawal: poll :meth:`status` (never prepare again to poll).

    ``id`` is the EVM transaction hash of a deposit (computed offline from the signed envelope) or
    the Fuel transaction id of a withdrawal (computed offline); ``submitted`` is the proxy's answer.
    """

    operation: str
    id: str
    chain_id: int
    signature: str
    submitted: Any
    plan: BridgePlan
    client: Any = dataclasses.field(repr=False, compare=False)

    def status(self) -> Any:
        """The proxy's status answer, or ``None`` while it has not seen the transaction (404
        ``TRANSACTION_NOT_FOUND`` means "not found yet", not "failed")."""
        try:
            if self.operation == "deposit":
                return self.client.get_deposit_status(self.chain_id, self.id)
            return self.client.get_withdraw_status(self.id)
        except BridgeApiError as exc:
            if exc.status == 404 and exc.bridge_code == TRANSACTION_NOT_FOUND:
                return None
            raise
