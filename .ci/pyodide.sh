#!/usr/bin/env bash
# The Pyodide check (issue 23): o2lite in CPython compiled to WebAssembly, as in JupyterLite.
#
# Fetches the `pyodide` npm package and the pure wheels of requests/ecdsa through the package
# registries (cached under the temp dir: $O2LITE_CI_CACHE, else ${TMPDIR:-/tmp}/o2lite-ci),
# builds o2lite's wheel from this checkout, and runs .ci/pyodide.mjs in node with WebAssembly
# stack switching: the README's browser sample and the demo with no socket and no thread, the
# README's trading story against a sandbox CPython serves on loopback, and the transport's
# Emscripten rules. Any failing check fails CI. Only when a registry cannot be reached at all is
# the check skipped, loudly (an outage must not block every change). Nothing lands in the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
PYODIDE_VERSION=314.0.8
cache="${O2LITE_CI_CACHE:-${TMPDIR:-/tmp}/o2lite-ci}/pyodide-$PYODIDE_VERSION"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$SECONDS

skip() {
    printf '\n%s\n!! PYODIDE CHECK SKIPPED: %s\n!! (the browser path of o2lite was NOT checked)\n%s\n\n' \
        "$(printf '!%.0s' {1..78})" "$1" "$(printf '!%.0s' {1..78})" >&2
    exit 0
}
fail() { echo "pyodide check FAILED: $1" >&2; exit 1; }

command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed (node >= 20)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || fail "node >= 20 is needed, found $(node --version)"
mkdir -p "$cache"
npm_fast=(--fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 --loglevel=error)
pip_fast=(--retries 1 --timeout 20)

# 1. The runtime: the pyodide npm package, unpacked once into the cache (npm checks its integrity).
if [ ! -f "$cache/runtime/pyodide.mjs" ]; then
    if ! (cd "$work" && npm pack "${npm_fast[@]}" "pyodide@$PYODIDE_VERSION" >/dev/null 2>"$work/npm.err"); then
        npm ping "${npm_fast[@]}" >/dev/null 2>&1 || skip "the npm registry cannot be reached: $(head -n 1 "$work/npm.err")"
        fail "npm pack pyodide@$PYODIDE_VERSION: $(cat "$work/npm.err")"
    fi
    rm -rf "$cache/runtime.part" && mkdir "$cache/runtime.part"
    tar xzf "$work/pyodide-$PYODIDE_VERSION.tgz" -C "$cache/runtime.part" --strip-components=1
    mv "$cache/runtime.part" "$cache/runtime"
fi
python_version="$(python -c 'import json,sys; v=json.load(open(sys.argv[1]))["info"]["python"]; print(".".join(v.split(".")[:2]))' \
    "$cache/runtime/pyodide-lock.json")"

# 2. The runtime dependencies: pure wheels only, for Pyodide's Python.
pypi_down() { ! python -m pip index "${pip_fast[@]}" versions ecdsa >/dev/null 2>&1; }
if [ ! -f "$cache/wheels/.complete" ]; then
    rm -rf "$cache/wheels" && mkdir -p "$cache/wheels"
    if ! python -m pip download -q "${pip_fast[@]}" --only-binary=:all: --platform any --implementation py --abi none \
            --python-version "$python_version" -d "$cache/wheels" requests ecdsa 2>"$work/pip.err"; then
        pypi_down && skip "PyPI cannot be reached: $(tail -n 1 "$work/pip.err")"
        fail "pip download of the pure wheels: $(cat "$work/pip.err")"
    fi
    touch "$cache/wheels/.complete"
fi

# 3. o2lite's wheel, built from a copy of the checkout (setuptools writes build/ next to its input).
mkdir -p "$work/src" "$work/wheels"
cp -R o2lite setup.cfg pyproject.toml README.rst LICENSE "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
# The build tools are cached too: an isolated build environment costs ~15 s on every run.
if [ ! -f "$cache/build-tools/.complete" ]; then
    rm -rf "$cache/build-tools"
    if ! python -m pip install -q "${pip_fast[@]}" --target "$cache/build-tools" "setuptools>=61" wheel 2>"$work/tools.err"; then
        pypi_down && skip "PyPI cannot be reached: $(tail -n 1 "$work/tools.err")"
        fail "installing the build tools: $(cat "$work/tools.err")"
    fi
    touch "$cache/build-tools/.complete"
fi
# No registry is involved from here on (no dependencies, no isolated build): a failure is the
# checkout's, never an outage's, so it fails even when PyPI is down.
PYTHONPATH="$cache/build-tools" python -m pip wheel -q --no-deps --no-build-isolation --no-index -w "$work/wheels" \
    "$work/src" 2>"$work/wheel.err" || fail "building o2lite's wheel: $(cat "$work/wheel.err")"
cp "$cache"/wheels/*.whl "$work/wheels/"

# 4. Run the checks (node 20 needs the flag for JSPI, which lets requests wait for fetch).
timeout 300 node --experimental-wasm-stack-switching .ci/pyodide.mjs "$cache/runtime" "$work/wheels" \
    "$(command -v python)" || fail "see above"
echo "pyodide check passed in $((SECONDS - started)) s (Pyodide $PYODIDE_VERSION, Python $python_version)"
