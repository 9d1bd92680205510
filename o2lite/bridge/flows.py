"""The flows a user runs: :func:`deposit` (EVM → Fuel) and :func:`withdraw` (Fuel → EVM).

Each one is *build, then send*: ``plan_*`` prepares with the proxy, inspects the unsigned
transaction offline against what you asked for, refuses an expired proof, and returns a
:class:`~o2lite.bridge.plan.BridgePlan`; :func:`send_plan` signs exactly the plan's digest,
submits once, and returns a :class:`~o2lite.bridge.plan.BridgeTransfer` to poll.
``deposit(..., dry_run=True)`` stops after the plan: ``print(plan.explain())``.

What is checked offline, and what is trusted, is listed in every plan (and in the README).
"""

from __future__ import annotations

import time
import warnings
from typing import Any, Callable, List, Optional, Tuple, Union

from .._hex import b256_hex, to_bytes, to_int, U64_MAX
from ..errors import ValidationError
from ..signing import EvmWallet, Wallet
from .client import FastBridgeClient
from .errors import BridgeSubmissionUnknown
from .evm import EvmDepositInspection, deposit_transaction_hash, parse_evm_unsigned_transaction
from .fuel import FuelWithdrawalInspection, parse_fuel_unsigned_transaction
from .models import DepositPermit, DepositPrepareRequest, SubmitRequest, WithdrawPrepareRequest
from .plan import BridgePlan, BridgeTransfer
from .proof import PreparationProofClaims, parse_preparation_proof
from .signatures import sign_deposit, sign_withdraw

__all__ = ["MAINNET_MESSENGER", "OFFICIAL_MESSENGERS", "MAINNET_ASSET_REGISTRY", "OFFICIAL_ASSET_REGISTRIES",
           "check_decimals", "plan_deposit", "plan_withdraw", "send_plan", "deposit",
           "withdraw"]

#: The Fast Bridge Messenger on Base and Ethereum mainnet (PROTOCOL §15; read in o2-exchange/skills).
MAINNET_MESSENGER = "0x2b1c1e133f832efb1e168de6102304b03c4ba653"
OFFICIAL_MESSENGERS = {1: MAINNET_MESSENGER, 8453: MAINNET_MESSENGER}  # Ethereum, Base
#: The Fast Bridge Asset Registry on Fuel mainnet, the contract a withdrawal's script calls with the
#: coins (read in o2-exchange/skills, skills/fast-bridge/withdrawals/SKILL.md, "Mainnet Contracts").
MAINNET_ASSET_REGISTRY = "0x91cfcbef2caad02996cdcb5b897222170e85a91cd2db8f23f07ea7d9ca030c19"
#: destination EVM chain → registry: a withdrawal to Ethereum or Base mainnet leaves Fuel mainnet.
OFFICIAL_ASSET_REGISTRIES = {1: MAINNET_ASSET_REGISTRY, 8453: MAINNET_ASSET_REGISTRY}

Checks = List[Tuple[str, str]]
MAX_DECIMALS = 77  # 10^77 < 2^256 < 10^78: no uint256 amount has more decimal places


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise ValidationError(f"refusing to sign: {what}")


def _evm_address(value: Any, what: str) -> str:
    return "0x" + to_bytes(value, 20, what).hex()


def _chain(value: Any, what: str) -> int:
    _need(type(value) is int and 0 < value <= U64_MAX, f"{what} must be a positive integer")
    return int(value)


def _amount(value: Any) -> int:
    return to_int(value, "amount", low=1, high=U64_MAX)  # Fuel base units: a Fuel amount is a u64


