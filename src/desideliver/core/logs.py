"""JSON log lines: the app's records and gunicorn's access log share one shape."""

import json
import logging
import time
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


class CacheOutageFilter(logging.Filter):
    """django-redis logs every failed cache call at ERROR with a traceback, so an outage of Redis
    (which the API rides out: it serves from PostgreSQL) would flood the log with errors. Keep one
    WARNING line per interval and process, naming the error, without the traceback."""

    def __init__(self, interval_seconds: float = 10.0) -> None:
        super().__init__()
        self.interval_seconds = interval_seconds
        self.last_logged = -interval_seconds
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if now - self.last_logged < self.interval_seconds:
            self.suppressed += 1
            return False
        error = record.exc_info[1] if record.exc_info else None
        reason = f"{type(error).__name__}: {error}" if error else record.getMessage()
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg = "cache unavailable, serving without it (%s; %d more failures since the last report)"
        record.args = (reason, self.suppressed)
        record.exc_info = record.exc_text = None
        self.last_logged, self.suppressed = now, 0
        return True
