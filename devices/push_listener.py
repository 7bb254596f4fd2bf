"""The 360 push listener: live status of every linked 360 account (cloud-apis.md 3.7.8).

One process (``manage.py listen_push``), one ``PushPoller``, one push connection per
linked 360 account that has a pushKey and status OK. Several processes may run: each
account is taken with a database lease (``push:<pk>``), extended while held, released
on shutdown, taken over by another listener once it expires. Every REFRESH_EVERY seconds
a listener picks up newly linked accounts and drops unlinked or failing ones.

After the bind, one 20001 status request per online robot; then every 60 s while it runs
(sweep, pause, backcharge), every 10 minutes otherwise, every 15 s while its page or card
is watched (``live_status.mark_watched``); never twice within 10 s; a pushed status
counts as fresh. Requests go over HTTP from a few worker threads, one at a time per
account, round-robin; all database writes of pushes happen in the loop thread.

Faults: a lost connection reconnects with ``ReconnectBackoff``; a rejected bind checks the
session over HTTP (method 2 renews the SID there, 3.3.3, and binds again with the new SID
and pushKey; method 1 needs a re-link); messages that do not decrypt flag the account.
SIDs and pushKeys are never logged (push_requests.py holds the pieces).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

from devices import live_status, locks, sync
from devices.cloud import new_session, read_credentials
from devices.clouds.base import AuthExpired
from devices.clouds.qihoo360_push import (
    BindRejected,
    Bound,
    CommandAnswer,
    PushConnection,
    PushError,
    PushPoller,
    ReconnectBackoff,
    StatusMessage,
    WrongKeySuspected,
    requests_fetch,
)
from devices.models import AccountStatus, CloudAccount, LinkMethod, Vendor
from devices.push_requests import (
    STATUS_TIMEOUT,
    AccountLink,
    Answers,
    Intervals,
    LiveDevice,
    check_session,
    fingerprint,
    in_worker,
    leased_elsewhere,
    load_devices,
    load_watched,
    most_due,
    request_status,
)

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=90)
REFRESH_EVERY = 30.0  # pick up new accounts, drop old ones, extend leases
WATCH_CHECK_EVERY = 5.0
BAD_KEY_RETRY = 3600.0  # a pushKey that did not decrypt is tried again after this
WRONG_KEY_MESSAGE = (
    "Live status: the push key does not decrypt the messages. Re-link with a fresh push key."
)
METHODS = (LinkMethod.QIHOO360_SID, LinkMethod.QIHOO360_QT)


class Listener:
    """``run(stop_event)`` until the event is set, or drive it with ``run_once()``."""

    def __init__(self, address=None, *, holder: str | None = None, workers: int = 4,
                 max_accounts: int | None = None, lease_ttl: timedelta = LEASE_TTL,
                 intervals: Intervals | None = None, refresh_every: float = REFRESH_EVERY,
                 watch_every: float = WATCH_CHECK_EVERY,
                 backoff_factory=ReconnectBackoff, clock=time.monotonic):  # fmt: skip
        self.address = address or settings.QIHOO360_PUSH_ADDR
        self.holder = holder or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.max_accounts, self.lease_ttl, self.clock = max_accounts, lease_ttl, clock
        self.intervals = intervals or Intervals()
        self.refresh_every, self.watch_every = refresh_every, watch_every
        self.backoff_factory = backoff_factory
        self.links: dict[int, AccountLink] = {}
        self.poller = PushPoller(clock=clock)
        names = ("refreshes", "statuses", "requests", "request_errors", "reconnects")
        self.counters = dict.fromkeys(names, 0)
        self._workers = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="push-request")
        self._futures: dict[Future, tuple[int, str]] = {}  # -> (account pk, sn or "")
        self._by_conn: dict[PushConnection, int] = {}
        self.answers = Answers(clock)
        self._bad_keys: dict[int, tuple[str, float]] = {}
        self._no_key_noted: set[int] = set()
        self._fetch = requests_fetch(new_session(), timeout=STATUS_TIMEOUT)
        self._next_refresh = self._next_watch = 0.0
        self._turn = 0

    # --- the loop -----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        log.info("push listener %s starting", self.holder)
        try:
            while not stop.is_set():
                try:
                    self.run_once()
                except Exception:  # one bad iteration must not end live status for all
                    log.exception("push listener: unexpected error; going on in 5 s")
                    close_old_connections()
                    stop.wait(5)
        finally:
            self.shutdown()

    def run_once(self, timeout: float = 0.5) -> None:
        now = self.clock()
        if now >= self._next_refresh:
            self.refresh_accounts()
            self._next_refresh = now + self.refresh_every
        for link in list(self.links.values()):
            if link.conn is None and link.reconnect_at is not None and now >= link.reconnect_at:
                self._connect(link)
        self._handle(self.poller.poll(timeout))
        self._collect()
        now = self.clock()
        if now >= self._next_watch:
            load_watched(self.links)
            self._next_watch = now + self.watch_every
        self.answers.retry(now)
        self._schedule_requests(now)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._futures.clear()  # their outcomes no longer matter
        for pk in list(self.links):
            try:
                self._drop(pk, "shutting down")
            except Exception:  # the database is gone: the lease expires by itself
                log.warning("360 account %s: lease not released", pk, exc_info=True)
        self.poller.close()
        log.info("push listener %s stopped", self.holder)

    # --- accounts -------------------------------------------------------------------------

    def refresh_accounts(self) -> None:
        close_old_connections()
        self.counters["refreshes"] += 1
        eligible = {
            account.pk: account
            for account in CloudAccount.objects.filter(
                vendor=Vendor.QIHOO360, method__in=METHODS, status=AccountStatus.OK
            )
            .exclude(credentials_token="")  # removed, history kept
            .order_by("pk")
        }
        for pk in list(self.links):
            if pk not in eligible:
                self._drop(pk, "unlinked or not OK any more")
            elif not locks.extend(f"push:{pk}", self.holder, self.lease_ttl):
                self._drop(pk, "lease lost to another listener", release=False)
            else:
                self._follow_credentials(self.links[pk], eligible[pk])
        free = [pk for pk in eligible if pk not in self.links]
        busy = leased_elsewhere(free, self.holder)  # not worth a decryption and a failed claim
        for pk in free:
            if self.max_accounts is not None and len(self.links) >= self.max_accounts:
                break
            if pk not in busy:
                self._take(eligible[pk])
        load_devices(self.links, self.clock())

    def _take(self, account: CloudAccount) -> None:
        creds = self._credentials(account)
        if creds is None:
            return
        sid, push_key = creds
        bad = self._bad_keys.get(account.pk)
        if bad and bad[0] == fingerprint(push_key) and self.clock() - bad[1] < BAD_KEY_RETRY:
            return
        if not locks.acquire(f"push:{account.pk}", self.lease_ttl, holder=self.holder):
            return  # another listener serves it
        link = AccountLink(account, sid, push_key, self.backoff_factory())
        self.links[account.pk] = link
        log.info("%s: taken (lease held)", link.label)
        self._connect(link)

    def _credentials(self, account: CloudAccount) -> tuple[str, str] | None:
        try:
            creds = read_credentials(account)
        except AuthExpired:
            return None  # flagged "needs re-link" by read_credentials
        if not creds.get("push_key") or not creds.get("sid"):
            if account.pk not in self._no_key_noted:
                self._no_key_noted.add(account.pk)
                log.info("360 account %s: no pushKey, so no live status", account.pk)
            return None
        return creds["sid"], creds["push_key"]

    def _follow_credentials(self, link: AccountLink, account: CloudAccount) -> None:
        """3.7.8 "SID change": after a renewal anywhere, re-bind with the new SID/pushKey."""
        link.account = account
        creds = self._credentials(account)
        if creds is None:
            self._drop(account.pk, "no pushKey any more")
        elif creds != (link.sid, link.push_key):
            link.sid, link.push_key = creds
            log.info("%s: session renewed; binding again", link.label)
            self._close(link)
            self._connect(link)

    def _drop(self, pk: int, why: str, *, release: bool = True) -> None:
        link = self.links.pop(pk, None)
        if link is None:
            return
        self._close(link)
        if release:
            locks.release(f"push:{pk}", self.holder)
        log.info("%s: dropped (%s)", link.label, why)

    # --- connections ------------------------------------------------------------------------

    def _connect(self, link: AccountLink) -> None:
        link.reconnect_at = None
        try:
            conn = PushConnection(self.address, link.sid, link.push_key, label=link.label,
                                  fetch=self._fetch, clock=self.clock)  # fmt: skip
        except ValueError:  # a SID the push server cannot take (3.7.4): tried again later
            self._bad_keys[link.account.pk] = (fingerprint(link.push_key), self.clock())
            self._drop(link.account.pk, "SID unusable for the push channel")
            return
        try:
            self.poller.add(conn)
        except PushError as exc:
            self._lost(link, exc)
            return
        link.conn = conn
        self._by_conn[conn] = link.account.pk

    def _close(self, link: AccountLink) -> None:
        if link.conn is not None:
            self.poller.remove(link.conn)
            link.conn.close()
            self._by_conn.pop(link.conn, None)
            link.conn = None

    def _lost(self, link: AccountLink, error: PushError) -> None:
        if link.conn is not None:
            self._by_conn.pop(link.conn, None)
            link.conn = None
        self.counters["reconnects"] += 1
        if isinstance(error, BindRejected) and not link.busy:
            log.info("%s: bind rejected; checking the session", link.label)
            self._submit(link, "", check_session, link.account, link.sid)
            return
        delay = link.backoff.next_delay()
        link.reconnect_at = self.clock() + delay
        log.info("%s: %s; reconnecting in %.0f s", link.label, type(error).__name__, delay)

    # --- pushes ---------------------------------------------------------------------------

    def _handle(self, results) -> None:
        latest: dict[tuple[int, str], StatusMessage] = {}  # a batch's statuses, newest wins
        for conn, item in results:
            pk = self._by_conn.get(conn)
            link = self.links.get(pk) if pk is not None else None
            if link is None or link.conn is not conn:
                continue
            if isinstance(item, PushError):
                self._lost(link, item)
            elif isinstance(item, Bound):
                link.backoff.bound()
                for device in link.devices.values():
                    device.wanted = True  # pushes may have been missed while away
            elif isinstance(item, WrongKeySuspected):
                self._wrong_key(link)
            elif isinstance(item, StatusMessage | CommandAnswer) and item.sn:
                self.answers.received(link.account.pk, item.sn, item.task_id, item.message)
                if isinstance(item, StatusMessage) and item.ok and item.status.raw:
                    latest[(pk, item.sn)] = item
                elif isinstance(item, CommandAnswer) and item.sn in link.devices:
                    live_status.remember_push(link.devices[item.sn].pk, item)
        for (pk, sn), message in latest.items():
            link = self.links.get(pk)
            device = link.devices.get(sn) if link else None
            if device is not None:
                self._write_status(link, device, message)

    def _write_status(self, link: AccountLink, device: LiveDevice, message: StatusMessage) -> None:
        written = live_status.apply_status(device.pk, message.status)
        if written is None:
            return
        device.mode, device.online = written.mode.lower(), True
        device.last_status = self.clock()
        self.counters["statuses"] += 1
        if written.run_finished:
            log.info("%s: a run of device %s finished; syncing", link.label, device.pk)
            try:
                sync.request_sync(link.account, trigger="run_finished")
            except Exception:  # a broker hiccup: the scheduled sync picks the run up later
                log.warning("%s: history sync not requested", link.label, exc_info=True)

    def _wrong_key(self, link: AccountLink) -> None:
        pk = link.account.pk
        log.warning("%s: messages do not decrypt with the stored pushKey", link.label)
        link.account.set_status(AccountStatus.ERROR, WRONG_KEY_MESSAGE)
        self._bad_keys[pk] = (fingerprint(link.push_key), self.clock())
        self._drop(pk, "wrong pushKey")

    # --- status requests (worker threads) -------------------------------------------------------

    def _schedule_requests(self, now: float) -> None:
        room = self._workers * 2 - len(self._futures)
        links = list(self.links.values())
        if room <= 0 or not links:
            return
        self._turn = (self._turn + 1) % len(links)
        for link in links[self._turn :] + links[: self._turn]:
            if link.busy or link.conn is None or not link.conn.bound:
                continue
            device = most_due(link.devices.values(), now, self.intervals)
            if device is None:
                continue
            device.last_request, device.wanted = now, False
            self._submit(link, device.sn, request_status, link.account, device.sn)
            room -= 1
            if room <= 0:
                return

    def _submit(self, link: AccountLink, sn: str, job, *args) -> None:
        link.busy = True
        self._futures[self._pool.submit(in_worker, job, *args)] = (link.account.pk, sn)

    def _collect(self) -> None:
        for future in [f for f in self._futures if f.done()]:
            pk, sn = self._futures.pop(future)
            link = self.links.get(pk)
            if link is None or future.cancelled():
                continue
            link.busy = False
            outcome, value = future.result()
            if sn:
                self._after_request(link, sn, outcome, value)
            else:
                self._after_session_check(link, outcome)

    def _after_request(self, link: AccountLink, sn: str, outcome: str, value) -> None:
        device = link.devices.get(sn)
        if outcome == "sent":
            task_id, sid = value
            self.counters["requests"] += 1
            self.answers.own(task_id)
            if sid and sid != link.sid:  # renewed during the request (method 2)
                self._reload(link)
            return
        self.counters["request_errors"] += 1
        if outcome == "offline" and device is not None:
            device.online = False
            live_status.mark_online(device.pk, False)
        elif outcome == "expired":
            self._expired(link)
        else:
            log.info("%s: status request failed: %s", link.label, value)

    def _after_session_check(self, link: AccountLink, outcome: str) -> None:
        if outcome == "renewed":
            self._reload(link)
        elif outcome == "expired":
            self._expired(link)
        elif link.conn is None:
            delay = link.backoff.next_delay()
            link.reconnect_at = self.clock() + delay
            log.info("%s: bind rejected (%s); retrying in %.0f s", link.label, outcome, delay)

    def _reload(self, link: AccountLink) -> None:
        account = CloudAccount.objects.filter(pk=link.account.pk).first()
        if account is None or account.status != AccountStatus.OK:
            self._drop(link.account.pk, "unlinked or not OK any more")
            return
        self._follow_credentials(link, account)
        if link.account.pk in self.links and link.conn is None:
            self._connect(link)

    def _expired(self, link: AccountLink) -> None:
        account = link.account
        if account.method == LinkMethod.QIHOO360_SID:
            account.refresh_from_db(fields=["status"])
            if account.status != AccountStatus.REAUTH_REQUIRED:
                account.set_status(
                    AccountStatus.REAUTH_REQUIRED,
                    "The 360 session (SID) has expired. Link the account again with a fresh SID.",
                )
        self._drop(account.pk, "session expired")  # method 2: renew_sid flagged it
