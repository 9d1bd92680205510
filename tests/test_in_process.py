"""The sandbox in process (issue 23): no socket, no thread, and the same exchange as over HTTP.

Also the Pyodide rules that can be exercised in CPython by switching the Emscripten flag:
streams refused, failed signed writes always SubmissionUnknown, a followed redirect on a
write named. The same paths inside Pyodide itself are .ci/pyodide.sh's job.
"""

from __future__ import annotations

import _thread
import contextlib
import io
import json
import pathlib
import re
import socket
import threading
from decimal import Decimal

import pytest
import requests
import urllib3

import o2lite
import o2lite.client
import o2lite.sandbox.server
import o2lite.transport
from o2lite._http import describe
from o2lite._in_process import in_process_session
from o2lite.cli.demo import run as run_demo
from o2lite.sandbox import Sandbox
from o2lite.sandbox.dispatch import MAX_BODY
from o2lite.transport import Submission

README = (pathlib.Path(__file__).parent.parent / "README.rst").read_text()
SUBMISSION = Submission(7, "sequential", "0x" + "ac" * 32)


@contextlib.contextmanager
def no_socket_no_thread(monkeypatch):
    """Opening a socket or starting a thread fails (and is recorded) inside the block."""
    tried = []

    def refuse(what):
        def refused(*args, **kwargs):
            tried.append(what)
            raise AssertionError(f"{what} was called")
        return refused

    with monkeypatch.context() as patch:
        patch.setattr(socket.socket, "__init__", refuse("socket"))
        patch.setattr(socket, "create_connection", refuse("create_connection"))
        patch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
        patch.setattr(threading.Thread, "start", refuse("Thread.start"))
        patch.setattr(_thread, "start_new_thread", refuse("start_new_thread"))
        yield tried
    assert not tried, tried


def browser_sample() -> str:
    section = README.split("In the browser (Pyodide / JupyterLite)\n---", 1)[1]
    block = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", section).group(1)
    return re.sub(r"^    ", "", block, flags=re.M)


def test_the_guard_refuses_sockets_and_threads(monkeypatch):
    with pytest.raises(AssertionError):
        with no_socket_no_thread(monkeypatch):
            socket.socket()
    with pytest.raises(AssertionError):
        with no_socket_no_thread(monkeypatch):
            threading.Thread(target=print).start()


def test_readme_browser_sample_runs_in_cpython_without_socket_or_thread(monkeypatch):
    script = browser_sample()
    assert "Sandbox(in_process=True)" in script and "micropip" not in script
    out = io.StringIO()
    with no_socket_no_thread(monkeypatch), contextlib.redirect_stdout(out):
        exec(compile(script, "README.rst", "exec"), {})
    order_ids, usdc = out.getvalue().strip().splitlines()
    assert order_ids.startswith("['0x") and Decimal(usdc) == 10000


def _story(text: str) -> list:
    """The demo's lines with what differs per run (keys, ids, times) masked."""
    text = re.sub(r"0x[0-9a-f]+…?", "0x…", text)
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "<time>", text).splitlines()[1:]


def test_demo_in_process_tells_the_served_story_with_no_socket_or_thread(monkeypatch):
    served, local = [], []
    assert run_demo(served.append) == 0
    with no_socket_no_thread(monkeypatch):
        assert run_demo(local.append, in_process=True) == 0
    assert "listening on http://127.0.0.1:" in served[0]
    assert re.match(r"sandbox exchange running in this process as http://exchange-\d+\.sandbox\.invalid", local[0])
    assert _story("\n".join(local)) == _story("\n".join(served)) and len(local) > 20


def test_under_pyodide_the_sandbox_and_the_demo_are_in_process(monkeypatch):
    monkeypatch.setattr(o2lite.sandbox.server, "EMSCRIPTEN", True)
    with no_socket_no_thread(monkeypatch):
        with Sandbox() as sandbox:
            assert sandbox.in_process and sandbox._httpd is None
        lines = []
        assert run_demo(lines.append) == 0 and "in this process" in lines[0]
    with pytest.raises(o2lite.O2Error, match="cannot listen on a socket"):
        Sandbox(in_process=False)


# --- the same exchange ---------------------------------------------------------------------

RAW_REQUESTS = [
    ("GET", "/v1/markets", {}, b""),
    ("GET", "/v1/depth?market_id=0x00&precision=10", {}, b""),
    ("GET", "/v1/nowhere", {}, b""),
    ("PUT", "/v1/markets", {}, b""),
    ("POST", "/v1/session/actions", {"Content-Type": "application/json"}, b"{not json"),
    ("POST", "/v1/session/actions", {"Content-Type": "application/json"}, b"[" * 40 + b"]" * 40),
    ("POST", "/v1/session/actions", {"Content-Type": "application/json"}, b'{"actions": []}'),
    ("POST", "/v1/accounts", {"Content-Type": "application/json"}, b'{"identity": {"Address": "0x12"}}'),
    ("PUT", "/v1/session", {"Content-Type": "application/json", "O2-Owner-Id": "0x" + "11" * 32}, b"{}"),
    ("POST", "/v1/accounts", {}, b"x" * (MAX_BODY + 1)),
]