def _permit(permit: Optional[DepositPermit]) -> Optional[DepositPermit]:
    """The permit's fields as the Messenger's ABI takes them: ``deadline`` a uint256 in decimal
    digits, ``v`` a uint8, ``r`` and ``s`` 32-byte hex words."""
    if permit is None:
        return None
    _need(isinstance(permit, DepositPermit), "permit must be a DepositPermit")
    deadline = permit.deadline
    if not (deadline.isascii() and deadline.isdigit() and len(deadline) <= 78 and int(deadline) < 2**256):
        raise ValidationError(f"permit deadline must be a uint256 in decimal digits, got {deadline[:80]!r}")
    if not 0 <= permit.v <= 255:
        raise ValidationError(f"permit v must be 0-255, got {permit.v}")
    _b32(permit.r, "permit r")
    _b32(permit.s, "permit s")
    return permit


def _b32(value: str, what: str) -> str:
    return "0x" + to_bytes(value, 32, what).hex()


def _proof(prepared_proof: str, signer: str, now: float, checks: Checks) -> PreparationProofClaims:
    claims = parse_preparation_proof(prepared_proof)
    _need(claims.expires_at > now, f"the preparation proof expired at {claims.expires_at} (now {int(now)}): prepare again")
    checks.append(("proof not expired", f"expiresAt {claims.expires_at} > now {int(now)}"))
    _need(claims.signer == signer, f"the proof names signer {claims.signer}, not {signer}")
    checks.append(("proof signer", f"{claims.signer} is the signing key's address (claims are unauthenticated)"))
    return claims


def _route(client: FastBridgeClient, chain_id: int, asset_id: str) -> Tuple[Optional[str], int, int]:
    """(token address or None for ETH, token decimals, fuel decimals) from ``GET /v1/assets``."""
    for asset in client.get_assets(chain_id).assets:
        if asset.asset_id.lower() == asset_id:
            for route in asset.routes:
                if route.chain_id == chain_id:
                    token = route.token_address.lower() if route.token_address else None
                    return token, route.token_decimals, asset.fuel_decimals
    raise ValidationError(f"the proxy lists no route for asset {asset_id} on chain {chain_id}")


def check_decimals(value: Any, what: str) -> int:
    """A token's decimals as the proxy lists them, refused outside 0–77 (a hostile answer must not
    make o2lite compute ``10 ** 10**8``)."""
    if type(value) is not int or not 0 <= value <= MAX_DECIMALS:
        raise ValidationError(f"{what} {value!r} is not a number of decimals (0–{MAX_DECIMALS})")
    return value


def evm_amount(amount: int, token_decimals: int, fuel_decimals: int) -> int:
    """Fuel base units → EVM base units: ``amount × 10^(tokenDecimals − fuelDecimals)`` (*derived*:
    the proxy's own conversion is not published). Refuses an amount finer than the token, and
    decimals outside 0–77.

    >>> evm_amount(1_500_000_000, 18, 9)
    1500000000000000000
    """
    shift = check_decimals(token_decimals, "token decimals") - check_decimals(fuel_decimals, "Fuel decimals")
    factor = int(10 ** abs(shift))
    if shift >= 0:
        return amount * factor
    _need(amount % factor == 0, f"amount has more decimals than the token's {token_decimals}")
    return amount // factor


