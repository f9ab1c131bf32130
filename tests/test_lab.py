"""The workshop lab: every scenario's verdict, real TLS on loopback, nothing installed, nothing left running."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import certifi
import pki
import pytest
import servers
from conftest import ARTIFACTS
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from test_daemon import running, watch_args
from test_ui import login_url

from certguard.app import api, lab, lab_pki
from certguard.app.cli import main
from certguard.data import intel
from certguard.i18n import Translator
from certguard.judge import certs
from certguard.judge.analyze import TrustContext, analyze_chain
from certguard.judge.models import EXIT_FOUND, EXIT_OK, EXIT_USAGE, CertInfo
from certguard.judge.verify import AnchorSet
from certguard.probe.labserver import LabServer
from certguard.probe.tls import ProbeOptions
from certguard.watch import daemon, notify

if TYPE_CHECKING:
    from playwright.sync_api import Browser

EXPECTED = {
    "clean": ("ok", "public_ok", None, EXIT_OK),
    "state": ("intercepted", "known_interceptor", "state", EXIT_FOUND),
    "antivirus": ("intercepted", "no_public_root", "antivirus", EXIT_FOUND),
    "corporate": ("intercepted", "no_public_root", "corporate", EXIT_FOUND),
    "captive-portal": ("captive_portal", "not_for_this_host", None, EXIT_OK),
    "rogue-ca": ("suspicious", "pin_mismatch", None, EXIT_FOUND),
    "debugging": ("intercepted", "no_public_root", "debugging", EXIT_FOUND),
}


def ders(chain: tuple[CertInfo, ...]) -> list[bytes]:
    return [der for c in chain for der in certs.split_pem_or_der(c.pem.encode(), "lab")]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_the_lab_lists_every_scenario_in_every_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "lab", "list", "--json", "--lang", "en")
    assert code == 0
    doc = json.loads(out)
    assert [s["id"] for s in doc["scenarios"]] == list(EXPECTED)
    assert all(set(s) == {"id", "title", "what_it_shows"} and s["title"] and s["what_it_shows"]
               for s in doc["scenarios"])
    titles = {}
    for lang in ("en", "fr", "ru", "kk"):
        code, out = run_cli(capsys, "lab", "list", "--json", "--lang", lang)
        titles[lang] = [s["title"] for s in json.loads(out)["scenarios"]]
    assert len({tuple(t) for t in titles.values()}) == 4  # translated, not English copied over


@pytest.mark.parametrize("scenario_id", list(EXPECTED))
def test_every_scenario_yields_its_expected_verdict(capsys: pytest.CaptureFixture[str], scenario_id: str) -> None:
    # Given a scenario; When it runs through `lab run --json`; Then certguard's verdict is the expected one
    status, rule, kind, exit_code = EXPECTED[scenario_id]
    code, out = run_cli(capsys, "lab", "run", scenario_id, "--json", "--lang", "fr")
    doc = json.loads(out)
    (result,) = doc["results"]
    assert (result["status"], result["rule"]) == (status, rule)
    assert (result["interceptor"] or {}).get("kind") == kind
    assert code == exit_code
    # the same JSON contract as `check`, plus what a browser would have shown
    assert {"certguard_version", "generated_at", "data", "results", "summary"} <= set(doc)
    assert result["chain"] and all(len(c["sha256"]) == 64 for c in result["chain"])
    assert doc["lab"]["expected"] == {"status": status, "rule": rule}
    assert doc["lab"]["browser"] and doc["lab"]["browser"] != doc["lab"]["what_it_shows"]


def test_the_verdicts_come_from_the_lab_data_not_from_the_scenario_name() -> None:
    # Negative controls: the same served chains judged with one piece of the lab's data taken away change verdict.
    clean = lab.run("clean")
    v = clean.round.verdicts[0]
    chain = ders(v.chain)
    only_b = AnchorSet("only root B", (clean.ctx.mozilla.certs[1],))
    assert analyze_chain(lab.SITE, 443, chain, replace(clean.ctx, mozilla=only_b), clean.round.checked_at).rule \
        == "no_public_root"

    rogue = lab.run("rogue-ca")
    chain = ders(rogue.round.verdicts[0].chain)
    unpinned = replace(rogue.ctx, pins=replace(rogue.ctx.pins, pinsets=()))
    assert analyze_chain(lab.SITE, 443, chain, unpinned, rogue.round.checked_at).rule == "public_ok"

    state = lab.run("state")
    chain = ders(state.round.verdicts[0].chain)
    shipped_only = replace(state.ctx, intel=intel.load())
    # without the lab's key entry the root is still caught, but only by its (copyable) name
    judged = analyze_chain(lab.SITE, 443, chain, shipped_only, state.round.checked_at)
    assert (judged.rule, judged.interceptor and judged.interceptor.match.value) == ("no_public_root", "name")


def test_the_state_forgery_is_the_2019_one() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    public = lab_pki.CA.root(lab_pki.name("Root"), now)
    real = public.leaf(("www.lab.example", "lab.example"), now).cert
    forged = lab_pki.CA.root(lab_pki.name("Qaznet Trust Network", c="KZ"), now).forge_like_2019(real).cert
    assert forged.subject == real.subject
    san = x509.SubjectAlternativeName
    assert forged.extensions.get_extension_for_class(san).value == real.extensions.get_extension_for_class(san).value
    assert real.not_valid_before_utc - forged.not_valid_before_utc == timedelta(hours=6)
    assert real.not_valid_after_utc - forged.not_valid_after_utc == timedelta(hours=6)
    key = forged.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.public_numbers().e == 3 and key.key_size == 2048
    assert forged.serial_number >> 32 == real.serial_number >> 32 and forged.serial_number != real.serial_number
    assert len(forged.extensions) == 1  # every other extension dropped
    # control: a normal lab leaf keeps its WebPKI extensions
    assert len(real.extensions) > 1


def _stores() -> list[Path]:
    paths = [Path("/etc/ssl/certs/ca-certificates.crt"), Path(certifi.where())]
    nssdb = Path.home() / ".pki" / "nssdb"
    if nssdb.is_dir():
        paths += sorted(p for p in nssdb.iterdir() if p.is_file())
    return [p for p in paths if p.is_file()]


def _snapshot(paths: list[Path]) -> dict[str, str]:
    out = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    for folder in {p.parent for p in paths}:
        out[f"{folder}/"] = "\n".join(sorted(q.name for q in folder.iterdir()))
    return out


def test_the_snapshot_sees_a_changed_byte(tmp_path: Path) -> None:
    # control for the next test: the comparison would notice a store that changed
    store = tmp_path / "bundle.crt"
    store.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n")
    before = _snapshot([store])
    store.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAB\n")
    assert _snapshot([store]) != before


def test_no_trust_store_changes_and_no_server_outlives_the_lab() -> None:
    paths = _stores()
    assert Path(certifi.where()) in paths
    before = _snapshot(paths)
    runs = [lab.run(s.id) for s in lab.SCENARIOS]
    assert _snapshot(paths) == before
    for r in runs:
        assert not r.workdir.exists()  # the throwaway CAs and keys are gone with the temporary directory
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", r.port), timeout=2):
            pass
    assert not [t for t in threading.enumerate() if t.name.startswith("lab-server-")]


def test_a_lab_server_listens_until_closed(tmp_path: Path) -> None:
    # control for the connect check above: while the server runs, the same connect succeeds
    now = datetime.now(UTC)
    ca = lab_pki.CA.root(lab_pki.name("Root"), now)
    leaf = ca.leaf((lab.SITE,), now)
    (tmp_path / "c.pem").write_bytes(lab_pki.pem(leaf.cert))
    (tmp_path / "k.pem").write_bytes(lab_pki.key_pem(leaf.key))
    server = LabServer(tmp_path / "c.pem", tmp_path / "k.pem").start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2):
            pass
    finally:
        server.close()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", server.port), timeout=2):
        pass


def test_an_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "run", "nope"]) == EXIT_USAGE
    assert "clean, state" in capsys.readouterr().err


def test_the_text_output_shows_both_sides(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "lab", "run", "captive-portal", "--lang", "en")
    assert code == EXIT_OK
    assert "What your browser would have shown:" in out and "full-page certificate warning" in out
    assert "What certguard says:" in out


def test_the_api_runs_a_scenario_for_the_workshop_page(tmp_path: Path,
                                                       ctx_factory: Callable[..., TrustContext]) -> None:
    d = daemon.Daemon(tmp_path, ctx_factory(), options=ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings())
    try:
        client = api.create_app(d, "t" * 43).test_client()
        auth = {"Host": "127.0.0.1:8123", "Authorization": "Bearer " + "t" * 43}
        listing = client.get("/api/lab?lang=ru", headers=auth)
        assert listing.status_code == 200 and listing.json is not None
        assert [s["id"] for s in listing.json["scenarios"]] == list(EXPECTED)
        resp = client.post("/api/lab/run?lang=kk", json={"id": "state"}, headers=auth)
        assert resp.status_code == 200 and resp.json is not None
        (result,) = resp.json["results"]
        assert (result["status"], result["rule"]) == ("intercepted", "known_interceptor")
        assert resp.json["lab"]["browser"] == Translator("kk")("lab.browser.state")
        # controls: an unknown scenario is refused, and so is a request without the token
        assert client.post("/api/lab/run", json={"id": "nope"}, headers=auth).status_code == 400
        assert client.post("/api/lab/run", json={"id": "state"},
                           headers={"Host": "127.0.0.1:8123"}).status_code in (401, 403)
    finally:
        d.history.close()


def test_the_workshop_page_runs_scenarios_in_chromium(tmp_path: Path, browser: Browser, public_issuing: pki.CA,
                                                      serve: Callable[..., servers.Server], ca_bundle: Path) -> None:
    # Given a daemon and its UI, in French; When the trainer opens Workshop and runs two scenarios; Then each card
    # shows the API's verdict beside what a browser would have shown, in French, and the result survives live updates
    fr = Translator("fr")
    genuine = public_issuing.leaf("mail.example.org")
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    data = tmp_path / "data"
    with running(data, "--interval", "3600", *watch_args(tmp_path, "mail.example.org", good, ca_bundle)) as d:
        d.wait_for(lambda s: s["checked_at"] is not None)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(login_url(data, "--lang", "fr"))
        page.wait_for_selector("html[data-ready='1']")
        page.click("nav a[data-route='workshop']")
        page.wait_for_selector("#run-state")
        assert page.text_content("main h1") == fr("ui.nav.workshop")
        assert page.text_content("#scenario-state h2") == fr("lab.title.state")
        page.click("#run-state")
        page.wait_for_selector("#result-state [data-result]", timeout=20000)
        assert page.get_attribute("#result-state [data-result]", "data-result") == "intercepted"
        assert page.text_content("#result-state .browser") == fr("lab.browser.state")
        assert fr("status.intercepted") in (page.text_content("#result-state .badge") or "")
        # control: the clean scenario shows "safe", not the same answer whatever is clicked
        page.click("#run-clean")
        page.wait_for_selector("#result-clean [data-result]", timeout=20000)
        assert page.get_attribute("#result-clean [data-result]", "data-result") == "ok"
        # a round of the daemon's own (a live update) while the results are on screen does not wipe them
        before = d.json("/api/status")["checked_at"]
        page.wait_for_timeout(1100)  # checked_at has one-second resolution: the next round's must differ
        assert d.request("POST", "/api/check")[0] == 202
        d.wait_for(lambda st: st["checked_at"] != before)
        page.wait_for_timeout(500)
        assert page.get_attribute("#result-state [data-result]", "data-result") == "intercepted"
        assert errors == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 1100, "height": 1400})
        page.screenshot(path=str(ARTIFACTS / "ui-workshop-fr.png"))
        page.close()
