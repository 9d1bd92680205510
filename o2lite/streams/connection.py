"""One WebSocket connection that keeps itself open (PROTOCOL §12): the reader thread, keep-alives,
liveness and paced reconnects. It moves frames; what messages mean is
:mod:`o2lite.streams.registry`'s business, reached through the callbacks it is given.

What it promises:

- **Backoff.** Every reconnect waits first, a time drawn uniformly from ``[d/2, d]`` with
  ``d = 1 s · 2^(failures − 1)`` capped at 60 s (``d = 1 s`` after a healthy connection), so
  clients dropped together do not return together.
- **Healthy.** A connection counts as healthy once it delivered a data message (an error
  message is not one), or stayed up a full ping interval without falling silent. One that
  ends sooner is a failure, as much as a refused connection or a failed handshake.
- **Give-up.** 10 failures in a row, of any of those shapes, end the connection for good: the
  ``on_give_up`` callback gets a :class:`~o2lite.errors.StreamError` naming the last cause.
- **Liveness.** If no text message arrives (no data, no ``PONG``; protocol pings, perhaps a
  proxy's, do not count), nor :data:`PROGRESS` bytes of a big one still arriving (a frame
  trickled a few bytes at a time is silence), for ``liveness`` seconds, the peer is taken for
  dead (a silent or half-open connection): the client closes it (code 1001) and reconnects.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import threading
import time
from typing import Callable, Optional, Tuple
from urllib.parse import SplitResult

from . import frames
from .handshake import open_websocket
from ..errors import O2Error, StreamError

__all__ = ["Connection", "backoff_delay", "BACKOFF_FIRST", "BACKOFF_MAX", "MAX_FAILURES"]

log = logging.getLogger("o2lite.stream")

BACKOFF_FIRST, BACKOFF_MAX, MAX_FAILURES = 1.0, 60.0, 10  # PROTOCOL §12: 1 s → 60 s, give up after 10
#: bytes of a message still arriving that count as hearing from the peer: a big snapshot on a
#: slow link is progress, a frame trickled a few bytes at a time is not
PROGRESS = 64 << 10


def backoff_delay(failures: int, rng: random.Random) -> float:
    """Seconds to wait before the next attempt after ``failures`` failures in a row (0: the
    connection before was healthy): uniform in ``[d/2, d]``, ``d = 1 s · 2^(failures−1)`` ≤ 60 s."""
    ceiling = min(BACKOFF_FIRST * 2 ** max(failures - 1, 0), BACKOFF_MAX)
    return rng.uniform(ceiling / 2, ceiling)


class Connection:
    """The socket and its reader thread, started by :meth:`start` and ended by :meth:`close`.

    Callbacks, all called on the reader thread: ``on_open(attempts, gap)`` after each connect
    (``gap`` is ``None`` the first time, else the seconds since the connection was lost),
    ``on_text(text)`` for each text message but ``PONG`` (→ whether it was data, not an error),
    ``on_lost()`` when a connection ends, ``on_give_up(error)`` once, when the give-up rule ends it all.
    """

    def __init__(self, parts: SplitResult, *, on_open: Callable[[int, Optional[float]], None],
                 on_text: Callable[[str], bool], on_lost: Callable[[], None],
                 on_give_up: Callable[[StreamError], None], ping_interval: float, liveness: float,
                 max_message: int, connect_timeout: float, ssl_context: Optional[ssl.SSLContext] = None,
                 sleep: Optional[Callable[[float], None]] = None) -> None:
        self._parts = parts
        self._on_open, self._on_text, self._on_lost, self._on_give_up = on_open, on_text, on_lost, on_give_up
        self.ping_interval, self.liveness, self.max_message = ping_interval, liveness, max_message
        self.connect_timeout, self._ssl_context = connect_timeout, ssl_context
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait  # the default wait ends early on close()
        self._rng = random.Random()
        self._state = threading.Condition()
        self._send_lock = threading.Lock()
        self._sock: Optional[socket.socket] = None
        self._opening: Optional[socket.socket] = None  # the socket of a handshake under way
        self._thread: Optional[threading.Thread] = None
        self.connected = False  #: a connection is up
        self.reconnecting = False  #: the connection was lost (or never made) and is being retried
        self.retry_at: Optional[float] = None  #: ``time.monotonic()`` of the next attempt, while waiting
        self.reconnects = 0  #: connections made after the first
        self.failure: Optional[StreamError] = None  #: why the connection gave up, once it has

    def start(self) -> None:
        """Start the reader thread (once; later calls do nothing)."""
        with self._state:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="o2lite-stream", daemon=True)
                self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a connection (or the give-up, or close, or the wait before
        the next attempt: an outage is known, there is nothing to wait for); ``True`` if connected."""
        with self._state:
            self._state.wait_for(lambda: self.connected or self.failure is not None or self._stop.is_set()
                                 or self.retry_at is not None, timeout)
            return self.connected

    # --- the reader thread -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._reconnect_loop()
        except Exception as exc:  # noqa: BLE001 - a bug here must not leave subscriptions waiting forever
            log.exception("stream reader failed")
            self._give_up(f"an unexpected error in the reader: {exc!r}")

    def _reconnect_loop(self) -> None:
        failures, attempts = 0, 0
        lost_at: Optional[float] = None
        while not self._stop.is_set():
            if attempts or lost_at is not None:  # every attempt but the very first waits its turn
                delay = backoff_delay(failures, self._rng)
                self._set(retry_at=time.monotonic() + delay, reconnecting=True)
                self._sleep(delay)
                self._set(retry_at=None)
                if self._stop.is_set():
                    break
            attempts += 1
            try:
                sock, rest = open_websocket(self._parts, self.connect_timeout, self._ssl_context, self._opened_socket)
            except (OSError, O2Error, ValueError) as exc:  # ssl.SSLError is an OSError; IDNA a ValueError
                self._opening = None
                failures += 1
                log.debug("stream connect failed (%d in a row): %s", failures, exc)
                if failures >= MAX_FAILURES:
                    return self._give_up(f"{failures} failures in a row; the last: {exc}")
                continue
            self._opening = None
            if self._stop.is_set():
                sock.close()
                break
            gap = None if lost_at is None else time.monotonic() - lost_at
            with self._state:
                self._sock = sock
                if gap is not None:
                    self.reconnects += 1
            self._call(self._on_open, attempts, gap)  # sends every subscription held
            # published only now: a subscribe call waiting for the connection returns once its
            # request went out, not before (a REST call made right after could otherwise beat it)
            self._set(connected=True, reconnecting=False)
            attempts = 0
            try:
                healthy, why = self._serve(sock, rest)
            finally:  # a bug in _serve ends the stream (see _run), but never with the socket open
                lost_at = time.monotonic()
                with self._state:
                    self._sock = None
                    self.connected, self.reconnecting = False, not self._stop.is_set()
                    self._state.notify_all()
                sock.close()
                self._call(self._on_lost)
            if self._stop.is_set():
                break
            failures = 0 if healthy else failures + 1
            log.debug("stream connection ended (%s; %d failures in a row)", why, failures)
            if failures >= MAX_FAILURES:
                return self._give_up(f"{failures} failures in a row; the last: {why}")
        self._set(reconnecting=False, retry_at=None)

    def _serve(self, sock: socket.socket, rest: bytes) -> Tuple[bool, str]:
        """Read until the connection ends → (was it healthy, why it ended)."""
        reader = frames.FrameReader(expect_masked=False, max_message=self.max_message)
        # wake often enough to send PINGs and notice silence on time, at most once a second
        sock.settimeout(max(0.005, min(self.ping_interval / 4, self.liveness / 4, 1.0)))
        opened = last_ping = last_heard = time.monotonic()
        delivered = False
        data = rest
        mark = 0  # reader.buffered when the peer was last heard: what grew since is progress

        def healthy() -> bool:
            return delivered or time.monotonic() - opened >= self.ping_interval

        while not self._stop.is_set():
            try:
                messages = reader.feed(data)
                heard = False
                for message in messages:
                    if message.opcode == frames.OP_PING:
                        self._send(frames.OP_PONG, message.payload)
                    elif message.opcode == frames.OP_CLOSE:
                        code, _ = frames.parse_close(message.payload)
                        self._send(frames.OP_CLOSE, frames.close_payload(code or 1000, ""))
                        return healthy(), f"the server closed the connection (code {code})"
                    elif message.opcode == frames.OP_TEXT:
                        heard = True  # a message or a PONG: protocol pings, from a proxy perhaps, are not
                        if message.payload.strip() != b"PONG":
                            # only data makes a connection healthy: a server that answers each
                            # subscribe with an error and hangs up must reach the give-up rule
                            delivered = bool(self._call(self._on_text, message.payload.decode("utf-8"))) or delivered
                data = b""
                now = time.monotonic()
                if heard or reader.buffered - mark >= PROGRESS:
                    # heard: a whole text message or real progress on a big one, not any byte (a
                    # frame trickled forever is silence); counted once handled, so handling a
                    # burst is not taken for silence
                    last_heard, mark = now, reader.buffered
                mark = min(mark, reader.buffered)  # a message completed: progress counts afresh
                if now - last_heard >= self.liveness:
                    self._send(frames.OP_CLOSE, frames.close_payload(1001, "no answer"))
                    return delivered, f"nothing received for {self.liveness:g} s (liveness bound)"
                if now - last_ping >= self.ping_interval:
                    self._send(frames.OP_TEXT, b"PING")
                    last_ping = now
                data = sock.recv(65536)
                if not data:
                    return healthy(), "the server went away without a close frame"
            except socket.timeout:
                data = b""
            except frames.ProtocolError as exc:
                self._send(frames.OP_CLOSE, frames.close_payload(exc.code, str(exc)))
                return healthy(), f"protocol error: {exc}"
            except OSError as exc:
                return healthy(), f"connection lost: {exc}"
        return True, "closed"

    def _opened_socket(self, sock: socket.socket) -> None:
        """A handshake's socket exists: :meth:`close` can now cut it short (or, if it came first, does)."""
        self._opening = sock
        if self._stop.is_set():
            self._cut(sock)

    def _give_up(self, why: str) -> None:
        error = StreamError(f"stream gave up after {why}")
        log.warning("%s", error)
        self._set(failure=error, reconnecting=False, retry_at=None)
        self._call(self._on_give_up, error)

    def _set(self, **state: object) -> None:
        with self._state:
            for name, value in state.items():
                setattr(self, name, value)
            self._state.notify_all()

    @staticmethod
    def _call(callback: Callable[..., object], *args: object) -> object:
        try:
            return callback(*args)
        except Exception:  # noqa: BLE001 - a callback's bug must not end the reader thread
            log.exception("stream callback failed")
            return None

    # --- sending ---------------------------------------------------------------------------------

    def send_text(self, text: str) -> bool:
        """Send one text message → whether it went out. When it cannot, the connection is cut so
        the reader reconnects (and every subscription is sent again)."""
        return self._send(frames.OP_TEXT, text.encode())

    def _send(self, opcode: int, payload: bytes) -> bool:
        sock = self._sock
        if sock is None:
            return False
        try:
            with self._send_lock:
                sock.sendall(frames.encode_frame(opcode, payload, mask=True))
            return True
        except OSError as exc:
            log.debug("stream send failed: %s", exc)
            self._cut(sock)
            return False

    @staticmethod
    def _cut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        """Close the connection (a close frame, code 1000) and end the reader thread."""
        self._stop.set()
        with self._state:
            self._state.notify_all()
        self._send(frames.OP_CLOSE, frames.close_payload(1000, "bye"))
        for sock in (self._sock, self._opening):  # a handshake under way ends now, not at its timeout
            if sock is not None:
                self._cut(sock)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
