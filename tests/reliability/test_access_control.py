"""Every protected route refuses strangers and forged tokens; another user's objects do not exist."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest

from tests import images
from tests.reliability import harness
from tests.service import TEST_SECRET_KEY, Service

pytestmark = pytest.mark.slow

PROTECTED = [
    ("GET", "/api/cart/"),
    ("POST", "/api/cart/add/"),
    ("PUT", "/api/cart/update/{item}/"),
    ("DELETE", "/api/cart/remove/{item}/"),
    ("GET", "/api/orders/"),
    ("POST", "/api/orders/create/"),
    ("GET", "/api/orders/export.csv"),
    ("GET", "/api/orders/{order}/"),
    ("GET", "/api/tickets/"),
    ("POST", "/api/tickets/create/"),
    ("GET", "/api/tickets/{ticket}/"),
    ("POST", "/api/tickets/{ticket}/messages/"),
    ("POST", "/api/tickets/{ticket}/close/"),
    ("GET", "/api/tickets/attachments/{attachment}/"),
]
OWNED = [  # routes with an {id} that belongs to a user
    ("PUT", "/api/cart/update/{item}/", {"quantity": 1}),
    ("DELETE", "/api/cart/remove/{item}/", None),
    ("GET", "/api/orders/{order}/", None),
    ("GET", "/api/tickets/{ticket}/", None),
    ("POST", "/api/tickets/{ticket}/messages/", {"body": "Not my ticket."}),
    ("POST", "/api/tickets/{ticket}/close/", None),
    ("GET", "/api/tickets/attachments/{attachment}/", None),
]


@pytest.fixture(scope="module")
def world(live: Service, live_environment: dict[str, str]) -> dict[str, Any]:
    """Alice has a cart line, an order and a ticket about it with a photo; Bob has nothing."""
    product_ids = harness.make_products(live_environment, [("Alice's atta", "2.00", 100), ("Bob's basil", "1.00", 100)])
    alice, bob = harness.make_users(live_environment, 2, prefix="acl")
    base = live.base_url
    add = harness.request(
        base, "POST", "/api/cart/add/", body={"product_id": product_ids[0], "quantity": 1}, token=alice["access"]
    )
    order = harness.request(base, "POST", "/api/orders/create/", token=alice["access"])
    assert order.status == 201, order.body
    item = harness.request(
        base, "POST", "/api/cart/add/", body={"product_id": product_ids[1], "quantity": 2}, token=alice["access"]
    )
    ticket = harness.request(
        base,
        "POST",
        "/api/tickets/create/",
        body={"subject": "Atta", "message": "Where is it?", "order": order.json()["id"]},
        token=alice["access"],
    )
    assert add.status == item.status == ticket.status == 201, ticket.body
    body, content_type = images.multipart({"body": "Torn bag."}, [("attachments", "bag.jpg", images.encoded("JPEG"))])
    photo = harness.request(
        base,
        "POST",
        f"/api/tickets/{ticket.json()['id']}/messages/",
        raw=body,
        headers={"Content-Type": content_type},
        token=alice["access"],
    )
    assert photo.status == 201, photo.body
    ids = {
        "item": item.json()["id"],
        "order": order.json()["id"],
        "ticket": ticket.json()["id"],
        "attachment": photo.json()["messages"][-1]["attachments"][0]["id"],
    }
    return {"alice": alice, "bob": bob, "ids": ids}


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_unauthenticated_is_401(live: Service, world: dict[str, Any], method: str, path: str) -> None:
    reply = harness.request(live.base_url, method, path.format(**world["ids"]), body={})
    assert reply.status == 401, reply.body
    assert reply.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path", "body"), OWNED)
def test_another_users_object_is_404(
    live: Service, world: dict[str, Any], method: str, path: str, body: dict | None
) -> None:
    url = path.format(**world["ids"])
    stranger = harness.request(live.base_url, method, url, body=body, token=world["bob"]["access"])
    assert stranger.status == 404, stranger.body
    assert stranger.is_json
    # …and it is still there for its owner.
    if method == "GET":
        assert harness.request(live.base_url, method, url, token=world["alice"]["access"]).status == 200


def test_lists_show_only_own_objects(live: Service, world: dict[str, Any]) -> None:
    bob = world["bob"]["access"]
    assert harness.request(live.base_url, "GET", "/api/orders/", token=bob).json()["count"] == 0
    assert harness.request(live.base_url, "GET", "/api/tickets/", token=bob).json()["count"] == 0
    assert harness.request(live.base_url, "GET", "/api/cart/", token=bob).json()["items"] == []
    export = harness.request(live.base_url, "GET", "/api/orders/export.csv", token=bob)
    assert export.status == 200
    assert export.body.decode().strip().count("\n") == 0  # the header line only


def _forged(world: dict[str, Any]) -> dict[str, str]:
    alice = world["alice"]
    claims = _claims(alice["access"])
    now = int(time.time())
    expired = {**claims, "iat": now - 3600, "exp": now - 60, "jti": uuid.uuid4().hex}
    header, _payload, signature = alice["access"].split(".")
    as_bob = {**claims, "user_id": claims["user_id"].__class__(world["bob"]["id"])}
    tampered_payload = base64.urlsafe_b64encode(json.dumps(as_bob).encode()).rstrip(b"=").decode()
    return {
        "expired": jwt.encode(expired, TEST_SECRET_KEY, algorithm="HS256"),
        "tampered payload": f"{header}.{tampered_payload}.{signature}",
        "wrong key": jwt.encode(claims, "another-secret-key-" + "x" * 40, algorithm="HS256"),
        "alg none": jwt.encode(claims, key=None, algorithm="none"),
        "refresh as access": alice["refresh"],
        "garbage": "not.a.token",
        "truncated signature": alice["access"][:-4],
    }


@pytest.mark.parametrize(
    "kind",
    ["expired", "tampered payload", "wrong key", "alg none", "refresh as access", "garbage", "truncated signature"],
)
def test_bad_tokens_are_401(live: Service, world: dict[str, Any], kind: str) -> None:
    token = _forged(world)[kind]
    for method, path in (("GET", "/api/orders/"), ("GET", "/api/orders/{order}/"), ("GET", "/api/cart/")):
        reply = harness.request(live.base_url, method, path.format(**world["ids"]), token=token)
        assert reply.status == 401, (kind, path, reply.body)
        assert reply.is_json


def test_token_lifetimes_and_refresh_rotation(live: Service, live_environment: dict[str, str]) -> None:
    (user,) = harness.make_users(live_environment, 1, prefix="rotation")
    base = live.base_url
    login = harness.request(
        base, "POST", "/api/auth/login/", body={"email": user["email"], "password": harness.PASSWORD}
    )
    assert login.status == 200, login.body
    access, refresh = login.json()["access"], login.json()["refresh"]
    assert _claims(access)["exp"] - _claims(access)["iat"] == 15 * 60  # JWT_ACCESS_MINUTES default
    assert _claims(refresh)["exp"] - _claims(refresh)["iat"] == 7 * 24 * 3600  # JWT_REFRESH_DAYS default
    assert _claims(access)["token_type"] == "access"

    rotated = harness.request(base, "POST", "/api/auth/token/refresh/", body={"refresh": refresh})
    assert rotated.status == 200, rotated.body
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != refresh
    assert harness.request(base, "GET", "/api/cart/", token=rotated.json()["access"]).status == 200

    # The old refresh token was blacklisted by the rotation: replaying it fails.
    replay = harness.request(base, "POST", "/api/auth/token/refresh/", body={"refresh": refresh})
    assert replay.status == 401, replay.body
    # An access token is not a refresh token.
    assert harness.request(base, "POST", "/api/auth/token/refresh/", body={"refresh": access}).status == 401


def test_wrong_password_and_unknown_user_look_the_same(live: Service, live_environment: dict[str, str]) -> None:
    (user,) = harness.make_users(live_environment, 1, prefix="enum")
    wrong = harness.request(
        live.base_url, "POST", "/api/auth/login/", body={"email": user["email"], "password": "wrong-password-1"}
    )
    unknown = harness.request(
        live.base_url, "POST", "/api/auth/login/", body={"email": "nobody@example.com", "password": "wrong-password-1"}
    )
    assert wrong.status == unknown.status == 401
    assert wrong.json() == unknown.json()
