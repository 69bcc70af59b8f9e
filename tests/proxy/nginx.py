"""The proxy under Debian's nginx for the tests: devtools.nginx (bench/ uses it too), skipping without nginx."""

import os

import pytest
from devtools.nginx import MISSING, NginxMissing, Proxy, nginx_binary, running, shared_directory

__all__ = ["Proxy", "find_nginx", "nginx_binary", "running", "shared_directory"]


def find_nginx() -> str:
    try:
        from devtools.nginx import find_nginx as find

        return find()
    except NginxMissing:
        # .ci/run installs nginx: there a missing one is a failure, not a skip.
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(MISSING)
        raise
