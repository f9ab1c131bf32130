"""The scenario matrix: `certguard check` end to end against real TLS servers on loopback.

Each scenario serves a chain over a real handshake; certguard is pointed at it with --connect-to (the SNI and the
names checked stay the site's). The test "public" root is the only Mozilla anchor (--ca-bundle), and the device
store is not read (--no-device-store) so results do not depend on this machine.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pki
import pytest
from conftest import connect_to, spki_of, write_intel, write_pins

HOST = "www.example-bank.test"


def check(run_cli: Any, ca_bundle: Path, *args: str) -> Any:
    return run_cli("check", "--json", "--no-device-store", "--ca-bundle", str(ca_bundle), "--timeout", "2", *args)


def test_clean_pinned_chain_is_ok(run_cli: Any, serve: Any, ca_bundle: Path, public: pki.CA,
                                  public_issuing: pki.CA, tmp_path: Path) -> None:
    # Given a site serving a chain to the public root, pinned to that root
    leaf = public_issuing.leaf(HOST)
    srv = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)
    pins_file = write_pins(tmp_path / "pins.toml", [HOST], [spki_of(public)])
    # When certguard checks it
    res = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv), "--pins", str(pins_file))
    # Then it is ok, pins matched, and the server saw the real SNI
    r = res.result(HOST)
    assert (res.exit_code, r["status"], r["severity"]) == (0, "ok", "info")
    assert r["pins"]["matched"] is True
    assert r["interceptor"] is None
    assert srv.sni_seen == [HOST]
    assert [c["sha256"] for c in r["chain"]] == [_sha(leaf.cert), _sha(public_issuing.cert)]


def _sha(cert: Any) -> str:
    import hashlib

    return hashlib.sha256(pki.der(cert)).hexdigest()


def test_unknown_root_is_interception(run_cli: Any, serve: Any, ca_bundle: Path) -> None:
    rogue = pki.root("Totally Normal Root", "Nobody", "ZZ")
    leaf = rogue.leaf(HOST)
    srv = serve("tls", [leaf.cert, rogue.cert], leaf.key)
    res = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv))
    r = res.result(HOST)
    assert (res.exit_code, r["status"], r["severity"]) == (1, "intercepted", "critical")
    assert r["interceptor"]["kind"] == "unknown"
    assert r["interceptor"]["match"] == "none"
    ids = [f["id"] for f in r["findings"]]
    assert ids[0] == "UNTRUSTED_ROOT"
    assert "Totally Normal Root" in r["findings"][0]["message"]


def test_qaznet_imitation_is_named_state_interception(run_cli: Any, serve: Any, ca_bundle: Path) -> None:
    qaznet = pki.root("Qaznet Trust Network", None, "KZ")
    leaf = qaznet.leaf(HOST)
    srv = serve("tls", [leaf.cert], leaf.key)  # like the 2019 middlebox: the forged leaf only
    res = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv))
    r = res.result(HOST)
    assert (r["status"], r["severity"]) == ("intercepted", "critical")
    assert r["interceptor"]["kind"] == "state"
    assert r["interceptor"]["country"] == "KZ"
    assert r["interceptor"]["match"] == "name"  # we do not have the real key: a name match, and it says so
    name_finding = next(f for f in r["findings"] if f["id"] == "INTERCEPTOR_NAME_MATCH")
    assert "name match only" in name_finding["message"]


def test_strong_intel_match_by_spki(run_cli: Any, serve: Any, ca_bundle: Path, public: pki.CA,
                                    public_issuing: pki.CA, tmp_path: Path) -> None:
    # Given a "state" root whose key the intel list knows (an extra intel file, as an auditor would add)
    state = pki.root("Perfectly Innocuous CA", "Ministry", "ZZ")
    intel_file = write_intel(tmp_path / "intel.toml", "zz-state", "state", spki_of(state), country="ZZ")
    leaf = state.leaf(HOST)
    srv = serve("tls", [leaf.cert, state.cert], leaf.key)
    res = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv), "--intel", str(intel_file))
    r = res.result(HOST)
    assert (r["status"], r["interceptor"]["kind"], r["interceptor"]["match"]) == ("intercepted", "state", "spki")
    assert r["findings"][0]["id"] == "KNOWN_STATE_INTERCEPTOR"
    # Negative control: without the intel entry the same chain is only an unknown interceptor
    res2 = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv))
    assert res2.result(HOST)["interceptor"]["match"] == "none"


def test_pinned_site_on_other_public_root_is_suspicious(run_cli: Any, serve: Any, tmp_path: Path,
                                                        public: pki.CA, public_issuing: pki.CA) -> None:
    # Given two public roots, and the site pinned to the first
    other = pki.root("Other Public Root", "Other CA", "US")
    bundle = pki.write_bundle(tmp_path / "anchors.pem", [public.cert, other.cert])
    pins_file = write_pins(tmp_path / "pins.toml", [HOST], [spki_of(public)])
    leaf = other.leaf(HOST)
    # ...and a server that also appends the genuine pinned root, hoping a naive pin check counts it
    srv = serve("tls", [leaf.cert, other.cert, public.cert], leaf.key)
    res = check(run_cli, bundle, HOST, "--connect-to", connect_to(HOST, srv), "--pins", str(pins_file))
    r = res.result(HOST)
    assert (res.exit_code, r["status"], r["severity"]) == (1, "suspicious", "warning")
    assert r["findings"][0]["id"] == "PIN_MISMATCH"
    assert any(f["id"] == "EXTRA_CERTIFICATES" for f in r["findings"])
    # Negative control: served from the pinned root, the same pinset matches
    good = public.leaf(HOST)
    srv2 = serve("tls", [good.cert], good.key)
    res2 = check(run_cli, bundle, HOST, "--connect-to", connect_to(HOST, srv2), "--pins", str(pins_file))
    assert res2.result(HOST)["status"] == "ok"


def test_bad_key_in_pinset(run_cli: Any, serve: Any, tmp_path: Path, public: pki.CA,
                           public_issuing: pki.CA, ca_bundle: Path) -> None:
    pins_file = write_pins(tmp_path / "pins.toml", [HOST], [spki_of(public)], bad=[spki_of(public_issuing)])
    leaf = public_issuing.leaf(HOST)
    srv = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)
    r = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv), "--pins", str(pins_file)).result(HOST)
    assert (r["status"], r["findings"][0]["id"]) == ("suspicious", "PIN_BAD_KEY")


def test_leaf_for_another_name_is_captive_portal(run_cli: Any, serve: Any, ca_bundle: Path) -> None:
    portal = pki.root("Hotel WiFi Portal CA")
    leaf = portal.leaf("login.hotel-wifi.test")
    srv = serve("tls", [leaf.cert, portal.cert], leaf.key)
    res = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv))
    r = res.result(HOST)
    assert (res.exit_code, r["status"], r["severity"]) == (0, "captive_portal", "warning")
    assert r["findings"][0]["id"] == "NAME_MISMATCH"
    assert "login.hotel-wifi.test" in r["findings"][0]["message"]


def test_expired_public_chain_is_misconfigured(run_cli: Any, serve: Any, ca_bundle: Path,
                                               public_issuing: pki.CA) -> None:
    leaf = public_issuing.leaf(HOST, not_before=pki.NOW - timedelta(days=100),
                               not_after=pki.NOW - timedelta(days=10))
    srv = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)
    res = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv))
    r = res.result(HOST)
    assert (res.exit_code, r["status"], r["findings"][0]["id"]) == (0, "misconfigured", "CERT_EXPIRED")
    # Negative control: an expired leaf from an *untrusted* root is not "misconfigured"
    rogue = pki.root("Expired Rogue")
    bad = rogue.leaf(HOST, not_before=pki.NOW - timedelta(days=100), not_after=pki.NOW - timedelta(days=10))
    srv2 = serve("tls", [bad.cert, rogue.cert], bad.key)
    r2 = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv2)).result(HOST)
    assert r2["status"] == "intercepted"


def test_antivirus_root_is_a_warning_never_state(run_cli: Any, serve: Any, ca_bundle: Path) -> None:
    av = pki.root("Kaspersky Anti-Virus Personal Root Certificate", "AO Kaspersky Lab")
    leaf = av.leaf(HOST)
    srv = serve("tls", [leaf.cert, av.cert], leaf.key)
    res = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv))
    r = res.result(HOST)
    assert (r["status"], r["severity"], r["interceptor"]["kind"]) == ("intercepted", "warning", "antivirus")
    assert r["interceptor"]["kind"] != "state"
    assert "HTTPS" in r["advice"] or "scanning" in r["advice"]


@pytest.mark.parametrize(("mode", "failure"), [
    ("reset", "reset"),
    ("hang", "handshake_timeout"),
    ("http", "not_tls"),
    ("garbage", "not_tls"),
    ("alert", "tls_alert"),
])
def test_broken_server_alone_is_unreachable_with_reason(run_cli: Any, serve: Any, ca_bundle: Path,
                                                        mode: str, failure: str) -> None:
    srv = _alert_server(serve) if mode == "alert" else serve(mode)
    t0 = time.monotonic()
    res = run_cli("check", "--json", "--no-device-store", "--ca-bundle", str(ca_bundle), "--timeout", "1",
                  HOST, "--connect-to", connect_to(HOST, srv))
    elapsed = time.monotonic() - t0
    r = res.result(HOST)
    assert (r["status"], r["failure"]) == ("unreachable", failure)
    assert res.exit_code == 3
    assert elapsed < 1 + 1 + 3  # connect budget + handshake budget + slack: a silent server cannot hold us


def _alert_server(serve: Any) -> Any:
    ca = pki.root("Alert CA")
    leaf = ca.leaf(HOST)
    return serve("alert", [leaf.cert], leaf.key)


def test_one_host_reset_while_others_work_is_blocked(run_cli: Any, serve: Any, ca_bundle: Path,
                                                     public_issuing: pki.CA) -> None:
    good = public_issuing.leaf("news.example.test")
    ok_srv = serve("tls", [good.cert, public_issuing.cert], good.key)
    reset_srv = serve("reset")
    res = check(run_cli, ca_bundle, "news.example.test", "rutracker.example.test",
                "--connect-to", connect_to("news.example.test", ok_srv),
                "--connect-to", connect_to("rutracker.example.test", reset_srv))
    blocked = res.result("rutracker.example.test")
    assert (blocked["status"], blocked["failure"]) == ("blocked", "reset")
    assert blocked["findings"][0]["id"] == "HANDSHAKE_BLOCKED"
    assert res.result("news.example.test")["status"] == "ok"
    assert res.exit_code == 0
    assert res.doc["summary"]["blocked"] == 1


def test_nothing_reachable_exits_3_with_a_clear_message(run_cli: Any, serve: Any, ca_bundle: Path) -> None:
    a, b = serve("reset"), serve("reset")
    res = run_cli("check", "--no-device-store", "--ca-bundle", str(ca_bundle), "--timeout", "1",
                  "a.example.test", "b.example.test",
                  "--connect-to", connect_to("a.example.test", a), "--connect-to", connect_to("b.example.test", b))
    assert res.exit_code == 3
    assert "offline" in res.stderr


def test_json_contract(run_cli: Any, serve: Any, ca_bundle: Path, public_issuing: pki.CA) -> None:
    leaf = public_issuing.leaf(HOST)
    srv = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)
    doc = check(run_cli, ca_bundle, HOST, "--connect-to", connect_to(HOST, srv)).doc
    assert set(doc) >= {"certguard_version", "generated_at", "data", "results", "summary"}
    assert set(doc["data"]) >= {"pins_sha256", "intel_sha256", "ct_log_list"}
    assert re.fullmatch(r"[0-9a-f]{64}", doc["data"]["pins_sha256"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["generated_at"])
    r = doc["results"][0]
    assert set(r) >= {"host", "port", "address", "status", "severity", "interceptor", "chain", "findings", "tls"}
    assert r["address"] == "127.0.0.1" and r["port"] == 443
    assert set(r["tls"]) == {"version", "cipher", "alpn"}
    for c in r["chain"]:
        assert set(c) >= {"subject", "issuer", "sha256", "spki_sha256", "not_before", "not_after", "pem"}
        assert re.fullmatch(r"[0-9a-f]{64}", c["sha256"]) and re.fullmatch(r"[0-9a-f]{64}", c["spki_sha256"])
        assert c["not_after"].endswith("Z")
    assert set(doc["summary"]) >= {"ok", "intercepted", "suspicious", "blocked", "unreachable"}


def test_human_output_names_the_interceptor(run_cli: Any, serve: Any, ca_bundle: Path) -> None:
    qaznet = pki.root("Qaznet Trust Network", None, "KZ")
    leaf = qaznet.leaf(HOST)
    srv = serve("tls", [leaf.cert], leaf.key)
    res = run_cli("check", "--no-device-store", "--ca-bundle", str(ca_bundle), "--lang", "en", HOST,
                  "--connect-to", connect_to(HOST, srv))
    assert res.exit_code == 1
    assert "Intercepted" in res.output and "Qaznet" in res.output
    assert "What to do" in res.output
