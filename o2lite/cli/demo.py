"""``python -m o2lite demo``: a whole trading story against an embedded sandbox, offline.

Everything below uses the public API only — the same calls a script against testnet makes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Optional

from .. import Client, Trader, Wallet
from ..market import Market
from ..market_data import Depth


def _depth_lines(market: Market, depth: Depth) -> str:
    rows = [f"    {'bid':>10} {'size':>12} | {'ask':>10} {'size':>12}"]
    for i in range(max(len(depth.buys), len(depth.sells))):
        bid = depth.buys[i] if i < len(depth.buys) else None
        ask = depth.sells[i] if i < len(depth.sells) else None
        left = f"{market.format_price(bid.price):>10} {market.format_quantity(bid.quantity):>12}" if bid else " " * 23
        right = f"{market.format_price(ask.price):>10} {market.format_quantity(ask.quantity):>12}" if ask else ""
        rows.append(f"    {left} | {right}")
    return "\n".join(rows)


def run(say: Callable[[str], None] = print, in_process: Optional[bool] = None) -> int:
    """Run the story; returns the process exit code (0).

    ``in_process``: as :class:`o2lite.sandbox.Sandbox` takes it — by default the sandbox is
    served on loopback, and runs in process (no socket, no thread) under Pyodide.
    """
    from ..sandbox import Sandbox  # the sandbox is never imported by `import o2lite`

    with Sandbox(in_process=in_process) as sandbox, Client(sandbox.url) as client:
        if sandbox.in_process:
            say(f"sandbox exchange running in this process as {sandbox.url} (no socket, no thread)")
        else:
            say(f"sandbox exchange listening on {sandbox.url}")
        owner = Wallet.generate()
        say(f"1. new owner key; its address is {owner.address}")
        trader = Trader(client, owner)
        account = trader.setup_account(fund=True)
        say(f"2. trade account {account} created and funded from the faucet")

        session = trader.open_session(["FUEL/USDC", "ETH/USDC"], nonce_kind="parallel")
        say(f"3. session key {session.address} signed by the owner (parallel nonces), "
            f"valid for {len(session.contract_ids)} markets until "
            f"{datetime.fromtimestamp(session.expiry, tz=timezone.utc):%Y-%m-%d %H:%M} UTC")

        fuel, eth = client.markets.get("FUEL/USDC"), client.markets.get("ETH/USDC")
        say("4. FUEL/USDC book before trading:")
        say(_depth_lines(fuel, client.markets.depth(fuel, precision=1, limit=3)))

        rest = trader.place(fuel, "Buy", "0.0121", "2000").orders[0]
        say(f"5. Spot buy 2000 FUEL @ 0.0121 rests on the book: order {rest.order_id[:18]}…")
        trader.place(fuel, "Sell", "0.0135", "500", post_only=True)
        say("   PostOnly sell 500 FUEL @ 0.0135 rests (it would not take)")
        taken = trader.place(fuel, "Buy", "0.0127", "3000", "Market").orders[0]
        say(f"   Market buy up to 3000 FUEL @ ≤0.0127 filled {fuel.format_quantity(taken.quantity_fill)} FUEL "
            "against the book")
        bounded = trader.place(eth, "Sell", "2997", "1.5", "BoundedMarket", max_price="3000", min_price="2998").orders[0]
        say(f"   BoundedMarket sell 1.5 ETH within [2998, 3000] filled {eth.format_quantity(bounded.quantity_fill)} ETH")

        say("6. FUEL/USDC book after:")
        say(_depth_lines(fuel, client.markets.depth(fuel, precision=1, limit=3)))

        trader.cancel(rest)
        say(f"7. cancelled the resting buy; open FUEL/USDC orders now: {len(trader.open_orders(fuel))}")
        trader.settle(fuel)
        trader.settle(eth)
        say("8. settled both markets; balances (total = locked + unlocked):")
        for symbol, balance in trader.balances().items():
            say(f"    {symbol:5} {balance.total_human}")

        result = trader.withdraw("USDC", "250", nonce_kind="parallel")
        held = client.accounts.balance(fuel.quote.asset, address=owner.address)
        say(f"9. withdrew 250 USDC to the owner (tx {result.tx_id[:18]}…); the owner now holds "
            f"{held.total_human} USDC")
        say("10. my FUEL/USDC fills: " + ", ".join(
            f"{f.side} {f.quantity_human} @ {f.price_human} ({f.role})" for f in trader.fills(fuel)))
        report = trader.pnl(fuel).human()
        say(f"    position {report['position']} FUEL at {report['average_entry']} USDC average; realised "
            f"{report['realised']} USDC, fees {report['fees']} USDC")
        say("done: every request above was signed and verified like on the real exchange")
    return 0

