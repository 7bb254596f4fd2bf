"""The demo of `make run`: on the first start (no users yet) a household "Demo home" with
an owner and a viewer login, and the simulator's 360 "sid" and "qt" accounts and the
Mammotion Open API credentials linked through the normal linking services (so they are
validated and their machines discovered). Every start prints where to go and how to
sign in. Safe to run again: it creates nothing twice.

`make run` runs this before honcho starts the processes, so the simulator is usually
not up yet: the command then starts one in-process on the configured port (the same
seed, so the same ids), links, and stops it before honcho starts the real one. It
refuses to run unless every vendor base URL points at this machine (the simulator).
"""

from __future__ import annotations

import secrets
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Household, Membership, Role
from accounts.services import set_up_first_owner
from dashboard.env import generated_secret
from devices import linking
from devices.linking_errors import LinkError
from devices.models import LinkMethod

HOUSEHOLD, TIME_ZONE = "Demo home", "Europe/Berlin"
OWNER, VIEWER = "demo-owner", "demo-viewer"
SIM_SEED = 1
DONE_FILE = "demo-setup-done"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
BASE_URLS = (
    "QIHOO360_API_URL",
    "QIHOO360_CONFIG_URL",
    "MAMMOTION_USER_URL",
    "MAMMOTION_AUTH_URL",
    "MAMMOTION_OPEN_API_URL",
)

# The simulator's seeded accounts (cloud-apis.md 5.3.1, 5.4.1).
DEMO_LINKS = [
    (
        linking.link_qihoo360_sid,
        {
            "qid": "1234123412",
            "sid": "4a20145c62428d31b52b53c9ccbfcee4",
            "push_key": "a1b2c3d4e5f60718a1b2c3d4e5f60718",
            "label": "360 Smart (method 1: QID and SID)",
        },
    ),
    (
        linking.link_qihoo360_qt,
        {
            "qid": "2000000002",
            "q": "u=360H2000000002&n=demo&qid=2000000002&t=1",
            "t": "s=simT2000000002&t=1&v=2.0&a=1",
            "label": "360 Smart (method 2: Q and T cookies)",
        },
    ),
    (
        linking.link_mammotion_open_api,
        {
            "client_id": "sim-client-1",
            "client_secret": "sim-secret-1",
            "label": "Mammotion mowers",
        },
    ),
]


