"""What every blueprint needs: the daemon, the token, the sessions. Kept on the Flask app (no globals)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import abort, current_app, request

from certguard.i18n import Translator, available, system_language

if TYPE_CHECKING:
    from certguard.app.api.auth import Sessions
    from certguard.watch.daemon import Daemon

_KEY = "certguard"


@dataclass(frozen=True)
class ApiState:
    daemon: Daemon
    token: str
    sessions: Sessions
    sse_max_seconds: float
    # Rendered answers worth keeping (see status.status); the dict is mutable, the state object is not.
    cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    cache_lock: threading.Lock = field(default_factory=threading.Lock)

    def language(self) -> str:
        return self.daemon.settings.language or system_language()

    def translator(self) -> Translator:
        """The language asked for (``?lang=``), else the daemon's."""
        lang = request.args.get("lang") or self.language()
        if lang not in available():
            abort(400, f"unknown language {lang!r}")
        return Translator(lang)


def json_body() -> object:
    """The request's JSON (None when absent or not JSON). JSON nested thousands deep is the client's mistake:
    a 400, never a 500."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        abort(400, "the JSON is nested too deeply")


def api_state() -> ApiState:
    state = current_app.extensions[_KEY]
    assert isinstance(state, ApiState)
    return state


def install(app_extensions: dict[str, object], state: ApiState) -> None:
    app_extensions[_KEY] = state
