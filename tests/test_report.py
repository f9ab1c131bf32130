"""Evidence reports: what evidence.json holds, `report verify` (as written, any changed byte, any changed verdict),
the HTML page in real Chromium (no request at all, every fingerprint, a screenshot), all four languages, and a
report from the daemon's history. Sites are loopback TLS servers; nothing real is contacted."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pki
import pytest
import servers
from conftest import connect_to, spki_of, write_intel, write_pins

from certguard.app import report, report_html
from certguard.app.cli import main
from certguard.data.context import load_trust_context
from certguard.i18n import Translator
from certguard.judge.models import EXIT_FOUND, EXIT_OK, EXIT_USAGE
from certguard.watch.history import History
from certguard.watch.pipeline import Pipeline

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Request

DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
Serve = Callable[..., servers.Server]


class Bundle:
    def __init__(self, out: Path, code: int, served: dict[str, list[bytes]], stdout: str) -> None:
        self.out, self.code, self.served, self.stdout = out, code, served, stdout

    @property
    def evidence(self) -> Path:
        return self.out / "evidence.json"

    @property
    def html(self) -> Path:
        return self.out / "report.html"

    def doc(self) -> dict[str, Any]:
        return json.loads(self.evidence.read_bytes())  # type: ignore[no-any-return]


def make_report(tmp_path: Path, serve: Serve, public: pki.CA, public_issuing: pki.CA,
                capsys: pytest.CaptureFixture[str], lang: str = "en", *extra: str) -> Bundle:
    good = public_issuing.leaf("good.test")
    mitm = pki.root("Test National Root", "Test Ministry", "ZZ")
    forged = mitm.leaf("state.test")
    pinned = public_issuing.leaf("pinned.test")
    chains = {"good.test": [good.cert, public_issuing.cert], "state.test": [forged.cert, mitm.cert],
              "pinned.test": [pinned.cert, public_issuing.cert]}
    keys = {"good.test": good.key, "state.test": forged.key, "pinned.test": pinned.key}
    args = []
    for host, chain in chains.items():
        args += ["--connect-to", connect_to(host, serve("tls", chain, keys[host]))]
    bundle = pki.write_bundle(tmp_path / "anchors.pem", [public.cert])
    intel_file = write_intel(tmp_path / "intel.toml", "test-state", "state", spki_of(mitm), "ZZ")
    pin_file = write_pins(tmp_path / "pins.toml", ["pinned.test"], [spki_of(pki.root("Some Other CA"))])
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    out = tmp_path / f"report-{lang}"
    capsys.readouterr()
    code = main(["report", *chains, *args, "--out", str(out), "--ca-bundle", str(bundle), "--intel", str(intel_file),
                 "--pins", str(pin_file), "--no-device-store", "--data-dir", str(tmp_path / "data"),
                 "--home", str(home), "--timeout", "5", "--lang", lang, *extra])
    served = {h: [pki.der(c) for c in chain] for h, chain in chains.items()}
    return Bundle(out, code, served, capsys.readouterr().out)


@pytest.fixture
def bundle(tmp_path: Path, serve: Serve, public: pki.CA, public_issuing: pki.CA,
           capsys: pytest.CaptureFixture[str]) -> Bundle:
    return make_report(tmp_path, serve, public, public_issuing, capsys)


def verify(path: Path, capsys: pytest.CaptureFixture[str], lang: str = "en") -> tuple[int, str]:
    capsys.readouterr()
    code = main(["report", "verify", str(path), "--lang", lang])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_evidence_holds_the_raw_chains_times_network_and_data(bundle: Bundle) -> None:
    assert bundle.code == EXIT_FOUND  # as `check`: an interception was found
    doc = bundle.doc()
    assert doc["sensitive"] is True and doc["sensitive_note"]
    by_host = {r["verdict"]["host"]: r for r in doc["results"]}
    assert {h: (r["verdict"]["status"], r["verdict"]["rule"]) for h, r in by_host.items()} == {
        "good.test": ("ok", "public_ok"), "state.test": ("intercepted", "known_interceptor"),
        "pinned.test": ("suspicious", "pin_mismatch")}
    for host, ders in bundle.served.items():  # the DER exactly as served, in the served order
        assert [base64.b64decode(x) for x in by_host[host]["chain_der_b64"]] == ders
        assert by_host[host]["judged_at"].endswith("Z") and by_host[host]["verdict"]["observed_at"].endswith("Z")
    assert doc["generated_at"].endswith("Z")
    assert set(doc["network"]) >= {"interface", "gateway", "resolvers"}
    data = doc["data"]
    assert [f["shipped"] for f in data["pins"]["files"]] == [True, False]
    user_pins = data["pins"]["files"][1]
    assert hashlib.sha256(base64.b64decode(user_pins["content_b64"])).hexdigest() == user_pins["sha256"]
    assert data["intel"]["files"][1]["content_b64"] and data["anchors"]["content_b64"]
    assert data["ct_log_list"]["sha256"] and data["ct_log_list"]["content_b64"]
    assert data["device_anchors"] is None and doc["audit"] is not None
    # the document hash, computed here from the documented canonical form
    body = {k: v for k, v in doc.items() if k != "document_sha256"}
    canonical = json.dumps(body, sort_keys=True, indent=2, ensure_ascii=False).encode()
    assert doc["document_sha256"] == hashlib.sha256(canonical).hexdigest()
    written = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False).encode() + b"\n"
    assert bundle.evidence.read_bytes() == written
    assert bundle.evidence.stat().st_mode & 0o077 == 0


def test_verify_accepts_the_bundle_as_written(bundle: Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify(bundle.evidence, capsys)
    assert code == EXIT_OK, out
    assert "3 chain(s) judged again" in out


def _flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1:]


def test_any_changed_byte_is_rejected(bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = bundle.evidence.read_bytes()
    text = raw.decode()
    places = [0, len(raw) // 5, len(raw) // 3, len(raw) // 2, 2 * len(raw) // 3, len(raw) - 2, len(raw) - 1,
              text.index('"document_sha256": "') + 25, text.index('"status": "ok"') + 12,
              text.index('"chain_der_b64": [') + 25, text.index("\n  ") + 2]
    for at in places:
        changed = tmp_path / f"flipped-{at}.json"
        changed.write_bytes(_flip(raw, at))
        code, out = verify(changed, capsys)
        assert code == EXIT_USAGE, f"byte {at} changed but verify said: {out}"
        assert code != EXIT_FOUND
    # control: the untouched copy still verifies
    same = tmp_path / "same.json"
    same.write_bytes(raw)
    assert verify(same, capsys)[0] == EXIT_OK


def _reseal(doc: dict[str, Any], path: Path) -> Path:
    """A forger's copy: changed, then sealed again with a correct document hash."""
    path.write_bytes(report.serialise({k: v for k, v in doc.items() if k != "document_sha256"}))
    return path


