"""The deposit and withdraw flows against the sandbox proxy (served through `responses` callbacks):
end to end with balances moving, dry runs, and every refusal before anything is signed."""

from __future__ import annotations

import json
import re
from typing import Any, Callable, List, Optional
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from o2lite import EvmWallet, Wallet
from o2lite.bridge import (BridgeApiError, BridgePlan, BridgeSubmissionUnknown, BridgeTransfer, FastBridgeClient,
                           deposit, plan_deposit, plan_withdraw, send_plan, withdraw)
from o2lite.bridge.flows import MAINNET_MESSENGER, evm_amount
from o2lite.bridge.models import SubmitRequest
from o2lite.bridge.signatures import sign_deposit, sign_withdraw
from o2lite.errors import ValidationError
from o2lite.sandbox import Exchange
from o2lite.sandbox.bridge import MAX_INPUTS, BridgeProxy
from o2lite.sandbox.bridge_tx import build_withdraw_transaction

PROXY = "http://bridge.test"
CHAIN = 84532
DEPOSITOR = EvmWallet("0x" + "21" * 32)
FUEL_OWNER = Wallet("0x" + "22" * 32)
EVM_RECIPIENT = "0x" + "ab" * 20


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class ProxyMock:
    """Every request to PROXY served by a BridgeProxy; ``tamper`` may rewrite an answer."""

    def __init__(self, rsps: responses.RequestsMock, proxy: BridgeProxy) -> None:
        self.proxy = proxy
        self.sent: List[tuple] = []
        self.tamper: Optional[Callable[[str, Any], Any]] = None
        self.fail_submit: Optional[Exception] = None
        for method in ("GET", "POST"):
            rsps.add_callback(method, re.compile(re.escape(PROXY) + r"/.*"), callback=self._serve)

    def _serve(self, request: Any) -> Any:
        url = urlsplit(request.url)
        body = json.loads(request.body) if request.body else None
        self.sent.append((request.method, url.path, body))
        status, payload = self.proxy.handle(request.method, url.path, dict(parse_qsl(url.query)), body)
        if self.tamper is not None:
            payload = self.tamper(url.path, payload)
        if self.fail_submit is not None and url.path.endswith("/submit"):
            raise self.fail_submit
        return status, {}, json.dumps(payload)

    def posts(self, suffix: str) -> List[Any]:
        return [b for m, p, b in self.sent if m == "POST" and p.endswith(suffix)]


@pytest.fixture
def world():
    clock = Clock()
    exchange = Exchange(seed_book=False, clock=clock)
    proxy = BridgeProxy(exchange)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps, FastBridgeClient(PROXY) as client:
        yield exchange, proxy, ProxyMock(rsps, proxy), client, clock


def _asset(exchange: Exchange, symbol: str) -> str:
    return exchange.assets()[symbol][0]


def _account(exchange: Exchange) -> str:
    status, body, _ = exchange.handle("POST", "/v1/accounts", {}, {}, {"identity": {"Address": FUEL_OWNER.address}})
    assert status == 200
    return str(body["trade_account_id"])


def _deposit_args(exchange: Exchange, proxy: BridgeProxy, **over: Any) -> dict:
    args = dict(source_chain_id=CHAIN, asset_id=_asset(exchange, "USDC"), amount=25_000_000, to=_account(exchange),
                to_type="contract", messenger=proxy.messenger, now=proxy.ex.clock)
    args.update(over)
    return args


