import pytest


@pytest.mark.django_db
def test_liveness(client):
    response = client.get("/health/")
    assert response.json() == {"status": "ok"}