class Command(BaseCommand):
    help = "Create the demo household of `make run` (first start only) and print how to sign in."

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait",
            type=float,
            default=20.0,
            help="seconds to wait for a simulator that is still starting (default 20)",
        )
        parser.add_argument("--site-url", default="http://127.0.0.1:8000")

    def handle(self, *args, **options):
        host, port = simulator_address()
        self.out("")
        self.out(f"Robot dashboard is starting at {options['site_url']}")
        self.out(f"  Vendor clouds: the local simulator at {settings.QIHOO360_API_URL}")
        users = get_user_model().objects
        owner = users.filter(username=OWNER).first()
        if owner is None and users.exists():
            self.out("  Sign in with the account you created earlier.")
        else:
            household, passwords = self.ensure_household(owner)
            if not done_file().exists():
                self.link_demo_accounts(household, host, port, options["wait"])
            self.print_logins(household, passwords)
        self.out("  Stop everything with Ctrl-C.")

    def out(self, line: str) -> None:
        self.stdout.write(line)

    # --- people ------------------------------------------------------------------------

    def ensure_household(self, owner):
        """The demo household with its two logins; passwords generated once into
        DATA_DIR (mode 0600) and set again only if their file was deleted."""
        passwords = {}
        for username in (OWNER, VIEWER):
            path = password_file(username)
            regenerated = not path.exists()
            passwords[username] = generated_secret(path, lambda: secrets.token_urlsafe(12))
            user = get_user_model().objects.filter(username=username).first()
            if user is not None and regenerated:
                user.set_password(passwords[username])
                user.save(update_fields=["password"])
        if owner is None:
            with transaction.atomic():
                owner = set_up_first_owner(
                    username=OWNER,
                    password=passwords[OWNER],
                    email="",
                    household_name=HOUSEHOLD,
                    time_zone=TIME_ZONE,
                )
                household = owner.memberships.get().household
                viewer = get_user_model().objects.create_user(VIEWER, "", passwords[VIEWER])
                Membership.objects.create(user=viewer, household=household, role=Role.VIEWER)
            self.out(f'  Created the demo household "{HOUSEHOLD}" ({TIME_ZONE}).')
        household = Household.objects.filter(
            memberships__user=owner, memberships__role=Role.OWNER
        ).first()
        return household, passwords

    def print_logins(self, household, passwords) -> None:
        self.out(f'  Demo household "{household.name}": sign in as')
        self.out(f"    owner   {OWNER:<12} password {passwords[OWNER]}")
        self.out(f"    viewer  {VIEWER:<12} password {passwords[VIEWER]}")
        self.out(f"  (generated once, kept in {password_file('*')}, readable only by you)")

    # --- cloud accounts ----------------------------------------------------------------

    def link_demo_accounts(self, household, host: str, port: int, wait: float) -> None:
        """Link the seeded accounts that are not linked yet, against the simulator that
        is running, or one started here for the moment."""
        owner = household.memberships.get(role=Role.OWNER).user
        handle = None
        if not listening(host, port):
            handle = start_simulator(host, port)
            if handle is None and not wait_until_listening(host, port, wait):
                self.out(
                    f"  The simulator did not answer on {host}:{port}, so nothing was linked. "
                    "Run `make run` again, or link accounts on the Cloud accounts page."
                )
                return
        try:
            failures = sum(
                self.link_one(household, owner, service, args) for service, args in DEMO_LINKS
            )
            if handle is not None:
                forget_tokens(household)
        finally:
            if handle is not None:
                handle.stop()
        if failures:
            self.out("  Some demo accounts could not be linked; `make run` tries them again.")
        else:
            done_file().write_text("linked\n", encoding="utf-8")

    def link_one(self, household, owner, service, args) -> int:
        identity = args.get("qid") or args.get("client_id")
        if household.cloud_accounts.filter(identity=identity).exists():
            return 0
        try:
            result = service(household=household, user=owner, **args)
        except LinkError as error:
            self.out(f"  Could not link {args['label']}: {error.message}")
            return 1
        self.out(f"  {result.summary()}")
        return 0


def simulator_address() -> tuple[str, int]:
    """(host, port) of the simulator; CommandError unless every vendor base URL points
    at this machine, so the demo never exists next to real vendor clouds."""
    origins = set()
    for name in BASE_URLS:
        parts = urlsplit(getattr(settings, name))
        if parts.hostname not in LOOPBACK:
            raise CommandError(
                f"{name} is {getattr(settings, name)}: the demo only runs against the local "
                "simulator (`make run` sets all vendor URLs to http://127.0.0.1:8900)."
            )
        origins.add((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
    if len(origins) != 1:
        raise CommandError("The demo needs all vendor base URLs on one simulator origin.")
    return origins.pop()


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_until_listening(host: str, port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if listening(host, port):
            return True
        time.sleep(0.5)
    return False


def start_simulator(host: str, port: int):
    """A simulator in this process for the moment of linking, or None if the port is
    taken (something else is starting there)."""
    from simulator.server import start_server

    try:
        return start_server(host, port, seed=SIM_SEED)
    except OSError:
        return None


def forget_tokens(household) -> None:
    """Tokens issued by a temporary simulator mean nothing to the real one: drop them
    (the next sync asks for its own)."""
    accounts = household.cloud_accounts.filter(method=LinkMethod.MAMMOTION_OPEN_API)
    for account in accounts:
        secrets_ = account.credentials()
        if secrets_.pop("tokens", None) is not None:
            account.set_credentials(secrets_)
            account.save(update_fields=["credentials_token"])


def password_file(username: str) -> Path:
    return Path(settings.DATA_DIR) / f"{username}.password"


def done_file() -> Path:
    return Path(settings.DATA_DIR) / DONE_FILE
