"""Signing in and out, first-run set-up, sudo mode and passwords."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import services, sudo
from accounts.forms import PASSWORD_HELP, SetupForm, SudoForm
from accounts.models import User
from accounts.views.wording import mail_is_configured

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("password1", "password2")
@never_cache
@login_not_required
def setup(request):
    """First run: create the first owner and their household. Gone once anyone exists."""
    if User.objects.exists():
        return redirect("accounts:login")
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.set_up_first_owner(
                username=data["username"],
                password=data["password1"],
                email=data["email"],
                household_name=data["household_name"],
                time_zone=data["time_zone"],
            )
        except services.AlreadySetUp as e:
            messages.info(request, str(e))
            return redirect("accounts:login")
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, f"Welcome, {user}. Your household is ready.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/setup.html", {"form": form})


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    """Django's sign-in (it cycles the session key), sending a fresh install to set-up."""

    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        if not User.objects.exists():
            return redirect("accounts:setup")
        return super().dispatch(request, *args, **kwargs)


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("password")
@never_cache
def sudo_view(request):
    """Re-enter the password to unlock dangerous actions for a short while."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not sudo.is_safe_next(request, next_url):
        next_url = str(reverse_lazy("accounts:household"))
    form = SudoForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # authenticate() (not check_password) so django-axes throttles guessing here too.
        user = authenticate(
            request, username=request.user.get_username(), password=form.cleaned_data["password"]
        )
        if user is not None and user.pk == request.user.pk:
            sudo.enter_sudo_mode(request)
            return redirect(next_url)
        form.add_error("password", "That password is not right. Please try again.")
    minutes = settings.SUDO_MODE_SECONDS // 60
    return render(
        request, "accounts/sudo.html", {"form": form, "next": next_url, "minutes": minutes}
    )


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
def password_change(request):
    """Change one's password; this session stays signed in, every other one ends."""
    form = PasswordChangeForm(request.user, request.POST or None)
    form.fields["new_password1"].help_text = PASSWORD_HELP
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(
            request, "Your password is changed. Other browsers and devices are signed out."
        )
        return redirect("accounts:password_change")
    return render(request, "registration/password_change_form.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """Email a reset link built from settings.SITE_URL, never from the Host header."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"mail_configured": mail_is_configured()}

    def form_valid(self, form):
        site = urlsplit(settings.SITE_URL)
        self.domain_override = site.netloc
        self.use_https = site.scheme == "https"
        self.extra_email_context = {"site_url": settings.SITE_URL}
        response = super().form_valid(form)
        if not mail_is_configured():
            # The link went to the server's log, not to an inbox: don't say "check your email".
            # (The same page whether or not an account uses the address.)
            return render(
                self.request, "registration/password_reset_done.html", {"mail_configured": False}
            )
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["new_password1"].help_text = PASSWORD_HELP
        return form
