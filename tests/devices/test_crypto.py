"""S7: credentials are encrypted at rest, bound to their row and fail closed."""

import base64
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings

from devices import crypto
from devices.models import CloudAccount
from tests.devices import (
    KEY_NEW,
    KEY_OLD,
    KEY_OTHER,
    PASSWORD_SECRET,
    RING_NEW_FIRST,
    RING_OLD,
    SID,
    make_account,
)


def raw_token(account: CloudAccount) -> str:
    table = connection.ops.quote_name(CloudAccount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credentials_token FROM {table} WHERE id = %s", [account.pk])  # noqa: S608
        return cursor.fetchone()[0]


@override_settings(CREDENTIAL_KEYS=RING_OLD)
def test_column_read_with_raw_sql_holds_no_plaintext(home):
    account = make_account(home, secrets={"sid": SID, "password": PASSWORD_SECRET})

    stored = raw_token(account)

    assert stored.startswith("v1:old:")
    for secret in (SID, PASSWORD_SECRET, "PLAINTEXT", '"sid"', "password"):
        assert secret not in stored
    assert base64.b64encode(SID.encode()).decode()[:12] not in stored
    assert CloudAccount.objects.get(pk=account.pk).credentials() == {
        "sid": SID,
        "password": PASSWORD_SECRET,
    }


@override_settings(CREDENTIAL_KEYS=RING_OLD)
def test_same_secrets_encrypt_differently_each_time(home):
    first = make_account(home, label="one")
    second = make_account(home, label="two")

    assert raw_token(first) != raw_token(second)


@override_settings(CREDENTIAL_KEYS=RING_OLD)
def test_token_copied_into_another_row_fails_to_decrypt(home):
    victim = make_account(home, label="victim", secrets={"sid": SID})
    attacker = make_account(home, label="attacker", secrets={"sid": "attacker-own-sid"})

    CloudAccount.objects.filter(pk=attacker.pk).update(credentials_token=victim.credentials_token)
    attacker.refresh_from_db()

    with pytest.raises(crypto.CredentialError, match="integrity check") as caught:
        attacker.credentials()
    assert SID not in str(caught.value)
    # The original row still reads fine: the failure is the move, not the token.
    assert CloudAccount.objects.get(pk=victim.pk).credentials() == {"sid": SID}


def test_missing_key_fails_closed_with_a_clear_message(home):
    with override_settings(CREDENTIAL_KEYS=RING_OLD):
        account = make_account(home)

    with override_settings(CREDENTIAL_KEYS=f"new:{KEY_NEW}"):
        with pytest.raises(crypto.CredentialError) as caught:
            CloudAccount.objects.get(pk=account.pk).credentials()

    message = str(caught.value)
    assert message == (
        "Stored credentials were encrypted with key 'old', which is not in CREDENTIAL_KEYS."
    )
    assert SID not in message
    assert KEY_OLD not in message and KEY_NEW not in message


def test_wrong_key_under_the_same_id_fails_closed(home):
    with override_settings(CREDENTIAL_KEYS=RING_OLD):
        account = make_account(home)

    with override_settings(CREDENTIAL_KEYS=f"old:{KEY_OTHER}"):
        with pytest.raises(crypto.CredentialError) as caught:
            CloudAccount.objects.get(pk=account.pk).credentials()

    message = str(caught.value)
    assert "integrity check" in message
    assert SID not in message
    assert account.credentials_token not in message
    assert KEY_OTHER not in message


@override_settings(CREDENTIAL_KEYS=RING_OLD)
@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-6] + ("AAAA" if t[-6:-2] != "AAAA" else "BBBB") + t[-2:],
        lambda t: t[:20],
        lambda t: t.replace("v1:", "v0:", 1),
        lambda t: "v1:old:not base64!",
        lambda t: "v1:old:",
        lambda t: json.dumps({"sid": SID}),
    ],
    ids=["flipped-bytes", "truncated", "unknown-version", "bad-base64", "empty", "plaintext"],
)
def test_altered_token_raises_and_never_returns_garbage(home, tamper):
    account = make_account(home)
    account.credentials_token = tamper(account.credentials_token)

    with pytest.raises(crypto.CredentialError) as caught:
        account.credentials()
    assert SID not in str(caught.value)


@override_settings(CREDENTIAL_KEYS=RING_OLD)
def test_account_without_credentials_says_so(home):
    account = make_account(home, save=False)
    account.credentials_token = ""

    with pytest.raises(crypto.CredentialError, match="No credentials are stored"):
        account.credentials()


def test_newest_key_encrypts_and_older_keys_still_decrypt(home):
    with override_settings(CREDENTIAL_KEYS=RING_OLD):
        old = make_account(home, label="old")

    with override_settings(CREDENTIAL_KEYS=RING_NEW_FIRST):
        new = make_account(home, label="new")
        assert crypto.token_kid(new.credentials_token) == "new"
        assert CloudAccount.objects.get(pk=old.pk).credentials()["sid"] == SID
        assert CloudAccount.objects.get(pk=new.pk).credentials()["sid"] == SID


SHORT_KEY = base64.b64encode(b"x" * 16).decode()


@pytest.mark.parametrize(
    ("spec", "expected", "hidden"),
    [
        (f"k1:{KEY_OLD},k2:not*base64", "entry 2 (k2): key is not valid base64", "not*base64"),
        (f"k1:{SHORT_KEY}", "entry 1 (k1): key must be 32 bytes, not 16", SHORT_KEY),
        (f"k1:{KEY_OLD},k1:{KEY_NEW}", "key id 'k1' appears twice", KEY_NEW),
        (KEY_OLD, "entry 1 must look like 'kid:base64key'", KEY_OLD),
        (f"bad id:{KEY_OLD}", "entry 1 must look like 'kid:base64key'", KEY_OLD),
        ("", "CREDENTIAL_KEYS is empty", None),
        (" , ,", "CREDENTIAL_KEYS is empty", None),
    ],
    ids=["bad-base64", "wrong-length", "duplicate-kid", "no-kid", "bad-kid", "empty", "commas"],
)
def test_malformed_key_ring_is_refused_naming_the_entry_not_the_key(spec, expected, hidden):
    with pytest.raises(ImproperlyConfigured) as caught:
        crypto.parse_key_ring(spec)

    message = str(caught.value)
    assert "CREDENTIAL_KEYS" in message
    assert expected in message
    if hidden:
        assert hidden not in message
    assert KEY_OLD not in message


@override_settings(CREDENTIAL_KEYS=f"k1:{SHORT_KEY}")
def test_malformed_ring_in_settings_stops_encryption(home):
    with pytest.raises(ImproperlyConfigured, match="entry 1 \\(k1\\)"):
        make_account(home)


def test_generated_key_entries_parse_and_differ():
    first, second = crypto.new_key_entry("k2026"), crypto.new_key_entry("k2026")

    ring = crypto.parse_key_ring(f"{first}")
    assert ring.current_kid == "k2026"
    assert len(ring.get("k2026")) == 32
    assert first != second
    with pytest.raises(ValueError, match="key id"):
        crypto.new_key_entry("bad:kid")
