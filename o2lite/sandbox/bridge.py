"""The sandbox Fast Bridge proxy: the proxy's v1 endpoints over the sandbox exchange's balances.

Served by the sandbox on the same port under ``/bridge`` (``FastBridgeClient(sandbox.url +
"/bridge")``). ``BridgeProxy(exchange).handle(method, path, query, body)`` answers like the real proxy
(PROTOCOL §15): transactions in the real formats (:mod:`o2lite.sandbox.bridge_tx`), preparation
proofs with a real HMAC (``HMAC-SHA256(key, "fuel-fast-bridge:preparation-proof:<op>:v1\\0" ‖
claims ‖ "\\0" ‖ transaction bytes)``, the construction of the official fixture generator), and
errors as ``{"error": {"code", "message", "details"}}``.

On submit it verifies what the real proxy (and chain) would: the proof's MAC, expiry and binding
to the exact transaction; the signature — a deposit's ``r ‖ s ‖ v`` must recover to ``from`` over
``keccak256(unsigned)``, a withdrawal's compact signature to the coin owner over the transaction
id; the EVM nonce (no replay). Then it moves balances at once (no confirmations to wait for):

- deposit: debits the depositor's sandbox EVM balance and credits the Fuel recipient — a trade
  account's own balance (``toType: "contract"``) or a plain Fuel address's wallet;
- withdraw: debits the Fuel wallet of ``from`` by the gross amount and credits the EVM recipient
  with the net amount.

EVM balances are the sandbox's own ledger: every EVM address starts with :data:`EVM_GRANT` of each
token on each chain. The Fuel chain id is the exchange's; ``maxInputs`` is :data:`MAX_INPUTS`.
The bridge's records live in memory only (not in the sandbox's state file).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any, Dict, Optional, Tuple

from .._hex import b256_hex, to_bytes
from ..bridge.evm import deposit_transaction_hash, parse_evm_unsigned_transaction
from ..bridge.fuel import parse_fuel_unsigned_transaction
from ..bridge.flows import evm_amount
from ..bridge.proof import parse_preparation_proof
from ..bridge.signatures import deposit_signer, withdraw_signer
from ..errors import ValidationError
from .bridge_tx import build_deposit_transaction, build_withdraw_transaction
from .config import named_id

__all__ = ["BridgeProxy", "BRIDGE_PREFIX", "CHAINS", "MAX_INPUTS", "EVM_GRANT", "PROOF_TTL"]

BRIDGE_PREFIX = "/bridge"  # where the sandbox server mounts the proxy: FastBridgeClient(sandbox.url + "/bridge")

#: The sandbox's EVM chains: testnet ids, so no mainnet default (the official Messenger) applies.
CHAINS = {84532: "Base Sepolia (sandbox)", 11155111: "Sepolia (sandbox)"}
MAX_INPUTS = 255  # the sandbox Fuel chain's consensus maxInputs (as testnet/mainnet, per the fixtures)
PROOF_TTL = 300  # seconds a preparation proof lives
EVM_GRANT = {"ETH": 10, "USDC": 10_000, "FUEL": 100_000}  # human units each new EVM address starts with
EVM_DECIMALS = {"ETH": 18, "USDC": 6, "FUEL": 18}  # the tokens' decimals on the EVM side
WITHDRAW_FEE_DIGITS = 4  # the sandbox's flat fee: 10^-4 of a token, in Fuel base units

Reply = Tuple[int, Any]


class BridgeError(Exception):
    """An error answer of the proxy."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _addr20(name: str) -> str:
    return "0x" + named_id(name)[-40:]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat().replace("+00:00", "Z")