def plan_deposit(client: FastBridgeClient, wallet: EvmWallet, *, source_chain_id: int, asset_id: str, amount: Any,
                 to: str, to_type: str = "contract", messenger: Optional[str] = None,
                 max_network_fee: Optional[int] = None, permit: Optional[DepositPermit] = None,
                 now: Callable[[], float] = time.time) -> BridgePlan:
    """Prepare a deposit and check it offline (``GET /v1/assets``, ``POST /v1/deposit/prepare``).

    Args:
        wallet: the EVM key of the depositor (``from``).
        source_chain_id: the EVM chain the funds leave (8453 Base, 1 Ethereum, …).
        asset_id: the Fuel asset id; amount: in Fuel base units (the API's unit).
        to: the Fuel recipient (B256); for an O2 trade account, its id with ``to_type="contract"``.
        messenger: the Messenger address you trust; default: the official one on chains 1 and 8453,
            required elsewhere.
        max_network_fee: a cap in wei on ``gasLimit × maxFeePerGas``.
        permit: an EIP-2612 permit you signed (else the token needs an approval beforehand).

    Raises:
        ValidationError: bad input (before any request), or the prepared transaction does not do
            what was asked (nothing is signed).
    """
    _need(isinstance(wallet, EvmWallet), "a deposit is signed by the EvmWallet of `from`")
    chain = _chain(source_chain_id, "source_chain_id")
    asset, recipient, fuel_amount = b256_hex(asset_id, "asset_id"), b256_hex(to, "to"), _amount(amount)
    _need(to_type in ("address", "contract"), "to_type must be 'address' or 'contract'")
    trusted_messenger = _evm_address(messenger, "messenger") if messenger is not None else OFFICIAL_MESSENGERS.get(chain)
    if trusted_messenger is None:
        raise ValidationError(f"pass messenger= (the Messenger address you trust on chain {chain})")
    if max_network_fee is not None:
        max_network_fee = to_int(max_network_fee, "max_network_fee", high=2**512)
    permit = _permit(permit)
    token, token_decimals, fuel_decimals = _route(client, chain, asset)
    _need(permit is None or token is not None, "a permit is for an ERC-20 token, not native ETH")
    expected_amount = evm_amount(fuel_amount, token_decimals, fuel_decimals)
    request = DepositPrepareRequest(source_chain_id=chain, from_address=wallet.evm_address, to=recipient,
                                    to_type=to_type, asset_id=asset, amount=str(fuel_amount), permit=permit)
    prepared = client.prepare_deposit(request)
    got: EvmDepositInspection = parse_evm_unsigned_transaction(prepared.unsigned_transaction)
    checks: Checks = [("shape", f"an unsigned EIP-1559 call of {got.method}, canonical RLP (parsed offline)")]
    _need(got.chain_id == chain, f"the transaction is for chain {got.chain_id}, not {chain}")
    checks.append(("chain", f"chainId {got.chain_id}"))
    _need(got.messenger_address == trusted_messenger, f"it calls {got.messenger_address}, not the Messenger "
                                                      f"{trusted_messenger}")
    checks.append(("messenger", f"calls {got.messenger_address}, the Messenger you trust"))
    _need(got.recipient == recipient and got.recipient_is_contract == (to_type == "contract"),
          f"it credits {got.recipient} (contract={got.recipient_is_contract}), not {recipient} ({to_type})")
    checks.append(("recipient", f"{got.recipient} as {'a contract' if got.recipient_is_contract else 'an address'}"))
    want_method = "depositETH" if token is None else "depositWithPermit" if permit is not None else "deposit"
    _need(got.method == want_method and got.token_address == token,
          f"it calls {got.method} for token {got.token_address}, expected {want_method} for {token}")
    checks.append(("asset", f"{got.method}, token {got.token_address or 'ETH (native)'}"))
    if permit is not None:
        p = got.permit
        mine = (int(permit.deadline), permit.v, _b32(permit.r, "permit r"), _b32(permit.s, "permit s"))
        _need(p is not None and (p.deadline, p.v, p.r, p.s) == mine, "the embedded permit is not yours")
        checks.append(("permit", "the embedded permit is the one you signed"))
    _need(got.amount == expected_amount, f"it moves {got.amount} EVM units, expected {expected_amount} "
                                         f"({fuel_amount} Fuel units, decimals {token_decimals}/{fuel_decimals})")
    checks.append(("amount", f"{got.amount} EVM units = {fuel_amount} Fuel units × 10^({token_decimals}−{fuel_decimals})"))
    if max_network_fee is not None:
        _need(got.estimated_network_fee <= max_network_fee,
              f"network fee cap {got.estimated_network_fee} wei is over your max {max_network_fee}")
        checks.append(("network fee", f"gasLimit × maxFeePerGas = {got.estimated_network_fee} wei ≤ {max_network_fee}"))
    claims = _proof(prepared.preparation_proof, wallet.evm_address, now(), checks)
    trusted = ("the Messenger address " + ("(official default)" if messenger is None else "(yours)")
               + " — a wrong one would receive the funds",
               f"token address and decimals from the proxy's /v1/assets ({token or 'ETH'}, {token_decimals}/{fuel_decimals})",
               "the EVM nonce and gas (the transaction may fail, never pay elsewhere)"
               + ("" if max_network_fee is not None else
                  f"; the network fee is capped only by the transaction: up to {got.estimated_network_fee} wei"),
               "the Fuel side: the proxy relays and the bridge contracts credit the recipient")
    return BridgePlan(operation="deposit", request=request.to_json(), unsigned_transaction=prepared.unsigned_transaction,
                      preparation_proof=prepared.preparation_proof, claims=claims, inspection=got,
                      digest=got.signing_digest, chain_id=chain, fuel_chain_id=None, fuel_max_inputs=None, checks=tuple(checks),
                      trusted=trusted)


