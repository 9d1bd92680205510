"""Every case of the official Fast Bridge fixtures, reproduced.

Source: o2-exchange/sdks ``fixtures/bridge/transactions.json`` (commit 715c6745f74d8d1da4444c9e793cf19ef9eb04b4)
and ``fixtures/bridge/http.json`` (commit ae9e3d0400afa31a0e34b76268efefdb7627c513), copied into
``tests/vectors/bridge/`` (see its README). The signing key of every fixture signature is 0x11…11.
"""

from __future__ import annotations

import json
import pathlib

import pytest
import responses
from responses import matchers

from o2lite import EvmWallet, Wallet
from o2lite.bridge import (BridgeApiError, FastBridgeClient, parse_evm_unsigned_transaction,
                           parse_fuel_unsigned_transaction, parse_preparation_proof, sign_deposit, sign_withdraw)
from o2lite.bridge import models as m
from o2lite.bridge.evm import deposit_transaction_hash, signed_transaction
from o2lite.bridge.signatures import deposit_signer, withdraw_signer
from o2lite.errors import ValidationError
from o2lite.keccak import keccak256

HERE = pathlib.Path(__file__).parent / "vectors" / "bridge"
TX = json.loads((HERE / "transactions.json").read_text())
HTTP = json.loads((HERE / "http.json").read_text())
KEY = "0x" + "11" * 32
BASE = "https://bridge.testnet.o2.app"


@pytest.mark.parametrize("case", TX["evm"], ids=lambda c: c["name"])
def test_evm_fixture_parses_to_the_expected_deposit(case):
    got = parse_evm_unsigned_transaction(case["unsignedTransaction"])
    want = case["expected"]
    assert got.type == 2 and got.method == want["method"]
    assert str(got.chain_id) == want["chainId"] and str(got.nonce) == want["nonce"]
    assert got.messenger_address == want["messengerAddress"]
    assert str(got.value) == want["value"] and str(got.gas_limit) == want["gasLimit"]
    assert str(got.max_fee_per_gas) == want["maxFeePerGas"]
    assert str(got.max_priority_fee_per_gas) == want["maxPriorityFeePerGas"]
    assert str(got.estimated_network_fee) == want["estimatedNetworkFee"]
    assert got.recipient == want["recipient"] and got.recipient_is_contract is want["recipientIsContract"]
    assert got.token_address == want["tokenAddress"] and str(got.amount) == want["amount"]
    assert got.signing_digest == want["signingDigest"]
    assert got.signing_digest == "0x" + keccak256(bytes.fromhex(case["unsignedTransaction"][2:])).hex()
    words = {"deposit": 4, "depositWithPermit": 8, "depositETH": 2}[want["method"]]
    assert len(got.data) == 2 + 2 * (4 + 32 * words) and got.data[2:] in case["unsignedTransaction"]


def test_the_permit_fixture_carries_its_permit():
    got = parse_evm_unsigned_transaction(TX["evm"][2]["unsignedTransaction"])
    assert got.permit is not None
    assert (got.permit.deadline, got.permit.v) == (2000000000, 27)
    assert (got.permit.r, got.permit.s) == ("0x" + "33" * 32, "0x" + "44" * 32)
    assert parse_evm_unsigned_transaction(TX["evm"][0]["unsignedTransaction"]).permit is None


@pytest.mark.parametrize("case", TX["evm"], ids=lambda c: c["name"])
def test_evm_deposit_signature_matches_the_fixture_byte_for_byte(case):
    wallet = EvmWallet(KEY)
    signature = sign_deposit(wallet, case["unsignedTransaction"])
    assert signature == case["signature"]
    assert len(bytes.fromhex(signature[2:])) == 65 and signature[-2:] in ("1b", "1c")
    assert deposit_signer(case["expected"]["signingDigest"], signature) == wallet.evm_address


def test_the_signed_envelope_and_its_hash_are_rebuilt_offline():
    # The fixture's "signed envelope" is evm[0] signed with its fixture signature (generate.mjs).
    case = TX["evm"][0]
    envelope = signed_transaction(case["unsignedTransaction"], case["signature"])
    assert "0x" + envelope.hex() == TX["invalidEvm"][0]["unsignedTransaction"]
    assert deposit_transaction_hash(case["unsignedTransaction"], case["signature"]) == "0x" + keccak256(envelope).hex()


