"""The DesiDeliver benchmark: `make bench` (or `python -m bench`), see docs/performance.md."""

import sys
from pathlib import Path

# devtools/ sits beside bench/ at the repository's root, which is not on the path when only bench is.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
