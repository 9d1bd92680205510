"""Write every ``.. code-block:: python`` of README.rst to DIR/sample_N.py and every example to
DIR/example_NAME.py (for mypy --strict). With ``--float-price``, write instead samples that pass
a float price through each front door (they must fail mypy --strict: Decimal, never float)."""

import pathlib
import re
import shutil
import sys

FLOAT_PRICES = '''import o2lite

with o2lite.Client("http://127.0.0.1:8080") as client:
    trader = client.trader(o2lite.Wallet.generate())
    trader.place("FUEL/USDC", "Buy", 0.012, "1000")
    client.trader(o2lite.Wallet.generate(), dry_run=True).place("FUEL/USDC", "Buy", 0.012, "1000")
    trader.batch().place("FUEL/USDC", "Buy", 0.012, "1000")
'''

root = pathlib.Path(__file__).parent.parent
float_price = "--float-price" in sys.argv[1:]
out = pathlib.Path([a for a in sys.argv[1:] if not a.startswith("--")][0])
out.mkdir(parents=True, exist_ok=True)
if float_price:
    (out / "float_prices.py").write_text(FLOAT_PRICES)
    print(f"3 float-price samples written to {out}")
    sys.exit(0)
readme = (root / "README.rst").read_text()
blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", readme)
for index, block in enumerate(blocks):
    (out / f"sample_{index}.py").write_text(re.sub(r"^    ", "", block, flags=re.M))
examples = sorted((root / "examples").glob("*.py"))
for example in examples:
    shutil.copy(example, out / f"example_{example.stem}.py")
print(f"{len(blocks)} README samples and {len(examples)} examples written to {out}")
