"""The UI's static files and the public message catalogs (the page itself holds no data and needs no login)."""

from __future__ import annotations

import re
from importlib import resources

from flask import Blueprint, Response, abort, jsonify

from certguard.app.api.state import api_state
from certguard.i18n import available, catalog

bp = Blueprint("ui", __name__)

# Only these endings, from the certguard.ui package: nothing else can be fetched here.
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.html|\.js|\.css|\.svg)$")
# Folders (ui/lib, ui/pages) follow the same rule without an ending; at most a few levels. Every segment is
# checked on its own, so "..", ".", empty segments (//, a leading /) and backslashes can never match.
_FOLDER = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_MAX_DEPTH = 3


@bp.get("/")
def index() -> Response:
    return ui_file("index.html")


@bp.get("/ui/<path:name>", merge_slashes=False)  # "//" is an empty segment (404), not a redirect
def ui_file(name: str) -> Response:
    *folders, base = name.split("/")
    m = _NAME.match(base)
    if m is None or len(folders) >= _MAX_DEPTH or not all(_FOLDER.match(f) for f in folders):
        abort(404)
    resource = resources.files("certguard.ui")
    for part in (*folders, base):
        resource = resource.joinpath(part)
    if not resource.is_file():
        abort(404)
    return Response(resource.read_bytes(), mimetype=_TYPES[m.group(1)])


@bp.get("/i18n")
def messages() -> Response:
    # Public, like the page: a catalog holds no secret, and the logged-out page must be readable too.
    tr = api_state().translator()
    return jsonify({"lang": tr.lang, "languages": list(available()), "messages": catalog(tr.lang)})
