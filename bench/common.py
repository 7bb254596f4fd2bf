"""Plumbing shared by the benchmarks: a private DATA_DIR and database per run, the
simulator in its own process, personas and linked accounts, counters and a report.

Why the simulator runs in a subprocess: a vendor cloud is another machine. In this
process it would share the GIL with the code under test and make the sync look slower
(and the CPU it burns invisible). On 2 cores the simulator and the product each get one.

Why `settings.DEBUG` is switched off after start-up: the settings need DEBUG=true to
generate their keys into the fresh DATA_DIR, but with DEBUG on Django records every SQL
statement in memory, which is not what production does.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_HOST = "127.0.0.1"
PG_ADMIN_DSN = f"host={PG_HOST} port=5432 user=postgres dbname=postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def parse_args(description: str, *, dbs=("sqlite", "postgres"), default_db="sqlite", extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", choices=dbs, default=default_db)
    parser.add_argument(
        "--keep", action="store_true", help="keep the DATA_DIR and database for a look after"
    )
    for flag, options in extra or []:
        parser.add_argument(flag, **options)
    return parser.parse_args()


# --- the simulator, in its own process ---------------------------------------------------


class Simulator:
    """`python -m simulator` on free ports; `control()` talks to its /_sim/ API."""

    def __init__(self, *args: str):
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-sim-"))
        self.log_path = self.workdir / "simulator.log"
        self._log = self.log_path.open("w")
        command = [PYTHON, "-m", "simulator", "--host", "127.0.0.1", "--port", "0"]
        command += ["--push-port", "0", *args]
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            command, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.url = self._wait_for_url()
        atexit.register(self.stop)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = re.search(r"serving .* on (http://\S+)", self.log_path.read_text())
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                raise RuntimeError(f"simulator exited: {self.log_path.read_text()}")
            time.sleep(0.05)
        raise RuntimeError("simulator did not start within 30 s")

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback http URL we started
            f"{self.url}/_sim/{path.lstrip('/')}", data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        with _OPENER.open(request, timeout=120) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def env(self) -> dict[str, str]:
        return {
            name: self.url
            for name in (
                "QIHOO360_API_URL",
                "QIHOO360_CONFIG_URL",
                "MAMMOTION_USER_URL",
                "MAMMOTION_AUTH_URL",
                "MAMMOTION_OPEN_API_URL",
            )
        }

    def last_request_id(self) -> int:
        """The id of the newest logged vendor request (ids grow by one per request, also
        after the bounded log dropped old entries): a request counter."""
        entries = self.control("GET", "requests?limit=1")["requests"]
        return entries[-1]["id"] if entries else 0

    def requests(self, **query) -> list[dict]:
        suffix = "&".join(f"{k}={v}" for k, v in query.items())
        return self.control("GET", f"requests?{suffix}")["requests"]

    def clear_requests(self) -> None:
        self.control("DELETE", "requests")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- a private DATA_DIR and database -----------------------------------------------------


@dataclass
class Environment:
    db: str
    data_dir: Path
    database_url: str = ""
    db_name: str = ""
    env: dict = field(default_factory=dict)  # what a worker subprocess needs


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


def prepare(db: str, label: str, *, env: dict | None = None, redis: bool = False, keep=False):
    """Point Django at a fresh DATA_DIR (and a scratch Postgres database), set it up,
    migrate. Returns the Environment; everything is removed at exit unless `keep`."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
    values = {
        "DEBUG": "true",
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        **(env or {}),
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    result = Environment(db=db, data_dir=data_dir)
    if db == "postgres":
        result.db_name = f"bench_{label}_{os.getpid()}"
        _pg(f'DROP DATABASE IF EXISTS "{result.db_name}"')
        _pg(f'CREATE DATABASE "{result.db_name}"')
        result.database_url = f"postgres://postgres@{PG_HOST}:5432/{result.db_name}"
        values["DATABASE_URL"] = result.database_url
    if redis:
        values["REDIS_URL"] = REDIS_URL
    os.environ.update(values)
    result.env = values
    if not keep:
        atexit.register(_cleanup, result)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.DEBUG = False  # no query log in memory (see the module docstring)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, STATIC_ROOT
    return result


def _cleanup(environment: Environment) -> None:
    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()
    if environment.db_name:
        with contextlib.suppress(Exception):
            _pg(f'DROP DATABASE IF EXISTS "{environment.db_name}" WITH (FORCE)')
    shutil.rmtree(environment.data_dir, ignore_errors=True)


# --- personas and linked accounts --------------------------------------------------------


def household_with_owner(name: str = "Bench home", tz: str = "Europe/Berlin"):
    from accounts.models import Household, Membership, User

    household = Household.objects.create(name=name, time_zone=tz)
    user = User.objects.create_user(f"owner{household.pk}", f"owner{household.pk}@example.com")
    Membership.objects.create(user=user, household=household, role="owner")
    return household, user


def link_360(household, qid: str, sid: str, *, budget: int = 300, label: str = ""):
    """A 360 account linked with QID and SID (as devices/linking.py stores it)."""
    from devices.models import CloudAccount, LinkMethod, Vendor

    account = CloudAccount(
        household=household,
        vendor=Vendor.QIHOO360,
        method=LinkMethod.QIHOO360_SID,
        identity=qid,
        label=label or f"360 {qid}",
        request_budget_per_hour=budget,
    )
    account.set_credentials({"sid": sid})
    account.save()
    return account


# The simulator's seeded Mammotion Open API client (cloud-apis.md 5.4.1).
SIM_MAMMOTION_CLIENT = ("sim-client-1", "sim-secret-1")


def link_mammotion(household, *, budget: int = 300, client=SIM_MAMMOTION_CLIENT):
    from devices.models import CloudAccount, LinkMethod, Vendor

    client_id, secret = client
    account = CloudAccount(
        household=household,
        vendor=Vendor.MAMMOTION,
        method=LinkMethod.MAMMOTION_OPEN_API,
        identity=client_id,
        label="Mammotion",
        request_budget_per_hour=budget,
    )
    account.set_credentials({"client_id": client_id, "client_secret": secret})
    account.save()
    return account


# --- counters ----------------------------------------------------------------------------

_VERB = re.compile(r"^\s*(INSERT|UPDATE|DELETE|SELECT|SAVEPOINT|RELEASE|BEGIN|COMMIT)", re.I)
_TABLE = re.compile(r'(?:INTO|UPDATE|FROM)\s+"?([a-z_]+)"?', re.I)


class SqlCounter:
    """Counts the statements this process sends (all connections of this thread), by
    verb and table, and the rows INSERT/UPDATE/DELETE report as affected."""

    def __init__(self):
        self.statements: dict[tuple[str, str], int] = {}
        self.rows: dict[tuple[str, str], int] = {}
        self._stack = contextlib.ExitStack()

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        verb = (_VERB.match(sql) or [None, "OTHER"])[1].upper()
        table = (_TABLE.search(sql) or [None, "?"])[1]
        key = (verb, table)
        self.statements[key] = self.statements.get(key, 0) + 1
        if os.environ.get("BENCH_SHOW_SQL") and verb in ("INSERT", "UPDATE", "DELETE"):
            print(f"  [sql] {sql[:300]}", file=sys.stderr)
        if verb in ("INSERT", "UPDATE", "DELETE"):
            rowcount = getattr(context["cursor"], "rowcount", -1)
            self.rows[key] = self.rows.get(key, 0) + max(rowcount, 0)
        return result

    def __enter__(self) -> SqlCounter:
        from django.db import connections

        for connection in connections.all():
            self._stack.enter_context(connection.execute_wrapper(self))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    @property
    def queries(self) -> int:
        return sum(n for (verb, _), n in self.statements.items() if verb not in _TX)

    def writes(self, tables=None) -> dict[tuple[str, str], int]:
        """Write statements by (verb, table)."""
        return {
            key: n
            for key, n in self.statements.items()
            if key[0] in ("INSERT", "UPDATE", "DELETE") and (tables is None or key[1] in tables)
        }

    def rows_written(self, tables) -> int:
        """Rows the write statements on `tables` reported as affected."""
        return sum(n for key, n in self.rows.items() if key[1] in tables)


_TX = {"SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- the report --------------------------------------------------------------------------


class Report:
    """Figures with their goals; printed as a table and as one JSON line for RESULTS.md."""

    def __init__(self, title: str, db: str):
        self.title = title
        self.db = db
        self.rows: list[dict] = []
        self.notes: list[str] = []

    def figure(self, name: str, value, unit: str = "", goal: str = "", ok: bool | None = None):
        self.rows.append({"name": name, "value": value, "unit": unit, "goal": goal, "ok": ok})

    def note(self, text: str) -> None:
        self.notes.append(text)

    def print(self) -> bool:
        print(f"\n== {self.title} [{self.db}] ==")
        width = max(len(row["name"]) for row in self.rows) if self.rows else 10
        for row in self.rows:
            value = row["value"]
            text = f"{value:,.2f}" if isinstance(value, float) else f"{value}"
            verdict = {True: "ok", False: "MISS", None: ""}[row["ok"]]
            goal = f"  (goal {row['goal']})" if row["goal"] else ""
            print(f"  {row['name']:<{width}}  {text} {row['unit']}{goal}  {verdict}".rstrip())
        for text in self.notes:
            print(f"  note: {text}")
        summary = {
            "bench": self.title,
            "db": self.db,
            "figures": {r["name"]: r["value"] for r in self.rows},
            "misses": [r["name"] for r in self.rows if r["ok"] is False],
        }
        print("BENCH " + json.dumps(summary, default=str))
        return not summary["misses"]
