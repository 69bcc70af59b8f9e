"""E-mail from jobs: any failure raises, so the job is retried instead of the message being lost."""

import smtplib
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage


def send(*, subject: str, body: str, to: str, message_key: str) -> None:
    """Send one message whose Message-ID derives from `message_key`.

    A job runs at least once: if a worker dies after the mail server accepted the message but
    before the job was marked done, the retry sends it again with the same Message-ID, which mail
    systems use to recognise the duplicate.
    """
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "desideliver.invalid"
    message = EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [to], headers={"Message-ID": f"<{message_key}@{domain}>"}
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        # Its text is the refused addresses: the job's failure is logged, and logs carry no personal data.
        codes = sorted({code for code, _ in error.recipients.values()})
        raise RecipientRefused(f"the mail server refused the recipient (SMTP {', '.join(map(str, codes))})") from None


class RecipientRefused(Exception):
    """The mail server refused the address; retried like any failure (a mailbox may be full for a while)."""