def test_deposit_end_to_end_credits_the_trade_account(world):
    exchange, proxy, mock, client, clock = world
    args = _deposit_args(exchange, proxy)
    usdc, account = args["asset_id"], args["to"]
    before = proxy.evm_balance(CHAIN, DEPOSITOR.evm_address, "USDC")
    transfer = deposit(client, DEPOSITOR, **args)
    assert isinstance(transfer, BridgeTransfer) and transfer.operation == "deposit"
    assert exchange.ledger.get(account, ("wallet", usdc)) == 25_000_000
    assert proxy.evm_balance(CHAIN, DEPOSITOR.evm_address, "USDC") == before - 25_000_000  # USDC: 6 decimals both sides
    status = transfer.status()
    assert status.source.status == "confirmed" and status.evm_tx_hash == transfer.id
    [submitted] = mock.posts("/v1/deposit/submit")
    assert submitted["signature"] == transfer.signature and len(bytes.fromhex(transfer.signature[2:])) == 65
    # the same signed deposit again: the proxy answers the same, nothing moves twice
    again = client.submit_deposit(SubmitRequest(preparation_proof=submitted["preparationProof"],
                                                unsigned_transaction=submitted["unsignedTransaction"],
                                                signature=submitted["signature"]))
    assert again.evm_tx_hash == transfer.id and exchange.ledger.get(account, ("wallet", usdc)) == 25_000_000


def test_eth_deposit_to_a_plain_address_scales_decimals(world):
    exchange, proxy, mock, client, clock = world
    eth = _asset(exchange, "ETH")  # 9 decimals on Fuel, 18 on the EVM side
    transfer = deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy, asset_id=eth, amount=1_500_000_000,
                                                           to=FUEL_OWNER.address, to_type="address"))
    assert isinstance(transfer, BridgeTransfer)
    assert transfer.plan.inspection.method == "depositETH" and transfer.plan.inspection.value == 15 * 10**17
    assert exchange.wallets[FUEL_OWNER.address][eth] == 1_500_000_000


def test_deposit_dry_run_explains_and_sends_nothing(world):
    exchange, proxy, mock, client, clock = world
    plan = deposit(client, DEPOSITOR, dry_run=True, **_deposit_args(exchange, proxy))
    assert isinstance(plan, BridgePlan) and not mock.posts("/submit")
    text = plan.explain()
    for name in ("chain", "messenger", "recipient", "asset", "amount", "proof not expired", "proof signer"):
        assert f"✓ {name}:" in text
    assert plan.digest in text and "Messenger address" in text
    assert plan.digest == plan.inspection.signing_digest
    transfer = send_plan(client, plan, DEPOSITOR)  # the plan, sent unchanged
    assert mock.posts("/v1/deposit/submit")[0]["unsignedTransaction"] == plan.unsigned_transaction
    assert transfer.id == transfer.status().evm_tx_hash


def _fund_fuel(exchange: Exchange, symbol: str, amount: int) -> str:
    asset = _asset(exchange, symbol)
    exchange.credit_wallet(None, FUEL_OWNER.address, asset, amount)
    return asset


def _withdraw_args(exchange: Exchange, asset: str, **over: Any) -> dict:
    args = dict(destination_chain_id=CHAIN, asset_id=asset, amount=4_000_000, to=EVM_RECIPIENT,
                fuel_chain_id=exchange.chain_id, max_inputs=MAX_INPUTS, now=exchange.clock,
                asset_registry=exchange.bridge.contracts["assetRegistry"])
    args.update(over)
    return args


def test_withdraw_end_to_end_debits_fuel_and_credits_the_evm_recipient(world):
    exchange, proxy, mock, client, clock = world
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    evm_before = proxy.evm_balance(CHAIN, EVM_RECIPIENT, "USDC")
    transfer = withdraw(client, FUEL_OWNER, **_withdraw_args(exchange, usdc, max_bridge_fee=1000))
    assert isinstance(transfer, BridgeTransfer)
    inspection = transfer.plan.inspection
    assert exchange.wallets[FUEL_OWNER.address][usdc] == 6_000_000
    assert proxy.evm_balance(CHAIN, EVM_RECIPIENT, "USDC") == evm_before + inspection.net_amount
    assert inspection.net_amount == 4_000_000 - inspection.bridge_fee and inspection.bridge_fee == 100
    status = transfer.status()
    assert status.fuel.status == "success" and status.fuel_tx_id == transfer.id == inspection.transaction_id
    assert len(bytes.fromhex(transfer.signature[2:])) == 64


