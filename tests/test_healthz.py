"""R9: /healthz reports database and broker, answers fast, and leaks nothing."""

import socket
import threading
import time

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client, override_settings

from dashboard import health

URL = "/healthz"


@pytest.fixture
def client():
    return Client()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends


@pytest.fixture
def silent_broker():
    """A TCP server on loopback that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    server.close()


def timed_get(client, url=URL):
    started = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - started


@pytest.mark.django_db
def test_healthy_answers_200_without_login(client):
    response = client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "ok": True,
        "database": True,
        "broker": True,
        "last_sync_age_seconds": None,
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_body_holds_no_secret_or_setting_value(client):
    body = client.get(URL).content.decode()

    assert settings.SECRET_KEY not in body
    for entry in settings.CREDENTIAL_KEYS.split(","):
        assert entry.split(":", 1)[1] not in body
    assert settings.CELERY_BROKER_URL not in body
    assert str(settings.DATA_DIR) not in body
    db = settings.DATABASES["default"]
    assert str(db["NAME"]) not in body
    if db.get("HOST"):
        assert db["HOST"] not in body


@pytest.mark.django_db
def test_refused_broker_gives_503_quickly(client, caplog):
    url = f"redis://:brokerpass@127.0.0.1:{closed_port()}/0"
    with override_settings(CELERY_BROKER_URL=url):
        response, elapsed = timed_get(client)

    assert response.status_code == 503
    assert response.json() == {
        "ok": False,
        "database": True,
        "broker": False,
        "last_sync_age_seconds": None,
    }
    assert elapsed < 3
    assert "brokerpass" not in caplog.text
    assert "healthz: broker check failed" in caplog.text


@pytest.mark.django_db
def test_broker_that_never_answers_gives_503_within_3_seconds(client, silent_broker):
    with override_settings(CELERY_BROKER_URL=silent_broker):
        response, elapsed = timed_get(client)

    assert response.status_code == 503
    assert response.json()["broker"] is False
    assert elapsed < 3


@pytest.mark.django_db
def test_missing_broker_folder_gives_503(client, tmp_path):
    folders = {}
    for key, name in [
        ("data_folder_in", "queue"),
        ("data_folder_out", "queue"),
        ("processed_folder", "processed"),
        ("control_folder", "control"),
    ]:
        folders[key] = str(tmp_path / name)
        (tmp_path / name).mkdir(exist_ok=True)

    with override_settings(
        CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=folders
    ):
        assert client.get(URL).status_code == 200  # control: the folders are fine
        (tmp_path / "control").rmdir()
        response = client.get(URL)

    assert response.status_code == 503
    assert response.json() == {
        "ok": False,
        "database": True,
        "broker": False,
        "last_sync_age_seconds": None,
    }


class BrokenConnection:
    def cursor(self):
        raise OperationalError("could not connect to server")


@pytest.mark.django_db
def test_database_failure_gives_503(client, monkeypatch):
    monkeypatch.setattr(health, "connection", BrokenConnection())

    response = client.get(URL)

    assert response.status_code == 503
    assert response.json() == {
        "ok": False,
        "database": False,
        "broker": True,
        "last_sync_age_seconds": None,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_not_allowed(client, method):
    response = getattr(client, method)(URL)

    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_healthz_reports_the_age_of_the_last_successful_sync(client, home):
    from datetime import timedelta

    from django.utils import timezone

    from devices.models import CloudAccount

    assert client.get("/healthz").json()["last_sync_age_seconds"] is None
    CloudAccount.objects.create(
        household=home,
        vendor="qihoo360",
        method="qihoo360_sid",
        label="360",
        last_sync_ok_at=timezone.now() - timedelta(minutes=7),
    )
    age = client.get("/healthz").json()["last_sync_age_seconds"]
    assert 7 * 60 - 5 <= age <= 7 * 60 + 5
