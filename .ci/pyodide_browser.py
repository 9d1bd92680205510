"""By hand (issue 23): .ci/pyodide_checks.py in a real headless browser, from a page on loopback.

    python .ci/pyodide_browser.py RUNTIME_DIR WHEELS_DIR [--browser chromium]

RUNTIME_DIR is the unpacked ``pyodide`` npm package and WHEELS_DIR the wheels to install (both
as .ci/pyodide.sh prepares them: its cache holds the runtime and the pure wheels; add o2lite's
wheel). This serves a page, the runtime, the wheels, the README and the examples on one loopback
port, the helper endpoints of the checks (slow, redirecting, counting) on the same origin, and a
sandbox on another port (another origin: the CORS path of a notebook trading against
``o2lite sandbox``). The browser runs the checks and posts its output back; this prints it and
exits 0 only if every check passed. Not part of .ci/run: it needs a browser and ~30 s.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from o2lite.sandbox import Sandbox  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = """<!doctype html><meta charset="utf-8"><title>o2lite in Pyodide</title><pre id="log"></pre>
<script type="module">
const lines = [];
const log = (s) => {
  lines.push(s);
  document.getElementById("log").textContent += s + "\\n";
  fetch("/log", {method: "POST", body: s});  // progress, shown if the page never finishes
};
log("page loaded");
const report = (ok, error) => fetch("/result", {method: "POST", body: JSON.stringify({ok, error, lines})});
try {
  const { loadPyodide } = await import("/pyodide/pyodide.mjs");
  const env = await (await fetch("/env.json")).json();
  const t0 = performance.now();
  const pyodide = await loadPyodide({ indexURL: "/pyodide/", env, stdout: log, stderr: log });
  log(`runtime loaded in ${Math.round(performance.now() - t0)} ms; ${navigator.userAgent}`);
  for (const name of await (await fetch("/wheels/index.json")).json()) {
    pyodide.unpackArchive(new Uint8Array(await (await fetch("/wheels/" + name)).arrayBuffer()), "wheel");
  }
  pyodide.FS.mkdirTree("/ci/examples");
  pyodide.FS.writeFile("/ci/README.rst", await (await fetch("/README.rst")).text());
  for (const name of ["quickstart.py", "dca_bot.py"]) {
    pyodide.FS.writeFile("/ci/examples/" + name, await (await fetch("/examples/" + name)).text());
  }
  await pyodide.runPythonAsync(await (await fetch("/pyodide_checks.py")).text());
  await report(true, null);
} catch (error) {
  await report(false, String(error && error.message || error));
}
</script>
"""


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runtime")
    parser.add_argument("wheels")
    parser.add_argument("--browser", default="chromium")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    runtime, wheels = pathlib.Path(args.runtime), pathlib.Path(args.wheels)
    hits = {"elsewhere": 0}
    done: Dict[str, Any] = {}
    progress: List[str] = []
    finished = threading.Event()
    env: Dict[str, str] = {}

    class Page(SimpleHTTPRequestHandler):
        extensions_map = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
                          ".json": "application/json", ".html": "text/html", ".zip": "application/zip",
                          ".whl": "application/zip", ".py": "text/plain", ".rst": "text/plain", "": "application/octet-stream"}

        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, payload: Any, **headers: str) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _file(self, path: pathlib.Path) -> None:
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", self.extensions_map.get(path.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?")[0]
            if path in ("/", "/index.html"):
                data = PAGE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif path == "/env.json":
                self._json(200, env)
            elif path == "/wheels/index.json":
                self._json(200, sorted(p.name for p in wheels.glob("*.whl")))
            elif path == "/hits":
                self._json(200, hits)
            elif path.startswith("/slow/"):
                time.sleep(3)
                self._json(200, {})
            elif path.startswith("/pyodide/") and (runtime / path[len("/pyodide/"):]).is_file():
                self._file(runtime / path[len("/pyodide/"):])
            elif path.startswith("/wheels/") and (wheels / path[len("/wheels/"):]).is_file():
                self._file(wheels / path[len("/wheels/"):])
            elif path in ("/README.rst", "/examples/quickstart.py", "/examples/dca_bot.py"):
                self._file(ROOT / path.lstrip("/"))
            elif path == "/pyodide_checks.py":
                self._file(ROOT / ".ci" / "pyodide_checks.py")
            else:
                self._json(404, {"message": "not found"})

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            path = self.path.split("?")[0]
            if path == "/log":
                progress.append(body.decode("utf-8", "replace"))
                self._json(200, {})
            elif path == "/result":
                done.update(json.loads(body))
                self._json(200, {})
                finished.set()
            elif path.startswith("/slow/"):
                time.sleep(3)
                self._json(200, {})
            elif path.startswith("/redirect/"):
                self._json(307, {}, Location=f"{env['O2_HITS_URL']}/elsewhere")
            elif path.startswith("/elsewhere"):
                hits["elsewhere"] += 1
                self._json(200, {})
            else:
                self._json(404, {"message": "not found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="o2lite-chromium-")
    with Sandbox() as sandbox:
        env.update(O2_SANDBOX_URL=sandbox.url, O2_SLOW_URL=origin + "/slow", O2_REDIRECT_URL=origin + "/redirect",
                   O2_REFUSED_URL=closed_port_url(), O2_HITS_URL=origin, HOME="/home/pyodide")
        command: List[str] = [args.browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                              f"--user-data-dir={profile}", "--remote-debugging-port=0", origin + "/"]
        browser = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            finished.wait(args.timeout)
        finally:
            browser.terminate()
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                browser.kill()
            server.shutdown()
            shutil.rmtree(profile, ignore_errors=True)
    if not done:
        print(f"no result from the browser within {args.timeout} s; it said:", *progress, sep="\n")
        return 1
    print("\n".join(done.get("lines", [])))
    if done.get("error"):
        print("ERROR:", done["error"])
    return 0 if done.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