def test_withdraw_dry_run_lists_what_is_trusted(world):
    exchange, proxy, mock, client, clock = world
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    plan = withdraw(client, FUEL_OWNER, dry_run=True, **_withdraw_args(exchange, usdc))
    assert isinstance(plan, BridgePlan) and not mock.posts("/submit")
    text = plan.explain()
    assert "maxInputs" in text and "✓ coins:" in text and plan.digest in text
    assert exchange.wallets[FUEL_OWNER.address][usdc] == 10_000_000


def test_status_is_none_until_the_proxy_has_seen_it(world):
    exchange, proxy, mock, client, clock = world
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    plan = plan_withdraw(client, FUEL_OWNER, **_withdraw_args(exchange, usdc))
    pending = BridgeTransfer(operation="withdraw", id=plan.digest, chain_id=CHAIN, signature="0x", submitted=None,
                             plan=plan, client=client)
    assert pending.status() is None
    with pytest.raises(BridgeApiError) as info:
        client.get_withdraw_status(plan.digest)
    assert (info.value.status, info.value.bridge_code) == (404, "TRANSACTION_NOT_FOUND")


# --- refusals: nothing is signed or submitted ---------------------------------------------------

def _rewrite_prepare(field: str, make: Callable[[Any], Any]) -> Callable[[str, Any], Any]:
    def tamper(path: str, payload: Any) -> Any:
        if path.endswith("/prepare") and isinstance(payload, dict) and field in payload:
            return dict(payload, **{field: make(payload[field])})
        return payload
    return tamper


@pytest.mark.parametrize("case", ["recipient", "as address", "amount", "chain", "messenger"])
def test_a_deposit_that_does_not_do_what_was_asked_is_refused(world, case):
    exchange, proxy, mock, client, clock = world
    args = _deposit_args(exchange, proxy)
    wrong = dict(args)
    if case == "recipient":
        wrong["to"] = "0x" + "66" * 32
    elif case == "as address":
        wrong["to_type"] = "address"
    elif case == "amount":
        wrong["amount"] = args["amount"] * 10
    elif case == "chain":
        wrong["source_chain_id"] = 11155111
    honest_body = {"sourceChainId": wrong["source_chain_id"], "from": DEPOSITOR.evm_address, "to": wrong["to"],
                   "toType": wrong["to_type"], "assetId": args["asset_id"], "amount": str(wrong["amount"])}
    _, evil = proxy.handle("POST", "/v1/deposit/prepare", {}, honest_body)
    if case == "messenger":
        args["messenger"] = "0x" + "99" * 20
    else:
        mock.tamper = lambda path, payload: evil if path.endswith("/prepare") else payload
    with pytest.raises(ValidationError, match="refusing to sign"):
        deposit(client, DEPOSITOR, **args)
    assert not mock.posts("/submit")


def test_an_expired_proof_is_refused(world):
    exchange, proxy, mock, client, clock = world
    args = _deposit_args(exchange, proxy, now=lambda: clock.now + 10_000)
    with pytest.raises(ValidationError, match="expired"):
        deposit(client, DEPOSITOR, **args)
    assert not mock.posts("/submit")


def test_a_proof_for_another_signer_is_refused(world):
    exchange, proxy, mock, client, clock = world
    other = EvmWallet("0x" + "23" * 32)
    args = _deposit_args(exchange, proxy)
    _, theirs = proxy.handle("POST", "/v1/deposit/prepare", {}, {
        "sourceChainId": CHAIN, "from": other.evm_address, "to": args["to"], "toType": "contract",
        "assetId": args["asset_id"], "amount": str(args["amount"])})
    mock.tamper = _rewrite_prepare("preparationProof", lambda _: theirs["preparationProof"])
    with pytest.raises(ValidationError, match="signer"):
        deposit(client, DEPOSITOR, **args)


def test_the_network_fee_cap_is_enforced(world):
    exchange, proxy, mock, client, clock = world
    with pytest.raises(ValidationError, match="network fee"):
        deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy, max_network_fee=10**9))


