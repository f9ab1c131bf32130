"""Who may call the API: the bearer token, or a browser session opened with a one-time login code."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import Blueprint, Response, abort, jsonify, request

from certguard.app.api.state import api_state
from certguard.i18n import Translator, available

SESSION_COOKIE = "certguard_session"
CSRF_HEADER = "X-Certguard"
_HOST = re.compile(r"^(127\.0\.0\.1|localhost)(:\d{1,5})?$")

bp = Blueprint("auth", __name__)


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


def bearer_ok(token: str) -> bool:
    given = request.headers.get("Authorization", "")
    return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())


def cookie_ok(sessions: Sessions) -> bool:
    """A cookie counts only with the browser's word that the request comes from our own origin, and for a change
    only with the custom header a cross-origin page cannot add without a preflight (which we never answer)."""
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


def guard() -> None:
    """Runs before every request (registered by ``create_app``)."""
    state = api_state()
    if not _HOST.match(request.headers.get("Host", "")):
        abort(400, "unexpected Host header")
    if request.path == "/api/login-code":
        if not bearer_ok(state.token):  # minting logins needs the token itself, never a session
            abort(401, "missing or wrong token")
    elif request.path.startswith("/api/") and not (bearer_ok(state.token) or cookie_ok(state.sessions)):
        abort(401, "missing or wrong token")


def _login_page(tr: Translator) -> Response:
    body = (f'<!doctype html><html lang="{tr.lang}"><meta charset="utf-8"><title>certguard</title>'
            f'<link rel="stylesheet" href="/ui/style.css"><main class="login-failed"><h1>certguard</h1>'
            f'<p>{html.escape(tr("ui.login_failed"))}</p></main></html>')
    return Response(body, status=403, mimetype="text/html")


@bp.get("/login")
def login() -> Response:
    state = api_state()
    redeemed = state.sessions.redeem(request.args.get("code", ""))
    if redeemed is None:
        return _login_page(Translator(state.language()))
    session, lang = redeemed
    # 303 to "/": the code leaves the address bar at once (and was single-use anyway).
    resp = Response(status=303, headers={"Location": "/" + (f"?lang={lang}" if lang else "")})
    resp.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Strict", path="/")
    return resp


@bp.post("/api/login-code")
def login_code() -> tuple[Response, int]:
    lang = request.args.get("lang")
    if lang is not None and lang not in available():
        abort(400, f"unknown language {lang!r}")
    sessions = api_state().sessions
    code = sessions.new_code(lang)
    return jsonify({"path": f"/login?code={code}", "expires_in": sessions.code_ttl}), 201
