"""The official async SDK (o2-sdk 0.5.0) placing orders against the client bench's stub (not a test).

Run by ``tests/bench/client.py`` with an interpreter that has ``o2_sdk`` installed (its own
environment, outside this repository): ``python official.py URL IN_FLIGHT ORDERS`` prints one
JSON line ``{"orders_per_s": …, "cpu_ms": …}``. ``IN_FLIGHT`` tasks on one event loop each place
their share of FUEL/USDC orders with ``O2Client.create_order`` (parallel nonces, no settle
action, as the o2lite rows), so every part of the official client is counted: build, sign
(coincurve: the official SDK requires it), aiohttp, parse.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time


async def main(url: str, in_flight: int, orders: int) -> None:
    from o2_sdk import O2Client, OrderSide
    from o2_sdk.config import NetworkConfig
    from o2_sdk.crypto import generate_wallet
    from o2_sdk.models import AddressIdentity, SessionInfo
    from o2_sdk.nonce import ParallelNonceManager, WindowResponse

    config = NetworkConfig(api_base=url, ws_url=url.replace("http", "ws") + "/v1/ws", fuel_rpc=url,
                           faucet_url=None)
    client = O2Client(custom_config=config)
    owner, session_key = generate_wallet(), generate_wallet()
    market = await client.get_market("FUEL/USDC")
    account = "0x" + os.urandom(32).hex()

    async def window() -> WindowResponse:
        return WindowResponse.from_dict(await client.api.get_account_window(account, 0))

    manager = ParallelNonceManager(window_fetcher=window, nonce_session_id=0)
    await manager.init()
    client.set_session(SessionInfo(session_id=AddressIdentity(value=session_key.b256_address), trade_account_id=account,
                                   contract_ids=[market.contract_id], session_expiry=str(int(time.time()) + 3600),
                                   session_private_key=session_key.private_key, owner_address=owner.b256_address,
                                   nonce_manager=manager))
    await client.create_order(market, OrderSide.BUY, "0.0110", "10", settle_first=False)  # warm
    per_task = max(orders // in_flight, 1)
    failures = []

    async def work(i: int) -> None:
        for j in range(per_task):
            side, price = (OrderSide.BUY, "0.0110") if (i + j) % 2 else (OrderSide.SELL, "0.0140")
            try:
                await client.create_order(market, side, price, "10", settle_first=False)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                failures.append(exc)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(work(i) for i in range(in_flight)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await client.close()
    done = per_task * in_flight - len(failures)
    print(json.dumps({"orders_per_s": done / wall, "cpu_ms": cpu / max(done, 1) * 1000,
                      "errors": [repr(f)[:200] for f in failures[:3]]}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
