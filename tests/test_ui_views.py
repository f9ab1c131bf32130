"""Issue 14's "also wrong" items in real Chromium against a real daemon: a blocked site's view shows its failure,
not chain checks it never ran; History shows blocking periods (from the per-site history, computed by the daemon)
with a time axis and "just now"; Settings shows what a --sites daemon watches; the Device page's headline and
counts describe the cards it shows.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pki
import pytest
import servers
from conftest import connect_to, require
from test_audit import nss_db
from test_daemon import running, verdict, watch_args
from test_ui import catalog
from test_ui_kinds import SHOTS, goto, open_ui, overflow

from certguard.app import api
from certguard.judge.analyze import TrustContext
from certguard.judge.models import Status, iso
from certguard.probe import tls as probe
from certguard.watch import daemon, notify

HOST = "mail.example.org"
BLOCKED = "news.example.org"


def two_sites(tmp_path: Path, good: Any, other: Any, ca_bundle: Path) -> list[str]:
    sites = tmp_path / "sites.txt"
    sites.write_text(f"{HOST}\n{BLOCKED}\n")
    return ["--interval", "3600", "--sites", str(sites), "--ca-bundle", str(ca_bundle),
            "--connect-to", connect_to(HOST, good), "--connect-to", connect_to(BLOCKED, other),
            "--no-device-store", "--timeout", "3"]


def test_blocked_site_history_periods_and_watched_sites(
        tmp_path: Path, browser: Any, public_issuing: pki.CA, serve: Callable[..., Any], ca_bundle: Path) -> None:
    en = catalog("en")
    genuine, genuine2 = public_issuing.leaf(HOST), public_issuing.leaf(BLOCKED)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    good2 = serve("tls", [genuine2.cert, public_issuing.cert], genuine2.key)
    reset = serve("reset")
    with servers.Switch(reset.port) as path, \
            running(tmp_path / "data", *two_sites(tmp_path, good, path, ca_bundle)) as d:
        doc = d.wait_for(lambda s: s["checked_at"] is not None)
        by_host = {r["host"]: r for r in doc["results"]}
        assert by_host[BLOCKED]["status"] == "blocked" and by_host[HOST]["status"] == "ok", by_host
        page = open_ui(browser, tmp_path / "data", 1280)
        # one blocked site: the advice speaks of "this site" (tests/test_api.py has the "these sites" case)
        assert doc["headline"]["sites"] == 1 and page.text_content(".advice") == en["advice.blocked"]

        # 1. the blocked site: its failure where the checks would be, no anchor/pins/CT lines
        goto(page, f"#/site/{BLOCKED}/443", "main h1.host")
        page.wait_for_selector(".checks-failure")
        failure = en["ui.failure"].split("{failure}")[0]
        assert page.text_content(".checks-failure").startswith(failure)
        assert page.query_selector("ul.checks") is None
        body = page.inner_text("main")
        for key in ("ui.anchor_none", "ui.pins.none", "cli.ct_not_checked"):
            assert en[key] not in body, key
        assert "Certificate Transparency" not in body and "TLS:" not in body
        # control: a site that got a chain lists its checks, and no failure
        goto(page, f"#/site/{HOST}/443", "ul.checks")
        assert page.query_selector(".checks-failure") is None
        assert en["ui.pins.none"] in page.inner_text("ul.checks")

        # 2. History: the blocking period is there although episodes (alarming statuses only) are empty
        episodes = d.json("/api/episodes")
        assert episodes["episodes"] == [], "control: no episode exists, the page's period comes from the history"
        [period] = episodes["periods"]
        assert period["status"] == "blocked" and period["hosts"] == [BLOCKED] and period["ended_at"] is None
        goto(page, "#/history", "ul.episodes")
        item = page.query_selector("li.period[data-status='blocked']")
        assert item is not None and BLOCKED in item.inner_text() and HOST not in item.inner_text()
        assert en["ui.duration.now"] in item.inner_text(), "a period that began this minute says 'just now'"
        assert page.text_content(".axis .tick--now") == en["ui.timeline.now"]
        assert page.query_selector(".timeline .bar--blocked") is not None
        page.set_viewport_size({"width": 390, "height": 844})
        assert overflow(page) <= 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "history-blocked-en-390.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        # the site comes back: the period ends at the round that reached it again
        path.upstream = good2.port
        first = doc["checked_at"]
        d.request("POST", "/api/check")
        d.wait_for(lambda s: s["checked_at"] != first and not s["running"], timeout=30)
        [period] = d.json("/api/episodes")["periods"]
        assert period["ended_at"] is not None and period["ended_at"] >= period["started_at"]
        goto(page, "#/status", "#verdict-title")
        goto(page, "#/history", "li.period")
        assert en["ui.episode_ongoing"].split("{from}")[0] not in page.inner_text("li.period")

        # 4. Settings: the --sites file's list, computed by the daemon
        settings = d.json("/api/settings")
        assert settings["sites"] == [] and settings["watched"] == [HOST, BLOCKED]
        goto(page, "#/settings", "form#settings")
        watched = page.query_selector("#watched")
        assert watched is not None
        assert page.eval_on_selector_all("#watched li", "els => els.map(e => e.textContent)") == [HOST, BLOCKED]
        assert page.text_content("#watched p") == en["ui.settings.watched"].replace("{count}", "2")
        page.set_viewport_size({"width": 390, "height": 844})
        assert overflow(page) <= 0
        page.set_viewport_size({"width": 1280, "height": 900})
        # control: once the user's own list is saved, that list is what is watched and no second list shows
        page.fill("#sites", HOST)
        page.click("#save")
        page.wait_for_selector("#save-result >> text=" + en["ui.settings.saved"])
        assert page.query_selector("#watched") is None
        assert d.json("/api/settings")["watched"] == [HOST]

        # 5. Networks named for people: History's headings and the allow rules' network picker use the daemon's
        # names ("wired network (gateway …)"), never the raw key ("eth0 via …").
        [current] = [n for n in d.json("/api/networks")["networks"] if n["current"]]
        assert current["key"] == doc["network"] and current["label"] != current["key"], current
        goto(page, "#/history", "section.network h2")
        assert page.text_content("section.network h2") == en["ui.network_named"].replace("{network}", current["label"])
        put = json.dumps({"allow": [{"interceptor": "Fortinet*", "network": "lab-*"}]}).encode()
        assert d.request("PUT", "/api/settings", put, headers={"Content-Type": "application/json"})[0] == 200
        goto(page, "#/settings", "form#settings")
        options = page.eval_on_selector_all(".rule-row select[name=network] option",
                                            "els => els.map(e => [e.value, e.textContent])")
        assert options[0] == ["*", en["network.any"]]
        assert [current["rule"], en["network.current"].replace("{label}", current["label"])] in options
        # a pattern written by hand is kept, shown as a pattern, and selected
        assert ["lab-*", en["network.pattern"].replace("{pattern}", "lab-*")] in options
        assert page.eval_on_selector(".rule-row select[name=network]", "e => e.value") == "lab-*"
        page.click("#rules + button")
        page.fill(".rule-row:last-child input[name=interceptor]", "Zscaler")
        page.select_option(".rule-row:last-child select[name=network]", current["rule"])
        page.click("#save")
        page.wait_for_selector("#save-result >> text=" + en["ui.settings.saved"])
        assert d.json("/api/settings")["allow"] == [
            {"interceptor": "Fortinet*", "network": "lab-*", "note": ""},
            {"interceptor": "Zscaler", "network": current["rule"], "note": ""}]
        # the picker's long names fit a phone in every language
        for lang in ("en", "fr", "ru", "kk"):
            page.evaluate(f"location.search = '?lang={lang}'")
            page.wait_for_selector("html[data-ready='1']")
            goto(page, "#/settings", ".rule-row select[name=network]")
            assert page.get_attribute("html", "lang") == lang
            page.set_viewport_size({"width": 390, "height": 844})
            assert overflow(page) <= 0, lang
            page.set_viewport_size({"width": 1280, "height": 900})
        page.close()


def test_device_headline_and_counts_match_the_cards(
        tmp_path: Path, browser: Any, serve: Callable[..., Any], ca_bundle: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    require("certutil (libnss3-tools)", shutil.which("certutil") is not None)
    en = catalog("en")
    kaspersky = pki.root("Kaspersky Anti-Virus Personal Root Certificate", o="AO Kaspersky Lab")
    extra = pki.root("Example Office Root", o="Example Office")
    forged = kaspersky.leaf(HOST)
    evil = serve("tls", [forged.cert], forged.key)
    for trust, headline in (("CT,C,C", "ui.device.headline.trusted_interceptor"),
                            (",,", "ui.device.headline.interceptor")):
        home = tmp_path / f"home{len(trust)}"
        nss_db(home / ".pki" / "nssdb", [("Kaspersky's root", kaspersky.cert, trust), ("office", extra.cert, "C,,")])
        args = [a for a in watch_args(tmp_path, HOST, evil, ca_bundle) if a != "--no-device-store"]
        monkeypatch.setenv("HOME", str(home))
        data = tmp_path / f"data{len(trust)}"
        with running(data, "--interval", "3600", *args) as d:
            d.wait_for(lambda s: s["checked_at"] is not None)
            page = open_ui(browser, data, 390)
            goto(page, "#/device", "#device-headline")
            assert page.text_content("#device-headline").strip() == en[headline]
            other = "ui.device.headline.interceptor" if trust != ",," else "ui.device.headline.trusted_interceptor"
            assert page.text_content("#device-headline").strip() != en[other], "control: the other headline"
            cards = page.eval_on_selector_all("article.root", "els => els.map(e => e.className)")
            n_int = sum("root--interceptor" in c for c in cards)
            n_extra = len(cards) - n_int
            assert n_int == 1 and n_extra >= 1, cards
            assert page.text_content("p.summary") == en["ui.device.counts"].format(interceptors=n_int, extra=n_extra)
            # plain titles: the product's or the CA's name, the DN under it
            titles = page.eval_on_selector_all("article.root h2", "els => els.map(e => e.textContent.trim())")
            assert "Kaspersky HTTPS scanning" in titles and "Example Office Root" in titles, titles
            assert not any(t.startswith("CN=") for t in titles), titles
            assert overflow(page) <= 0
            if trust == "CT,C,C":
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "device-summary-en-390.png"), full_page=True)
            page.close()


def test_first_run_says_once_that_probing_is_visible_and_offers_low_profile(
        tmp_path: Path, browser: Any, public_issuing: pki.CA, serve: Callable[..., Any], ca_bundle: Path) -> None:
    en = catalog("en")
    genuine = public_issuing.leaf(HOST)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    args = ["--interval", "3600", *watch_args(tmp_path, HOST, good, ca_bundle)]
    for choice, low in (("#consent-low-profile", True), ("#consent-continue", False)):
        data = tmp_path / f"data-{low}"
        with running(data, *args) as d:
            doc = d.wait_for(lambda s: s["checked_at"] is not None)
            assert doc["consent_needed"] is True and d.json("/api/settings")["consent"] is None
            assert doc["results"][0]["status"] == "ok", "the first round probed as before: nothing waits for the answer"
            page = open_ui(browser, data, 390)
            page.wait_for_selector("#consent")
            assert page.text_content("#consent-title").strip() == en["ui.consent.title"]
            assert en["ui.consent.body"] in page.text_content("#consent")
            # the verdict and its advice stay first on a phone's screen
            order = page.evaluate("document.querySelector('section.verdict').compareDocumentPosition("
                                  "document.getElementById('consent')) & Node.DOCUMENT_POSITION_FOLLOWING")
            assert order, "the notice comes after the verdict card"
            assert overflow(page) <= 0
            if low:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "first-run-consent-en-390.png"), full_page=True)
            page.click(choice)
            page.wait_for_selector("#consent", state="detached")
            settings = d.json("/api/settings")
            assert settings["consent"] == ("low_profile" if low else "continue")
            assert settings["low_profile"] is low, "low-profile only when chosen"
            assert d.json("/api/status")["consent_needed"] is False
            page.reload()
            page.wait_for_selector("html[data-ready='1']")
            assert page.query_selector("#consent") is None, "said once"
            page.close()
            # a bad answer is refused with its catalog key, and nothing changes
            status, _, body = d.request("PUT", "/api/settings", body=b'{"consent": "maybe"}',
                                        headers={"Content-Type": "application/json"})
            assert status == 400 and b"ui.settings.err_consent" in body, body
    # control: a daemon that starts on a history (not its first run) does not ask, although no answer is stored
    data = tmp_path / "data-True"
    (data / "settings.json").write_text('{"consent": null}')
    with running(data, *args) as d:
        d.wait_for(lambda s: s["checked_at"] is not None)
        assert d.json("/api/status")["consent_needed"] is False
        page = open_ui(browser, data, 1280)
        page.wait_for_selector("section.verdict")
        assert page.query_selector("#consent") is None
        page.close()


def test_periods_merge_overlapping_sites_and_end_when_the_site_answers_again(
        tmp_path: Path, ctx_factory: Callable[..., TrustContext]) -> None:
    """The server-side periods behind History, on a real daemon and history database: two sites blocked at once on
    one network are one period; it ends at the round that reached them again; a captive portal on another network is
    its own period, still going on."""
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings())
    try:
        t0 = datetime(2026, 1, 1, 10, tzinfo=UTC)

        def rnd(at: datetime, net: str, **statuses: Status) -> None:
            d.history.record_round([verdict(h.replace("_", "."), s, at) for h, s in statuses.items()], net, at)
        rnd(t0, "home", a_test=Status.BLOCKED, b_test=Status.OK)
        rnd(t0 + timedelta(minutes=30), "home", a_test=Status.BLOCKED, b_test=Status.BLOCKED)
        rnd(t0 + timedelta(hours=1), "home", a_test=Status.BLOCKED, b_test=Status.OK)
        rnd(t0 + timedelta(hours=2), "home", a_test=Status.OK, b_test=Status.OK)
        rnd(t0 + timedelta(hours=3), "hotel", a_test=Status.CAPTIVE_PORTAL, b_test=Status.OK)
        d.latest = daemon.Round(verdicts=d.history.latest())
        client = api.create_app(d, "t" * 43).test_client()
        doc = client.get("/api/episodes", headers={"Host": "127.0.0.1:8123", "Authorization": "Bearer " + "t" * 43})
        periods = doc.get_json()["periods"]
        assert [(p["network"], p["status"], p["hosts"], p["started_at"], p["ended_at"]) for p in periods] == [
            ("hotel", "captive_portal", ["a.test"], iso(t0 + timedelta(hours=3)), None),
            ("home", "blocked", ["a.test", "b.test"], iso(t0), iso(t0 + timedelta(hours=2)))]
        assert doc.get_json()["episodes"] == [], "control: none of this is an episode"
    finally:
        d.history.close()
