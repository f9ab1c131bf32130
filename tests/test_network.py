"""Which network we are on, named for people (issue 14): real network namespaces with real default routes for the
wired, VPN, IPv6-only and offline cases; a Wi-Fi interface cannot be created here (no mac80211_hwsim), so Wi-Fi is
a /sys tree with a ``wireless`` folder plus the name the tool reported. No traffic is sent: only routing tables are
read."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from certguard.device.network import Link, Network, WifiNames, clean_ssid, current_network, parse_iw_link
from certguard.i18n import Translator
from certguard.judge.analyze import TrustContext
from certguard.judge.models import InterceptorKind, InterceptorMatch, MatchStrength, Severity, Status, Verdict, iso
from certguard.watch.history import History
from certguard.watch.networks import exact_pattern, known_networks, network_label
from certguard.watch.notify import AllowRule, allowed

needs_netns = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                                 reason="network namespaces need root and iproute2")


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def netns() -> Iterator[str]:
    """A namespace of this test's own, deleted afterwards (with its interfaces)."""
    name = f"cgnet-{uuid.uuid4().hex[:8]}"
    ip("netns", "add", name)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True, timeout=10)


def network_in(ns: str) -> Network:
    """current_network() as a process inside the namespace sees it (ip netns exec also mounts that namespace's
    /sys, so the kind of link is read from the right interfaces)."""
    code = ("import json; from certguard.device.network import current_network; "
            "print(json.dumps(current_network().to_dict()))")
    out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=30).stdout
    net = Network.from_dict(json.loads(out))
    assert net is not None, out
    return net


def veth_in(ns: str, name: str) -> None:
    """A veth pair with one end moved into ``ns`` as ``name`` (the other end is deleted with the namespace's)."""
    peer = f"cgp{uuid.uuid4().hex[:6]}"
    ip("link", "add", name, "type", "veth", "peer", "name", peer)
    ip("link", "set", name, "netns", ns)
    ip("link", "set", peer, "netns", ns)
    ip("-n", ns, "link", "set", name, "up")
    ip("-n", ns, "link", "set", peer, "up")


@needs_netns
def test_a_wired_network_is_named_by_its_gateway(netns: str) -> None:
    veth_in(netns, "cgeth0")
    ip("-n", netns, "addr", "add", "203.0.113.2/24", "dev", "cgeth0")
    ip("-n", netns, "route", "add", "default", "via", "203.0.113.1")
    net = network_in(netns)
    # The key keeps the form earlier versions stored, so existing allow rules and history still match.
    assert net.key == "cgeth0 via 203.0.113.1"
    assert net.links == (Link("cgeth0", "203.0.113.1", "wired"),)
    assert network_label(Translator("en"), net.key, net) == "wired network (gateway 203.0.113.1)"
    assert network_label(Translator("fr"), net.key, net) == "réseau filaire (passerelle 203.0.113.1)"
    assert network_label(Translator("ru"), net.key, net.to_dict()) == "проводная сеть (шлюз 203.0.113.1)"


@needs_netns
def test_no_default_route_is_offline(netns: str) -> None:
    # Negative control for the above: an interface and an address, but no way out.
    veth_in(netns, "cgeth0")
    ip("-n", netns, "addr", "add", "203.0.113.2/24", "dev", "cgeth0")
    net = network_in(netns)
    assert net.key == "offline" and net.links == ()
    assert network_label(Translator("en"), net.key) == "no network (offline)"


@needs_netns
def test_a_tunnel_default_route_is_a_vpn(netns: str) -> None:
    ip("-n", netns, "tuntap", "add", "dev", "cgtun0", "mode", "tun")
    ip("-n", netns, "link", "set", "cgtun0", "up")
    ip("-n", netns, "route", "add", "default", "dev", "cgtun0")
    net = network_in(netns)
    assert net.links == (Link("cgtun0", None, "vpn"),)
    assert network_label(Translator("en"), net.key, net) == "VPN (cgtun0)"


