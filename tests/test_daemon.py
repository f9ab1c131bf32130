"""The daemon: history and episodes, notifications, network changes, settings, service files (in-process), and the
real process (API security, live detection, kill -9 crash safety) against loopback servers."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pki
import pytest
import servers
from conftest import connect_to

from certguard.data.targets import ConnectTo, apply_overrides, parse_target
from certguard.device.network import Link, Network
from certguard.errors import ConfigError, SettingsError
from certguard.i18n import Translator
from certguard.judge import certs
from certguard.judge.analyze import TrustContext, analyze_chain
from certguard.judge.findings import FindingId
from certguard.judge.models import (
    CertInfo,
    InterceptorKind,
    InterceptorMatch,
    MatchStrength,
    Severity,
    Status,
    Target,
    Verdict,
)
from certguard.probe import tls as probe
from certguard.watch import daemon, notify, service
from certguard.watch import history as store

HOST = "mail.example.org"  # not pinned: the test public root is its genuine CA


# ---- helpers ----------------------------------------------------------------------------------------------------

def info(ca: pki.CA) -> CertInfo:
    return certs.cert_info(ca.cert)


def verdict(host: str, status: Status, at: datetime, chain: tuple[CertInfo, ...] = (),
            interceptor: str | None = None) -> Verdict:
    match = InterceptorMatch("kz-test", interceptor, InterceptorKind.STATE, "KZ", MatchStrength.SPKI, "00" * 32,
                             ()) if interceptor else None
    sev = Severity.CRITICAL if status is Status.INTERCEPTED else Severity.INFO
    return Verdict(host, 443, "127.0.0.1", status, sev, at, match, chain)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[store.History]:
    h = store.History(tmp_path / "h.sqlite3")
    yield h
    h.close()


# ---- history, change detection, episodes -------------------------------------------------------------------------

def test_identical_verdicts_extend_one_row_and_survive_reopen(tmp_path: Path, public_issuing: pki.CA) -> None:
    leaf = certs.cert_info(public_issuing.leaf("a.test").cert)
    h = store.History(tmp_path / "h.sqlite3")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(48):
        h.record_round([verdict("a.test", Status.OK, t0 + timedelta(minutes=30 * i), (leaf, info(public_issuing)))],
                       "wlan0 via gw-home", t0 + timedelta(minutes=30 * i))
    h.close()
    h = store.History(tmp_path / "h.sqlite3")
    rows = h.history("a.test")
    assert len(rows) == 1 and rows[0]["seen"] == 48 and h.count() == 48
    assert rows[0]["chain"][1]["sha256"] == certs.fingerprint(public_issuing.cert)
    # control: another network is another row
    h.record_round([verdict("a.test", Status.OK, t0, (leaf, info(public_issuing)))], "eth0 via gw-home", t0)
    assert len(h.history("a.test")) == 2
    h.close()


def test_chain_changed_after_a_stable_period_but_not_on_renewal(history: store.History, public: pki.CA,
                                                                public_issuing: pki.CA, ctx_factory: Any) -> None:
    """The history hands its facts to the judge (rule chain_changed); it never edits a verdict itself."""
    other = pki.root("Other Public Root")
    other_ca = other.child_ca("Other Issuing CA")
    ctx = ctx_factory(anchors=[public.cert, other.cert])  # both public: only the history can tell
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    net = "wlan0 via gw-home"

    def judged(ca: pki.CA, day: int) -> Verdict:
        at = t0 + timedelta(days=day)
        leaf = ca.leaf("a.test", not_before=at - timedelta(days=1), not_after=at + timedelta(days=60))
        v = analyze_chain("a.test", 443, [pki.der(leaf.cert), pki.der(ca.cert)], ctx, at,
                          history=history.facts("a.test", 443, net))
        history.record_round([v], net, at)
        return v

    for day in range(10):
        assert judged(public_issuing, day).rule == "public_ok"
    same_ca = judged(public_issuing, 10)
    assert same_ca.finding(FindingId.CHAIN_CHANGED) is None, "a renewal by the same issuing key is routine"
    changed = judged(other_ca, 11)
    f = changed.finding(FindingId.CHAIN_CHANGED)
    assert f is not None and f.evidence_dict["previous_issuer_key"] == certs.spki_sha256(public_issuing.cert)
    assert (changed.status, changed.severity, changed.rule) == (Status.OK, Severity.WARNING, "chain_changed")


def test_chain_change_without_stable_history_is_quiet(history: store.History, public: pki.CA,
                                                      public_issuing: pki.CA, ctx_factory: Any) -> None:
    other = pki.root("Other Public Root")
    other_ca = other.child_ca("Other Issuing CA")
    ctx = ctx_factory(anchors=[public.cert, other.cert])
    t0 = pki.NOW - timedelta(days=2)
    first = analyze_chain("a.test", 443, [pki.der(public_issuing.leaf("a.test").cert), pki.der(public_issuing.cert)],
                          ctx, t0)
    history.record_round([first], "n", t0)
    facts = history.facts("a.test", 443, "n")
    assert facts is not None and facts.issuer_key == certs.spki_sha256(public_issuing.cert)
    v = analyze_chain("a.test", 443, [pki.der(other_ca.leaf("a.test").cert), pki.der(other_ca.cert)], ctx,
                      pki.NOW, history=facts)
    assert v.finding(FindingId.CHAIN_CHANGED) is None and v.rule == "public_ok"


def test_episode_opens_grows_and_ends(history: store.History) -> None:
    t0 = datetime(2026, 1, 1, 10, 2, tzinfo=UTC)
    net = "wlan0 via gw-home"
    history.record_round([verdict("google.com", Status.INTERCEPTED, t0, interceptor="Qaznet"),
                          verdict("vk.com", Status.OK, t0)], net, t0)
    t1 = t0 + timedelta(hours=1)
    history.record_round([verdict("google.com", Status.INTERCEPTED, t1, interceptor="Qaznet"),
                          verdict("vk.com", Status.INTERCEPTED, t1, interceptor="Qaznet")], net, t1)
    t2 = t0 + timedelta(hours=2)
    # vk.com unreachable this round: the episode neither ends nor is extended by it
    history.record_round([verdict("google.com", Status.OK, t2), verdict("vk.com", Status.UNREACHABLE, t2)], net, t2)
    [ep] = history.episodes()
    assert ep.ended_at is None and ep.hosts == ("google.com", "vk.com")
    t3 = t0 + timedelta(hours=4, minutes=28)
    history.record_round([verdict("google.com", Status.OK, t3), verdict("vk.com", Status.OK, t3)], net, t3)
    [ep] = history.episodes()
    assert (ep.culprit, ep.started_at, ep.last_seen, ep.ended_at) == ("Qaznet", t0, t1, t3)
    assert ep.kind == "state"


def test_retention_prunes_old_ok_rows_keeps_alarms(tmp_path: Path) -> None:
    h = store.History(tmp_path / "h.sqlite3", store.Retention(ok_days=30, alarm_days=365))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    h.record_round([verdict("ok.test", Status.OK, t0), verdict("bad.test", Status.INTERCEPTED, t0, interceptor="X")],
                   "n", t0)
    later = t0 + timedelta(days=40)
    h.record_round([verdict("other.test", Status.OK, later)], "n", later)
    assert h.history("ok.test") == []
    assert len(h.history("bad.test")) == 1
    h.close()


def test_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "h.sqlite3").write_bytes(b"garbage" * 1000)
    with pytest.raises(Exception, match="history database unusable"):
        store.History(tmp_path / "h.sqlite3")
    assert (tmp_path / "h.sqlite3").read_bytes() == b"garbage" * 1000, "nothing overwritten"


# ---- notifications ----------------------------------------------------------------------------------------------

def recording(log: list[str], with_body: bool = False) -> notify.Sender:
    """A notification sender that records each title (or ``title|body``) it is given and reports it delivered."""
    def send(title: str, body: str) -> bool:
        log.append(f"{title}|{body}" if with_body else title)
        return True
    return send


def test_notifier_once_per_worsening_with_cooldown_quiet_and_allow_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    clock = [0.0]
    n = notify.Notifier(recording(sent), cooldown=3600, clock=lambda: clock[0])
    monkeypatch.setenv("CERTGUARD_LANG", "en")
    now = datetime.now(UTC)
    bad = verdict(HOST, Status.INTERCEPTED, now, interceptor="Zscaler")
    assert n.consider(Status.OK, bad, "office", quiet=False, rules=())
    assert not n.consider(Status.INTERCEPTED, bad, "office", quiet=False, rules=()), "not worse: no repeat"
    clock[0] = 100
    assert not n.consider(Status.OK, bad, "office", quiet=False, rules=()), "cooldown"
    clock[0] = 4000
    assert not n.consider(Status.OK, bad, "office", quiet=True, rules=()), "quiet mode"
    rule = notify.AllowRule("zscaler*", "office")
    assert not n.consider(Status.OK, bad, "office", quiet=False, rules=(rule,)), "allowed on this network"
    assert n.consider(Status.OK, bad, "cafe", quiet=False, rules=(rule,)), "control: another network alerts"
    assert not n.consider(Status.OK, verdict(HOST, Status.MISCONFIGURED, now), "x", quiet=False, rules=())
    assert sent == [f"certguard: {HOST} — Intercepted by Zscaler"] * 2
    # in the user's language (the daemon passes the one from its settings)
    bodies: list[str] = []
    ru = notify.Notifier(recording(bodies, with_body=True))
    assert ru.consider(Status.OK, bad, "office", quiet=False, rules=(), tr=Translator("ru"))
    assert bodies == [f"certguard: {HOST} — Перехвачено (Zscaler)|" + Translator("ru")("notify.intercepted")]


def test_no_session_bus_means_log_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert notify.default_sender()[0] == "log"


# ---- settings ---------------------------------------------------------------------------------------------------

def test_settings_validation_and_bad_file(tmp_path: Path) -> None:
    s = daemon.Settings().updated({"interval": 600, "quiet": True, "sites": ["vk.com", "[::1]:8443"],
                                   "allow": [{"interceptor": "Zscaler*", "network": "office"}]})
    assert s.interval == 600 and s.quiet and s.allow[0].network == "office"
    for bad in ({"interval": 5}, {"quiet": "yes"}, {"language": "de"}, {"sites": ["bad host:99999"]},
                {"allow": [{"network": "x"}]}, {"colour": "red"}):
        with pytest.raises(ConfigError):
            daemon.Settings().updated(bad)
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid settings JSON"):
        daemon.load_settings(path)
    assert path.read_text() == "{not json"


# ---- network change and the schedule (in-process) ------------------------------------------------------------------

def one_site(srv: Any) -> Callable[[daemon.Settings], list[Target]]:
    """base_targets for a daemon that watches HOST, reached at the loopback server ``srv``."""
    return lambda s: apply_overrides([parse_target(HOST)], [ConnectTo.parse(connect_to(HOST, srv))], [])


@contextlib.contextmanager
def watching(d: daemon.Daemon) -> Iterator[threading.Thread]:
    """``d.run()`` in a thread for the block; then stopped, joined (it must end) and its history closed."""
    t = threading.Thread(target=d.run, kwargs={"poll": 0.05}, daemon=True)
    t.start()
    try:
        yield t
    finally:
        d.stop.set()
        d.trigger.set()
        t.join(timeout=10)
        d.history.close()
    assert not t.is_alive()


def first_round(d: daemon.Daemon, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while d.latest.checked_at is None and time.monotonic() < deadline:
        time.sleep(0.05)

@pytest.mark.parametrize("ask_first", [True, False])
def test_the_desktop_app_probes_nothing_before_the_first_run_answer(
        tmp_path: Path, public_issuing: pki.CA, serve: Callable[..., Any], ctx_factory: Callable[..., TrustContext],
        ask_first: bool) -> None:
    leaf = public_issuing.leaf(HOST)
    srv = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)
    rounds: list[float] = []

    def targets(s: daemon.Settings) -> list[Target]:
        rounds.append(time.monotonic())
        return one_site(srv)(s)

    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=2), base_targets=targets,
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings(interval=3600),
                      ask_first=ask_first)
    with watching(d):
        time.sleep(1.0)
        if ask_first:
            assert d.awaiting_consent and rounds == [] and d.latest.checked_at is None, "nothing before the answer"
            d.update_settings({"consent": "low_profile", "low_profile": True})
            assert not d.awaiting_consent
        else:  # control: the CLI's daemon starts at once, as before
            assert not d.awaiting_consent and rounds
        first_round(d)
        assert d.latest.checked_at is not None and d.latest.verdicts[0].status is Status.OK


def test_a_textfile_that_cannot_be_written_never_hides_the_round(tmp_path: Path, public_issuing: pki.CA,
                                                                   serve: Callable[..., Any],
                                                                   ctx_factory: Callable[..., TrustContext]) -> None:
    leaf = public_issuing.leaf(HOST)
    srv = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)
    prom = tmp_path / "gone" / "certguard.prom"  # its folder does not exist
    d = daemon.Daemon(tmp_path / "data", ctx_factory(), options=probe.ProbeOptions(timeout=2),
                      base_targets=one_site(srv), notifier=notify.Notifier(lambda t, b: True),
                      settings=daemon.Settings(), prometheus=prom)
    try:
        rnd = d.check_now()
        assert rnd.checked_at is not None and rnd.verdicts[0].status is Status.OK, "the round is shown"
        assert d.problem is not None and str(prom) in d.problem, "and the textfile's failure is reported"
        # control: once the folder exists the textfile is written
        prom.parent.mkdir()
        d.check_now()
        assert 'status="ok"' in prom.read_text()
    finally:
        d.history.close()


def test_a_first_run_answer_can_be_changed_but_not_unset(tmp_path: Path,
                                                         ctx_factory: Callable[..., TrustContext]) -> None:
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings(), ask_first=True)
    def waiting() -> bool:  # (a function: mypy would narrow the property after the first assert)
        return d.awaiting_consent

    try:
        assert waiting()
        d.update_settings({"consent": None})  # not answered yet: null stays allowed
        d.update_settings({"consent": "continue"})
        with pytest.raises(SettingsError):
            d.update_settings({"consent": None})  # the daemon's wait is over: it must not begin again
        assert not waiting()
        d.update_settings({"consent": "low_profile"})  # control: another answer is fine
        assert d.settings.consent == "low_profile"
    finally:
        d.history.close()


def test_nothing_reaches_the_history_before_the_first_run_answer(tmp_path: Path, public_issuing: pki.CA,
                                                                  ctx_factory: Callable[..., TrustContext]) -> None:
    """A chain from the browser companion while the desktop app waits is refused (409), not recorded: recording it
    would make the next start no longer a first run, and skip the notice."""
    from certguard.app import api

    leaf = public_issuing.leaf(HOST)
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings(), ask_first=True)
    try:
        client = api.create_app(d, "t" * 43).test_client()
        auth = {"Host": "127.0.0.1:8123", "Authorization": "Bearer " + "t" * 43}
        body = {"host": HOST, "port": 443, "chain": [base64.b64encode(pki.der(leaf.cert)).decode()],
                "source": "chromium"}
        assert client.post("/api/observed", json=body, headers=auth).status_code == 409
        assert client.post("/api/observed", json={"host": HOST, "port": 443}, headers=auth).status_code == 409
        with pytest.raises(daemon.ConsentPending):
            d.receive(HOST, 443, [pki.der(leaf.cert)], "chromium")
        assert d.history.count() == 0
        d.update_settings({"consent": "continue"})
        # control: once answered, the same chain is judged and recorded
        assert client.post("/api/observed", json=body, headers=auth).status_code == 200
        assert d.history.count() == 1
    finally:
        d.history.close()


def test_a_network_reader_that_fails_does_not_end_the_watch(tmp_path: Path, public_issuing: pki.CA,
                                                             serve: Callable[..., Any],
                                                             ctx_factory: Callable[..., TrustContext]) -> None:
    leaf = public_issuing.leaf(HOST)
    srv = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)

    def broken() -> Network:
        raise PermissionError("/sys/class/net: permission denied")

    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=2), base_targets=one_site(srv),
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings(interval=3600),
                      network=broken)
    with watching(d) as t:
        first_round(d)
        assert d.latest.network == "unknown" and d.latest.verdicts[0].status is Status.OK
        time.sleep(0.3)  # several polls of the failing reader
        assert t.is_alive(), "the watch goes on"


def test_network_change_triggers_a_round(tmp_path: Path, public_issuing: pki.CA, serve: Callable[..., Any],
                                         ctx_factory: Callable[..., TrustContext]) -> None:
    leaf = public_issuing.leaf(HOST)
    srv = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)
    # Same interface and gateway, another Wi-Fi: a move all the same (many home networks use one gateway).
    net = [Network((Link("wlan0", "198.51.100.1", "wifi", "CafeNet"),))]
    sent: list[str] = []
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=2), base_targets=one_site(srv),
                      notifier=notify.Notifier(recording(sent)),
                      settings=daemon.Settings(interval=3600), network=lambda: net[0])
    with watching(d):
        first_round(d)
        assert d.latest.network == 'wlan0 via 198.51.100.1 ssid "CafeNet"' and d.latest.verdicts[0].status is Status.OK
        net[0] = Network((Link("wlan0", "198.51.100.1", "wifi", "Office"),))
        deadline = time.monotonic() + 10
        while d.latest.network != net[0].key and time.monotonic() < deadline:
            time.sleep(0.05)
        assert d.latest.network == 'wlan0 via 198.51.100.1 ssid "Office"', "the move to another network was not noticed"
        assert d.history.count() == 2
        # What each key stood for is remembered, to name it for people later.
        known = dict(d.history.networks())
        assert set(known) == {net[0].key, 'wlan0 via 198.51.100.1 ssid "CafeNet"'}
        assert Network.from_dict(known[net[0].key]) == net[0] and d.current_network() == net[0]
    assert sent == []


def test_offline_backs_off_but_not_beyond_interval(tmp_path: Path, ctx_factory: Callable[..., TrustContext]) -> None:
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings(interval=600))
    offline = daemon.Round(verdicts=[verdict("a.test", Status.UNREACHABLE, datetime.now(UTC))])
    assert [d.next_delay(offline, n) for n in (0, 1, 2, 3, 9)] == [60, 120, 240, 480, 600]
    online = daemon.Round(verdicts=[verdict("a.test", Status.OK, datetime.now(UTC))])
    assert 540 <= d.next_delay(online, 0) <= 660
    d.history.close()


def test_prometheus_textfile(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    rnd = daemon.Round(now, "n", [verdict(HOST, Status.INTERCEPTED, now, interceptor='Qaz"net'),
                                  verdict("vk.com", Status.OK, now)])
    out = tmp_path / "certguard.prom"
    daemon.write_prometheus(out, rnd, daemon.Settings())
    text = out.read_text()
    assert f'certguard_site_status{{host="{HOST}",port="443",status="intercepted",interceptor="Qaz\\"net",' \
           'allowed="false"} 1' in text
    assert "certguard_intercepted_sites 1\n" in text
    assert all(line.startswith("#") or line.split()[-1].replace(".", "").isdigit()
               for line in text.splitlines())


# ---- service files ----------------------------------------------------------------------------------------------

def test_systemd_unit_is_valid(tmp_path: Path) -> None:
    plan = service.plan("Linux", tmp_path, tmp_path / "data")
    assert plan.path == tmp_path / ".config/systemd/user/certguard.service"
    unit = tmp_path / "certguard.service"
    unit.write_bytes(plan.content)
    ok, output = service.verify_unit(unit)
    assert ok, output
    assert f"--data-dir {tmp_path / 'data'}" in plan.content.decode()
    broken = tmp_path / "broken.service"
    broken.write_text(plan.content.decode().replace("ExecStart=" + sys.executable, "ExecStart=/nonexistent/python"))
    assert not service.verify_unit(broken)[0], "control: systemd-analyze must reject a missing executable"


def test_launchd_and_windows_plans(tmp_path: Path) -> None:
    import plistlib

    mac = service.plan("Darwin", tmp_path, None)
    doc = plistlib.loads(mac.content)
    assert doc["Label"] == "org.certguard.daemon" and doc["ProgramArguments"][-2:] == ["daemon", "run"]
    win = service.plan("Windows", tmp_path, None)
    assert win.path is None and win.enable[0][:3] == ["schtasks", "/Create", "/F"]
    with pytest.raises(ConfigError):
        service.plan("Plan9", tmp_path, None)


# ---- the real process -------------------------------------------------------------------------------------------

class Running:
    def __init__(self, proc: subprocess.Popen[bytes], data: Path) -> None:
        self.proc = proc
        self.data = data
        info = json.loads((data / "api.json").read_text())
        self.port = int(info["url"].rsplit(":", 1)[1])
        self.token = (data / "api.token").read_text()
        self.log = b""

    def request(self, method: str, path: str, body: bytes | None = None, token: str | None = "default",
                host: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {self.token if token == 'default' else token}"
        if host is not None:
            h["Host"] = host
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, dict(resp.getheaders()), data

    def json(self, path: str) -> Any:
        status, _, data = self.request("GET", path)
        assert status == 200, data
        return json.loads(data)

    def wait_for(self, pred: Callable[[Any], bool], timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            doc = self.json("/api/status")
            if pred(doc):
                return doc
            time.sleep(0.1)
        raise AssertionError(f"timed out; last status: {doc}")


def start_daemon(data: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    environ = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"} | (env or {})
    return subprocess.Popen([sys.executable, "-m", "certguard", "daemon", "run", "--data-dir", str(data), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ)


def watch_args(tmp_path: Path, host: str, target: Any, ca_bundle: Path) -> list[str]:
    """Daemon options that watch one host, reached at ``target`` (a loopback server or a Switch)."""
    sites = tmp_path / "sites.txt"
    sites.write_text(host + "\n")
    return ["--sites", str(sites), "--ca-bundle", str(ca_bundle), "--connect-to", connect_to(host, target),
            "--no-device-store", "--timeout", "3"]


@contextlib.contextmanager
def running(data: Path, *args: str) -> Iterator[Running]:
    proc = start_daemon(data, *args)
    r: Running | None = None
    try:
        deadline = time.monotonic() + 20
        # this daemon's api.json (a killed predecessor leaves a stale one behind)
        while (daemon.read_api_info(data) or {}).get("pid") != proc.pid:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"daemon did not start: {proc.communicate(timeout=5)}")
            time.sleep(0.05)
        r = Running(proc, data)
        yield r
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=5)
        if r is not None:
            r.log = out + err  # for tests that check what the daemon wrote


@pytest.fixture
def qaznet() -> pki.CA:
    return pki.root("Qaznet Trust Network", c="KZ")


def test_daemon_detects_interception_records_episode_and_api_is_locked(
        tmp_path: Path, public: pki.CA, public_issuing: pki.CA, qaznet: pki.CA, serve: Callable[..., Any],
        ca_bundle: Path) -> None:
    genuine = public_issuing.leaf(HOST)
    forged = qaznet.leaf(HOST)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    evil = serve("tls", [forged.cert], forged.key)
    with servers.Switch(good.port) as path:
        data = tmp_path / "data"
        prom = tmp_path / "certguard.prom"
        with running(data, "--interval", "3600", *watch_args(tmp_path, HOST, path, ca_bundle),
                     "--prometheus-textfile", str(prom)) as d:
            assert oct((data / "api.token").stat().st_mode & 0o777) == "0o600"
            info = json.loads((data / "api.json").read_text())
            assert info["pid"] == d.proc.pid and info["url"] == f"http://127.0.0.1:{d.port}"
            doc = d.wait_for(lambda s: s["checked_at"] is not None)
            assert doc["overall"] == "ok" and doc["results"][0]["status"] == "ok"
            # the UI names the root the chain ends at (found among the anchors, since servers rarely send it)
            assert doc["results"][0]["public_anchor_subject"] == certs.name_str(public.cert.subject)

            # API security
            assert d.request("GET", "/api/status", token=None)[0] == 401
            assert d.request("GET", "/api/status", token="wrong")[0] == 401
            assert d.request("GET", "/api/status", host="evil.example:80")[0] == 400
            assert d.request("GET", "/api/status", host=f"localhost:{d.port}")[0] == 200
            status, headers, _ = d.request("GET", "/api/status", headers={"Origin": "http://127.0.0.1:9"})
            assert status == 200 and not any(h.lower().startswith("access-control") for h in headers)
            assert d.request("OPTIONS", "/api/check", token=None, headers={"Origin": "http://127.0.0.1:9"})[0] == 401
            assert d.request("PUT", "/api/settings", body=b"x" * 100_000,
                             headers={"Content-Type": "application/json"})[0] == 413
            status, _, body = d.request("PUT", "/api/settings", body=b'{"interval": 1}',
                                        headers={"Content-Type": "application/json"})
            assert status == 400 and b"interval must be" in body

            # settings round-trip and persist
            status, _, body = d.request("PUT", "/api/settings", body=b'{"quiet": true, "allow": [{"interceptor": '
                                        b'"Zscaler*", "network": "office"}]}',
                                        headers={"Content-Type": "application/json"})
            assert status == 200 and json.loads(body)["quiet"] is True
            assert json.loads((data / "settings.json").read_text())["allow"][0]["interceptor"] == "Zscaler*"
            audit_doc = d.json("/api/audit")
            assert "roots" in audit_doc and "summary" in audit_doc

            # live updates: the event stream announces the next round
            events = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
            events.request("GET", "/api/events", headers={"Authorization": f"Bearer {d.token}"})
            stream = events.getresponse()
            assert stream.status == 200 and stream.getheader("Content-Type", "").startswith("text/event-stream")
            assert stream.readline() == b"event: hello\n"

            # interception appears on the path
            path.upstream = evil.port
            assert d.request("POST", "/api/check")[0] == 202
            seen: list[bytes] = []
            while b"event: status" not in seen and len(seen) < 50:
                seen.append(stream.readline().strip())
            assert b"event: check_started" in seen and b"event: status" in seen
            assert b"intercepted" in stream.readline()
            events.close()
            doc = d.wait_for(lambda s: s["results"] and s["results"][0]["status"] == "intercepted")
            assert doc["overall"] == "intercepted" and "Qaznet" in doc["results"][0]["interceptor"]["name"]
            [ep] = d.json("/api/episodes")["episodes"]
            assert ep["hosts"] == [HOST] and ep["ended_at"] is None
            assert 'status="intercepted"' in prom.read_text()
            d.request("POST", "/api/check")
            time.sleep(0.5)
            # and goes away
            path.upstream = good.port
            d.request("POST", "/api/check")
            d.wait_for(lambda s: s["results"][0]["status"] == "ok")
            [ep] = d.json("/api/episodes")["episodes"]
            assert ep["ended_at"] is not None
            hist = d.json(f"/api/history?host={HOST}")["history"]
            assert [h["status"] for h in hist][:2] == ["ok", "intercepted"]
    assert d.proc.returncode == 0, "SIGTERM ends the daemon cleanly"
    assert not (data / "api.json").exists()


def test_second_daemon_refuses_and_bad_settings_stop_start(tmp_path: Path) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_text("127.0.0.1:9\n")
    data = tmp_path / "data"
    with running(data, "--interval", "3600", "--sites", str(sites), "--no-device-store", "--timeout", "1") as d:
        second = start_daemon(data, "--sites", str(sites))
        _, err = second.communicate(timeout=20)
        assert second.returncode == 2 and f"already running for {data} (pid {d.proc.pid})" in err.decode()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "settings.json").write_text('{"interval": "often"}')
    proc = start_daemon(bad, "--sites", str(sites))
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2 and "interval must be" in err.decode()
    assert (bad / "settings.json").read_text() == '{"interval": "often"}'


def test_kill_9_never_loses_committed_verdicts(tmp_path: Path, public_issuing: pki.CA,
                                               serve: Callable[..., Any], ca_bundle: Path) -> None:
    hosts = [f"s{i}.test" for i in range(6)]
    leafs = {h: public_issuing.leaf(h) for h in hosts}
    srvs = {h: serve("tls", [leafs[h].cert, public_issuing.cert], leafs[h].key) for h in hosts}
    sites = tmp_path / "sites.txt"
    sites.write_text("\n".join(hosts) + "\n")
    args = ["--interval", "0.05", "--sites", str(sites), "--ca-bundle", str(ca_bundle), "--no-device-store",
            "--timeout", "2"] + [a for h in hosts for a in ("--connect-to", connect_to(h, srvs[h]))]
    data = tmp_path / "data"
    db = data / "history.sqlite3"
    rng = random.Random(7)
    committed = 0
    for _ in range(5):
        proc = start_daemon(data, *args)
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline:
                if db.exists():
                    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as c, \
                            contextlib.suppress(sqlite3.OperationalError):
                        if c.execute("SELECT COALESCE(SUM(seen),0) FROM verdicts").fetchone()[0] > committed:
                            break
                time.sleep(0.05)
            time.sleep(rng.uniform(0, 0.3))  # die at a random point, likely mid-write
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as c:
                seen_before_kill = c.execute("SELECT COALESCE(SUM(seen),0) FROM verdicts").fetchone()[0]
        finally:
            proc.kill()  # SIGKILL, by the PID we started
            proc.communicate(timeout=10)
        with contextlib.closing(sqlite3.connect(db)) as c:
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            after = c.execute("SELECT COALESCE(SUM(seen),0) FROM verdicts").fetchone()[0]
        assert after >= seen_before_kill > committed
        committed = after


@pytest.mark.parametrize("with_stub", [True, False])
def test_desktop_notification_reaches_a_dbus_notification_service(with_stub: bool) -> None:
    """A real session bus (dbus-run-session) with a stub notification service: the notification arrives. Control:
    the same bus without a service is detected, and certguard falls back to the log instead of failing silently."""
    script = Path(__file__).with_name("dbus_stub.py")
    proc = subprocess.run(["dbus-run-session", "--", sys.executable, str(script),
                           *(["--with-stub"] if with_stub else [])], capture_output=True, text=True, timeout=60,
                          check=False)
    line = [x for x in proc.stdout.splitlines() if x.startswith("{")][-1]
    result = json.loads(line)
    if with_stub:
        assert result["sender"] in ("dbus", "notify-send") and result["delivered"] is True
        assert [r[3] for r in result["received"]] == ["certguard: vk.com intercepted"]
    else:
        assert result == {"sender": "log", "delivered": False, "received": []}


def test_restart_remembers_the_last_status(tmp_path: Path, ctx_factory: Callable[..., TrustContext]) -> None:
    now = datetime.now(UTC)
    h = store.History(tmp_path / "history.sqlite3")
    h.record_round([verdict(HOST, Status.INTERCEPTED, now, interceptor="Qaznet")], "n", now)
    h.close()
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings())
    assert [(v.host, v.status) for v in d.latest.verdicts] == [(HOST, Status.INTERCEPTED)]
    d.history.close()
    empty = daemon.Daemon(tmp_path / "fresh", ctx_factory(), options=probe.ProbeOptions(timeout=1),
                          base_targets=lambda s: [], notifier=notify.Notifier(lambda t, b: True),
                          settings=daemon.Settings())
    assert empty.latest.verdicts == []  # control
    empty.history.close()


def test_concurrent_settings_writes_never_fail_or_leave_a_partial_file(tmp_path: Path) -> None:
    # Two API requests may save at once: each write uses its own temporary file, then an atomic replace.
    path = tmp_path / "settings.json"
    errors: list[BaseException] = []

    def save(i: int) -> None:
        try:
            for _ in range(50):
                daemon.save_settings(path, daemon.Settings(interval=60.0 + i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert 60 <= daemon.load_settings(path).interval < 68
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"], "no temporary file left behind"
