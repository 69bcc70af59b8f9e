"""Startup check of `desideliver serve`: the media volume must be writable when files are stored on it.

Only `serve` asks (cli.py): `migrate` and the worker never touch media, so they need no volume. The
check writes and removes a file, which also catches a read-only mount and a volume owned by root.
"""

import tempfile

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage


def media_root_problem() -> str | None:
    if not isinstance(default_storage, FileSystemStorage):
        return None
    root = settings.MEDIA_ROOT
    try:
        with tempfile.NamedTemporaryFile(dir=root, prefix=".desideliver-write-check-"):
            return None
    except OSError as error:
        return (
            f"MEDIA_ROOT={root} is not a writable directory ({error.strerror}): mount the media volume there, "
            "writable by the service's user (uid 10001 in the image)"
        )