@needs_netns
def test_an_ipv6_only_network_is_named_too(netns: str) -> None:
    veth_in(netns, "cgeth0")
    ip("-n", netns, "-6", "addr", "add", "fd00:cafe::2/64", "dev", "cgeth0", "nodad")
    ip("-n", netns, "-6", "route", "add", "default", "via", "fd00:cafe::1", "dev", "cgeth0")
    net = network_in(netns)
    assert net.key == "cgeth0 via fd00:cafe::1"
    assert network_label(Translator("en"), net.key, net) == "wired network (gateway fd00:cafe::1)"


def fake_root(tmp_path: Path, interface: str, *, wireless: bool) -> Path:
    """A /proc and /sys of a laptop on Wi-Fi (gateway 198.51.100.1), as the kernel writes them."""
    (tmp_path / "proc/net").mkdir(parents=True)
    (tmp_path / "proc/net/route").write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        f"{interface}\t00000000\t016433C6\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
        f"{interface}\t006433C6\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n", encoding="ascii")
    sys_if = tmp_path / "sys/class/net" / interface
    sys_if.mkdir(parents=True)
    (sys_if / "type").write_text("1\n", encoding="ascii")
    if wireless:
        (sys_if / "wireless").mkdir()
    return tmp_path


def test_wifi_is_named_by_its_network_name(tmp_path: Path) -> None:
    net = current_network(fake_root(tmp_path, "wlp2s0", wireless=True), name_of=lambda iface: "CafeNet")
    assert net.links == (Link("wlp2s0", "198.51.100.1", "wifi", "CafeNet"),)
    # The name is part of the key: an allow rule for the office Wi-Fi must not cover a café with the same gateway.
    assert net.key == 'wlp2s0 via 198.51.100.1 ssid "CafeNet"'
    # the gateway too: the name is the access point's own choice, and another access point can take it
    assert network_label(Translator("en"), net.key, net) == "Wi-Fi “CafeNet” (gateway 198.51.100.1)"
    assert network_label(Translator("fr"), net.key, net) == "Wi-Fi « CafeNet » (passerelle 198.51.100.1)"
    unnamed = current_network(fake_root(tmp_path / "b", "wlp2s0", wireless=True), name_of=lambda iface: None)
    assert network_label(Translator("en"), unnamed.key, unnamed) == "Wi-Fi (gateway 198.51.100.1)"
    # A Wi-Fi without a readable name never takes the gateway-only key that older versions stored for every
    # network: an old rule for the home Wi-Fi must not cover any nameless access point behind 198.51.100.1.
    assert unnamed.key == "wlp2s0 via 198.51.100.1 ssid ?"
    assert not fnmatch.fnmatchcase(unnamed.key, "wlp2s0 via 198.51.100.1")


def test_an_ethernet_interface_is_not_taken_for_wifi(tmp_path: Path) -> None:
    # Negative control: the same routes on an interface without /sys/.../wireless; the name tool is not asked.
    asked: list[str] = []

    def name_of(interface: str) -> str:
        asked.append(interface)
        return "X"

    net = current_network(fake_root(tmp_path, "enp3s0", wireless=False), name_of=name_of)
    assert net.links == (Link("enp3s0", "198.51.100.1", "wired"),) and asked == []


def test_unreadable_routes_are_unknown_not_offline(tmp_path: Path) -> None:
    net = current_network(tmp_path)  # no /proc at all (another platform, a locked-down sandbox)
    assert net.key == "unknown"
    assert network_label(Translator("kk"), net.key, net) == "белгісіз желі"


def test_the_ssid_a_hostile_access_point_picks_is_shown_as_plain_text() -> None:
    out = "Connected to 00:11:22:33:44:55 (on wlan0)\n\tSSID: Caf\\xc3\\xa9\\x1b[31m\\x07 Net\n\tfreq: 2412\n"
    assert parse_iw_link(out) == "Café[31m Net"  # escapes decoded, control characters dropped
    assert parse_iw_link("\tSSID: " + "A" * 200) == "A" * 32  # 32 bytes at most in 802.11
    assert parse_iw_link("Not connected.\n") is None
    assert parse_iw_link("\tSSID: Caf\\xe9") == "Café", "a name that is not UTF-8 is read as Latin-1"
    assert parse_iw_link("\tSSID: \\x20") == "", "a blank name is no name (but an answer)"
    assert parse_iw_link("\tSSID: a\\q") == "a\\q", "only \\xNN is an escape"
    # bidirectional overrides, zero-width and C1 controls would reverse, hide or start terminal sequences
    assert clean_ssid("\u202eemoH\u200b") == "emoH" and clean_ssid("x\x9b1m\u2028y") == "x1my"


