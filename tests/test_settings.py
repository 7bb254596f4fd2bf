"""S1, S10: settings refuse to start when misconfigured, pass the deploy check when right.

Settings are read once per process, so each configuration runs in a subprocess with a
controlled environment.
"""

import base64
import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from kombu.exceptions import ContentDisallowed
from kombu.serialization import dumps, loads, prepare_accept_content

from dashboard import env
from devices.crypto import parse_key_ring

BASE_DIR = Path(__file__).resolve().parent.parent
CONTROLLED = ("DEBUG", "SECRET_KEY", "CREDENTIAL_KEYS", "DATA_DIR", "ALLOWED_HOSTS")
# Set by the browser tests' conftest for Playwright; never part of a deployment.
NOT_IN_DEPLOYMENT = ("DJANGO_ALLOW_ASYNC_UNSAFE",)
PROD_SECRET_KEY = secrets.token_urlsafe(60)
PROD_CREDENTIAL_KEY = base64.b64encode(secrets.token_bytes(32)).decode()


def base_env(data_dir: Path) -> dict[str, str]:
    """os.environ without the variables under test (nor their _FILE forms)."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in CONTROLLED
        and k.removesuffix("_FILE") not in CONTROLLED
        and k not in NOT_IN_DEPLOYMENT
    }
    environ.update(DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="dashboard.settings")
    return environ


def production_env(data_dir: Path, **changes: str | None) -> dict[str, str]:
    environ = base_env(data_dir)
    environ.update(
        SECRET_KEY=PROD_SECRET_KEY,
        CREDENTIAL_KEYS=f"k1:{PROD_CREDENTIAL_KEY}",
        ALLOWED_HOSTS="dash.example.com",
    )
    for name, value in changes.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ


def run_python(code: str, environ: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environ,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_manage(*args: str, environ: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=environ,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


SETUP = "import django; django.setup(); print('started')"


# --- S1: the deploy check and refusing to start --------------------------------------


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", environ=production_env(tmp_path)
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_catches_a_weak_secret_key(tmp_path):
    # Control for the test above: the check really runs against our settings.
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        environ=production_env(tmp_path, SECRET_KEY="short"),
    )

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_settings_are_production(tmp_path):
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'DEBUG': s.DEBUG, 'ALLOWED_HOSTS': s.ALLOWED_HOSTS, 'HSTS': s.SECURE_HSTS_SECONDS,"
        "'ssl': s.SECURE_SSL_REDIRECT}))"
    )
    result = run_python(code, production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["dash.example.com"],
        "HSTS": 31536000,
        "ssl": True,
    }


@pytest.mark.parametrize("missing", ["SECRET_KEY", "CREDENTIAL_KEYS"])
def test_refuses_to_start_without_a_secret_outside_debug(tmp_path, missing):
    result = run_python(SETUP, production_env(tmp_path, **{missing: None}))

    assert result.returncode != 0
    assert "started" not in result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert f"{missing} is not set" in last_line
    assert not (tmp_path / missing.lower()).exists()


def test_manage_py_also_refuses_without_credential_keys(tmp_path):
    result = run_manage("check", environ=production_env(tmp_path, CREDENTIAL_KEYS=None))

    assert result.returncode != 0
    assert "CREDENTIAL_KEYS is not set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DEBUG", "maybe", "DEBUG must be one of true/false"),
        ("DATABASE_URL", "mysql://u:p@db/dash", "DATABASE_URL must be a postgres:// URL"),
        ("REDIS_URL", "http://x", "REDIS_URL must be a redis://"),
        ("QIHOO360_API_URL", "ftp://x", "QIHOO360_API_URL must start with http:// or https://"),
        ("MAMMOTION_AUTH_URL", "https://", "MAMMOTION_AUTH_URL has no valid host"),
        ("QIHOO360_PUSH_ADDR", "nohost", "QIHOO360_PUSH_ADDR must be host:port"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be DEBUG, INFO"),
        ("AXES_FAILURE_LIMIT", "abc", "AXES_FAILURE_LIMIT must be an integer"),
        ("AXES_FAILURE_LIMIT", "0", "AXES_FAILURE_LIMIT must be at least 1"),
        ("SESSION_COOKIE_AGE", "10", "SESSION_COOKIE_AGE must be at least 300"),
        ("CREDENTIAL_KEYS", "k1:c2hvcnQ=", "CREDENTIAL_KEYS entry 1 (k1): key must be 32 bytes"),
        ("CREDENTIAL_KEYS", "k1:***", "CREDENTIAL_KEYS entry 1 (k1): key is not valid base64"),
        ("SECRET_KEY_FILE", "/nonexistent/secret", "SECRET_KEY_FILE: cannot read"),
    ],
)
def test_malformed_values_stop_the_process_naming_the_variable(tmp_path, name, value, expected):
    changes = {name: value}
    if name == "SECRET_KEY_FILE":
        changes["SECRET_KEY"] = None
    result = run_python(SETUP, production_env(tmp_path, **changes))

    assert result.returncode != 0
    assert "started" not in result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert expected in last_line
    # A database URL's password never reaches the message (or a log collecting it).
    assert "u:p@" not in result.stderr


def test_malformed_credential_key_is_not_echoed(tmp_path):
    bad_key = base64.b64encode(b"s3cret-but-only-20by").decode()

    result = run_python(SETUP, production_env(tmp_path, CREDENTIAL_KEYS=f"k1:{bad_key}"))

    assert result.returncode != 0
    assert "CREDENTIAL_KEYS entry 1 (k1)" in result.stderr
    assert bad_key not in result.stderr


# --- Debug: generated secrets -----------------------------------------------------------

PRINT_SECRETS = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps([s.SECRET_KEY, s.CREDENTIAL_KEYS]))"
)


def test_debug_generates_private_secrets_once_and_reuses_them(tmp_path):
    environ = base_env(tmp_path)
    environ["DEBUG"] = "true"

    first = run_python(PRINT_SECRETS, environ)
    second = run_python(PRINT_SECRETS, environ)

    assert first.returncode == 0, first.stderr
    secret_key, credential_keys = json.loads(first.stdout.splitlines()[-1])
    assert json.loads(second.stdout.splitlines()[-1]) == [secret_key, credential_keys]
    assert len(secret_key) >= 50
    assert len(parse_key_ring(credential_keys).keys[0][1]) == 32
    for name, value in (("secret_key", secret_key), ("credential_keys", credential_keys)):
        path = tmp_path / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().strip() == value
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_debug_generated_secrets_differ_per_data_dir(tmp_path):
    environ_a, environ_b = base_env(tmp_path / "a"), base_env(tmp_path / "b")
    environ_a["DEBUG"] = environ_b["DEBUG"] = "true"

    a = json.loads(run_python(PRINT_SECRETS, environ_a).stdout.splitlines()[-1])
    b = json.loads(run_python(PRINT_SECRETS, environ_b).stdout.splitlines()[-1])

    assert a[0] != b[0] and a[1] != b[1]


# --- S10: JSON only on the broker ---------------------------------------------------------


def test_celery_accepts_and_sends_json_only():
    from dashboard.celery import app

    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert settings.CELERY_TASK_SERIALIZER == "json"
    assert settings.CELERY_RESULT_SERIALIZER == "json"
    assert list(app.conf.accept_content) == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert app.conf.result_accept_content in (None, ["json"])  # None means accept_content


def test_celery_refuses_a_pickled_message():
    from dashboard.celery import app

    accept = prepare_accept_content(app.conf.accept_content)
    content_type, encoding, body = dumps({"task": "x"}, serializer="pickle")

    with pytest.raises(ContentDisallowed):
        loads(body, content_type, encoding, accept=accept)
    # The same message as JSON is fine.
    content_type, encoding, body = dumps({"task": "x"}, serializer="json")
    assert loads(body, content_type, encoding, accept=accept) == {"task": "x"}


# --- dashboard/env.py readers ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " True "])
def test_boolean_reads_true_spellings(monkeypatch, value):
    monkeypatch.setenv("FLAG", value)
    assert env.boolean("FLAG", False) is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off"])
def test_boolean_reads_false_spellings(monkeypatch, value):
    monkeypatch.setenv("FLAG", value)
    assert env.boolean("FLAG", True) is False


def test_boolean_unset_or_blank_is_the_default(monkeypatch):
    monkeypatch.delenv("FLAG", raising=False)
    assert env.boolean("FLAG", True) is True
    monkeypatch.setenv("FLAG", "  ")
    assert env.boolean("FLAG", False) is False


def test_boolean_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("FLAG", "enabled")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be one of .* not 'enabled'"):
        env.boolean("FLAG", False)


def test_integer(monkeypatch):
    monkeypatch.delenv("NUM", raising=False)
    assert env.integer("NUM", 7) == 7
    monkeypatch.setenv("NUM", "42")
    assert env.integer("NUM", 7, minimum=1) == 42
    monkeypatch.setenv("NUM", "4.5")
    with pytest.raises(ImproperlyConfigured, match="NUM must be an integer, not '4.5'"):
        env.integer("NUM", 7)
    monkeypatch.setenv("NUM", "-1")
    with pytest.raises(ImproperlyConfigured, match="NUM must be at least 0, not -1"):
        env.integer("NUM", 7, minimum=0)


def test_csv(monkeypatch):
    monkeypatch.delenv("HOSTS", raising=False)
    assert env.csv("HOSTS", ["a"]) == ["a"]
    monkeypatch.setenv("HOSTS", " a.example.com, ,b.example.com ,")
    assert env.csv("HOSTS") == ["a.example.com", "b.example.com"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://api.example.com/", "https://api.example.com"),
        ("http://127.0.0.1:8001/qihoo360", "http://127.0.0.1:8001/qihoo360"),
    ],
)
def test_base_url_accepts_http_urls(monkeypatch, value, expected):
    monkeypatch.setenv("VENDOR_URL", value)
    assert env.base_url("VENDOR_URL", "https://default.example") == expected


@pytest.mark.parametrize(
    "value", ["ftp://x", "api.example.com", "https://", "https://user@evil.example", "http:// x"]
)
def test_base_url_refuses_other_schemes_and_hosts(monkeypatch, value):
    monkeypatch.setenv("VENDOR_URL", value)
    with pytest.raises(ImproperlyConfigured, match="VENDOR_URL"):
        env.base_url("VENDOR_URL", "https://default.example")


def test_base_url_default(monkeypatch):
    monkeypatch.delenv("VENDOR_URL", raising=False)
    assert env.base_url("VENDOR_URL", "https://default.example/") == "https://default.example"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("push.example.com:443", ("push.example.com", 443)), ("[::1]:8443", ("::1", 8443))],
)
def test_host_port(monkeypatch, value, expected):
    monkeypatch.setenv("ADDR", value)
    assert env.host_port("ADDR", "x:1") == expected


@pytest.mark.parametrize("value", ["nohost", ":443", "host:", "host:0", "host:65536", "host:ab"])
def test_host_port_refuses_malformed(monkeypatch, value):
    monkeypatch.setenv("ADDR", value)
    with pytest.raises(ImproperlyConfigured, match="ADDR must be host:port"):
        env.host_port("ADDR", "x:1")


def test_raw_reads_a_file_when_only_name_file_is_set(monkeypatch, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.delenv("TOKEN", raising=False)
    monkeypatch.setenv("TOKEN_FILE", str(secret_file))

    assert env.raw("TOKEN") == "from-a-file"
    monkeypatch.setenv("TOKEN", "from-env")
    assert env.raw("TOKEN") == "from-env"


def test_raw_names_an_unreadable_file(monkeypatch, tmp_path):
    monkeypatch.delenv("TOKEN", raising=False)
    monkeypatch.setenv("TOKEN_FILE", str(tmp_path / "missing"))

    with pytest.raises(ImproperlyConfigured, match="TOKEN_FILE: cannot read"):
        env.raw("TOKEN")


def test_generated_secret_is_private_and_stable(tmp_path):
    path = tmp_path / "sub" / "secret_key"

    first = env.generated_secret(path)
    second = env.generated_secret(path, make=lambda: "never used")

    assert first == second
    assert len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]


def test_generated_secret_keeps_an_existing_value(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("already-here\n")

    assert env.generated_secret(path, make=lambda: "new") == "already-here"
