"""`/healthz`: 200 when the database and the broker answer, 503 naming the broker when it does not."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}


def test_healthz_503_when_redis_broker_unreachable(client, settings, monkeypatch):
    # Nothing listens on port 1: the connection is refused at once.
    unreachable = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_URL = unreachable
    # Celery gives the CELERY_BROKER_URL environment variable precedence over its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", unreachable)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")


def test_healthz_503_when_filesystem_broker_folder_missing(client, settings, tmp_path):
    missing = tmp_path / "no-such-broker-folder"
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(missing),
        "data_folder_out": str(missing),
        "processed_folder": str(missing),
        "store_processed": False,
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")
    assert "broker" in body["checks"]["broker"]
