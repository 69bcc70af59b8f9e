"""Serializer fields for media: an image upload (re-encoded) and a stored file's URL."""

from typing import Any

from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from desideliver.media.images import CleanImage, InvalidImage, reencode


@extend_schema_field({"type": "string", "format": "binary"})
class ImageUploadField(serializers.FileField):
    """A JPEG, PNG or WebP file, validated as the re-encoded `CleanImage`."""

    def to_internal_value(self, data: Any) -> CleanImage:  # type: ignore[override]
        upload = super().to_internal_value(data)
        try:
            return reencode(upload)
        except InvalidImage as error:
            raise serializers.ValidationError(str(error), code=error.code) from None


class ImageListField(serializers.ListField):
    """Several images; a bad one's message names it by position ("File 2: …"), so `errors` stays a
    list of strings per field, as the error schema says (DRF would nest a dict keyed by index)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=ImageUploadField(), **kwargs)

    def run_child_validation(self, data: list[Any]) -> list[Any]:
        try:
            return super().run_child_validation(data)
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError(
                [
                    f"File {int(index) + 1}: {message}"
                    for index, messages in error.detail.items()
                    for message in messages
                ]
            ) from None


def stored_file_url(name: str | None) -> str | None:
    """The public URL of a stored file (`/media/products/…` on the volume), or None without one."""
    return default_storage.url(name) if name else None


@extend_schema_field(
    {
        "type": "string",
        "format": "uri-reference",
        "nullable": True,
        "readOnly": True,
        "example": "/media/products/Xk3v9q0aZ2b7TbQpC8mN1wRf.jpg",
        "description": "The image's URL (a path on this host with the default storage); null without one.",
    }
)
class StoredFileUrlField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: FieldFile) -> str | None:
        return stored_file_url(value.name)