def plan_withdraw(client: FastBridgeClient, wallet: Wallet, *, destination_chain_id: int, asset_id: str,
                  amount: Any, to: str, fuel_chain_id: int, max_inputs: int, asset_registry: Optional[str] = None,
                  max_bridge_fee: Optional[int] = None, max_network_fee: Optional[int] = None,
                  now: Callable[[], float] = time.time) -> BridgePlan:
    """Prepare a withdrawal and check it offline (``POST /v1/withdraw/prepare``).

    Args:
        wallet: the Fuel key of a funded plain wallet (not a trade account: withdraw from the
            trade account to this wallet first).
        destination_chain_id: the EVM chain the funds go to.
        asset_id: the Fuel asset id; amount: Fuel base units, the gross amount (the fee comes out).
        to: the EVM recipient (20 bytes).
        fuel_chain_id, max_inputs: the Fuel chain id and consensus ``maxInputs`` you trust.
        asset_registry: the Asset Registry contract you trust — the script hands it the whole
            amount, so a wrong one keeps the coins; default: the official one for chains 1 and 8453,
            required elsewhere.
        max_bridge_fee: cap on the embedded bridge fee (Fuel base units of the asset).
        max_network_fee: cap on the Fuel ``maxFee`` policy (base-asset units).
    """
    _need(isinstance(wallet, Wallet) and not isinstance(wallet, EvmWallet),
          "a withdrawal is signed by the Fuel Wallet of `from`")
    chain = _chain(destination_chain_id, "destination_chain_id")
    _need(type(fuel_chain_id) is int and 0 <= fuel_chain_id <= U64_MAX, "fuel_chain_id must be a u64")
    _need(type(max_inputs) is int and 0 < max_inputs <= 0xFFFF, "max_inputs must be 1–65535")
    asset, recipient, gross = b256_hex(asset_id, "asset_id"), _evm_address(to, "to"), _amount(amount)
    registry = (b256_hex(asset_registry, "asset_registry") if asset_registry is not None
                else OFFICIAL_ASSET_REGISTRIES.get(chain))
    if registry is None:
        raise ValidationError(f"pass asset_registry= (the Fast Bridge Asset Registry you trust for chain {chain})")
    caps = [None if c is None else to_int(c, name) for c, name in ((max_bridge_fee, "max_bridge_fee"),
                                                                  (max_network_fee, "max_network_fee"))]
    request = WithdrawPrepareRequest(destination_chain_id=chain, from_address=wallet.address, to=recipient,
                                     asset_id=asset, amount=str(gross))
    prepared = client.prepare_withdraw(request)
    claimed_chain = to_int(prepared.fuel_chain_id, "fuelChainId")
    _need(claimed_chain == fuel_chain_id, f"the proxy says Fuel chain {claimed_chain}, you trust {fuel_chain_id}")
    got: FuelWithdrawalInspection = parse_fuel_unsigned_transaction(prepared.unsigned_transaction, fuel_chain_id,
                                                                     max_inputs)
    checks: Checks = [("shape", "the proxy's withdraw_via_fast_bridge_with_fee script, inputs and outputs parsed"),
                      ("Fuel chain", f"fuelChainId {fuel_chain_id} (yours), maxInputs {max_inputs} (yours)")]
    _need(got.asset_registry_contract_id == registry, f"it calls {got.asset_registry_contract_id} with the coins, not "
                                                       f"the Asset Registry {registry}")
    checks.append(("asset registry", f"hands the coins to {registry}, the Asset Registry you trust"))
    _need(got.destination_chain_id == chain, f"it withdraws to chain {got.destination_chain_id}, not {chain}")
    checks.append(("destination chain", str(chain)))
    _need(got.recipient == recipient, f"it pays {got.recipient}, not {recipient}")
    checks.append(("recipient", got.recipient))
    _need(got.asset_id == asset and got.gross_amount == gross,
          f"it moves {got.gross_amount} of {got.asset_id}, not {gross} of {asset}")
    checks.append(("asset and amount", f"{got.gross_amount} of {got.asset_id}; fee {got.bridge_fee}, "
                                       f"net {got.net_amount}"))
    if caps[0] is not None:
        _need(got.bridge_fee <= caps[0], f"bridge fee {got.bridge_fee} is over your max {caps[0]}")
        checks.append(("bridge fee", f"{got.bridge_fee} ≤ {caps[0]}"))
    if caps[1] is not None:
        _need(got.network_fee.max_fee <= caps[1], f"network maxFee {got.network_fee.max_fee} is over your max {caps[1]}")
        checks.append(("network fee", f"maxFee {got.network_fee.max_fee} ≤ {caps[1]}"))
    for i in got.inputs:
        _need(i.type == "contract" or i.owner == wallet.address, f"an input spends {i.owner}'s coins, not yours")
    for o in got.outputs:
        _need(o.type != "change" or o.to == wallet.address, f"a change output pays {o.to}, not you")
    checks.append(("coins", "every coin/message input is yours and every change output returns to you"))
    claims = _proof(prepared.preparation_proof, wallet.address, now(), checks)
    trusted = ("the Fuel chain id and maxInputs you passed — the id signed depends on both",
               "the Asset Registry address " + ("(official default)" if asset_registry is None else "(yours)")
               + " — a wrong one would keep the coins",
               "the bridge fee quote may drift within the contract's tolerance; net amount is expected, not guaranteed"
               + ("" if caps[1] is not None else
                  f"; the network fee is capped only by the transaction: maxFee {got.network_fee.max_fee} "
                  f"(base-asset units, tip {got.policies.get('tip', 0)} included)"),
               "the EVM side: the Outpost/Messenger deliver to the recipient")
    return BridgePlan(operation="withdraw", request=request.to_json(), unsigned_transaction=prepared.unsigned_transaction,
                      preparation_proof=prepared.preparation_proof, claims=claims, inspection=got,
                      digest=got.transaction_id, chain_id=chain, fuel_chain_id=fuel_chain_id,
                      fuel_max_inputs=max_inputs, checks=tuple(checks),
                      trusted=trusted)