def test_bad_input_is_refused_before_any_request(world):
    exchange, proxy, mock, client, clock = world
    args = _deposit_args(exchange, proxy)
    for bad in (dict(to="0x12"), dict(amount=0), dict(amount=1.5), dict(source_chain_id=True), dict(to_type="x"),
                dict(messenger=None)):
        with pytest.raises(ValidationError):
            deposit(client, DEPOSITOR, **dict(args, **bad))
    with pytest.raises(ValidationError):
        deposit(client, FUEL_OWNER, **args)  # a Fuel key cannot sign an EVM deposit
    with pytest.raises(ValidationError):
        withdraw(client, DEPOSITOR, **_withdraw_args(exchange, args["asset_id"]))
    assert mock.sent == []


def test_mainnet_chains_default_to_the_official_messenger():
    assert MAINNET_MESSENGER == "0x2B1c1E133F832EFB1e168dE6102304B03C4ba653".lower()
    assert evm_amount(25, 6, 6) == 25 and evm_amount(1, 18, 9) == 10**9 and evm_amount(10**3, 6, 9) == 1
    with pytest.raises(ValidationError):
        evm_amount(1, 6, 9)


@pytest.mark.parametrize("case", ["recipient", "amount", "asset", "chain", "fuel chain", "change to another",
                                  "coin of another", "fee cap"])
def test_a_withdrawal_that_does_not_do_what_was_asked_is_refused(world, case):
    exchange, proxy, mock, client, clock = world
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    args = _withdraw_args(exchange, usdc)
    stranger = "0x" + "77" * 32

    def build(**over: Any) -> str:
        spec = dict(owner=bytes.fromhex(FUEL_OWNER.address[2:]), coin_amount=10_000_000, asset_id=bytes.fromhex(usdc[2:]),
                    amount=4_000_000, registry=bytes.fromhex(proxy.contracts["assetRegistry"][2:]), sub_id=bytes(32),
                    destination_chain_id=CHAIN, recipient=bytes.fromhex(EVM_RECIPIENT[2:]), fee=100,
                    max_inputs=MAX_INPUTS, expiration=2**32 - 1)
        spec.update(over)
        return "0x" + build_withdraw_transaction(**spec).hex()

    if case == "fee cap":
        args["max_bridge_fee"] = 99
    elif case == "fuel chain":
        mock.tamper = _rewrite_prepare("fuelChainId", lambda _: "0")
    else:
        tx = {"recipient": lambda: build(recipient=b"\x01" * 20), "amount": lambda: build(amount=5_000_000),
              "asset": lambda: build(asset_id=b"\x05" * 32), "chain": lambda: build(destination_chain_id=11155111),
              "change to another": lambda: build(owner=bytes.fromhex(stranger[2:])),
              "coin of another": lambda: build(owner=bytes.fromhex(stranger[2:]))}[case]()
        mock.tamper = _rewrite_prepare("unsignedTransaction", lambda _: tx)
    with pytest.raises(ValidationError, match="refusing to sign"):
        withdraw(client, FUEL_OWNER, **args)
    assert not mock.posts("/submit") and exchange.wallets[FUEL_OWNER.address][usdc] == 10_000_000


def test_an_ambiguous_withdraw_carries_the_locally_computed_id(world):
    import requests

    exchange, proxy, mock, client, clock = world
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    plan = plan_withdraw(client, FUEL_OWNER, **_withdraw_args(exchange, usdc))
    mock.fail_submit = requests.ConnectionError("connection reset by peer")
    with pytest.raises(BridgeSubmissionUnknown) as info:
        send_plan(client, plan, FUEL_OWNER)
    assert info.value.fuel_tx_id == plan.digest and "get_withdraw_status" in str(info.value)
    assert len(mock.posts("/v1/withdraw/submit")) == 1
    # the proxy did accept it: the status, polled with that id, says so
    assert client.get_withdraw_status(info.value.fuel_tx_id).fuel.status == "success"


# --- the sandbox proxy verifies what it is sent --------------------------------------------------

