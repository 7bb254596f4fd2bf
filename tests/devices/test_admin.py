"""The CloudAccount admin: useful to staff, and never a window onto the secrets (S7)."""

import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from devices import crypto
from devices.models import AccountStatus, CloudAccount
from tests.conftest import PASSWORD
from tests.devices import KEY_OLD, PASSWORD_SECRET, RING_NEW_FIRST, RING_OLD, SID, make_account

CHANGELIST = "admin:devices_cloudaccount_changelist"


@pytest.fixture
def staff(db, login):
    admin_user = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    return login(admin_user)


@pytest.fixture
def account(home):
    with override_settings(CREDENTIAL_KEYS=RING_OLD):
        return make_account(home, secrets={"sid": SID, "password": PASSWORD_SECRET})


def assert_no_secret_material(html: str, account: CloudAccount) -> None:
    for forbidden in (
        SID,
        PASSWORD_SECRET,
        account.credentials_token,
        account.credentials_token.rsplit(":", 1)[1][:16],  # any part of the ciphertext
        str(account.credential_binding),
        KEY_OLD,
    ):
        assert forbidden not in html
    assert "credentials_token" not in html
    assert "credential_binding" not in html


@override_settings(CREDENTIAL_KEYS=RING_OLD)
def test_changelist_shows_the_account_but_no_secret(staff, account):
    response = staff.get(reverse(CHANGELIST))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Home 360" in html
    assert "360 Smart" in html and "QID and SID" in html and "Home" in html
    assert '<td class="field-credentials_stored">yes</td>' in html
    assert '<td class="field-credentials_key_id">old</td>' in html
    assert_no_secret_material(html, account)


@override_settings(CREDENTIAL_KEYS=RING_OLD)
def test_change_page_shows_stored_and_key_id_but_no_secret(staff, account):
    response = staff.get(reverse("admin:devices_cloudaccount_change", args=[account.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="label"' in html
    assert "Credentials stored" in html and "Key id" in html
    assert_no_secret_material(html, account)
    # Status is the sync's business: shown, not editable.
    assert 'name="status"' not in html
    assert 'name="status_changed_at' not in html


@override_settings(CREDENTIAL_KEYS=RING_OLD)
def test_saving_the_change_form_keeps_the_credentials(staff, account):
    url = reverse("admin:devices_cloudaccount_change", args=[account.pk])

    response = staff.post(url, {"label": "Renamed", "identity": "qid-123456", "region": ""})

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.label == "Renamed"
    assert account.credentials() == {"sid": SID, "password": PASSWORD_SECRET}


@override_settings(CREDENTIAL_KEYS=RING_OLD)
def test_account_without_credentials_shows_no(staff, home):
    unlinked = make_account(home, label="Unlinked", save=False)
    unlinked.credentials_token = ""
    unlinked.save()

    html = staff.get(reverse(CHANGELIST)).content.decode()

    assert '<td class="field-credentials_stored">no</td>' in html


@override_settings(CREDENTIAL_KEYS=RING_OLD)
def test_search_by_household_name_and_filter_by_status(staff, account, carol):
    other = make_account(carol.memberships.get().household, label="Carol mower")
    other.set_status(AccountStatus.REAUTH_REQUIRED, "Login expired")

    by_household = staff.get(reverse(CHANGELIST), {"q": "Carol's"}).content.decode()
    by_status = staff.get(reverse(CHANGELIST), {"status__exact": "ok"}).content.decode()

    assert "Carol mower" in by_household and "Home 360" not in by_household
    assert "Home 360" in by_status and "Carol mower" not in by_status


def test_staff_cannot_add_accounts_here(staff):
    assert staff.get(reverse("admin:devices_cloudaccount_add")).status_code == 403


def test_reencrypt_action_moves_selected_accounts_to_the_newest_key(staff, account):
    with override_settings(CREDENTIAL_KEYS=RING_NEW_FIRST):
        response = staff.post(
            reverse(CHANGELIST),
            {"action": "reencrypt_credentials", "_selected_action": [account.pk]},
            follow=True,
        )

        html = response.content.decode()
        assert "Re-encrypted 1, already under key new 0." in html
        account.refresh_from_db()
        assert crypto.token_kid(account.credentials_token) == "new"
        assert account.credentials() == {"sid": SID, "password": PASSWORD_SECRET}
        assert_no_secret_material(html, account)


def test_reencrypt_action_reports_unreadable_accounts(staff, account):
    CloudAccount.objects.filter(pk=account.pk).update(
        credentials_token=account.credentials_token[:-8] + "AAAAAAA="
    )
    with override_settings(CREDENTIAL_KEYS=RING_NEW_FIRST):
        response = staff.post(
            reverse(CHANGELIST),
            {"action": "reencrypt_credentials", "_selected_action": [account.pk]},
            follow=True,
        )

    html = response.content.decode()
    assert "Could not decrypt 1 (re-link needed): Home 360." in html
    assert SID not in html
