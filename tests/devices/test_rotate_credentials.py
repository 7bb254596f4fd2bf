"""S7: `manage.py rotate_credentials` re-encrypts every row, is idempotent, fails loudly."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from devices import crypto
from devices.models import CloudAccount
from tests.devices import (
    KEY_NEW,
    KEY_OLD,
    KEY_OTHER,
    RING_NEW_FIRST,
    RING_NEW_ONLY,
    RING_OLD,
    SID,
    make_account,
)


def rotate() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("rotate_credentials", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def tokens() -> dict[int, str]:
    return dict(CloudAccount.objects.values_list("pk", "credentials_token"))


@pytest.fixture
def old_accounts(home):
    with override_settings(CREDENTIAL_KEYS=RING_OLD):
        accounts = [
            make_account(home, label=f"account {i}", secrets={"sid": f"{SID}-{i}"})
            for i in range(3)
        ]
    unlinked = make_account(home, label="unlinked", save=False)
    unlinked.credentials_token = ""
    unlinked.save()
    return accounts


@override_settings(CREDENTIAL_KEYS=RING_NEW_FIRST)
def test_rotation_re_encrypts_every_row_under_the_new_key(old_accounts):
    before = tokens()

    out, err = rotate()

    assert out.strip() == "Re-encrypted 3, already current 0, unreadable 0 (newest key: new)."
    assert err == ""
    after = tokens()
    for account in old_accounts:
        assert crypto.token_kid(after[account.pk]) == "new"
        assert after[account.pk] != before[account.pk]
    # The old key can now be dropped: the new one alone reads every row.
    with override_settings(CREDENTIAL_KEYS=RING_NEW_ONLY):
        for i, account in enumerate(old_accounts):
            assert CloudAccount.objects.get(pk=account.pk).credentials() == {"sid": f"{SID}-{i}"}


@override_settings(CREDENTIAL_KEYS=RING_NEW_FIRST)
def test_second_run_changes_nothing(old_accounts):
    rotate()
    after_first = tokens()

    out, _ = rotate()

    assert out.strip() == "Re-encrypted 0, already current 3, unreadable 0 (newest key: new)."
    assert tokens() == after_first


@override_settings(CREDENTIAL_KEYS=RING_NEW_FIRST)
def test_unreadable_rows_are_reported_and_fail_the_command(home, old_accounts):
    # One row under a key that is no longer in the ring, one token moved to another row.
    with override_settings(CREDENTIAL_KEYS=f"gone:{KEY_OTHER}"):
        lost = make_account(home, label="lost key")
    moved = make_account(home, label="moved token")
    CloudAccount.objects.filter(pk=moved.pk).update(
        credentials_token=CloudAccount.objects.get(pk=old_accounts[0].pk).credentials_token
    )
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="2 account\\(s\\) could not be decrypted"):
        call_command("rotate_credentials", stdout=out, stderr=err)

    assert "Re-encrypted 3, already current 0, unreadable 2" in out.getvalue()
    assert f"account {lost.pk} (lost key): " in err.getvalue()
    assert "key 'gone', which is not in CREDENTIAL_KEYS" in err.getvalue()
    assert f"account {moved.pk} (moved token): " in err.getvalue()
    assert "integrity check" in err.getvalue()
    for text in (out.getvalue(), err.getvalue()):
        assert SID not in text
        assert KEY_OLD not in text and KEY_NEW not in text and KEY_OTHER not in text
    # The readable rows were still rotated.
    assert all(
        crypto.token_kid(CloudAccount.objects.get(pk=a.pk).credentials_token) == "new"
        for a in old_accounts
    )


@override_settings(CREDENTIAL_KEYS=RING_NEW_FIRST)
def test_a_corrupt_row_already_under_the_newest_key_is_still_reported(home):
    account = make_account(home, label="corrupt")
    kid_part, payload = account.credentials_token.rsplit(":", 1)
    CloudAccount.objects.filter(pk=account.pk).update(
        credentials_token=f"{kid_part}:{payload[::-1]}"
    )

    with pytest.raises(CommandError):
        rotate()


def test_new_key_prints_an_entry_that_the_ring_accepts(db):
    out = StringIO()

    call_command("rotate_credentials", "--new-key", "k2027", stdout=out)

    entry = out.getvalue().strip()
    ring = crypto.parse_key_ring(f"{entry},{RING_OLD}")
    assert ring.current_kid == "k2027"
    assert len(ring.get("k2027")) == 32


def test_new_key_refuses_an_id_the_ring_would_reject(db):
    with pytest.raises(CommandError, match="key id"):
        call_command("rotate_credentials", "--new-key", "bad:id", stdout=StringIO())
