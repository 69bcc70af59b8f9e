"""Startup check of `desideliver serve`: the media volume must be writable when files are stored on it.

Only `serve` asks (cli.py): `migrate` and the worker never touch media, so they need no volume.
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage


def media_root_problem() -> str | None:
    if not isinstance(default_storage, FileSystemStorage):
        return None
    root = settings.MEDIA_ROOT
    if os.path.isdir(root) and os.access(root, os.W_OK | os.X_OK):
        return None
    return (
        f"MEDIA_ROOT={root} is not a writable directory: mount the media volume there, "
        "writable by the service's user (uid 10001 in the image)"
    )
