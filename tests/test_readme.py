"""The README tells the truth: its commands are the ones CI runs, and its trading script runs."""

from __future__ import annotations

import pathlib
from decimal import Decimal
import re

ROOT = pathlib.Path(__file__).parent.parent
README = (ROOT / "README.rst").read_text()
DEMO = "python -m pip install . && python -m o2lite demo"
TESTS = "python -m pip install -e '.[test]' && python -m pytest -q"


def test_two_commands_and_ci_uses_the_test_command():
    assert DEMO in README and TESTS in README
    assert TESTS in (ROOT / ".ci" / "run").read_text()


def python_blocks():
    return [re.sub(r"^    ", "", block, flags=re.M)
            for block in re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", README)]


def test_trading_script_runs_offline(capsys):
    script = python_blocks()[0]
    assert "Sandbox()" in script and len([ln for ln in script.splitlines() if ln.strip()]) <= 15
    exec(compile(script, "README.rst", "exec"), {})
    order_ids, usdc = capsys.readouterr().out.strip().splitlines()
    assert order_ids.startswith("['0x") and 0 < Decimal(usdc) <= 10_000  # human USDC, not a chain integer
