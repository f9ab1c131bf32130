"""Issue 14 in real Chromium against a real daemon: each kind of interceptor gets its own words and colour, the
Status page names the device root that signed the chain and links to it, nothing runs past a 390 px screen in
any language, the keyboard focus survives "Check now" and live re-renders, no glyph the fonts may lack, and a
`certguard ui --lang` window keeps its language after saving settings. Screenshots land in docs/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pki
import pytest
from conftest import require
from test_audit import nss_db
from test_daemon import running, watch_args
from test_ui import catalog, login_url

HOST = "mail.example.org"
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
LANGS = ("en", "fr", "ru", "kk")
# Dingbats, misc symbols, emoji: the blocks whose glyphs the installed fonts may lack (U+26D4 drew a box).
RISKY = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f]")

# kind -> (the root's subject as the interceptor list knows it, headline key, lead key, tone)
KINDS = {
    "state": (dict(cn="Qaznet Trust Network", c="KZ"), "ui.overall.intercepted", "ui.kind_lead.state", "attack"),
    "antivirus": (dict(cn="Kaspersky Anti-Virus Personal Root Certificate", o="AO Kaspersky Lab"),
                  "ui.kind_title.antivirus", "ui.kind_lead.antivirus", "local"),
    "corporate": (dict(cn="FortiGate CA", o="Fortinet"), "ui.kind_title.corporate", "ui.kind_lead.corporate", "org"),
    "debugging": (dict(cn="mitmproxy", o="mitmproxy"), "ui.kind_title.debugging", "ui.kind_lead.debugging", "local"),
}
BG = {"attack": "rgb(255, 235, 233)", "local": "rgb(255, 248, 197)", "org": "rgb(255, 248, 197)"}


def open_ui(browser: Any, data: Path, width: int, *extra: str) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 844 if width < 600 else 900})
    page.goto(login_url(data, *extra))
    page.wait_for_selector("html[data-ready='1']")
    return page


def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0: no horizontal scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def goto(page: Any, route: str, selector: str) -> None:
    page.evaluate(f"location.hash = {route!r}")
    page.wait_for_selector(selector)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_interceptor_kind_has_its_own_words_colour_and_fits_a_phone(
        kind: str, tmp_path: Path, browser: Any, serve: Callable[..., Any], ca_bundle: Path) -> None:
    subject, title_key, lead_key, tone = KINDS[kind]
    root = pki.root(subject["cn"], o=subject.get("o"), c=subject.get("c"))
    forged = root.leaf(HOST)
    evil = serve("tls", [forged.cert], forged.key)
    data = tmp_path / "data"
    with running(data, "--interval", "3600", *watch_args(tmp_path, HOST, evil, ca_bundle)) as d:
        d.wait_for(lambda s: s["checked_at"] is not None)
        assert d.json("/api/status")["headline"]["interceptor"]["kind"] == kind, "the daemon names the kind"
        for lang, width in [(lang, 390) for lang in LANGS] + [("en", 1280)]:
            cat = catalog(lang)
            page = open_ui(browser, data, width, "--lang", lang)
            card = page.query_selector("section.verdict")
            assert card.get_attribute("data-kind") == kind and card.get_attribute("data-tone") == tone
            assert page.text_content("#verdict-title") == cat[title_key]
            assert page.text_content("section.verdict .lead") == cat[lead_key]
            if kind != "state":  # control: the state's general wording is not what the others get
                assert page.text_content("#verdict-title") != cat["ui.overall.intercepted"]
                assert cat["ui.kind_lead.state"] not in page.text_content("section.verdict")
            assert card.evaluate("e => getComputedStyle(e).backgroundColor") == BG[tone]
            # certainty apart from attribution: a name match leaves the interception certain
            assert page.text_content("section.verdict .certainty") == cat["ui.certainty.certain"]
            who = page.text_content("section.verdict .who")
            assert who.startswith(cat["ui.attribution.name"].split("{name}")[0]) and root_name(d, lang) in who
            # "What to do" comes before the details, on the first screen even at 390 px
            advice_top = page.evaluate("document.querySelector('.advice').getBoundingClientRect().top")
            assert advice_top < page.viewport_size["height"], (lang, width, advice_top)
            for route, selector in (("#/status", "#verdict-title"), ("#/sites", "table.sites"),
                                    (f"#/site/{HOST}/443", "ol.chain"), ("#/history", "ul.episodes"),
                                    ("#/settings", "form#settings"), ("#/device", "main h1")):
                goto(page, route, selector)
                assert overflow(page) <= 0, (kind, lang, width, route, overflow(page))
                text = page.inner_text("body")
                assert not RISKY.search(text), (route, RISKY.findall(text))
            goto(page, "#/status", "#verdict-title")
            if lang in ("en", "kk"):
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f"status-{kind}-{lang}-{width}.png"), full_page=True)
            page.close()


# Interceptions nobody is named for, and the captive portal: scenario -> (root, leaf name, overall, tone, lead key)
UNNAMED = {
    "unknown": ("Transparent Inspection Root", HOST, "intercepted", "attack", "ui.kind_lead.unknown"),
    "captive_portal": ("Hotel WiFi Portal CA", "login.hotel-wifi.test", "captive_portal", "captive_portal",
                       "ui.overall_help.captive_portal"),
}


@pytest.mark.parametrize("scenario", list(UNNAMED))
def test_unidentified_interception_and_captive_portal_have_their_words_and_fit_a_phone(
        scenario: str, tmp_path: Path, browser: Any, serve: Callable[..., Any], ca_bundle: Path) -> None:
    root_cn, leaf_name, overall, tone, lead_key = UNNAMED[scenario]
    root = pki.root(root_cn)
    leaf = root.leaf(leaf_name)
    srv = serve("tls", [leaf.cert, root.cert], leaf.key)
    data = tmp_path / "data"
    with running(data, "--interval", "3600", *watch_args(tmp_path, HOST, srv, ca_bundle)) as d:
        doc = d.wait_for(lambda s: s["checked_at"] is not None)
        assert doc["overall"] == overall, doc["headline"]
        kind = "unknown" if scenario == "unknown" else ""
        assert (doc["headline"]["interceptor"] or {}).get("kind", "") == kind
        for lang, width in [(lang, 390) for lang in LANGS] + [("en", 1280)]:
            cat = catalog(lang)
            page = open_ui(browser, data, width, "--lang", lang)
            card = page.query_selector("section.verdict")
            assert card.get_attribute("data-tone") == tone and card.get_attribute("data-kind") == kind
            assert page.text_content("#verdict-title") == cat[f"ui.overall.{overall}"]
            assert page.text_content("section.verdict .lead") == cat[lead_key]
            advice = "advice.unknown" if overall == "intercepted" else f"advice.{overall}"
            assert page.text_content("section.verdict .advice") == cat[advice]
            if scenario == "unknown":  # nobody named: certain interception, unknown attribution
                assert page.text_content("section.verdict .certainty") == cat["ui.certainty.certain"]
                who = page.text_content("section.verdict .who")
                assert who == cat["ui.attribution.unknown"].replace("{name}", "CN=" + root_cn)
                assert cat["ui.attribution.strong"].split("{kind}")[1] not in who, "an unknown root is not 'recognised'"
            else:  # control: a portal is not called an interception
                assert page.query_selector("section.verdict .certainty") is None
                assert cat["ui.overall.intercepted"] not in page.inner_text("main")
            assert overflow(page) <= 0, (scenario, lang, width)
            assert not RISKY.search(page.inner_text("body"))
            # a date the reader can read: Chromium has no Kazakh month names, and its fallback wrote "2026 M12 2"
            assert not re.search(r"\bM\d", page.text_content("#checked-at")), page.text_content("#checked-at")
            if lang in ("en", "kk"):
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f"status-{scenario}-{lang}-{width}.png"), full_page=True)
            page.close()


def root_name(d: Any, lang: str = "en") -> str:
    """The headline interceptor's name as the page shows it, in ``lang`` (the data file's name is English)."""
    doc = d.json(f"/api/status?lang={lang}")
    h = doc["headline"]
    [result] = [r for r in doc["results"] if (r["host"], r["port"]) == (h["host"], h["port"])]
    return str(result["interceptor"]["name"])


def test_the_overflow_and_glyph_checks_can_fail(tmp_path: Path, browser: Any) -> None:
    """Negative controls for the checks above, on a page made to fail them."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.set_content("<body style='margin:0'><div style='width:620px'>www.google.com \u26d4</div></body>")
    assert overflow(page) > 0
    assert RISKY.search(page.inner_text("body"))
    page.close()


