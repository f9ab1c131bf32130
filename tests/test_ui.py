"""The web UI in real Chromium (Debian's, via Playwright) against a real daemon probing loopback servers.

One walk through the product as a user would: log in with a one-time link, see "safe", watch an interception
appear live, open the site's chain, read the device audit and the history, change settings, switch language.
Screenshots land in test-artifacts/. The API token must never show up in a URL, a page or a log.
"""

from __future__ import annotations

import http.client
import http.server
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pki
import servers
from conftest import ARTIFACTS
from test_daemon import running, watch_args

HOST = "mail.example.org"  # not pinned: the test public root is its genuine CA
LOCALES = Path(__file__).resolve().parent.parent / "certguard" / "locales"


def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def login_url(data: Path, *extra: str) -> str:
    out = subprocess.run([sys.executable, "-m", "certguard", "ui", "--print-url", "--data-dir", str(data), *extra],
                         capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


def shot(page: Any, name: str) -> None:
    """Save a screenshot, after checking the page shows no untranslated key and no unfilled placeholder."""
    text = page.inner_text("body")
    leftovers = re.findall(r"\{\w+\}|\b(?:ui|status|kind|match|finding|advice|audit|failure|cli)\.[a-z_.]+[a-z]", text)
    assert not leftovers, f"{name}: {leftovers}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ui-{name}.png"), full_page=True)


class _Hostile(http.server.BaseHTTPRequestHandler):
    """A page on another local port: same *site* as the UI for the browser, so it gets the session cookie sent."""

    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: object) -> None:
        pass


HOSTILE = """<!doctype html><title>hostile</title><script>
window.results = {};
(async () => {
  const api = %s;
  const tries = {
    post: () => fetch(api + "/api/check", {method: "POST", mode: "no-cors", credentials: "include"}),
    put: () => fetch(api + "/api/settings", {method: "PUT", mode: "no-cors", credentials: "include",
                      headers: {"Content-Type": "text/plain"}, body: '{"quiet": false, "interval": 60}'}),
    read: () => fetch(api + "/api/status", {credentials: "include"}).then((r) => r.text()),
  };
  for (const [name, f] of Object.entries(tries)) {
    try { const r = await f(); results[name] = "sent:" + (typeof r === "string" ? r : r.type); }
    catch (e) { results[name] = "blocked:" + e.name; }
  }
  results.done = true;
})();
</script>"""


