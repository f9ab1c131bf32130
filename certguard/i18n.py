"""Message catalogs. Every user-facing sentence comes from ``locales/<lang>.json``, keyed by stable ids
(``finding.<FindingId>``, ``status.<status>``, ``advice.<kind>``...), formatted with a finding's evidence."""

from __future__ import annotations

import json
import locale
import os
from functools import cache
from importlib import resources
from typing import Any

from certguard.errors import ConfigError
from certguard.judge.models import Finding, Status, Verdict

LANGUAGES = ("en", "fr", "ru", "kk")
# Statuses with advice of their own when no known interceptor is named (``advice.<status>``).
STATUS_ADVICE = frozenset({Status.CAPTIVE_PORTAL, Status.SUSPICIOUS, Status.BLOCKED, Status.MISCONFIGURED})
DEFAULT = "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    if lang not in available():
        raise ConfigError(f"language {lang!r} is not available (choose from {', '.join(available())})")
    raw = resources.files("certguard.locales").joinpath(f"{lang}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(raw)
    return data


@cache
def available() -> tuple[str, ...]:
    files = resources.files("certguard.locales")
    return tuple(code for code in LANGUAGES if files.joinpath(f"{code}.json").is_file())


def system_language() -> str:
    """The UI language from CERTGUARD_LANG, then the POSIX locale variables; English if none is available."""
    for value in (os.environ.get("CERTGUARD_LANG"), os.environ.get("LC_ALL"), os.environ.get("LC_MESSAGES"),
                  os.environ.get("LANG"), locale.getlocale()[0]):
        if value:
            code = value.split("_")[0].split(".")[0].lower()
            if code in available():
                return code
    return DEFAULT


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


class Translator:
    def __init__(self, lang: str | None = None) -> None:
        self.lang = lang or system_language()
        self._cat = catalog(self.lang)
        self._en = catalog(DEFAULT)

    def __call__(self, key: str, **params: object) -> str:
        text = self._cat.get(key) or self._en.get(key) or key
        return text.format_map(_Missing({**params}))

    def finding(self, f: Finding) -> str:
        ev: dict[str, object] = dict(f.evidence_dict)
        if "match" in ev:
            ev["match"] = self(f"match.{ev['match']}")
        if "kind" in ev:
            ev["kind"] = self(f"kind.{ev['kind']}")
        if "failure" in ev:
            ev["failure"] = self(f"failure.{ev['failure']}")
        return self(f"finding.{f.id}", **ev)

    def messages(self, v: Verdict) -> dict[str, str]:
        return {f.id: self.finding(f) for f in v.findings}

    def advice(self, v: Verdict) -> str | None:
        if v.interceptor is not None:
            return self(f"advice.{v.interceptor.kind.value}")
        return self(f"advice.{v.status.value}") if v.status in STATUS_ADVICE else None
