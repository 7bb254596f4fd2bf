"""Mammotion token host `POST /oauth2/token` (docs/cloud-apis.md §4.4.1, §5.4.3) and the
token helpers shared with surface A and the Open API."""

from __future__ import annotations

import base64
import json
import secrets

from simulator.interface import SimRequest, SimResponse
from simulator.mammotion_http import DEACTIVATED, open_fail, open_ok, spring_error
from simulator.mammotion_model import Token, World

REFRESH_SECONDS = 30 * 86400
_PRUNE_ABOVE = 5000


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_like(claims: dict) -> str:
    """Three Base64url parts like a JWT; the signature is random, the store is the truth."""
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{_b64url(secrets.token_bytes(48))}"


def store(world: World, tokens: dict[str, Token], token: Token) -> None:
    if len(tokens) > _PRUNE_ABOVE:
        now = world.now()
        for value in [v for v, t in tokens.items() if not t.live(now)]:
            del tokens[value]
    tokens[token.value] = token


def open_client(world: World, req: SimRequest) -> str | None:
    """The client_id behind a live Open API bearer token, or None (-> HTTP 401)."""
    token = world.open_tokens.get(req.bearer() or "")
    if token is None or not token.live(world.now()):
        return None
    credential = world.credentials.get(token.owner)
    if credential is None or credential.disabled:
        return None
    return token.owner


def expire_open_tokens(world: World, client_id: str | None = None) -> int:
    count = 0
    for token in world.open_tokens.values():
        if client_id is None or token.owner == client_id:
            token.revoked, count = True, count + 1
    return count


def handle_token(world: World, req: SimRequest) -> SimResponse:
    """`POST /oauth2/token`, form-encoded: client_credentials and refresh_token grants."""
    if req.method != "POST":
        return spring_error(world, 405, "Method Not Allowed", req.path)
    form = req.form()
    for field in ("client_id", "client_secret", "grant_type"):
        if not form.get(field):
            return open_fail(world, 400, f"{field} is required")
    credential = world.credentials.get(form["client_id"])
    valid = credential and not credential.disabled and credential.secret == form["client_secret"]
    if not valid:
        return SimResponse(status=401, body={"code": 40101, "msg": "invalid client"})
    account = world.account_of_client(credential.client_id)
    if account is not None and account.deactivated:
        return open_fail(world, 500, DEACTIVATED)
    grant = form["grant_type"]
    if grant == "client_credentials":
        return _issue(world, credential.client_id)
    if grant == "refresh_token":
        return _refresh(world, credential.client_id, form.get("refresh_token", ""))
    return open_fail(world, 400, "grant_type is invalid")


def _refresh(world: World, client_id: str, value: str) -> SimResponse:
    if not value:
        return open_fail(world, 400, "refresh_token is required")
    token = world.refresh_tokens.get(value)
    usable = token is not None and token.owner == client_id and token.live(world.now())
    if world.reject_next_refresh:
        world.reject_next_refresh, usable = False, False
    if token is not None:
        token.revoked = True  # rotation: a refresh token works once (§4.4.1)
    if not usable:
        return open_fail(world, 40102, "Refresh token has expired")
    return _issue(world, client_id)


def _issue(world: World, client_id: str) -> SimResponse:
    now, ttl = world.now(), int(world.knobs["token_ttl"])
    claims = {
        "client_id": client_id,
        "iat": int(now),
        "exp": int(now + ttl),
        "jti": secrets.token_hex(16),
    }
    access = Token(jwt_like(claims), client_id, now + ttl)
    refresh = Token(secrets.token_urlsafe(32), client_id, now + REFRESH_SECONDS)
    store(world, world.open_tokens, access)
    store(world, world.refresh_tokens, refresh)
    data = {
        "access_token": access.value,
        "refresh_token": refresh.value,
        "token_type": "Bearer",
        "expires_in": ttl,
    }
    return open_ok(world, data)
