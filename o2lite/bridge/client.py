"""``FastBridgeClient``: the Fast Bridge proxy's v1 API, synchronous, one attempt per call.

Transport rules (PROTOCOL §15, as o2-sdk 0.5.0): every request is sent **once** — no retry of any
kind, no redirect followed (a 3xx is an error), 30 s timeout by default; query values are
``str(value)`` with ``None`` left out; POST bodies are camelCase JSON. Answers are read with a size
cap and a bounded JSON parser; :mod:`o2lite.bridge.errors` has the error mapping.

It is a separate service from the trading API and shares nothing with :class:`o2lite.Client`.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional, Type, TypeVar
from urllib.parse import urlsplit

from .._version import __version__
from .._http import TooLarge, check_timeout, describe, read_capped, read_deadline
from .._sent import ExchangeFailed, stage_of
from .._json import loads as json_loads
from ..errors import O2ConnectionError, ValidationError
from . import models as m
from .errors import HTTP_ERROR, INVALID_RESPONSE, NO_RESPONSE, BridgeApiError, BridgeSubmissionUnknown
from .evm import deposit_transaction_hash, parse_evm_unsigned_transaction

__all__ = ["FAST_BRIDGE_MAINNET_URL", "FAST_BRIDGE_TESTNET_URL", "NETWORKS", "DEFAULT_TIMEOUT", "FastBridgeClient"]

FAST_BRIDGE_MAINNET_URL = "https://bridge.o2.app"  # PROTOCOL §15 (o2-sdk 0.5.0)
FAST_BRIDGE_TESTNET_URL = "https://bridge.testnet.o2.app"  # PROTOCOL §15; there is no devnet proxy
NETWORKS = {"mainnet": FAST_BRIDGE_MAINNET_URL, "testnet": FAST_BRIDGE_TESTNET_URL}
DEFAULT_TIMEOUT = 30.0  # seconds (o2-sdk's default)

T = TypeVar("T", bound=m.BridgeModel)


def bridge_base_url(base_url: str) -> str:
    """``"mainnet"``/``"testnet"`` or an ``http(s)`` root without ``/v1`` (a path prefix is kept);
    query, fragment and credentials are refused."""
    if not isinstance(base_url, str):
        raise ValidationError("bridge base URL must be text")
    url = NETWORKS.get(base_url, base_url)
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment
            or parts.username or parts.password):
        raise ValidationError("invalid bridge base URL: http(s)://host[/prefix], no query, fragment or credentials")
    return url.rstrip("/")


class FastBridgeClient:
    """The proxy's eleven operations, with o2-sdk's names, arguments and results.

    Args:
        base_url: ``"mainnet"``, ``"testnet"`` or the proxy root (``https://bridge.o2.app``).
        timeout: seconds (or a ``(connect, read)`` pair), default 30.
        session: a ``requests.Session`` to borrow (not closed by :meth:`close`).

    >>> FastBridgeClient("testnet").base_url
    'https://bridge.testnet.o2.app'
    """

    def __init__(self, base_url: str, *, timeout: Any = DEFAULT_TIMEOUT, session: Any = None) -> None:
        self.base_url = bridge_base_url(base_url)
        self.timeout = check_timeout(timeout)
        self._session = session
        self._owns_session = session is None
        self._session_lock = threading.Lock()  # threads sharing a fresh client make one session, not one each

    # --- plumbing ---------------------------------------------------------------------------

    def _http(self) -> Any:
        with self._session_lock:
            if self._session is None:
                import requests  # lazy like o2lite.Client: `import o2lite.bridge` stays cheap
                from requests.adapters import HTTPAdapter

                session = requests.Session()
                for prefix in ("http://", "https://"):
                    session.mount(prefix, HTTPAdapter(max_retries=0))  # one attempt, not even a connect retry
                session.headers.update({"User-Agent": f"o2lite/{__version__}", "Accept": "application/json"})
                self._session = session
            return self._session

    def close(self) -> None:
        """Close the session this client made (a borrowed one is left open)."""
        with self._session_lock:
            if self._owns_session and self._session is not None:
                self._session.close()
                self._session = None

    def __enter__(self) -> "FastBridgeClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _request(self, method: str, path: str, model: Type[T], *, query: Optional[Dict[str, Any]] = None,
                 body: Optional[m.BridgeModel] = None,
                 ambiguous: Optional[Callable[..., BridgeSubmissionUnknown]] = None) -> T:
        """Send once; classify the answer in one place. ``ambiguous`` builds the error for a submit
        whose outcome is unknown (no answer after sending, a 5xx, an unreadable 2xx)."""
        import requests

        url = self.base_url + path
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        where: Dict[str, Any] = {"method": method, "url": url}

        def fail(status: Optional[int], code: str, message: str, details: Any = None, payload: Any = None) -> BridgeApiError:
            unknown = ambiguous is not None and (code == NO_RESPONSE or (status is not None and status >= 500)
                                                 or (status is not None and 200 <= status < 300))
            if unknown:
                assert ambiguous is not None
                return ambiguous(status, code, message, details, body=payload, **where)
            return BridgeApiError(status, code, message, details, body=payload, **where)

        try:
            response = self._http().request(method, url, params=params or None,
                                            json=body.to_json() if body is not None else None,
                                            timeout=self.timeout, allow_redirects=False, stream=True)
        except requests.RequestException as exc:
            failure = ExchangeFailed(stage_of(exc), exc)  # "was it sent?": the one rule, o2lite/_sent.py
            if ambiguous is not None and failure.stage.sent:
                raise fail(None, NO_RESPONSE, describe(failure, url)) from exc
            raise O2ConnectionError(describe(failure, url), may_have_landed=failure.stage.sent and method != "GET",
                                    **where) from exc
        status = response.status_code
        try:
            raw = read_capped(response, read_deadline(self.timeout))
        except (TooLarge, requests.RequestException) as exc:
            raise fail(status, INVALID_RESPONSE, f"Bridge answer unreadable: {str(exc)[:120]}") from exc
        finally:
            response.close()
        try:
            payload = json_loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise fail(status, INVALID_RESPONSE, "Bridge returned non-JSON response", payload=raw[:200].decode(
                "utf-8", "replace")) from exc
        if not 200 <= status < 300:
            error = payload.get("error", {}) if isinstance(payload, dict) else {}
            error = error if isinstance(error, dict) else {}
            code, message = error.get("code"), error.get("message")
            raise fail(status, code if isinstance(code, str) else HTTP_ERROR,
                       message if isinstance(message, str) else "Bridge request failed", error.get("details"),
                       payload=payload)
        if not isinstance(payload, dict):
            raise fail(status, INVALID_RESPONSE, "Bridge response must be an object", payload=payload)
        try:
            return model.from_json(payload)
        except ValueError as exc:
            raise fail(status, INVALID_RESPONSE, f"Malformed bridge response: {exc}", payload=payload) from exc

    # --- operations -------------------------------------------------------------------------

    def get_info(self) -> m.InfoResponse:
        """``GET /v1/info``: environment, proof TTL, the Fuel chain and contracts, the EVM chains."""
        return self._request("GET", "/v1/info", m.InfoResponse)

    def get_assets(self, chain_id: Optional[int] = None) -> m.AssetsResponse:
        """``GET /v1/assets?chainId``: bridgeable assets and their routes (all chains when ``None``)."""
        return self._request("GET", "/v1/assets", m.AssetsResponse, query={"chainId": chain_id})

    def get_deposit_info(self, source_chain_id: int, asset_id: Optional[str] = None,
                         amount: Optional[str] = None) -> m.DepositInfoResponse:
        """``GET /v1/deposit/info?sourceChainId&assetId&amount``: route, Messenger, caps, eligibility."""
        return self._request("GET", "/v1/deposit/info", m.DepositInfoResponse,
                             query={"sourceChainId": source_chain_id, "assetId": asset_id, "amount": amount})

    def prepare_deposit(self, request: m.DepositPrepareRequest) -> m.DepositPrepareResponse:
        """``POST /v1/deposit/prepare``: the unsigned EVM transaction and its preparation proof.

        Inspect it (:func:`~o2lite.bridge.evm.parse_evm_unsigned_transaction`) before signing.
        """
        return self._request("POST", "/v1/deposit/prepare", m.DepositPrepareResponse, body=request)

    def submit_deposit(self, request: m.SubmitRequest) -> m.DepositSubmitResponse:
        """``POST /v1/deposit/submit`` (202): hand the signed deposit to the proxy, once.

        Raises:
            BridgeSubmissionUnknown: it may have been accepted; carries ``source_chain_id`` and the
                ``evm_tx_hash`` (computed offline) to check with :meth:`get_deposit_status`.
            BridgeApiError: the proxy refused it.
        """
        def ambiguous(*args: Any, **kw: Any) -> BridgeSubmissionUnknown:
            chain, tx_hash = None, None
            try:
                chain = parse_evm_unsigned_transaction(request.unsigned_transaction).chain_id
                tx_hash = deposit_transaction_hash(request.unsigned_transaction, request.signature)
            except ValidationError:
                pass  # not a deposit we could read: the error still says "check the status"
            return BridgeSubmissionUnknown(*args, operation="deposit", source_chain_id=chain, evm_tx_hash=tx_hash, **kw)

        return self._request("POST", "/v1/deposit/submit", m.DepositSubmitResponse, body=request, ambiguous=ambiguous)

    def get_deposit_status(self, source_chain_id: int, evm_tx_hash: str) -> m.DepositStatusResponse:
        """``GET /v1/deposit/status?sourceChainId&evmTxHash``. A 404 ``TRANSACTION_NOT_FOUND`` means
        "not seen yet", not "failed"."""
        return self._request("GET", "/v1/deposit/status", m.DepositStatusResponse,
                             query={"sourceChainId": source_chain_id, "evmTxHash": evm_tx_hash})

    def get_withdraw_info(self, destination_chain_id: int, asset_id: Optional[str] = None,
                          amount: Optional[str] = None) -> m.WithdrawInfoResponse:
        """``GET /v1/withdraw/info?destinationChainId&assetId&amount``: route, contracts, fees, limits."""
        return self._request("GET", "/v1/withdraw/info", m.WithdrawInfoResponse,
                             query={"destinationChainId": destination_chain_id, "assetId": asset_id,
                                    "amount": amount})

    def get_withdraw_fee(self, destination_chain_id: int, asset_id: str) -> m.WithdrawFeeResponse:
        """``GET /v1/withdraw/fee?destinationChainId&assetId``: the current fee quote."""
        return self._request("GET", "/v1/withdraw/fee", m.WithdrawFeeResponse,
                             query={"destinationChainId": destination_chain_id, "assetId": asset_id})

    def prepare_withdraw(self, request: m.WithdrawPrepareRequest) -> m.WithdrawPrepareResponse:
        """``POST /v1/withdraw/prepare``: the unsigned Fuel transaction, ``fuelChainId`` and the proof.

        Inspect it (:func:`~o2lite.bridge.fuel.parse_fuel_unsigned_transaction`) with a chain id and
        ``maxInputs`` you trust before signing.
        """
        return self._request("POST", "/v1/withdraw/prepare", m.WithdrawPrepareResponse, body=request)

    def submit_withdraw(self, request: m.SubmitRequest) -> m.WithdrawSubmitResponse:
        """``POST /v1/withdraw/submit``: hand the signed withdrawal to the proxy, once.

        Raises:
            BridgeSubmissionUnknown: it may have been accepted: check :meth:`get_withdraw_status`
                with the id you computed (:func:`o2lite.bridge.withdraw` fills ``fuel_tx_id`` in).
            BridgeApiError: the proxy refused it.
        """
        def ambiguous(*args: Any, **kw: Any) -> BridgeSubmissionUnknown:
            return BridgeSubmissionUnknown(*args, operation="withdraw", **kw)

        return self._request("POST", "/v1/withdraw/submit", m.WithdrawSubmitResponse, body=request,
                             ambiguous=ambiguous)

    def get_withdraw_status(self, fuel_tx_id: str) -> m.WithdrawStatusResponse:
        """``GET /v1/withdraw/status?fuelTxId``. A 404 ``TRANSACTION_NOT_FOUND`` means "not seen yet"."""
        return self._request("GET", "/v1/withdraw/status", m.WithdrawStatusResponse, query={"fuelTxId": fuel_tx_id})
