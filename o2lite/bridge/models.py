"""The proxy's v1 wire models: Python names outside, camelCase JSON on the wire (PROTOCOL §15).

Names and fields are o2-sdk 0.5.0's (``o2_sdk/bridge/models.py``). Amount strings are decimal
Fuel base units. Answers are read strictly but tolerantly: unknown keys are ignored, a missing
required key — or, in o2lite, a value of the wrong JSON type — makes the answer malformed
(:class:`ValueError` here; the client turns it into ``INVALID_RESPONSE``). The untouched JSON is
kept on ``.raw``. Requests are written with ``from_address`` as ``from`` and optional fields
left out when ``None``. The reading and writing are :mod:`o2lite.bridge.wire`'s.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional

from .wire import BridgeModel, is_amount, is_int, need, raw_field, wire_name

__all__ = [
    "BridgeModel", "FuelContracts", "WithdrawalFuelContracts", "ChainSummary", "FuelInfo", "InfoResponse",
    "AssetRoute", "Asset", "AssetsResponse", "DepositAssetInfo", "DepositInfoResponse", "DepositPermit",
    "DepositPrepareRequest", "DepositPrepareResponse", "SubmitRequest", "DepositSubmitResponse",
    "DepositSourceStatus", "UnavailableStatus", "DepositStatusResponse", "RateLimitInfo", "WithdrawAssetInfo",
    "WithdrawInfoResponse", "WithdrawFeeResponse", "WithdrawPrepareRequest", "WithdrawPrepareResponse",
    "WithdrawSubmitResponse", "FuelStatus", "WithdrawStatusResponse", "wire_name",
]


# --- /v1/info -----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class FuelContracts(BridgeModel):
    fast_bridge: str
    asset_registry: str
    wrapped_assets_minter: str
    gas_oracle: str
    rate_limiter: str
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class WithdrawalFuelContracts(BridgeModel):
    asset_registry: str
    wrapped_assets_minter: str
    gas_oracle: str
    rate_limiter: str
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class ChainSummary(BridgeModel):
    chain_id: int
    name: str
    messenger_address: str
    outpost_address: str
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class FuelInfo(BridgeModel):
    chain_id: str
    network: str
    contracts: FuelContracts
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class InfoResponse(BridgeModel):
    """``GET /v1/info``: environment, versions, the proof TTL, the Fuel side and the EVM chains."""

    environment: str
    api_version: str
    config_version: str
    preparation_proof_ttl_seconds: int
    fuel: FuelInfo
    chains: List[ChainSummary]
    raw: Dict[str, Any] = raw_field()


# --- /v1/assets ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class AssetRoute(BridgeModel):
    chain_id: int
    token_address: Optional[str]
    token_decimals: int
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class Asset(BridgeModel):
    asset_id: str
    symbol: str
    fuel_decimals: int
    routes: List[AssetRoute]
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class AssetsResponse(BridgeModel):
    """``GET /v1/assets``: bridgeable assets and, per EVM chain, the token and its decimals."""

    config_version: str
    assets: List[Asset]
    raw: Dict[str, Any] = raw_field()


# --- deposits -----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DepositAssetInfo(BridgeModel):
    asset_id: str
    token_address: Optional[str]
    token_decimals: int
    fuel_decimals: int
    whitelisted: bool
    deposit_cap: Optional[str]
    deposited_amount: str
    remaining_capacity: Optional[str]
    requires_allowance: bool
    allowance_spender: Optional[str]
    permit_supported: bool
    amount_eligible: Optional[bool] = None
    ineligibility_reason: Optional[str] = None
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class DepositInfoResponse(BridgeModel):
    """``GET /v1/deposit/info``: the route, its Messenger, and per-asset caps and eligibility."""

    source_chain_id: int
    route_enabled: bool
    messenger_address: str
    paused: bool
    assets: List[DepositAssetInfo]
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class DepositPermit(BridgeModel):
    """An EIP-2612 permit signed separately by the depositor (``deadline`` as decimal text)."""

    deadline: str
    v: int
    r: str
    s: str
    raw: Dict[str, Any] = raw_field()

    def __post_init__(self) -> None:
        need(isinstance(self.deadline, str) and is_int(self.v) and isinstance(self.r, str)
              and isinstance(self.s, str), "permit: deadline, r, s are text and v an integer")


@dataclasses.dataclass(frozen=True)
class DepositPrepareRequest(BridgeModel):
    """``POST /v1/deposit/prepare``. ``from_address`` is the EVM depositor (``from`` on the wire);
    ``to`` the Fuel recipient, ``to_type`` ``"address"`` or ``"contract"`` (a trade account)."""

    source_chain_id: int
    from_address: str
    to: str
    to_type: str
    asset_id: str
    amount: str
    permit: Optional[DepositPermit] = None
    raw: Dict[str, Any] = raw_field()

    def __post_init__(self) -> None:
        need(is_int(self.source_chain_id), "source_chain_id must be an integer")
        need(all(isinstance(v, str) for v in (self.from_address, self.to, self.asset_id)),
              "from_address, to and asset_id must be text")
        need(self.to_type in ("address", "contract"), "to_type must be 'address' or 'contract'")
        need(is_amount(self.amount), "amount must be decimal digits (Fuel base units)")
        need(self.permit is None or isinstance(self.permit, DepositPermit), "permit must be a DepositPermit")


@dataclasses.dataclass(frozen=True)
class DepositPrepareResponse(BridgeModel):
    unsigned_transaction: str
    preparation_proof: str
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class SubmitRequest(BridgeModel):
    """``POST /v1/deposit/submit`` and ``/v1/withdraw/submit``: the prepared pair and the signature."""

    preparation_proof: str
    unsigned_transaction: str
    signature: str
    raw: Dict[str, Any] = raw_field()

    def __post_init__(self) -> None:
        need(all(isinstance(v, str) for v in (self.preparation_proof, self.unsigned_transaction, self.signature)),
              "preparation_proof, unsigned_transaction and signature must be text")


@dataclasses.dataclass(frozen=True)
class DepositSubmitResponse(BridgeModel):
    source_chain_id: int
    evm_tx_hash: str
    status: str
    submitted_at: str
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class DepositSourceStatus(BridgeModel):
    """``status``: ``pending``, ``confirmed`` or ``reverted``."""

    status: str
    block_number: Optional[str] = None
    confirmations: Optional[str] = None
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class UnavailableStatus(BridgeModel):
    status: str
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class DepositStatusResponse(BridgeModel):
    source_chain_id: int
    evm_tx_hash: str
    source: DepositSourceStatus
    fuel: UnavailableStatus
    request_hash: Optional[str] = None
    raw: Dict[str, Any] = raw_field()


# --- withdrawals --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class RateLimitInfo(BridgeModel):
    transaction_limit: Optional[str]
    daily_limit: Optional[str]
    withdrawn_today: str
    remaining_today: Optional[str]
    resets_at: str
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class WithdrawAssetInfo(BridgeModel):
    asset_id: str
    token_address: Optional[str]
    fuel_decimals: int
    token_decimals: int
    withdraw_enabled: bool
    fee: str
    fee_quote_block_height: str
    fee_observed_at: str
    rate_limit: RateLimitInfo
    amount_eligible: Optional[bool] = None
    ineligibility_reason: Optional[str] = None
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class WithdrawInfoResponse(BridgeModel):
    """``GET /v1/withdraw/info``: the route, its contracts, fees and rate limits per asset."""

    destination_chain_id: int
    route_enabled: bool
    messenger_address: str
    outpost_address: str
    fuel_contracts: WithdrawalFuelContracts
    paused: bool
    recipient_format: str
    assets: List[WithdrawAssetInfo]
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class WithdrawFeeResponse(BridgeModel):
    """``GET /v1/withdraw/fee``: the current fee quote (Fuel base units of the asset)."""

    destination_chain_id: int
    asset_id: str
    fee: str
    fuel_block_height: str
    observed_at: str
    config_version: str
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class WithdrawPrepareRequest(BridgeModel):
    """``POST /v1/withdraw/prepare``. ``from_address`` is a funded plain Fuel wallet (not a trade
    account); ``to`` the EVM recipient."""

    destination_chain_id: int
    from_address: str
    to: str
    asset_id: str
    amount: str
    raw: Dict[str, Any] = raw_field()

    def __post_init__(self) -> None:
        need(is_int(self.destination_chain_id), "destination_chain_id must be an integer")
        need(all(isinstance(v, str) for v in (self.from_address, self.to, self.asset_id)),
              "from_address, to and asset_id must be text")
        need(is_amount(self.amount), "amount must be decimal digits (Fuel base units)")


@dataclasses.dataclass(frozen=True)
class WithdrawPrepareResponse(BridgeModel):
    unsigned_transaction: str
    fuel_chain_id: str
    preparation_proof: str
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class WithdrawSubmitResponse(BridgeModel):
    fuel_tx_id: str
    status: str
    submitted_at: str
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class FuelStatus(BridgeModel):
    """``status``: ``pending``, ``success`` or ``reverted``."""

    status: str
    block_height: Optional[str] = None
    failure_reason: Optional[str] = None
    raw: Dict[str, Any] = raw_field()


@dataclasses.dataclass(frozen=True)
class WithdrawStatusResponse(BridgeModel):
    fuel_tx_id: str
    fuel: FuelStatus
    request_hash: Optional[str] = None
    destination_chain_id: Optional[int] = None
    destination: Optional[UnavailableStatus] = None
    raw: Dict[str, Any] = raw_field()
