"""The proxy under Debian's nginx for the tests: devtools.nginx (bench/ uses it too), skipping without nginx."""

import os

import pytest
from devtools import nginx
from devtools.nginx import Proxy, nginx_binary, running, shared_directory

__all__ = ["Proxy", "find_nginx", "nginx_binary", "running", "shared_directory"]


def find_nginx() -> str:
    try:
        return nginx.find_nginx()
    except nginx.NginxMissing:
        # .ci/run installs nginx: there a missing one is a failure, not a skip.
        if os.environ.get("CI") == "true":
            pytest.fail(nginx.MISSING)
        pytest.skip(nginx.MISSING)
