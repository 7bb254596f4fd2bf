"""Run the 360 push listener: live status of every linked 360 account (cloud-apis.md 3.7).

One long-running process (Procfile `listen`). Several are safe: each account is taken
with a database lease, so every account is served by exactly one listener. SIGTERM or
SIGINT stops it cleanly: connections closed, leases released.
"""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from devices.push_listener import Listener


class Command(BaseCommand):
    help = "Keep one 360 push connection per linked account and store live status."

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-accounts",
            type=int,
            default=None,
            help="Serve at most this many accounts (leave the rest to other listeners).",
        )
        parser.add_argument(
            "--workers", type=int, default=4, help="Threads sending status requests (default 4)."
        )

    def handle(self, *args, max_accounts=None, workers=4, **options):
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        host, port = settings.QIHOO360_PUSH_ADDR
        self.stdout.write(f"Listening to the 360 push server at {host}:{port} (Ctrl-C stops).")
        Listener(max_accounts=max_accounts, workers=max(1, workers)).run(stop)
        self.stdout.write("Push listener stopped.")