@pytest.mark.parametrize("case", TX["fuel"], ids=lambda c: f"chain{c['fuelChainId']}-max{c['fuelMaxInputs']}")
def test_fuel_fixture_parses_and_its_id_and_signature_match(case):
    chain = int(case["fuelChainId"])
    got = parse_fuel_unsigned_transaction(case["unsignedTransaction"], chain, case["fuelMaxInputs"])
    want = case["expected"]
    assert got.asset_id == want["assetId"] and got.asset_sub_id == want["assetSubId"]
    assert got.asset_registry_contract_id == want["assetRegistryContractId"]
    assert got.destination_chain_id == want["destinationChainId"] and got.recipient == want["recipient"]
    assert (str(got.gross_amount), str(got.bridge_fee), str(got.net_amount)) == (
        want["grossAmount"], want["bridgeFee"], want["netAmount"])
    assert str(got.network_fee.max_fee) == want["networkFee"]["maxFee"]
    assert got.expiration_block_height == want["expirationBlockHeight"]
    assert got.transaction_id == want["transactionId"]
    wallet = Wallet(KEY)
    signature = sign_withdraw(wallet, case["unsignedTransaction"], chain, case["fuelMaxInputs"])
    assert signature == case["signature"]
    assert withdraw_signer(got.transaction_id, signature) == wallet.address


def test_fuel_fixture_inputs_outputs_and_policies():
    got = parse_fuel_unsigned_transaction(TX["fuel"][0]["unsignedTransaction"], 0, 255)
    owner = Wallet(KEY).address
    assert [i.type for i in got.inputs] == ["coin", "contract", "message"]
    assert (got.inputs[0].owner, got.inputs[0].amount, got.inputs[0].asset_id) == (owner, 5000000, "0x" + "22" * 32)
    assert got.inputs[1].contract_id == "0x" + "99" * 32
    assert (got.inputs[2].owner, got.inputs[2].amount) == (owner, 2000000)
    assert [o.type for o in got.outputs] == ["change", "contract", "variable"]
    assert got.outputs[1].input_index == 1
    assert got.policies == {"tip": 3, "witnessLimit": 72, "maturity": 123000, "maxFee": 100000, "expiration": 123456,
                            "owner": 0}
    assert got.script_gas_limit == 1000000


def test_the_chain_id_changes_the_id_and_max_inputs_must_be_the_right_one():
    tx = TX["fuel"][0]["unsignedTransaction"]
    ids = {parse_fuel_unsigned_transaction(tx, c, 255).transaction_id for c in (0, 9889, 2**64 - 1)}
    assert len(ids) == 3
    with pytest.raises(ValidationError, match="does not address"):
        parse_fuel_unsigned_transaction(tx, 0, 511)
    for bad_chain in (-1, 2**64, True, "0"):
        with pytest.raises(ValidationError, match="chain id"):
            parse_fuel_unsigned_transaction(tx, bad_chain, 255)
    for bad_max in (0, 65536, 255.0):
        with pytest.raises(ValidationError, match="maxInputs"):
            parse_fuel_unsigned_transaction(tx, 0, bad_max)


@pytest.mark.parametrize("case", TX["proofs"], ids=lambda c: c["operation"])
def test_proof_fixture_claims(case):
    claims = parse_preparation_proof(case["proof"])
    want = case["claims"]
    assert (claims.version, claims.key_id, claims.expires_at, claims.signer) == (
        want["version"], want["keyId"], want["expiresAt"], want["signer"])


def test_proof_signers_are_the_fixture_keys():
    assert parse_preparation_proof(TX["proofs"][0]["proof"]).signer == EvmWallet(KEY).evm_address
    assert parse_preparation_proof(TX["proofs"][1]["proof"]).signer == Wallet(KEY).address


RULES_EVM = {
    "signed envelope": "9 fields", "zero-prefixed nonce": "noncanonical EVM integer",
    "uint256 overflow": "noncanonical EVM integer", "nonempty access list": "empty access list",
    "unknown call": "unknown Messenger method", "invalid bool": "recipientIsContract",
    "token deposit with ETH value": "no ETH value", "nonzero token address padding": "token address",
    "permit v overflow": "permit v",
}
RULES_FUEL = {
    "unknown policies": "policy mask", "nonempty witness": "empty unsigned witness",
    "unsupported script": "unsupported Fuel script", "invalid selector pointer": "argument pointer",
    "invalid args pointer": "argument pointer", "relocated but self-consistent pointers": "does not address",
    "wrong selector": "unknown Fuel call", "nonzero data padding": "nonzero transaction padding",
    "predicate input": "predicates", "unsupported witness index": "witness 0",
    "unsupported input type": "input type",
}


@pytest.mark.parametrize("case", TX["invalidEvm"], ids=lambda c: c["name"])
def test_invalid_evm_fixture_is_refused_naming_the_rule(case):
    with pytest.raises(ValidationError, match=RULES_EVM[case["name"]]):
        parse_evm_unsigned_transaction(case["unsignedTransaction"])


@pytest.mark.parametrize("case", TX["invalidFuel"], ids=lambda c: c["name"])
def test_invalid_fuel_fixture_is_refused_naming_the_rule(case):
    with pytest.raises(ValidationError, match=RULES_FUEL[case["name"]]):
        parse_fuel_unsigned_transaction(case["unsignedTransaction"], 0, 255)


def test_every_invalid_fixture_has_a_named_rule():
    assert {c["name"] for c in TX["invalidEvm"]} == set(RULES_EVM)
    assert {c["name"] for c in TX["invalidFuel"]} == set(RULES_FUEL)


# --- http.json: one exact request and answer per endpoint ------------------------------------

def _call(client, case):
    q, b = case.get("query", {}), case.get("body", {})
    name = case["name"]
    if name == "getInfo":
        return client.get_info()
    if name == "getAssets":
        return client.get_assets(q["chainId"])
    if name == "getDepositInfo":
        return client.get_deposit_info(q["sourceChainId"], q["assetId"], q["amount"])
    if name == "prepareDeposit":
        p = b["permit"]
        return client.prepare_deposit(m.DepositPrepareRequest(
            source_chain_id=b["sourceChainId"], from_address=b["from"], to=b["to"], to_type=b["toType"],
            asset_id=b["assetId"], amount=b["amount"], permit=m.DepositPermit(deadline=p["deadline"], v=p["v"],
                                                                              r=p["r"], s=p["s"])))
    if name in ("submitDeposit", "submitWithdraw"):
        request = m.SubmitRequest(preparation_proof=b["preparationProof"],
                                  unsigned_transaction=b["unsignedTransaction"], signature=b["signature"])
        return (client.submit_deposit if name == "submitDeposit" else client.submit_withdraw)(request)
    if name == "getDepositStatus":
        return client.get_deposit_status(q["sourceChainId"], q["evmTxHash"])
    if name == "getWithdrawInfo":
        return client.get_withdraw_info(q["destinationChainId"], q["assetId"], q["amount"])
    if name == "getWithdrawFee":
        return client.get_withdraw_fee(q["destinationChainId"], q["assetId"])
    if name == "prepareWithdraw":
        return client.prepare_withdraw(m.WithdrawPrepareRequest(
            destination_chain_id=b["destinationChainId"], from_address=b["from"], to=b["to"], asset_id=b["assetId"],
            amount=b["amount"]))
    assert name == "getWithdrawStatus"
    return client.get_withdraw_status(q["fuelTxId"])


def _as_wire(value):
    """A parsed result back to camelCase JSON (to compare with the fixture answer)."""
    if isinstance(value, m.BridgeModel):
        import dataclasses
        return {m.wire_name(f.name): _as_wire(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.name != "raw"}
    if isinstance(value, list):
        return [_as_wire(v) for v in value]
    return value


@pytest.mark.parametrize("case", HTTP, ids=lambda c: c["name"])
def test_http_fixture_request_and_answer(case):
    match = [matchers.query_param_matcher({k: str(v) for k, v in case.get("query", {}).items()}, strict_match=True)]
    if case["method"] == "POST":
        match.append(matchers.json_params_matcher(case["body"], strict_match=True))
    with responses.RequestsMock() as rsps, FastBridgeClient("testnet") as client:
        rsps.add(case["method"], BASE + case["path"], json=case["response"], match=match,
                 status=202 if case["name"] == "submitDeposit" else 200)
        result = _call(client, case)
        assert len(rsps.calls) == 1
        assert rsps.calls[0].request.method == case["method"]
    assert result.raw == case["response"]
    assert _as_wire(result) == case["response"]  # every field parsed, with the official names


def test_http_fixture_covers_the_eleven_operations():
    assert len({c["name"] for c in HTTP}) == 11


@pytest.mark.parametrize("case", HTTP, ids=lambda c: c["name"])
def test_http_fixture_answer_missing_a_required_key_is_malformed(case):
    required = next(k for k in case["response"] if k not in ("requestHash", "amountEligible"))
    broken = {k: v for k, v in case["response"].items() if k != required}
    with responses.RequestsMock() as rsps, FastBridgeClient("testnet") as client:
        rsps.add(case["method"], BASE + case["path"], json=broken)
        with pytest.raises(BridgeApiError) as info:
            _call(client, case)
    assert info.value.bridge_code == "INVALID_RESPONSE" and info.value.status == 200
    assert "Malformed bridge response" in info.value.message
