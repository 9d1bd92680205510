"""Was a failed request sent? The one rule, decided from facts, for both HTTP paths.

A signed POST/PUT that may have reached the exchange must never be sent again (it could trade
twice), and one that certainly did not may be. So a failure is "not sent" only when it is
**certain** that no byte of the request left the machine; everything else may have landed.
Nothing here reads an exception's message: the facts are the stage the exchange had reached
(o2lite's own ``http.client`` path knows it exactly) or, on the ``requests`` path, the types
urllib3 raises only before it writes a request, and whether an error was raised inside the TLS
handshake.

==========================================  =============================================  =========
where the exchange failed                   evidence                                       sent?
==========================================  =============================================  =========
name resolution (DNS)                       stage ``CONNECTING``; urllib3                  no
                                            ``NameResolutionError`` (2.x), or
                                            ``NewConnectionError`` (1.26: wraps gaierror)
TCP connect refused / unreachable / failed  stage ``CONNECTING``; ``NewConnectionError``   no
connect timed out                           stage ``CONNECTING``; ``ConnectTimeoutError``  no
                                            (``requests.ConnectTimeout``)
TLS handshake failed (certificate, alert,   stage ``CONNECTING``; an ``ssl.SSLError`` or   no
protocol, timeout)                          timeout raised inside ``do_handshake``
certificate names another host              stage ``CONNECTING``; ``ssl`` (in the          no
                                            handshake) or urllib3 1.26's own
                                            ``CertificateError`` (in ``connect``)
CA bundle or client certificate missing     stage ``CONNECTING``; an ``OSError`` raised    no
                                            inside ``HTTPAdapter.cert_verify``
proxy not reached                           ``ProxyError`` wrapping one of the above       no
writing the request                         stage ``SENDING``                              maybe
request written, no answer yet              stage ``WAITING``; read timeout, reset,        maybe
                                            ``RemoteDisconnected``
answer cut mid-body                         stage ``READING``; ``IncompleteRead``,         maybe
                                            ``ChunkedEncodingError``, short body
any failure under Emscripten (Pyodide)      ``fetch`` tells a refused connection and an    maybe
                                            abort after sending apart by neither type
                                            nor stage
anything else                               any other exception                            maybe
==========================================  =============================================  =========

"Maybe" is what a signed request reports as :class:`~o2lite.errors.SubmissionUnknown`, and an
unsigned write as ``O2ConnectionError(may_have_landed=True)``. A GET is safe to repeat in
every row (see :mod:`o2lite.transport`).
"""

from __future__ import annotations

import enum
import socket
from typing import Any, Iterator, List, Optional, Tuple

__all__ = ["Stage", "ExchangeFailed", "RefusedBeforeSending", "stage_of", "causes", "tls_errors"]


class Stage(enum.Enum):
    """How far one HTTP exchange got before it failed."""

    CONNECTING = "connecting"  # resolving, TCP connect, TLS handshake: no request byte written yet
    SENDING = "sending"  # request bytes being written
    WAITING = "waiting"  # request written, no byte of the answer yet
    READING = "reading"  # status line and headers arrived, the body did not (all of it)

    @property
    def sent(self) -> bool:
        """Whether the request may have reached the server (only ``CONNECTING`` is certain not to)."""
        return self is not Stage.CONNECTING


class ExchangeFailed(Exception):
    """One HTTP exchange failed at ``stage``; the network error is the ``__cause__``.

    The transport's single internal failure: both HTTP paths raise it, the retry policy reads
    ``stage`` and the transport turns it into the public error. ``status`` is set when an answer
    had begun (a cut body).
    """

    def __init__(self, stage: Stage, cause: BaseException, *, status: Optional[int] = None) -> None:
        super().__init__(f"{stage.value}: {type(cause).__name__}")
        self.stage, self.cause, self.status = stage, cause, status


