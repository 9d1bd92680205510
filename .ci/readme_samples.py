"""Write every ``.. code-block:: python`` of README.rst to DIR/sample_N.py (for mypy --strict)."""

import pathlib
import re
import sys

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
readme = (pathlib.Path(__file__).parent.parent / "README.rst").read_text()
blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", readme)
for index, block in enumerate(blocks):
    (out / f"sample_{index}.py").write_text(re.sub(r"^    ", "", block, flags=re.M))
print(f"{len(blocks)} README samples written to {out}")
