"""Formatting filters for reports: {% load report_format %}.

{{ run.duration_s|duration }}   -> "1 h 05 min"      {{ secs|hours }}    -> "12.3 h"
{{ run.area_m2|area }}          -> "42 m²"           {{ when|age }}      -> "5 min ago"
{{ stats.extra.clues|clues }}   -> vendor text with ((numbers)) in bold
{{ device|state_label }}        -> "Docked, fully charged"
"""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from dashboard import states
from devices.models import Vendor

register = template.Library()

NONE = "—"
_VENDORS = dict(Vendor.choices)
_LEVELS = {1: "Info", 2: "Warning", 3: "Critical"}


@register.filter
def duration(seconds) -> str:
    if seconds is None or seconds == "":
        return NONE
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


@register.filter
def hours(seconds) -> str:
    if seconds is None or seconds == "":
        return NONE
    value = int(seconds) / 3600
    return f"{value:,.0f} h" if value >= 100 else f"{value:.1f} h"


@register.filter
def area(square_metres) -> str:
    if square_metres is None or square_metres == "":
        return NONE
    value = float(square_metres)
    if value >= 100 or value == int(value):
        return f"{value:,.0f} m²"
    return f"{value:.1f} m²"


@register.filter
def age(when: datetime | None, now: datetime | None = None) -> str:
    """How long ago, coarsely: "just now", "12 min ago", "3 h ago", "4 days ago"."""
    if when is None:
        return "never"
    seconds = ((now or timezone.now()) - when).total_seconds()
    if seconds < 0:
        return "just now" if seconds > -300 else "in the future"
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    if days < 60:
        return f"{days} days ago"
    return f"{days // 30} months ago"


_HIGHLIGHT = re.compile(r"\(\((.*?)\)\)")


@register.filter
def clues(text) -> str:
    """360's clue text: ((…)) marks numbers the app highlights (cloud-apis.md 3.5.7)."""
    if isinstance(text, dict):
        text = text.get("text", "")
    if not isinstance(text, str) or not text:
        return ""
    return mark_safe(_HIGHLIGHT.sub(r"<strong>\1</strong>", escape(text)))  # noqa: S308


@register.filter
def state_label(device) -> str:
    return states.state_label(device)


@register.filter
def error_text(code, vendor: str) -> str:
    """{{ run.error_code|error_text:run.device.vendor }}"""
    return states.error_text(vendor, code)


@register.filter
def vendor_label(vendor: str) -> str:
    return _VENDORS.get(vendor, vendor)


@register.filter
def fault_level(level) -> str:
    return _LEVELS.get(level, "—" if level is None else str(level))


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


@register.filter
def mode_words(mode: str) -> str:
    """A vendor's run mode for people: "smartClean" -> "Smart clean"; "" -> "—"."""
    if not mode:
        return NONE
    return _CAMEL.sub(" ", mode).replace("_", " ").capitalize()


@register.filter
def fault_heading(fault) -> str:
    """The vendor's explanation of a fault, or the catalogue's text for its code."""
    return (
        fault.title or states.error_text(fault.device.vendor, fault.code) or f"Fault {fault.code}"
    )