def test_the_sandbox_refuses_a_signature_by_another_key(world):
    exchange, proxy, mock, client, clock = world
    plan = plan_deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy))
    intruder = EvmWallet("0x" + "24" * 32)
    with pytest.raises(ValidationError, match="another key"):
        send_plan(client, plan, intruder)  # o2lite itself will not sign another key's plan
    assert not mock.posts("/submit")
    with pytest.raises(BridgeApiError) as info:
        client.submit_deposit(SubmitRequest(preparation_proof=plan.preparation_proof,
                                            unsigned_transaction=plan.unsigned_transaction,
                                            signature=sign_deposit(intruder, plan.unsigned_transaction)))
    assert (info.value.status, info.value.bridge_code) == (400, "INVALID_SIGNATURE")
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    fuel_plan = plan_withdraw(client, FUEL_OWNER, **_withdraw_args(exchange, usdc))
    with pytest.raises(BridgeApiError) as info:
        client.submit_withdraw(SubmitRequest(preparation_proof=fuel_plan.preparation_proof,
                                             unsigned_transaction=fuel_plan.unsigned_transaction,
                                             signature=sign_withdraw(Wallet("0x" + "25" * 32),
                                                                     fuel_plan.unsigned_transaction,
                                                                     exchange.chain_id, MAX_INPUTS)))
    assert info.value.bridge_code == "INVALID_SIGNATURE"
    assert exchange.wallets[FUEL_OWNER.address][usdc] == 10_000_000


def test_the_sandbox_refuses_a_transaction_its_proof_does_not_bind(world):
    exchange, proxy, mock, client, clock = world
    a = plan_deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy))
    b = plan_deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy, amount=1_000_000))
    with pytest.raises(BridgeApiError) as info:
        client.submit_deposit(SubmitRequest(preparation_proof=a.preparation_proof,
                                            unsigned_transaction=b.unsigned_transaction,
                                            signature=sign_deposit(DEPOSITOR, b.unsigned_transaction)))
    assert info.value.bridge_code == "INVALID_PREPARATION_PROOF"
    clock.now += 10_000
    with pytest.raises(BridgeApiError) as info:
        client.submit_deposit(SubmitRequest(preparation_proof=a.preparation_proof,
                                            unsigned_transaction=a.unsigned_transaction,
                                            signature=sign_deposit(DEPOSITOR, a.unsigned_transaction)))
    assert info.value.bridge_code == "PREPARATION_PROOF_EXPIRED"


def test_the_sandbox_refuses_a_replayed_nonce(world):
    exchange, proxy, mock, client, clock = world
    first = plan_deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy))
    second = plan_deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy, amount=1_000_000))
    send_plan(client, first, DEPOSITOR)
    with pytest.raises(BridgeApiError) as info:
        send_plan(client, second, DEPOSITOR)  # prepared with the same EVM nonce
    assert info.value.bridge_code == "NONCE_TOO_LOW"


def test_a_permit_deposit_embeds_your_permit_and_eth_takes_none(world):
    from o2lite.bridge import DepositPermit

    exchange, proxy, mock, client, clock = world
    permit = DepositPermit(deadline="1900000000", v=27, r="0x" + "11" * 32, s="0x" + "22" * 32)
    plan = deposit(client, DEPOSITOR, dry_run=True, **_deposit_args(exchange, proxy, permit=permit))
    assert isinstance(plan, BridgePlan) and plan.inspection.method == "depositWithPermit"
    assert ("permit", "the embedded permit is the one you signed") in plan.checks
    assert mock.posts("/v1/deposit/prepare")[0]["permit"] == {"deadline": "1900000000", "v": 27,
                                                              "r": "0x" + "11" * 32, "s": "0x" + "22" * 32}
    with pytest.raises(ValidationError, match="native ETH"):
        deposit(client, DEPOSITOR, dry_run=True, **_deposit_args(exchange, proxy, permit=permit,
                                                                   asset_id=_asset(exchange, "ETH")))
    assert len(mock.posts("/v1/deposit/prepare")) == 1