def test_a_changed_verdict_is_rejected_even_with_a_fresh_hash(bundle: Bundle, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    doc = bundle.doc()
    # control: resealing an unchanged document gives a file that verifies
    assert verify(_reseal(doc, tmp_path / "resealed.json"), capsys)[0] == EXIT_OK

    quiet = json.loads(json.dumps(doc))
    r = next(r for r in quiet["results"] if r["verdict"]["host"] == "state.test")
    r["verdict"].update(status="ok", severity="info", rule="public_ok", interceptor=None)
    code, out = verify(_reseal(quiet, tmp_path / "quiet.json"), capsys)
    assert code == EXIT_USAGE
    assert "(state.test): recorded ok/public_ok, judged again intercepted/known_interceptor" in out
    assert "summary does not match" in out

    summary_kept = json.loads(json.dumps(quiet))
    summary_kept["summary"] = doc["summary"] | {}
    assert verify(_reseal(summary_kept, tmp_path / "kept.json"), capsys)[0] == EXIT_USAGE

    swapped = json.loads(json.dumps(doc))
    rs = {r["verdict"]["host"]: r for r in swapped["results"]}
    rs["good.test"]["chain_der_b64"] = rs["state.test"]["chain_der_b64"]
    code, out = verify(_reseal(swapped, tmp_path / "swapped.json"), capsys)
    assert code == EXIT_USAGE and "(good.test)" in out

    forged_data = json.loads(json.dumps(doc))
    intel_file = forged_data["data"]["intel"]["files"][1]
    intel_file["content_b64"] = base64.b64encode(b"# the interceptor entry removed\n").decode()
    code, out = verify(_reseal(forged_data, tmp_path / "data.json"), capsys)
    assert code == EXIT_USAGE
    assert "does not match its recorded hash" in out and "(state.test)" in out


def test_the_page_opens_in_chromium_without_any_request(bundle: Bundle, browser: Browser, tmp_path: Path) -> None:
    doc = bundle.doc()
    fingerprints = [c["sha256"] for r in doc["results"] for c in r["verdict"]["chain"]]
    assert len(fingerprints) == 6

    def requests_for(page_file: Path, screenshot: Path | None = None) -> tuple[list[str], str]:
        page = browser.new_page(viewport={"width": 1000, "height": 1500})
        seen: list[str] = []

        def record(req: Request) -> None:
            seen.append(req.url)
        page.on("request", record)
        page.goto(page_file.as_uri())
        page.wait_for_load_state("networkidle")
        text = page.inner_text("body")
        if screenshot is not None:
            page.screenshot(path=str(screenshot))  # the first screen: summary and findings (the whole is ~20 screens)
            page.emulate_media(media="print")
            # printed, nothing runs off the page's width
            assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        page.close()
        return [u for u in seen if u != page_file.as_uri()], text

    DOCS.mkdir(parents=True, exist_ok=True)
    others, text = requests_for(bundle.html, DOCS / "report-en.png")
    assert others == []
    assert all(fp in text for fp in fingerprints)
    assert "known_interceptor" in text and "pin_mismatch" in text and "Sensitive" in text
    html = bundle.html.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html

    # control: the recorder does see a request when a page makes one (CSP removed, an image on a closed port)
    leaky = tmp_path / "leaky.html"
    leaky.write_text(html.replace("default-src 'none'", "img-src *").replace(
        "<body>", '<body><img src="http://127.0.0.1:9/x.png">'))
    assert any(u.startswith("http://127.0.0.1:9/") for u in requests_for(leaky)[0])


@pytest.mark.parametrize("lang", ["en", "fr", "ru", "kk"])
def test_reports_in_every_language(lang: str, tmp_path: Path, serve: Serve, public: pki.CA, public_issuing: pki.CA,
                                   capsys: pytest.CaptureFixture[str], browser: Browser) -> None:
    b = make_report(tmp_path, serve, public, public_issuing, capsys, lang)
    tr = Translator(lang)
    html = b.html.read_text()
    assert f'<html lang="{lang}">' in html
    for key in ("report.title", "report.sensitive", "report.how", "status.intercepted", "report.rule.pin_mismatch"):
        assert tr(key).replace("'", "&#x27;").replace('"', "&quot;") in html, key
    if lang != "en":
        assert Translator("en")("report.title") not in html
    assert b.doc()["language"] == lang
    code, out = verify(b.evidence, capsys, lang)
    assert code == EXIT_OK and tr("report.verify.ok", judged=3) in out
    if lang == "kk":
        page = browser.new_page(viewport={"width": 1000, "height": 1500})
        page.goto(b.html.as_uri())
        page.screenshot(path=str(DOCS / "report-kk.png"))
        page.close()


def test_a_report_from_the_daemon_history(tmp_path: Path, serve: Serve, public: pki.CA, public_issuing: pki.CA,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    mitm = pki.root("Test National Root", "Test Ministry", "ZZ")
    forged = mitm.leaf("state.test")
    bundle_file = pki.write_bundle(tmp_path / "anchors.pem", [public.cert])
    ctx = load_trust_context(ca_bundle=bundle_file, use_device_store=False, directory=tmp_path / "data")
    seen = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    rnd = Pipeline(ctx, clock=lambda: seen).judge_chain("state.test", 443, [pki.der(forged.cert), pki.der(mitm.cert)],
                                                        source="probe")
    data = tmp_path / "data"
    history = History(data / "history.sqlite3")
    history.record_round(rnd.verdicts, "home-wifi", seen)
    history.close()
    out = tmp_path / "from-history"
    since = (seen - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    code = main(["report", "--from-history", "--since", since, "--data-dir", str(data), "--out", str(out),
                 "--ca-bundle", str(bundle_file), "--no-device-store", "--no-audit", "--lang", "en"])
    assert code == EXIT_FOUND
    doc = json.loads((out / "evidence.json").read_bytes())
    assert doc["source"] == "history" and doc["window"]["since"] == since
    (r,) = doc["results"]
    assert (r["verdict"]["status"], r["verdict"]["rule"]) == ("intercepted", "no_public_root")
    assert r["recorded_by_daemon"]["status"] == "intercepted" and r["recorded_by_daemon"]["network"] == "home-wifi"
    assert [e["culprit"] for e in doc["episodes"]] == ["CN=Test National Root,O=Test Ministry,C=ZZ"]
    assert "Test National Root" in (out / "report.html").read_text()
    assert verify(out / "evidence.json", capsys)[0] == EXIT_OK
    # control: a window after the round holds no verdict and no episode
    later = (seen + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    main(["report", "--from-history", "--since", later, "--data-dir", str(data), "--out", str(tmp_path / "empty"),
          "--ca-bundle", str(bundle_file), "--no-device-store", "--no-audit"])
    empty = json.loads((tmp_path / "empty" / "evidence.json").read_bytes())
    assert empty["results"] == [] and empty["episodes"] == []


def test_the_network_context_comes_from_local_files(tmp_path: Path, ca_bundle: Path) -> None:
    (tmp_path / "proc/net").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    (tmp_path / "proc/net/route").write_text(  # as the kernel writes it
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "wlan0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n")
    (tmp_path / "sys/class/net/eth0").mkdir(parents=True)
    (tmp_path / "sys/class/net/eth0/type").write_text("1\n")
    (tmp_path / "etc/resolv.conf").write_text("# comment\nnameserver 192.0.2.53\nnameserver ::1\nsearch lan\n")
    ctx = report.network_context(tmp_path)
    assert (ctx["interface"], ctx["gateway"], ctx["resolvers"]) == ("eth0", "192.0.2.1", ["192.0.2.53", "::1"])
    assert ctx["key"] == "eth0 via 192.0.2.1" and ctx["links"][0]["medium"] == "wired"
    fr = Translator("fr")
    trust = load_trust_context(ca_bundle=ca_bundle, use_device_store=False, directory=tmp_path / "data")
    doc = report.build([], trust, fr, datetime.now(UTC), source="check", network=ctx, audit=None, episodes=[])
    html = report_html.render(doc, "0" * 64, fr)
    assert "réseau filaire (passerelle 192.0.2.1), interface eth0" in html
    # control: without the files certguard says it does not know, and invents nothing
    bare = report.network_context(tmp_path / "nothing")
    assert (bare["interface"], bare["gateway"], bare["resolvers"]) == (None, None, [])


def test_a_failed_probe_is_judged_again_from_its_recorded_failure(tmp_path: Path, serve: Serve, public: pki.CA,
                                                                  public_issuing: pki.CA,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: the probe is refused
    b = make_report(tmp_path, serve, public, public_issuing, capsys, "en",
                    "down.test", "--connect-to", f"down.test:443:127.0.0.1:{port}")
    doc = b.doc()
    down = next(r for r in doc["results"] if r["verdict"]["host"] == "down.test")
    assert down["chain_der_b64"] == [] and down["verdict"]["rule"] in ("blocked", "unreachable")
    assert verify(b.evidence, capsys)[0] == EXIT_OK
    # a forger turns the failure into "safe" and seals the file again: refused
    forged = json.loads(json.dumps(doc))
    v = next(r for r in forged["results"] if r["verdict"]["host"] == "down.test")["verdict"]
    v.update(status="ok", severity="info", rule="public_ok")
    forged["summary"] = doc["summary"] | {v["status"]: doc["summary"]["ok"] + 1}
    code, out = verify(_reseal(forged, tmp_path / "forged.json"), capsys)
    assert code == EXIT_USAGE and "(down.test): recorded ok/public_ok" in out