def test_ui_walkthrough(tmp_path: Path, browser: Any, public_issuing: pki.CA, serve: Callable[..., Any],
                        ca_bundle: Path) -> None:
    en, fr = catalog("en"), catalog("fr")
    genuine = public_issuing.leaf(HOST)
    qaznet = pki.root("Qaznet Trust Network", c="KZ")
    forged = qaznet.leaf(HOST)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    evil = serve("tls", [forged.cert], forged.key)
    with servers.Switch(good.port) as path:
        data = tmp_path / "data"
        with running(data, "--interval", "3600", *watch_args(tmp_path, HOST, path, ca_bundle)) as d:
            d.wait_for(lambda s: s["checked_at"] is not None)
            context = browser.new_context(locale="en-GB")
            page = context.new_page()
            urls: list[str] = []
            page.on("request", lambda r: urls.append(r.url))
            navigations: list[str] = []
            page.on("framenavigated", lambda f: navigations.append(f.url))
            html: list[str] = []

            # -- logged out: the page says how to get in, and shows no data
            page.goto(f"http://127.0.0.1:{d.port}/")
            page.wait_for_selector("main h1")
            assert page.text_content("main h1") == en["ui.logged_out_title"]

            # -- one-time login
            url = login_url(data)
            assert "/login?code=" in url and d.token not in url
            page.goto(url)
            page.wait_for_selector("html[data-ready='1']")
            assert page.url == f"http://127.0.0.1:{d.port}/", "the code leaves the address bar at once"
            assert page.text_content("#verdict-title") == en["ui.overall.ok"]
            assert page.get_attribute("section.verdict", "data-overall") == "ok"
            # the lead claims CT only when this round counted it (tests/js/claims.test.mjs has both wordings)
            counted = any(r["ct"] and r["ct"]["enforced"] for r in d.json("/api/status")["results"])
            assert page.text_content("section.verdict .lead") == en[
                "ui.overall_help.ok" if counted else "ui.overall_help.ok_no_ct"]
            html.append(page.content())
            shot(page, "status-ok")
            # keyboard only: skip link first, then the navigation; the new page's heading takes the focus
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "skip"
            for _ in range(10):
                page.keyboard.press("Tab")
                if page.evaluate("document.activeElement.dataset.route") == "sites":
                    break
            page.keyboard.press("Enter")
            page.wait_for_selector("table.sites")
            # (polled with evaluate: wait_for_function would need eval(), which the UI's CSP forbids)
            for _ in range(50):
                if page.evaluate("document.activeElement.tagName") == "H1":
                    break
                page.wait_for_timeout(100)
            assert page.evaluate("document.activeElement.tagName") == "H1"
            # colour is never the only signal: every badge carries its status in words
            badges = page.eval_on_selector_all(".badge", "els => els.map(e => [e.dataset.status, e.textContent])")
            assert badges and all(en[f"status.{status}"] in text for status, text in badges)
            page.click("nav a[data-route='status']")
            page.wait_for_selector("#verdict-title")
            reuse = browser.new_page()
            assert reuse.goto(url).status == 403, "a used code is worthless"
            assert en["ui.login_failed"] in reuse.content()
            reuse.close()

            # -- an interception appears live (no reload), after "Check now"
            path.upstream = evil.port
            loads = len(navigations)
            page.click("#check-now")
            page.wait_for_selector("section.verdict[data-overall='intercepted']", timeout=20000)
            assert len(navigations) == loads, "the status page updated through the event stream, not a reload"
            assert page.text_content("#verdict-title") == en["ui.overall.intercepted"]
            assert "Qaznet Trust Network" in page.text_content("section.verdict")
            assert en["advice.state"] in page.text_content("section.verdict")
            html.append(page.content())
            shot(page, "status-intercepted")

            # -- sites list and the site's chain
            page.click("nav >> text=" + en["ui.nav.sites"])
            page.wait_for_selector("table.sites")
            row = page.text_content("table.sites tbody tr")
            assert HOST in row and en["status.intercepted"] in row
            page.click(f"table.sites >> text={HOST}")
            page.wait_for_selector("ol.chain")
            chain = page.text_content("ol.chain")
            assert en["ui.anchor_none"] in page.text_content("main"), "no public root vouches for the forged chain"
            assert "CN=Qaznet Trust Network" in chain and f"CN={HOST}" in chain
            assert page.text_content("ul.findings").count("KNOWN_STATE_INTERCEPTOR") + \
                page.text_content("ul.findings").count("UNTRUSTED_ROOT") >= 1
            statuses = page.eval_on_selector_all("table.history .badge", "els => els.map(e => e.dataset.status)")
            assert statuses[:2] == ["intercepted", "ok"], statuses
            html.append(page.content())
            shot(page, "site-chain")

            # -- device audit (this machine's real trust store) and history
            page.click("nav >> text=" + en["ui.nav.device"])
            page.wait_for_selector("main h1 >> text=" + en["ui.nav.device"])
            page.wait_for_selector("p.summary")
            shot(page, "device")
            page.click("nav >> text=" + en["ui.nav.history"])
            page.wait_for_selector("ul.episodes")
            episode = page.text_content("ul.episodes")
            assert "Qaznet Trust Network" in episode and HOST in episode
            assert en["ui.episode_ongoing"].split(" ")[0] in episode
            shot(page, "history")

            # -- settings persist
            page.click("nav >> text=" + en["ui.nav.settings"])
            page.wait_for_selector("form#settings")
            unlabelled = page.evaluate("[...document.querySelectorAll('input, select, textarea')]"
                                       ".filter(e => !e.labels.length && !e.getAttribute('aria-label')).length")
            assert unlabelled == 0, "every field has a label"
            page.fill("#interval", "0")
            page.click("#save")
            assert page.text_content("#save-result") == en["ui.settings.bad_interval"], "control: bad input refused"
            page.fill("#interval", "45")
            page.check("#quiet")
            page.click("text=" + en["ui.settings.add_rule"])
            page.fill(".rule-row >> nth=-1 >> [name=interceptor]", "Zscaler*")
            # the network is picked from those seen (the current one here), named for people
            current = next(n for n in d.json("/api/networks")["networks"] if n["current"])
            page.select_option(".rule-row >> nth=-1 >> [name=network]", current["rule"])
            page.fill(".rule-row >> nth=-1 >> [name=note]", "the office proxy")
            page.click("#save")
            page.wait_for_selector("#save-result >> text=" + en["ui.settings.saved"])
            saved = json.loads((data / "settings.json").read_text())
            assert saved["interval"] == 2700 and saved["quiet"] is True
            assert saved["allow"] == [{"interceptor": "Zscaler*", "network": current["rule"],
                                       "note": "the office proxy"}]
            page.reload()
            page.wait_for_selector("form#settings")
            assert page.input_value("#interval") == "45" and page.is_checked("#quiet")
            shot(page, "settings")

            # -- a page on another local port, in the same logged-in browser, can change nothing
            _Hostile.page = (HOSTILE % json.dumps(f"http://127.0.0.1:{d.port}")).encode()
            hostile = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
            threading.Thread(target=hostile.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
            seen_before = d.json(f"/api/history?host={HOST}")["history"][0]["seen"]
            try:
                evil_page = context.new_page()
                evil_page.goto(f"http://127.0.0.1:{hostile.server_address[1]}/")
                evil_page.wait_for_function("window.results.done === true", timeout=15000)
                results = evil_page.evaluate("window.results")
                evil_page.close()
            finally:
                hostile.shutdown()
                hostile.server_close()
            assert results["read"] == "blocked:TypeError", results
            assert results["put"] == "blocked:TypeError", results  # the browser itself refuses a no-cors PUT
            assert results["post"] == "sent:opaque", results  # this one did reach the daemon, with the cookie ...
            page.wait_for_timeout(1000)
            assert json.loads((data / "settings.json").read_text())["interval"] == 2700, "the PUT was refused"
            assert d.json(f"/api/history?host={HOST}")["history"][0]["seen"] == seen_before, "... and ran no check"

            # -- languages: French, Russian, Kazakh replace every text (English shown first: the control)
            assert page.text_content("nav a[data-route='settings']") == en["ui.nav.settings"]
            for lang in ("fr", "ru", "kk"):
                cat = catalog(lang)
                page.click("nav a[data-route='settings']")
                page.wait_for_selector("form#settings")
                page.select_option("#language", lang)
                page.click("#save")
                page.wait_for_selector(f"html[lang='{lang}']")
                page.wait_for_selector("#save-result >> text=" + cat["ui.settings.saved"])
                assert page.text_content("nav a[data-route='settings']") == cat["ui.nav.settings"]
                assert page.text_content("main h1") == cat["ui.nav.settings"]
                page.click("nav a[data-route='status']")
                page.wait_for_selector("#verdict-title")
                assert page.text_content("#verdict-title") == cat["ui.overall.intercepted"]
                assert cat["advice.state"] in page.text_content("section.verdict")
                assert page.title() == cat["ui.title"]
                html.append(page.content())
                shot(page, f"status-{lang}")
            assert json.loads((data / "settings.json").read_text())["language"] == "kk"
            assert fr["ui.nav.settings"] != en["ui.nav.settings"]

            # -- `certguard ui --lang` opens one window in another language without changing the setting
            page.goto(login_url(data, "--lang", "fr"))
            page.wait_for_selector("html[lang='fr']")
            assert page.url == f"http://127.0.0.1:{d.port}/"
            assert page.text_content("#verdict-title") == fr["ui.overall.intercepted"]
            assert json.loads((data / "settings.json").read_text())["language"] == "kk"

            # -- the token is in no URL, no page, no cookie value
            assert all(d.token not in u for u in urls), "token in a URL"
            assert all(d.token not in h for h in html), "token in a page"
            assert all(d.token not in c["value"] for c in context.cookies())
            cookie = next(c for c in context.cookies() if c["name"] == "certguard_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            context.close()
        assert d.log and d.token.encode() not in d.log, "token in the daemon's log"


def test_ui_after_the_daemon_is_killed_and_restarted(tmp_path: Path, browser: Any, public_issuing: pki.CA,
                                                     serve: Callable[..., Any], ca_bundle: Path) -> None:
    en = catalog("en")
    genuine = public_issuing.leaf(HOST)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    data = tmp_path / "data"
    with socket.socket() as s:  # a fixed port, so the restarted daemon is reachable under the page's origin
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ("--interval", "3600", "--api-port", str(port), *watch_args(tmp_path, HOST, good, ca_bundle))
    page = browser.new_page()
    with running(data, *args) as d:
        d.wait_for(lambda s: s["checked_at"] is not None)
        page.goto(login_url(data))
        page.wait_for_selector("html[data-ready='1']")
        # bad input in the settings: a clear message in the user's language, and nothing saved
        page.click("nav a[data-route='settings']")
        page.fill("#sites", "not a host name!")
        page.click("#save")
        expected = en["ui.settings.failed"].replace("{detail}", en["ui.settings.err_site"].replace(
            "{site}", "not a host name!"))
        page.wait_for_selector(f"#save-result >> text={expected}")
        assert not (data / "settings.json").exists()
        page.click("nav a[data-route='status']")
        page.wait_for_selector("#verdict-title")
        d.proc.kill()  # kill -9: no clean shutdown, api.json stays behind
        d.proc.wait(timeout=10)
        page.wait_for_selector("body.disconnected", timeout=15000)
        assert page.text_content("#live") == en["ui.disconnected"]
        assert page.text_content("#verdict-title") == en["ui.overall.ok"], "the last known verdict stays on screen"
    with running(data, *args) as d2:
        # the new daemon has a new token and no sessions: the page says how to get back in, shows no stale data
        page.wait_for_selector("main h1 >> text=" + en["ui.logged_out_title"], timeout=20000)
        page.goto(login_url(data))
        page.wait_for_selector("#verdict-title")
        assert page.text_content("#verdict-title") == en["ui.overall.ok"], "the history survived the kill"
        assert d2.json(f"/api/history?host={HOST}")["history"][0]["seen"] >= 1
    page.close()


UI_DIR = Path(__file__).resolve().parent.parent / "ui"


def raw_get(port: int, path: str) -> tuple[int, str]:
    """GET exactly this path (http.client sends it as written: no client-side normalisation of '..')."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"127.0.0.1:{port}")
        conn.endheaders()
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.getheader("Content-Type") or ""
    finally:
        conn.close()


def test_ui_modules_are_served_from_folders_and_nothing_else_is(tmp_path: Path, public_issuing: pki.CA,
                                                               serve: Callable[..., Any], ca_bundle: Path) -> None:
    genuine = public_issuing.leaf(HOST)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    modules = sorted(p.relative_to(UI_DIR).as_posix() for p in UI_DIR.rglob("*.js"))
    assert "main.js" in modules and "lib/i18n.js" in modules and "pages/index.js" in modules
    with running(tmp_path / "data", "--interval", "3600", *watch_args(tmp_path, HOST, good, ca_bundle)) as d:
        for name in modules:  # every module the page imports is reachable (control: these are 200)
            status, ctype = raw_get(d.port, f"/ui/{name}")
            assert (status, ctype.split(";")[0]) == (200, "text/javascript"), name
        for bad in ("/ui/../pyproject.toml", "/ui/lib/../main.js", "/ui/%2e%2e/pyproject.toml",
                    "/ui/lib/%2e%2e/main.js", "/ui//etc/passwd", "/ui/%2Fetc%2Fpasswd", "/ui/lib//i18n.js",
                    "/ui/__init__.py", "/ui/lib/i18n.py", "/ui/package.json", "/ui/Lib/i18n.js", "/ui/.lib/i18n.js",
                    "/ui/lib/.i18n.js", "/ui/lib%5Ci18n.js", "/ui/a/b/c/d.js", "/ui/lib/", "/ui/nope/x.js",
                    "/ui/lib/i18n.js%00.js"):
            assert raw_get(d.port, bad)[0] == 404, bad


def test_the_package_ships_every_ui_file() -> None:
    import fnmatch
    import tomllib

    globs = tomllib.loads((UI_DIR.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "certguard.ui"]
    files = [p.relative_to(UI_DIR).as_posix() for p in UI_DIR.rglob("*")
             if p.suffix in (".js", ".html", ".css", ".svg")]
    missing = [f for f in files
               if not any(fnmatch.fnmatch(f, g) and f.count("/") == g.count("/") for g in globs)]
    assert files and missing == []
    assert not any(fnmatch.fnmatch("lib/x.js", g) and g.count("/") == 1 for g in ("*.js",)), "control: *.js is flat"