def test_a_tool_that_fails_once_keeps_the_name_but_a_nameless_answer_is_believed() -> None:
    answers = ["Home", None, "Home", "", None, "Office", None]
    names = WifiNames(lambda interface: answers.pop(0))
    # Home, a failed look (still Home: no false "network changed"), Home, a hidden/blank SSID (nameless at once,
    # never "Home": a rule for Home must not cover it), a failed look (still nameless), Office, a failed look
    assert [names("wlan0") for _ in range(7)] == ["Home", "Home", "Home", None, None, "Office", "Office"]


def test_a_name_cannot_pose_as_another_link() -> None:
    # One Wi-Fi named to look like two links ("Home" plus a mobile modem) keeps a key of its own.
    one = Network((Link("wlp2s0", "198.51.100.254", "wifi", "Home, wwan0 via 203.0.113.64"),))
    two = Network((Link("wlp2s0", "198.51.100.254", "wifi", "Home"), Link("wwan0", "203.0.113.64", "mobile")))
    assert one.key != two.key
    assert not fnmatch.fnmatchcase(one.key, exact_pattern(two.key))
    assert not fnmatch.fnmatchcase(two.key, exact_pattern(one.key))
    assert fnmatch.fnmatchcase(two.key, exact_pattern(two.key)), "control: the picked network matches itself"


def test_a_key_without_a_description_is_shown_as_it_is() -> None:
    tr = Translator("en")
    assert network_label(tr, "eth0 via 192.0.2.1") == "eth0 via 192.0.2.1"  # recorded before version 2
    # A description that does not match its key (a tampered or foreign row) is not believed.
    other = Network((Link("eth1", "198.51.100.1", "wired"),)).to_dict()
    assert network_label(tr, "eth0 via 192.0.2.1", other) == "eth0 via 192.0.2.1"
    assert Network.from_dict({"key": "x", "links": [{"interface": 3}]}) is None
    assert Network.from_dict("not a dict") is None
    # fields missing from a stored link read as absent, never as a crash of the page that lists networks
    assert Network.from_dict({"key": "eth0 via 0.0.0.0", "links": [{"interface": "eth0", "medium": "wired"}]}) == \
        Network((Link("eth0", None, "wired"),))


def verdict(host: str, now: datetime) -> Verdict:
    return Verdict(host, 443, "127.0.0.1", Status.OK, Severity.INFO, now, None, (), rule="public_ok")


