"""Linking vendor cloud accounts to a household (cloud-apis.md 3.3, 4.4.1, 4.3.6).

Every link first asks the vendor cloud, with a short timeout and without touching the
database, whether the credentials work (360: GetList, or login then GetList; Mammotion
Open API: token and mower list; the Mammotion app account, in linking_mammotion: login
and token check). Only then is the account written, with its machines, in one short
transaction. A failure raises ``LinkError`` with a message for the person, and nothing
is stored.

Re-linking updates the credentials of an existing account and keeps its machines and
history. Removing erases the credentials and either deletes the account with all its
history, or keeps the row as a "removed" archive (``is_removed``): no credentials,
machines marked gone, never due for a sync, runs and faults still in the reports.
Linking the same account again later brings the archive back to life.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from devices import crypto
from devices import linking_errors as limits
from devices.cloud import new_session, token_dict
from devices.clouds.base import RemoteDevice
from devices.clouds.mammotion import MammotionClient
from devices.clouds.mammotion_tokens import InMemoryTokenStore
from devices.clouds.qihoo360 import Qihoo360Client
from devices.clouds.qihoo360_session import new_client_identity
from devices.discovery import DiscoveryResult, apply_device_list
from devices.history import Run
from devices.linking_errors import LinkError, explained
from devices.machines import Device
from devices.models import AccountStatus, CloudAccount, LinkMethod, Vendor

__all__ = [
    "LinkError",
    "LinkResult",
    "is_removed",
    "link_mammotion_open_api",
    "link_qihoo360_qt",
    "link_qihoo360_sid",
    "queue_sync",
    "remove_account",
]

log = logging.getLogger(__name__)

# A removed account that keeps its history is never due for a sync.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)

EMPTY_MAMMOTION_LIST = (
    "Mammotion lists no machines for these credentials yet. That is normal: its Open API "
    "officially serves only mower models released in 2025; older ones (a LUBA 2 AWD, for "
    "example) appear once they are shared to the account that owns the API credentials. "
    "Share the mower to that account in the Mammotion app, then press “Sync now”."
)
NO_PUSH_KEY = (
    "No push key was given, so live status (battery, state) will not be available for "
    "this account until you re-link it with one."
)


@dataclass(frozen=True)
class LinkResult:
    account: CloudAccount
    created: bool  # a new account row (False: re-linked, or a removed one brought back)
    discovery: DiscoveryResult | None  # None for app accounts: they have no machines
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """One sentence for the success message: what was linked, what was found."""
        head = f"{'Linked' if self.created else 'Re-linked'} {self.account.label}."
        if self.discovery is None:
            return head
        return f"{head} {machines_found(self.discovery.present)}"

    def with_notes(self, *notes: str) -> LinkResult:
        return LinkResult(self.account, self.created, self.discovery, (*self.notes, *notes))


def machines_found(count: int) -> str:
    if count == 0:
        return "No machines found in this account."
    return f"Found {count} machine{'' if count == 1 else 's'}."


def is_removed(account: CloudAccount) -> bool:
    """A removed account keeps its history but has no credentials (every linked account
    has some: they are stored at link time and erased only by ``remove_account``)."""
    return not account.credentials_token


def has_machines(account: CloudAccount) -> bool:
    """App-account links verify a sign-in; only the other kinds have machines to sync."""
    return account.method != LinkMethod.MAMMOTION_APP and not is_removed(account)


def default_label(vendor: str, method: str, identity: str) -> str:
    if vendor == Vendor.QIHOO360:
        return f"360 Smart (QID {identity})"
    if method == LinkMethod.MAMMOTION_APP:
        return identity
    return f"Mammotion API ({identity})"


# --- 360 Smart (cloud-apis.md 3.3) -----------------------------------------------------


def link_qihoo360_sid(
    *, household, user, qid: str, sid: str, push_key: str = "", label: str = "", account=None
) -> LinkResult:
    """Method 1: QID + SID (+ optional push key), checked with GetList (3.3.1)."""
    qid, sid, push_key = qid.strip(), sid.strip(), push_key.strip()
    check_target(household, Vendor.QIHOO360, qid, account, field_name="qid")
    client = _qihoo360(qid=qid, sid=sid, push_key=push_key or None)
    with explained(Vendor.QIHOO360, "sid"):
        remotes = client.list_devices()
    secrets = {"sid": sid, **({"push_key": push_key} if push_key else {})}
    result = store_link(
        household=household,
        user=user,
        vendor=Vendor.QIHOO360,
        method=LinkMethod.QIHOO360_SID,
        identity=qid,
        label=label,
        secrets=secrets,
        remotes=remotes,
        account=account,
    )
    return result if push_key else result.with_notes(NO_PUSH_KEY)


def link_qihoo360_qt(
    *, household, user, qid: str, q: str, t: str, label: str = "", account=None
) -> LinkResult:
    """Method 2: Q and T cookies + QID. The dashboard logs in for the SID and push key
    and renews the SID itself later (3.3.2, 3.5.1); the client identity it logs in
    with (notifyId, imei) stays the account's for good."""
    qid, q, t = qid.strip(), q.strip(), t.strip()
    check_target(household, Vendor.QIHOO360, qid, account, field_name="qid")
    notify_id, imei = _client_identity(account)
    client = _qihoo360(qid=qid, q=q, t=t)
    with explained(Vendor.QIHOO360, "qt_login"):
        login = client.login(notify_id=notify_id, imei=imei)
    with explained(Vendor.QIHOO360, "qt_list"):
        remotes = client.list_devices()
    secrets = {
        "q": q,
        "t": t,
        "sid": login.sid,
        "push_key": login.push_key,
        "notify_id": notify_id,
        "imei": imei,
    }
    return store_link(
        household=household,
        user=user,
        vendor=Vendor.QIHOO360,
        method=LinkMethod.QIHOO360_QT,
        identity=qid,
        label=label,
        secrets=secrets,
        remotes=remotes,
        account=account,
    )


