"""Headless Chromium over the DevTools protocol (a pipe, no extra library), with the network cut.

    with Chromium() as browser:
        page = browser.open("http://127.0.0.1:8000/api/docs/")
        page.wait_for("document.querySelectorAll('.opblock').length", timeout=30)
        page.screenshot(path)

Every host name but 127.0.0.1 resolves to nothing and every proxied request goes to a dead
port, so a page that needs a CDN fails to render. Each page records what the browser fetched
(`requests`), console errors and CSP violations (`violations`, from `securitypolicyviolation`
events, which a script injected through the protocol sees without being subject to the policy).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_HINT = "install Chromium (Debian: apt install chromium)"
OFFLINE_FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # loopback is never proxied; anything else hits a closed port
]
QUIET_FLAGS = [
    "--headless",
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
RECORD_VIOLATIONS = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation', e =>"
    " window.__violations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));"
)


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"no Chromium on PATH: {CHROMIUM_HINT}")


class DevToolsPipe:
    """CDP messages over fds 3 (to the browser) and 4 (from it), NUL-separated JSON."""

    def __init__(self, argv: list[str]) -> None:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def place_fds() -> None:
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        self.process = subprocess.Popen(
            argv, preexec_fn=place_fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._next_id = 0
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._from_browser, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._replies.setdefault(message["id"], queue.Queue()).put(message)
                    else:
                        self.events.put(message)

    def send(self, method: str, session: str | None = None, timeout: float = 30, **params: Any) -> dict[str, Any]:
        with self._lock:
            self._next_id += 1
            command_id = self._next_id
            self._replies.setdefault(command_id, queue.Queue())
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        try:
            reply = self._replies[command_id].get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"Chromium did not answer {method} within {timeout}s") from None
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError, RuntimeError):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)


class Page:
    def __init__(self, pipe: DevToolsPipe, session: str) -> None:
        self.pipe, self.session = pipe, session
        self.requests: list[str] = []
        self.console_errors: list[str] = []

    def _drain_events(self) -> None:
        while True:
            try:
                event = self.pipe.events.get_nowait()
            except queue.Empty:
                return
            if event.get("sessionId") != self.session:
                continue
            params = event.get("params", {})
            if event["method"] == "Network.requestWillBeSent":
                self.requests.append(params["request"]["url"])
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                self.console_errors.append(params["entry"]["text"])
            elif event["method"] == "Runtime.consoleAPICalled" and params["type"] == "error":
                self.console_errors.append(
                    " ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"])
                )
            elif event["method"] == "Runtime.exceptionThrown":
                self.console_errors.append(params["exceptionDetails"].get("text", "exception"))

    def evaluate(self, expression: str) -> Any:
        result = self.pipe.send("Runtime.evaluate", self.session, expression=expression, returnByValue=True)
        self._drain_events()
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll until `expression` is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        where = self.evaluate("location.href + ': ' + (document.body ? document.body.innerText.slice(0, 300) : '')")
        raise AssertionError(f"{expression} still falsy after {timeout}s at {where}; errors: {self.console_errors}")

    @property
    def violations(self) -> list[str]:
        return list(self.evaluate("window.__violations || []"))

    def settle(self, seconds: float = 1.0) -> None:
        """Let late requests, styles and workers run, then collect their events."""
        time.sleep(seconds)
        self._drain_events()

    def screenshot(self, path: Path) -> Path:
        data = self.pipe.send("Page.captureScreenshot", self.session, format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path


class Chromium:
    def __init__(self, width: int = 1280, height: int = 900) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="desideliver-chromium-"))
        self.argv = [
            find_chromium(),
            *QUIET_FLAGS,
            *OFFLINE_FLAGS,
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.pipe: DevToolsPipe | None = None

    def __enter__(self) -> Chromium:
        self.pipe = DevToolsPipe(self.argv)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self.pipe is not None
        self.pipe.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def open(self, url: str, timeout: float = 30) -> Page:
        """A new tab at `url`, loaded (the load event fired), recording requests, errors and violations."""
        assert self.pipe is not None
        target = self.pipe.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.pipe.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.pipe.send(f"{domain}.enable", session)
        self.pipe.send("Page.addScriptToEvaluateOnNewDocument", session, source=RECORD_VIOLATIONS)
        page = Page(self.pipe, session)
        self.pipe.send("Page.navigate", session, url=url)
        page.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'", timeout)
        return page
