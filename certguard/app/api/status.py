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
from certguard.judge.models import Status, iso
from certguard.watch.networks import network_label

if TYPE_CHECKING:
    from certguard.watch.daemon import Daemon, Round

bp = Blueprint("status", __name__)


def _results(tr: Translator, d: Daemon, rnd: Round) -> list[dict[str, Any]]:
    out = []
    for v in rnd.verdicts:
        doc = v.to_dict(tr.messages(v))
        if v.interceptor is not None:
            # what the pages show, in the page's language; ``id`` is the stable machine id, ``data_name`` the
            # intel file's own (English) name that allow rules match
            doc["interceptor"] |= {"name": tr.interceptor_name(v.interceptor), "data_name": v.interceptor.name}
        public, device = d.anchor_subjects(v)
        doc |= {"advice": tr.advice(v), "allowed": d.is_allowed(v), "rank": v.status.rank,
                "public_anchor_subject": public, "device_anchor_subject": device}
        out.append(doc)
    return out


@bp.get("/api/status")
def status() -> Response:
    """The latest round, rendered once per round, settings and language (and network, before the first round: the
    one we are on now): the UI re-reads it on every live update,
    and with 1,000 sites rendering took 70-130 ms (bench/run.py). A round and the settings are replaced whole, never
    mutated, so holding the very objects (compared with ``is``) tells a stale entry apart."""
    state = api_state()
    d, tr = state.daemon, state.translator()
    rnd, settings = d.latest, d.settings
    # Before the first round (waiting for the first-run answer) the network is the one we are on now.
    network = rnd.network if rnd.checked_at is not None else d.network_key()
    with state.cache_lock:
        hit = state.cache.get(("status", tr.lang))
    if hit is not None and hit[0] is rnd and hit[1] is settings and hit[2] == d.problem and hit[4] == network:
        return Response(hit[3], mimetype="application/json")
    headline = d.headline()
    culprit = next((v for v in rnd.verdicts if (v.host, v.port) == (headline["host"], headline["port"])), None)
    if culprit is not None:
        headline["advice"] = tr.advice(culprit, many=headline["sites"] > 1)
    body = json.dumps({"overall": headline["overall"], "headline": headline,
                       "checked_at": iso(rnd.checked_at) if rnd.checked_at else None,
                       "network": network, "network_label": network_label(tr, network, d.current_network()),
                       "running": rnd.running, "version": __version__,
                       "language": state.language(), "notifications": d.notifier_name,
                       "problem": d.problem, "results": _results(tr, d, rnd),
                       # first run, not answered yet: the page says once that probing is visible (OONI's step)
                       "consent_needed": d.first_run and settings.consent is None,
                       "awaiting_consent": d.awaiting_consent}).encode()
    with state.cache_lock:
        state.cache[("status", tr.lang)] = (rnd, settings, d.problem, body, network)
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
    state = api_state()
    daemon, tr = state.daemon, state.translator()
    # the history keeps the culprit's English name (or an issuer's DN): the page reads it in its own language
    episodes = [e.to_dict() | {"culprit": tr.known_name(e.culprit), "recorded_culprit": e.culprit}
                for e in daemon.history.episodes()]
    return jsonify({"episodes": episodes, "periods": _periods(daemon)})


_PERIOD_STATUSES = (Status.BLOCKED.value, Status.CAPTIVE_PORTAL.value)


def _periods(daemon: Daemon) -> list[dict[str, Any]]:
    """Blocking and captive-portal periods, per network, from the per-site history rows (episodes cover only the
    alarming statuses). A site's run of such rows on a network starts at its first row's first_seen and ends when
    that site next got another answer on that network; with no later row there it is still going on, unless the
    site was checked on another network since (then it ends at its own last_seen: we left that network). Sites whose
    periods on one network and status overlap are merged into one period naming all of them."""
    spans: dict[tuple[str, str], list[list[Any]]] = {}
    for v in daemon.latest.verdicts:
        label = v.host if v.port == 443 else f"{v.host}:{v.port}"
        rows = sorted((r for r in daemon.history.history(v.host) if r.get("port", 443) == v.port),
                      key=lambda r: str(r["first_seen"]))
        for i, row in enumerate(rows):
            if row.get("status") not in _PERIOD_STATUSES or (
                    i and rows[i - 1].get("status") == row["status"] and rows[i - 1]["network"] == row["network"]):
                continue  # not a period, or the continuation of the one started above
            j = i + 1
            while j < len(rows) and rows[j]["network"] == row["network"] and rows[j].get("status") == row["status"]:
                j += 1
            last = rows[j - 1]["last_seen"]
            later_here = [r for r in rows[j:] if r["network"] == row["network"]]
            end = later_here[0]["first_seen"] if later_here else (last if j < len(rows) else None)
            spans.setdefault((row["network"], row["status"]), []).append([row["first_seen"], last, end, {label}])
    out = []
    for (network, status), items in spans.items():
        merged: list[list[Any]] = []
        # ISO times with one format sort as text; an ongoing period (end None) reaches past everything
        for item in sorted(items, key=lambda x: str(x[0])):
            top = merged[-1] if merged else None
            if top is not None and (top[2] is None or str(item[0]) <= str(top[2])):
                top[1] = max(str(top[1]), str(item[1]))
                top[2] = None if top[2] is None or item[2] is None else max(str(top[2]), str(item[2]))
                top[3] |= item[3]
            else:
                merged.append([item[0], item[1], item[2], set(item[3])])
        out += [{"network": network, "status": status, "culprit": None, "kind": None, "hosts": sorted(m[3]),
                 "started_at": m[0], "last_seen": m[1], "ended_at": m[2]} for m in merged]
    return sorted(out, key=lambda p: str(p["started_at"]), reverse=True)


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