def causes(exc: BaseException, limit: int = 12) -> Iterator[BaseException]:
    """``exc`` and what it wraps: ``__cause__``/``__context__`` and the wrapped errors that
    requests and urllib3 keep in ``args``, ``reason`` and ``original_error`` (breadth first)."""
    seen: List[int] = []
    queue: List[BaseException] = [exc]
    while queue and len(seen) < limit:
        item = queue.pop(0)
        if id(item) in seen:
            continue
        seen.append(id(item))
        yield item
        linked: List[Any] = [item.__cause__, item.__context__, getattr(item, "reason", None),
                             getattr(item, "original_error", None), *item.args]
        queue.extend(x for x in linked if isinstance(x, BaseException))


def tls_errors() -> Tuple[type, ...]:
    """``ssl``'s error types, or none where this Python has no ``ssl`` (Pyodide loads it only on
    request): imported here, not at ``import o2lite``, for that reason."""
    try:
        import ssl
    except ImportError:  # pragma: no cover - Pyodide without its ssl package
        return ()
    return (ssl.SSLError, ssl.CertificateError)


def _raised_in(exc: BaseException, name: str, filename: str) -> bool:
    """The error passed through the function ``name`` of the module file ``filename``."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == name and code.co_filename == filename:
            return True
        tb = tb.tb_next
    return False


def _raised_in_handshake(exc: BaseException) -> bool:
    """The error passed through ``ssl.SSLSocket.do_handshake``: the TLS handshake, which ends
    before the first byte of a request is written."""
    try:
        import ssl
    except ImportError:  # pragma: no cover - Pyodide without its ssl package: no handshake
        return False
    return _raised_in(exc, "do_handshake", str(ssl.__file__))


def _raised_in_cert_verify(exc: BaseException) -> bool:
    """The error passed through ``requests.adapters.HTTPAdapter.cert_verify``, which checks the
    CA bundle and client certificate paths before a connection is taken from the pool."""
    import requests.adapters

    return _raised_in(exc, "cert_verify", str(requests.adapters.__file__))


class RefusedBeforeSending(ConnectionRefusedError):
    """Raised (as a cause) by a transport that refuses a request before reading any byte of it —
    an in-process sandbox that is stopped: the proof that nothing was sent, by type."""


def _before_any_byte(exc: BaseException) -> bool:
    """Evidence, by type or by where it was raised, that the connection was never made."""
    if isinstance(exc, RefusedBeforeSending):
        return True
    import urllib3.exceptions as u3  # requests' own dependency; loaded with requests
    from urllib3.util.ssl_match_hostname import CertificateError as HostnameMismatch

    if isinstance(exc, (u3.NewConnectionError, u3.ConnectTimeoutError, socket.gaierror, HostnameMismatch)):
        # urllib3 raises the first two in _new_conn only (NameResolutionError is a
        # NewConnectionError); the last in connect(), checking the certificate's names (1.26)
        return True
    if isinstance(exc, OSError) and _raised_in_cert_verify(exc):
        return True
    return isinstance(exc, (*tls_errors(), OSError)) and _raised_in_handshake(exc)


def stage_of(exc: BaseException, *, emscripten: bool = False) -> Stage:
    """The stage a ``requests`` failure proves: ``CONNECTING`` when some error in its chain is
    certain to come from before the connection existed, else ``WAITING`` (maybe sent).

    A ``requests.ConnectTimeout`` raised by a mock carries no urllib3 cause, but it is by
    definition a connect that did not complete. Under Emscripten (``emscripten=True``) nothing
    is certain: a browser's ``fetch`` reports a refused connection and an abort after sending
    alike.
    """
    import requests

    if emscripten:
        return Stage.READING if isinstance(exc, requests.exceptions.ChunkedEncodingError) else Stage.WAITING
    if isinstance(exc, requests.ConnectTimeout):
        return Stage.CONNECTING
    if any(_before_any_byte(item) for item in causes(exc)):
        return Stage.CONNECTING
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return Stage.READING
    return Stage.WAITING
