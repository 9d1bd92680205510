"""The bridge wing: imported only on purpose, everything in ``__all__`` imports, no key in any text."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

MODULES = ["o2lite.bridge", "o2lite.bridge.client", "o2lite.bridge.errors", "o2lite.bridge.models",
           "o2lite.bridge.evm", "o2lite.bridge.fuel", "o2lite.bridge.proof", "o2lite.bridge.signatures",
           "o2lite.bridge.flows", "o2lite.bridge.plan", "o2lite.bridge._reader", "o2lite.sandbox.bridge",
           "o2lite.sandbox.bridge_tx"]


@pytest.mark.parametrize("name", MODULES)
def test_everything_in_all_imports(name):
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr}"


def test_import_o2lite_does_not_load_the_bridge_and_the_bridge_loads_no_network_stack():
    code = ("import sys, o2lite; a = 'o2lite.bridge' in sys.modules; import o2lite.bridge; "
            "print(a, sorted(m for m in ('requests', 'ecdsa', 'o2lite.sandbox') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False []"


def test_no_key_in_plans_errors_or_reprs():
    from o2lite import EvmWallet
    from o2lite.bridge import FastBridgeClient
    from o2lite.bridge.signatures import sign_deposit
    from o2lite.errors import ValidationError

    key = "5a" * 32
    wallet = EvmWallet("0x" + key)
    with pytest.raises(ValidationError) as info:
        sign_deposit(wallet, "0x02c0")
    assert key not in str(info.value) and key not in repr(wallet) and key not in repr(FastBridgeClient("testnet").__dict__)
