"""Push events of the 360 simulator: the seam for the TCP push server (cloud-apis.md 5.3.5).

The state machine and ``cmd/send`` publish events here, each with the time it is due
(a command's answer arrives 0.5 s after the command). ``release(now)`` delivers due events
in order: it keeps the most recent ones for ``GET /_sim/360/pushes`` and
``/_sim/360/pushdata/{id}``, and hands each one to every subscriber. The TCP push server
(``simulator.qihoo360_pushserver``) subscribes, finds the bound connections of
``event.qids``, and encrypts ``event.message_body()`` with each account's pushKey.
Subscribers run under the simulator lock, so they must only queue.

A reset builds a new bus with ``PushBus(carry=old_bus)``: subscribers, ``controls`` and
``reset_hooks`` carry over (the push server outlives resets), and every reset hook is
called (under the lock). ``controls`` maps a first path segment under ``/_sim/360/`` to a
handler ``(req, parts, body) -> SimResponse`` for controls owned by the push server.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANSWER_DELAY = 0.5  # within the 0.3-0.8 s of 5.3.5
STATUS_EVENT = 4  # "event" of status pushes (the only value seen, 3.7.7)


@dataclass
class PushEvent:
    id: int
    sn: str
    qids: list[str]  # accounts that receive it: the owner and those it is shared with
    time: float  # when it is due (simulated Unix seconds)
    taskid: str
    info_type: int | str
    data: Any  # the inner "data": an object, or whatever an injected push carries
    message: str = "ok"
    event: int = STATUS_EVENT
    extra: dict = field(default_factory=dict)  # e.g. "online" beside infoType

    def inner(self) -> dict:
        """The double-encoded part: {"message", "infoType", "data"} (3.7.7)."""
        return {
            "message": self.message,
            "infoType": self.info_type,
            "data": self.data,
            **self.extra,
        }

    def message_body(self, data_url: str | None = None) -> dict:
        """The decrypted push as the client sees it after AES decryption (3.7.7).
        With ``data_url`` the inner data is replaced by a ``pushDataUrl`` (knob)."""
        body = {
            "createTime": str(int(self.time)),
            "event": self.event,
            "sn": self.sn,
            "taskid": self.taskid,
        }
        if data_url:
            body["pushDataUrl"] = data_url
        else:
            body["data"] = json.dumps(self.inner(), ensure_ascii=False, separators=(",", ":"))
        return body


class PushBus:
    def __init__(self, keep: int = 2000, carry: PushBus | None = None):
        self._pending: list[tuple[float, int, PushEvent]] = []
        self._delivered: deque[PushEvent] = deque(maxlen=keep)
        self._by_id: dict[int, PushEvent] = {}
        self._ids = itertools.count(1)
        self.subscribers: list[Callable[[PushEvent], None]] = []
        self.controls: dict[str, Callable[..., Any]] = {}
        self.reset_hooks: list[Callable[[], None]] = []
        if carry is not None:
            self.subscribers.extend(carry.subscribers)
            self.controls.update(carry.controls)
            self.reset_hooks.extend(carry.reset_hooks)
            for hook in self.reset_hooks:
                hook()

    def publish(self, sn: str, qids: list[str], due: float, taskid: str, info_type, data,
                message: str = "ok", extra: dict | None = None) -> PushEvent:  # fmt: skip
        event = PushEvent(next(self._ids), sn, list(qids), due, taskid, info_type, data,
                          message, extra=extra or {})  # fmt: skip
        heapq.heappush(self._pending, (due, event.id, event))
        return event

    def release(self, now: float) -> None:
        while self._pending and self._pending[0][0] <= now:
            _, _, event = heapq.heappop(self._pending)
            if len(self._delivered) == self._delivered.maxlen:
                self._by_id.pop(self._delivered[0].id, None)
            self._delivered.append(event)
            self._by_id[event.id] = event
            for subscriber in self.subscribers:
                subscriber(event)

    def recent(self, sn: str | None = None, limit: int = 50) -> list[PushEvent]:
        found = [event for event in self._delivered if sn is None or event.sn == sn]
        return found[-limit:] if limit > 0 else []

    def get(self, event_id: int) -> PushEvent | None:
        return self._by_id.get(event_id)

    def pending_count(self) -> int:
        return len(self._pending)


def unsolicited_taskid(when: float) -> str:
    """Unsolicited pushes carry a numeric taskid such as "1703612364234672" (3.2)."""
    return str(int(when * 1_000_000))
