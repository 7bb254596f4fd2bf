"""Forms for accounts: field cleaning only; the work happens in accounts.services."""

from __future__ import annotations

import functools
import zoneinfo

from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import Household, Invitation, Role, User

PASSWORD_HELP = "At least 8 characters, not a common word and not only digits."  # noqa: S105 (help text, not a password)


# The IANA regions, in the order and with the names the time-zone menu shows them. Anything
# else (old aliases such as US/Eastern) stays choosable under "Other names".
TIME_ZONE_REGIONS = {
    "Africa": "Africa",
    "America": "America",
    "Antarctica": "Antarctica",
    "Arctic": "Arctic",
    "Asia": "Asia",
    "Atlantic": "Atlantic",
    "Australia": "Australia",
    "Europe": "Europe",
    "Indian": "Indian Ocean",
    "Pacific": "Pacific",
}


def _place(name: str) -> str:
    """'Europe/Berlin' -> 'Berlin', 'America/Argentina/Salta' -> 'Salta (Argentina)'."""
    parts = name.replace("_", " ").split("/")[1:]
    return f"{parts[-1]} ({', '.join(parts[:-1])})" if len(parts) > 1 else parts[0]


@functools.cache
def time_zone_choices() -> list:
    """UTC, then one group per region with its places A-Z (typing a city's first letters in
    the menu finds it), then the old alias names."""
    names = sorted(
        name for name in zoneinfo.available_timezones() if "/" in name and "Etc/" not in name
    )
    groups: dict[str, list[tuple[str, str]]] = {label: [] for label in TIME_ZONE_REGIONS.values()}
    others = []
    for name in names:
        region = TIME_ZONE_REGIONS.get(name.split("/", 1)[0])
        if region:
            groups[region].append((name, _place(name)))
        else:
            others.append((name, name.replace("_", " ")))
    grouped = [(label, sorted(zones, key=lambda zone: zone[1])) for label, zones in groups.items()]
    return [("UTC", "UTC"), *grouped, ("Other names", others)]


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault("initial", "UTC")
        kwargs.setdefault("help_text", "Days, weeks and months in reports follow this zone.")
        super().__init__(choices=time_zone_choices, **kwargs)


class AccountForm(UserCreationForm):
    """A new person's username, optional email and password (with confirmation)."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
        labels = {"username": "Username", "email": "Email (optional)"}
        help_texts = {
            "username": "Letters, digits and @ . + - _ only.",
            "email": "Only used to send you a link if you forget your password.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].label = "Password"
        self.fields["password1"].help_text = PASSWORD_HELP
        self.fields["password2"].label = "Password confirmation"
        self.fields["password2"].help_text = "The same password again."


class SetupForm(AccountForm):
    household_name = forms.CharField(label="Household name", max_length=100)
    time_zone = TimeZoneField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household_name"].widget.attrs["placeholder"] = "e.g. Home"


class InvitationSignUpForm(AccountForm):
    pass


class HouseholdForm(forms.ModelForm):
    time_zone = TimeZoneField()

    class Meta:
        model = Household
        fields = ("name", "time_zone")
        labels = {"name": "Household name"}


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email", help_text="We send the invitation link here.")
    role = forms.ChoiceField(
        label="Role",
        choices=Role.choices,
        initial=Role.VIEWER,
        help_text="Viewers see everything; operators also run the machines; "
        "owners also manage members and cloud accounts.",
    )

    def __init__(self, *args, household: Household, **kwargs):
        self.household = household
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = self.cleaned_data["email"]
        pending = Invitation.objects.pending().filter(household=self.household, email__iexact=email)
        if pending.exists():
            raise forms.ValidationError(
                "There is already a pending invitation for this address. "
                "Withdraw it first to send a new one."
            )
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class SudoForm(forms.Form):
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
