"""Staff admin for linked cloud accounts.

The encrypted token and its row binding are never shown: only whether credentials are
stored and under which key id, which is what an operator needs during key rotation.
Accounts are linked (and their secrets entered) through the app, never here.
"""

from django.contrib import admin, messages
from django.db import transaction

from devices import crypto
from devices.models import CloudAccount


@admin.register(CloudAccount)
class CloudAccountAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "vendor",
        "method",
        "household",
        "status",
        "status_changed_at",
        "credentials_stored",
        "credentials_key_id",
    ]
    list_filter = ["vendor", "status", "method"]
    search_fields = ["label", "identity", "household__name"]
    list_select_related = ["household"]
    exclude = ["credentials_token", "credential_binding"]
    readonly_fields = [
        "household",
        "vendor",
        "method",
        "status",
        "status_message",
        "status_changed_at",
        "credentials_stored",
        "credentials_key_id",
        "created_by",
        "created_at",
    ]
    fields = [
        "label",
        "identity",
        "region",
        "household",
        "vendor",
        "method",
        "status",
        "status_message",
        "status_changed_at",
        "credentials_stored",
        "credentials_key_id",
        "created_by",
        "created_at",
    ]
    actions = ["reencrypt_credentials"]

    def has_add_permission(self, request):
        # Linking needs the secrets and the app's re-authentication step.
        return False

    @admin.display(description="credentials stored")
    def credentials_stored(self, obj: CloudAccount) -> str:
        return "yes" if obj.credentials_token else "no"

    @admin.display(description="key id")
    def credentials_key_id(self, obj: CloudAccount) -> str:
        return crypto.token_kid(obj.credentials_token) or "-"

    @admin.action(description="Re-encrypt under the newest key", permissions=["change"])
    def reencrypt_credentials(self, request, queryset):
        rotated = unchanged = 0
        unreadable: list[str] = []
        for pk in queryset.exclude(credentials_token="").values_list("pk", flat=True):
            with transaction.atomic():
                account = CloudAccount.objects.select_for_update().get(pk=pk)
                try:
                    changed = account.reencrypt_credentials()
                except crypto.CredentialError:
                    unreadable.append(account.label)
                    continue
                if changed:
                    account.save(update_fields=["credentials_token"])
                    rotated += 1
                else:
                    unchanged += 1
        current = crypto.key_ring().current_kid
        self.message_user(
            request,
            f"Re-encrypted {rotated}, already under key {current} {unchanged}.",
            messages.SUCCESS,
        )
        if unreadable:
            self.message_user(
                request,
                f"Could not decrypt {len(unreadable)} (re-link needed): {', '.join(unreadable)}.",
                messages.ERROR,
            )


# --- Command log ---------------------------------------------------------------------

from devices.machines import CommandLog  # noqa: E402


@admin.register(CommandLog)
class CommandLogAdmin(admin.ModelAdmin):
    """Read-only: the log is written by the app when a command is sent, never by hand."""

    list_display = ["created_at", "device", "command", "status", "user", "message"]
    list_filter = ["status", "command", "device__vendor"]
    search_fields = ["device__name", "device__remote_id", "task_id", "user__username", "message"]
    list_select_related = ["device", "user"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "device",
        "user",
        "command",
        "params",
        "status",
        "message",
        "task_id",
        "created_at",
        "sent_at",
        "finished_at",
        "deadline",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Machines and the archive: written by sync and the listener, read-only here --------

from devices.history import ArchiveVersion, DeviceStats, Fault, Run, RunDay, SyncRecord  # noqa: E402
from devices.machines import Device, Lease, RateBucket  # noqa: E402


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the app keeps in step with the vendor clouds: staff look, the app writes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "model_name", "account", "online", "state", "battery"]
    list_filter = ["vendor", "kind", "online", ("gone_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "remote_id", "model", "account__label", "account__household__name"]
    list_select_related = ["account"]


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "device", "result", "area_m2", "duration_s", "mode"]
    list_filter = ["result", "device__vendor"]
    search_fields = ["remote_id", "device__name"]
    list_select_related = ["device"]
    date_hierarchy = "started_at"


@admin.register(RunDay)
class RunDayAdmin(ReadOnlyAdmin):
    """Per-day run totals the reports read, kept by database triggers on the runs: never
    by hand (delete a run instead, and its day follows)."""

    list_display = ["day", "device", "runs", "area_m2", "duration_s"]
    search_fields = ["device__name"]
    list_select_related = ["device"]
    date_hierarchy = "day"

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ArchiveVersion)
class ArchiveVersionAdmin(ReadOnlyAdmin):
    """The stamp the report caches are keyed on, replaced by database triggers whenever
    a device's runs are written: shown for diagnosis only."""

    list_display = ["device", "version"]
    search_fields = ["device__name"]
    list_select_related = ["device"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Fault)
class FaultAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "device", "code", "level", "title"]
    list_filter = ["level", "device__vendor"]
    search_fields = ["code", "title", "device__name"]
    list_select_related = ["device"]
    date_hierarchy = "occurred_at"


@admin.register(DeviceStats)
class DeviceStatsAdmin(ReadOnlyAdmin):
    list_display = ["device", "runs", "area_m2", "duration_s", "updated_at"]
    search_fields = ["device__name"]
    list_select_related = ["device"]


@admin.register(SyncRecord)
class SyncRecordAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "account", "trigger", "outcome", "new_runs", "requests"]
    list_filter = ["outcome", "trigger", "account__vendor"]
    search_fields = ["account__label", "error"]
    list_select_related = ["account"]
    date_hierarchy = "started_at"


@admin.register(Lease)
class LeaseAdmin(ReadOnlyAdmin):
    list_display = ["key", "holder", "until"]
    search_fields = ["key"]


@admin.register(RateBucket)
class RateBucketAdmin(ReadOnlyAdmin):
    list_display = ["key", "tokens", "updated_at"]
    search_fields = ["key"]