def test_history_remembers_networks_and_keeps_older_keys(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    yesterday = iso(datetime.now(UTC) - timedelta(days=1))
    # A database written by schema version 1 (no networks table), with a verdict on a network key of that time.
    with sqlite3.connect(path) as db:
        from certguard.watch import history as history_module
        db.executescript(history_module._MIGRATIONS[0] + "; PRAGMA user_version = 1;")
        db.execute("INSERT INTO verdicts (host, port, network, status, severity, signature, first_seen, last_seen, "
                   "doc) VALUES ('a.test', 443, 'eth0 via 192.0.2.1', 'ok', 'info', 's', ?, ?, '{}')",
                   (yesterday, yesterday))
    db.close()
    h = History(path)
    try:
        cafe = Network((Link("wlan0", "198.51.100.1", "wifi", "CafeNet"),))
        h.record_round([verdict("a.test", datetime.now(UTC))], cafe.key, datetime.now(UTC), cafe.to_dict())
        # rows nobody can name or pick (a NULL key, JSON nested too deeply) are skipped or left undescribed
        h._db.execute("INSERT INTO networks (key, info, last_seen) VALUES (NULL, '{}', '2000-01-01T00:00:00Z')")
        h._db.execute("INSERT INTO networks (key, info, last_seen) VALUES ('deep', ?, '2000-01-01T00:00:00Z')",
                      ("[" * 100_000 + "]" * 100_000,))
        known = h.networks()
        assert known == [(cafe.key, cafe.to_dict()), ("eth0 via 192.0.2.1", None), ("deep", None)]
        tr = Translator("en")
        picker = known_networks(tr, known[:2], cafe)
        assert picker == [{"key": cafe.key, "label": "Wi-Fi “CafeNet” (gateway 198.51.100.1)", "current": True,
                           "rule": exact_pattern(cafe.key)},
                          {"key": "eth0 via 192.0.2.1", "label": "eth0 via 192.0.2.1", "current": False,
                           "rule": "eth0 via 192.0.2.1"}]
    finally:
        h.close()


def test_the_api_names_networks_in_the_page_language(tmp_path: Path, ctx_factory: Callable[..., TrustContext]) -> None:
    from certguard.app import api
    from certguard.probe import tls as probe
    from certguard.watch import daemon, notify

    cafe = Network((Link("wlan0", "198.51.100.1", "wifi", "CafeNet"),))
    office = Network((Link("eth0", "192.0.2.1", "wired"),))
    where = [office]
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings(), network=lambda: where[0])
    try:
        d.check_now()
        where[0] = cafe
        d.check_now()
        client = api.create_app(d, "t" * 43).test_client()
        auth = {"Host": "127.0.0.1:8123", "Authorization": "Bearer " + "t" * 43}
        assert client.get("/api/networks", headers={"Host": "127.0.0.1:8123"}).status_code == 401
        listed = client.get("/api/networks?lang=fr", headers=auth).get_json()["networks"]
        assert [(n["key"], n["label"], n["current"]) for n in listed] == [
            (cafe.key, "Wi-Fi « CafeNet » (passerelle 198.51.100.1)", True),
            (office.key, "réseau filaire (passerelle 192.0.2.1)", False)]
        status = client.get("/api/status?lang=ru", headers=auth).get_json()
        assert status["network"] == cafe.key and status["network_label"] == "Wi-Fi «CafeNet» (шлюз 198.51.100.1)"
        settings = client.get("/api/settings", headers=auth).get_json()
        assert [n["key"] for n in settings["networks"]] == [cafe.key, office.key]
        # An allow rule saved with the picker's pattern for the office mutes Zscaler there, and not in the café.
        [office_rule] = [n["rule"] for n in listed if n["key"] == office.key]
        d.update_settings({"allow": [{"interceptor": "Zscaler", "network": office_rule}]})
        zscaler = InterceptorMatch("corp-zscaler", "Zscaler", InterceptorKind.CORPORATE, None, MatchStrength.SPKI,
                                   "00", ())
        v = Verdict("a.test", 443, "127.0.0.1", Status.INTERCEPTED, Severity.WARNING, datetime.now(UTC), zscaler, (),
                    rule="known_interceptor")
        assert allowed(v, office.key, d.settings.allow)
        assert not allowed(v, cafe.key, d.settings.allow), "control: the café is not the office"
    finally:
        d.history.close()


def test_an_allow_rule_for_a_picked_wifi_matches_that_wifi_only() -> None:

    lab = Network((Link("wlan0", "198.51.100.254", "wifi", "Lab [2]"),))  # pattern characters in the name
    other = Network((Link("wlan0", "198.51.100.254", "wifi", "Lab 2"),))
    zscaler = InterceptorMatch("corp-zscaler", "Zscaler", InterceptorKind.CORPORATE, None, MatchStrength.SPKI, "00", ())
    v = Verdict("a.test", 443, "127.0.0.1", Status.INTERCEPTED, Severity.WARNING, datetime.now(UTC), zscaler, (),
                rule="known_interceptor")
    rule = AllowRule("Zscaler", exact_pattern(lab.key))  # what the picker stores for it
    assert allowed(v, lab.key, [rule])
    assert not allowed(v, other.key, [rule]), "another Wi-Fi with the same gateway is not the picked one"
    assert allowed(v, other.key, [AllowRule("Zscaler", lab.key)]), "negative control: the raw key is a pattern"
