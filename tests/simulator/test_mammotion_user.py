"""Mammotion surface A (user-server) in the simulator: docs/cloud-apis.md §4.3, §5.4.2."""

import pytest

from simulator.mammotion_testing import USER, Harness

OWNER, PASSWORD = "owner@example.com", "Mower-Pass1"


@pytest.fixture
def cloud():
    return Harness()


def check(cloud, token):
    return cloud.request("POST", f"{USER}/user/oauth/check", token=token)


def test_area_lists_regions_with_string_values(cloud):
    body = cloud.request("GET", f"{USER}/area").body
    assert body["code"] == 0 and body["msg"] == "Request success"
    assert len(body["data"]) == 12
    sweden = next(a for a in body["data"] if a["isoCode"] == "SWE")
    assert sweden["domainAbbreviation"] == "SE" and sweden["areaEnName"] == "Sweden"
    assert all(isinstance(v, str) for area in body["data"] for v in area.values())


def test_login_success_has_the_captured_shape(cloud):
    body = cloud.login(OWNER, PASSWORD).body
    assert body["code"] == 0 and body["msg"] == "Request success"
    data = body["data"]
    assert data["token_type"] == "bearer" and data["expires_in"] == 1295999
    assert data["scope"] == "read" and data["grant_type"] == "password"
    assert {"access_token", "refresh_token", "authorization_code", "jti"} <= set(data)
    info = data["userInformation"]
    assert info["areaCode"] == "SWE" and info["domainAbbreviation"] == "SE"
    assert info["email"] == OWNER and info["gender"] == "0" and info["userId"].isdigit()


def test_login_expires_in_follows_the_knob(cloud):
    cloud.cloud.set_knobs({"login_token_ttl": 600})
    data = cloud.login(OWNER, PASSWORD).body["data"]
    assert data["expires_in"] == 600
    cloud.advance(601)
    assert check(cloud, data["access_token"]).status == 401


@pytest.mark.parametrize(
    ("username", "password", "extra", "msg"),
    [
        (OWNER, "wrong-pass1", {}, "Account or password mismatch"),
        ("nobody@example.com", PASSWORD, {}, "User not exist"),
        (OWNER, PASSWORD, {"client_secret": "nope"}, "Access denied"),
        (OWNER, PASSWORD, {"grant_type": "client_credentials"}, "Access denied"),
    ],
)
def test_login_failures_are_http_200_code_500_with_msg(cloud, username, password, extra, msg):
    response = cloud.login(username, password, **extra)
    assert response.status == 200
    assert response.body == {"code": 500, "msg": msg}


def test_five_failures_lock_the_account_for_five_minutes(cloud):
    msgs = [cloud.login(OWNER, "bad-pass-1").body["msg"] for _ in range(5)]
    assert msgs[:4] == ["Account or password mismatch"] * 4
    assert "Too many password verification errors" in msgs[4]
    assert "Too many password verification errors" in cloud.login(OWNER, PASSWORD).body["msg"]
    cloud.advance(299)
    assert cloud.login(OWNER, PASSWORD).body["code"] == 500
    cloud.advance(2)
    assert cloud.login(OWNER, PASSWORD).body["code"] == 0


def test_a_success_resets_the_failure_count(cloud):
    for _ in range(4):
        cloud.login(OWNER, "bad-pass-1")
    assert cloud.login(OWNER, PASSWORD).body["code"] == 0
    assert cloud.login(OWNER, "bad-pass-1").body["msg"] == "Account or password mismatch"


def test_new_login_revokes_the_previous_session(cloud):
    first = cloud.login(OWNER, PASSWORD).body["data"]["access_token"]
    assert check(cloud, first).body == {"code": 0, "data": True, "msg": "Request success"}
    second = cloud.login(OWNER, PASSWORD).body["data"]["access_token"]
    assert first != second
    response = check(cloud, first)
    assert response.status == 401 and response.body == {"code": 401, "msg": "Unauthorized"}
    assert check(cloud, second).body["data"] is True


def test_single_session_off_keeps_both_sessions(cloud):
    cloud.cloud.set_knobs({"single_session": False})
    first = cloud.login(OWNER, PASSWORD).body["data"]["access_token"]
    cloud.login(OWNER, PASSWORD)
    assert check(cloud, first).body["data"] is True


def test_check_without_or_with_unknown_token_is_401(cloud):
    assert cloud.request("POST", f"{USER}/user/oauth/check").status == 401
    assert check(cloud, "not-a-token").status == 401


def test_oauth_check_404_knob_answers_http_404(cloud):
    token = cloud.login(OWNER, PASSWORD).body["data"]["access_token"]
    cloud.cloud.set_knobs({"oauth_check": "404"})
    response = check(cloud, token)
    assert response.status == 404 and response.body["status"] == 404


