"""A real browser through the proxy: headless Chromium (tests/chromium.py) logs in to the admin.

A browser sends `Origin: http://host:port` with every form POST, and Django's CSRF check compares
it with the Host web receives: the proxy must pass the client's Host on with its port.
"""

from __future__ import annotations

import pytest

from tests.chromium import Chromium
from tests.proxy.nginx import Proxy
from tests.reliability import harness

pytestmark = pytest.mark.slow

ADMIN_EMAIL = "proxy-browser-admin@example.com"


def test_a_browser_logs_in_to_the_admin_through_the_proxy(proxy: Proxy, app_environment: dict[str, str]) -> None:
    harness.shell_json(
        app_environment,
        "import json\nfrom desideliver.users.models import User\n"
        f"User.objects.filter(email={ADMIN_EMAIL!r}).delete()\n"
        f"User.objects.create_superuser(email={ADMIN_EMAIL!r}, password={harness.PASSWORD!r})\n"
        "print('RESULT ' + json.dumps(True))",
    )
    with Chromium() as browser:
        page = browser.open(f"{proxy.base_url}/admin/")
        page.wait_for("!!document.querySelector('#id_username')")
        page.evaluate(
            f"document.querySelector('#id_username').value = {ADMIN_EMAIL!r};"
            f"document.querySelector('#id_password').value = {harness.PASSWORD!r};"
            "document.querySelector('#login-form').submit(); true"
        )
        page.wait_for("!!document.querySelector('.model-product') || document.title.includes('403')", timeout=30)
        logged_in = page.evaluate("!!document.querySelector('.model-product')")
        assert logged_in, page.evaluate("document.body.innerText.slice(0, 300)")
    logins = proxy.logged("/admin/login/", "POST")
    assert [e["status"] for e in logins][-1:] == [302]
