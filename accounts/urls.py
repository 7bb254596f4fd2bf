from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard import views as dashboard_views

app_name = "accounts"

# Placeholder routes; the accounts views replace these.
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("household/", dashboard_views.overview, name="household"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
]