def _ask(session: requests.Session, base: str, method: str, target: str, headers: dict, body: bytes):
    response = session.request(method, base + target, headers=headers, data=body)
    answer_headers = {k: v for k, v in response.headers.items() if k in ("Allow", "Retry-After", "Content-Type")}
    return response.status_code, response.json(), answer_headers


def test_in_process_answers_are_the_served_answers():
    with Sandbox() as served, Sandbox(in_process=True) as local, requests.Session() as plain:
        session = in_process_session(local.url)
        for method, target, headers, body in RAW_REQUESTS:
            over_http = _ask(plain, served.url, method, target, headers, body)
            in_process = _ask(session, local.url, method, target, headers, body)
            assert in_process == over_http, (method, target)
        assert [_ask(session, local.url, *r)[0] for r in RAW_REQUESTS] == [200, 400, 404, 405, 400, 400, 400, 400,
                                                                           400, 413]


def test_a_wrong_signer_is_refused_in_process_as_over_http():
    answers = []
    for options in ({}, {"in_process": True}):
        with Sandbox(**options) as sandbox, o2lite.Client(sandbox.url) as client:
            owner, stranger = o2lite.Wallet.generate(), o2lite.Wallet.generate()
            client.trader(owner).setup_account()
            request = o2lite.DryRunTrader(client, owner).open_session(["FUEL/USDC"])
            body = dict(request.body)
            body["signature"] = {label: "0x" + stranger.sign_digest(request.digest).hex()
                                 for label in request.body["signature"]}
            with pytest.raises(o2lite.InvalidSignature) as caught:
                client.transport.request(request.method, request.path, json_body=body, headers=request.headers)
            answers.append((caught.value.status, caught.value.code, caught.value.message))
    assert answers[0] == answers[1] and answers[0][1] == 4000


def test_rate_limits_apply_in_process():
    with Sandbox(in_process=True, rate_limits=True) as sandbox, o2lite.Client(sandbox.url) as client:
        client.accounts.create(o2lite.Wallet.generate().address)  # the limit: one account a second
        with pytest.raises(o2lite.RateLimited) as caught:
            client.accounts.create(o2lite.Wallet.generate().address)
        assert caught.value.code == 1003 and 0 < caught.value.retry_after <= 1


def test_state_file_is_written_in_process(tmp_path):
    path = str(tmp_path / "state.json")
    owner = o2lite.Wallet.generate()
    with Sandbox(in_process=True, state=path) as sandbox, o2lite.Client(sandbox.url) as client:
        account = client.trader(owner).setup_account()
    with Sandbox(in_process=True, state=path) as sandbox, o2lite.Client(sandbox.url) as client:
        assert client.trader(owner).setup_account() == account
    assert json.loads(pathlib.Path(path).read_text())


