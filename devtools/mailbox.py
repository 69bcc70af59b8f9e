"""A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread) that keeps what it accepts, and when it arrived.

For the tests (tests/mailbox.py re-exports it) and the benchmark's worker scenario (bench/worker.py).

`refuse_recipients` answers every RCPT TO with 550. `hold_first_recipient` parks the first delivery
at RCPT TO, before any message data moves, so a test can kill or stop the sending process while it
is in the middle of a delivery.
"""

from __future__ import annotations

import asyncio
import threading
import time
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self, *, hold_first_recipient: bool = False, refuse_recipients: bool = False) -> None:
        self.messages: list[Message] = []
        self.arrived_at: list[float] = []  # time.monotonic() at the end of each message's DATA, same order
        self.held = threading.Event()  # the first delivery reached RCPT TO and waits
        self.release = threading.Event()
        self._hold = hold_first_recipient
        self._refuse = refuse_recipients
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self._hold:
            self._hold = False
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        if self._refuse:
            return f"550 5.1.1 <{address}>: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._arrived:
            self.messages.append(message_from_bytes(envelope.content))
            self.arrived_at.append(time.monotonic())
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        with self._lock:
            return [str(message["Subject"]) for message in self.messages]

    def wait_for(self, count: int, timeout: float) -> float:
        """Seconds until `count` messages arrived; raises after `timeout`."""
        started = time.monotonic()
        while len(self.messages) < count:
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{len(self.messages)} of {count} messages within {timeout}s: {self.subjects()}")
            time.sleep(0.02)
        return time.monotonic() - started

    def arrival(self, subject: str, timeout: float) -> float | None:
        """time.monotonic() when the first message with `subject` arrived; None if none within `timeout`."""

        def first() -> float | None:
            matching = (
                at for message, at in zip(self.messages, self.arrived_at, strict=True) if message["Subject"] == subject
            )
            return next(matching, None)

        with self._arrived:
            self._arrived.wait_for(lambda: first() is not None, timeout)
            return first()


class SMTPServer:
    """`with SMTPServer(port, mailbox):` listens on 127.0.0.1:port until the block ends."""

    def __init__(self, port: int, mailbox: Mailbox) -> None:
        self.controller = Controller(mailbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
