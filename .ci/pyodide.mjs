// The Pyodide check (issue 23), run by .ci/pyodide.sh:
//   node --experimental-wasm-stack-switching .ci/pyodide.mjs RUNTIME_DIR WHEELS_DIR PYTHON
// loads Pyodide from RUNTIME_DIR (the unpacked `pyodide` npm package), installs every wheel of
// WHEELS_DIR (requests, ecdsa and their pure dependencies, and o2lite's own wheel), starts a
// sandbox server with the CPython PYTHON on loopback plus three small node servers (slow,
// redirecting, and a closed port), then runs .ci/pyodide_checks.py inside Pyodide. Exit 1 on
// any failure. `runPythonAsync` + the stack-switching flag let urllib3 wait for `fetch`
// synchronously (JSPI), which is how `requests` works under Pyodide.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [runtimeDir, wheelsDir, python] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);

function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}
const url = (server) => `http://127.0.0.1:${server.address().port}`;

function startSandbox() {
  // CPython serves the sandbox; its first line of output is the URL.
  const code = "import sys\nfrom o2lite.sandbox import Sandbox\nsx = Sandbox().start()\nprint(sx.url, flush=True)\nsys.stdin.read()\n";
  const child = spawn(python, ["-c", code], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (status) => reject(new Error(`sandbox server exited (${status})`)));
    child.stdout.once("data", (data) => resolve([child, data.toString().trim()]));
  });
}

let failed = false;
const servers = [];
let sandbox;
try {
  const started = Date.now();
  const hits = { elsewhere: 0 };
  const slow = await listen((req, res) => setTimeout(() => { res.end("{}"); }, 3000));
  const target = await listen((req, res) => {
    if (req.url.startsWith("/elsewhere")) hits.elsewhere += 1;
    res.setHeader("Content-Type", "application/json");
    res.end(req.url === "/hits" ? JSON.stringify(hits) : "{}");
  });
  const redirect = await listen((req, res) => {
    res.writeHead(307, { Location: `${url(target)}/elsewhere`, "Content-Length": "0" });
    res.end();
  });
  const closed = await listen(() => {});
  const refusedUrl = url(closed);
  await new Promise((resolve) => closed.close(resolve)); // nothing listens there any more
  servers.push(slow, target, redirect);
  const [child, sandboxUrl] = await startSandbox();
  sandbox = child;

  const { loadPyodide } = await import(pathToFileURL(path.join(runtimeDir, "pyodide.mjs")).href);
  const env = { O2_SANDBOX_URL: sandboxUrl, O2_SLOW_URL: url(slow), O2_REDIRECT_URL: url(redirect),
                O2_REFUSED_URL: refusedUrl, O2_HITS_URL: url(target), HOME: "/home/pyodide" };
  const pyodide = await loadPyodide({ indexURL: runtimeDir + "/", env });
  const loaded = Date.now();
  for (const name of fs.readdirSync(wheelsDir).filter((n) => n.endsWith(".whl"))) {
    pyodide.unpackArchive(new Uint8Array(fs.readFileSync(path.join(wheelsDir, name))), "wheel");
  }
  pyodide.FS.mkdirTree("/ci");
  pyodide.FS.writeFile("/ci/README.rst", fs.readFileSync(path.join(root, "README.rst")));
  pyodide.FS.mkdirTree("/ci/examples");
  for (const name of fs.readdirSync(path.join(root, "examples")).filter((n) => n.endsWith(".py"))) {
    pyodide.FS.writeFile(`/ci/examples/${name}`, fs.readFileSync(path.join(root, "examples", name)));
  }
  await pyodide.runPythonAsync(fs.readFileSync(path.join(here, "pyodide_checks.py"), "utf8"));
  console.log(`pyodide: runtime loaded in ${loaded - started} ms, checks done in ${Date.now() - loaded} ms`);
} catch (error) {
  failed = true;
  console.error("PYODIDE CHECK FAILED:", error && error.message ? error.message : error);
} finally {
  if (sandbox) sandbox.kill();
  for (const server of servers) server.close();
}
process.exit(failed ? 1 : 0);
