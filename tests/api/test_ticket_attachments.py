"""Photos on ticket messages: re-encoded by Pillow, stored under MEDIA_ROOT/attachments/, never public.

Real image bytes made by Pillow go through the real multipart route and the real download view on
the session's PostgreSQL; each test stores files in its own MEDIA_ROOT.
"""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageChops, ImageStat

from desideliver.tickets.models import TicketAttachment, TicketMessage
from tests import images
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    return tmp_path


@pytest.fixture
def ticket_id(buyer) -> int:
    response = buyer.post("/api/tickets/create/", {"subject": "Broken jar", "message": "See photo."}, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def post_photos(client, ticket_id: int, *files: SimpleUploadedFile, body: str = "The lid is cracked."):
    return client.post(
        f"/api/tickets/{ticket_id}/messages/", {"body": body, "attachments": list(files)}, format="multipart"
    )


def stored_files(media_root: Path) -> list[Path]:
    return sorted(path for path in media_root.rglob("*") if path.is_file())


def attached(client, ticket_id: int, content: bytes, name: str = "photo.jpg") -> dict:
    response = post_photos(client, ticket_id, upload(name, content))
    assert response.status_code == 201, response.json()
    return response.json()["messages"][-1]["attachments"][0]


def test_a_photo_is_reencoded_without_its_metadata_or_trailing_bytes(buyer, ticket_id, media_root):
    original = images.photo_with_gps() + images.SCRIPT  # a real JPEG, HTML appended after its end
    assert images.gps_tags(original)
    assert images.CAMERA_MODEL.encode() in original

    response = post_photos(buyer, ticket_id, upload("IMG_0001.jpg", original))

    assert response.status_code == 201
    (attachment,) = response.json()["messages"][-1]["attachments"]
    assert attachment["content_type"] == "image/jpeg"
    assert (attachment["width"], attachment["height"]) == (64, 48)
    assert attachment["url"] == f"/api/tickets/attachments/{attachment['id']}/"
    (stored,) = stored_files(media_root)
    assert stored.parent == media_root / "attachments"
    assert stored.suffix == ".jpg"
    assert len(stored.stem) >= 24
    assert "IMG_0001" not in stored.name
    content = stored.read_bytes()
    assert attachment["size"] == len(content)
    assert images.gps_tags(content) == {}
    assert images.CAMERA_MODEL.encode() not in content
    assert b"<script" not in content
    with Image.open(io.BytesIO(content)) as clean, Image.open(io.BytesIO(original)) as source:
        assert clean.format == "JPEG"
        assert not clean.getexif()
        difference = ImageStat.Stat(ImageChops.difference(clean.convert("RGB"), source.convert("RGB"))).mean
        assert max(difference) < 12  # the same picture, re-encoded


def test_a_sideways_photo_is_stored_upright_and_a_large_one_scaled_down(buyer, ticket_id, media_root, settings):
    settings.MAX_IMAGE_SIDE = 100
    sideways = attached(buyer, ticket_id, images.photo_with_gps((64, 48), orientation=6))  # "rotate 90° to view"
    assert (sideways["width"], sideways["height"]) == (48, 64)
    large = attached(buyer, ticket_id, images.encoded("JPEG", (300, 120)))
    assert (large["width"], large["height"]) == (100, 40)
    with Image.open(next(p for p in stored_files(media_root) if p.stat().st_size == large["size"])) as stored:
        assert stored.size == (100, 40)


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_png_and_webp_keep_their_format_and_lose_their_exif(buyer, ticket_id, media_root, image_format):
    original = images.photo_with_gps(image_format=image_format)
    assert images.gps_tags(original)
    attachment = attached(buyer, ticket_id, original, name="photo.jpg")  # the name's extension is ignored
    (stored,) = stored_files(media_root)
    assert attachment["content_type"] == f"image/{image_format.lower()}"
    assert stored.suffix == f".{image_format.lower()}"
    assert images.gps_tags(stored.read_bytes()) == {}
    assert images.CAMERA_MODEL.encode() not in stored.read_bytes()


NOT_AN_IMAGE = "Not a JPEG, PNG or WebP image."
DAMAGED = "The image is damaged or truncated."
TOO_MANY_PIXELS = "The image is 6000×6000 pixels; the limit is 25000000 pixels in all."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (images.html_with_jpeg_header(), NOT_AN_IMAGE),
        (images.encoded("GIF"), NOT_AN_IMAGE),
        (images.encoded("BMP"), NOT_AN_IMAGE),
        (images.encoded("JPEG")[:300], DAMAGED),
        (b"%PDF-1.7\n" + images.SCRIPT, NOT_AN_IMAGE),
        (images.png_claiming_size(6000, 6000), TOO_MANY_PIXELS),  # 36 Mpx > MAX_IMAGE_PIXELS
        (images.png_claiming_size(100_000, 100_000), "The image has too many pixels."),  # Pillow's own limit
    ],
    ids=["html-with-jpeg-header", "gif", "bmp", "truncated-jpeg", "pdf", "bomb-header", "huge-bomb-header"],
)
def test_anything_but_a_whole_jpeg_png_or_webp_is_a_400_naming_the_field(
    buyer, ticket_id, media_root, content, message
):
    response = post_photos(buyer, ticket_id, upload("photo.jpg", content))

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["attachments"]
    assert body["errors"]["attachments"] == [f"File 1: {message}"]
    assert TicketMessage.objects.filter(ticket_id=ticket_id).count() == 1  # only the first message
    assert stored_files(media_root) == []