def test_status_links_the_installed_root_and_device_shows_what_it_signed(
        tmp_path: Path, browser: Any, serve: Callable[..., Any], ca_bundle: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    require("certutil (libnss3-tools)", shutil.which("certutil") is not None)
    en = catalog("en")
    kaspersky = pki.root("Kaspersky Anti-Virus Personal Root Certificate", o="AO Kaspersky Lab")
    forged = kaspersky.leaf(HOST)
    evil = serve("tls", [forged.cert], forged.key)
    home = tmp_path / "home"
    nss_db(home / ".pki" / "nssdb", [("Kaspersky's root", kaspersky.cert, "CT,C,C")])
    args = [a for a in watch_args(tmp_path, HOST, evil, ca_bundle) if a != "--no-device-store"]
    data = tmp_path / "data"
    monkeypatch.setenv("HOME", str(home))  # the daemon reads this device's stores under $HOME
    with running(data, "--interval", "3600", *args) as d:
        d.wait_for(lambda s: s["checked_at"] is not None)
        page = open_ui(browser, data, 1280)
        page.wait_for_selector("#installed-root")
        note = page.text_content("#installed-root")
        assert en["ui.status.installed_root"].replace("{stores}", en["ui.device.store.nss-chromium"]) in note
        assert "certguard audit" not in page.inner_text("main"), "no CLI command inside the GUI"
        page.click("#installed-root a")
        page.wait_for_selector("article.root.focused")
        card = page.text_content("article.root.focused")
        assert "Kaspersky HTTPS scanning" in card, "a plain title: the product's name"
        assert en["ui.device.signed_sites"].replace("{hosts}", HOST) in card, "the daemon's history of the root"
        assert page.evaluate("document.activeElement.closest('article') !== null"), "the linked root has the focus"
        page.click("article.root.focused summary")
        steps = page.text_content("article.root.focused details")
        assert en["audit.av_setting.av-kaspersky"] in steps, "turn off Kaspersky's scanning first, by its setting"
        assert f"certutil -D -d 'sql:{home}/.pki/nssdb' -n \"Kaspersky's root\"" not in steps  # shlex quoting:
        assert "-n 'Kaspersky'\"'\"'s root'" in steps and f"sql:{home}/.pki/nssdb" in steps
        assert "'NAME'" not in steps and "NAME" not in steps, "no placeholder left to fill in"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "device-antivirus-root-en-1280.png"), full_page=True)
        page.close()
    monkeypatch.undo()
    with running(tmp_path / "data2", "--interval", "3600", *watch_args(tmp_path, HOST, evil, ca_bundle)) as d2:
        d2.wait_for(lambda s: s["checked_at"] is not None)
        page = open_ui(browser, tmp_path / "data2", 1280)
        page.wait_for_timeout(500)
        assert page.query_selector("#installed-root") is None, "control: no device store read, no such claim"
        page.close()


