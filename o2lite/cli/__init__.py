"""The command line: ``python -m o2lite …`` or ``o2lite …``.

- :mod:`~o2lite.cli.main`: the parser, global options and dispatch (:func:`main`).
- :mod:`~o2lite.cli.account`, :mod:`~o2lite.cli.market`, :mod:`~o2lite.cli.trading`,
  :mod:`~o2lite.cli.watch`: one module per command group.
- :mod:`~o2lite.cli.output`: tables, JSON and one-line errors.
- :mod:`~o2lite.cli.demo`: the offline demo (``python -m o2lite demo``).

The command line sits on top: it imports the library, never the other way round.
"""

from .main import build_parser, main

__all__ = ["main", "build_parser"]
