"""Product images: uploaded in the admin, re-encoded, stored under MEDIA_ROOT/products/, public URL in the API."""

import importlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import clear_url_caches

import desideliver.urls
from desideliver.catalog.models import Product
from tests import images
from tests.api.admin_forms import form_fields
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the old file is deleted on commit, as in production


@pytest.fixture
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def save_image(admin_client: Client, product: Product, content: bytes, name: str = "jar.jpg"):
    url = f"/admin/catalog/product/{product.pk}/change/"
    fields = form_fields(admin_client.get(url).content.decode(), "product_form")
    return admin_client.post(url, {**fields, "image": SimpleUploadedFile(name, content, "image/jpeg")})


def test_an_uploaded_image_is_reencoded_and_its_public_url_is_in_the_api(admin_client, api, media_root):
    product = ProductFactory()
    assert api.get(f"/api/products/{product.pk}/").json()["image"] is None

    response = save_image(admin_client, product, images.photo_with_gps((120, 90)) + images.SCRIPT)

    assert response.status_code == 302, response.content[:2000]
    (stored,) = (path for path in media_root.rglob("*") if path.is_file())
    assert stored.parent == media_root / "products"
    assert stored.suffix == ".jpg"
    assert "jar" not in stored.name
    content = stored.read_bytes()
    assert images.gps_tags(content) == {}
    assert images.CAMERA_MODEL.encode() not in content
    assert b"<script" not in content
    url = f"/media/products/{stored.name}"
    assert api.get(f"/api/products/{product.pk}/").json()["image"] == url  # the cache was invalidated
    listed = api.get("/api/products/").json()["results"]
    assert [item["image"] for item in listed if item["id"] == product.pk] == [url]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (images.html_with_jpeg_header(), b"Upload a valid image."),  # Django's ImageField (Pillow) refuses it
        (images.encoded("GIF"), b"Not a JPEG, PNG or WebP image."),  # an image, but not one we take
    ],
    ids=["html-with-jpeg-header", "gif"],
)
def test_a_non_image_is_refused_on_the_form_and_nothing_is_stored(admin_client, media_root, content, message):
    product = ProductFactory()
    response = save_image(admin_client, product, content)
    assert response.status_code == 200  # the form again, with the error
    assert message in response.content
    assert not any(path.is_file() for path in media_root.rglob("*"))
    assert Product.objects.get(pk=product.pk).image.name == ""


def test_replacing_the_image_deletes_the_old_file(admin_client, media_root):
    product = ProductFactory()
    assert save_image(admin_client, product, images.encoded("PNG"), "one.png").status_code == 302
    first = Product.objects.get(pk=product.pk).image.name
    assert save_image(admin_client, product, images.encoded("WEBP"), "two.webp").status_code == 302
    second = Product.objects.get(pk=product.pk).image.name
    assert second.startswith("products/")
    assert second.endswith(".webp")
    assert [path.relative_to(media_root).as_posix() for path in media_root.rglob("*.*")] == [second]
    assert first != second


def test_deleting_a_product_deletes_its_image_file(admin_client, media_root):
    product = ProductFactory()
    assert save_image(admin_client, product, images.encoded("JPEG")).status_code == 302
    assert len(list(media_root.rglob("*.jpg"))) == 1
    Product.objects.get(pk=product.pk).delete()
    assert list(media_root.rglob("*.jpg")) == []


def test_only_product_images_are_served_in_development(admin_client, client, media_root, settings):
    """make dev has no proxy: urls.py serves /media/products/ while DEBUG is on, and nothing else."""
    product = ProductFactory()
    assert save_image(admin_client, product, images.encoded("JPEG")).status_code == 302
    name = Product.objects.get(pk=product.pk).image.name
    (media_root / "attachments").mkdir()
    (media_root / "attachments" / "secret.jpg").write_bytes(images.encoded("JPEG"))
    settings.DEBUG = True
    importlib.reload(desideliver.urls)  # the media route is added when the URLconf is loaded
    clear_url_caches()
    try:
        served = client.get(f"/media/{name}")
        assert served.status_code == 200
        assert b"".join(served.streaming_content) == (media_root / name).read_bytes()
        assert client.get("/media/attachments/secret.jpg").status_code == 404
    finally:
        settings.DEBUG = False
        importlib.reload(desideliver.urls)
        clear_url_caches()
