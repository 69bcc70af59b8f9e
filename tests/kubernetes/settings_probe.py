"""Run in a child process: load the production settings from a given environment, and report.

    python -m tests.kubernetes.settings_probe < request.json

The request names the environment (what a container gets) and GET requests to make through
Django's test client. The answer (stdout, JSON): every variable name the app read through its
settings reader (`desideliver.settings.environment.config`, gunicorn's options included), the
configuration problems (the message the service would stop with, or null), gunicorn's options
and each request's status. Nothing is mocked: the reader is the app's own, only observed.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def main() -> None:
    request = json.load(sys.stdin)
    os.environ.clear()
    os.environ.update(request["environment"])

    from desideliver.settings import environment

    read: set[str] = set()
    lookup, contains = environment.SecretFileMapping.__getitem__, environment.SecretFileMapping.__contains__

    def observed_lookup(self: environment.SecretFileMapping, key: str) -> str:
        read.add(key)
        return lookup(self, key)

    def observed_contains(self: environment.SecretFileMapping, key: object) -> bool:
        read.add(str(key))
        return contains(self, key)

    environment.SecretFileMapping.__getitem__ = observed_lookup  # type: ignore[method-assign]
    environment.SecretFileMapping.__contains__ = observed_contains  # type: ignore[method-assign]

    from desideliver import gunicorn_conf

    options = gunicorn_conf.options()
    problems = None
    statuses: list[int] = []
    try:
        import django

        django.setup()
    except environment.ConfigurationError as error:
        problems = str(error)
    else:
        from django.test import Client

        client = Client()
        for path, host in request.get("get", []):
            statuses.append(client.get(path, headers={"Host": host}).status_code)
    answer: dict[str, Any] = {
        "read": sorted(read),
        "problems": problems,
        "gunicorn": {key: options[key] for key in ("workers", "graceful_timeout", "timeout", "bind")},
        "statuses": statuses,
    }
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
