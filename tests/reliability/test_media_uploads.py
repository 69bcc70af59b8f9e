"""Uploads through gunicorn with production settings: the upload route's body limit, the stored file,
the streamed download, and the X-Accel-Redirect hand-over to the proxy when MEDIA_ACCEL_REDIRECT_PREFIX is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import images
from tests.reliability import harness
from tests.service import Service

pytestmark = pytest.mark.slow

BODY_LIMIT = 256 * 1024  # MAX_REQUEST_BODY_BYTES's default
UPLOAD_LIMIT = 3 * 5 * 1024 * 1024 + BODY_LIMIT  # three MAX_ATTACHMENT_BYTES files and the form


@pytest.fixture(scope="module")
def customer(live: Service, live_environment: dict[str, str]) -> dict[str, Any]:
    (user,) = harness.make_users(live_environment, 1, prefix="media")
    ticket = harness.request(
        live.base_url,
        "POST",
        "/api/tickets/create/",
        body={"subject": "Dented tin", "message": "Photo follows."},
        token=user["access"],
    )
    assert ticket.status == 201, ticket.body
    return {**user, "ticket": ticket.json()["id"]}


def post_photo(base_url: str, customer: dict[str, Any], content: bytes) -> harness.Reply:
    body, content_type = images.multipart({"body": "Here it is."}, [("attachments", "tin.png", content)])
    return harness.request(
        base_url,
        "POST",
        f"/api/tickets/{customer['ticket']}/messages/",
        raw=body,
        headers={"Content-Type": content_type},
        token=customer["access"],
        timeout=30,
    )


def stored_path(environment: dict[str, str], attachment_id: int) -> Path:
    (name,) = harness.query(
        environment["DATABASE_URL"], "SELECT file FROM tickets_ticketattachment WHERE id = %s", attachment_id
    )[0]
    return Path(environment["MEDIA_ROOT"]) / name


def test_a_photo_larger_than_the_general_body_limit_is_accepted_on_the_upload_route(
    live: Service, live_environment: dict[str, str], customer: dict[str, Any]
) -> None:
    content = images.encoded("PNG", (700, 700))  # noise barely compresses: about 0.7 MB
    assert BODY_LIMIT < len(content) < 5 * 1024 * 1024

    reply = post_photo(live.base_url, customer, content)

    assert reply.status == 201, reply.body[:500]
    (attachment,) = reply.json()["messages"][-1]["attachments"]
    stored = stored_path(live_environment, attachment["id"])
    assert stored.is_file()
    assert stored.parent.name == "attachments"
    download = harness.request(live.base_url, "GET", attachment["url"], token=customer["access"])
    assert download.status == 200
    assert download.body == stored.read_bytes()
    assert download.headers["content-type"] == "image/png"
    assert "x-accel-redirect" not in download.headers


def test_the_same_body_elsewhere_is_413(live: Service, customer: dict[str, Any]) -> None:
    body, content_type = images.multipart(
        {"subject": "x", "message": "y"}, [("file", "tin.png", b"\0" * (BODY_LIMIT + 1))]
    )
    reply = harness.request(
        live.base_url,
        "POST",
        "/api/tickets/create/",
        raw=body,
        headers={"Content-Type": content_type},
        token=customer["access"],
    )
    assert (reply.status, reply.json()["code"]) == (413, "request_too_large")


def test_a_body_above_the_upload_limit_is_413_before_it_is_read(live: Service, customer: dict[str, Any]) -> None:
    reply = harness.announced_body(
        live.base_url,
        f"/api/tickets/{customer['ticket']}/messages/",
        UPLOAD_LIMIT + 1,
        content_type="multipart/form-data; boundary=x",
        token=customer["access"],
    )
    assert reply.status == 413
    assert reply.json() == {
        "detail": f"The request body is {UPLOAD_LIMIT + 1} bytes; the limit is {UPLOAD_LIMIT}.",
        "code": "request_too_large",
    }
    assert reply.seconds < 5


def test_with_the_prefix_set_the_proxy_is_handed_the_internal_path(
    live_environment: dict[str, str], customer: dict[str, Any]
) -> None:
    with harness.serving({**live_environment, "MEDIA_ACCEL_REDIRECT_PREFIX": "/internal-media/"}) as service:
        reply = post_photo(service.base_url, customer, images.photo_with_gps(image_format="PNG"))
        assert reply.status == 201, reply.body[:500]
        (attachment,) = reply.json()["messages"][-1]["attachments"]
        download = harness.request(service.base_url, "GET", attachment["url"], token=customer["access"])
    stored = stored_path(live_environment, attachment["id"])
    assert download.status == 200
    assert download.body == b""
    assert download.headers["x-accel-redirect"] == f"/internal-media/attachments/{stored.name}"
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"] == (
        f'attachment; filename="ticket-{customer["ticket"]}-attachment-{attachment["id"]}.png"'
    )
    assert images.gps_tags(stored.read_bytes()) == {}
