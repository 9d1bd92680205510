"""The withdraw side: read the proxy's unsigned Fuel Script transaction offline and derive its id.

The proxy builds one fixed shape (all integers big-endian u64 unless noted; Fuel pads every
variable-length field with zeros to a multiple of 8)::

    header   u64 type (0 = Script) ‖ u64 scriptGasLimit ‖ receiptsRoot(32) ‖ u64 len(script)
             ‖ u64 len(scriptData) ‖ u64 policyMask ‖ u64 nInputs ‖ u64 nOutputs ‖ u64 nWitnesses
    script   6 instructions (24 bytes): a CALL of the Asset Registry through script data
    data     u64 amount ‖ assetId(32) ‖ registry contract id(32) ‖ u64 selector pointer
             ‖ u64 args pointer ‖ u64 33 ‖ "withdraw_via_fast_bridge_with_fee" ‖ subId(32)
             ‖ u32 destination chain ‖ recipient(32: 12 zero bytes ‖ EVM address) ‖ u64 fee
             (205 bytes)
    policies one u64 per mask bit, in order tip, witnessLimit, maturity, maxFee, expiration, owner
    inputs   coin (0) / contract (1) / message (2), no predicates, no message data, witness 0
    outputs  contract (1) / change (2) / variable (3); never a coin output
    witness  exactly one, empty (u64 length 0)

Its id (what the owner signs) is ``sha256(u64 chainId ‖ the transaction up to the witnesses)``
with the fields that execution fills in zeroed: the receipts root, each input's tx pointer and
predicate gas (and a contract input's utxo and roots), contract outputs' roots, change amounts,
variable outputs' ``to``, amount and asset id, and the witness count.

The script's pointers depend on the chain's ``maxInputs`` (the VM puts 72 + 40·maxInputs bytes
before the transaction), which the transaction does not carry: pass a value you trust. Byte rules
and refusals follow o2-sdk 0.5.0's ``inspection.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from ._reader import Reader, check, hex0x, unhex

__all__ = ["FuelInputInspection", "FuelOutputInspection", "FuelNetworkFee", "FuelWithdrawalInspection",
           "WITHDRAW_SELECTOR", "POLICY_NAMES", "parse_fuel_unsigned_transaction"]

WITHDRAW_SELECTOR = b"withdraw_via_fast_bridge_with_fee"  # the Asset Registry method (ABI selector text)
POLICY_NAMES = ("tip", "witnessLimit", "maturity", "maxFee", "expiration", "owner")  # mask bits 0..5
_U16, _U32 = 0xFFFF, 0xFFFFFFFF
_SCRIPT_DATA_BASE = 88  # scriptData's VM address minus its offset in the script (fixed by the shape)
_POINTER_MAX = 0x3FFFF  # 18-bit immediate of the script's instructions
_Zero = Callable[[int, int], None]  # zeroes (start, size) of the copy that is hashed into the id


@dataclass(frozen=True)
class FuelInputInspection:
    """An input: ``type`` is ``"coin"``, ``"contract"`` or ``"message"`` (``owner`` = recipient)."""

    type: str
    owner: Optional[str] = None
    amount: Optional[int] = None
    asset_id: Optional[str] = None
    contract_id: Optional[str] = None
    witness_index: Optional[int] = None


@dataclass(frozen=True)
class FuelOutputInspection:
    """An output. Change/variable amounts and variable ``to``/``asset_id`` are filled in by execution:
    they are not signed."""

    type: str
    to: Optional[str] = None
    amount: Optional[int] = None
    asset_id: Optional[str] = None
    input_index: Optional[int] = None


@dataclass(frozen=True)
class FuelNetworkFee:
    """``max_fee``: the cap in Fuel base-asset units, not the fee actually paid."""

    max_fee: int


@dataclass(frozen=True)
class FuelWithdrawalInspection:
    """What an unsigned withdrawal would do. Names and meanings as o2-sdk 0.5.0.

    ``bridge_fee`` is the quote embedded in the call (execution may drift within the contract's
    tolerance); ``net_amount`` = ``gross_amount - bridge_fee`` is expected, not guaranteed.
    ``transaction_id`` is the 32 bytes the owner signs.
    """

    asset_id: str
    asset_sub_id: str
    asset_registry_contract_id: str
    destination_chain_id: int
    recipient: str
    gross_amount: int
    bridge_fee: int
    net_amount: int
    network_fee: FuelNetworkFee
    expiration_block_height: int
    script_gas_limit: int
    policies: Dict[str, int]
    inputs: List[FuelInputInspection]
    outputs: List[FuelOutputInspection]
    transaction_id: str


def expected_script(max_inputs: int) -> bytes:
    """The 6-instruction call stub for a chain whose ``maxInputs`` is ``max_inputs``.

    ``offset`` = 192 + 40·maxInputs is where script data sits for the VM (a 72 + 40·maxInputs
    prefix, the 96-byte Script header, this 24-byte script)::

        MOVI $0x10, offset+40   MOVI $0x11, offset   LW $0x11, $0x11, 0
        MOVI $0x12, offset+8    CALL $0x10 $0x11 $0x12 $cgas   RET $one
    """
    offset = 192 + 40 * max_inputs
    words = (0x72400000 | (offset + 40), 0x72440000 | offset, 0x5D451000, 0x72480000 | (offset + 8), 0x2D41148A,
             0x24040000)
    return b"".join(w.to_bytes(4, "big") for w in words)


def parse_fuel_unsigned_transaction(unsigned_transaction: str, fuel_chain_id: int,
                                    fuel_max_inputs: int) -> FuelWithdrawalInspection:
    """Read the proxy's withdrawal script and derive its id under a chain id you trust.

    Args:
        unsigned_transaction: the ``unsignedTransaction`` from ``withdraw/prepare``.
        fuel_chain_id: the Fuel chain id (u64), from a source you trust — not only the proxy's
            ``fuelChainId``: a different chain id gives a different, replayable id.
        fuel_max_inputs: the chain's consensus ``txParameters.maxInputs`` (1–65535), trusted:
            the script's pointers depend on it and the transaction does not carry it.

    Refuses (``ValidationError``) every other script, predicates, message data, non-empty
    witnesses, coin outputs, unknown policies, nonzero padding, pointers that do not address this
    transaction's own script data, a recipient that is zero or not an EVM address, a fee above the
    amount, a registry that is not among the inputs. Parsing is not approval: check the result
    against what you asked for (the flow helpers do).
    """
    check(type(fuel_chain_id) is int and 0 <= fuel_chain_id < 1 << 64, "Fuel chain id must fit a u64")
    check(type(fuel_max_inputs) is int and 0 < fuel_max_inputs <= _U16, "invalid Fuel consensus maxInputs")
    raw = unhex(unsigned_transaction, "unsignedTransaction")
    normalized = bytearray(raw)
    r = Reader(raw)

    def zero(start: int, size: int) -> None:
        normalized[start:start + size] = bytes(size)

    check(r.num() == 0, "expected a Fuel Script transaction")
    gas = r.num()
    r.take(32)
    zero(16, 32)  # receipts root
    script_len, data_len = r.count(what="script length"), r.count(what="script data length")
    mask = r.count(63, "policy mask")
    n_inputs, n_outputs, n_witnesses = r.count(what="input count"), r.count(what="output count"), r.count(
        what="witness count")
    check(0 < n_inputs <= fuel_max_inputs and n_witnesses == 1,
          "expected 1..maxInputs inputs and one unsigned owner witness")
    script, data = r.padded(script_len), r.padded(data_len)
    policies = {name: r.num() for i, name in enumerate(POLICY_NAMES) if mask & (1 << i)}
    check("maxFee" in policies and "expiration" in policies, "maxFee and expiration policies are required")
    check(policies["expiration"] <= _U32, "expiration policy must fit a u32")
    inputs = [_input(r, zero) for _ in range(n_inputs)]
    outputs = [_output(r, zero, inputs) for _ in range(n_outputs)]
    witness_offset = r.offset
    check(r.num() == 0, "expected an empty unsigned witness")
    r.done()
    zero(88, 8)  # witness count
    d = Reader(data)
    gross, asset_id, registry = d.num(), hex0x(d.take(32)), hex0x(d.take(32))
    selector_pointer = d.count(_POINTER_MAX + _SCRIPT_DATA_BASE, "selector pointer")
    args_pointer = d.count(_POINTER_MAX + 256, "arguments pointer")
    check(d.num() == len(WITHDRAW_SELECTOR) and d.take(len(WITHDRAW_SELECTOR)) == WITHDRAW_SELECTOR,
          "unknown Fuel call (not withdraw_via_fast_bridge_with_fee)")
    check(args_pointer == selector_pointer + 8 + len(WITHDRAW_SELECTOR), "invalid Fuel argument pointer")
    offset = selector_pointer - _SCRIPT_DATA_BASE
    check(offset == 192 + 40 * fuel_max_inputs, "Fuel call pointer does not address this transaction's script data")
    check(offset >= 0 and offset + 40 <= _POINTER_MAX, "Fuel call pointer out of range")
    check(script == expected_script(fuel_max_inputs), "unsupported Fuel script")
    sub_id, chain, recipient, fee = hex0x(d.take(32)), d.num(4), d.take(32), d.num()
    d.done()
    check(not any(recipient[:12]), "withdrawal recipient is not an EVM address")
    check(gross >= fee, "bridge fee above the amount")
    check(any(recipient[12:]), "zero withdrawal recipient")
    check(any(i.contract_id == registry for i in inputs), "missing Asset Registry input")
    tx_id = hex0x(hashlib.sha256(fuel_chain_id.to_bytes(8, "big") + bytes(normalized[:witness_offset])).digest())
    return FuelWithdrawalInspection(
        asset_id=asset_id, asset_sub_id=sub_id, asset_registry_contract_id=registry, destination_chain_id=chain,
        recipient=hex0x(recipient[12:]), gross_amount=gross, bridge_fee=fee, net_amount=gross - fee,
        network_fee=FuelNetworkFee(policies["maxFee"]), expiration_block_height=policies["expiration"],
        script_gas_limit=gas, policies=policies, inputs=inputs, outputs=outputs, transaction_id=tx_id)


def _input(r: Reader, zero: _Zero) -> FuelInputInspection:
    kind, start = r.count(2, "input type"), r.offset
    if kind == 1:  # contract: utxo id, roots and tx pointer are execution-dependent
        r.take(32)
        r.count(_U16, "output index")
        r.take(64)
        r.count(_U32, "block height")
        r.count(_U16, "tx index")
        zero(start, 120)
        return FuelInputInspection("contract", contract_id=hex0x(r.take(32)))
    asset: Optional[str] = None
    if kind == 0:  # coin
        r.take(32)
        r.count(_U16, "output index")
        owner, amount, asset = hex0x(r.take(32)), r.num(), hex0x(r.take(32))
        pointer = r.offset
        r.count(_U32, "block height")
        r.count(_U16, "tx index")
        zero(pointer, 16)
    else:  # message: sender, recipient, amount, nonce
        r.take(32)
        owner, amount = hex0x(r.take(32)), r.num()
        r.take(32)
    witness = r.count(_U16, "witness index")
    check(witness == 0, "inputs must use witness 0")
    gas_offset = r.offset
    check(r.num() == 0, "predicates are unsupported")
    zero(gas_offset, 8)
    if kind == 2:
        check(r.num() == 0, "message data is unsupported")
    check(r.num() == 0 and r.num() == 0, "predicates are unsupported")
    return FuelInputInspection("coin" if kind == 0 else "message", owner, amount, asset, witness_index=witness)


def _output(r: Reader, zero: _Zero, inputs: List[FuelInputInspection]) -> FuelOutputInspection:
    kind = r.count(3, "output type")
    check(kind != 0, "coin outputs are unsupported in proxy withdrawals")
    if kind == 1:
        index = r.count(what="input index")
        check(index < len(inputs) and inputs[index].type == "contract", "contract output must point at a contract input")
        zero(r.offset, 64)
        r.take(64)
        return FuelOutputInspection("contract", input_index=index)
    start = r.offset
    to, amount, asset = hex0x(r.take(32)), r.num(), hex0x(r.take(32))
    if kind == 2:
        zero(start + 32, 8)  # change amount
    else:
        zero(start, 72)  # variable: to, amount and asset id
    return FuelOutputInspection("change" if kind == 2 else "variable", to, amount, asset)