# --- review: hostile route data, and what send_plan re-checks -------------------------------------

@pytest.mark.parametrize("field,value", [("tokenDecimals", 10**8), ("fuelDecimals", 10**40), ("tokenDecimals", -1)])
def test_absurd_decimals_from_the_proxy_are_refused_at_once(world, field, value):
    exchange, proxy, mock, client, clock = world

    def tamper(path: str, payload: Any) -> Any:
        if path.endswith("/assets"):
            for asset in payload["assets"]:
                target = asset if field == "fuelDecimals" else asset["routes"][0]
                target[field] = value
        return payload

    mock.tamper = tamper
    with pytest.raises(ValidationError, match="decimals"):
        deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy))  # before: 10**8 decimals computed 10**(10**8)
    assert not mock.posts("/prepare")
    for bad in ((1, 78, 0), (1, 0, 78), (1, -1, 0)):
        with pytest.raises(ValidationError, match="decimals"):
            evm_amount(*bad)


def test_send_plan_refuses_a_plan_whose_proof_has_expired_since(world):
    exchange, proxy, mock, client, clock = world
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    plan = plan_withdraw(client, FUEL_OWNER, **_withdraw_args(exchange, usdc))
    deposit_plan = plan_deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy))
    clock.now += 10_000
    for p, wallet in ((plan, FUEL_OWNER), (deposit_plan, DEPOSITOR)):
        with pytest.raises(ValidationError, match="expired"):
            send_plan(client, p, wallet, now=clock)
    assert not mock.posts("/submit")


def test_send_plan_signs_only_the_digest_the_plan_was_checked_for(world):
    import dataclasses

    exchange, proxy, mock, client, clock = world
    checked = plan_deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy))
    other = plan_deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy, amount=1_000_000, to="0x" + "66" * 32,
                                                             to_type="address"))
    swapped = dataclasses.replace(checked, unsigned_transaction=other.unsigned_transaction)
    with pytest.raises(ValidationError, match="digest"):
        send_plan(client, swapped, DEPOSITOR, now=clock)
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    fuel_plan = plan_withdraw(client, FUEL_OWNER, **_withdraw_args(exchange, usdc))
    with pytest.raises(ValidationError, match="digest"):
        send_plan(client, dataclasses.replace(fuel_plan, fuel_chain_id=0), FUEL_OWNER, now=clock)
    assert not mock.posts("/submit")


def test_a_withdrawal_calling_another_registry_is_refused(world):
    """The script forwards the whole gross amount to the contract named in its data: a proxy naming
    its own contract (with a matching contract input) would have it keep the coins."""
    exchange, proxy, mock, client, clock = world
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    thief = "0x" + "66" * 32
    tx = "0x" + build_withdraw_transaction(
        owner=bytes.fromhex(FUEL_OWNER.address[2:]), coin_amount=10_000_000, asset_id=bytes.fromhex(usdc[2:]),
        amount=4_000_000, registry=bytes.fromhex(thief[2:]), sub_id=bytes(32), destination_chain_id=CHAIN,
        recipient=bytes.fromhex(EVM_RECIPIENT[2:]), fee=100, max_inputs=MAX_INPUTS, expiration=2**32 - 1).hex()
    mock.tamper = _rewrite_prepare("unsignedTransaction", lambda _: tx)
    with pytest.raises(ValidationError, match="refusing to sign: it calls"):
        withdraw(client, FUEL_OWNER, **_withdraw_args(exchange, usdc))
    assert not mock.posts("/submit") and exchange.wallets[FUEL_OWNER.address][usdc] == 10_000_000


