"""What a person reads of the data, in their language (issue 14): interceptor names from
``pinned_roots/interceptors.toml``, trust-store labels, and each language's own punctuation before a colon.

Chains are real (made by tests/pki.py, served on loopback or judged by the real pipeline), NSS databases are real
(certutil). Machine outputs (``check --json``, ``audit --json``) keep the data's English name; every positive case
has a control that fails when the localisation is missing or wrong (English shown, a key shown, a stale text)."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pki
import pytest
from conftest import CheckRun, spki_of, write_intel
from rich.console import Console
from test_daemon import recording

from certguard import device
from certguard.app import api, render, report, report_html
from certguard.data import anchors as truststores
from certguard.data import intel
from certguard.data.context import load_trust_context
from certguard.device import places
from certguard.i18n import Translator
from certguard.judge import audit
from certguard.judge.analyze import TrustContext
from certguard.judge.findings import FindingId
from certguard.judge.models import Finding, Severity, Verdict
from certguard.probe import tls as probe
from certguard.watch import daemon, notify
from certguard.watch.pipeline import Pipeline

EN, FR, RU, KK = (Translator(lang) for lang in ("en", "fr", "ru", "kk"))
NBSP = "\u00a0"
QAZNET = "kz-qaznet-2019"  # the shipped entry whose issuer pattern is "^Qaznet Trust Network$"
KASPERSKY = "av-kaspersky"  # issuer pattern "^Kaspersky (Anti-Virus )?Personal Root"
TOKEN = "t" * 43
HOST = "127.0.0.1:8123"


def shipped() -> dict[str, str]:
    return {e.entry_id: e.name for e in intel.load().entries}


def flat(text: str) -> str:
    """Rich wraps long lines: join them again (a no-break space is part of the text, not a place to join)."""
    return re.sub(r"[ \n]+", " ", text)


def judged(ctx: TrustContext, host: str, chain: Sequence[Any]) -> Verdict:
    return Pipeline(ctx).judge_chain(host, 443, [pki.der(c) for c in chain], source="probe").verdicts[0]


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")  # rich's width: lines stay whole where the test reads them


# ---- the catalog and the Translator ----------------------------------------------------------------------------

def test_english_catalog_names_are_the_data_files_names() -> None:
    # Translator.intel_name shows a translation only while the English text is still the data's own name.
    names = shipped()
    assert len(names) >= 29
    assert {k: EN(f"intel.{k}") for k in names} == names
    for tr in (FR, RU, KK):
        translated = [k for k, name in names.items() if tr.intel_name(k, name) != name]
        assert len(translated) >= 20, (tr.lang, "most names have words to translate")
        assert all("intel." not in tr.intel_name(k, n) and "{" not in tr.intel_name(k, n) for k, n in names.items())


def test_a_name_without_its_catalog_text_is_the_data_files_own() -> None:
    english = shipped()[QAZNET]
    assert RU.intel_name(QAZNET, english).startswith("Qaznet Trust Network (корневой")
    # an updated intel file renamed the entry: its own new words, never the stale translation
    assert RU.intel_name(QAZNET, "Qaznet Trust Network (renamed)") == "Qaznet Trust Network (renamed)"
    # an entry the catalogs do not know (a new or a user's entry), and no id at all
    assert RU.intel_name("new-entry-2027", "New Proxy 2027") == "New Proxy 2027"
    assert RU.intel_name(None, english) == english
    # names with no id beside them (episodes, finding evidence): an interceptor's is localized, a DN is left alone
    assert RU.known_name(english) == RU.intel_name(QAZNET, english) != english
    assert RU.known_name("CN=Qaznet Trust Network,C=KZ") == "CN=Qaznet Trust Network,C=KZ"


def test_finding_messages_name_the_interceptor_in_the_readers_language() -> None:
    english = shipped()[QAZNET]
    lead = Finding(FindingId.KNOWN_STATE_INTERCEPTOR.value, Severity.CRITICAL, (("match", "spki"), ("name", english)))
    assert RU.intel_name(QAZNET, english) in RU.finding(lead) and english not in RU.finding(lead)
    assert english in EN.finding(lead), "control: English keeps the data's name"
    # control: a pinned key's name is not an interceptor's, even when the words are the same
    pin = Finding(FindingId.PINS_STALE.value, Severity.WARNING, (("name", english),))
    assert english in RU.finding(pin)


def test_place_labels_read_back_into_catalog_keys() -> None:
    profile = places.FIREFOX_PROFILE.format(name="Work (old)", path="/home/u/.mozilla/firefox/x.work")
    place = places.describe("nss-firefox", places.nickname(profile, "Kaspersky (root): 2"))
    assert place == places.Place("store.firefox_profile",
                                 (("name", "Work (old)"), ("path", "/home/u/.mozilla/firefox/x.work")),
                                 "Kaspersky (root): 2")
    assert places.describe("nss-firefox", profile) == places.Place(place.key, place.params, None)
    chromium = places.CHROMIUM_NSS.format(path="/home/u/.pki/nssdb")
    assert places.describe("nss-chromium", chromium + ": a") == places.Place(
        "store.chromium_nss", (("path", "/home/u/.pki/nssdb"),), "a")
    assert places.describe("windows", places.WINDOWS_STORE.format(name="ROOT")) == places.Place(
        "store.windows", (("name", "ROOT"),))
    assert places.describe("linux", places.P11KIT_ANCHORS) == places.Place("store.p11kit_anchors", ())
    # controls: a bare path holds no words, and a label under another store's name is not guessed at
    assert places.describe("file", "/etc/ssl/certs/x.pem") is None
    assert places.describe("nss", chromium + ": a") is None
    assert render.store_label("nss-chromium", chromium + ": a", RU) == "База данных NSS Chrome/Chromium " \
                                                                         "(/home/u/.pki/nssdb): a"
    assert render.store_label("nss-chromium", chromium + ": a", FR).endswith(f"(/home/u/.pki/nssdb){NBSP}: a")
    assert render.store_label("file", "/x.pem", RU) == "/x.pem"


# ---- check: the CLI on a real intercepted chain -----------------------------------------------------------------

def check(run_cli: Callable[..., CheckRun], monkeypatch: pytest.MonkeyPatch, lang: str, host: str, port: int,
          ca_bundle: Path, *extra: str) -> CheckRun:
    monkeypatch.setenv("CERTGUARD_LANG", lang)
    return run_cli("check", host, "--connect-to", f"{host}:443:127.0.0.1:{port}", "--ca-bundle", str(ca_bundle),
                   "--timeout", "5", *extra)


def test_check_names_the_interceptor_in_russian_and_json_keeps_english(
        run_cli: Callable[..., CheckRun], ca_bundle: Path, serve: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch, wide: None) -> None:
    host = "kz.example.org"
    forged = pki.root("Qaznet Trust Network", c="KZ").leaf(host)
    server = serve("tls", [forged.cert], forged.key)
    english = shipped()[QAZNET]
    russian = RU.intel_name(QAZNET, english)
    assert russian != english

    machine = check(run_cli, monkeypatch, "ru", host, server.port, ca_bundle, "--json").result(host)
    assert machine["interceptor"]["id"] == QAZNET and machine["interceptor"]["name"] == english, \
        "check --json is a contract: the data's English name, whatever the language"

    ru = check(run_cli, monkeypatch, "ru", host, server.port, ca_bundle)
    assert ru.exit_code == 1
    assert flat(ru.output).count(russian) >= 2, "the issuer cell and the culprit's block"
    assert english not in flat(ru.output)
    assert "Что делать: " in ru.output
    en = check(run_cli, monkeypatch, "en", host, server.port, ca_bundle)
    assert english in flat(en.output) and russian not in flat(en.output), "control: English reads the English name"

    fr = check(run_cli, monkeypatch, "fr", host, server.port, ca_bundle)
    assert f"Que faire{NBSP}: " in fr.output and "Que faire:" not in fr.output, "French: a space before the colon"
    assert re.search(f"\\] INTERCEPTOR_NAME_MATCH{NBSP}: ", fr.output), fr.output
    assert "] INTERCEPTOR_NAME_MATCH: " in ru.output, "control: Russian puts none"


def test_an_entry_without_catalog_text_shows_its_own_name(run_cli: Callable[..., CheckRun], ca_bundle: Path,
                                                        serve: Callable[..., Any], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch, wide: None) -> None:
    host = "corp.example.org"
    mitm = pki.root("Acme Inspection Root", "Acme Corp")
    forged = mitm.leaf(host)
    server = serve("tls", [forged.cert, mitm.cert], forged.key)
    intel_file = write_intel(tmp_path / "intel.toml", "acme-proxy", "corporate", spki_of(mitm))
    ru = check(run_cli, monkeypatch, "ru", host, server.port, ca_bundle, "--intel", str(intel_file))
    assert ru.exit_code == 1
    text = flat(ru.output)
    assert text.count("Test acme-proxy") >= 3, "the issuer cell, the block and the finding's message"
    assert "intel." not in text and "{name}" not in text
    assert RU("kind.corporate") in text, "control: this is the Russian output"


# ---- audit: names, store labels, removal advice ----------------------------------------------------------------

def test_audit_speaks_of_the_antivirus_in_the_readers_language(run_cli: Callable[..., CheckRun], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch, wide: None) -> None:
    root = pki.root("Kaspersky Anti-Virus Personal Root Certificate", "AO Kaspersky Lab")
    store = pki.write_bundle(tmp_path / "roots.pem", [root.cert])
    english = shipped()[KASPERSKY]
    monkeypatch.setenv("CERTGUARD_LANG", "ru")
    ru = run_cli("audit", "--store", str(store))
    russian = RU.intel_name(KASPERSKY, english)
    first = RU("audit.av_first", product=russian, setting=RU("audit.av_setting.av-kaspersky"))
    assert first in flat(ru.output), ru.output
    assert f"  {russian} — {RU('kind.antivirus')}" in ru.output
    assert " Как удалить: " + first in flat(ru.output)
    assert english not in ru.output

    machine = run_cli("audit", "--store", str(store), "--json").doc["roots"][0]
    assert machine["interceptor"]["name"] == english, "audit --json keeps the data's name"
    assert machine["interceptor"]["display_name"] == russian and machine["interceptor"]["id"] == KASPERSKY

    monkeypatch.setenv("CERTGUARD_LANG", "fr")
    fr = run_cli("audit", "--store", str(store))
    assert f"  Comment le retirer{NBSP}: " in fr.output and "Comment le retirer:" not in fr.output
    assert FR.intel_name(KASPERSKY, english) in fr.output
    monkeypatch.setenv("CERTGUARD_LANG", "en")
    assert f"  {english} — " in run_cli("audit", "--store", str(store)).output, "control: English"


def nss_db(path: Path, nick: str, cert: Any, flags: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{path}", "--empty-password"], check=True, capture_output=True)
    pem = pki.write_bundle(path / "import.pem", [cert])
    subprocess.run(["certutil", "-A", "-d", f"sql:{path}", "-n", nick, "-t", flags, "-i", str(pem)], check=True,
                   capture_output=True)
    pem.unlink()
    return path


@pytest.mark.skipif(shutil.which("certutil") is None, reason="certutil (libnss3-tools) is not installed")
def test_store_labels_are_localized_and_the_removal_command_stays_real(tmp_path: Path) -> None:
    home = tmp_path / "home"
    qaznet = pki.root("Qaznet Trust Network", c="KZ")
    profile = home / ".mozilla/firefox/abcd.work"
    nss_db(profile, "Qaznet (root)", qaznet.cert, "C,,")
    (home / ".mozilla/firefox/profiles.ini").write_text("[Profile0]\nName=Work (old)\nIsRelative=1\nPath=abcd.work\n")
    nss_db(home / ".pki/nssdb", "Qaznet's root", qaznet.cert, "CT,C,C")
    scan = device.read_device("Linux", home, linux_root=tmp_path / "empty-fs")
    report_ = audit.judge(scan, truststores.mozilla(), intel.load(), ())
    (root,) = [r for r in report_.roots if "Qaznet" in r.subject]

    def text(tr: Translator) -> str:
        console = Console(record=True, width=250)
        render.render_audit_text(report_, tr, console)
        return console.export_text()

    ru = text(RU)
    firefox = RU("store.firefox_profile", name="Work (old)", path=str(profile))
    assert f"{firefox}: Qaznet (root)" in ru
    assert f"{RU('store.chromium_nss', path=str(home / '.pki/nssdb'))}: Qaznet's root" in ru
    assert "Firefox profile" not in ru and "Chrome/Chromium NSS database" not in ru
    nick = "Qaznet's root"
    command = f"certutil -D -d {shlex.quote(f'sql:{home}/.pki/nssdb')} -n {shlex.quote(nick)}"
    assert command in flat(ru), "the real database and nickname, whatever the language"
    assert f"Firefox profile Work (old) ({profile}): Qaznet (root)" in text(EN), "control: English"
    assert f"{FR('store.firefox_profile', name='Work (old)', path=str(profile))}{NBSP}: Qaznet (root)" in text(FR)

    doc = render.audit_document(report_, RU, datetime.now(UTC), "test")
    locations = next(r for r in doc["roots"] if r["sha256"] == root.sha256)["locations"]
    by_store = {loc["store"]: loc for loc in locations}
    assert by_store["nss-firefox"]["location"] == f"Firefox profile Work (old) ({profile}): Qaznet (root)", \
        "the raw location stays in the JSON"
    assert by_store["nss-firefox"]["label"] == f"{firefox}: Qaznet (root)"
    assert all(s["label"] for s in doc["scanned"])


# ---- notifications ----------------------------------------------------------------------------------------------

def test_notification_titles_are_localized_and_allow_rules_still_match_english(
        ctx_factory: Callable[..., TrustContext]) -> None:
    forged = pki.root("Kaspersky Anti-Virus Personal Root Certificate", "AO Kaspersky Lab").leaf("bank.test")
    v = judged(ctx_factory(), "bank.test", [forged.cert])
    assert v.interceptor is not None and v.interceptor.entry_id == KASPERSKY
    english = v.interceptor.name
    sent: list[str] = []
    n = notify.Notifier(recording(sent))
    assert n.consider_round({}, [v], "home", quiet=False, rules=(), tr=RU) == 1
    assert RU.intel_name(KASPERSKY, english) in sent[0] and english not in sent[0]
    assert n.consider(None, v, "home", quiet=False, rules=(), tr=KK)
    assert KK.intel_name(KASPERSKY, english) in sent[1] and english not in sent[1]
    # the user's rule names the product as the data does: it still mutes the Russian notification (of a chain to
    # the product's root installed on this device: a name alone never mutes, tests/test_notify_groups.py)
    v = dataclasses.replace(v, device_anchor="11" * 32)
    muted = notify.Notifier(recording(sent))
    rule = notify.AllowRule(english)
    assert muted.consider_round({}, [v], "home", quiet=False, rules=(rule,), tr=RU) == 0
    assert muted.consider_round({}, [v], "home", quiet=False, rules=(notify.AllowRule("nothing*"),), tr=RU) == 1, \
        "control: another rule does not mute it"


# ---- the local API and the report --------------------------------------------------------------------------------

def test_status_and_episodes_documents_carry_the_localized_name(tmp_path: Path,
                                                                 ctx_factory: Callable[..., TrustContext]) -> None:
    ctx = ctx_factory()
    forged = pki.root("Qaznet Trust Network", c="KZ").leaf("kz.test")
    v = judged(ctx, "kz.test", [forged.cert])
    assert v.interceptor is not None and v.interceptor.entry_id == QAZNET
    english = v.interceptor.name
    d = daemon.Daemon(tmp_path, ctx, options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings())
    try:
        d.latest = daemon.Round(verdicts=[v])
        d.history.record_round([v], "home", v.observed_at)
        client = api.create_app(d, TOKEN).test_client()
        auth = {"Host": HOST, "Authorization": f"Bearer {TOKEN}"}
        ru = client.get("/api/status?lang=ru", headers=auth).get_json()["results"][0]["interceptor"]
        assert ru["name"] == RU.intel_name(QAZNET, english) != english
        assert (ru["id"], ru["data_name"]) == (QAZNET, english), "the stable id and the data's name stay"
        en = client.get("/api/status?lang=en", headers=auth).get_json()["results"][0]["interceptor"]
        assert en["name"] == english, "control"
        (episode,) = client.get("/api/episodes?lang=ru", headers=auth).get_json()["episodes"]
        assert episode["culprit"] == RU.intel_name(QAZNET, english) and episode["recorded_culprit"] == english
        (episode,) = client.get("/api/episodes?lang=en", headers=auth).get_json()["episodes"]
        assert episode["culprit"] == english, "control"
    finally:
        d.history.close()


def test_report_page_names_the_interceptor_and_severity_in_its_language(tmp_path: Path, public: pki.CA) -> None:
    bundle = pki.write_bundle(tmp_path / "anchors.pem", [public.cert])
    ctx = load_trust_context(ca_bundle=bundle, use_device_store=False, directory=tmp_path / "data")
    forged = pki.root("Qaznet Trust Network", c="KZ").leaf("kz.test")
    v = judged(ctx, "kz.test", [forged.cert])
    assert v.interceptor is not None
    english = v.interceptor.name
    episodes = [{"status": "intercepted", "culprit": english, "network": "home", "started_at": "2026-01-01T00:00:00Z",
                 "ended_at": None, "last_seen": "2026-01-01T01:00:00Z", "hosts": ["kz.test"]}]

    def page(tr: Translator) -> tuple[dict[str, Any], str]:
        doc = report.build([report.Entry(v, (pki.der(forged.cert),), v.observed_at)], ctx, tr, v.observed_at,
                           source="check", network=report.network_context(tmp_path), audit=None, episodes=episodes)
        return doc, report_html.render(doc, "0" * 64, tr)

    doc, ru = page(RU)
    assert doc["results"][0]["verdict"]["interceptor"]["name"] == english, "the evidence keeps the data's name"
    russian = RU.intel_name(QAZNET, english)
    assert ru.count(russian) >= 3, "the site, its finding and the episode"
    assert english not in ru
    assert f"[{RU('ui.severity.' + v.findings[0].severity.value)}]" in ru
    assert f"[{v.findings[0].severity.value}]" not in ru, "no English severity tag"
    assert "<strong>Что делать:</strong>" in ru
    _, fr = page(FR)
    assert f"<strong>Que faire{NBSP}:</strong>" in fr and f"Règle déterminante{NBSP}: <code>" in fr
    _, en = page(EN)
    assert english in en and russian not in en, "control"
    assert json.dumps(doc)  # the evidence stays plain JSON
