"""``python -m o2lite``: the command line."""

import sys

from .cli import main

sys.exit(main())
