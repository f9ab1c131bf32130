"""The data: the latest round with its headline, history, episodes, the device audit; "check now"."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, jsonify, request

from certguard import __version__
from certguard.app.api.state import api_state
from certguard.app.render import audit_document
from certguard.i18n import Translator
from certguard.judge.models import iso

if TYPE_CHECKING:
    from certguard.watch.daemon import Daemon, Round

bp = Blueprint("status", __name__)


def _results(tr: Translator, d: Daemon, rnd: Round) -> list[dict[str, Any]]:
    out = []
    for v in rnd.verdicts:
        doc = v.to_dict(tr.messages(v))
        public, device = d.anchor_subjects(v)
        doc |= {"advice": tr.advice(v), "allowed": d.is_allowed(v), "rank": v.status.rank,
                "public_anchor_subject": public, "device_anchor_subject": device}
        out.append(doc)
    return out


@bp.get("/api/status")
def status() -> Response:
    """The latest round, rendered once per round, settings and language: the UI re-reads it on every live update,
    and with 1,000 sites rendering took 70-130 ms (bench/run.py). A round and the settings are replaced whole, never
    mutated, so holding the very objects (compared with ``is``) tells a stale entry apart."""
    state = api_state()
    d, tr = state.daemon, state.translator()
    rnd, settings = d.latest, d.settings
    with state.cache_lock:
        hit = state.cache.get(("status", tr.lang))
    if hit is not None and hit[0] is rnd and hit[1] is settings and hit[2] == d.problem:
        return Response(hit[3], mimetype="application/json")
    headline = d.headline()
    body = json.dumps({"overall": headline["overall"], "headline": headline,
                       "checked_at": iso(rnd.checked_at) if rnd.checked_at else None,
                       "network": rnd.network, "running": rnd.running, "version": __version__,
                       "language": state.language(), "notifications": d.notifier_name,
                       "problem": d.problem, "results": _results(tr, d, rnd)}).encode()
    with state.cache_lock:
        state.cache[("status", tr.lang)] = (rnd, settings, d.problem, body)
    return Response(body, mimetype="application/json")


@bp.post("/api/check")
def check() -> tuple[Response, int]:
    api_state().daemon.request_check()
    return jsonify({"queued": True}), 202


@bp.get("/api/history")
def history() -> Response:
    host = request.args.get("host", "").strip().lower()
    if not host:
        abort(400, "host is required")
    return jsonify({"host": host, "history": api_state().daemon.history.history(host)})


@bp.get("/api/episodes")
def episodes() -> Response:
    return jsonify({"episodes": [e.to_dict() for e in api_state().daemon.history.episodes()]})


def _signed_sites(daemon: Daemon, per_site: int = 50) -> dict[str, list[str]]:
    """Which watched sites each device root anchored, from the daemon's history (the newest rows per site): what
    the Device page shows next to each root, so Status and Device speak of the same root."""
    out: dict[str, list[str]] = {}
    for v in daemon.latest.verdicts:
        label = v.host if v.port == 443 else f"{v.host}:{v.port}"
        for row in daemon.history.history(v.host, limit=per_site):
            anchor = row.get("device_anchor")
            if isinstance(anchor, str) and row.get("port", 443) == v.port and label not in out.get(anchor, []):
                out.setdefault(anchor, []).append(label)
    return out


@bp.get("/api/audit")
def audit() -> Response:
    state = api_state()
    report = state.daemon.audit()
    if report is None:
        return jsonify({"available": False, "roots": [], "problems": [], "notes": [], "summary": {}})
    doc = audit_document(report, state.translator(), datetime.now(UTC), state.daemon.ctx.mozilla.source)
    signed = _signed_sites(state.daemon)
    for root in doc["roots"]:
        root["signed_sites"] = signed.get(root["sha256"], [])
    return jsonify(doc | {"available": True})
