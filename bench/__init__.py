"""Benchmarks (not tests): each module is a command that sets up its own DATA_DIR and
database, prints its figures and the ratio to a baseline measured in the same run.

    .venv/bin/python -m bench.import_history   [--db sqlite|postgres]
    .venv/bin/python -m bench.incremental_sync [--db sqlite|postgres]
    .venv/bin/python -m bench.pages            [--db sqlite|postgres]
    .venv/bin/python -m bench.many_accounts    [--accounts 1000]   (Postgres + Redis)
    .venv/bin/python -m bench.command_overhead [--db sqlite|postgres]

`make bench` runs them all; bench/RESULTS.md records the figures of the last full run.
"""
