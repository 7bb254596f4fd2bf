"""devices/cloud.py against the simulator: 360 SID renewal under a lease (cloud-apis.md
3.3.3), Mammotion tokens kept in the database (4.7), unreadable credentials."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from devices import cloud
from devices.clouds.base import AuthExpired
from devices.models import AccountStatus, CloudAccount, LinkMethod, Vendor
from tests.devices.test_linking_fixtures import BASE_URLS, CLIENT_ID, CLIENT_SECRET, QT_QID, Q, T

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim_cloud(sim, settings):
    """The simulator, with the product's base URLs pointing at it."""
    for name in BASE_URLS:
        setattr(settings, name, sim.url)
    return sim


def qt_account(home, sim) -> CloudAccount:
    sid = next(a for a in sim.control("GET", "360/accounts")["accounts"] if a["qid"] == QT_QID)[
        "sid"
    ]
    account = CloudAccount(
        household=home,
        vendor=Vendor.QIHOO360,
        method=LinkMethod.QIHOO360_QT,
        label="qt",
        identity=QT_QID,
    )
    account.set_credentials({"q": Q, "t": T, "sid": sid, "notify_id": "a" * 32, "imei": "b" * 32})
    account.save()
    return account


def logins(sim) -> int:
    return len(sim.requests(vendor="qihoo360", path="/common/user/login"))


def test_expired_sid_is_renewed_once_and_stored(home, sim_cloud):
    account = qt_account(home, sim_cloud)
    old_sid = account.credentials()["sid"]
    sim_cloud.control("POST", f"360/accounts/{QT_QID}/expire-sid")

    devices = cloud.client_for(account).list_devices()

    assert devices, "the retried request answered with the device list"
    account.refresh_from_db()
    assert account.credentials()["sid"] != old_sid
    assert account.credentials()["push_key"]
    assert logins(sim_cloud) == 1
    assert len(account.login_attempts) == 1
    assert account.status == AccountStatus.OK


def test_renewal_is_skipped_when_another_worker_already_renewed(home, sim_cloud):
    account = qt_account(home, sim_cloud)
    stored = account.credentials()["sid"]

    assert cloud.renew_sid(account.pk, "an-older-sid") == stored
    assert logins(sim_cloud) == 0


def test_a_fourth_renewal_within_ten_minutes_asks_for_a_relink(home, sim_cloud):
    account = qt_account(home, sim_cloud)
    now = timezone.now()
    account.login_attempts = [(now - timedelta(minutes=m)).isoformat() for m in (9, 6, 3)]
    account.save(update_fields=["login_attempts"])

    with pytest.raises(AuthExpired):
        cloud.renew_sid(account.pk, account.credentials()["sid"])

    account.refresh_from_db()
    assert account.status == AccountStatus.REAUTH_REQUIRED
    assert "Too many session renewals" in account.status_message
    assert logins(sim_cloud) == 0


def test_revoked_q_and_t_flag_the_account(home, sim_cloud):
    account = qt_account(home, sim_cloud)
    sim_cloud.control("POST", f"360/accounts/{QT_QID}/expire-sid")
    sim_cloud.control("POST", f"360/accounts/{QT_QID}/revoke-qt")

    with pytest.raises(AuthExpired):
        cloud.client_for(account).list_devices()

    account.refresh_from_db()
    assert account.status == AccountStatus.REAUTH_REQUIRED


def mammotion_account(home) -> CloudAccount:
    account = CloudAccount(
        household=home,
        vendor=Vendor.MAMMOTION,
        method=LinkMethod.MAMMOTION_OPEN_API,
        label="mower",
        identity=CLIENT_ID,
    )
    account.set_credentials({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    account.save()
    return account


def test_two_workers_with_an_expiring_token_share_one_token_request(home, sim_cloud):
    account = mammotion_account(home)
    cloud.client_for(account).list_devices()  # obtains and stores the first token set
    first = cloud.DbTokenStore(account.pk).load()
    # Make the stored token look nearly expired, as after 56 minutes of use.
    store = cloud.DbTokenStore(account.pk)
    store.save(
        type(first)(
            access_token=first.access_token,
            refresh_token=first.refresh_token,
            expires_at=timezone.now() + timedelta(minutes=2),
            obtained_at=timezone.now() - timedelta(minutes=58),
        )
    )
    before = len(sim_cloud.requests(vendor="mammotion", path="/oauth2/token"))
    results, errors = [], []

    def worker():
        try:
            results.append(len(cloud.client_for(account).list_devices()))
        except Exception as exc:  # the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert results == [results[0]] * 2 and results[0] > 0
    token_requests = len(sim_cloud.requests(vendor="mammotion", path="/oauth2/token")) - before
    assert token_requests == 1
    renewed = cloud.DbTokenStore(account.pk).load()
    assert renewed.refresh_token != first.refresh_token, "the rotated refresh token was kept"
    assert renewed.expires_at > timezone.now() + timedelta(minutes=30)


def test_unreadable_credentials_flag_the_account_and_send_nothing(home, sim_cloud, settings):
    account = mammotion_account(home)
    settings.CREDENTIAL_KEYS = "other:" + "A" * 43 + "="  # a ring without the row's key

    with pytest.raises(cloud.CredentialsUnusable) as caught:
        cloud.client_for(account)

    account.refresh_from_db()
    assert account.status == AccountStatus.REAUTH_REQUIRED
    assert "cannot be read" in caught.value.user_message
    assert sim_cloud.requests(vendor="mammotion") == []
