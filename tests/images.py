"""Real image files made by Pillow for the upload tests: photos with EXIF GPS, polyglots, bomb headers."""

from __future__ import annotations

import io
import struct
import uuid
import zlib

from PIL import ExifTags, Image

CAMERA_MODEL = "SecretCam-4711"  # an EXIF string that must not survive re-encoding
SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"


def noisy(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    """A picture with detail (noise over a gradient), so encoders cannot shrink it to nothing."""
    noise = Image.effect_noise(size, 40).convert("L")
    gradient = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (noise, gradient, Image.new("L", size, 90))).convert(mode)


def photo_with_gps(size: tuple[int, int] = (64, 48), image_format: str = "JPEG", orientation: int = 1) -> bytes:
    """A photo as a phone writes it: EXIF camera model, orientation and GPS position (Bengaluru)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = CAMERA_MODEL
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (12.0, 58.0, 20.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (77.0, 35.0, 40.0),
        }
    )
    output = io.BytesIO()
    noisy(size).save(output, format=image_format, exif=exif)
    return output.getvalue()


def encoded(image_format: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    output = io.BytesIO()
    noisy(size, mode).save(output, format=image_format)
    return output.getvalue()


def html_with_jpeg_header() -> bytes:
    """A JPEG's first bytes (SOI, JFIF APP0), then an HTML page: sniffed as JPEG, is not an image."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + SCRIPT


def png_claiming_size(width: int, height: int) -> bytes:
    """A small real PNG whose header claims width × height (a decompression bomb's header)."""
    data = bytearray(encoded("PNG", (8, 8)))
    ihdr = 8  # after the signature: length (4), b"IHDR" (4), data (13), CRC (4)
    body = struct.pack(">II", width, height) + bytes(data[ihdr + 16 : ihdr + 21])
    data[ihdr + 8 : ihdr + 21] = body
    data[ihdr + 21 : ihdr + 25] = struct.pack(">I", zlib.crc32(b"IHDR" + body))
    return bytes(data)


def gps_tags(content: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(content)) as image:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser or `curl -F` sends it: (body, its Content-Type)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, filename, content in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(f"{head}Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
