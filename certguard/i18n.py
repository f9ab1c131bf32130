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
from certguard.judge.findings import FindingId
from certguard.judge.models import Finding, InterceptorMatch, Status, Verdict

LANGUAGES = ("en", "fr", "ru", "kk")
# Statuses with advice of their own when no known interceptor is named (``advice.<status>``).
STATUS_ADVICE = frozenset({Status.CAPTIVE_PORTAL, Status.SUSPICIOUS, Status.BLOCKED, Status.MISCONFIGURED})
DEFAULT = "en"
# Findings whose ``name`` evidence is an interceptor entry's name (the others' ``name`` is a pinned key's).
_NAMED_INTERCEPTOR: frozenset[str] = frozenset({FindingId.KNOWN_STATE_INTERCEPTOR, FindingId.KNOWN_INTERCEPTOR,
                                                FindingId.INTERCEPTOR_NAME_MATCH, FindingId.STATE_CA_LEGITIMATE})


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


@cache
def _intel_ids() -> dict[str, str]:
    """English interceptor name (as in ``pinned_roots/interceptors.toml``) → its entry id, from the catalog's
    ``intel.<id>`` keys: for texts that kept only the name (episodes, finding evidence, older records)."""
    return {text: key.removeprefix("intel.") for key, text in catalog(DEFAULT).items() if key.startswith("intel.")}


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

    def intel_name(self, entry_id: str | None, name: str) -> str:
        """An intel entry's name in this language (``intel.<id>``), else the data file's own ``name``.

        The English catalog text must still be the data file's name: an entry an updated intel file renamed (or a
        user's ``--intel`` entry that reuses an id) shows its own words, never a stale translation, a key or "?"."""
        key = f"intel.{entry_id}"
        if entry_id is None or self._en.get(key) != name:
            return name
        return self._cat.get(key) or name

    def interceptor_name(self, m: InterceptorMatch) -> str:
        """What a person reads for a matched interceptor (machine outputs keep ``m.name``)."""
        return self.intel_name(m.entry_id, m.name)

    def known_name(self, name: str) -> str:
        """A text that may be an interceptor's English name with no id beside it (an episode's culprit, a finding's
        evidence): localized when it is one, else unchanged (an issuer's DN, a status)."""
        return self.intel_name(_intel_ids().get(name), name)

    def finding(self, f: Finding) -> str:
        ev: dict[str, object] = dict(f.evidence_dict)
        if f.id in _NAMED_INTERCEPTOR and isinstance(ev.get("name"), str):
            ev["name"] = self.known_name(str(ev["name"]))
        if "match" in ev:
            ev["match"] = self(f"match.{ev['match']}")
        if "kind" in ev:
            ev["kind"] = self(f"kind.{ev['kind']}")
        if "failure" in ev:
            ev["failure"] = self(f"failure.{ev['failure']}")
        return self(f"finding.{f.id}", **ev)

    def messages(self, v: Verdict) -> dict[str, str]:
        return {f.id: self.finding(f) for f in v.findings}

    def advice(self, v: Verdict, many: bool = False) -> str | None:
        """What to do about ``v``; ``many``: said of several sites at once ("these sites"), where the advice names
        the site (``advice.<x>.many``)."""
        if v.interceptor is not None:
            key = f"advice.{v.interceptor.kind.value}"
        elif v.status in STATUS_ADVICE:
            key = f"advice.{v.status.value}"
        else:
            return None
        return self(f"{key}.many" if many and f"{key}.many" in self._en else key)
