"""Staff admin for people, households, memberships and invitations.

An invitation's token hash is never shown, and invitations are only created in the app
(the raw token exists once, in the email).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils import timezone

from accounts.models import Household, Invitation, Membership, User

INVITATION_FIELDS = [
    "household",
    "email",
    "role",
    "status",
    "invited_by",
    "created_at",
    "expires_at",
    "accepted_at",
    "accepted_by",
    "revoked_at",
]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["household", "user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["household", "user"]


class InvitationInline(admin.TabularInline):
    model = Invitation
    fk_name = "household"
    extra = 0
    fields = ["email", "role", "status", "invited_by", "created_at", "expires_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_active", "is_staff", "last_login", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__role"]
    search_fields = ["username", "email", "first_name", "last_name", "memberships__household__name"]
    inlines = [MembershipInline]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "member_count", "created_at"]
    list_filter = ["time_zone"]
    search_fields = ["name"]
    inlines = [MembershipInline, InvitationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "household", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "household"]
    search_fields = ["user__username", "user__email", "household__name"]
    autocomplete_fields = ["user", "household"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "household", "role", "status", "invited_by", "expires_at"]
    list_filter = ["role", "accepted_at", "revoked_at"]
    list_select_related = ["household", "invited_by"]
    search_fields = ["email", "household__name"]
    fields = INVITATION_FIELDS
    readonly_fields = INVITATION_FIELDS
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Withdraw the selected pending invitations")
    def revoke(self, request, queryset):
        count = queryset.pending().update(revoked_at=timezone.now())
        self.message_user(request, f"Withdrew {count} invitation(s).")
