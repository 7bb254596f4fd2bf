"""Build vendor clients for a CloudAccount: decrypt its credentials, wire the base URLs
from settings, and plug the database in where the clients need state that outlives
them (the 360 SID renewal of cloud-apis.md 3.3.3, Mammotion's rotating tokens, 4.7).

Everything that talks to a vendor gets its client here; nothing else reads credentials.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from devices import crypto, locks
from devices.clouds.base import AuthExpired, CloudError, Unavailable
from devices.clouds.mammotion import MammotionClient
from devices.clouds.mammotion_account import MammotionAccountClient
from devices.clouds.mammotion_tokens import TokenSet
from devices.clouds.qihoo360 import Qihoo360Client
from devices.clouds.qihoo360_session import new_client_identity
from devices.models import AccountStatus, CloudAccount, LinkMethod

log = logging.getLogger(__name__)

# (connect, read) timeouts. A person waiting on a page gets a short one; workers more.
COMMAND_TIMEOUT = (3.05, 5)
PAGE_TIMEOUT = (5, 10)
BACKGROUND_TIMEOUT = (5, 30)

USER_AGENT = "robot-dashboard/1.0 (self-hosted)"
SID_LOGIN_WINDOW = timedelta(minutes=10)
SID_LOGINS_PER_WINDOW = 3
SID_LOGIN_SPACING = 10.0  # seconds between two logins of one account (3.3.3 step 3)


class CredentialsUnusable(AuthExpired):
    """The stored credentials cannot be decrypted (key missing or changed)."""

    default_user_message = (
        "The stored credentials of this account cannot be read (the encryption key "
        "changed). Link the account again."
    )


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def read_credentials(account: CloudAccount) -> dict:
    """The decrypted secrets; on failure the account is flagged "needs re-link" and
    CredentialsUnusable is raised, so no garbage is ever sent to a vendor."""
    try:
        return account.credentials()
    except crypto.CredentialError as exc:
        log.warning("account %s: credentials unreadable: %s", account.pk, exc)
        account.set_status(AccountStatus.REAUTH_REQUIRED, CredentialsUnusable.default_user_message)
        raise CredentialsUnusable() from None


def client_for(account: CloudAccount, *, timeout=BACKGROUND_TIMEOUT, session=None):
    """The Open API / 360 client of a linked account (not for app-account links)."""
    session = session or new_session()
    if account.method in (LinkMethod.QIHOO360_SID, LinkMethod.QIHOO360_QT):
        return qihoo360_client(account, timeout=timeout, session=session)
    if account.method == LinkMethod.MAMMOTION_OPEN_API:
        return mammotion_client(account, timeout=timeout, session=session)
    raise CloudError(user_message="This kind of account has no machines to talk to.")


# --- 360 Smart ------------------------------------------------------------------------


def qihoo360_client(account: CloudAccount, *, timeout, session) -> Qihoo360Client:
    creds = read_credentials(account)
    qt = account.method == LinkMethod.QIHOO360_QT
    # A person waiting on a button must not wait out another worker's renewal.
    wait = 45.0 if timeout == BACKGROUND_TIMEOUT else 5.0
    return Qihoo360Client(
        session,
        qid=account.identity,
        timeout=timeout,
        sid=creds.get("sid"),
        q=creds.get("q") if qt else None,
        t=creds.get("t") if qt else None,
        push_key=creds.get("push_key"),
        renew_sid=(lambda failed: renew_sid(account.pk, failed, wait=wait)) if qt else None,
        api_url=settings.QIHOO360_API_URL,
    )


def renew_sid(account_pk: int, failed_sid: str, *, wait: float = 45.0) -> str:
    """cloud-apis.md 3.3.3: one renewal at a time per account; skip it when another
    worker already renewed; at most 3 logins per 10 minutes; persist SID and pushKey
    together. Raises AuthExpired (and flags the account) when Q/T no longer work, and
    Unavailable when another renewal does not finish within `wait` seconds."""
    try:
        with locks.held(f"sid-renewal:{account_pk}", timedelta(seconds=60), wait=wait):
            return _renew_sid_locked(account_pk, failed_sid, wait=wait)
    except locks.LeaseBusy:
        raise Unavailable(
            user_message="The 360 session is being renewed. Try again in a moment."
        ) from None


def _renew_sid_locked(account_pk: int, failed_sid: str, *, wait: float) -> str:
    account = CloudAccount.objects.get(pk=account_pk)
    creds = read_credentials(account)
    if creds.get("sid") and creds["sid"] != failed_sid:
        return creds["sid"]  # renewed by someone else meanwhile
    now = timezone.now()
    recent = [
        t for t in account.login_attempts if datetime.fromisoformat(t) > now - SID_LOGIN_WINDOW
    ]
    if len(recent) >= SID_LOGINS_PER_WINDOW:
        return _sid_renewal_failed(account, "Too many session renewals; link it again.")
    if recent:
        pause = SID_LOGIN_SPACING - (now - datetime.fromisoformat(max(recent))).total_seconds()
        if pause > wait:
            raise Unavailable(user_message="The 360 session was just renewed; try again.")
        if pause > 0:
            time.sleep(pause)
    account.login_attempts = [*recent, timezone.now().isoformat()]
    account.save(update_fields=["login_attempts"])
    return _login_and_store(account, creds)


def _login_and_store(account: CloudAccount, creds: dict) -> str:
    notify_id, imei = creds.get("notify_id"), creds.get("imei")
    if not (notify_id and imei):
        notify_id, imei = new_client_identity()
    client = Qihoo360Client(
        new_session(),
        qid=account.identity,
        timeout=BACKGROUND_TIMEOUT,
        q=creds["q"],
        t=creds["t"],
        api_url=settings.QIHOO360_API_URL,
    )
    try:
        login = client.login(notify_id=notify_id, imei=imei)
    except AuthExpired as exc:
        return _sid_renewal_failed(account, exc.user_message)
    with transaction.atomic():
        fresh = CloudAccount.objects.select_for_update().get(pk=account.pk)
        secrets = {**read_credentials(fresh), "sid": login.sid, "push_key": login.push_key}
        secrets.update(notify_id=notify_id, imei=imei)
        fresh.set_credentials(secrets)
        fresh.save(update_fields=["credentials_token"])
    log.info("account %s: 360 session renewed", account.pk)
    return login.sid


def _sid_renewal_failed(account: CloudAccount, message: str):
    account.set_status(AccountStatus.REAUTH_REQUIRED, message)
    raise AuthExpired(user_message=message)


# --- Mammotion ------------------------------------------------------------------------


def mammotion_client(account: CloudAccount, *, timeout, session) -> MammotionClient:
    creds = read_credentials(account)
    return MammotionClient(
        session,
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        token_store=DbTokenStore(account.pk),
        timeout=timeout,
        auth_url=settings.MAMMOTION_AUTH_URL,
        api_url=settings.MAMMOTION_OPEN_API_URL,
        report_variants=creds.get("report_variants") or {},
    )


def mammotion_account_client(*, timeout=PAGE_TIMEOUT, session=None) -> MammotionAccountClient:
    return MammotionAccountClient(
        session or new_session(), timeout=timeout, user_url=settings.MAMMOTION_USER_URL
    )


def token_dict(tokens: TokenSet) -> dict:
    """The shape DbTokenStore keeps under "tokens" in an account's credentials."""
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at.isoformat(),
        "obtained_at": tokens.obtained_at.isoformat(),
    }


class DbTokenStore:
    """Mammotion Open API tokens of one account, kept in its encrypted credentials.

    The lock is a database lease, not an open transaction, so a token request to the
    vendor never holds a database write lock. `save` commits before it returns: a
    rotated refresh token exists nowhere else."""

    def __init__(self, account_pk: int):
        self.account_pk = account_pk

    def load(self) -> TokenSet | None:
        account = CloudAccount.objects.get(pk=self.account_pk)
        raw = read_credentials(account).get("tokens")
        if not raw:
            return None
        return TokenSet(
            access_token=raw["access_token"],
            refresh_token=raw.get("refresh_token"),
            expires_at=datetime.fromisoformat(raw["expires_at"]),
            obtained_at=datetime.fromisoformat(raw["obtained_at"]),
        )

    def save(self, tokens: TokenSet) -> None:
        with transaction.atomic():
            account = CloudAccount.objects.select_for_update().get(pk=self.account_pk)
            secrets = read_credentials(account)
            secrets["tokens"] = token_dict(tokens)
            account.set_credentials(secrets)
            account.save(update_fields=["credentials_token"])

    def lock(self):
        return locks.held(f"mammotion-token:{self.account_pk}", timedelta(seconds=60), wait=45)
