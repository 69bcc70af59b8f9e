"""The stack through its proxy: what nginx serves itself, what it hands to web, and what it holds back.

One stack of its own (one gunicorn worker, so a held worker would show; a login rate of 3 a
minute, so the throttle shows in a few requests), driven through the published port, which is
the proxy's. The proxy is the stand-in of tests/container/proxy_image.py: Debian's nginx running
nix/proxy/nginx.conf unchanged; the app is the app stand-in. tests/proxy runs the same config
natively, with the controls (gunicorn alone) that a stack, which never publishes web, can't have.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests import images
from tests.api.admin_forms import form_fields
from tests.container.stack import Stack
from tests.reliability.harness import Reply, request, slow_request

pytestmark = [pytest.mark.container, pytest.mark.slow]

LOGIN_RATE_PER_MINUTE = 3
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def stack(make_stack: Callable[..., Stack]) -> Stack:
    stack = make_stack(WEB_CONCURRENCY="1", THROTTLE_LOGIN_RATE=f"{LOGIN_RATE_PER_MINUTE}/min")
    stack.make("secrets")
    stack.make("up")
    stack.make("seed")
    return stack


def base(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.web_port}"


def jpeg(size: tuple[int, int], quality: int = 95) -> bytes:
    output = io.BytesIO()
    images.noisy(size).save(output, format="JPEG", quality=quality)
    return output.getvalue()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body (as curl -F and browsers send it) and its Content-Type."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, content) in files.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(head.encode() + b"Content-Type: image/jpeg\r\n\r\n" + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def customer(stack: Stack, name: str) -> str:
    """A registered customer's access token."""
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
    credentials = {"email": email, "password": PASSWORD}
    assert request(base(stack), "POST", "/api/auth/register/", body=credentials).status == 201
    stack.sql("DELETE FROM throttle_window")  # logins here are not what the throttle test counts
    reply = request(base(stack), "POST", "/api/auth/login/", body=credentials)
    assert reply.status == 200, reply
    return str(reply.json()["access"])


def assert_from_nginx(reply: Reply) -> None:
    """Answered by nginx itself: web puts X-Request-ID on every response it sends."""
    assert "x-request-id" not in reply.headers, reply.headers


def assert_nginx_404(reply: Reply) -> None:
    assert (reply.status, reply.json()) == (404, {"detail": "Not found.", "code": "not_found"}), reply
    assert_from_nginx(reply)


def test_the_published_port_is_the_proxy_and_web_is_not_published(stack: Stack) -> None:
    health = request(base(stack), "GET", "/proxy-health")
    assert (health.status, health.json()) == (200, {"status": "ok"})
    assert not any(stack.container("web")["NetworkSettings"]["Ports"].values()), "web must not be published"
    api = request(base(stack), "GET", "/api/products/1/")
    assert api.status == 200
    assert re.fullmatch(r"[0-9a-f]{32}", api.headers["x-request-id"]), "nginx's request id, adopted by web"


def test_the_proxy_runs_unprivileged_read_only_and_without_a_shell(stack: Stack) -> None:
    container = stack.container("proxy")
    status = Path(f"/proc/{container['State']['Pid']}/status").read_text()  # nginx's master, PID 1
    assert re.search(r"^Uid:\s+10002\s+10002\s+10002\s+10002$", status, re.MULTILINE), status
    assert re.search(r"^Gid:\s+10001\s", status, re.MULTILINE)
    assert re.search(r"^CapEff:\s+0+$", status, re.MULTILINE)
    assert container["HostConfig"]["ReadonlyRootfs"] is True
    assert [m["RW"] for m in container["Mounts"] if m["Destination"] == "/var/lib/desideliver/media"] == [False]
    assert stack.compose("exec", "-T", "proxy", "sh", "-c", "true", check=False).returncode != 0


