"""Re-encrypt every stored credential under the newest key of CREDENTIAL_KEYS.

Rotation: put a new key first in CREDENTIAL_KEYS (`manage.py rotate_credentials --new-key`
prints one), restart, run this command, then drop the old key. Idempotent: rows already
under the newest key are left alone (but still decrypted, so unreadable ones are reported).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from devices import crypto
from devices.models import CloudAccount


class Command(BaseCommand):
    help = "Re-encrypt all cloud credentials under the newest CREDENTIAL_KEYS key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-key",
            metavar="KID",
            help="Only print a fresh 'KID:base64key' entry to put first in CREDENTIAL_KEYS.",
        )

    def handle(self, *args, new_key=None, **options):
        if new_key:
            if not crypto.valid_kid(new_key):
                raise CommandError("The key id may only hold letters, digits, - and _ (max 32).")
            self.stdout.write(crypto.new_key_entry(new_key))
            return
        current = crypto.key_ring().current_kid
        rotated = unchanged = failed = 0
        pks = list(CloudAccount.objects.exclude(credentials_token="").values_list("pk", flat=True))
        for pk in pks:
            with transaction.atomic():
                account = CloudAccount.objects.select_for_update().filter(pk=pk).first()
                if account is None or not account.credentials_token:
                    continue  # removed or unlinked meanwhile
                try:
                    changed = account.reencrypt_credentials()
                except crypto.CredentialError as exc:
                    failed += 1
                    self.stderr.write(f"account {pk} ({account.label}): {exc}")
                    continue
                if changed:
                    account.save(update_fields=["credentials_token"])
                    rotated += 1
                else:
                    unchanged += 1
        self.stdout.write(
            f"Re-encrypted {rotated}, already current {unchanged}, unreadable {failed} "
            f"(newest key: {current})."
        )
        if failed:
            raise CommandError(f"{failed} account(s) could not be decrypted; see above.")
