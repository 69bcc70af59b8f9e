"""compose.yaml's stack as a user runs it: a checkout's Makefile and compose files, make targets.

Each Stack is a scratch project directory holding copies of PROJECT_FILES (what `make up` reads),
a `.env` made from .env.example plus the stand-in image names, random loopback ports and its
own project name, so several stacks (and other people's) never collide. Add a file to
PROJECT_FILES when compose.yaml starts to read it (a proxy's config, say).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import port_for

from tests.container.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("Makefile", "compose.yaml", "compose.dev.yaml", ".env.example", "pyproject.toml")


@dataclass
class Stack:
    engine: Engine
    directory: Path
    project: str
    web_port: int  # WEB_PORT: the published port, which is the proxy's (web itself is not published)
    dev_ports: dict[str, int]

    @classmethod
    def create(cls, engine: Engine, directory: Path, images: dict[str, str], **settings: str) -> Stack:
        for name in PROJECT_FILES:
            shutil.copy2(ROOT / name, directory / name)
        stack = cls(
            engine,
            directory,
            project=f"desideliver-test-{secrets.token_hex(3)}",
            web_port=port_for.select_random(),
            dev_ports={"db": port_for.select_random(), "redis": port_for.select_random()},
        )
        values = {
            **images,
            "COMPOSE_PROJECT_NAME": stack.project,
            "WEB_PORT": str(stack.web_port),
            "POSTGRES_DEV_PORT": str(stack.dev_ports["db"]),
            "REDIS_DEV_PORT": str(stack.dev_ports["redis"]),
            **settings,
        }
        stack.write_env(values)
        return stack

    def write_env(self, values: dict[str, str]) -> None:
        """.env = .env.example (as README says: cp .env.example .env) with `values` appended."""
        example = (self.directory / ".env.example").read_text()
        (self.directory / ".env").write_text(example + "\n" + "".join(f"{k}={v}\n" for k, v in values.items()))

    def make(
        self, *arguments: str, timeout: float = 300, check: bool = True, **options: Any
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["make", "--no-print-directory", "-C", str(self.directory), *arguments],
            capture_output=True, text=True, timeout=timeout, env=self.engine.environment, stdin=subprocess.DEVNULL,
            **options,
        )  # fmt: skip
        if check and result.returncode != 0:
            logs = self.compose("logs", "--no-color", "--tail", "30", check=False).stdout
            raise AssertionError(
                f"make {' '.join(arguments)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
                f"the stack's last log lines:\n{logs}"
            )
        return result

    def compose(self, *arguments: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`docker compose ARGS` in the project directory (it reads .env and COMPOSE_FILE there)."""
        result = subprocess.run(
            [self.engine.docker, "compose", *arguments],
            capture_output=True, text=True, timeout=timeout, env=self.engine.environment, cwd=self.directory,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def container(self, service: str) -> dict[str, Any]:
        identifier = self.compose("ps", "--all", "--quiet", service).stdout.split()[0]
        return self.engine.inspect("container", identifier)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    def request(self, path: str, *, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url(path), data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode(errors="replace")

    def wait_for(self, path: str, status: int, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        last: tuple[int, Any] | None = None
        while time.monotonic() < deadline:
            try:
                last = self.request(path)
                if last[0] == status:
                    return last[1]
            except OSError as error:
                last = (0, repr(error))
            time.sleep(0.5)
        raise AssertionError(f"{path} did not answer {status} within {timeout}s; last: {last}")

    def wait_healthy(self, service: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.container(service)["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                return
            time.sleep(0.5)
        raise AssertionError(f"{service} not healthy within {timeout}s: {self.container(service)['State']}")

    def logs(self, service: str) -> list[str]:
        """What `make logs SERVICE=…` prints so far, without compose's `web-1  | ` prefix."""
        process = subprocess.Popen(
            ["make", "--no-print-directory", "-s", "-C", str(self.directory), "logs", f"SERVICE={service}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.engine.environment,
            start_new_session=True,
        )  # fmt: skip
        time.sleep(5)  # `make logs` follows: stop it once it has printed what there is
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        return [line.split("| ", 1)[1] for line in output.splitlines() if "| " in line]

    def sql(self, query: str) -> str:
        """psql in the db container, as the Makefile's targets run it (one value per line)."""
        command = ["exec", "-T", "db", "sh", "-c", f'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "{query}"']
        return self.compose(*command).stdout.strip()

    def memory_mib(self, services: tuple[str, ...]) -> dict[str, float]:
        """`docker stats` memory of these services' containers, in MiB."""
        names = {self.container(s)["Name"].lstrip("/"): s for s in services}
        output = self.engine.run("stats", "--no-stream", "--format", "{{json .}}", *names).stdout
        units = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}
        usage = {}
        for line in output.splitlines():
            row = json.loads(line)
            value, unit = re.match(r"([\d.]+)(\w+)", row["MemUsage"]).groups()  # type: ignore[union-attr]
            usage[names[row["Name"]]] = round(float(value) * units[unit], 1)
        return usage

    def down(self) -> None:
        """Remove the containers, networks and volumes (-v): nothing of this stack stays in the engine."""
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "10", check=False)
