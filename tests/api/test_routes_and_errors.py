"""What a new client runs into first: slash forms, unknown API URLs, bad ordering, the favicon, schema texts.

Run with DEBUG both off (the test settings) and on (`make dev`'s): Django's debug pages are HTML
and its APPEND_SLASH check raises for a POST without the slash.
"""

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import override_settings

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
DEBUG = pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])


@DEBUG
def test_login_answers_with_and_without_the_trailing_slash(api, debug):
    UserFactory(email="slash@example.com", password="correct-horse-battery")
    credentials = {"email": "slash@example.com", "password": "correct-horse-battery"}
    with override_settings(DEBUG=debug):
        for path in ("/api/auth/login/", "/api/auth/login"):
            response = api.post(path, credentials, format="json")
            assert response.status_code == 200, (path, response.content[:300])
            assert "access" in response.json()


@DEBUG
def test_get_routes_answer_both_slash_forms(api, debug):
    with override_settings(DEBUG=debug):
        assert api.get("/api/products").status_code == 200
        assert api.get("/api/orders/export.csv/").status_code == 401  # the route, asking for a token


@DEBUG
@pytest.mark.parametrize("path", ["/api/nothing-here/", "/api/products/1/extra", "/api/auth/logins"])
def test_unknown_api_urls_are_json_404s_pointing_at_the_docs(api, debug, path):
    with override_settings(DEBUG=debug):
        response = api.post(path, {}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert path in response.json()["detail"]
    assert "/api/docs/" in response.json()["detail"]


@pytest.mark.parametrize("ordering", ["bogus", "-price,colour", "password"])
def test_unknown_ordering_is_a_400_naming_the_allowed_fields(api, ordering):
    response = api.get(f"/api/products/?ordering={ordering}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    message = body["errors"]["ordering"][0]
    assert "id, name, price, created_at" in message
    assert ordering.split(",")[-1] in message


def test_valid_ordering_still_orders(api):
    assert api.get("/api/products/?ordering=-price,name").status_code == 200


def test_favicon_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("desideliver/favicon.svg")
    assert finders.find("desideliver/favicon.svg"), "collected with the static files (served: test_browser_pages)"


def test_schema_tells_wrong_credentials_from_a_bad_token(api):
    schema = yaml.safe_load(api.get("/api/schema/").content)
    login_401 = schema["paths"]["/api/auth/login/"]["post"]["responses"]["401"]["description"]
    cart_401 = schema["paths"]["/api/cart/"]["get"]["responses"]["401"]["description"]
    assert "Wrong email or password" in login_401
    assert "token_expired" in cart_401