def _qihoo360(**credentials) -> Qihoo360Client:
    try:
        return Qihoo360Client(
            new_session(),
            timeout=limits.LINK_TIMEOUT,
            retry_pause=limits.RETRY_PAUSE,
            api_url=settings.QIHOO360_API_URL,
            **credentials,
        )
    except ValueError as exc:  # the forms check the same rules; this is the last line
        raise LinkError(f"These values cannot be used: {exc}.") from None


def _client_identity(account: CloudAccount | None) -> tuple[str, str]:
    """Keep the notifyId/imei of an account being re-linked (a changing device identity
    triggers 360 risk control, 3.5.1); otherwise a new pair."""
    if account is not None and not is_removed(account):
        try:
            old = account.credentials()
        except crypto.CredentialError:
            old = {}
        if old.get("notify_id") and old.get("imei"):
            return old["notify_id"], old["imei"]
    return new_client_identity()


# --- Mammotion Open API (cloud-apis.md 4.4.1, 4.4.3) -----------------------------------


def link_mammotion_open_api(
    *, household, user, client_id: str, client_secret: str, label: str = "", account=None
) -> LinkResult:
    """Client credentials: a token, then the mower list. The token is kept, so the
    first sync needs no second token request (4.7: one per 30 s)."""
    client_id, client_secret = client_id.strip(), client_secret.strip()
    check_target(household, Vendor.MAMMOTION, client_id, account, field_name="client_id")
    tokens = InMemoryTokenStore()
    client = MammotionClient(
        new_session(),
        client_id=client_id,
        client_secret=client_secret,
        token_store=tokens,
        timeout=limits.LINK_TIMEOUT,
        retry_pause=limits.RETRY_PAUSE,
        auth_url=settings.MAMMOTION_AUTH_URL,
        api_url=settings.MAMMOTION_OPEN_API_URL,
    )
    with explained(Vendor.MAMMOTION, "open_api"):
        remotes = client.list_devices()
    secrets: dict = {"client_id": client_id, "client_secret": client_secret}
    if (obtained := tokens.load()) is not None:
        secrets["tokens"] = token_dict(obtained)
    result = store_link(
        household=household,
        user=user,
        vendor=Vendor.MAMMOTION,
        method=LinkMethod.MAMMOTION_OPEN_API,
        identity=client_id,
        label=label,
        secrets=secrets,
        remotes=remotes,
        account=account,
    )
    return result if remotes else result.with_notes(EMPTY_MAMMOTION_LIST)


# --- storing ---------------------------------------------------------------------------


