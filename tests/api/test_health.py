import pytest
from django.db import connection


def test_liveness_does_no_io(client):
    # No django_db mark: pytest-django makes any database access here an error.
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_reports_every_check(client):
    response = client.get("/health/ready/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["state"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "migrations": "ok",
        "redis": "ok",
    }


@pytest.mark.django_db
def test_readiness_is_200_degraded_without_redis(client, redis_server):
    with redis_server.stopped():
        response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"]["state"] == "degraded"


@pytest.mark.django_db(transaction=True)
def test_readiness_is_503_naming_the_database_when_it_is_down(client, postgres_server, caplog):
    connection.close()
    with postgres_server.stopped():
        response = client.get("/health/ready/")
        assert response.status_code == 503
        body = response.json()
        assert body == {
            "status": "unavailable",
            "checks": {"database": {"state": "failing"}, "migrations": {"state": "failing"}, "redis": {"state": "ok"}},
        }
        assert str(postgres_server.port) not in response.content.decode()  # the driver's error stays in the log
        assert f"port {postgres_server.port} failed" in caplog.text
        products = client.get("/api/products/", HTTP_CACHE_CONTROL="no-cache")
        assert products.status_code == 503
        assert products.json()["code"] == "database_unavailable"
        assert products["Retry-After"]
    connection.close()
    assert client.get("/health/ready/").status_code == 200


def test_landing_page_links_to_the_docs(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"/api/docs/" in response.content


def test_unknown_route_is_a_json_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_every_response_has_a_request_id(client):
    assert len(client.get("/health/")["X-Request-ID"]) == 32
    assert client.get("/health/", HTTP_X_REQUEST_ID="trace-42")["X-Request-ID"] == "trace-42"
    assert client.get("/health/", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"] != "bad id\n"


def test_oversized_body_is_413_before_parsing(client, settings):
    body = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post("/api/auth/login/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
