"""Run in a child process: load the production settings from a given environment, and report.

    python -m tests.kubernetes.settings_probe < request.json

The request names the environment (what a container gets) and GET requests to make through
Django's test client, and (peer address, X-Forwarded-For) pairs. The answer (stdout, JSON): every
variable name the app read through its settings reader (`desideliver.settings.environment.config`,
gunicorn's options included), the configuration problems (the message the service would stop
with, or null), gunicorn's options, each request's status, and the client address the throttles
(`throttling.throttles.client_address`) take for each pair. Nothing is mocked: the reader is the
app's own, only observed.
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
    client_addresses: list[str] = []
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
        client_addresses = [client_address(peer, forwarded) for peer, forwarded in request.get("forwarded", [])]
    answer: dict[str, Any] = {
        "read": sorted(read),
        "problems": problems,
        "gunicorn": {key: options[key] for key in ("workers", "graceful_timeout", "timeout", "bind")},
        "statuses": statuses,
        "client_addresses": client_addresses,
    }
    print(json.dumps(answer))


def client_address(peer: str, forwarded_for: str) -> str:
    from django.test import RequestFactory
    from rest_framework.request import Request

    from desideliver.throttling.throttles import client_address

    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded_for)
    return client_address(Request(request))


if __name__ == "__main__":
    main()
