"""Static files and media straight from disk; attachments only through the app's X-Accel-Redirect."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.proxy.conftest import ATTACHMENT, PRODUCT_IMAGE
from tests.proxy.nginx import Proxy
from tests.proxy.upstream import AS_HTML, ESCAPE
from tests.proxy.upstream import ATTACHMENT as ATTACHMENT_VIEW
from tests.reliability.harness import Reply, request

pytestmark = pytest.mark.slow


def assert_proxy_404(reply: Reply) -> None:
    """nginx's own 404, as JSON in the app's shape (web would add X-Request-ID)."""
    assert reply.status == 404, (reply.status, reply.body[:200])
    assert reply.is_json, reply.headers
    assert reply.json() == {"detail": "Not found.", "code": "not_found"}
    assert "x-request-id" not in reply.headers


def manifest(app_environment: dict[str, str]) -> dict[str, str]:
    path = Path(app_environment["STATIC_ROOT"]) / "staticfiles.json"
    return json.loads(path.read_text())["paths"]


def test_hashed_static_files_are_served_from_disk_and_cached_for_a_year(
    proxy: Proxy, app_environment: dict[str, str]
) -> None:
    hashed = manifest(app_environment)["admin/css/base.css"]
    assert hashed != "admin/css/base.css"
    reply = request(proxy.base_url, "GET", f"/static/{hashed}")
    assert reply.status == 200
    assert reply.body == (Path(app_environment["STATIC_ROOT"]) / hashed).read_bytes()
    assert reply.headers["content-type"].startswith("text/css")
    assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "x-request-id" not in reply.headers, "answered by nginx, not by whitenoise in web"


def test_static_files_come_precompressed(proxy: Proxy, app_environment: dict[str, str]) -> None:
    hashed = manifest(app_environment)["admin/css/base.css"]
    reply = request(proxy.base_url, "GET", f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert reply.status == 200
    assert reply.headers.get("content-encoding") == "gzip"
    assert reply.body == (Path(app_environment["STATIC_ROOT"]) / f"{hashed}.gz").read_bytes()
    assert gzip.decompress(reply.body) == (Path(app_environment["STATIC_ROOT"]) / hashed).read_bytes()


def test_unhashed_static_names_are_not_served(proxy: Proxy) -> None:
    # collectstatic keeps only the hashed copies (WHITENOISE_KEEP_ONLY_HASHED_FILES), as the app does.
    reply = request(proxy.base_url, "GET", "/static/admin/css/base.css")
    assert reply.status == 404
    assert reply.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/static/admin/", "/static/admin/css/", "/static/no-such-file.css"])
def test_static_directories_and_missing_files_are_404(proxy: Proxy, path: str) -> None:
    assert_proxy_404(request(proxy.base_url, "GET", path))


def test_product_images_are_public(proxy: Proxy) -> None:
    reply = request(proxy.base_url, "GET", "/media/products/chai.jpg")
    assert reply.status == 200
    assert reply.body == PRODUCT_IMAGE
    assert reply.headers["content-type"] == "image/jpeg"
    assert reply.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/media/attachments/parcel.png",
        "/media/products/../attachments/parcel.png",
        "/media/products/%2e%2e/attachments/parcel.png",
        "/media/products/%2E%2E%2Fattachments%2Fparcel.png",
        "/media/products/",
        "/media/",
        "/media/nginx.conf",
        "/internal-media/attachments/parcel.png",
        "/internal-media/products/chai.jpg",
    ],
)
def test_every_other_media_path_is_404(proxy: Proxy, path: str) -> None:
    reply = request(proxy.base_url, "GET", path)
    assert_proxy_404(reply)
    assert ATTACHMENT not in reply.body


def test_the_apps_x_accel_redirect_sends_the_attachment(stand_in_proxy: Proxy) -> None:
    reply = request(stand_in_proxy.base_url, "GET", f"{ATTACHMENT_VIEW}parcel.png")
    assert reply.status == 200
    assert reply.body == ATTACHMENT
    assert reply.headers["content-type"] == "image/png"
    assert reply.headers["cache-control"] == "private, no-store"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "x-accel-redirect" not in reply.headers


def test_an_attachment_mislabelled_by_the_app_still_runs_nothing_in_a_browser(stand_in_proxy: Proxy) -> None:
    """nginx keeps the app's Content-Type on X-Accel-Redirect (Django's default is text/html), so the
    view must set the image's type or delete the header; should it not, the internal location's
    headers forbid sniffing and every script, style or frame."""
    reply = request(stand_in_proxy.base_url, "GET", f"{AS_HTML}parcel.png")
    assert reply.status == 200
    assert reply.body == ATTACHMENT
    assert reply.headers["content-type"].startswith("text/html")
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["content-security-policy"] == "default-src 'none'"


def test_an_x_accel_redirect_to_a_missing_attachment_is_404(stand_in_proxy: Proxy) -> None:
    assert_proxy_404(request(stand_in_proxy.base_url, "GET", f"{ATTACHMENT_VIEW}gone.png"))


def test_an_x_accel_redirect_cannot_leave_the_media_root(stand_in_proxy: Proxy) -> None:
    reply = request(stand_in_proxy.base_url, "GET", ESCAPE)
    assert_proxy_404(reply)
    assert b"worker_processes" not in reply.body
