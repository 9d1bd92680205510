"""Checks run inside Pyodide by .ci/pyodide.mjs (issue 23). Any failure raises; the runner exits 1.

Every check runs; any failure fails the run at the end.

1. The README's browser sample, ``python -m o2lite demo`` and the examples that use neither
   streams nor threads (quickstart, dca_bot) run unchanged with no socket and no thread
   opened (socket and thread constructors are made to fail and every call is recorded).
2. The README's trading story against a sandbox server that CPython serves on loopback.
3. The transport's Emscripten rules: a failed signed write is SubmissionUnknown (but a stopped
   in-process sandbox, which involves no fetch, is a certain refusal), a timeout is
   reported as a timeout, a redirect on a write is an error naming its target (node's fetch does
   not follow it) and the target never sees the request — in a browser (.ci/pyodide_browser.py)
   fetch follows it and re-sends the write, which urllib3 does not report: that is noted.
4. ``client.stream()`` refuses with an O2Error before any thread or socket.

URLs come from the environment the runner sets: O2_SANDBOX_URL, O2_SLOW_URL, O2_REDIRECT_URL,
O2_REFUSED_URL, O2_HITS_URL; the README is at /ci/README.rst, the examples under /ci/examples.
"""

import _thread
import contextlib
import io
import os
import re
import socket
import sys
import threading
import time
from decimal import Decimal

import o2lite
from o2lite.transport import Submission

assert sys.platform == "emscripten", sys.platform
README = open("/ci/README.rst", encoding="utf-8").read()
SUBMISSION = Submission(7, "sequential", "0x" + "ac" * 32)
results = []


def check(name):
    """Run the check now; a failure is reported and the next check still runs."""
    def run(fn):
        started = time.perf_counter()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, the run fails at the end
            results.append(f"FAIL {name}: {type(exc).__name__}: {str(exc)[:400]}")
        else:
            results.append(f"ok   {name} ({(time.perf_counter() - started) * 1000:.0f} ms)")
        print(results[-1], flush=True)
        return fn
    return run


@contextlib.contextmanager
def no_socket_no_thread():
    """Every way to open a socket or start a thread fails, and is recorded."""
    tried = []

    def refuse(what):
        def refused(*args, **kwargs):
            tried.append(what)
            raise AssertionError(f"{what} was called")
        return refused

    saved = [(socket.socket, "__init__", socket.socket.__init__), (socket, "create_connection", socket.create_connection),
             (socket, "getaddrinfo", socket.getaddrinfo), (threading.Thread, "start", threading.Thread.start),
             (_thread, "start_new_thread", _thread.start_new_thread)]
    for owner, name, _ in saved:
        setattr(owner, name, refuse(f"{getattr(owner, '__name__', owner)}.{name}"))
    try:
        yield tried
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
    assert not tried, f"a socket or thread was tried: {tried}"


def readme_section_sample(title):
    section = README.split(title, 1)[1]
    block = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", section).group(1)
    return re.sub(r"^    ", "", block, flags=re.M)


@check("the guard refuses sockets and threads")
def guard():
    for attempt in (lambda: socket.socket(), lambda: threading.Thread(target=print).start()):
        try:
            with no_socket_no_thread():
                attempt()
        except AssertionError:
            continue
        raise AssertionError("the guard let it through")


@check("README browser sample, in process: no socket, no thread")
def browser_sample():
    out = io.StringIO()
    with no_socket_no_thread(), contextlib.redirect_stdout(out):
        exec(compile(readme_section_sample("In the browser (Pyodide / JupyterLite)"), "README.rst", "exec"), {})
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("['0x") and Decimal(lines[-1]) == 10000, lines


@check("README first sample, unchanged: Sandbox() is in process here, no socket, no thread")
def first_sample():
    script = re.sub(r"^    ", "", re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", README).group(1), flags=re.M)
    out = io.StringIO()
    with no_socket_no_thread(), contextlib.redirect_stdout(out):
        exec(compile(script, "README.rst", "exec"), {})
    order_ids, usdc = out.getvalue().strip().splitlines()
    assert order_ids.startswith("['0x") and Decimal(usdc) == 9975, (order_ids, usdc)


@check("python -m o2lite demo, in process: no socket, no thread")
def demo():
    from o2lite.cli import main

    out = io.StringIO()
    with no_socket_no_thread(), contextlib.redirect_stdout(out):
        assert main(["demo"]) == 0
    text = out.getvalue()
    assert "in this process" in text and "done: every request" in text, text[-500:]


@check("examples/quickstart.py and dca_bot.py, unchanged, in process: no socket, no thread")
def examples():
    import runpy

    for name, says in (("quickstart.py", "owner address: 0x"), ("dca_bot.py", "holding ")):
        out, argv = io.StringIO(), sys.argv
        sys.argv = [name]
        try:
            with no_socket_no_thread(), contextlib.redirect_stdout(out):
                runpy.run_path(f"/ci/examples/{name}", run_name="__main__")
        finally:
            sys.argv = argv
        assert says in out.getvalue(), (name, out.getvalue()[-300:])


@check("trading story against a sandbox served by CPython on loopback")
def served_story():
    script = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", README).group(1)
    script = re.sub(r"^    ", "", script, flags=re.M)
    script = script.replace("Sandbox() as sandbox, o2lite.Client(sandbox.url)",
                            f"contextlib.nullcontext() as sandbox, o2lite.Client({os.environ['O2_SANDBOX_URL']!r})")
    assert "contextlib.nullcontext()" in script, "the README's first sample changed shape"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(script, "README.rst", "exec"), {"contextlib": contextlib})
    order_ids, usdc = out.getvalue().strip().splitlines()
    assert order_ids.startswith("['0x") and Decimal(usdc) == 9975, (order_ids, usdc)


