"""Read the next listing page while this one is being stored.

A first import of a long history alternates between waiting for the vendor and writing
to the database; with the next page read in a helper thread the two overlap. At most one
request is in flight from the helper (within the vendor's limit of 2 per account, 3.4.4),
and only after the caller granted it, so the caller keeps checking the request budget
before every request, as without the helper:

    with Prefetch(client.iter_run_pages(...)) as pages:
        pages.grant()                  # the first page, its budget checked before
        while (page := pages.next()) is not None:
            if more_pages_may_follow:
                ctx.before(1)          # the budget check of the next request
                pages.grant()
            store(page)                # meanwhile the helper reads the next page
            if not more_pages_may_follow:
                break

The helper thread only runs the iterator (HTTP and parsing); an error it meets is raised
from `next()` in the caller, so errors mean what they meant before. A 360 SID renewal
the iterator may need uses a database connection of the helper's own, closed when it
ends. Leaving the block (also by an exception) stops the helper after its current read.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from django.db import connections

_END = object()
STOP_WAIT_S = 60.0  # a read still in flight ends within the HTTP timeouts (5 s + 30 s)


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


class Prefetch:
    def __init__(self, pages: Iterator):
        self._pages = pages
        self._ready: queue.Queue = queue.Queue()
        self._grants = threading.Semaphore(0)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._read, name="listing-prefetch", daemon=True)

    def __enter__(self) -> Prefetch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopping.set()
        self._grants.release()  # wakes the helper if it waits for a grant
        self._thread.join(timeout=STOP_WAIT_S)

    def grant(self) -> None:
        """Allow the helper to read one more page."""
        self._grants.release()

    def next(self):
        """The next page (after a grant), or None when the listing has ended."""
        item = self._ready.get()
        if item is _END:
            return None
        if isinstance(item, _Failed):
            raise item.error
        return item

    def _read(self) -> None:
        try:
            while True:
                self._grants.acquire()
                if self._stopping.is_set():
                    return
                try:
                    page = next(self._pages)
                except StopIteration:
                    self._ready.put(_END)
                    return
                self._ready.put(page)
        except BaseException as error:  # handed to the caller, raised there
            self._ready.put(_Failed(error))
        finally:
            connections.close_all()  # this thread's connections only
