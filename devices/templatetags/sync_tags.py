"""Template tags of the background sync.

{% load sync_tags %}{% sync_summary account as summary %}
"""

from django import template

register = template.Library()


@register.simple_tag
def sync_summary(account):
    """What `devices/_sync_summary.html` shows about one account (a few queries)."""
    from devices.views.sync_health import account_summary

    return account_summary(account)