def check_target(household, vendor: str, identity: str, account, *, field_name: str) -> None:
    """Before any vendor call: a re-link keeps its vendor (and, for 360 and app accounts,
    its identity); a new link must not duplicate an account that is linked."""
    if account is not None:
        if account.household_id != household.pk or account.vendor != vendor:
            raise LinkError("This form does not fit this account.")
        keeps_identity = vendor == Vendor.QIHOO360 or account.method == LinkMethod.MAMMOTION_APP
        if keeps_identity and account.identity.lower() != identity.lower():
            raise LinkError(
                f"This account is {account.identity}. To link a different account, use "
                "“Link a cloud account” instead.",
                field=field_name,
            )
        return
    duplicate = _same_identity(household, vendor, identity).first()
    if duplicate is not None and not is_removed(duplicate):
        raise LinkError(
            f"This account is already linked as “{duplicate.label}”. To enter new "
            "credentials, open it and choose “Re-link”.",
            field=field_name,
        )


def _same_identity(household, vendor: str, identity: str):
    return CloudAccount.objects.filter(
        household=household, vendor=vendor, identity__iexact=identity
    ).order_by("pk")


RELINK_FIELDS = [
    "method",
    "identity",
    "label",
    "region",
    "credentials_token",
    "status",
    "status_message",
    "status_changed_at",
    "consecutive_failures",
    "next_sync_at",
    "login_attempts",
]


def store_link(
    *,
    household,
    user,
    vendor: str,
    method: str,
    identity: str,
    label: str,
    secrets: dict,
    remotes: list[RemoteDevice] | None,
    account: CloudAccount | None,
    region: str = "",
) -> LinkResult:
    """Write the account (new, re-linked, or a removed one brought back with its
    history) and its machines in one transaction; then ask for the first sync."""
    now = timezone.now()
    with transaction.atomic():
        if account is None:
            account = _same_identity(household, vendor, identity).first()  # removed: revive
        created = account is None
        if created:
            account = CloudAccount(household=household, vendor=vendor, created_by=user)
        else:
            account = CloudAccount.objects.select_for_update().get(pk=account.pk)
        label = label.strip() or account.label or default_label(vendor, method, identity)
        account.method, account.identity, account.label = method, identity[:254], label[:100]
        account.region = region[:64]
        account.set_credentials(secrets)
        account.status, account.status_message, account.status_changed_at = (
            AccountStatus.OK,
            "",
            now,
        )
        account.consecutive_failures, account.next_sync_at, account.login_attempts = 0, now, []
        account.save(update_fields=None if created else RELINK_FIELDS)
        discovery = apply_device_list(account, remotes) if remotes is not None else None
    log.info("cloud account %s linked (%s, %s)", account.pk, method, "new" if created else "again")
    if remotes is not None:
        queue_sync(account, trigger="link")
    return LinkResult(account=account, created=created, discovery=discovery)


# --- sync, removal ---------------------------------------------------------------------


def queue_sync(account: CloudAccount, *, trigger: str) -> bool:
    """Ask the sync service for a sync of this account now; False when that failed.
    The account stays linked either way: the regular schedule picks it up."""
    try:
        from devices.sync import request_sync
    except ImportError as exc:
        if exc.name != "devices.sync":
            raise
        log.warning("devices.sync is not available; account %s waits for its schedule", account.pk)
        return False
    try:
        request_sync(account, trigger=trigger)
    except Exception:  # the link is committed; failing the page now would mislead
        log.exception("could not request a %s sync of account %s", trigger, account.pk)
        return False
    return True


def remove_account(*, account: CloudAccount, delete_history: bool) -> None:
    """Erase the credentials. With ``delete_history`` the account and everything synced
    from it go (map images too); otherwise the row stays as a removed archive: machines
    marked gone, never synced again, runs and faults kept."""
    if delete_history:
        maps = list(
            Run.objects.filter(device__account=account)
            .exclude(map_file="")
            .values_list("map_file", flat=True)
        )
        pk = account.pk
        with transaction.atomic():
            account.delete()
            transaction.on_commit(lambda: _delete_map_files(maps))
        log.info("cloud account %s removed with its history", pk)
        return
    now = timezone.now()
    with transaction.atomic():
        CloudAccount.objects.filter(pk=account.pk).update(
            credentials_token="",
            status=AccountStatus.OK,
            status_message="",
            status_changed_at=now,
            next_sync_at=NEVER,
            lease_until=None,
            lease_token="",
            consecutive_failures=0,
            login_attempts=[],
        )
        Device.objects.filter(account=account, gone_at__isnull=True).update(gone_at=now)
    account.refresh_from_db()
    log.info("cloud account %s removed; its history is kept", account.pk)


def _delete_map_files(names: list[str]) -> None:
    root = Path(settings.MEDIA_ROOT).resolve()
    for name in names:
        path = (root / name).resolve()
        if root in path.parents:  # never outside MEDIA_ROOT
            path.unlink(missing_ok=True)
