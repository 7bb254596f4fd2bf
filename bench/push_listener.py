"""Benchmark: one push listener holding many 360 accounts (cloud-apis.md 3.7.8).

    .venv/bin/python -m bench.push_listener [--accounts 200] [--running 50] [--window 60]
        [--db sqlite|postgres]

The simulator (its own process) generates `--accounts` 360 accounts with one vacuum each;
each is linked here with its SID and pushKey (method 1). `--running` of the vacuums are
set cleaning, so they report every minute and the listener refreshes them every 60 s; the
others are refreshed every 10 minutes.

Phases, all in this process (the simulator's CPU is not counted):

1. baseline: the same number of bare `PushConnection`s in one `PushPoller` (bind,
   heartbeats, acknowledgements; no database, no HTTP) for a third of the window: what
   the protocol alone costs on this machine right now;
2. start: `Listener` in a thread; time until every account is bound and every robot's
   status is stored;
3. window: `--window` seconds of steady state. CPU (`time.process_time`, all threads)
   and RSS (`/proc/self/status`) are measured over it; every 5 s the oldest stored
   status of the running and of the docked robots is compared with its refresh interval.

Goals: every status younger than its refresh interval (plus 15 s for the request and
the answer); the listener's CPU within a few times the bare protocol's.
"""

from __future__ import annotations

import resource
import threading
import time

from bench.common import Report, Simulator, household_with_owner, parse_args, prepare

SLACK_S = 15.0  # a due request, its answer, and the write


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def link_generated(household, made: list[dict]) -> list:
    from devices.machines import Device
    from devices.models import CloudAccount, LinkMethod, Vendor

    accounts = []
    for entry in made:
        account = CloudAccount(household=household, vendor=Vendor.QIHOO360, identity=entry["qid"],
                               method=LinkMethod.QIHOO360_SID, label=f"360 {entry['qid']}")  # fmt: skip
        account.set_credentials({"sid": entry["sid"], "push_key": entry["pushKey"]})
        account.save()
        accounts.append(account)
        Device.objects.bulk_create(
            Device(account=account, vendor=Vendor.QIHOO360, kind="vacuum", remote_id=sn, name=sn)
            for sn in entry["sns"]
        )
    return accounts


def baseline(address, made: list[dict], seconds: float) -> tuple[float, int]:
    """CPU % of bare connections over `seconds`, and how many were bound."""
    from devices.clouds.qihoo360_push import Bound, PushConnection, PushPoller

    poller = PushPoller()
    for entry in made:
        poller.add(PushConnection(address, entry["sid"], entry["pushKey"]))
    bound = 0
    deadline = time.monotonic() + 10
    while bound < len(made) and time.monotonic() < deadline:
        bound += sum(isinstance(item, Bound) for _, item in poller.poll(0.2))
    cpu, wall = time.process_time(), time.monotonic()
    while time.monotonic() - wall < seconds:
        poller.poll(0.5)
    used = (time.process_time() - cpu) / (time.monotonic() - wall) * 100
    poller.close()
    return used, bound


