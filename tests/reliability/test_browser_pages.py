"""The pages a person opens, in headless Chromium with the network cut, under production's CSP.

The shared production deployment (gunicorn, collected static files served by whitenoise,
django-csp) serves them; Chromium may reach 127.0.0.1 only (tests/chromium.py). Each page must
render its content from our own files, with no CSP violation and no console error. Screenshots
land in $DESIDELIVER_SCREENSHOTS when set (to look at them), else in the test's tmp_path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import Chromium, Page
from tests.reliability import harness
from tests.reliability.conftest import ADMIN_URL
from tests.service import Service

pytestmark = pytest.mark.slow

ADMIN_EMAIL = "browser-admin@example.com"


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as chromium:
        yield chromium


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("DESIDELIVER_SCREENSHOTS", tmp_path))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def assert_clean(page: Page, base_url: str) -> None:
    page.settle()
    assert page.violations == [], "Content-Security-Policy violations"
    assert page.console_errors == []
    outside = [url for url in page.requests if not url.startswith((base_url, "data:", "blob:"))]
    assert outside == [], "the page asked for something outside the server"


def test_swagger_ui_renders_operations_offline(live: Service, browser: Chromium, screenshots: Path) -> None:
    page = browser.open(f"{live.base_url}/api/docs/")
    operations = page.wait_for("document.querySelectorAll('.opblock').length", timeout=60)
    paths = page.evaluate("[...document.querySelectorAll('.opblock-summary-path')].map(e => e.textContent)")
    assert operations >= 10
    assert "/api/auth/login/" in paths
    assert "/api/orders/create/" in paths
    page.screenshot(screenshots / "swagger-ui.png")
    assert_clean(page, live.base_url)
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in page.requests)
    schema_link = page.evaluate("document.querySelector('.info .link, .info a').href")
    assert schema_link.endswith("/api/schema/?format=json"), "a link a browser displays, not a YAML download"


def test_redoc_renders_operations_offline(live: Service, browser: Chromium, screenshots: Path) -> None:
    page = browser.open(f"{live.base_url}/api/redoc/")
    operations = page.wait_for("document.querySelectorAll('[data-section-id^=\"operation/\"]').length", timeout=60)
    assert operations >= 10
    text = page.evaluate("document.body.innerText")
    assert "DesiDeliver API" in text
    assert "/api/orders/create/" in text
    page.screenshot(screenshots / "redoc.png")
    assert_clean(page, live.base_url)


def test_landing_page_and_schema_link_display_in_the_browser(
    live: Service, browser: Chromium, screenshots: Path
) -> None:
    page = browser.open(f"{live.base_url}/")
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "640px", "site.css applied"
    page.screenshot(screenshots / "landing.png")
    assert_clean(page, live.base_url)
    schema_href = page.evaluate("[...document.links].find(a => a.textContent.includes('OpenAPI')).href")
    schema = browser.open(schema_href)
    assert json.loads(schema.evaluate("document.body.innerText"))["info"]["title"] == "DesiDeliver API"
    icon = browser.open(f"{live.base_url}/favicon.ico")
    assert icon.evaluate("document.contentType") == "image/svg+xml"


def test_admin_login_and_pages_work_under_the_csp(
    live: Service, live_environment: dict[str, str], browser: Chromium, screenshots: Path
) -> None:
    password = harness.PASSWORD
    harness.shell_json(
        live_environment,
        "import json\nfrom desideliver.users.models import User\n"
        f"User.objects.filter(email={ADMIN_EMAIL!r}).delete()\n"
        f"User.objects.create_superuser(email={ADMIN_EMAIL!r}, password={password!r})\n"
        "print('RESULT ' + json.dumps(True))",
    )
    page = browser.open(f"{live.base_url}/{ADMIN_URL}")
    page.wait_for("!!document.querySelector('#id_username')")
    page.evaluate(
        f"document.querySelector('#id_username').value = {ADMIN_EMAIL!r};"
        f"document.querySelector('#id_password').value = {password!r};"
        "document.querySelector('#login-form').submit(); true"
    )
    page.wait_for("!!document.querySelector('.model-product')", timeout=30)
    assert_clean(page, live.base_url)
    page.screenshot(screenshots / "admin-index.png")

    changelist = browser.open(f"{live.base_url}/{ADMIN_URL}catalog/product/add/")
    changelist.wait_for("!!document.querySelector('#product_form')")
    changelist.screenshot(screenshots / "admin-product-add.png")
    assert_clean(changelist, live.base_url)


def test_every_html_page_carries_the_policy(live: Service) -> None:
    for path in ("/", "/api/docs/", f"/{ADMIN_URL}login/"):
        policy = harness.request(live.base_url, "GET", path, headers={"Accept": "text/html"}).headers[
            "content-security-policy"
        ]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "'unsafe-inline'" not in policy, path
    redoc = harness.request(live.base_url, "GET", "/api/redoc/", headers={"Accept": "text/html"})
    assert "style-src 'self' 'unsafe-inline'" in redoc.headers["content-security-policy"]
