"""The embedded broker: kombu's filesystem transport with two fixes. Settings select it
with CELERY_BROKER_TRANSPORT when REDIS_URL is unset.

1. Queue order. Workers consume two queues, the default one (syncs, commands, beat
   tasks) and "details" (run details and maps), and must take a waiting sync before
   any details pass. On Redis the transport option `queue_order_strategy: "priority"`
   does that: each BRPOP names the queues in the order the worker consumes them, and
   Redis pops from the first that holds a message. kombu's virtual transports,
   filesystem among them, ignore that option and always poll a worker's queues round
   robin, so a sync would wait behind every other details pass. This Channel reads the
   same option and, with "priority", looks in the queues in the worker's order on every
   poll (tests/sync/test_worker_priority.py).
2. Whole messages only. kombu creates a message file under its final name and then
   writes it, so a worker polling at that moment can take the still empty file, fail to
   decode it and stop ("Unrecoverable error: JSONDecodeError", celery/kombu#1551; the
   worker then publishes messages too: details passes, the syncs they hand over to).
   Here a message is written under a name no reader takes and renamed when complete.
"""

from __future__ import annotations

import os
import uuid
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

PARTIAL_SUFFIX = ".part"  # readers take "<name>.<queue>.msg" files only


class Channel(filesystem.Channel):
    from_transport_options = (*filesystem.Channel.from_transport_options, "queue_order_strategy")
    queue_order_strategy = "round_robin"  # kombu's default (and its only way, unpatched)

    def _poll(self, cycle, callback, timeout=None):
        if self.queue_order_strategy != "priority":
            return super()._poll(cycle, callback, timeout=timeout)
        for queue in self._active_queues:  # in the order the worker consumes them
            try:
                return self._get_and_deliver(queue, callback)
            except Empty:
                continue
        raise Empty()

    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: kombu's file name, written whole, then renamed."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        try:
            with open(path + PARTIAL_SUFFIX, "wb") as partial:
                partial.write(str_to_bytes(dumps(payload)))
            os.replace(path + PARTIAL_SUFFIX, path)  # atomic within the folder
        except OSError as exc:
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
