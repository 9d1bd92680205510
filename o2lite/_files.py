"""Writing a JSON file atomically: a temporary file beside it, then a rename.

A reader never sees a half-written file, and a failed write leaves no temporary file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Optional

__all__ = ["write_json_atomic"]


def write_json_atomic(path: str, data: Any, *, prefix: str, mode: Optional[int] = None) -> None:
    """Write ``data`` as JSON to ``path`` via ``<dir>/<prefix>…`` and ``os.replace``; ``mode``
    (e.g. ``0o600``) is set before any byte is written."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
