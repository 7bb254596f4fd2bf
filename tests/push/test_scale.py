"""200 accounts on one poller in one thread, against one simulator (the listener's load)."""

from __future__ import annotations

import time

from devices.clouds import Qihoo360Client
from devices.clouds.qihoo360_push import Bound, PushConnection, StatusMessage

ACCOUNTS = 200


def test_200_connections_bound_at_once_all_receive_a_status_push(sim, harness, http):
    made = sim.control("POST", "360/generate", {"accounts": ACCOUNTS})["accounts"]
    assert len(made) == ACCOUNTS
    started = time.monotonic()
    conns = {}
    for account in made:
        conn = PushConnection(sim.push_addr, account["sid"], account["pushKey"],
                              label=f"360 push {account['qid']}")  # fmt: skip
        conns[account["qid"]] = harness.add(conn)
    harness.wait_until(lambda: len(harness.of(Bound)) == ACCOUNTS, timeout=20)
    bound_after = time.monotonic() - started
    assert sum(c["bound"] for c in sim.push_connections()) == ACCOUNTS

    tasks = {}
    for account in made:
        client = Qihoo360Client(http, qid=account["qid"], sid=account["sid"], timeout=(5, 10),
                                api_url=sim.url)  # fmt: skip
        (sn,) = account["sns"]
        tasks[account["qid"]] = (sn, client.send_command(sn, "status").task_id)
        harness.pump(0)  # keep reading while sending

    def answered() -> set[str]:
        done = set()
        for qid, conn in conns.items():
            sn, task_id = tasks[qid]
            if any(m.sn == sn and m.task_id == task_id for m in harness.of(StatusMessage, conn)):
                done.add(qid)
        return done

    harness.wait_until(lambda: len(answered()) == ACCOUNTS, timeout=30)
    for conn in conns.values():
        assert conn.bound and conn.stats.decrypt_failures == 0 and conn.stats.acks_sent >= 1
    # Each account only hears about its own device.
    for qid, conn in conns.items():
        assert {m.sn for m in harness.of(StatusMessage, conn)} == {tasks[qid][0]}
    assert bound_after < 10
