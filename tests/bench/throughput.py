"""Orders per second against the sandbox (rate limits off), and client CPU per order.

Run: python tests/bench/throughput.py [--orders N]

The sandbox runs in its own process, so the client CPU measured here is the client's alone
(scaling, encoding, signing and HTTP) and the sandbox's is read from /proc. Both processes
share the machine's cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

import o2lite  # noqa: E402
from _orders import place_orders  # noqa: E402


def start_sandbox():
    proc = subprocess.Popen([sys.executable, "-m", "o2lite", "sandbox", "--port", "0", "--no-rate-limits"],
                            stdout=subprocess.PIPE, text=True,
                            cwd=os.path.join(os.path.dirname(__file__), "..", ".."))
    line = proc.stdout.readline()
    return proc, line.split(" on ")[1].split(" ")[0]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def run(url: str, threads: int, orders: int, kind: str, pid: int) -> tuple:
    client = o2lite.Client(url)
    trader = client.trader(o2lite.Wallet.generate(), pacing=False)  # the sandbox runs without rate limits
    trader.setup_account(fund=True)
    trader.open_session(["FUEL/USDC"], nonce_kind=kind)
    per_thread = orders // threads
    cpu, wall, server = time.process_time(), time.perf_counter(), process_cpu(pid)
    errors = place_orders(trader, threads, per_thread)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server = process_cpu(pid) - server
    done = per_thread * threads - len(errors)
    client.close()
    return done / wall, cpu / max(done, 1) * 1000, server / max(done, 1) * 1000, len(errors)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=320)
    args = parser.parse_args()
    proc, url = start_sandbox()
    try:
        backend = "pure" if os.environ.get("O2LITE_PURE_SIGNING") else "auto (coincurve if installed)"
        print(f"sandbox {url}; signing backend: {backend}; {args.orders} orders per run")
        for kind, threads in (("sequential", 1), ("parallel", 1), ("parallel", 8), ("parallel", 32)):
            rate, cpu_ms, server_ms, failed = run(url, threads, args.orders, kind, proc.pid)
            print(f"{kind:10s} {threads:3d} thread(s): {rate:7.1f} orders/s, client CPU {cpu_ms:5.2f} ms/order, "
                  f"sandbox CPU {server_ms:5.2f} ms/order" + (f", {failed} failed" if failed else ""))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
