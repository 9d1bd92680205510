"""The exchange's networks (PROTOCOL §1): a name or any base URL → a :class:`Network`."""

from __future__ import annotations

from typing import Dict, Optional, Union
from urllib.parse import urlsplit

from .errors import ValidationError

__all__ = ["NETWORKS", "Network", "resolve_network"]


class Network:
    """A REST base URL and, on test networks, the faucet URL (PROTOCOL §1)."""

    __slots__ = ("name", "base_url", "faucet_url")

    def __init__(self, name: str, base_url: str, faucet_url: Optional[str]) -> None:
        self.name, self.base_url, self.faucet_url = name, base_url.rstrip("/"), faucet_url

    def __repr__(self) -> str:
        return f"Network({self.name!r}, {self.base_url!r})"


NETWORKS: Dict[str, Network] = {
    "mainnet": Network("mainnet", "https://api.o2.app", None),
    "testnet": Network("testnet", "https://api.testnet.o2.app",
                       "https://fuel-o2-faucet.vercel.app/api/testnet/mint-v2"),
    "devnet": Network("devnet", "https://api.devnet.o2.app",
                      "https://fuel-o2-faucet.vercel.app/api/devnet/mint-v2"),
}


def resolve_network(network_or_url: Union[str, Network], faucet_url: Optional[str] = None) -> Network:
    """A network name (``mainnet``/``testnet``/``devnet``) or any ``http(s)://`` base URL.

    A custom URL (a local sandbox) gets ``faucet_url`` if given, else ``<url>/faucet``.
    """
    if isinstance(network_or_url, Network):
        return network_or_url
    key = str(network_or_url).strip()
    if key.lower() in NETWORKS:
        net = NETWORKS[key.lower()]
        return Network(net.name, net.base_url, faucet_url or net.faucet_url)
    parts = urlsplit(key)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"unknown network {key!r}: use mainnet, testnet, devnet or an http(s):// URL")
    base = key.rstrip("/")
    return Network("custom", base, faucet_url or base + "/faucet")
