"""Cloud accounts (prefix cloud/): the list, one account's page, linking, the Mammotion
sign-up wizard, re-link, remove, sync now."""

from django.urls import path

from devices.views import cloud_accounts as views
from devices.views import mammotion_signup as signup

new_account = "cloud/link/mammotion/new-account/"

urlpatterns = [
    path("cloud/", views.account_list, name="accounts"),
    path("cloud/link/", views.link_start, name="link"),
    path("cloud/link/360/", views.link_qihoo360, name="link_qihoo360"),
    path("cloud/link/mammotion/", views.link_mammotion, name="link_mammotion"),
    path("cloud/link/mammotion/app/", views.link_mammotion_app_view, name="link_mammotion_app"),
    path(new_account, signup.signup_start, name="mammotion_signup"),
    path(new_account + "code/", signup.signup_code, name="mammotion_signup_code"),
    path(new_account + "done/", signup.signup_done, name="mammotion_signup_done"),
    path("cloud/<int:pk>/", views.account_detail, name="account"),
    path("cloud/<int:pk>/relink/", views.account_relink, name="account_relink"),
    path("cloud/<int:pk>/remove/", views.account_remove, name="account_remove"),
    path("cloud/<int:pk>/sync/", views.account_sync, name="account_sync"),
]