def status_ages(running_sns: set[str]) -> tuple[float, float, int]:
    """(oldest running, oldest docked) status age in seconds, and how many have none."""
    from django.utils import timezone

    from devices.machines import Device

    now = timezone.now()
    oldest = {True: 0.0, False: 0.0}
    missing = 0
    for sn, observed in Device.objects.values_list("remote_id", "status_observed_at"):
        if observed is None:
            missing += 1
            continue
        running = sn in running_sns
        oldest[running] = max(oldest[running], (now - observed).total_seconds())
    return oldest[True], oldest[False], missing


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        extra=[
            ("--accounts", {"type": int, "default": 200}),
            ("--running", {"type": int, "default": 50}),
            ("--window", {"type": float, "default": 60.0}),
        ],
    )
    report = Report(f"push listener, {args.accounts} accounts", args.db)
    with Simulator() as sim:
        push_port = sim.control("GET", "state")["push_port"]
        address = ("127.0.0.1", int(push_port))
        env = {**sim.env(), "QIHOO360_PUSH_ADDR": f"127.0.0.1:{push_port}"}
        environment = prepare(args.db, "push", env=env, keep=args.keep)
        made = sim.control(
            "POST", "360/generate", {"accounts": args.accounts, "runs_per_device": 0}
        )
        made = made["accounts"]
        household, _ = household_with_owner()
        link_generated(household, made)
        rss_before = rss_mb()

        base_cpu, base_bound = baseline(address, made, args.window / 3)
        report.figure("baseline: bare connections bound", base_bound, "", f"= {len(made)}",
                      base_bound == len(made))  # fmt: skip
        report.figure("baseline: CPU of bare connections", round(base_cpu, 2), "%")

        from devices.machines import Device
        from devices.push_listener import Listener

        listener = Listener(address)
        stop = threading.Event()
        thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
        started = time.monotonic()
        thread.start()
        while Device.objects.filter(status_observed_at__isnull=True).exists():
            if time.monotonic() - started > 120:
                break
            time.sleep(0.25)
        first_all = time.monotonic() - started
        report.figure("time until every robot's status is stored", round(first_all, 1), "s",
                      "< 30 s", first_all < 30)  # fmt: skip

        running = [entry["sns"][0] for entry in made[: args.running]]
        for sn in running:
            sim.control("POST", f"360/devices/{sn}", {"mode": "sweep"})
        time.sleep(2)

        counters = dict(listener.counters)
        cpu, wall = time.process_time(), time.monotonic()
        peak, worst = rss_mb(), [0.0, 0.0, 0]
        while time.monotonic() - wall < args.window:
            time.sleep(min(5.0, args.window - (time.monotonic() - wall)))
            peak = max(peak, rss_mb())
            ages = status_ages(set(running))
            worst = [max(worst[0], ages[0]), max(worst[1], ages[1]), max(worst[2], ages[2])]
        seconds = time.monotonic() - wall
        cpu_pct = (time.process_time() - cpu) / seconds * 100
        rss_end = rss_mb()
        done = {key: listener.counters[key] - counters[key] for key in counters}
        bound = sum(
            1 for c in sim.control("GET", "360/push-connections")["connections"] if c["bound"]
        )
        stop.set()
        thread.join(timeout=30)
        intervals = listener.intervals
        report.figure("listener: CPU over the window", round(cpu_pct, 2), "%",
                      f"<= 5x baseline ({base_cpu * 5:.2f} %) or < 10 %",
                      cpu_pct <= max(base_cpu * 5, 10.0))  # fmt: skip
        report.figure("listener: RSS before / peak / end", f"{rss_before:.0f} / {peak:.0f} / {rss_end:.0f}", "MB")  # fmt: skip
        report.figure("listener: RSS added by the listener", round(peak - rss_before, 1), "MB")
        report.figure("oldest status of a running robot", round(worst[0], 1), "s",
                      f"<= {intervals.active + SLACK_S:.0f}",
                      worst[0] <= intervals.active + SLACK_S)  # fmt: skip
        report.figure("oldest status of a docked robot", round(worst[1], 1), "s",
                      f"<= {intervals.idle + SLACK_S:.0f}", worst[1] <= intervals.idle + SLACK_S)  # fmt: skip
        report.figure("robots without a status", worst[2], "", "0", worst[2] == 0)
        report.figure("statuses written / requests / errors / reconnects in the window",
                      f"{done['statuses']} / {done['requests']} / {done['request_errors']} / {done['reconnects']}")  # fmt: skip
        report.figure("push connections bound at the end of the window", bound, "",
                      f"= {len(made)}", bound == len(made))  # fmt: skip
        report.note(
            f"{len(running)} robots cleaning; window {seconds:.0f} s; DATA_DIR {environment.data_dir}"
        )
    raise SystemExit(0 if report.print() else 1)


if __name__ == "__main__":
    main()
