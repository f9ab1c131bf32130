"""Live updates for the UI (Server-Sent Events)."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator

from flask import Blueprint, Response, abort

from certguard.app.api.state import api_state

SSE_KEEPALIVE = 15.0

bp = Blueprint("events", __name__)


@bp.get("/api/events")
def events() -> Response:
    state = api_state()
    d = state.daemon
    # Subscribe now, not inside the generator: a full house is a 503 the error handler can answer.
    subscription = d.events.subscription()
    if subscription is None:
        abort(503, "too many live-update listeners")

    def stream() -> Iterator[str]:
        with subscription as q:
            yield f"event: hello\ndata: {json.dumps({'overall': d.headline()['overall']})}\n\n"
            waited = 0.0
            while waited < state.sse_max_seconds and not d.stop.is_set():
                try:
                    event = q.get(timeout=SSE_KEEPALIVE)
                except queue.Empty:
                    waited += SSE_KEEPALIVE
                    yield ": keepalive\n\n"
                    continue
                yield f"event: {event.get('type', 'message')}\ndata: {json.dumps(event)}\n\n"
    return Response(stream(), mimetype="text/event-stream", headers={"X-Accel-Buffering": "no"})
