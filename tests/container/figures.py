"""Figures the container tests measure (times, memory, sizes), for docs/operations.md and
docs/performance.md: kept in $DESIDELIVER_TEST_CACHE/container-figures.json with the date and
the machine of the last measurement."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime

from tests.container import rootfs

PATH = rootfs.CACHE / "container-figures.json"


def record(name: str, value: float) -> None:
    PATH.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(PATH.read_text()) if PATH.exists() else {}
    data.setdefault("figures", {})[name] = value
    data["measured"] = datetime.now(UTC).isoformat(timespec="seconds")
    data["machine"] = f"{platform.node()}: {os.cpu_count()} cores, {platform.platform()}"
    PATH.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
