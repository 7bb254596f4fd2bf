"""The emails accounts sends. Links are absolute, built from settings.SITE_URL (never from
the request's Host header, which a client controls)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Invitation


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


def invitation_link(token: str) -> str:
    return absolute_url(reverse("accounts:invitation_accept", args=[token]))


def send_invitation(invitation: Invitation, link: str) -> None:
    context = {"invitation": invitation, "link": link, "inviter": invitation.invited_by}
    subject = render_to_string("accounts/email/invitation_subject.txt", context)
    body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(" ".join(subject.split()), body, None, [invitation.email])
