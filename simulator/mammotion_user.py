"""Mammotion surface A, the user-server API (docs/cloud-apis.md §4.3, §5.4.2)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from simulator.interface import SimRequest, SimResponse
from simulator.mammotion_auth import jwt_like, store
from simulator.mammotion_http import DEACTIVATED, spring_error, unauthorized, user_fail, user_ok
from simulator.mammotion_model import Account, Mail, Token, World
from simulator.mammotion_seed import new_account
from simulator.mammotion_texts import area_list, domain_of

PREFIX = "/user-server/v1/"
APP_CLIENT_ID = "MADKALUBAS"
APP_CLIENT_SECRET = "GshzGRZJjuMUgd2sYHM7"  # noqa: S105 - the app's public client secret (§4.3.1)
MAX_FAILURES = 5
LOCK_SECONDS = 300
MAIL_COOLDOWN = 60
CODE_VALID = 600

MISMATCH = "Account or password mismatch"
NOT_EXIST = "User not exist"
LOCKED = "Too many password verification errors, please try again in 5 minutes"
ACCESS_DENIED = "Access denied"
BAD_AREA = "Area information does not exist."
# An error message, not a secret (hence the noqa).
BAD_PASSWORD = "The password needs 8-16 digits, including at least any two types of letters, numbers and special characters."  # noqa: S105
BAD_CODE = "The verification code is invalid or expired, please reacquire"
REGISTERED = "The email has been registered"
TOO_OFTEN = "Emails are sent too often"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def handle(world: World, req: SimRequest) -> SimResponse:
    route = req.path[len(PREFIX) :].strip("/") if req.path.startswith(PREFIX) else None
    handler, method = _ROUTES.get(route, (None, None))
    if handler is None:
        return spring_error(world, 404, "Not Found", req.path)
    if req.method != method:
        return spring_error(world, 405, "Method Not Allowed", req.path)
    return handler(world, req)


def email_of(world: World, req: SimRequest) -> str | None:
    """The app account a user-server request concerns (fault matching, deactivation)."""
    if req.path.endswith("/user/oauth/check"):
        token = world.user_tokens.get(req.bearer() or "")
        return token.owner if token else None
    if req.path.endswith("/email/register"):
        body = req.json()
        email = body.get("email") if isinstance(body, dict) else None
        return _norm(email) if isinstance(email, str) else None
    email = req.query.get("username") or req.query.get("email")
    return _norm(email) if email else None


def _norm(email: str) -> str:
    return email.strip().lower()


def _area(world: World, req: SimRequest) -> SimResponse:
    return user_ok(area_list())


def _login(world: World, req: SimRequest) -> SimResponse:
    if world.knobs["legacy_login"] == "404":
        return spring_error(world, 404, "Not Found", req.path)
    query = req.query
    app_client = (query.get("client_id"), query.get("client_secret"), query.get("grant_type"))
    if app_client != (APP_CLIENT_ID, APP_CLIENT_SECRET, "password"):
        return user_fail(500, ACCESS_DENIED)
    account = world.accounts.get(_norm(query.get("username", "")))
    if account is None:
        return user_fail(500, NOT_EXIST)
    if account.deactivated:
        return user_fail(500, DEACTIVATED)
    now = world.now()
    if account.locked_until > now:
        return user_fail(500, LOCKED)
    if query.get("password", "") != account.password:
        account.failures += 1
        if account.failures >= MAX_FAILURES:
            account.failures, account.locked_until = 0, now + LOCK_SECONDS
            return user_fail(500, LOCKED)
        return user_fail(500, MISMATCH)
    account.failures = 0
    return user_ok(_issue(world, account))


def _issue(world: World, account: Account) -> dict:
    now, ttl = world.now(), int(world.knobs["login_token_ttl"])
    if world.knobs["single_session"]:
        # One session per app account (§4.1): the new login signs the others out.
        for token in world.user_tokens.values():
            if token.owner == account.email:
                token.revoked = True
    jti = secrets.token_hex(16)
    claims = {"user_name": account.email, "scope": ["read"], "exp": int(now + ttl), "jti": jti}
    access = Token(jwt_like({**claims, "client_id": APP_CLIENT_ID}), account.email, now + ttl)
    store(world, world.user_tokens, access)
    return {
        "access_token": access.value,
        "token_type": "bearer",
        "refresh_token": jwt_like({**claims, "ati": jti}),
        "expires_in": ttl,
        "scope": "read",
        "grant_type": "password",
        "authorization_code": secrets.token_urlsafe(12),
        "userInformation": {
            "areaCode": account.area_code,
            "domainAbbreviation": account.domain,
            "email": account.email,
            "gender": "0",
            "userId": account.user_id,
        },
        "jti": jti,
    }


def _check(world: World, req: SimRequest) -> SimResponse:
    if world.knobs["oauth_check"] == "404":
        return spring_error(world, 404, "Not Found", req.path)
    token = world.user_tokens.get(req.bearer() or "")
    if token is None or not token.live(world.now()):
        return unauthorized()
    account = world.accounts.get(token.owner)
    if account is not None and account.deactivated:
        return user_fail(500, DEACTIVATED)
    return user_ok(True)


def _send_code(world: World, req: SimRequest) -> SimResponse:
    email = _norm(req.query.get("email", ""))
    if not email:
        return user_fail(400, "email is required")
    if not _EMAIL.match(email):
        return user_fail(500, "The email format is incorrect")
    account = world.accounts.get(email)
    if account is not None and account.deactivated:
        return user_fail(500, DEACTIVATED)
    now = world.now()
    mails = world.mailbox.setdefault(email, [])
    if mails and now - mails[-1].sent < MAIL_COOLDOWN:
        return user_fail(40207, TOO_OFTEN)
    mails.append(Mail(code=f"{secrets.randbelow(10**6):06d}", sent=now))
    return user_ok(True)


def _register(world: World, req: SimRequest) -> SimResponse:
    body = req.json()
    if not isinstance(body, dict):
        return user_fail(400, "request body is invalid")
    for field in ("areaCode", "email", "password", "verificationCode"):
        if body.get(field) in (None, ""):
            return user_fail(400, f"{field} is required")
    email = _norm(str(body["email"]))
    domain = domain_of(str(body["areaCode"]))
    if domain is None:
        return user_fail(500, BAD_AREA)
    if not password_ok(str(body["password"])):
        return user_fail(40302, BAD_PASSWORD)
    if not _code_ok(world, email, body["verificationCode"]):
        return user_fail(40200, BAD_CODE)
    if email in world.accounts:
        return user_fail(500, REGISTERED)
    world.mailbox.pop(email, None)  # the code is used up
    account = new_account(
        world, email, str(body["password"]), body["areaCode"], domain, world.now()
    )
    account.full_name = str(body.get("fullName") or "")
    created = datetime.fromtimestamp(account.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
    data = {
        "areaCode": account.area_code,
        "createTime": created,
        "domainAbbreviation": domain,
        "email": email,
        "id": account.user_id,
        "registerTime": created,
        "userId": account.user_id,
    }
    return user_ok(data)


def password_ok(password: str) -> bool:
    """8-16 characters with at least two of: letters, digits, other characters (§4.3.4)."""
    kinds = (
        any(c.isalpha() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    return 8 <= len(password) <= 16 and sum(kinds) >= 2


def _code_ok(world: World, email: str, given: object) -> bool:
    mails = world.mailbox.get(email)
    if not mails or world.now() - mails[-1].sent > CODE_VALID:
        return False
    # The documented body sends the code unquoted: accept a number as well (§4.3.4).
    code = f"{given:06d}" if isinstance(given, int) and not isinstance(given, bool) else str(given)
    return secrets.compare_digest(code.strip(), mails[-1].code)


_ROUTES = {
    "area": (_area, "GET"),
    "user/oauth/token": (_login, "POST"),
    "user/oauth/check": (_check, "POST"),
    "email/register/code": (_send_code, "POST"),
    "email/register": (_register, "POST"),
}