def send_plan(client: FastBridgeClient, plan: BridgePlan, wallet: Wallet,
              now: Callable[[], float] = time.time) -> BridgeTransfer:
    """Sign the plan's digest and submit once (``POST /v1/deposit/submit`` or ``/v1/withdraw/submit``).

    Before signing, the plan is checked again from its own bytes: the proof must name this key and
    not have expired since the plan was made, and the digest computed from the transaction (and,
    for a withdrawal, the plan's chain id and ``maxInputs``) must be the digest the plan was checked
    for — a plan altered after :func:`plan_deposit`/:func:`plan_withdraw` is refused.

    Raises:
        ValidationError: the plan is for another key, its proof has expired, or it was altered.
        BridgeSubmissionUnknown: it may have been accepted — poll the status with the id it carries.
        BridgeApiError: the proxy refused it.
    """
    claims = parse_preparation_proof(plan.preparation_proof)
    moment = now()
    _need(claims.expires_at > moment, f"the preparation proof expired at {claims.expires_at} (now {int(moment)}): "
                                      "prepare again")
    if plan.operation == "deposit":
        _need(isinstance(wallet, EvmWallet) and wallet.evm_address == claims.signer,
              "the plan was prepared for another key")
        assert isinstance(wallet, EvmWallet)
        digest = parse_evm_unsigned_transaction(plan.unsigned_transaction).signing_digest
        _need(digest == plan.digest, f"the transaction's digest {digest} is not the plan's {plan.digest}")
        signature = sign_deposit(wallet, plan.unsigned_transaction)
        tx_id = deposit_transaction_hash(plan.unsigned_transaction, signature)
        answer: Any = client.submit_deposit(SubmitRequest(preparation_proof=plan.preparation_proof,
                                                          unsigned_transaction=plan.unsigned_transaction,
                                                          signature=signature))
        reported = answer.evm_tx_hash.lower()
    else:
        _need(plan.operation == "withdraw" and wallet.address == claims.signer, "the plan was prepared for another key")
        _need(plan.fuel_chain_id is not None and plan.fuel_max_inputs is not None,
              "a withdrawal plan needs its Fuel chain id and maxInputs")
        assert plan.fuel_chain_id is not None and plan.fuel_max_inputs is not None
        digest = parse_fuel_unsigned_transaction(plan.unsigned_transaction, plan.fuel_chain_id,
                                                 plan.fuel_max_inputs).transaction_id
        _need(digest == plan.digest, f"the transaction's digest {digest} is not the plan's {plan.digest}")
        signature = sign_withdraw(wallet, plan.unsigned_transaction, plan.fuel_chain_id, plan.fuel_max_inputs)
        tx_id = plan.digest
        try:
            answer = client.submit_withdraw(SubmitRequest(preparation_proof=plan.preparation_proof,
                                                          unsigned_transaction=plan.unsigned_transaction,
                                                          signature=signature))
        except BridgeSubmissionUnknown as exc:
            raise BridgeSubmissionUnknown(exc.status, exc.bridge_code, exc.message, exc.details, operation="withdraw",
                                          fuel_tx_id=tx_id, method=exc.method, url=exc.url, body=exc.body) from exc
        reported = answer.fuel_tx_id.lower()
    if reported != tx_id:
        warnings.warn(f"the proxy reports {plan.operation} id {reported}, o2lite computed {tx_id}: polling {tx_id}",
                      stacklevel=2)
    return BridgeTransfer(operation=plan.operation, id=tx_id, chain_id=plan.chain_id, signature=signature,
                          submitted=answer, plan=plan, client=client)


def deposit(client: FastBridgeClient, wallet: EvmWallet, *, dry_run: bool = False,
            **request: Any) -> Union[BridgePlan, BridgeTransfer]:
    """Deposit from an EVM chain: :func:`plan_deposit`, then (unless ``dry_run``) :func:`send_plan`.

    Keyword arguments are :func:`plan_deposit`'s. With ``dry_run=True`` the checked plan is
    returned and nothing is signed or submitted.
    """
    plan = plan_deposit(client, wallet, **request)
    return plan if dry_run else send_plan(client, plan, wallet, now=request.get("now", time.time))


def withdraw(client: FastBridgeClient, wallet: Wallet, *, dry_run: bool = False,
             **request: Any) -> Union[BridgePlan, BridgeTransfer]:
    """Withdraw to an EVM chain: :func:`plan_withdraw`, then (unless ``dry_run``) :func:`send_plan`."""
    plan = plan_withdraw(client, wallet, **request)
    return plan if dry_run else send_plan(client, plan, wallet, now=request.get("now", time.time))
