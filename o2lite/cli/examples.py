"""One example per command, shown at the end of its ``--help`` (argparse epilog)."""

from __future__ import annotations

from typing import Dict

__all__ = ["EXAMPLES", "epilog"]

#: command key → example lines (``$`` marks what you type).
EXAMPLES: Dict[str, str] = {
    "markets": "o2lite --url http://127.0.0.1:8080 markets",
    "ticker": "o2lite ticker FUEL/USDC",
    "depth": "o2lite depth FUEL/USDC --limit 5 --precision 2",
    "trades": "o2lite trades FUEL/USDC --limit 20        (add --mine for yours)",
    "bars": "o2lite bars FUEL/USDC --resolution 15m --hours 6",
    "account": "o2lite account --key-file me.json",
    "balance": "o2lite balance --key-file me.json",
    "orders": "o2lite orders FUEL/USDC --open",
    "fills": "o2lite fills FUEL/USDC --since 1d",
    "pnl": "o2lite pnl FUEL/USDC --since 2026-12-01",
    "wallet new": "o2lite wallet new --out me.json           (add --evm for an EVM owner)",
    "wallet import": "o2lite wallet import --out me.json < key.txt",
    "wallet show": "o2lite wallet show --key-file me.json",
    "setup": "o2lite setup --fund --key-file me.json",
    "session open": "o2lite session open --markets FUEL/USDC,ETH/USDC --expiry 12h",
    "session show": "o2lite session show",
    "session close": "o2lite session close",
    "order place": "o2lite order place FUEL/USDC buy 0.0120 1000   (--dry-run: show, not send)",
    "order cancel": "o2lite order cancel FUEL/USDC 0x3cca6b   (an id prefix from `o2lite orders`)",
    "order cancel-all": "o2lite order cancel-all FUEL/USDC",
    "order trigger": "o2lite order trigger FUEL/USDC sell 0.0110 500   (a stop: sell if 0.0110)",
    "order oco": "o2lite order oco FUEL/USDC sell 0.0140 0.0110 500",
    "order active": "o2lite order active FUEL/USDC",
    "order cancel-trigger": "o2lite order cancel-trigger FUEL/USDC 0x9f2c1a",
    "order cancel-triggers": "o2lite order cancel-triggers FUEL/USDC",
    "settle": "o2lite settle FUEL/USDC",
    "withdraw": "o2lite withdraw USDC 25 --to 0x…64 hex…",
    "watch depth": "o2lite watch depth FUEL/USDC --levels 5 --count 10",
    "watch trades": "o2lite watch trades FUEL/USDC --count 10",
    "watch orders": "o2lite watch orders --key-file me.json",
    "watch balances": "o2lite watch balances --key-file me.json",
    "check": "o2lite --dry-run --json withdraw USDC 1 > b.json; o2lite check b.json",
    "sandbox": "o2lite sandbox --port 8080 --state sandbox.json",
    "demo": "o2lite demo",
}


def epilog(key: str) -> str:
    """The example of ``key`` and where the global options are described."""
    example = EXAMPLES.get(key)
    lines = [f"example:\n  {example}"] if example else []
    lines.append("global options (--url, --network, --key-file, --json, --wide, --timeout,\n"
                 "--dry-run) go anywhere on the line: see `o2lite --help`.")
    return "\n\n".join(lines)
