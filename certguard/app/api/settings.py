"""The daemon's settings, read and changed by the UI."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify

from certguard.app.api.state import api_state, json_body
from certguard.errors import CertguardError
from certguard.watch.networks import known_networks

bp = Blueprint("settings", __name__)


def _networks() -> list[dict[str, Any]]:
    state = api_state()
    d = state.daemon
    return known_networks(state.translator(), d.history.networks(), d.current_network())


def _with_watched(doc: dict[str, Any]) -> dict[str, Any]:
    """The settings plus what the daemon actually checks: with no sites of their own that is the --sites file or
    the built-in list, which an empty text box would hide. Computed by the daemon (its own base_targets), so the page
    shows the very list a round probes, less the sensitive sites when low-profile mode skips them."""
    d = api_state().daemon
    settings = d.settings
    doc = doc | {"networks": _networks()}  # for the allow rules' network picker
    try:
        targets = d.base_targets(settings)
    except CertguardError:  # the --sites file went away or broke: the next round reports it; show no list
        return doc | {"watched": None, "skipped": []}
    return doc | {"watched": [t.label for t in targets if not (settings.low_profile and t.sensitive)],
                  "skipped": [t.label for t in targets if settings.low_profile and t.sensitive]}


@bp.get("/api/networks")
def networks() -> Response:
    """The networks this device has been on, named for people: for the allow-rule picker and the history pages."""
    return jsonify({"networks": _networks()})


@bp.get("/api/settings")
def get_settings() -> Response:
    return jsonify(_with_watched(api_state().daemon.settings.to_dict()))


@bp.put("/api/settings")
def put_settings() -> Response:
    body = json_body()
    if not isinstance(body, dict):
        abort(400, "a JSON object is required")
    # Saved first, then in effect: a setting that could not be written is not live either.
    return jsonify(_with_watched(api_state().daemon.update_settings(body).to_dict()))