@check("a signed write that fails under Emscripten is SubmissionUnknown (refused port)")
def refused_write():
    with o2lite.Client(os.environ["O2_REFUSED_URL"], retries=1) as client:
        try:
            client.transport.request("POST", "/v1/session/actions", json_body={"x": 1}, submission=SUBMISSION)
        except o2lite.SubmissionUnknown as exc:
            assert exc.nonce == 7 and "reconcile" in str(exc), exc
        else:
            raise AssertionError("no error")


@check("a stopped in-process sandbox refuses for certain: not SubmissionUnknown (no fetch involved)")
def stopped_in_process():
    from o2lite.sandbox import Sandbox

    with no_socket_no_thread():
        with Sandbox(in_process=True) as sandbox:
            client = o2lite.Client(sandbox.url, retries=1)
        try:
            client.transport.request("POST", "/v1/session/actions", json_body={"x": 1}, submission=SUBMISSION)
        except o2lite.SubmissionUnknown as exc:
            raise AssertionError(f"a certain refusal read as a lost answer: {exc}") from None
        except o2lite.O2ConnectionError as exc:
            assert "refused" in str(exc), exc
        else:
            raise AssertionError("a stopped sandbox answered")


@check("a timeout is reported as a timeout (write and read)")
def timeout():
    with o2lite.Client(os.environ["O2_SLOW_URL"], timeout=0.5, retries=1) as client:
        try:
            client.transport.request("POST", "/v1/session/actions", json_body={"x": 1}, submission=SUBMISSION)
        except o2lite.SubmissionUnknown as exc:
            assert "timed out" in str(exc) or "in time" in str(exc), exc
        else:
            raise AssertionError("no error")
        try:
            client.markets.list()
        except o2lite.O2ConnectionError as exc:
            assert not isinstance(exc, o2lite.SubmissionUnknown) and ("timed out" in str(exc) or "in time" in str(exc)), exc
        else:
            raise AssertionError("no error")


def in_browser():
    import js

    return hasattr(js, "document")


@check("a redirect on a signed write: node refuses it; a browser's fetch follows it (noted)")
def redirect():
    with o2lite.Client(os.environ["O2_REDIRECT_URL"], retries=1) as client:
        try:
            answer = client.transport.request("POST", "/v1/session/actions", json_body={"x": 1},
                                              submission=SUBMISSION)
        except o2lite.O2Error as exc:
            assert not in_browser(), "a browser told o2lite of the redirect: update the README"
            assert "redirect" in str(exc) and "/elsewhere" in str(exc), exc
        else:
            assert in_browser(), f"no error: {answer!r}"
            results.append("NOTE in a browser, fetch followed the 307 and re-sent the signed write to its "
                           "target; urllib3 keeps no trace (no response.history), so o2lite read the "
                           "target's answer")
    with o2lite.Client(os.environ["O2_HITS_URL"]) as client:
        hits = client.transport.request("GET", "/hits")
    assert hits == {"elsewhere": 1 if in_browser() else 0}, hits


@check("client.stream() refuses with an O2Error, before any thread or socket")
def stream():
    with no_socket_no_thread(), o2lite.Client(os.environ["O2_SANDBOX_URL"]) as client:
        try:
            client.stream()
        except o2lite.O2Error as exc:
            assert "regular Python" in str(exc), exc
        else:
            raise AssertionError("no error")


@check("signing speed (figure only)")
def signing_speed():
    from o2lite.signing import Wallet

    wallet = Wallet.generate()
    wallet.sign_digest(b"\x01" * 32)  # builds the fixed-base table
    started, count = time.perf_counter(), 200
    for i in range(count):
        wallet.sign_digest(i.to_bytes(32, "big"))
    results.append(f"     sign_digest {(time.perf_counter() - started) / count * 1000:.2f} ms")


failed = [r for r in results if r.startswith("FAIL")]
print(f"pyodide: {sum(r.startswith('ok') for r in results)} checks passed, {len(failed)} failed;",
      *(r.strip() for r in results if r.startswith(("NOTE", "     "))), sep="\n")
if failed:
    raise AssertionError("failed in Pyodide:\n" + "\n".join(failed))
