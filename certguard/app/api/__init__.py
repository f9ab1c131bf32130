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

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from certguard.app.api import auth, browser, events, lab, settings, status, ui
from certguard.app.api.auth import CSRF_HEADER, SESSION_COOKIE, Sessions
from certguard.app.api.state import ApiState, install
from certguard.errors import ConfigError, SettingsError
from certguard.watch.daemon import Daemon

__all__ = ["CSRF_HEADER", "MAX_BODY", "SESSION_COOKIE", "Sessions", "create_app"]

MAX_BODY = 64 * 1024
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def create_app(daemon: Daemon, token: str, *, sessions: Sessions | None = None,
               sse_max_seconds: float = 3600.0) -> Flask:
    app = Flask("certguard", static_folder=None)
    # Any port: a rebinding page arrives under its own name (evil.example:PORT), which is what is refused.
    app.config.update(TRUSTED_HOSTS=["127.0.0.1", "localhost"], MAX_CONTENT_LENGTH=MAX_BODY)
    install(app.extensions, ApiState(daemon, token, sessions or Sessions(), sse_max_seconds))
    app.before_request(auth.guard)
    for bp in (auth.bp, ui.bp, status.bp, settings.bp, events.bp, browser.bp, lab.bp):
        app.register_blueprint(bp)

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

    @app.errorhandler(OSError)
    def os_error(exc: OSError) -> tuple[Response, int]:
        # A full disk or a read-only data folder while saving: say so, nothing was changed.
        return jsonify({"error": "Service Unavailable", "message": str(exc)}), 503

    return app