def test_legacy_login_404_knob_retires_the_endpoint(cloud):
    cloud.cloud.set_knobs({"legacy_login": "404"})
    assert cloud.login(OWNER, PASSWORD).status == 404
    cloud.cloud.set_knobs({"legacy_login": "ok"})
    assert cloud.login(OWNER, PASSWORD).body["code"] == 0


def send_code(cloud, email):
    return cloud.request("POST", f"{USER}/email/register/code", query={"email": email})


def register(cloud, **overrides):
    body = {
        "areaCode": "DEU",
        "email": "dashboard@example.com",
        "fullName": "Dashboard",
        "password": "Second-Acct2",
        "verificationCode": "000000",
    } | overrides
    return cloud.request("POST", f"{USER}/email/register", json=body)


def mailbox_code(cloud, email):
    body = cloud.control("GET", "mailbox", query={"email": email}).body
    return body["latestCode"]


def test_second_account_flow_through_the_mailbox(cloud):
    email = "dashboard@example.com"
    assert send_code(cloud, email).body == {"code": 0, "data": True, "msg": "Request success"}
    code = mailbox_code(cloud, email)
    assert len(code) == 6 and code.isdigit()
    body = register(cloud, verificationCode=code).body
    assert body["code"] == 0
    assert body["data"]["email"] == email and body["data"]["domainAbbreviation"] == "DE"
    assert set(body["data"]) == {
        "areaCode",
        "createTime",
        "domainAbbreviation",
        "email",
        "id",
        "registerTime",
        "userId",
    }
    login = cloud.login(email, "Second-Acct2").body
    assert login["code"] == 0 and login["data"]["userInformation"]["areaCode"] == "DEU"
    assert check(cloud, login["data"]["access_token"]).body["data"] is True


def test_numeric_verification_code_is_accepted(cloud):
    send_code(cloud, "n@example.com")
    code = mailbox_code(cloud, "n@example.com")
    assert register(cloud, email="n@example.com", verificationCode=int(code)).body["code"] == 0


def test_second_code_within_60_seconds_is_40207(cloud):
    assert send_code(cloud, "a@example.com").body["code"] == 0
    cloud.advance(59)
    assert send_code(cloud, "a@example.com").body == {
        "code": 40207,
        "msg": "Emails are sent too often",
    }
    assert send_code(cloud, "b@example.com").body["code"] == 0  # cooldown is per address
    cloud.advance(2)
    assert send_code(cloud, "a@example.com").body["code"] == 0


def test_register_validation_errors(cloud):
    send_code(cloud, "dashboard@example.com")
    code = mailbox_code(cloud, "dashboard@example.com")
    assert register(cloud, areaCode="XXX", verificationCode=code).body == {
        "code": 500,
        "msg": "Area information does not exist.",
    }
    for weak in ("short1", "onlyletters", "12345678901234567"):
        body = register(cloud, password=weak, verificationCode=code).body
        assert body["code"] == 40302 and body["msg"].startswith("The password needs 8-16")
    body = register(cloud, verificationCode="999999" if code != "999999" else "111111").body
    assert body == {
        "code": 40200,
        "msg": "The verification code is invalid or expired, please reacquire",
    }


def test_code_expires_after_ten_minutes(cloud):
    send_code(cloud, "late@example.com")
    code = mailbox_code(cloud, "late@example.com")
    cloud.advance(601)
    assert register(cloud, email="late@example.com", verificationCode=code).body["code"] == 40200


def test_register_existing_email_is_500(cloud):
    send_code(cloud, OWNER)
    body = register(cloud, email=OWNER, verificationCode=mailbox_code(cloud, OWNER)).body
    assert body == {"code": 500, "msg": "The email has been registered"}


def test_deactivated_account_is_refused_everywhere(cloud):
    token = cloud.login(OWNER, PASSWORD).body["data"]["access_token"]
    cloud.control("POST", "accounts/owner@example.com/deactivate")
    deactivated = {
        "code": 500,
        "msg": "Your account activity is abnormal and has been deactivated",
    }
    assert cloud.login(OWNER, PASSWORD).body == deactivated
    assert check(cloud, token).body == deactivated
    cloud.control("POST", "accounts/owner%40example.com/reactivate")
    assert cloud.login(OWNER, PASSWORD).body["code"] == 0


def test_unknown_user_server_path_is_404(cloud):
    assert cloud.request("GET", f"{USER}/share/device/page").status == 404
    assert cloud.request("GET", f"{USER}/user/oauth/token").status == 405