def test_a_state_file_that_cannot_be_written_is_a_500_not_a_stray_exception(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir()
    with Sandbox(in_process=True, state=str(folder / "state.json")) as sandbox, o2lite.Client(sandbox.url) as client:
        folder.rmdir()  # from now on the state file cannot be written
        with pytest.raises(o2lite.O2Error) as caught:
            client.accounts.create(o2lite.Wallet.generate().address)
        # no code: the account was made, only not saved (a coded error would read as a refusal)
        assert caught.value.status == 500 and caught.value.code is None and "may have been applied" in str(caught.value)


# --- how a client reaches it -----------------------------------------------------------------

def test_the_client_mounts_the_sandbox_adapter_and_never_takes_the_lean_path():
    with Sandbox(in_process=True) as sandbox, o2lite.Client(sandbox.url) as client:
        assert client.transport.session.get_adapter(sandbox.url + "/v1/session/actions") is sandbox.adapter
        assert not client.transport._owns_session  # so writes go through Session.request, to the adapter
        assert client.transport.session.get_adapter("https://api.o2.app/v1/markets") is not sandbox.adapter


def test_a_sandbox_that_is_not_running_is_named(monkeypatch):
    sandbox = Sandbox(in_process=True)
    with pytest.raises(o2lite.ValidationError, match="no in-process sandbox is running"):
        o2lite.Client(sandbox.url)
    with sandbox:
        o2lite.Client(sandbox.url).close()
    with pytest.raises(o2lite.ValidationError, match="start it first"):
        o2lite.Client(sandbox.url)


def test_in_process_options_are_checked():
    with pytest.raises(ValueError, match="listens nowhere"):
        Sandbox(port=8080, in_process=True)
    with pytest.raises(o2lite.O2Error, match="no server to run"):
        Sandbox(in_process=True).serve_forever()
    with Sandbox(in_process=True) as one, Sandbox(in_process=True) as two:
        assert one.url != two.url


def test_the_adapter_reads_str_bodies_and_refuses_streamed_ones():
    with Sandbox(in_process=True) as sandbox:
        session = in_process_session(sandbox.url)
        prepared = requests.Request("POST", sandbox.url + "/v1/accounts", data="{not json").prepare()
        assert session.send(prepared).json()["code"] == 1002
        streamed = session.post(sandbox.url + "/v1/accounts", data=(b"{}" for _ in range(1)))
        assert streamed.status_code == 411 and "Content-Length" in streamed.json()["message"]


# --- Pyodide rules ---------------------------------------------------------------------------

def test_stream_refuses_in_process_and_under_pyodide_before_any_thread(monkeypatch):
    with Sandbox(in_process=True) as sandbox, o2lite.Client(sandbox.url) as client:
        with no_socket_no_thread(monkeypatch), pytest.raises(o2lite.O2Error, match="serves no WebSocket"):
            client.stream()
    monkeypatch.setattr(o2lite.client, "EMSCRIPTEN", True)
    with o2lite.Client("http://127.0.0.1:9") as client:
        with no_socket_no_thread(monkeypatch), pytest.raises(o2lite.O2Error, match="regular Python"):
            client.stream()


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_failed_signed_write_under_emscripten_is_submission_unknown(monkeypatch):
    url = _closed_port()
    with o2lite.Client(url) as client:
        with pytest.raises(o2lite.O2ConnectionError) as refused:  # CPython knows nothing was sent
            client.transport.request("POST", "/v1/session/actions", json_body={"x": 1}, submission=SUBMISSION)
        assert not isinstance(refused.value, o2lite.SubmissionUnknown)
        monkeypatch.setattr(o2lite.transport, "EMSCRIPTEN", True)
        with pytest.raises(o2lite.SubmissionUnknown) as unknown:  # Emscripten cannot know
            client.transport.request("POST", "/v1/session/actions", json_body={"x": 1}, submission=SUBMISSION)
        assert unknown.value.nonce == 7 and "reconcile" in str(unknown.value)


def test_an_emscripten_timeout_is_described_as_a_timeout():
    cause = urllib3.exceptions.MaxRetryError(None, "/v1/markets", urllib3.exceptions.TimeoutError("Request timed out"))
    text = describe(requests.ConnectionError(cause), "http://127.0.0.1:1/v1/markets")
    assert text == "127.0.0.1:1 did not answer in time (timeout)"
    other = urllib3.exceptions.MaxRetryError(None, "/", urllib3.exceptions.ProtocolError("aborted"))
    assert "in time" not in describe(requests.ConnectionError(other), "http://h/")


def test_a_failed_browser_fetch_mentions_cors():
    cause = urllib3.exceptions.ProtocolError("Connection aborted.", Exception("Failed to fetch"))
    text = describe(requests.ConnectionError(cause), "http://127.0.0.1:8080/v1/markets")
    assert text.startswith("the browser could not fetch from 127.0.0.1:8080") and "CORS" in text


class _Redirected(requests.adapters.BaseAdapter):
    """An HTTP stack that followed a 307 by itself (as a browser's fetch does) and says so."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append(request.method)
        hop = requests.Response()
        hop.status_code, hop.headers["Location"] = 307, "https://elsewhere.example/v1/session/actions"
        final = requests.Response()
        final.status_code, final.raw, final.url = 200, io.BytesIO(b'{"tx_id": "0x01"}'), hop.headers["Location"]
        final.headers["Content-Type"], final.history, final.request = "application/json", [hop], request
        return final

    def close(self) -> None:
        pass


def test_a_followed_redirect_on_a_write_is_named():
    session = requests.Session()
    adapter = _Redirected()
    session.mount("https://", adapter)
    with o2lite.Client("https://api.example", session=session) as client:
        with pytest.raises(o2lite.SubmissionUnknown, match="307 redirect to https://elsewhere.example") as caught:
            client.transport.request("POST", "/v1/session/actions", json_body={"x": 1}, submission=SUBMISSION)
        assert caught.value.nonce == 7
        with pytest.raises(o2lite.O2Error, match="re-sent there") as unsigned:
            client.transport.request("POST", "/v1/accounts", json_body={"x": 1})
        assert not isinstance(unsigned.value, o2lite.SubmissionUnknown)
        assert client.transport.request("GET", "/v1/markets") == {"tx_id": "0x01"}  # a read may follow them
    assert adapter.sent == ["POST", "POST", "GET"]


def test_ci_runs_the_pyodide_check():
    ci = (pathlib.Path(__file__).parent.parent / ".ci")
    assert "\n.ci/pyodide.sh\n" in (ci / "run").read_text()
    checks = (ci / "pyodide_checks.py").read_text()
    assert "In the browser (Pyodide / JupyterLite)" in checks and 'main(["demo"])' in checks
