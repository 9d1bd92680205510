"""``Client``: one transport, seven endpoint groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Union, overload

from ._in_process import EMSCRIPTEN, is_in_process
from .accounts import Accounts
from .aggregated import Aggregated
from .analytics import Analytics
from .dry_run import DryRunTrader
from .errors import O2Error
from .faucet import Faucet
from .markets import Markets
from .orders import Orders
from .session import PARALLEL_ACTION_SIGNATURE, Session
from .signing import Signer
from .trader import Trader
from .transport import DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT, Network, Timeout, Transport
from .typed_data import DOMAIN_VERSION

if TYPE_CHECKING:  # pragma: no cover - the stream client loads on first use (it imports no client)
    from .streams import Stream

__all__ = ["Client"]


class Client:
    """The O2 REST API: ``markets``, ``accounts``, ``orders``, ``session``, ``analytics``,
    ``aggregated`` and ``faucet``, all sharing one :class:`~o2lite.transport.Transport`.

    >>> with Client("http://127.0.0.1:8080") as client:
    ...     client.transport.base_url
    'http://127.0.0.1:8080'

    Args:
        network_or_url: ``mainnet``, ``testnet``, ``devnet`` or a base URL.
        session: your own ``requests.Session`` (not closed by :meth:`close`).
        timeout: seconds or ``(connect, read)``; default ``(5, 30)``.
        retries: total attempts for GET requests (POST/PUT are never retried).
        faucet_url: override the faucet URL (custom networks).
        pool_size: HTTP connections kept per host (default 32; size it to your threads).
        domain_version: the trade account contract's typed-data domain version (default ``"2"``;
            a per-deployment setting, PROTOCOL §10).
        parallel_action_signature: the JSON label of parallel-nonce action signatures
            (default ``"Secp256k1"``; see :data:`o2lite.session.PARALLEL_ACTION_SIGNATURE`).
    """

    def __init__(self, network_or_url: Union[str, Network] = "mainnet", *, session: Any = None,
                 timeout: Timeout = DEFAULT_TIMEOUT, retries: int = DEFAULT_ATTEMPTS,
                 faucet_url: Optional[str] = None, domain_version: str = DOMAIN_VERSION,
                 parallel_action_signature: str = PARALLEL_ACTION_SIGNATURE, **transport_options: Any) -> None:
        self.transport = Transport(network_or_url, session=session, timeout=timeout, retries=retries,
                                   faucet_url=faucet_url, **transport_options)
        self.markets = Markets(self.transport)
        self.accounts = Accounts(self.transport, self.markets, domain_version=domain_version)
        self.orders = Orders(self.transport, self.markets)
        self.session = Session(self.transport, self.markets, domain_version=domain_version,
                               parallel_action_signature=parallel_action_signature)
        self.analytics = Analytics(self.transport)
        self.aggregated = Aggregated(self.transport)
        self.faucet = Faucet(self.transport)

    def timeout(self, timeout: Timeout) -> Any:
        """Per-call timeout: ``with client.timeout(2): client.markets.depth(...)`` (this thread only)."""
        return self.transport.timeout_override(timeout)

    @overload
    def trader(self, owner: Signer, *, dry_run: Literal[False] = False, trade_account_id: Optional[str] = None,
               clock: Optional[Callable[[], float]] = None, pacing: bool = True) -> Trader: ...

    @overload
    def trader(self, owner: Signer, *, dry_run: Literal[True], trade_account_id: Optional[str] = None,
               clock: Optional[Callable[[], float]] = None, pacing: bool = True) -> DryRunTrader: ...

    def trader(self, owner: Signer, *, dry_run: bool = False, trade_account_id: Optional[str] = None,
               clock: Optional[Callable[[], float]] = None, pacing: bool = True) -> Union[Trader, DryRunTrader]:
        """A :class:`~o2lite.Trader` for ``owner`` on this client — or, with ``dry_run=True``, a
        :class:`~o2lite.DryRunTrader` whose signing methods return the requests unsent.

        ``trade_account_id``, ``clock`` and ``pacing`` are the Trader's (see :class:`~o2lite.Trader`).
        """
        extra: Any = {} if clock is None else {"clock": clock}
        if dry_run:
            return DryRunTrader(self, owner, trade_account_id=trade_account_id, **extra)
        return Trader(self, owner, trade_account_id=trade_account_id, pacing=pacing, **extra)

    def stream(self, **options: Any) -> "Stream":
        """A :class:`~o2lite.streams.Stream`: live depth, trades, orders, balances and nonces over
        ``wss://<host>/v1/ws`` (``ws://`` for an ``http://`` base URL). The module loads on first use.

        Raises :class:`~o2lite.errors.O2Error` before any thread or socket is tried under Pyodide
        (a stream reads its socket from a thread, and Pyodide has neither) and for an in-process
        sandbox (it serves no WebSocket).
        """
        if EMSCRIPTEN:
            raise O2Error("live streams need a regular Python: under Pyodide (a browser or JupyterLite) "
                          "there is no thread or socket to read a WebSocket with; poll over REST instead "
                          "(client.markets.depth, trader.open_orders, trader.balances)")
        if is_in_process(self.transport.base_url) and not options.get("url"):
            raise O2Error("an in-process sandbox serves no WebSocket: stream from a served one "
                          "(Sandbox(in_process=False), in a regular Python)")
        from .streams import Stream

        return Stream(self, **options)

    def close(self) -> None:
        """Close the HTTP session (if the client created it)."""
        self.transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.transport.base_url!r})"
