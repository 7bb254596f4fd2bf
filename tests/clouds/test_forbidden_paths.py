"""Never-call endpoints stay out of the clients (D-MAM-4, 4.4.11, 5.1 Control API)."""

from __future__ import annotations

import inspect
import json
import pathlib
import re
from datetime import date

import pytest
import responses

import devices.clouds
from devices.clouds import (
    CloudError,
    InMemoryTokenStore,
    MammotionAccountClient,
    MammotionClient,
    Qihoo360Client,
    Qihoo360ConfigClient,
)

from .conftest import TIMEOUT, fresh_tokens

PACKAGE = pathlib.Path(devices.clouds.__file__).parent


def test_the_package_source_never_names_work_params_or_the_simulator_control_api():
    sources = {path.name: path.read_text() for path in PACKAGE.glob("*.py")}
    assert len(sources) >= 10
    for name, text in sources.items():
        assert "work-params" not in text, name
        assert "/_sim/" not in text, name
    assert not any(
        "work_params" in name for name in dir(MammotionClient) if not name.startswith("_")
    )


def test_no_client_method_touches_a_never_call_path():
    """Every string literal that looks like a path in the clients is on the allowed list."""
    allowed = {
        "/common/dev/GetList",
        "/clean/devuser/updateInfo",
        "/clean/cmd/send",
        "/clean/record/getList",
        "/clean/record/getOne",
        "/clean/record/statis",
        "/clean/record/allStatis",
        "/clean/record/recentlycleanlist",
        "/common/share/getInviteList",
        "/common/user/login",
        "/clean/modelalias.json",
        "/v1/mowers",
        "/v1/mower/action",
        "/v1/mower/work-reports/search",
        "/v1/mower/work-reports/summary",
        "/v1/mower/error-codes/search",
        "/oauth2/token",
        "/user-server/v1",
        "/user/oauth/token",
        "/user/oauth/check",
        "/area",
        "/email/register/code",
        "/email/register",
    }
    found = set()
    for cls in (Qihoo360Client, Qihoo360ConfigClient, MammotionClient, MammotionAccountClient):
        source = inspect.getsource(inspect.getmodule(cls))
        found |= set(re.findall(r'"(/[A-Za-z0-9_./-]+)"', source))
    never = {
        "/common/user/cancel",
        "/clean/bind/unbind",
        "/common/share/cancelAccept",
        "/clean/record/delByIds",
        "/clean/record/delMapByIds",
    }
    assert found & never == set()
    assert found <= allowed, found - allowed


ARGUMENTS = {
    "device_id": "dev-1",
    "work_id": "w-1",
    "task_name": "Front lawn",
    "action": "PAUSE",
    "sn": "361TY000003000000",
    "clean_id": "361TY000003000000-1",
    "title": "Hall",
    "command": "start",
    "utc_offset_hours": 1,
    "email": "a@example.com",
    "password": "Pass-word1",
    "access_token": "tok-1",
    "notify_id": "1" * 32,
    "imei": "2" * 32,
    "area_code": "SWE",
    "full_name": "D",
    "verification_code": "1",
    "start": date(2026, 1, 1),
    "end": date(2026, 1, 2),
}


def call_every_public_method(client) -> int:
    called = 0
    for name, method in inspect.getmembers(client, inspect.ismethod):
        if name.startswith("_") or name == "cookie_header":
            continue
        params = inspect.signature(method).parameters.values()
        kwargs = {
            p.name: ARGUMENTS[p.name]
            for p in params
            if p.default is p.empty or p.name in ("start", "end")
        }
        try:
            method(**kwargs)
        except (CloudError, ValueError):
            pass
        called += 1
    return called


def test_calling_every_public_method_never_requests_a_forbidden_url(session):
    def answer(request):
        body = {"errno": 0, "code": 0, "data": {"access_token": "a", "sid": "ab" * 16}}
        return (200, {}, json.dumps(body))

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        for method in (responses.GET, responses.POST):
            mocked.add_callback(method, re.compile(r"https?://.*"), callback=answer)
        clients = [
            Qihoo360Client(
                session,
                qid="2",
                q="u=360H2",
                t="s=T",
                sid="cd" * 16,
                timeout=TIMEOUT,
                retry_pause=0,
            ),
            Qihoo360ConfigClient(session, timeout=TIMEOUT, retry_pause=0),
            MammotionClient(
                session,
                client_id="c",
                client_secret="s-123",
                timeout=TIMEOUT,
                retry_pause=0,
                token_store=InMemoryTokenStore(fresh_tokens()),
            ),
            MammotionAccountClient(session, timeout=TIMEOUT, retry_pause=0),
        ]
        assert sum(call_every_public_method(c) for c in clients) >= 30
        urls = [call.request.url for call in mocked.calls]
    assert len(urls) >= 30
    for url in urls:
        assert "/_sim/" not in url and not url.split("?")[0].endswith("/work-params"), url


@pytest.mark.parametrize("client_class", [MammotionClient])
def test_the_mower_client_has_no_work_parameter_method(client_class):
    names = [n.lower() for n in dir(client_class)]
    assert not [n for n in names if "param" in n]
