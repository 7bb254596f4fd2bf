"""Forms for linking cloud accounts: field cleaning only; devices.linking does the work.

Secrets (SID, push key, Q, T, a pasted Cookie header, client secret, passwords) are
never rendered back into a form: after an error they must be entered again.
"""

from __future__ import annotations

import re

from django import forms
from django.core.validators import RegexValidator

from devices.clouds.mammotion_account import PASSWORD_RULE, password_problem
from devices.clouds.qihoo360_session import normalise_cookie_value, qid_from_q_cookie
from devices.linking_errors import LinkError

QID_VALIDATOR = RegexValidator(r"^\d{4,20}$", "A QID is the account number: digits only.")
NO_COOKIE_BREAKERS = RegexValidator(
    r"^[^\s;]+$", "Paste the value alone: no spaces, line breaks or semicolons."
)
# 3.3.1: the dummy q=/t= values of a method-1 cookie header carry no login.
DUMMY_Q = "u=&t=1"
COOKIE_NAMES = ("q", "t", "qid", "sid")


class SecretInput(forms.TextInput):
    """A text input that never renders its value (secrets are not shown back)."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class SecretTextarea(forms.Textarea):
    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


SECRET_ATTRS = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}


def secret_input() -> SecretInput:
    return SecretInput(attrs=dict(SECRET_ATTRS))


def secret_textarea(rows: int = 2) -> SecretTextarea:
    return SecretTextarea(attrs={**SECRET_ATTRS, "rows": rows})


def label_field() -> forms.CharField:
    return forms.CharField(
        label="Name (optional)",
        max_length=100,
        required=False,
        help_text="How the dashboard calls this account, e.g. “Downstairs vacuums”.",
    )


class LinkForm(forms.Form):
    """Shows a LinkError at its field when the form has it, else for the whole form."""

    def add_link_error(self, error: LinkError) -> None:
        if error.field in self.fields:
            self.add_error(error.field, error.message)
        else:
            self.add_error(None, f"{error.message} Nothing was saved.")


# --- 360 Smart (cloud-apis.md 3.2, 3.3) ------------------------------------------------


class Qihoo360SidForm(LinkForm):
    """Way A: QID and SID (+ push key), the documented method (3.3.1)."""

    qid = forms.CharField(
        label="QID",
        max_length=20,
        validators=[QID_VALIDATOR],
        help_text="Your 360 account number (digits), shown on the 360 developer pages "
        "after you sign in at i.360.cn.",
    )
    sid = forms.CharField(
        label="SID",
        max_length=200,
        validators=[NO_COOKIE_BREAKERS],
        widget=secret_input(),
        help_text="The smart-home session id (32 characters, 0-9 and a-f) from the 360 app.",
    )
    push_key = forms.CharField(
        label="Push key",
        max_length=200,
        required=False,
        validators=[NO_COOKIE_BREAKERS],
        widget=secret_input(),
        help_text="Optional, printed next to the SID. Without it live status is not available.",
    )
    label = label_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qid"].widget.attrs.update(inputmode="numeric", autocomplete="off")

    def link_args(self) -> dict:
        data = self.cleaned_data
        return {k: data[k] for k in ("qid", "sid", "push_key", "label")}


def parse_cookie_header(text: str) -> dict[str, str]:
    """The q, t, qid and sid parts of a pasted Cookie header (names in any case, as a
    browser (Q, T) or the app (q, t, qid, sid) sends them); other cookies are ignored."""
    text = text.strip().strip("'\"")
    text = re.sub(r"^cookie\s*:", "", text, flags=re.IGNORECASE)
    parts: dict[str, str] = {}
    for piece in re.split(r"[;\r\n]+", text):
        name, sep, value = piece.strip().partition("=")
        name, value = name.strip().lower(), value.strip()
        if sep and name in COOKIE_NAMES and value:
            parts.setdefault(name, value)
    if parts.get("q") == DUMMY_Q:  # a method-1 header: its q and t are placeholders
        parts.pop("q")
        parts.pop("t", None)
    return parts


class Qihoo360CookieForm(LinkForm):
    """Way B: QID with the Q and T cookies of the 360 web login (3.3.2); or a whole
    Cookie header, from which the parts are picked. A header holding a SID but no real
    Q/T (an intercepted app request) links the way-A way."""

    qid = forms.CharField(
        label="QID",
        max_length=20,
        required=False,
        validators=[QID_VALIDATOR],
        help_text="Leave it empty to take it from the Q cookie.",
    )
    q = forms.CharField(
        label="Q cookie",
        max_length=4000,
        required=False,
        widget=secret_textarea(),
        help_text="The value of the cookie named Q (it starts with u=360H…).",
    )
    t = forms.CharField(
        label="T cookie",
        max_length=4000,
        required=False,
        widget=secret_textarea(),
        help_text="The value of the cookie named T.",
    )
    cookie_header = forms.CharField(
        label="Cookie header",
        max_length=10000,
        required=False,
        widget=secret_textarea(rows=3),
        help_text="Instead of the two cookies: paste a whole Cookie header; the dashboard "
        "picks out Q, T and the QID.",
    )
    confirm_qid = forms.BooleanField(
        label="Use the QID I entered anyway", required=False, widget=forms.CheckboxInput
    )
    label = label_field()

    qid_mismatch: str | None = None  # the QID inside the Q cookie, when it differs

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qid"].widget.attrs.update(inputmode="numeric", autocomplete="off")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        header = parse_cookie_header(data.get("cookie_header") or "")
        if data.get("cookie_header") and not header:
            self.add_error("cookie_header", "No Q, T, QID or SID cookie found in this header.")
            return data
        q = (data.get("q") or "").strip() or header.get("q", "")
        t = (data.get("t") or "").strip() or header.get("t", "")
        for name, value in (("q", q), ("t", t)):
            if ";" in value or "\n" in value:
                self.add_error(
                    name, "This looks like several cookies: paste it into “Cookie header”."
                )
                return data
        in_cookie = qid_from_q_cookie(normalise_cookie_value(q)) if q else None
        qid = data.get("qid") or header.get("qid", "") or in_cookie or ""
        if not (q or t or header.get("sid")):
            raise forms.ValidationError("Paste the Q and T cookies, or a whole Cookie header.")
        if bool(q) != bool(t):
            self.add_error("t" if q else "q", "Both cookies are needed: Q and T.")
            return data
        if not qid.isdigit():
            self.add_error("qid", "Enter your QID: it was not in the cookies.")
            return data
        if q and in_cookie and in_cookie != qid and not data.get("confirm_qid"):
            self.qid_mismatch = in_cookie
            self.add_error(
                "qid",
                f"The Q cookie belongs to QID {in_cookie}, not {qid}. Check the QID (or leave "
                "it empty to use the one in the cookie), or tick “Use the QID I entered "
                "anyway” and paste the cookies again.",
            )
            return data
        data.update(qid=qid, q=q, t=t, sid=header.get("sid", ""))
        data["way"] = "qt" if q else "sid"
        return data

    def link_args(self) -> dict:
        data = self.cleaned_data
        if data["way"] == "sid":
            return {"qid": data["qid"], "sid": data["sid"], "label": data["label"]}
        return {k: data[k] for k in ("qid", "q", "t", "label")}


# --- Mammotion (cloud-apis.md 4.3, 4.4.1) ----------------------------------------------


class MammotionApiForm(LinkForm):
    client_id = forms.CharField(
        label="Client ID",
        max_length=200,
        validators=[NO_COOKIE_BREAKERS],
        help_text="From developer.mammotion.com, signed in with the account your mowers "
        "are shared to.",
    )
    client_secret = forms.CharField(
        label="Client secret",
        max_length=500,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Shown only once when you create the credentials.",
    )
    label = label_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client_id"].widget.attrs.update(autocomplete="off", spellcheck="false")

    def link_args(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("client_id", "client_secret", "label")}


def region_choices(areas) -> list[tuple[str, str]]:
    return [("", "Choose…"), *((area.iso_code, area.name) for area in areas)]


class MammotionAppForm(LinkForm):
    email = forms.EmailField(label="Email", max_length=254)
    password = forms.CharField(
        label="Password",
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Used once to sign in; the dashboard keeps the session, not the password.",
    )
    region = forms.ChoiceField(
        label="Region",
        required=False,
        help_text="Where the account was registered. Mammotion's own record wins.",
    )
    understood = forms.BooleanField(
        label="I understand that this may sign my phone app out of this account."
    )
    label = label_field()

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = region_choices(areas)
        self.areas = {area.iso_code: area.name for area in areas}

    def link_args(self) -> dict:
        keys = ("email", "password", "label", "region")
        args = {k: self.cleaned_data[k] for k in keys}
        args["region_code"] = args.pop("region")
        return args


class RemoveAccountForm(forms.Form):
    delete_history = forms.BooleanField(
        label="Delete history too",
        required=False,
        help_text="Also delete every run, fault and map of its machines. Without this they "
        "stay in History and Faults.",
    )


# --- the dedicated-account sign-up (4.3.6) ---------------------------------------------


class SignupStartForm(forms.Form):
    region = forms.ChoiceField(label="Country or region", help_text="Where you and the mower are.")
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="A different address from your main Mammotion account. Mammotion emails a "
        "verification code there.",
    )
    full_name = forms.CharField(label="Name", max_length=50, initial="Dashboard")

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = region_choices(areas)


class SignupCodeForm(LinkForm):
    verification_code = forms.CharField(
        label="Verification code",
        max_length=12,
        validators=[RegexValidator(r"^\d{4,12}$", "The code is the digits from the email.")],
    )
    password = forms.CharField(
        label="Password",
        max_length=100,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_RULE,
    )
    password2 = forms.CharField(
        label="Password again",
        max_length=100,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verification_code"].widget.attrs.update(
            inputmode="numeric", autocomplete="one-time-code"
        )

    def clean_password(self):
        password = self.cleaned_data["password"]
        problem = password_problem(password)
        if problem:
            raise forms.ValidationError(problem)
        return password

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") != data["password"]:
            self.add_error("password2", "The two passwords differ.")
        return data
