"""The DesiDeliver benchmark: `make bench` (or `python -m bench`), see docs/performance.md."""
