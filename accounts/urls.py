from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.views import auth, households, invitations, members

app_name = "accounts"

household = "households/<int:household_id>/"

urlpatterns = [
    # Signing in and out, first run, sudo mode
    path("setup/", auth.setup, name="setup"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("confirm-password/", auth.sudo_view, name="sudo"),
    # Passwords
    path("password/", auth.password_change, name="password_change"),
    path("password/reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # Households
    path("household/", households.household, name="household"),
    path("households/new/", households.household_create, name="household_create"),
    path(household + "settings/", households.household_settings, name="household_settings"),
    path(household + "switch/", households.household_switch, name="household_switch"),
    path(household + "leave/", members.household_leave, name="household_leave"),
    # Members
    path(household + "members/<int:membership_id>/role/", members.member_role, name="member_role"),
    path(
        household + "members/<int:membership_id>/remove/",
        members.member_remove,
        name="member_remove",
    ),
    # Invitations
    path(household + "invite/", invitations.invite, name="invite"),
    path(
        household + "invitations/<int:invitation_id>/revoke/",
        invitations.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", invitations.invitation_accept, name="invitation_accept"),
]
