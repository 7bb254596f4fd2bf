"""The Mammotion app-account side of linking (cloud-apis.md 4.3, surface A): regions,
signing in with an app account, and the guided "dedicated dashboard account" sign-up.

Each Mammotion app account allows one session (4.1), so the product recommends a second
account for the dashboard: it gets the mowers shared to it and owns the Open API
credentials. Passwords are used for one request and never stored, not even in the
session between the sign-up steps (the code step asks for the password).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from devices import linking_errors as limits
from devices.cloud import new_session
from devices.clouds.errors import AuthExpired, CloudError
from devices.clouds.mammotion_account import (
    CODE_COOLDOWN_S,
    Area,
    MammotionAccountClient,
    TokenCheck,
)
from devices.linking import LinkResult, check_target, store_link
from devices.linking_errors import LinkError, explained
from devices.models import LinkMethod, Vendor

AREAS_CACHE_SECONDS = 24 * 3600  # 4.3.2: cache the area list for 24 h


def account_client() -> MammotionAccountClient:
    return MammotionAccountClient(
        new_session(),
        timeout=limits.LINK_TIMEOUT,
        retry_pause=limits.RETRY_PAUSE,
        user_url=settings.MAMMOTION_USER_URL,
    )


# --- regions (4.3.2) -------------------------------------------------------------------


def _areas_key() -> str:
    return "mammotion:areas:" + hashlib.sha256(settings.MAMMOTION_USER_URL.encode()).hexdigest()


def mammotion_regions() -> list[Area]:
    """The live area list, sorted by English name, cached for a day. Raises LinkError
    when Mammotion cannot be asked."""
    areas = cache.get(_areas_key())
    if areas is None:
        with explained(Vendor.MAMMOTION, "areas"):
            areas = account_client().list_areas()
        cache.set(_areas_key(), areas, AREAS_CACHE_SECONDS)
    return areas


def region_label(area_code: str | None, abbreviation: str | None) -> str:
    """ "Sweden (SE)" from the alpha-3 code of userInformation, using the cached area
    list when there is one (never a vendor call just for a name)."""
    if not area_code and not abbreviation:
        return ""
    names = {area.iso_code: area.name for area in cache.get(_areas_key()) or []}
    name = names.get(area_code or "") or area_code or abbreviation
    short = abbreviation or area_code
    return name if name == short else f"{name} ({short})"


# --- linking an app account (4.3.1, 4.3.5, 4.3.6 "Link an app account") ---------------


def link_mammotion_app(
    *,
    household,
    user,
    email: str,
    password: str,
    region_code: str = "",
    label: str = "",
    account=None,
) -> LinkResult:
    """Sign in, then check the token. Stores the token, never the password. The account
    verifies the sign-in and shows its region (Mammotion's record; else the one chosen);
    mowers come through Open API credentials."""
    email = email.strip().lower()
    check_target(household, Vendor.MAMMOTION, email, account, field_name="email")
    client = account_client()
    with explained(Vendor.MAMMOTION, "app_login"):
        login = client.login(email, password)
    notes = [_token_check_note(client, login.access_token)]
    theirs = region_label(login.user.area_code, login.user.domain_abbreviation)
    chosen = region_label(region_code, None)
    if theirs and chosen and region_code != login.user.area_code:
        notes.append(
            f"Mammotion has this account registered in {theirs}, not {chosen}; "
            "the dashboard shows Mammotion's record."
        )
    result = store_link(
        household=household,
        user=user,
        vendor=Vendor.MAMMOTION,
        method=LinkMethod.MAMMOTION_APP,
        identity=(login.user.email or email).lower(),
        label=label,
        secrets={
            "access_token": login.access_token,
            "refresh_token": login.refresh_token,
            "expires_at": login.expires_at.isoformat() if login.expires_at else None,
            "user_id": login.user.user_id,
        },
        remotes=None,
        account=account,
        region=theirs or chosen,
    )
    return result.with_notes(*notes)


def _token_check_note(client: MammotionAccountClient, access_token: str) -> str:
    """4.3.5: verified; HTTP 404 = not verifiable (not an error); 401 = signed out again
    (the link fails); anything else: keep the token and say so."""
    try:
        check = client.check_token(access_token)
    except AuthExpired:
        raise LinkError(
            "Mammotion accepted the password but signed the new session out straight away "
            "(maybe another sign-in to this account). Try again."
        ) from None
    except CloudError as exc:
        return f"The sign-in worked, but Mammotion's token check failed: {exc.user_message}"
    if check == TokenCheck.NOT_VERIFIABLE:
        return (
            "Mammotion's token check is not available at the moment (that is normal today), "
            "so the sign-in could not be double-checked. That is not an error."
        )
    return "Mammotion confirmed the sign-in."


# --- the dedicated-account sign-up (4.3.6 steps 2-6) -----------------------------------


def _cooldown_key(email: str) -> str:
    return "mammotion:code-sent:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def code_cooldown_left(email: str) -> int:
    """Seconds until another code may be requested for this address (0: now)."""
    sent_at = cache.get(_cooldown_key(email))
    if sent_at is None:
        return 0
    return max(0, int(CODE_COOLDOWN_S - (time.time() - sent_at) + 0.999))


class CodeCooldown(LinkError):
    """A code went to this address less than a minute ago: use that one, or wait."""


def send_signup_code(*, email: str) -> None:
    """Ask Mammotion to email a verification code, at most once a minute per address
    (4.3.3: a cooldown of our own, plus the vendor's 40207 "too often")."""
    if not cache.add(_cooldown_key(email), time.time(), CODE_COOLDOWN_S):
        wait = code_cooldown_left(email) or CODE_COOLDOWN_S
        raise CodeCooldown(
            f"A code was sent to this address just now. Ask again in {wait} seconds."
        )
    try:
        with explained(Vendor.MAMMOTION, "signup_code"):
            account_client().request_registration_code(email.strip())
    except LinkError:
        cache.delete(_cooldown_key(email))  # nothing was sent: no reason to wait
        raise


@dataclass(frozen=True)
class SignupResult:
    email: str
    confirmed: bool  # signed in with the new account afterwards (4.3.6 step 6)
    note: str


def create_signup_account(
    *, area_code: str, email: str, full_name: str, password: str, verification_code: str
) -> SignupResult:
    """Register (4.3.4), then sign in with the new account and check the token to
    confirm it works (it has no other session to disturb). Nothing is stored."""
    client = account_client()
    with explained(Vendor.MAMMOTION, "register"):
        client.register(
            area_code=area_code,
            email=email.strip(),
            full_name=full_name.strip(),
            password=password,
            verification_code=verification_code.strip(),
        )
    try:
        login = client.login(email.strip(), password)
        check = client.check_token(login.access_token)
    except CloudError as exc:
        return SignupResult(
            email=email,
            confirmed=False,
            note=f"The account was created, but signing in with it did not work yet: "
            f"{exc.user_message}",
        )
    if check == TokenCheck.NOT_VERIFIABLE:
        note = "Signing in with the new account worked."
    else:
        note = "Signing in with the new account worked, and Mammotion confirmed it."
    return SignupResult(email=email, confirmed=True, note=note)
