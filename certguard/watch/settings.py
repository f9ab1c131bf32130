"""The daemon's settings: DIR/settings.json, editable through the API, validated on every change."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from certguard.data.files import describe_os_error, write_atomic
from certguard.data.targets import parse_target
from certguard.errors import ConfigError, DataError, SettingsError
from certguard.i18n import LANGUAGES
from certguard.watch.notify import AllowRule

CONSENT_ANSWERS = (None, "continue", "low_profile")


@dataclass(frozen=True)
class Settings:
    interval: float = 1800.0
    language: str | None = None
    quiet: bool = False
    low_profile: bool = False
    sites: tuple[str, ...] = ()  # empty: the built-in list (or --sites)
    allow: tuple[AllowRule, ...] = ()
    # The first-run answer to "probing is visible to your network operator": None until the user answered.
    consent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"interval": self.interval, "language": self.language, "quiet": self.quiet,
                "low_profile": self.low_profile, "sites": list(self.sites),
                "allow": [r.to_dict() for r in self.allow], "consent": self.consent}

    def updated(self, changes: dict[str, Any]) -> Settings:
        """A copy with ``changes`` applied and validated.

        Raises:
            SettingsError: unknown key or a value of the wrong kind.
        """
        unknown = set(changes) - {"interval", "language", "quiet", "low_profile", "sites", "allow", "consent"}
        if unknown:
            names = ", ".join(sorted(unknown))
            raise SettingsError(f"unknown setting(s): {names}", "ui.settings.err_unknown", names=names)
        new = self
        if "interval" in changes:
            value = changes["interval"]
            if not isinstance(value, int | float) or isinstance(value, bool) or not 60 <= value <= 86400:
                raise SettingsError("interval must be a number of seconds between 60 and 86400",
                                    "ui.settings.bad_interval")
            new = replace(new, interval=float(value))
        if "language" in changes:
            lang = changes["language"]
            if lang is not None and lang not in LANGUAGES:
                raise SettingsError("language must be one of en, fr, ru, kk (or null for the system's)",
                                    "ui.settings.err_language")
            new = replace(new, language=lang)
        for flag in ("quiet", "low_profile"):
            if flag in changes:
                if not isinstance(changes[flag], bool):
                    raise SettingsError(f"{flag} must be true or false", "ui.settings.err_flag", name=flag)
                new = replace(new, **{flag: changes[flag]})
        if "sites" in changes:
            sites = changes["sites"]
            if not isinstance(sites, list) or not all(isinstance(s, str) for s in sites) or len(sites) > 500:
                raise SettingsError("sites must be a list of HOST[:PORT] (at most 500)", "ui.settings.err_sites")
            for s in sites:
                try:
                    parse_target(s)
                except ConfigError as exc:
                    raise SettingsError(str(exc), "ui.settings.err_site", site=s) from exc
            new = replace(new, sites=tuple(s.strip() for s in sites if s.strip()))
        if "consent" in changes:
            if changes["consent"] not in CONSENT_ANSWERS:
                raise SettingsError("consent must be one of continue, low_profile (or null: not asked yet)",
                                    "ui.settings.err_consent")
            if changes["consent"] is None and self.consent is not None:
                # an answer given is not taken back by a null: the daemon's wait for it is over
                raise SettingsError("consent was answered already; it can be changed, not unset",
                                    "ui.settings.err_consent")
            new = replace(new, consent=changes["consent"])
        if "allow" in changes:
            if not isinstance(changes["allow"], list):
                raise SettingsError("allow must be a list of rules", "ui.settings.err_allow")
            try:
                new = replace(new, allow=tuple(AllowRule.from_dict(r) for r in changes["allow"]))
            except ConfigError as exc:
                raise SettingsError(str(exc), "ui.settings.err_allow") from exc
        return new


def load_settings(path: Path, interval: float | None = None) -> Settings:
    """Raises:
        ConfigError: the file exists but is not valid JSON, or not a file (it is left untouched for the user).
        DataError: a value in it is not valid (the same: left untouched).
    """
    base = Settings()
    if path.exists() and not path.is_file():
        raise ConfigError(f"{path}: is not a file; remove it (certguard writes its settings there)",
                          key="error.settings.not_file", path=path)
    if path.is_file():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read settings: {describe_os_error(exc, path)}", key="error.settings.unreadable",
                              detail=describe_os_error(exc, path)) from exc
        except RecursionError as exc:
            raise ConfigError(f"{path}: not valid settings JSON (nested too deeply); fix or remove it",
                              key="error.settings.nested", path=path) from exc
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid settings JSON ({exc}); fix or remove it",
                              key="error.settings.json", path=path, detail=exc) from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: settings must be a JSON object", key="error.settings.object", path=path)
        try:
            base = base.updated(raw)
        except ConfigError as exc:
            # Not the window's wording (its interval is in minutes; the file's is in seconds): the file's own terms,
            # framed in the user's language.
            raise DataError(str(path), f"{exc}; fix or remove it", key="error.settings.bad_value",
                            detail=exc) from exc
    return replace(base, interval=interval) if interval is not None else base


def save_settings(path: Path, settings: Settings) -> None:
    write_atomic(path, json.dumps(settings.to_dict(), indent=2).encode())