def test_one_bad_file_is_named_by_position_and_nothing_is_stored(buyer, ticket_id, media_root):
    good, bad = upload("good.jpg", images.encoded("JPEG")), upload("bad.jpg", images.html_with_jpeg_header())
    response = post_photos(buyer, ticket_id, good, bad)
    assert response.status_code == 400
    assert response.json()["errors"] == {"attachments": [f"File 2: {NOT_AN_IMAGE}"]}
    assert stored_files(media_root) == []


def test_an_oversized_file_is_a_400_naming_the_field(buyer, ticket_id, media_root, settings):
    settings.MAX_ATTACHMENT_BYTES = 20_000
    content = images.encoded("PNG", (200, 200))
    assert len(content) > 20_000

    response = post_photos(buyer, ticket_id, upload("big.png", content, "image/png"))

    assert response.status_code == 400
    assert response.json()["errors"]["attachments"] == [
        f"File 1: The file is {len(content)} bytes; the limit is 20000."
    ]
    assert stored_files(media_root) == []


def test_at_most_three_images_per_message(buyer, ticket_id, media_root):
    def photos(count: int) -> list[SimpleUploadedFile]:
        return [upload(f"{n}.jpg", images.encoded("JPEG")) for n in range(count)]

    response = post_photos(buyer, ticket_id, *photos(4))
    assert response.status_code == 400
    assert response.json()["errors"]["attachments"] == ["Ensure this field has no more than 3 elements."]
    assert stored_files(media_root) == []

    response = post_photos(buyer, ticket_id, *photos(3))
    assert response.status_code == 201
    assert len(response.json()["messages"][-1]["attachments"]) == 3
    assert len(stored_files(media_root)) == 3


def test_text_only_messages_still_take_json_and_a_json_attachment_is_a_400(buyer, ticket_id, media_root):
    response = buyer.post(f"/api/tickets/{ticket_id}/messages/", {"body": "Any news?"}, format="json")
    assert response.status_code == 201
    assert response.json()["messages"][-1]["attachments"] == []
    response = buyer.post(
        f"/api/tickets/{ticket_id}/messages/", {"body": "Photo", "attachments": ["aGVsbG8="]}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["attachments"]


def test_the_customer_downloads_the_stored_bytes(buyer, ticket_id, media_root):
    attachment = attached(buyer, ticket_id, images.photo_with_gps())
    (stored,) = stored_files(media_root)

    response = buyer.get(attachment["url"], HTTP_ACCEPT="image/*")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored.read_bytes()
    assert response["Content-Type"] == "image/jpeg"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="ticket-{ticket_id}-attachment-{attachment["id"]}.jpg"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert "X-Accel-Redirect" not in response


def test_behind_the_proxy_the_view_hands_over_with_x_accel_redirect(buyer, ticket_id, media_root, settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/internal-media/"
    attachment = attached(buyer, ticket_id, images.encoded("WEBP"), name="photo.webp")
    (stored,) = stored_files(media_root)

    response = buyer.get(attachment["url"])

    assert response.status_code == 200
    assert response.content == b""
    assert response["X-Accel-Redirect"] == f"/internal-media/attachments/{stored.name}"
    assert response["Content-Type"] == "image/webp"
    assert response["Content-Disposition"].startswith("attachment; filename=")


def test_someone_elses_attachment_is_a_404_and_staff_may_read_it(buyer, ticket_id, media_root, client_for, api, client):
    attachment = attached(buyer, ticket_id, images.encoded("JPEG"))
    stranger = client_for(UserFactory())

    other = stranger.get(attachment["url"])
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    assert stranger.get("/api/tickets/attachments/999999/").status_code == 404
    anonymous = api.get(attachment["url"])
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")

    staff = UserFactory(is_staff=True)
    assert client_for(staff).get(attachment["url"]).status_code == 200  # an access token
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)  # or the admin session, from the ticket's change page
    assert client.get(attachment["url"]).status_code == 200
    page = client.get(f"/admin/tickets/ticket/{ticket_id}/change/")
    assert attachment["url"].encode() in page.content


def test_a_file_missing_from_storage_is_a_404_not_a_500(buyer, ticket_id, media_root):
    attachment = attached(buyer, ticket_id, images.encoded("JPEG"))
    for path in stored_files(media_root):
        path.unlink()
    response = buyer.get(attachment["url"])
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_files_stored_for_a_message_that_rolls_back_are_deleted(buyer, ticket_id, media_root, monkeypatch):
    """A failure after the files were written (here: the status update) leaves neither rows nor files."""
    from desideliver.tickets.models import Ticket

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away mid-transaction")

    monkeypatch.setattr(Ticket, "save", fail)
    with pytest.raises(RuntimeError):
        post_photos(buyer, ticket_id, upload("photo.jpg", images.encoded("JPEG")))
    assert stored_files(media_root) == []
    assert not TicketAttachment.objects.exists()
