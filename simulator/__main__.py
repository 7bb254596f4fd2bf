"""``python -m simulator``: run the local fake of the 360 Smart and Mammotion clouds."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime

from simulator.core import VENDOR_MODULES
from simulator.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_PUSH_PORT,
    base_url_env,
    build_server,
    origin_host,
)

DESCRIPTION = """\
Local simulator of the 360 Smart and Mammotion clouds, for demos, `make run` and tests.

It is a demo/test tool and must not be exposed: it has no real authentication, hands
out its seeded secrets to anyone who asks /_sim/, and lets any caller reset or break it.
Keep it on loopback (the default, 127.0.0.1).
"""


def parse_start(value: str) -> float:
    """Unix seconds, or an ISO 8601 date-time (naive = UTC)."""
    try:
        return float(value)
    except ValueError:
        pass
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


OPTIONS = [
    ("--host", {"default": DEFAULT_HOST, "help": "bind address (default: %(default)s)"}),
    ("--port", {"type": int, "default": DEFAULT_PORT,
                "help": "HTTP port (default: %(default)s; 0 = any free port)"}),
    ("--seed", {"type": int, "default": 1, "help": "seed of all generated data (default: 1)"}),
    ("--speed", {"type": float, "default": 1.0,
                 "help": "simulated seconds per real second (default: 1; 0 freezes time)"}),
    ("--start", {"type": parse_start, "default": None,
                 "help": "pin the simulated start time (Unix seconds or ISO 8601; default: now)"}),
    ("--push-port", {"type": int, "default": DEFAULT_PUSH_PORT,
                     "help": "port of the 360 push server (default: %(default)s; 0 = any)"}),
    ("--vendors", {"default": ",".join(VENDOR_MODULES),
                   "help": "comma-separated vendor models to serve (default: %(default)s)"}),
    ("--extra-360-accounts", {"type": int, "default": 0, "metavar": "N",
                              "help": "add N generated 360 accounts 3000000000+i (benchmarks)"}),
    ("--runs-per-device", {"type": int, "default": None, "metavar": "M",
                           "help": "runs per generated 360 device (default: ~1 a day, 180 days)"}),
    ("--verbose", {"action": "store_true", "help": "log every request to stderr"}),
]  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flag, options in OPTIONS:
        parser.add_argument(flag, **options)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    vendors = [name.strip() for name in args.vendors.split(",") if name.strip()]
    unknown = sorted(set(vendors) - set(VENDOR_MODULES))
    if unknown:
        parser.error(f"unknown vendors: {', '.join(unknown)} (known: {', '.join(VENDOR_MODULES)})")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: binding {args.host}: the simulator must not be exposed", file=sys.stderr)
    server, sim = build_server(
        args.host,
        args.port,
        args.seed,
        args.speed,
        start=args.start,
        push_port=args.push_port,
        push_optional=True,
        vendors=vendors,
        extra_360_accounts=args.extra_360_accounts,
        runs_per_device=args.runs_per_device,
    )
    url = f"http://{origin_host(args.host)}:{server.server_address[1]}"
    served = ", ".join(vendor.name for vendor in sim.vendors) or "no vendor"
    print(
        f"simulator: serving {served} on {url} (seed {args.seed}, speed {args.speed})", flush=True
    )
    print("simulator: point the dashboard at it with:", flush=True)
    for name, value in base_url_env(url, sim.push_port).items():
        print(f"  {name}={value}", flush=True)
    if server.push is not None:
        server.push.start()
        print(f"simulator: 360 push server on {origin_host(args.host)}:{sim.push_port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if server.push is not None:
            server.push.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
