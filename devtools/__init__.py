"""Development tooling shared by `make dev`, the test suite and the benchmark (not shipped in the image)."""
