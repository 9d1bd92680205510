"""The whole Fast Bridge round trip on the sandbox server, over real HTTP on loopback:
deposit USDC from an EVM chain into a trade account, trade-account withdraw to the owner's Fuel
wallet, then withdraw from that wallet back to the EVM chain — the README's walk-through."""

from __future__ import annotations

from decimal import Decimal

import o2lite
import o2lite.bridge as bridge
from o2lite import EvmWallet, Wallet
from o2lite.sandbox import Sandbox
from o2lite.sandbox.bridge import MAX_INPUTS


def test_deposit_trade_withdraw_round_trip_on_the_sandbox_server():
    depositor, owner = EvmWallet("0x" + "31" * 32), Wallet("0x" + "32" * 32)
    with Sandbox() as sx, o2lite.Client(sx.url) as client, bridge.FastBridgeClient(sx.url + "/bridge") as proxy:
        trader = client.trader(owner)
        account = trader.setup_account()
        info = proxy.get_info()
        chain = info.chains[0].chain_id
        messenger = info.chains[0].messenger_address  # the sandbox's own Messenger (see the README)
        usdc = next(a for a in proxy.get_assets(chain).assets if a.symbol == "USDC")
        usdc_market_asset = client.markets.list()[0].quote
        assert usdc.asset_id == usdc_market_asset.asset and usdc.fuel_decimals == usdc_market_asset.decimals
        evm_before = sx.exchange.bridge.evm_balance(chain, depositor.evm_address, "USDC")

        sent = bridge.deposit(proxy, depositor, source_chain_id=chain, asset_id=usdc.asset_id, amount=250_000_000,
                              to=account, to_type="contract", messenger=messenger)
        assert isinstance(sent, bridge.BridgeTransfer)
        assert sent.status().source.status == "confirmed"
        balance = client.accounts.balance(usdc.asset_id, contract=account)
        assert balance.trading_account_balance == 250_000_000
        assert sx.exchange.bridge.evm_balance(chain, depositor.evm_address, "USDC") == evm_before - 250_000_000

        trader.withdraw("USDC", Decimal("100"))  # trade account → the owner's own Fuel address
        assert client.accounts.balance(usdc.asset_id, address=owner.address).trading_account_balance == 100_000_000

        plan = bridge.withdraw(proxy, owner, dry_run=True, destination_chain_id=chain, asset_id=usdc.asset_id,
                               amount=60_000_000, to=depositor.evm_address, fuel_chain_id=int(info.fuel.chain_id),
                               max_inputs=MAX_INPUTS, asset_registry=info.fuel.contracts.asset_registry,
                               max_bridge_fee=1_000)
        assert isinstance(plan, bridge.BridgePlan) and "✓ recipient" in plan.explain()
        back = bridge.send_plan(proxy, plan, owner)
        assert back.status().fuel.status == "success"
        assert client.accounts.balance(usdc.asset_id, address=owner.address).trading_account_balance == 40_000_000
        net = plan.inspection.net_amount
        assert sx.exchange.bridge.evm_balance(chain, depositor.evm_address, "USDC") == evm_before - 250_000_000 + net


def test_the_readme_bridge_sample_runs_offline(capsys):
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent.parent / "README.rst").read_text()
    section = readme.split("Bridging funds\n--------------\n", 1)[1].split("\n-----", 1)[0]
    block = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", section)[0]
    exec(compile(re.sub(r"^    ", "", block, flags=re.M), "README.rst", "exec"), {})
    out = capsys.readouterr().out
    assert "checked offline:" in out and "✓ amount" in out and "status='confirmed'" in out
