"""Request bodies and uploaded media: how big, where they are stored, how the proxy is handed them.

Product images are public at MEDIA_URL + "products/…" (the proxy serves that directory of the
volume read-only); ticket attachments live under "attachments/…" and reach a client only through
the app's authenticated download view (docs/media.md).
"""

from desideliver.settings.environment import config

# Request bodies above this are refused with 413 before any view reads them.
DATA_UPLOAD_MAX_MEMORY_SIZE = config.int("MAX_REQUEST_BODY_BYTES", default=256 * 1024, minimum=1024)

# The largest image file one upload may carry (a ticket attachment or a product image).
MAX_ATTACHMENT_BYTES = config.int("MAX_ATTACHMENT_BYTES", default=5 * 1024 * 1024, minimum=1024)
MAX_ATTACHMENTS_PER_MESSAGE = 3
# Width times height, refused before decoding: a small file can decode to gigabytes (a decompression bomb).
MAX_IMAGE_PIXELS = config.int("MAX_IMAGE_PIXELS", default=25_000_000, minimum=1)
# Larger images are scaled down to this many pixels on their longer side (media/images.py).
MAX_IMAGE_SIDE = config.int("MAX_IMAGE_SIDE", default=2560, minimum=64)
# The body limit of the upload routes only (core/middleware.py): the files plus the form's text.
UPLOAD_REQUEST_BODY_BYTES = MAX_ATTACHMENTS_PER_MESSAGE * MAX_ATTACHMENT_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE
# Uploads stay in memory (bounded by the limit above): the container's only writable /tmp is small.
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_REQUEST_BODY_BYTES
FILE_UPLOAD_PERMISSIONS = 0o644  # readable by the proxy's own user, through its read-only mount
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o755

MEDIA_URL = "/media/"
MEDIA_ROOT = config.str("MEDIA_ROOT", default="/var/lib/desideliver/media")
# Non-empty (the stack: /internal-media/): the download view answers with X-Accel-Redirect to
# this internal proxy location; empty (make dev, no proxy): the view streams the file itself.
MEDIA_ACCEL_REDIRECT_PREFIX = config.str("MEDIA_ACCEL_REDIRECT_PREFIX", default="")
config.require(
    "MEDIA_ACCEL_REDIRECT_PREFIX",
    not MEDIA_ACCEL_REDIRECT_PREFIX
    or (MEDIA_ACCEL_REDIRECT_PREFIX.startswith("/") and MEDIA_ACCEL_REDIRECT_PREFIX.endswith("/")),
    "must start and end with / (like /internal-media/), or be empty to stream files from the app",
)
# STORAGES["default"]: the volume, or any Django storage (an S3-compatible one: docs/media.md).
MEDIA_STORAGE = {
    "BACKEND": config.str("MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
    "OPTIONS": config.json("MEDIA_STORAGE_OPTIONS", default={}),
}
config.require("MEDIA_STORAGE_OPTIONS", isinstance(MEDIA_STORAGE["OPTIONS"], dict), "must be a JSON object")
config.require(
    "MEDIA_ACCEL_REDIRECT_PREFIX",
    not MEDIA_ACCEL_REDIRECT_PREFIX or MEDIA_STORAGE["BACKEND"] == "django.core.files.storage.FileSystemStorage",
    "must be empty with another MEDIA_STORAGE_BACKEND: the proxy can only hand over files on its own disk",
)
