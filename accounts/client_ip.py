"""The client's IP address for login throttling, trusting exactly TRUSTED_PROXY_COUNT proxies.

Meant for django-axes as AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip".

Each proxy appends the address it received the request from to X-Forwarded-For, so with N
trusted proxies the client is the N-th entry from the right; everything left of it is
whatever the client chose to send and is ignored. With no trusted proxy the header is
ignored completely and REMOTE_ADDR is the client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if not count:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    if len(hops) < count:
        # Not through all our proxies (or a misconfigured count): trust only the socket.
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote
