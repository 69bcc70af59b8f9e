"""The upper bound of the server stack: a WSGI app that does nothing, under `desideliver serve`'s gunicorn options.

Run as `python -m bench.bare_wsgi` with the same environment as the service: only `load()` differs.
"""

from typing import Any

from desideliver import gunicorn_conf
from desideliver.server import Server

BODY = b'{"status":"ok"}'


def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]


class BareServer(Server):
    def load(self) -> Any:
        return application


if __name__ == "__main__":
    BareServer(gunicorn_conf.options()).run()
