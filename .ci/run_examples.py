"""Run every example against a fresh `python -m o2lite sandbox` (default settings: rate limits on,
60 s faucet cooldown) on a free port, then against the embedded `Sandbox()`; each run bounded."""

import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
LIMIT = 120  # seconds per example
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))  # this checkout's o2lite


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(script: pathlib.Path, *extra: str) -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(script), *extra], capture_output=True, text=True, timeout=LIMIT,
                          cwd=ROOT, env=ENV)
    where = " ".join(extra) or "embedded Sandbox()"
    if done.returncode != 0 or "Traceback" in done.stderr or not done.stdout.strip():
        sys.exit(f"{script.name} against {where} failed ({done.returncode}):\n{done.stdout[-1500:]}"
                 f"\n{done.stderr[-3000:]}")
    print(f"ok {script.name:20} {where} in {time.monotonic() - started:.1f} s")


port = free_port()
url = f"http://127.0.0.1:{port}"
log = tempfile.TemporaryFile()  # a file, not a pipe: a chatty server can never block on it
server = subprocess.Popen([sys.executable, "-m", "o2lite", "sandbox", "--port", str(port)], cwd=ROOT, env=ENV,
                          stdout=log, stderr=subprocess.STDOUT)
try:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                log.seek(0)
                sys.exit(f"the sandbox did not start: {log.read()[-2000:].decode(errors='replace')}")
            time.sleep(0.1)
    for script in EXAMPLES:
        run(script, "--url", url)
finally:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
for script in EXAMPLES:
    run(script)
