from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from desideliver.users.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTRATION = {"email": "Priya@Example.com", "password": PASSWORD, "first_name": "Priya", "last_name": "Shah"}


def test_register_creates_a_user_and_never_returns_the_password(api):
    response = api.post("/api/auth/register/", REGISTRATION, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "priya@example.com"
    assert "password" not in body
    user = User.objects.get(email="priya@example.com")
    assert user.check_password(PASSWORD)
    assert user.password != PASSWORD


def test_register_refuses_a_duplicate_email_in_any_case(api):
    UserFactory(email="priya@example.com")
    response = api.post("/api/auth/register/", REGISTRATION, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "123"}, "password"),
        ({"password": "password1"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"email": None}, "email"),
        ({"first_name": 42 * "x" * 5}, "first_name"),
    ],
)
def test_register_names_the_invalid_field(api, change, field):
    response = api.post("/api/auth/register/", {**REGISTRATION, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_register_names_every_missing_field(api):
    response = api.post("/api/auth/register/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "password"}


def test_malformed_json_is_a_400_saying_so(api):
    response = api.post("/api/auth/register/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_login_returns_tokens_that_authenticate(api):
    UserFactory(email="priya@example.com")
    response = api.post("/api/auth/login/", {"email": "PRIYA@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    tokens = response.json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get("/api/cart/").status_code == 200


def test_login_with_wrong_credentials_is_401(api):
    UserFactory(email="priya@example.com")
    response = api.post("/api/auth/login/", {"email": "priya@example.com", "password": "wrong"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"


def test_refresh_rotates_and_the_old_refresh_token_is_refused(api):
    UserFactory(email="priya@example.com")
    refresh = api.post("/api/auth/login/", {"email": "priya@example.com", "password": PASSWORD}, format="json").json()[
        "refresh"
    ]
    rotated = api.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert rotated.status_code == 200
    assert {"access", "refresh"} <= set(rotated.json())
    reused = api.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert reused.status_code == 401


def test_tampered_and_garbage_tokens_are_401_not_valid(api):
    user = UserFactory()
    token = str(AccessToken.for_user(user))
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    forged_expired = str(expired)[:-2] + ("AA" if not str(expired).endswith("AA") else "BB")
    for bad in (tampered, forged_expired, "not.a.token"):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {bad}")
        response = api.get("/api/cart/")
        assert response.status_code == 401, bad
        assert response.json()["code"] == "token_not_valid"


def test_an_expired_access_token_says_expired_so_the_client_refreshes(api):
    expired = AccessToken.for_user(UserFactory())
    expired.set_exp(lifetime=-timedelta(seconds=1))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {expired}")
    response = api.get("/api/cart/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert "expired" in response.json()["detail"]
    assert "/api/auth/token/refresh/" in response.json()["detail"]


def test_repeated_logins_are_throttled_with_retry_after(api, settings):
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"].split("/")[0])
    statuses = [
        api.post("/api/auth/login/", {"email": "x@example.com", "password": "wrong"}, format="json").status_code
        for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [401] * limit
    assert statuses[-1] == 429
    response = api.post("/api/auth/login/", {"email": "x@example.com", "password": "wrong"}, format="json")
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"