class BridgeProxy:
    """The proxy's endpoints over an :class:`~o2lite.sandbox.exchange.Exchange`. Thread-safe (it
    takes the exchange's lock)."""

    def __init__(self, exchange: Any, *, key: Optional[bytes] = None) -> None:
        self.ex = exchange
        self.key = key or secrets.token_bytes(32)
        self.messenger = _addr20("bridge:messenger")
        self.outpost = _addr20("bridge:outpost")
        self.contracts = {name: named_id("bridge:" + name) for name in
                          ("fastBridge", "assetRegistry", "wrappedAssetsMinter", "gasOracle", "rateLimiter")}
        self.evm: Dict[Tuple[int, str, str], int] = {}  # (chain, address, symbol) -> EVM base units
        self.nonces: Dict[Tuple[int, str], int] = {}
        self.deposits: Dict[Tuple[int, str], Dict[str, Any]] = {}
        self.withdrawals: Dict[str, Dict[str, Any]] = {}
        self.routes = {("GET", "/v1/info"): self.info, ("GET", "/v1/assets"): self.assets,
                       ("GET", "/v1/deposit/info"): self.deposit_info, ("POST", "/v1/deposit/prepare"): self.deposit_prepare,
                       ("POST", "/v1/deposit/submit"): self.deposit_submit,
                       ("GET", "/v1/deposit/status"): self.deposit_status,
                       ("GET", "/v1/withdraw/info"): self.withdraw_info, ("GET", "/v1/withdraw/fee"): self.withdraw_fee,
                       ("POST", "/v1/withdraw/prepare"): self.withdraw_prepare,
                       ("POST", "/v1/withdraw/submit"): self.withdraw_submit,
                       ("GET", "/v1/withdraw/status"): self.withdraw_status}

    # --- plumbing ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: Mapping[str, str], body: Any) -> Reply:
        """One request (``path`` under the proxy root, e.g. ``/v1/info``) → ``(status, JSON)``."""
        route = self.routes.get((method.upper(), path.rstrip("/")))
        try:
            if route is None:
                raise BridgeError(404, "NOT_FOUND", f"no route {method} {path}")
            with self.ex.lock:
                return route(dict(query), body)
        except BridgeError as exc:
            return exc.status, {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
        except (ValidationError, KeyError, TypeError, ValueError) as exc:
            return 400, {"error": {"code": "VALIDATION_ERROR", "message": str(exc)[:200], "details": None}}

    def symbols(self) -> Dict[str, Tuple[str, int]]:
        """``{symbol: (Fuel asset id, Fuel decimals)}`` of the bridgeable assets (the exchange's)."""
        return {s: v for s, v in self.ex.assets().items() if s in EVM_DECIMALS}

    def token(self, symbol: str) -> Optional[str]:
        """The EVM token address of ``symbol`` (``None`` for native ETH)."""
        return None if symbol == "ETH" else _addr20("bridge:token:" + symbol)

    def _asset(self, asset_id: Any) -> Tuple[str, str, int]:
        wanted = b256_hex(str(asset_id), "assetId")
        for symbol, (asset, decimals) in self.symbols().items():
            if asset == wanted:
                return symbol, asset, decimals
        raise BridgeError(404, "ASSET_NOT_FOUND", f"asset {wanted} is not bridgeable")

    @staticmethod
    def _chain(value: Any, what: str) -> int:
        text = str(value)
        if not (text.isascii() and text.isdigit() and int(text) in CHAINS):
            raise BridgeError(400, "UNSUPPORTED_CHAIN", f"{what} must be one of {sorted(CHAINS)}")
        return int(text)

    @staticmethod
    def _amount(value: Any) -> int:
        if not (isinstance(value, str) and value.isascii() and value.isdigit() and 0 < len(value) <= 78
                and int(value) > 0):
            raise BridgeError(400, "VALIDATION_ERROR", "amount must be a positive decimal string (Fuel base units)")
        return int(value)

    def evm_balance(self, chain: int, address: str, symbol: str) -> int:
        """An EVM address's sandbox balance in EVM base units (granted on first look)."""
        key = (chain, address.lower(), symbol)
        if key not in self.evm:
            self.evm[key] = EVM_GRANT.get(symbol, 0) * 10 ** EVM_DECIMALS[symbol]
        return self.evm[key]

    def _proof(self, operation: str, signer: str, unsigned: bytes) -> str:
        claims = _b64(json.dumps({"version": 1, "keyId": "sandbox", "expiresAt": int(self.ex.clock()) + PROOF_TTL,
                                  "signer": signer}, separators=(",", ":")).encode())
        return claims + "." + _b64(self._mac(operation, claims, unsigned))

    def _mac(self, operation: str, claims: str, unsigned: bytes) -> bytes:
        label = f"fuel-fast-bridge:preparation-proof:{operation}:v1\0{claims}\0".encode()
        return hmac.new(self.key, label + unsigned, hashlib.sha256).digest()

    def _verify_proof(self, operation: str, body: Any) -> Tuple[str, str, Any]:
        """``(proof, unsignedTransaction, signature)`` of a submit, its proof checked."""
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in
                                                 ("preparationProof", "unsignedTransaction", "signature")):
            raise BridgeError(400, "VALIDATION_ERROR", "preparationProof, unsignedTransaction and signature are required")
        proof, unsigned = body["preparationProof"], body["unsignedTransaction"]
        try:
            claims = parse_preparation_proof(proof)
            raw = to_bytes(unsigned, len(unsigned[2:]) // 2, "unsignedTransaction")
        except ValidationError as exc:
            raise BridgeError(400, "INVALID_PREPARATION_PROOF", str(exc)) from None
        claims_text, mac_text = proof.split(".")
        if not hmac.compare_digest(_b64(self._mac(operation, claims_text, raw)), mac_text):
            raise BridgeError(400, "INVALID_PREPARATION_PROOF", "the proof does not match this transaction")
        if claims.expires_at <= self.ex.clock():
            raise BridgeError(400, "PREPARATION_PROOF_EXPIRED", "the preparation proof has expired: prepare again")
        return claims.signer, unsigned, body["signature"]

    # --- reads ------------------------------------------------------------------------------

    def info(self, query: Dict[str, str], body: Any) -> Reply:
        """``GET /v1/info``."""
        return 200, {"environment": "sandbox", "apiVersion": "v1", "configVersion": "sandbox-1",
                     "preparationProofTtlSeconds": PROOF_TTL,
                     "fuel": {"chainId": str(self.ex.chain_id), "network": "sandbox", "contracts": dict(self.contracts)},
                     "chains": [{"chainId": c, "name": n, "messengerAddress": self.messenger,
                                 "outpostAddress": self.outpost} for c, n in CHAINS.items()]}

    def assets(self, query: Dict[str, str], body: Any) -> Reply:
        """``GET /v1/assets[?chainId]``."""
        chains = [self._chain(query["chainId"], "chainId")] if "chainId" in query else list(CHAINS)
        return 200, {"configVersion": "sandbox-1", "assets": [
            {"assetId": asset, "symbol": symbol, "fuelDecimals": decimals,
             "routes": [{"chainId": c, "tokenAddress": self.token(symbol), "tokenDecimals": EVM_DECIMALS[symbol]}
                        for c in chains]}
            for symbol, (asset, decimals) in self.symbols().items()]}

    def _eligible(self, query: Dict[str, str], asset: str) -> Dict[str, Any]:
        if "amount" not in query or query.get("assetId", "").lower() != asset:
            return {}
        return {"amountEligible": True, "ineligibilityReason": None}

    def deposit_info(self, query: Dict[str, str], body: Any) -> Reply:
        """``GET /v1/deposit/info?sourceChainId[&assetId&amount]``."""
        chain = self._chain(query.get("sourceChainId"), "sourceChainId")
        assets = []
        for symbol, (asset, decimals) in self.symbols().items():
            if "assetId" in query and query["assetId"].lower() != asset:
                continue
            token = self.token(symbol)
            assets.append(dict({"assetId": asset, "tokenAddress": token, "tokenDecimals": EVM_DECIMALS[symbol],
                                "fuelDecimals": decimals, "whitelisted": True, "depositCap": None,
                                "depositedAmount": "0", "remainingCapacity": None, "requiresAllowance": token is not None,
                                "allowanceSpender": self.messenger if token else None,
                                "permitSupported": token is not None}, **self._eligible(query, asset)))
        return 200, {"sourceChainId": chain, "routeEnabled": True, "messengerAddress": self.messenger, "paused": False,
                     "assets": assets}

    def _fee(self, decimals: int) -> int:
        return int(10 ** max(decimals - WITHDRAW_FEE_DIGITS, 0))

    def withdraw_info(self, query: Dict[str, str], body: Any) -> Reply:
        """``GET /v1/withdraw/info?destinationChainId[&assetId&amount]``."""
        chain = self._chain(query.get("destinationChainId"), "destinationChainId")
        now = _iso(self.ex.clock())
        assets = [dict({"assetId": asset, "tokenAddress": self.token(symbol), "fuelDecimals": decimals,
                        "tokenDecimals": EVM_DECIMALS[symbol], "withdrawEnabled": True, "fee": str(self._fee(decimals)),
                        "feeQuoteBlockHeight": "1", "feeObservedAt": now,
                        "rateLimit": {"transactionLimit": None, "dailyLimit": None, "withdrawnToday": "0",
                                      "remainingToday": None, "resetsAt": now}}, **self._eligible(query, asset))
                  for symbol, (asset, decimals) in self.symbols().items()
                  if "assetId" not in query or query["assetId"].lower() == asset]
        return 200, {"destinationChainId": chain, "routeEnabled": True, "messengerAddress": self.messenger,
                     "outpostAddress": self.outpost,
                     "fuelContracts": {k: v for k, v in self.contracts.items() if k != "fastBridge"},
                     "paused": False, "recipientFormat": "evm-address", "assets": assets}

    def withdraw_fee(self, query: Dict[str, str], body: Any) -> Reply:
        """``GET /v1/withdraw/fee?destinationChainId&assetId``."""
        chain = self._chain(query.get("destinationChainId"), "destinationChainId")
        _, asset, decimals = self._asset(query.get("assetId"))
        return 200, {"destinationChainId": chain, "assetId": asset, "fee": str(self._fee(decimals)),
                     "fuelBlockHeight": "1", "observedAt": _iso(self.ex.clock()), "configVersion": "sandbox-1"}

    def deposit_status(self, query: Dict[str, str], body: Any) -> Reply:
        """``GET /v1/deposit/status?sourceChainId&evmTxHash``."""
        found = self.deposits.get((self._chain(query.get("sourceChainId"), "sourceChainId"),
                                   str(query.get("evmTxHash", "")).lower()))
        if found is None:
            raise BridgeError(404, "TRANSACTION_NOT_FOUND", "no such deposit (yet)")
        return 200, found["status"]

    def withdraw_status(self, query: Dict[str, str], body: Any) -> Reply:
        """``GET /v1/withdraw/status?fuelTxId``."""
        found = self.withdrawals.get(str(query.get("fuelTxId", "")).lower())
        if found is None:
            raise BridgeError(404, "TRANSACTION_NOT_FOUND", "no such withdrawal (yet)")
        return 200, found["status"]

    # --- deposits ---------------------------------------------------------------------------

    def deposit_prepare(self, query: Dict[str, str], body: Any) -> Reply:
        """``POST /v1/deposit/prepare``: an unsigned Messenger call from ``from``."""
        if not isinstance(body, dict):
            raise BridgeError(400, "VALIDATION_ERROR", "a JSON object is required")
        chain = self._chain(body.get("sourceChainId"), "sourceChainId")
        sender = "0x" + to_bytes(str(body.get("from")), 20, "from").hex()
        recipient = to_bytes(str(body.get("to")), 32, "to")
        if body.get("toType") not in ("address", "contract"):
            raise BridgeError(400, "VALIDATION_ERROR", "toType must be 'address' or 'contract'")
        symbol, asset, decimals = self._asset(body.get("assetId"))
        amount = evm_amount(self._amount(body.get("amount")), EVM_DECIMALS[symbol], decimals)
        if self.evm_balance(chain, sender, symbol) < amount:
            raise BridgeError(400, "INSUFFICIENT_BALANCE", f"{sender} holds less than {amount} {symbol} on {chain}")
        flag = int(body["toType"] == "contract")
        token = self.token(symbol)
        permit = self._permit(body.get("permit"))
        if token is None:
            method, words, value = "depositETH", [int.from_bytes(recipient, "big"), flag], amount
        elif permit is not None:
            method, value = "depositWithPermit", 0
            words = [int.from_bytes(recipient, "big"), int(token, 16), amount, *permit, flag]
        else:
            method, words, value = "deposit", [int.from_bytes(recipient, "big"), int(token, 16), amount, flag], 0
        raw = build_deposit_transaction(chain_id=chain, nonce=self.nonces.get((chain, sender), 0),
                                        messenger=bytes.fromhex(self.messenger[2:]), method=method, words=words,
                                        value=value)
        return 200, {"unsignedTransaction": "0x" + raw.hex(), "preparationProof": self._proof("deposit", sender, raw)}

    @staticmethod
    def _permit(permit: Any) -> Optional[Tuple[int, int, int, int]]:
        """A prepare's ``permit`` as ABI words ``(deadline, v, r, s)``: a uint256 decimal string, a
        uint8 and two 32-byte hex words (o2-sdk's ``DepositPermit``), or ``None`` when absent."""
        if permit is None:
            return None
        if not isinstance(permit, dict):
            raise BridgeError(400, "VALIDATION_ERROR", "permit must be an object {deadline, v, r, s}")
        deadline, v = permit.get("deadline"), permit.get("v")
        if not (isinstance(deadline, str) and deadline.isascii() and deadline.isdigit() and int(deadline) < 2**256):
            raise BridgeError(400, "VALIDATION_ERROR", "permit.deadline must be a uint256 decimal string")
        if type(v) is not int or not 0 <= v <= 255:
            raise BridgeError(400, "VALIDATION_ERROR", "permit.v must be an integer 0-255")
        r, s = (int.from_bytes(to_bytes(str(permit.get(k)), 32, "permit." + k), "big") for k in ("r", "s"))
        return int(deadline), v, r, s

    def deposit_submit(self, query: Dict[str, str], body: Any) -> Reply:
        """``POST /v1/deposit/submit`` (202): verify, then debit EVM and credit Fuel."""
        signer, unsigned, signature = self._verify_proof("deposit", body)
        tx = parse_evm_unsigned_transaction(unsigned)
        try:
            recovered = deposit_signer(tx.signing_digest, signature)
            tx_hash = deposit_transaction_hash(unsigned, signature)
        except ValidationError as exc:
            raise BridgeError(400, "INVALID_SIGNATURE", str(exc)) from None
        if recovered != signer:
            raise BridgeError(400, "INVALID_SIGNATURE", f"the signature recovers to {recovered}, not {signer}")
        key = (tx.chain_id, tx_hash)
        if key in self.deposits:  # the same signed transaction again: same answer, nothing moves twice
            return 202, self.deposits[key]["submitted"]
        if tx.nonce != self.nonces.get((tx.chain_id, signer), 0):
            raise BridgeError(409, "NONCE_TOO_LOW", "this transaction's nonce is already used: prepare again")
        symbol = next((s for s in self.symbols() if self.token(s) == tx.token_address), None)
        if symbol is None:  # unreachable while the proof binds the transaction the sandbox built
            raise BridgeError(400, "ASSET_NOT_FOUND", f"token {tx.token_address} is not bridgeable")
        _, asset, decimals = self._asset(self.symbols()[symbol][0])
        if self.evm_balance(tx.chain_id, signer, symbol) < tx.amount:
            raise BridgeError(409, "INSUFFICIENT_BALANCE", f"{signer} no longer holds {tx.amount} {symbol}")
        fuel_amount = tx.amount // int(10 ** (EVM_DECIMALS[symbol] - decimals))  # EVM decimals ≥ Fuel's here
        self.evm[(tx.chain_id, signer, symbol)] -= tx.amount
        self.nonces[(tx.chain_id, signer)] = tx.nonce + 1
        recipient = tx.recipient
        if tx.recipient_is_contract and recipient in self.ex.accounts:
            self.ex.ledger.add(None, recipient, ("wallet", asset), fuel_amount)
        else:
            self.ex.credit_wallet(None, recipient, asset, fuel_amount)
        submitted = {"sourceChainId": tx.chain_id, "evmTxHash": tx_hash, "status": "submitted",
                     "submittedAt": _iso(self.ex.clock())}
        status = {"sourceChainId": tx.chain_id, "evmTxHash": tx_hash,
                  "source": {"status": "confirmed", "blockNumber": "1", "confirmations": "1"},
                  "fuel": {"status": "unavailable"}, "requestHash": "0x" + hashlib.sha256(tx_hash.encode()).hexdigest()}
        self.deposits[key] = {"submitted": submitted, "status": status}
        return 202, submitted

    # --- withdrawals ------------------------------------------------------------------------

    def withdraw_prepare(self, query: Dict[str, str], body: Any) -> Reply:
        """``POST /v1/withdraw/prepare``: the proxy's script spending a coin of ``from``."""
        if not isinstance(body, dict):
            raise BridgeError(400, "VALIDATION_ERROR", "a JSON object is required")
        chain = self._chain(body.get("destinationChainId"), "destinationChainId")
        owner = b256_hex(str(body.get("from")), "from")
        recipient = to_bytes(str(body.get("to")), 20, "to")
        symbol, asset, decimals = self._asset(body.get("assetId"))
        amount, fee = self._amount(body.get("amount")), self._fee(decimals)
        held = self.ex.wallets.get(owner, {}).get(asset, 0)
        if amount <= fee or held < amount:
            raise BridgeError(400, "INSUFFICIENT_BALANCE" if held < amount else "AMOUNT_TOO_SMALL",
                              f"{owner} holds {held}; the amount must be over the fee {fee} and at most that")
        raw = build_withdraw_transaction(owner=bytes.fromhex(owner[2:]), coin_amount=held,
                                         asset_id=bytes.fromhex(asset[2:]), amount=amount,
                                         registry=bytes.fromhex(self.contracts["assetRegistry"][2:]),
                                         sub_id=hashlib.sha256(symbol.encode()).digest(), destination_chain_id=chain,
                                         recipient=recipient, fee=fee, max_inputs=MAX_INPUTS,
                                         expiration=2**32 - 1)
        return 200, {"unsignedTransaction": "0x" + raw.hex(), "fuelChainId": str(self.ex.chain_id),
                     "preparationProof": self._proof("withdraw", owner, raw)}

    def withdraw_submit(self, query: Dict[str, str], body: Any) -> Reply:
        """``POST /v1/withdraw/submit``: verify, then debit Fuel and credit EVM."""
        signer, unsigned, signature = self._verify_proof("withdraw", body)
        tx = parse_fuel_unsigned_transaction(unsigned, self.ex.chain_id, MAX_INPUTS)
        try:
            recovered = withdraw_signer(tx.transaction_id, signature)
        except ValidationError as exc:
            raise BridgeError(400, "INVALID_SIGNATURE", str(exc)) from None
        if recovered != signer or any(i.owner not in (None, signer) for i in tx.inputs):
            raise BridgeError(400, "INVALID_SIGNATURE", f"the signature recovers to {recovered}, not the coin owner")
        if tx.transaction_id in self.withdrawals:
            return 200, self.withdrawals[tx.transaction_id]["submitted"]
        symbol, asset, decimals = self._asset(tx.asset_id)
        wallet = self.ex.wallets.setdefault(signer, {})
        coin = next(i.amount or 0 for i in tx.inputs if i.type == "coin")
        if wallet.get(asset, 0) != coin:  # the coin was spent (or changed) since prepare
            raise BridgeError(409, "INPUT_SPENT", "the prepared coin is no longer unspent: prepare again")
        wallet[asset] -= tx.gross_amount
        token_amount = evm_amount(tx.net_amount, EVM_DECIMALS[symbol], decimals)
        self.evm_balance(tx.destination_chain_id, tx.recipient, symbol)
        self.evm[(tx.destination_chain_id, tx.recipient, symbol)] += token_amount
        submitted = {"fuelTxId": tx.transaction_id, "status": "submitted", "submittedAt": _iso(self.ex.clock())}
        status = {"fuelTxId": tx.transaction_id, "fuel": {"status": "success", "blockHeight": "1"},
                  "requestHash": "0x" + hashlib.sha256(tx.transaction_id.encode()).hexdigest(),
                  "destinationChainId": tx.destination_chain_id, "destination": {"status": "unavailable"}}
        self.withdrawals[tx.transaction_id] = {"submitted": submitted, "status": status}
        return 200, submitted
