"""Where a certificate lives, in words: the location labels the readers write and their reading back.

A reader's label ("Firefox profile default (/home/u/.mozilla/firefox/x.default): Kaspersky root") is raw, English
data: ``audit --json``, the API and the evidence bundle keep it as it is. What a person reads is built at render time
from ``describe()``: a catalog key (``store.<kind>``) and its parameters, plus the NSS nickname when there is one, so
every language says it in its own words. The formats and their parser live here together; a label ``describe()``
does not recognise (a plain path, an older record) is shown as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The readers' English labels (certguard/device/*.py); each has a catalog key of the same name (``store.<kind>``).
FIREFOX_PROFILE = "Firefox profile {name} ({path})"
CHROMIUM_NSS = "Chrome/Chromium NSS database ({path})"
WINDOWS_STORE = "Windows {name} store (machine and user)"
P11KIT = "p11-kit trust"
P11KIT_ANCHORS = "p11-kit trust (ca-anchors)"
MACOS_ADMIN = "admin trust settings"
MACOS_USER = "user trust settings"


def nickname(where: str, nick: str) -> str:
    """One entry of an NSS database: the database's label, then its nickname after ``": "``."""
    return f"{where}: {nick}"


@dataclass(frozen=True)
class Place:
    """A label read back: ``key`` (``store.<kind>``, None for a bare path) with its ``params``, and the NSS
    nickname of the entry (None for the store as a whole)."""

    key: str | None
    params: tuple[tuple[str, str], ...]
    nick: str | None = None


_NICK = r"(?:: (?P<nick>.+))?"
# A profile name is whatever the user typed (it may hold " (" itself); the profile folder is an absolute path.
_FIREFOX = re.compile(r"^Firefox profile (?P<name>.+?) \((?P<path>(?:/|~|[A-Za-z]:[\\/]).*?)\)" + _NICK + "$")
_CHROMIUM = re.compile(r"^Chrome/Chromium NSS database \((?P<path>.+?)\)" + _NICK + "$")
_WINDOWS = re.compile(r"^Windows (?P<name>\S+) store \(machine and user\)$")
_FIXED = {P11KIT: "store.p11kit", P11KIT_ANCHORS: "store.p11kit_anchors", MACOS_ADMIN: "store.macos_admin",
          MACOS_USER: "store.macos_user"}


def describe(store: str, location: str) -> Place | None:
    """``location`` (as a reader of kind ``store`` wrote it) as a catalog key and parameters; None when the label
    holds no words to translate (a path) or is not one of the formats above."""
    if store == "nss-firefox" and (m := _FIREFOX.match(location)):
        return Place("store.firefox_profile", (("name", m["name"]), ("path", m["path"])), m["nick"])
    if store == "nss-chromium" and (m := _CHROMIUM.match(location)):
        return Place("store.chromium_nss", (("path", m["path"]),), m["nick"])
    if store == "windows" and (m := _WINDOWS.match(location)):
        return Place("store.windows", (("name", m["name"]),))
    if store in ("linux", "macos") and location in _FIXED:
        return Place(_FIXED[location], ())
    return None
