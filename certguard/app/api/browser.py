"""What the browser companion saw: ``POST /api/observed`` (from the native host) and ``GET /api/observed`` (the UI).

The native host hands the chain the browser received to the daemon, which judges it through its own pipeline
(``Daemon.receive``: history, episodes and notifications include it, marked with its source) and compares it with
its own probe of the same host (``watch.companion``: the one place that decides "only the browser is intercepted").
Authenticated like every ``/api/`` call (the bearer token, which only the user's own processes can read), and
bounded like every body (64 KiB, also waitress's limit): a real chain is a few KiB; the native host judges a larger
one itself.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request

from certguard.app.api.state import api_state, json_body
from certguard.app.nativehost import ProtocolError, observation_doc, parse_request
from certguard.watch.companion import Observation, ProbeCache, RateLimited, observe
from certguard.watch.pipeline import Pipeline

bp = Blueprint("browser", __name__)
_KEY = "certguard.browser"
_RECENT = 256  # observations kept for the UI (in memory: the history has the verdicts themselves)


class _Companion:
    def __init__(self) -> None:
        self.cache = ProbeCache()
        self.recent: OrderedDict[tuple[str, int], Observation] = OrderedDict()
        self.lock = threading.Lock()

    def remember(self, obs: Observation) -> None:
        with self.lock:
            key = (obs.verdict.host, obs.verdict.port)
            self.recent.pop(key, None)
            self.recent[key] = obs
            while len(self.recent) > _RECENT:
                self.recent.popitem(last=False)


_SETUP = threading.Lock()


def _companion() -> _Companion:
    with _SETUP:
        found = current_app.extensions.get(_KEY)
        if not isinstance(found, _Companion):
            found = current_app.extensions[_KEY] = _Companion()
        return found


@bp.post("/api/observed")
def observed() -> Response:
    body = json_body()
    if not isinstance(body, dict):
        abort(400, "a JSON object is required")
    try:
        req = parse_request(body, "judge" if "chain" in body else "probe")
    except ProtocolError as exc:
        abort(400, f"invalid {exc.params.get('field', 'request')}")
    state = api_state()
    daemon = state.daemon
    # The first-run answer comes first: no probe, no record (Daemon.receive). An answer cannot be unset
    # (Settings.updated), so this cannot turn true again before receive() below.
    if daemon.awaiting_consent:
        abort(409, "certguard waits for the first-run answer in its window")
    companion = _companion()
    # Probes for the comparison are not rounds: a pipeline without observers, with the daemon's trust and options.
    pipeline = Pipeline(daemon.ctx, daemon.options, workers=1)
    try:
        if req.kind == "judge":
            seen = daemon.receive(req.host, req.port, req.chain, req.source)
            obs = observe(seen, lambda: companion.cache.probe(pipeline, req.host, req.port))
        else:
            obs = Observation(companion.cache.probe(pipeline, req.host, req.port), None, None)
    except RateLimited:
        abort(429, "too many probes in a minute")
    companion.remember(obs)
    return jsonify(observation_doc(obs, daemon.ctx, state.translator()))


@bp.get("/api/observed")
def observed_list() -> Response:
    """The latest observation per host (``?host=`` for one), newest first, with the difference finding if any."""
    state = api_state()
    host = request.args.get("host", "").strip().lower()
    companion = _companion()
    with companion.lock:
        items = [o for o in reversed(companion.recent.values()) if not host or o.verdict.host == host]
    tr = state.translator()
    docs: list[dict[str, Any]] = [observation_doc(o, state.daemon.ctx, tr) for o in items]
    return jsonify({"observed": docs})
