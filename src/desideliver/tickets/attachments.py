"""Ticket attachments: stored with the message, shown only to the ticket's customer and to staff.

The download view never names a public path. With MEDIA_ACCEL_REDIRECT_PREFIX set (the stack:
`/internal-media/`), it answers with an empty body and `X-Accel-Redirect` to the proxy's internal
location, which reads the file from the volume; without it (make dev, or a storage that is not the
volume) the app streams the file itself.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from rest_framework import status

from desideliver.core.errors import ApplicationError
from desideliver.media.images import CleanImage
from desideliver.tickets.models import TicketAttachment, TicketMessage
from desideliver.users.models import User


@contextmanager
def removed_on_failure() -> Iterator[list[str]]:
    """Collects the names of files stored for a transaction; deletes them if it fails (rolls back)."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


def media_unavailable() -> ApplicationError:
    return ApplicationError(
        "File storage is unavailable; retry shortly.",
        code="media_unavailable",
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
    )


def attach(message: TicketMessage, images: Iterable[CleanImage], stored: list[str]) -> None:
    for image in images:
        attachment = TicketAttachment(
            message=message,
            content_type=image.content_type,
            size=len(image.content),
            width=image.width,
            height=image.height,
        )
        try:
            attachment.file.save(image.file_name, ContentFile(image.content), save=False)
        except OSError:
            raise media_unavailable() from None
        stored.append(attachment.file.name)
        attachment.save()


def visible_attachment(user: User, attachment_id: int) -> TicketAttachment:
    """The attachment if `user` is its ticket's customer or staff; otherwise it does not exist."""
    attachments = TicketAttachment.objects.select_related("message__ticket")
    if not user.is_staff:
        attachments = attachments.filter(message__ticket__customer=user)
    attachment = attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise ApplicationError("No such attachment.", code="not_found", status=status.HTTP_404_NOT_FOUND)
    return attachment


def download_response(attachment: TicketAttachment) -> HttpResponseBase:
    filename = (
        f"ticket-{attachment.message.ticket_id}-attachment-{attachment.pk}.{attachment.file.name.rsplit('.', 1)[-1]}"
    )
    prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX
    if prefix:
        response: HttpResponseBase = HttpResponse(b"", content_type=attachment.content_type)
        response["X-Accel-Redirect"] = prefix + attachment.file.name
        response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    else:
        try:
            stream = attachment.file.open("rb")
        except FileNotFoundError:
            raise ApplicationError(
                "The attachment's file is missing.", code="not_found", status=status.HTTP_404_NOT_FOUND
            ) from None
        except OSError:
            raise media_unavailable() from None
        response = FileResponse(stream, content_type=attachment.content_type, as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response
