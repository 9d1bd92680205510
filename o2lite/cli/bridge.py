"""``o2lite bridge info|assets|deposit|withdraw|status``: the Fast Bridge from a shell (PROTOCOL §15).

The proxy is picked from the global target: ``--network mainnet|testnet`` → the official proxy,
``--url URL`` (a sandbox) → ``URL/bridge``; ``--bridge-url`` overrides both. Amounts are human
units of the asset (its Fuel decimals from the proxy's ``/v1/assets``); ``--json`` prints the
chain integers too. ``deposit`` needs an EVM key file, ``withdraw`` a Fuel one; ``--dry-run``
prints the checked plan (what would be signed, and why it is safe) and sends nothing.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .. import Client
from ..bridge import BridgeSubmissionUnknown, FastBridgeClient, deposit, withdraw
from ..bridge.client import NETWORKS as BRIDGE_NETWORKS
from ..bridge.flows import OFFICIAL_ASSET_REGISTRIES, OFFICIAL_MESSENGERS, check_decimals
from ..bridge.models import Asset as BridgeAsset
from ..bridge.plan import BridgePlan, BridgeTransfer
from .._hex import to_int
from ..errors import O2Error, ValidationError
from ..market import format_units, to_decimal
from ..signing import EvmWallet, Wallet
from .account import load_key
from .output import Output

__all__ = ["COMMANDS", "NO_EXCHANGE", "add_commands", "bridge_url"]


def add_commands(group: Callable[[str, str], Any], add: Callable[[Any, str, str, str], argparse.ArgumentParser]) -> None:
    """Register ``bridge …`` with the main parser (``group``/``add`` are main.py's helpers)."""
    bridge = group("bridge", "Fast Bridge: move funds between EVM chains and Fuel")
    for action, text in (("info", "the proxy's chains, Messengers and Fuel contracts"),
                         ("assets", "bridgeable assets and their routes")):
        cmd = add(bridge, action, f"bridge {action}", text)
        cmd.add_argument("--bridge-url", help="the proxy root (default: from --network / --url)")
        if action == "assets":
            cmd.add_argument("--chain", type=int, help="only this EVM chain id")
    dep = add(bridge, "deposit", "bridge deposit", "deposit from an EVM chain (EVM --key-file)")
    wd = add(bridge, "withdraw", "bridge withdraw", "withdraw to an EVM chain (Fuel --key-file)")
    for cmd in (dep, wd):
        cmd.add_argument("asset", help="symbol (USDC) or Fuel asset id")
        cmd.add_argument("amount", help="human units, e.g. 25.5")
        cmd.add_argument("--chain", type=int, required=True, help="the EVM chain id (8453 Base, 1 Ethereum, …)")
        cmd.add_argument("--bridge-url", help="the proxy root (default: from --network / --url)")
    dep.add_argument("--to", help="Fuel recipient (default: your O2 trade account)")
    dep.add_argument("--to-type", choices=["contract", "address"], default=None,
                     help="contract for a trade account (default), address for a wallet")
    dep.add_argument("--messenger", help="the Messenger you trust (default: the official one on 1 and 8453)")
    dep.add_argument("--max-network-fee", help="cap in wei on gasLimit × maxFeePerGas")
    wd.add_argument("--to", required=True, help="the EVM recipient address")
    wd.add_argument("--max-inputs", type=int, required=True, help="the Fuel chain's consensus maxInputs (trusted)")
    wd.add_argument("--fuel-chain-id", type=int, help="the Fuel chain id you trust (default: the exchange's "
                                                      "/v1/markets chain_id)")
    wd.add_argument("--asset-registry", help="the Fuel Asset Registry contract you trust (default: the official one "
                                             "on 1 and 8453); it receives the coins")
    wd.add_argument("--max-bridge-fee", help="cap on the bridge fee, human units")
    wd.add_argument("--max-network-fee", help="cap on the Fuel maxFee policy, in base-asset base units")
    status = add(bridge, "status", "bridge status", "a deposit's or withdrawal's status")
    status.add_argument("kind", choices=["deposit", "withdraw"])
    status.add_argument("id", help="the EVM transaction hash (deposit) or Fuel transaction id (withdraw)")
    status.add_argument("--chain", type=int, help="the source EVM chain id (deposits)")
    status.add_argument("--bridge-url", help="the proxy root (default: from --network / --url)")


def bridge_url(args: argparse.Namespace) -> str:
    """The proxy root for these options (see the module doc)."""
    if getattr(args, "bridge_url", None):
        return str(args.bridge_url)
    target = str(args.target)
    if target in BRIDGE_NETWORKS:
        return BRIDGE_NETWORKS[target]
    if target.startswith(("http://", "https://")):
        return target.rstrip("/") + "/bridge"
    raise ValidationError(f"no Fast Bridge proxy on {target}: pass --bridge-url (mainnet and testnet only)")


def _proxy(args: argparse.Namespace) -> FastBridgeClient:
    return FastBridgeClient(bridge_url(args), timeout=args.timeout)


def _asset(proxy: FastBridgeClient, chain: Optional[int], ref: str) -> Tuple[BridgeAsset, int]:
    """The asset named by symbol or id, and its token decimals on ``chain``."""
    for asset in proxy.get_assets(chain).assets:
        if ref.lower() in (asset.asset_id.lower(), asset.symbol.lower()):
            route = next((r for r in asset.routes if chain is None or r.chain_id == chain), None)
            if route is None:
                break
            return asset, route.token_decimals
    raise ValidationError(f"the proxy lists no asset {ref!r}" + (f" on chain {chain}" if chain else ""))


def base_units(human: str, decimals: int, what: str = "amount") -> int:
    """A human amount as Fuel base units, exactly (a finer amount is refused, never rounded).

    >>> base_units("1.25", 6)
    1250000
    """
    number = to_decimal(human, what)
    scaled = number.scaleb(check_decimals(decimals, "the asset's decimals"))
    if scaled != scaled.to_integral_value():
        raise ValidationError(f"{what} {human} has more than {decimals} decimals")
    return int(scaled)


def cmd_info(_: Any, args: argparse.Namespace, out: Output) -> None:
    """``GET /v1/info``."""
    with _proxy(args) as proxy:
        info = proxy.get_info()
    if out.as_json:
        out.show(info)
        return
    print(f"environment {info.environment}, Fuel chain {info.fuel.chain_id} ({info.fuel.network}), "
          f"proof TTL {info.preparation_proof_ttl_seconds} s")
    out.show(info, [(c.chain_id, c.name, c.messenger_address, c.outpost_address) for c in info.chains],
             ("chain", "name", "messenger", "outpost"))


def cmd_assets(_: Any, args: argparse.Namespace, out: Output) -> None:
    """``GET /v1/assets``."""
    with _proxy(args) as proxy:
        assets = proxy.get_assets(args.chain)
    rows: List[Sequence[Any]] = [(a.symbol, out.id(a.asset_id), a.fuel_decimals, r.chain_id, out.id(r.token_address) if r.token_address
             else "native", r.token_decimals) for a in assets.assets for r in a.routes]
    out.show(assets, rows, ("symbol", "asset", "fuel dec", "chain", "token", "token dec"))


def _may_have_been_accepted(exc: BridgeSubmissionUnknown, chain: int) -> O2Error:
    """The lost-answer error in CLI terms: the status command to run before trying again."""
    if exc.operation == "deposit" and exc.evm_tx_hash:
        check = f"o2lite bridge status deposit {exc.evm_tx_hash} --chain {exc.source_chain_id or chain}"
    elif exc.operation == "withdraw" and exc.fuel_tx_id:
        check = f"o2lite bridge status withdraw {exc.fuel_tx_id}"
    else:
        check = f"o2lite bridge status {exc.operation} …"
    return O2Error(f"the {exc.operation} may have been accepted ({exc.message} [{exc.bridge_code}]): check "
                   f"`{check}` before trying again", status=exc.status, method=exc.method, url=exc.url)


def _show(out: Output, result: Any, decimals: int, symbol: str) -> None:
    if isinstance(result, BridgePlan):
        if out.as_json:
            out.show({"dry_run": True, "operation": result.operation, "digest": result.digest,
                      "request": result.request, "checks": [list(c) for c in result.checks],
                      "trusted": list(result.trusted), "inspection": result.inspection})
        else:
            print(result.explain())
        return
    assert isinstance(result, BridgeTransfer)
    gross = int(result.plan.request["amount"])
    data = {"operation": result.operation, "id": result.id, "chain_id": result.chain_id, "amount": str(gross),
            "amount_human": str(format_units(gross, decimals)), "symbol": symbol, "status": result.submitted.status}
    out.show(data, [(result.operation, out.id(result.id), result.chain_id, f"{format_units(gross, decimals)} {symbol}",
                     result.submitted.status)], ("operation", "id", "chain", "amount", "status"))


def cmd_deposit(_: Any, args: argparse.Namespace, out: Output) -> None:
    """Prepare, check, sign and submit a deposit (or show the plan with ``--dry-run``)."""
    wallet = load_key(args.key_file)
    if not isinstance(wallet, EvmWallet):
        raise ValidationError("a deposit is signed by an EVM key: use a key file made with `wallet new --evm`")
    fee_cap = None if args.max_network_fee is None else to_int(args.max_network_fee, "--max-network-fee (wei)")
    if args.messenger is None and args.chain not in OFFICIAL_MESSENGERS:
        raise ValidationError(f"pass --messenger: the Fast Bridge Messenger you trust on chain {args.chain} "
                              "(`o2lite bridge info` shows the proxy's)")
    to, to_type = args.to, args.to_type or "contract"
    if to is None and to_type == "address":
        raise ValidationError("--to-type address needs --to (the default recipient, your trade account, is a contract)")
    if to is None:
        with Client(args.target, timeout=(5.0, args.timeout)) as client:
            account = client.accounts.get(owner=wallet.address).trade_account_id
        if account is None:
            raise ValidationError("this key has no O2 trade account yet: run `o2lite setup` or pass --to")
        to, to_type = account, "contract"
    with _proxy(args) as proxy:
        asset, _ = _asset(proxy, args.chain, args.asset)
        amount = base_units(args.amount, asset.fuel_decimals)
        try:
            result = deposit(proxy, wallet, dry_run=args.dry_run, source_chain_id=args.chain, asset_id=asset.asset_id,
                             amount=amount, to=to, to_type=to_type, messenger=args.messenger, max_network_fee=fee_cap)
        except BridgeSubmissionUnknown as exc:
            raise _may_have_been_accepted(exc, args.chain) from exc
    _show(out, result, asset.fuel_decimals, asset.symbol)


def cmd_withdraw(_: Any, args: argparse.Namespace, out: Output) -> None:
    """Prepare, check, sign and submit a withdrawal (or show the plan with ``--dry-run``)."""
    wallet = load_key(args.key_file)
    if isinstance(wallet, EvmWallet) or not isinstance(wallet, Wallet):
        raise ValidationError("a withdrawal is signed by the Fuel key of a funded wallet (not an EVM key)")
    if args.asset_registry is None and args.chain not in OFFICIAL_ASSET_REGISTRIES:
        raise ValidationError(f"pass --asset-registry: the Fuel Asset Registry you trust for chain {args.chain} "
                              "(`o2lite bridge info` shows the proxy's)")
    network_cap = None if args.max_network_fee is None else to_int(args.max_network_fee, "--max-network-fee")
    fuel_chain = args.fuel_chain_id
    if fuel_chain is None:
        with Client(args.target, timeout=(5.0, args.timeout)) as client:
            fuel_chain = client.markets.info().chain_id
    with _proxy(args) as proxy:
        asset, _ = _asset(proxy, args.chain, args.asset)
        amount = base_units(args.amount, asset.fuel_decimals)
        fee_cap = None if args.max_bridge_fee is None else base_units(args.max_bridge_fee, asset.fuel_decimals,
                                                                        "--max-bridge-fee")
        try:
            result = withdraw(proxy, wallet, dry_run=args.dry_run, destination_chain_id=args.chain,
                              asset_id=asset.asset_id, amount=amount, to=args.to, fuel_chain_id=fuel_chain,
                              max_inputs=args.max_inputs, asset_registry=args.asset_registry, max_bridge_fee=fee_cap,
                              max_network_fee=network_cap)
        except BridgeSubmissionUnknown as exc:
            raise _may_have_been_accepted(exc, args.chain) from exc
    _show(out, result, asset.fuel_decimals, asset.symbol)


def cmd_status(_: Any, args: argparse.Namespace, out: Output) -> None:
    """``GET /v1/deposit/status`` or ``/v1/withdraw/status``."""
    with _proxy(args) as proxy:
        if args.kind == "deposit":
            if args.chain is None:
                raise ValidationError("a deposit's status needs --chain (its source EVM chain id)")
            found: Any = proxy.get_deposit_status(args.chain, args.id)
            text = f"deposit {found.evm_tx_hash}: source {found.source.status}"
        else:
            found = proxy.get_withdraw_status(args.id)
            text = f"withdraw {found.fuel_tx_id}: fuel {found.fuel.status}"
    out.show(found if out.as_json else text)


COMMANDS: Dict[str, Callable[..., None]] = {"bridge info": cmd_info, "bridge assets": cmd_assets,
                                            "bridge deposit": cmd_deposit, "bridge withdraw": cmd_withdraw,
                                            "bridge status": cmd_status}
#: Commands that talk to the proxy, not the exchange (main.py passes them no exchange Client).
NO_EXCHANGE = set(COMMANDS)
