"""The daemon's settings, read and changed by the UI."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify

from certguard.app.api.state import api_state, json_body

bp = Blueprint("settings", __name__)


@bp.get("/api/settings")
def get_settings() -> Response:
    return jsonify(api_state().daemon.settings.to_dict())


@bp.put("/api/settings")
def put_settings() -> Response:
    body = json_body()
    if not isinstance(body, dict):
        abort(400, "a JSON object is required")
    # Saved first, then in effect: a setting that could not be written is not live either.
    return jsonify(api_state().daemon.update_settings(body).to_dict())
