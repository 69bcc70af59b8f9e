"""The tests' SMTP server: devtools.mailbox (the benchmark's worker scenario uses it too)."""

from devtools.mailbox import Mailbox, SMTPServer

__all__ = ["Mailbox", "SMTPServer"]
