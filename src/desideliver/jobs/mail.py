"""E-mail from jobs: any failure raises, so the job is retried instead of the message being lost."""

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
    message.send()
