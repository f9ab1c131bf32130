"""The workshop lab for the UI's Workshop page: the scenarios, and running one (``POST /api/lab/run {id}``).

Runs the same ``certguard.app.lab.run`` as ``certguard lab run`` and answers the same JSON (the JSON of ``check``
plus the ``lab`` block), in the page's language. One run at a time: a lab run starts a loopback server and takes
well under a second, and a second click meanwhile is answered 409 instead of queueing servers.
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response, abort, jsonify

from certguard.app import lab
from certguard.app.api.state import api_state, json_body

bp = Blueprint("lab", __name__)
_RUNNING = threading.Lock()


@bp.get("/api/lab")
def scenarios() -> Response:
    return jsonify(lab.listing(api_state().translator()))


@bp.post("/api/lab/run")
def run() -> Response:
    body = json_body()
    scenario_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(scenario_id, str) or scenario_id not in lab.BY_ID:
        abort(400, f"'id' must be one of {', '.join(lab.BY_ID)}")
    tr = api_state().translator()
    if not _RUNNING.acquire(blocking=False):
        abort(409, "a lab scenario is already running")
    try:
        doc = lab.run(scenario_id).document(tr)
    finally:
        _RUNNING.release()
    return jsonify(doc)
