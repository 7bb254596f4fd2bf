"""The email owners get when a sync finds that an account must be linked again."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Membership, Role


def send_reauth_email(account) -> int:
    owners = (
        Membership.objects.filter(household=account.household_id, role=Role.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    recipients = sorted(set(owners))
    if not recipients:
        return 0
    from django.conf import settings

    context = {
        "account": account,
        "link": settings.SITE_URL + reverse("devices:sync_health", args=[account.pk]),
    }
    subject = render_to_string("devices/sync/reauth_email_subject.txt", context)
    body = render_to_string("devices/sync/reauth_email.txt", context)
    return send_mail(" ".join(subject.split()), body, None, recipients)
