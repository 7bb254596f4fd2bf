from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def duration(value: timedelta) -> str:
    """A calm, rounded-up duration: '1 minute', '15 minutes', '2 hours'."""
    minutes = max(1, -(-int(value.total_seconds()) // 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
