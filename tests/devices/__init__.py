"""Helpers shared by the devices tests: fixed key rings and a linked-account factory."""

import base64

from devices.models import CloudAccount, LinkMethod, Vendor

# Fixed 32-byte keys, so each test knows exactly which ring encrypted what.
KEY_OLD = base64.b64encode(bytes(range(32))).decode()
KEY_NEW = base64.b64encode(bytes(range(100, 132))).decode()
KEY_OTHER = base64.b64encode(bytes(range(200, 232))).decode()
RING_OLD = f"old:{KEY_OLD}"
RING_NEW_FIRST = f"new:{KEY_NEW},old:{KEY_OLD}"
RING_NEW_ONLY = f"new:{KEY_NEW}"

# Distinctive plaintexts: any appearance in a column, a page or a message is a leak.
SID = "sid-PLAINTEXT-5c1f0e9d4b"
PASSWORD_SECRET = "pw-PLAINTEXT-hunter2-77a1"


def make_account(household, *, label="Home 360", secrets=None, save=True) -> CloudAccount:
    account = CloudAccount(
        household=household,
        vendor=Vendor.QIHOO360,
        method=LinkMethod.QIHOO360_SID,
        label=label,
        identity="qid-123456",
    )
    account.set_credentials(secrets if secrets is not None else {"qid": "123456", "sid": SID})
    if save:
        account.save()
    return account
