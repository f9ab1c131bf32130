"""The local API and the UI it serves (Flask app factory; served by waitress on 127.0.0.1 only).

Security model, and why each piece is there:
- Every ``/api/`` call needs the bearer token (a random 256-bit secret in a 0600 file) or a session cookie: any local
  web page can *send* requests to 127.0.0.1, so being local proves nothing.
- The session cookie comes from a one-time login code (``/login?code=``), minted with the token and useless once
  used, so neither the token nor a reusable secret ever sits in a URL, the browser history or a log.
- A cookie is sent by the browser on its own, also for requests another page on 127.0.0.1 (same *site*, other
  port) makes. So a cookie counts only with the browser's word that the request comes from our own origin
  (``Sec-Fetch-Site``/``Origin``) and, for changes, a custom header that no cross-origin page can add without a
  CORS preflight, which we never answer.
- ``TRUSTED_HOSTS`` (and an explicit Host check): a DNS-rebinding page reaches us under its own host name.
- No CORS headers at all: another origin's script cannot read any answer. A strict Content-Security-Policy: the UI
  runs only its own scripts, so injected markup cannot run or send data elsewhere.
- Size-limited JSON bodies; errors are JSON, never HTML with a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import queue
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from flask import Flask, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from certguard import __version__
from certguard.app.render import audit_document
from certguard.errors import ConfigError, SettingsError
from certguard.i18n import Translator, available, catalog, system_language
from certguard.judge.models import iso
from certguard.watch.daemon import Daemon, save_settings

MAX_BODY = 64 * 1024
SSE_KEEPALIVE = 15.0
SESSION_COOKIE = "certguard_session"
CSRF_HEADER = "X-Certguard"

_HOST = re.compile(r"^(127\.0\.0\.1|localhost)(:\d{1,5})?$")
# The UI's files: a fixed list, so nothing else in the package can be fetched through this route.
_UI_FILES = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
             "style.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"}
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _digest(secret: str) -> str:
    # Only digests are kept: a memory dump or a timing difference in the dict lookup reveals no usable secret.
    return hashlib.sha256(secret.encode()).hexdigest()


class Sessions:
    """One-time login codes and the browser sessions they open (in memory: a daemon restart logs everyone out)."""

    def __init__(self, code_ttl: float = 120.0, max_sessions: int = 32,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.code_ttl = code_ttl
        self.max_sessions = max_sessions
        self.clock = clock
        self._codes: dict[str, tuple[float, str | None]] = {}
        self._sessions: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def new_code(self, lang: str | None = None) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            self._codes = {k: v for k, v in self._codes.items() if v[0] > now}
            self._codes[_digest(code)] = (now + self.code_ttl, lang)
        return code

    def redeem(self, code: str) -> tuple[str, str | None] | None:
        """A new session id and the language asked for, or None if the code is unknown, used or expired."""
        with self._lock:
            entry = self._codes.pop(_digest(code), None)  # pop: a second use finds nothing
            if entry is None or entry[0] <= self.clock():
                return None
            session = secrets.token_urlsafe(32)
            self._sessions[_digest(session)] = None
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
            return session, entry[1]

    def valid(self, session: str) -> bool:
        with self._lock:
            return _digest(session) in self._sessions


def _login_page(tr: Translator) -> Response:
    body = (f'<!doctype html><html lang="{tr.lang}"><meta charset="utf-8"><title>certguard</title>'
            f'<link rel="stylesheet" href="/ui/style.css"><main class="login-failed"><h1>certguard</h1>'
            f'<p>{html.escape(tr("ui.login_failed"))}</p></main></html>')
    return Response(body, status=403, mimetype="text/html")


def create_app(daemon: Daemon, token: str, *, sessions: Sessions | None = None,
               sse_max_seconds: float = 3600.0) -> Flask:
    app = Flask("certguard", static_folder=None)
    # Any port: a rebinding page arrives under its own name (evil.example:PORT), which is what is refused.
    app.config.update(TRUSTED_HOSTS=["127.0.0.1", "localhost"], MAX_CONTENT_LENGTH=MAX_BODY)
    sessions = sessions or Sessions()

    def bearer_ok() -> bool:
        given = request.headers.get("Authorization", "")
        return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())

    def cookie_ok() -> bool:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie or not sessions.valid(cookie):
            return False
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site != "same-origin":
            return False
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"http://{request.host}":
            return False
        return request.method in ("GET", "HEAD") or request.headers.get(CSRF_HEADER) == "1"

    @app.before_request
    def guard() -> None:
        if not _HOST.match(request.headers.get("Host", "")):
            abort(400, "unexpected Host header")
        if request.path == "/api/login-code":
            if not bearer_ok():  # minting logins needs the token itself, never a session
                abort(401, "missing or wrong token")
        elif request.path.startswith("/api/") and not (bearer_ok() or cookie_ok()):
            abort(401, "missing or wrong token")

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Content-Security-Policy"] = _CSP
        resp.headers["X-Frame-Options"] = "DENY"
        return resp

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify({"error": exc.name, "message": exc.description}), exc.code or 500

    @app.errorhandler(ConfigError)
    def config_error(exc: ConfigError) -> tuple[Response, int]:
        body: dict[str, Any] = {"error": "Bad Request", "message": str(exc)}
        if isinstance(exc, SettingsError):  # the UI shows this in the user's language
            body |= {"key": exc.key, "params": exc.params}
        return jsonify(body), 400

    def language() -> str:
        return daemon.settings.language or system_language()

    def translator() -> Translator:
        lang = request.args.get("lang") or language()
        if lang not in available():
            abort(400, f"unknown language {lang!r}")
        return Translator(lang)

    def results(tr: Translator) -> list[dict[str, Any]]:
        out = []
        for v in daemon.latest.verdicts:
            d = v.to_dict(tr.messages(v))
            d["advice"] = tr.advice(v)
            d["allowed"] = daemon.is_allowed(v)
            d["rank"] = v.status.rank
            d["public_anchor_subject"] = daemon.ctx.mozilla.subject_of(v.public_anchor)
            device = daemon.ctx.device
            d["device_anchor_subject"] = device.subject_of(v.device_anchor) if device else None
            out.append(d)
        return out

    # ---- the UI (static files; the page itself holds no data and needs no login)

    @app.get("/")
    def index() -> Response:
        return ui_file("index.html")

    @app.get("/ui/<name>")
    def ui_file(name: str) -> Response:
        if name not in _UI_FILES:
            abort(404)
        data = resources.files("certguard.ui").joinpath(name).read_bytes()
        return Response(data, mimetype=_UI_FILES[name])

    @app.get("/login")
    def login() -> Response:
        redeemed = sessions.redeem(request.args.get("code", ""))
        if redeemed is None:
            return _login_page(Translator(language()))
        session, lang = redeemed
        # 303 to "/": the code leaves the address bar at once (and was single-use anyway).
        resp = Response(status=303, headers={"Location": "/" + (f"?lang={lang}" if lang else "")})
        resp.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Strict", path="/")
        return resp

    @app.post("/api/login-code")
    def login_code() -> tuple[Response, int]:
        lang = request.args.get("lang")
        if lang is not None and lang not in available():
            abort(400, f"unknown language {lang!r}")
        code = sessions.new_code(lang)
        return jsonify({"path": f"/login?code={code}", "expires_in": sessions.code_ttl}), 201

    @app.get("/i18n")
    def messages() -> Response:
        # Public, like the page: a catalog holds no secret, and the logged-out page must be readable too.
        tr = translator()
        return jsonify({"lang": tr.lang, "languages": list(available()), "messages": catalog(tr.lang)})

    # ---- data

    @app.get("/api/status")
    def status() -> Response:
        rnd = daemon.latest
        headline = daemon.headline()
        return jsonify({"overall": headline["overall"], "headline": headline,
                        "checked_at": iso(rnd.checked_at) if rnd.checked_at else None,
                        "network": rnd.network, "running": rnd.running, "version": __version__,
                        "language": language(), "notifications": daemon.notifier_name,
                        "results": results(translator())})

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
        report = daemon.audit()
        if report is None:
            return jsonify({"available": False, "roots": [], "problems": [], "notes": [], "summary": {}})
        doc = audit_document(report, translator(), datetime.now(UTC), daemon.ctx.mozilla.source)
        return jsonify(doc | {"available": True})

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
        daemon.events.publish({"type": "settings"})
        return jsonify(daemon.settings.to_dict())

    @app.get("/api/events")
    def events() -> Response:
        def stream() -> Iterator[str]:
            with daemon.events.subscribe() as q:
                yield f"event: hello\ndata: {json.dumps({'overall': daemon.headline()['overall']})}\n\n"
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
