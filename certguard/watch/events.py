"""Live events for the UI (Server-Sent Events)."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any


class EventBus:
    """Fan-out to SSE subscribers. Bounded: a subscriber that does not read loses old events, not memory."""

    def __init__(self, max_subscribers: int = 16) -> None:
        self._subs: list[queue.Queue[dict[str, Any]]] = []
        self._lock = threading.Lock()
        self.max_subscribers = max_subscribers

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            for q in self._subs:
                with contextlib.suppress(queue.Full):
                    q.put_nowait(event)

    def subscription(self) -> contextlib.AbstractContextManager[queue.Queue[dict[str, Any]]] | None:
        """A place for one more listener, taken now (None when all are taken); released when the context ends."""
        q: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=100)
        with self._lock:
            if len(self._subs) >= self.max_subscribers:
                return None
            self._subs.append(q)
        return self._held(q)

    @contextlib.contextmanager
    def _held(self, q: queue.Queue[dict[str, Any]]) -> Iterator[queue.Queue[dict[str, Any]]]:
        try:
            yield q
        finally:
            with self._lock:
                self._subs.remove(q)
