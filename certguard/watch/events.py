"""Live events for the UI (Server-Sent Events) and the label of the network we are on."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any


def linux_network() -> str:
    """A label for the current network: default-route interface and gateway(s). Changes when the user moves."""
    routes = []
    try:
        with open("/proc/net/route", encoding="ascii") as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if len(parts) > 2 and parts[1] == "00000000":  # default route
                    gw = int(parts[2], 16).to_bytes(4, "little")
                    routes.append(f"{parts[0]} via {'.'.join(str(b) for b in gw)}")
    except OSError:
        return "unknown"
    return ", ".join(sorted(routes)) or "offline"


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
