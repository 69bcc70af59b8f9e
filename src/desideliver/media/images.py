"""Every uploaded image is decoded and written again by Pillow: JPEG, PNG or WebP in, the same format out.

Only pixels survive. The new file is written from the decoded pixels alone, so EXIF (GPS position,
camera serial), ICC profiles, text chunks, comments and anything after the image data (an HTML or
ZIP tail: a polyglot file) are gone. EXIF orientation is applied to the pixels first, so a phone
photo stays upright. An animated image keeps its first frame.

Images wider or taller than MAX_IMAGE_SIDE are scaled down to it, which bounds both the stored
size and a worker's memory: a JPEG is decoded at a reduced scale straight away, so a 12-megapixel
photo never occupies its full 36 MB in memory.
"""

import io
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow format name → (content type, file extension).
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
SAVE_OPTIONS: dict[str, dict[str, object]] = {"JPEG": {"quality": 88}, "PNG": {}, "WEBP": {"quality": 88}}


class InvalidImage(Exception):
    """Why an upload is refused; the message is written for the client."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str
    width: int
    height: int
    file_name: str  # random (unguessable), with the format's extension


def reencode(upload: File) -> CleanImage:
    """The upload as a new file of the same format holding only its pixels, or InvalidImage."""
    limit = settings.MAX_ATTACHMENT_BYTES
    if upload.size is not None and upload.size > limit:
        raise InvalidImage(f"The file is {upload.size} bytes; the limit is {limit}.", "file_too_large")
    upload.seek(0)
    try:
        with Image.open(upload, formats=list(FORMATS)) as image:
            image_format = str(image.format)
            if image.width * image.height > settings.MAX_IMAGE_PIXELS:
                raise InvalidImage(
                    f"The image is {image.width}×{image.height} pixels; the limit is "
                    f"{settings.MAX_IMAGE_PIXELS} pixels in all.",
                    "image_too_large",
                )
            side = settings.MAX_IMAGE_SIDE
            # In place, keeping the aspect ratio; a JPEG is decoded at 1/2, 1/4 or 1/8 scale first
            # (thumbnail calls `draft`). Smaller images are only decoded.
            image.thumbnail((side, side))
            ImageOps.exif_transpose(image, in_place=True)
            pixels = pixels_only(image, image_format)
    except Image.DecompressionBombError:  # Pillow's own limit, past twice its MAX_IMAGE_PIXELS
        raise InvalidImage("The image has too many pixels.", "image_too_large") from None
    except UnidentifiedImageError:
        raise InvalidImage("Not a JPEG, PNG or WebP image.", "invalid_image") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise InvalidImage("The image is damaged or truncated.", "invalid_image") from None
    output = io.BytesIO()
    pixels.save(output, format=image_format, **SAVE_OPTIONS[image_format])
    content_type, extension = FORMATS[image_format]
    return CleanImage(
        output.getvalue(), content_type, pixels.width, pixels.height, f"{secrets.token_urlsafe(18)}.{extension}"
    )


def pixels_only(image: Image.Image, image_format: str) -> Image.Image:
    """A new image made of `image`'s decoded pixels in a mode the format writes; its `info` is empty."""
    if image_format == "JPEG":
        mode = "L" if image.mode in ("L", "1") else "RGB"
    elif image.mode in ("RGB", "RGBA", "L", "LA"):
        mode = image.mode
    else:
        mode = "RGBA" if image.has_transparency_data else "RGB"
    converted = image if image.mode == mode else image.convert(mode)
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    return clean
