"""JSON log lines: the app's records and gunicorn's access log share one shape."""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the current request's id."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class GunicornAccessJsonFormatter(logging.Formatter):
    """gunicorn logs each request with its atoms dict as the record's args; keep the useful ones."""

    def format(self, record: logging.LogRecord) -> str:
        atoms = record.args if isinstance(record.args, dict) else {}
        status = atoms.get("s", "-")
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": "INFO",
                "logger": "access",
                "method": atoms.get("m"),
                "path": atoms.get("U"),
                "query": atoms.get("q") or None,
                "status": int(status) if str(status).isdigit() else status,
                "duration_ms": round(int(atoms.get("D", 0)) / 1000, 2),
                "bytes": atoms.get("B"),
                "remote": atoms.get("h"),
                "request_id": atoms.get("{x-request-id}o"),
                "user_agent": atoms.get("a"),
            }
        )
