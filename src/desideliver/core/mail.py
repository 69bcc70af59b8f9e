"""Production's mail backend when no EMAIL_URL is set: one log line per message, no content.

Django's console backend (the local default) prints each message whole: the customer's
address and order lines would land in the production log. This one records only that a
message was not sent, with its subject and recipient count, so the log keeps no personal data.
"""

import logging
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger("desideliver.mail")


class LogOnlyEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            logger.warning(
                "email not sent (no EMAIL_URL configured): subject %r, %d recipient(s)",
                message.subject,
                len(message.recipients()),
            )
        return 0
