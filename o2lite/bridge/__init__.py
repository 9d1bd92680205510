"""Fast Bridge: move funds between EVM chains (Base, Ethereum) and Fuel, checked offline.

``import o2lite`` does not load this package; import it as ``o2lite.bridge``. PROTOCOL §15.

- :class:`FastBridgeClient` — the proxy's API (one attempt per call, no redirects, no retries);
- offline inspection — :func:`parse_evm_unsigned_transaction` (deposits),
  :func:`parse_fuel_unsigned_transaction` (withdrawals), :func:`parse_preparation_proof`,
  :func:`deposit_transaction_hash`;
- signatures — :func:`sign_deposit` (EVM, raw keccak, ``r ‖ s ‖ v``), :func:`sign_withdraw`
  (Fuel compact over the transaction id);
- the flows a user runs — :func:`deposit` and :func:`withdraw` (with ``dry_run``).
"""

from .client import FAST_BRIDGE_MAINNET_URL, FAST_BRIDGE_TESTNET_URL, FastBridgeClient
from .errors import BridgeApiError, BridgeSubmissionUnknown
from .evm import EvmDepositInspection, EvmPermitInspection, deposit_transaction_hash, parse_evm_unsigned_transaction
from .flows import deposit, plan_deposit, plan_withdraw, send_plan, withdraw
from .fuel import (FuelInputInspection, FuelNetworkFee, FuelOutputInspection, FuelWithdrawalInspection,
                   parse_fuel_unsigned_transaction)
from .models import DepositPermit, DepositPrepareRequest, SubmitRequest, WithdrawPrepareRequest
from .plan import BridgePlan, BridgeTransfer
from .proof import PreparationProofClaims, parse_preparation_proof
from .signatures import sign_deposit, sign_withdraw

__all__ = [
    "FAST_BRIDGE_MAINNET_URL", "FAST_BRIDGE_TESTNET_URL", "FastBridgeClient", "BridgeApiError",
    "BridgeSubmissionUnknown", "parse_evm_unsigned_transaction", "parse_fuel_unsigned_transaction",
    "parse_preparation_proof", "deposit_transaction_hash", "sign_deposit", "sign_withdraw",
    "EvmDepositInspection", "EvmPermitInspection", "FuelWithdrawalInspection", "FuelInputInspection",
    "FuelOutputInspection", "FuelNetworkFee", "PreparationProofClaims", "DepositPrepareRequest",
    "DepositPermit", "WithdrawPrepareRequest", "SubmitRequest", "deposit", "withdraw", "plan_deposit",
    "plan_withdraw", "send_plan", "BridgePlan", "BridgeTransfer",
]