def test_focus_survives_check_now_and_live_rerenders_and_lang_survives_saving(
        tmp_path: Path, browser: Any, public_issuing: pki.CA, serve: Callable[..., Any], ca_bundle: Path) -> None:
    genuine = public_issuing.leaf(HOST)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    data = tmp_path / "data"
    with running(data, "--interval", "3600", *watch_args(tmp_path, HOST, good, ca_bundle)) as d:
        d.wait_for(lambda s: s["checked_at"] is not None)
        fr, en = catalog("fr"), catalog("en")
        page = open_ui(browser, data, 1280, "--lang", "fr")
        assert page.get_attribute("html", "lang") == "fr"
        # keyboard: "Check now" by Enter; the round's result re-renders the page through the event stream
        page.focus("#check-now")
        page.evaluate("document.getElementById('check-now').dataset.old = '1'")
        before = d.json(f"/api/history?host={HOST}")["history"][0]["seen"]
        page.keyboard.press("Enter")
        for _ in range(100):
            if d.json(f"/api/history?host={HOST}")["history"][0]["seen"] > before and \
                    page.evaluate("!document.getElementById('check-now').dataset.old"):
                break
            page.wait_for_timeout(100)
        assert page.evaluate("!document.getElementById('check-now').dataset.old"), "control: the page re-rendered"
        page.wait_for_timeout(300)
        assert page.evaluate("document.activeElement.id") == "check-now", "the focus stayed on the button"
        # a live re-render while the focus is elsewhere on the page: it stays there too
        page.focus("#check-now")
        page.click("#check-now")
        page.wait_for_selector("#check-now:not([aria-busy])", timeout=20000)
        assert page.evaluate("document.activeElement.id") == "check-now"

        # saving a setting in a `--lang fr` window keeps French (the setting itself says nothing about language)
        goto(page, "#/settings", "form#settings")
        page.fill("#interval", "50")
        page.click("#save")
        page.wait_for_selector("#save-result >> text=" + fr["ui.settings.saved"])
        assert page.get_attribute("html", "lang") == "fr"
        assert page.text_content("main h1") == fr["ui.nav.settings"]
        # control: choosing a language in the form does switch it
        page.select_option("#language", "en")
        page.click("#save")
        page.wait_for_selector("html[lang='en']")
        page.wait_for_selector("#save-result >> text=" + en["ui.settings.saved"])
        page.close()