def test_static_files_come_from_nginx_precompressed_and_immutable(stack: Stack) -> None:
    manifest = request(base(stack), "GET", "/static/staticfiles.json").json()["paths"]
    hashed = manifest["admin/css/base.css"]
    plain = request(base(stack), "GET", f"/static/{hashed}")
    compressed = request(base(stack), "GET", f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    for reply in (plain, compressed):
        assert reply.status == 200
        assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert reply.headers["content-type"].startswith("text/css")
        assert_from_nginx(reply)
    assert compressed.headers["content-encoding"] == "gzip"  # the .gz collectstatic wrote (gzip_static)
    assert gzip.decompress(compressed.body) == plain.body
    assert b"body" in plain.body
    assert_nginx_404(request(base(stack), "GET", "/static/admin/css/base.css"))  # only hashed names exist


ADMIN_EMAIL = "ops@example.com"
ADMIN_PASSWORD = "an-admin-password-for-the-proxy-test"


@pytest.fixture(scope="module")
def admin_account(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> None:
    password = tmp_path_factory.mktemp("admin") / "admin_password"
    password.write_text(ADMIN_PASSWORD)
    stack.make("createsuperuser", f"ADMIN_EMAIL={ADMIN_EMAIL}", f"ADMIN_PASSWORD_FILE={password}")


def admin_login(stack: Stack, headers: dict[str, str] | None = None) -> urllib.request.OpenerDirector:
    """A logged-in admin session through the proxy; `headers` go with the login form's POST."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    form = opener.open(stack.url("/admin/login/"), timeout=10).read().decode()
    fields = {**form_fields(form, "login-form"), "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    body, content_type = multipart(fields, {})
    login = urllib.request.Request(
        stack.url("/admin/login/"), data=body, headers={"Content-Type": content_type, **(headers or {})}
    )
    assert opener.open(login, timeout=10).url.endswith("/admin/")
    return opener


def upload_product_image(opener: urllib.request.OpenerDirector, stack: Stack, product: int, image: bytes) -> str:
    """The product's change form posted back with `image`; returns the page the admin went on to."""
    page = stack.url(f"/admin/catalog/product/{product}/change/")
    fields = form_fields(opener.open(page, timeout=10).read().decode(), "product_form")
    body, content_type = multipart(fields, {"image": ("jar.jpg", image)})
    saved = opener.open(urllib.request.Request(page, data=body, headers={"Content-Type": content_type}), timeout=30)
    return str(saved.url)


@pytest.mark.usefixtures("admin_account")
def test_a_product_image_uploaded_in_the_admin_is_public_from_the_volume(stack: Stack) -> None:
    saved = upload_product_image(admin_login(stack), stack, 1, jpeg((400, 300)))
    assert saved.endswith("/admin/catalog/product/"), saved  # saved: back to the list
    url = request(base(stack), "GET", "/api/products/1/").json()["image"]
    assert re.fullmatch(r"/media/products/[\w-]{24}\.jpg", url), url
    reply = request(base(stack), "GET", url)
    assert reply.status == 200
    assert reply.headers["content-type"] == "image/jpeg"
    assert reply.headers["cache-control"] == "public, max-age=3600"
    assert_from_nginx(reply)
    assert Image.open(io.BytesIO(reply.body)).size == (400, 300)


@pytest.mark.usefixtures("admin_account")
def test_the_admin_takes_a_product_photo_over_256_kib_through_the_proxy(stack: Stack) -> None:
    """The product form's upload limit is the app's in nginx too (not the 256 KiB default)."""
    image = jpeg((900, 700))
    assert len(image) > 256 * 1024
    saved = upload_product_image(admin_login(stack), stack, 2, image)
    assert saved.endswith("/admin/catalog/product/"), saved
    url = request(base(stack), "GET", "/api/products/2/").json()["image"]
    assert request(base(stack), "GET", url).status == 200


@pytest.fixture(scope="module")
def ticket_with_photo(stack: Stack) -> dict[str, Any]:
    """A customer's ticket with a ~1 MiB photo, uploaded through the proxy (above its 256 KiB default)."""
    token = customer(stack, "asha")
    opened = request(
        base(stack), "POST", "/api/tickets/create/", token=token, body={"subject": "Cracked jar", "message": "See."}
    )
    assert opened.status == 201, opened
    photo = jpeg((1500, 1100))
    assert len(photo) > 1024 * 1024
    body, content_type = multipart({"body": "The photo."}, {"attachments": ("IMG_0001.jpg", photo)})
    path = f"/api/tickets/{opened.json()['id']}/messages/"
    reply = request(base(stack), "POST", path, raw=body, token=token, headers={"Content-Type": content_type})
    assert reply.status == 201, reply.body[:500]
    (attachment,) = reply.json()["messages"][-1]["attachments"]
    # The stored name (random), which no API shows: this stack's one attachment.
    name, stored_id = stack.sql("SELECT file, id FROM tickets_ticketattachment").split("|")
    assert int(stored_id) == attachment["id"]
    return {"token": token, "attachment": attachment, "name": name}


def test_an_attachment_reaches_its_customer_from_nginx(stack: Stack, ticket_with_photo: dict[str, Any]) -> None:
    attachment = ticket_with_photo["attachment"]
    reply = request(base(stack), "GET", attachment["url"], token=ticket_with_photo["token"], headers={"Accept": "*/*"})
    assert reply.status == 200, reply
    assert len(reply.body) == attachment["size"], "the file's bytes: web's own answer has an empty body"
    assert Image.open(io.BytesIO(reply.body)).size == (attachment["width"], attachment["height"])
    assert reply.headers["content-type"] == "image/jpeg"
    assert reply.headers["content-disposition"].startswith("attachment;")
    # The internal location's headers: nginx sent the file after web's X-Accel-Redirect.
    assert reply.headers["content-security-policy"] == "default-src 'none'"
    assert "private, no-store" in reply.headers["cache-control"]
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "x-accel-redirect" not in reply.headers


def test_an_attachment_is_nobody_elses(stack: Stack, ticket_with_photo: dict[str, Any]) -> None:
    url, name = ticket_with_photo["attachment"]["url"], ticket_with_photo["name"]
    assert name.startswith("attachments/")
    other = request(base(stack), "GET", url, token=customer(stack, "ravi"))
    assert (other.status, other.json()["code"]) == (404, "not_found")  # web's answer: it knows no such file
    assert request(base(stack), "GET", url).status == 401
    assert_nginx_404(request(base(stack), "GET", f"/internal-media/{name}"))
    assert_nginx_404(request(base(stack), "GET", f"/media/{name}"))


def test_a_body_over_the_apps_limit_is_refused_by_nginx(stack: Stack) -> None:
    payload = json.dumps({"name": "x" * 300 * 1024}).encode()
    reply = request(base(stack), "POST", "/api/products/", raw=payload, headers={"Content-Type": "application/json"})
    assert reply.status == 413
    assert reply.json() == {
        "detail": "The request body is larger than the limit for this route.",
        "code": "request_too_large",
    }
    assert_from_nginx(reply)


def test_slow_uploads_hold_no_gunicorn_worker(stack: Stack) -> None:
    """Four clients trickle their bodies over 4 s at web's one worker; the others keep answering.

    An authenticated cart addition: the view reads its body (a request refused before its body is
    read, unauthenticated say, would free the worker at once and prove nothing)."""
    token = customer(stack, "slow")
    body = json.dumps({"product_id": 1, "quantity": 1}).encode()
    slow: list[Reply] = []

    def trickle() -> None:
        slow.append(slow_request(base(stack), "POST", "/api/cart/add/", body, token=token, chunks=8, gap=0.5))

    clients = [threading.Thread(target=trickle) for _ in range(4)]
    for client in clients:
        client.start()
    time.sleep(0.5)  # every slow request is in, its body half-sent
    latencies: list[float] = []
    while any(client.is_alive() for client in clients) and len(latencies) < 200:
        reply = request(base(stack), "GET", "/health/", timeout=10)
        assert reply.status == 200, reply
        latencies.append(reply.seconds)
        time.sleep(0.05)
    for client in clients:
        client.join(timeout=30)
    assert [reply.status for reply in slow] == [201] * 4, slow  # each reached web, whole, once sent
    assert max(latencies) < 1.0, f"a request waited {max(latencies):.2f}s behind the slow uploads"
    assert len(latencies) >= 10


def test_a_forged_forwarded_for_is_not_the_address_the_app_sees(stack: Stack) -> None:
    stack.sql("DELETE FROM throttle_window")
    statuses = []
    for attempt in range(LOGIN_RATE_PER_MINUTE + 1):
        reply = request(
            base(stack),
            "POST",
            "/api/auth/login/",
            body={"email": "nobody@example.com", "password": "wrong-password"},
            headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
        )
        statuses.append(reply.status)
    stack.sql("DELETE FROM throttle_window")
    # A new forged address each time, one real one (nginx's peer): the throttle counts them together.
    assert statuses == [401] * LOGIN_RATE_PER_MINUTE + [429]
    # The proxy's access log names that real address, never a forged one.
    logged = [json.loads(line) for line in stack.logs("proxy") if line.startswith("{")]
    logins = [entry for entry in logged if entry["path"] == "/api/auth/login/" and entry["status"] in (401, 429)]
    assert len(logins) >= LOGIN_RATE_PER_MINUTE + 1
    assert {entry["remote"] for entry in logins}.isdisjoint({f"203.0.113.{n}" for n in range(1, 6)})
    assert all(re.fullmatch(r"[0-9a-f.:]+", entry["remote"]) for entry in logins)
    assert all(entry["remote"] == entry["peer"] for entry in logins), "no trusted edge in compose"


@pytest.mark.usefixtures("admin_account")
def test_an_admin_login_with_a_browsers_origin_passes_the_csrf_check(stack: Stack) -> None:
    """Browsers send Origin (http://127.0.0.1:PORT) with every form POST; Django compares it with
    the Host web receives, which the proxy passes on with its port."""
    admin_login(stack, {"Origin": base(stack)})
