"""Catalogs: every language has every key with the same placeholders, no key is missing or unused, and the
translations are translations (not English copied over). Each check is shown to fail on a broken catalog."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from certguard import i18n
from certguard.app import lab
from certguard.app.cli import _COMMANDS
from certguard.data import intel
from certguard.judge import audit, models
from certguard.judge import storescan as stores
from certguard.judge.findings import FindingId
from certguard.judge.models import InterceptorKind, MatchStrength, ProbeFailure, Severity, Status
from certguard.judge.rules import RuleId

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "certguard" / "locales"
PREFIXES = ("status", "kind", "match", "finding", "advice", "cli", "audit", "failure", "notify", "ui", "lab", "report",
            "network", "store", "click", "error", "problem")
_LITERAL = re.compile(r"""["'`]((?:""" + "|".join(PREFIXES) + r""")\.[A-Za-z0-9_.\-]+)["'`]""")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

# Keys built at run time from a value: prefix -> every value the code can produce (from the code's own enums).
DYNAMIC: dict[str, set[str]] = {
    "status.": {s.value for s in Status},
    "kind.": {k.value for k in InterceptorKind},
    "match.": {m.value for m in MatchStrength},
    "finding.": {f.value for f in FindingId},
    "advice.": {k.value for k in InterceptorKind} | {s.value for s in i18n.STATUS_ADVICE},
    "failure.": {f.value for f in ProbeFailure},
    "audit.verdict.": {audit.EXPECTED, audit.EXTRA, audit.INTERCEPTOR},
    "audit.trust.": {stores.TRUSTED, stores.UNTRUSTED, stores.DISTRUSTED},
    "audit.remove.": set(stores.STORES),
    "ui.overall.": set(models.OVERALL),
    "ui.overall_help.": set(models.OVERALL),
    "ui.severity.": {s.value for s in Severity},
    # the workshop lab's scenario texts (certguard/app/lab.py)
    "lab.title.": {s.id for s in lab.SCENARIOS},
    "lab.what.": {s.id for s in lab.SCENARIOS},
    "lab.browser.": {s.id for s in lab.SCENARIOS},
    # the report's explanation of each deciding rule (certguard/app/report_html.py)
    "report.rule.": {r.value for r in RuleId},
    # every shipped interceptor's name (certguard/i18n.py Translator.intel_name)
    "intel.": {e.entry_id for e in intel.load().entries},
    # the command list's one-line helps (certguard/app/cli/__init__.py short_help_key)
    "cli.help.short.": set(_COMMANDS),
    # a network's kind of link (certguard/watch/networks.py)
    "network.": {"wired", "vpn", "mobile"},
}


def used_keys() -> set[str]:
    """Literal keys in the package and the UI, plus every key a dynamic prefix can produce."""
    sources = [*ROOT.joinpath("certguard").rglob("*.py"), *ROOT.joinpath("ui").rglob("*.js"),
               *ROOT.joinpath("ui").glob("*.html")]
    keys = {m.group(1) for path in sources for m in _LITERAL.finditer(path.read_text(encoding="utf-8"))}
    keys = {k for k in keys if not k.endswith(".")}  # a prefix in front of a run-time value
    return keys | {prefix + value for prefix, values in DYNAMIC.items() for value in values}


def problems(catalogs: dict[str, dict[str, str]], used: set[str]) -> list[str]:
    english = catalogs["en"]
    out = [f"en: {k} is used but missing" for k in sorted(used - set(english))]
    out += [f"en: {k} is not used anywhere" for k in sorted(set(english) - used)]
    for lang, cat in catalogs.items():
        out += [f"{lang}: {k} is missing" for k in sorted(set(english) - set(cat))]
        out += [f"{lang}: {k} is not in English" for k in sorted(set(cat) - set(english))]
        for k, text in cat.items():
            if not text.strip():
                out.append(f"{lang}: {k} is empty")
            elif k in english and set(_PLACEHOLDER.findall(text)) != set(_PLACEHOLDER.findall(english[k])):
                out.append(f"{lang}: {k} has other placeholders than English")
        if lang != "en":
            same = [k for k in english if cat.get(k) == english[k] and re.search(r"[a-z]{4} [a-z]{4}", english[k])]
            if len(same) > len(english) // 20:
                out.append(f"{lang}: {len(same)} texts are English copied over (e.g. {same[0]})")
    return out


def load() -> dict[str, dict[str, str]]:
    return {lang: json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8")) for lang in i18n.LANGUAGES}


def test_every_language_has_every_used_key_and_nothing_else() -> None:
    catalogs = load()
    assert set(i18n.available()) == {"en", "fr", "ru", "kk"}
    used = used_keys()
    # Translator.advice(many=True) takes "advice.<x>.many" where a catalog words it for several sites.
    used |= {k + ".many" for k in used if k.startswith("advice.")} & set(catalogs["en"])
    assert problems(catalogs, used) == []


def test_the_check_catches_missing_unused_and_broken_entries() -> None:
    catalogs = load()
    used = used_keys()
    broken = {lang: dict(cat) for lang, cat in catalogs.items()}
    del broken["kk"]["ui.nav.settings"]
    broken["en"]["ui.never_used"] = "x"
    broken["fr"]["ui.chain.valid_range"] = "du {de} au {to}"
    broken["ru"] = dict(catalogs["en"])
    found = problems(broken, used)
    assert "kk: ui.nav.settings is missing" in found
    assert "en: ui.never_used is not used anywhere" in found
    assert "fr: ui.chain.valid_range has other placeholders than English" in found
    assert any(p.startswith("ru: ") and "English copied over" in p for p in found)
    assert "en: ui.nav.settings is used but missing" in problems({"en": {}}, used)


def test_dynamic_keys_cover_a_new_enum_value() -> None:
    # A new finding id without a message must fail the check (control for the enum-driven part).
    used = used_keys() | {"finding.SOMETHING_NEW"}
    assert "en: finding.SOMETHING_NEW is used but missing" in problems(load(), used)


def test_kazakh_and_russian_are_cyrillic() -> None:
    kazakh_letters = set("әғқңөұүһі")
    kk = load()["kk"]
    assert sum(1 for text in kk.values() if kazakh_letters & set(text.lower())) > len(kk) // 2
    ru = load()["ru"]
    assert sum(1 for text in ru.values() if re.search("[а-яё]", text)) > len(ru) * 9 // 10


@pytest.mark.parametrize("lang", ["en", "fr", "ru", "kk"])
def test_findings_render_with_their_evidence_in_every_language(lang: str) -> None:
    tr = i18n.Translator(lang)
    text = tr("finding.HANDSHAKE_BLOCKED", failure=tr("failure.reset"))
    assert tr("failure.reset") in text and "{" not in text
    assert tr("status.intercepted") != i18n.Translator("en")("status.intercepted") or lang == "en"


def status_in(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "certguard", "daemon", "status", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=60, check=False)


def test_cli_follows_the_locale(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "LANG": "ru_RU.UTF-8"}
    # `daemon status` has no --lang: it follows the locale (here Russian), and CERTGUARD_LANG wins over it.
    out = status_in(tmp_path, env)
    assert out.returncode == 3 and out.stdout.startswith("Не запущен")
    assert status_in(tmp_path, env | {"CERTGUARD_LANG": "kk"}).stdout.startswith("Іске қосылмаған")
    assert status_in(tmp_path, {"PATH": "/usr/bin:/bin", "LANG": "C"}).stdout.startswith("Not running")
