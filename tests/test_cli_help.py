"""Help that teaches (issue 21): every option and positional has help, every command an example,
the global options are described once, and help fits 80 columns."""

from __future__ import annotations

import argparse

import pytest

from o2lite.cli.main import build_parser


def _leaves(parser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _leaves(child, path + (name,))
            return
    yield path, parser


LEAVES = list(_leaves(build_parser()))


@pytest.mark.parametrize("path,parser", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_command_has_help_an_example_and_fits_80_columns(path, parser, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction) or path[0] == "bridge":
            continue
        assert action.help, f"{' '.join(path)}: {action.option_strings or action.dest} has no help text"
    text = parser.format_help()
    if path[0] != "bridge":  # the bridge wing brings its own help
        assert "example:\n  o2lite " in text
    assert "--key-file FILE" not in text.split("global options")[0] or path == ()  # described once, in o2lite --help
    assert all(len(line) <= 80 for line in text.splitlines()), [line for line in text.splitlines() if len(line) > 80]


def test_the_global_options_are_described_once_at_the_top(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    top = build_parser().format_help()
    assert "--key-file FILE" in top and "your key file (env O2LITE_KEY_FILE)" in top
    leaf = dict(LEAVES)[("order", "place")].format_help()
    assert "your key file" not in leaf and "see `o2lite --help`" in leaf


def test_order_tables_fit_80_columns(tmp_path, capsys, monkeypatch):
    """`orders` with a cancelled order (82 columns) and `order active` with a take-profit (95)."""
    from o2lite.cli.main import main
    from o2lite.sandbox import Sandbox

    with Sandbox() as sx:
        monkeypatch.setenv("O2LITE_URL", sx.url)
        monkeypatch.setenv("O2LITE_KEY_FILE", str(tmp_path / "k.json"))
        assert main(["wallet", "new", "--out", str(tmp_path / "k.json")]) == 0
        assert main(["setup", "--fund"]) == 0 and main(["session", "open", "--markets", "FUEL/USDC"]) == 0
        assert main(["order", "place", "FUEL/USDC", "Buy", "0.0110", "100000", "--take-profit", "0.0200"]) == 0
        assert main(["order", "place", "FUEL/USDC", "Buy", "0.0105", "130"]) == 0
        assert main(["order", "cancel-all", "FUEL/USDC"]) == 0
        assert main(["order", "place", "FUEL/USDC", "Buy", "0.0110", "100000", "--take-profit", "0.0200"]) == 0
        capsys.readouterr()
        for command in (["orders", "FUEL/USDC"], ["order", "active", "FUEL/USDC"]):
            assert main(command) == 0
            lines = capsys.readouterr().out.splitlines()
            assert len(lines) >= 3 and all(len(line) <= 80 for line in lines), "\n".join(lines)


@pytest.mark.parametrize("hours", ["nan", "inf", "1e400", "-5", "0", "99999999"])
def test_bars_hours_out_of_range_is_a_usage_error_naming_the_flag(hours, capsys, monkeypatch):
    from o2lite.cli.main import main
    from o2lite.sandbox import Sandbox

    with Sandbox() as sx:
        monkeypatch.setenv("O2LITE_URL", sx.url)
        with pytest.raises(SystemExit) as done:
            main(["bars", "FUEL/USDC", "--hours", hours])
        assert done.value.code == 2
    err = capsys.readouterr().err
    assert "--hours" in err and "hours above 0, at most" in err and "Error" not in err and "9223372036854775807" not in err, err