def test_the_asset_registry_defaults_to_the_official_one_on_mainnet_chains_only(world):
    from o2lite.bridge.flows import MAINNET_ASSET_REGISTRY

    exchange, proxy, mock, client, clock = world
    # o2-exchange/skills, skills/fast-bridge/withdrawals/SKILL.md ("Mainnet Contracts", Fuel mainnet)
    assert MAINNET_ASSET_REGISTRY == "0x91cfcbef2caad02996cdcb5b897222170e85a91cd2db8f23f07ea7d9ca030c19"
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    args = _withdraw_args(exchange, usdc)
    del args["asset_registry"]
    with pytest.raises(ValidationError, match="asset_registry="):
        withdraw(client, FUEL_OWNER, **args)  # a testnet chain: no default
    with pytest.raises(ValidationError, match="refusing to sign: it calls"):
        withdraw(client, FUEL_OWNER, **dict(args, asset_registry="0x" + "91" * 32))
    assert mock.posts("/prepare") and not mock.posts("/submit")


@pytest.mark.parametrize("permit", [
    {"deadline": "9" * 100, "v": 27, "r": "0x" + "11" * 32, "s": "0x" + "22" * 32},
    {"deadline": "1", "v": 10**80, "r": "0x" + "11" * 32, "s": "0x" + "22" * 32},
    {"deadline": "-1", "v": 27, "r": "0x" + "11" * 32, "s": "0x" + "22" * 32},
    {"deadline": "1", "v": -1, "r": "0x" + "11" * 32, "s": "0x" + "22" * 32},
    {"deadline": "1", "v": 27, "r": "-0x1", "s": "0x" + "22" * 32},
    {"deadline": "1", "v": 27, "r": "0x" + "11" * 40, "s": "0x" + "22" * 32},
    {"deadline": "1", "v": True, "r": "0x" + "11" * 32, "s": "0x" + "22" * 32},
    {"deadline": 1, "v": 27, "r": "0x" + "11" * 32, "s": "0x" + "22" * 32},
    "not an object",
])
def test_the_sandbox_answers_a_malformed_permit_as_a_validation_error(world, permit):
    exchange, proxy, mock, client, clock = world
    body = {"sourceChainId": CHAIN, "from": DEPOSITOR.evm_address, "to": "0x" + "22" * 32, "toType": "contract",
            "assetId": _asset(exchange, "USDC"), "amount": "1000", "permit": permit}
    status, payload = proxy.handle("POST", "/v1/deposit/prepare", {}, body)  # before: OverflowError escaped (a 500)
    assert status == 400 and payload["error"]["code"] == "VALIDATION_ERROR"


def test_amounts_over_u64_and_malformed_permits_are_refused_before_any_request(world):
    from o2lite.bridge import DepositPermit

    exchange, proxy, mock, client, clock = world
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    with pytest.raises(ValidationError, match="amount"):
        plan_withdraw(client, FUEL_OWNER, **_withdraw_args(exchange, usdc, amount=2**64))  # Fuel amounts are u64
    with pytest.raises(ValidationError, match="amount"):
        plan_deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy, amount=2**64))
    good = dict(deadline="1900000000", v=27, r="0x" + "11" * 32, s="0x" + "22" * 32)
    for bad in (dict(deadline="soon"), dict(deadline="-1"), dict(deadline=str(2**256)), dict(v=256), dict(v=-1),
                dict(r="0x11"), dict(s="0x" + "zz" * 32)):
        with pytest.raises(ValidationError, match="permit"):
            plan_deposit(client, DEPOSITOR, **_deposit_args(exchange, proxy, permit=DepositPermit(**dict(good, **bad))))
    assert mock.sent == []  # before: each was sent to the proxy first


def test_an_uncapped_withdrawal_network_fee_is_listed_as_trusted_with_its_value(world):
    exchange, proxy, mock, client, clock = world
    usdc = _fund_fuel(exchange, "USDC", 10_000_000)
    plan = plan_withdraw(client, FUEL_OWNER, **_withdraw_args(exchange, usdc))
    assert any("maxFee 0" in t and "capped only by the transaction" in t for t in plan.trusted)  # before: not shown
    capped = plan_withdraw(client, FUEL_OWNER, **_withdraw_args(exchange, usdc, max_network_fee=0))
    assert ("network fee", "maxFee 0 ≤ 0") in capped.checks
    assert not any("capped only" in t for t in capped.trusted)
