"""The local API (Flask app factory; served by waitress on 127.0.0.1 only).

Security model, and why each piece is there:
- Bearer token on every ``/api/`` call (a random 256-bit secret in a 0600 file): any local web page can *send*
  requests to 127.0.0.1, so being local proves nothing.
- ``TRUSTED_HOSTS`` (and an explicit Host check): a DNS-rebinding page reaches us under its own host name.
- No CORS headers at all: another origin's script cannot read any answer.
- Size-limited JSON bodies; errors are JSON, never HTML with a traceback.
"""

from __future__ import annotations

import hmac
import json
import queue
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from . import __version__
from .daemon import Daemon, overall, save_settings
from .errors import ConfigError
from .i18n import Translator
from .models import iso

MAX_BODY = 64 * 1024
SSE_KEEPALIVE = 15.0


_HOST = re.compile(r"^(127\.0\.0\.1|localhost)(:\d{1,5})?$")


def create_app(daemon: Daemon, token: str, *, sse_max_seconds: float = 3600.0) -> Flask:
    app = Flask("certguard", static_folder=None)
    # Any port: a rebinding page arrives under its own name (evil.example:PORT), which is what is refused.
    app.config.update(TRUSTED_HOSTS=["127.0.0.1", "localhost"], MAX_CONTENT_LENGTH=MAX_BODY)

    @app.before_request
    def guard() -> None:
        if not _HOST.match(request.headers.get("Host", "")):
            abort(400, "unexpected Host header")
        if request.path.startswith("/api/"):
            given = request.headers.get("Authorization", "")
            if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), token.encode()):
                abort(401, "missing or wrong token")

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        return resp

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify({"error": exc.name, "message": exc.description}), exc.code or 500

    @app.errorhandler(ConfigError)
    def config_error(exc: ConfigError) -> tuple[Response, int]:
        return jsonify({"error": "Bad Request", "message": str(exc)}), 400

    def translator() -> Translator:
        return Translator(request.args.get("lang") or daemon.settings.language)

    def results(tr: Translator) -> list[dict[str, Any]]:
        out = []
        for v in daemon.latest.verdicts:
            d = v.to_dict(tr.messages(v))
            d["advice"] = tr.advice(v)
            d["allowed"] = daemon.is_allowed(v)
            out.append(d)
        return out

    @app.get("/api/status")
    def status() -> Response:
        rnd = daemon.latest
        return jsonify({"overall": overall(rnd.verdicts), "checked_at": iso(rnd.checked_at) if rnd.checked_at else None,
                        "network": rnd.network, "running": rnd.running, "version": __version__,
                        "notifications": daemon.notifier_name, "results": results(translator())})

    @app.post("/api/check")
    def check() -> tuple[Response, int]:
        daemon.trigger.set()
        return jsonify({"queued": True}), 202

    @app.get("/api/history")
    def history() -> Response:
        host = request.args.get("host", "").strip().lower()
        if not host:
            abort(400, "host is required")
        return jsonify({"host": host, "history": daemon.history.history(host)})

    @app.get("/api/episodes")
    def episodes() -> Response:
        return jsonify({"episodes": [e.to_dict() for e in daemon.history.episodes()]})

    @app.get("/api/audit")
    def audit() -> Response:
        return jsonify(daemon.audit())

    @app.get("/api/settings")
    def get_settings() -> Response:
        return jsonify(daemon.settings.to_dict())

    @app.put("/api/settings")
    def put_settings() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            abort(400, "a JSON object is required")
        daemon.settings = daemon.settings.updated(body)
        save_settings(daemon.data_dir / "settings.json", daemon.settings)
        return jsonify(daemon.settings.to_dict())

    @app.get("/api/events")
    def events() -> Response:
        def stream() -> Iterator[str]:
            with daemon.events.subscribe() as q:
                yield f"event: hello\ndata: {json.dumps({'overall': overall(daemon.latest.verdicts)})}\n\n"
                waited = 0.0
                while waited < sse_max_seconds and not daemon.stop.is_set():
                    try:
                        event = q.get(timeout=SSE_KEEPALIVE)
                    except queue.Empty:
                        waited += SSE_KEEPALIVE
                        yield ": keepalive\n\n"
                        continue
                    yield f"event: {event.get('type', 'message')}\ndata: {json.dumps(event)}\n\n"
        return Response(stream(), mimetype="text/event-stream", headers={"X-Accel-Buffering": "no"})

    return app
