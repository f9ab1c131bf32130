"""Which network this device is on, named for people: "Wi-Fi “CafeNet” (gateway 192.168.1.1)", "wired network
(gateway 192.0.2.1)".

Read from local files only (``/proc/net/route``, ``/proc/net/ipv6_route``, ``/sys/class/net``) and, for a Wi-Fi
network's name, the local ``iw`` or ``nmcli`` tools when present: nothing is asked of the network. Other platforms
give ``unknown`` (no reader there yet).

The ``key`` is what history episodes and allow rules store. Its form is unchanged from earlier versions for wired
networks ("eth0 via 192.0.2.1"), so existing rules keep matching; a Wi-Fi network's name is part of its key, because
many home networks share the gateway 192.168.1.1 and a rule for the office Wi-Fi must not cover a café's.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A hostile access point chooses its SSID (32 bytes at most by the standard): shown as text, never as markup, and
# cut at 32 characters.
_MAX_SSID = 32
_TOOL_TIMEOUT = 2.0
# /sys/class/net/IF/type (include/uapi/linux/if_arp.h): 1 Ethernet (also veth and bridges), 512 PPP, 65534 none
# (tun, WireGuard).
_ARPHRD_ETHER, _ARPHRD_PPP, _ARPHRD_NONE = 1, 512, 65534
MEDIA = ("wifi", "wired", "vpn", "mobile", "other")


@dataclass(frozen=True)
class Link:
    """One default route: the interface, its gateway (None for a point-to-point route) and what kind of link."""

    interface: str
    gateway: str | None
    medium: str = "other"
    ssid: str | None = None

    @property
    def key(self) -> str:
        base = f"{self.interface} via {self.gateway or '0.0.0.0'}"  # noqa: S104 (a route's "no gateway", not a bind)
        if self.medium != "wifi":
            return base
        # The name as a JSON string (ASCII, quotes and backslashes escaped): an access point's name cannot end it
        # early and pose as more links ("Home, wwan0 via …"). A Wi-Fi whose name could not be read is marked so: it
        # never takes the gateway-only key, which older versions stored for every network.
        return f"{base} ssid {json.dumps(self.ssid) if self.ssid else '?'}"

    def to_dict(self) -> dict[str, Any]:
        return {"interface": self.interface, "gateway": self.gateway, "medium": self.medium, "ssid": self.ssid}


@dataclass(frozen=True)
class Network:
    """The default routes in use now; none at all is ``offline``, nothing readable is ``unknown``."""

    links: tuple[Link, ...] = ()
    readable: bool = True

    @property
    def key(self) -> str:
        if not self.readable:
            return "unknown"
        return ", ".join(sorted(link.key for link in self.links)) or "offline"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "links": [link.to_dict() for link in self.links]}

    @classmethod
    def from_dict(cls, doc: object) -> Network | None:
        """A network as stored in the history; None for anything malformed (the key then names it)."""
        if not isinstance(doc, dict) or not isinstance(doc.get("links"), list):
            return None
        links = []
        for d in doc["links"]:
            if not (isinstance(d, dict) and isinstance(d.get("interface"), str)
                    and all(isinstance(d.get(f), (str, type(None))) for f in ("gateway", "ssid"))
                    and d.get("medium") in MEDIA):
                return None
            links.append(Link(d["interface"], d.get("gateway"), d["medium"], d.get("ssid")))
        net = cls(tuple(links), readable=doc.get("key") != "unknown")
        return net if net.key == doc.get("key") else None


def _ipv4_defaults(root: Path) -> list[tuple[str, str]] | None:
    try:
        lines = (root / "proc/net/route").read_text(encoding="ascii", errors="replace").splitlines()[1:]
    except OSError:
        return None
    out = []
    for line in lines:
        cols = line.split()
        # destination 0.0.0.0 with mask 0: the default route; the gateway is little-endian hex
        if len(cols) >= 8 and cols[1] == "00000000" and cols[7] == "00000000":
            try:
                out.append((cols[0], str(ipaddress.IPv4Address(bytes.fromhex(cols[2])[::-1]))))
            except ValueError:
                continue
    return out


def _ipv6_defaults(root: Path) -> list[tuple[str, str]]:
    try:
        lines = (root / "proc/net/ipv6_route").read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        cols = line.split()
        # ::/0 with a gateway, not the loopback "unreachable" entry
        if len(cols) == 10 and cols[0] == "0" * 32 and cols[1] == "00" and cols[9] != "lo":
            try:
                gw = ipaddress.IPv6Address(bytes.fromhex(cols[4]))
            except ValueError:
                continue
            out.append((cols[9], str(gw)))
    return out


def _medium(root: Path, interface: str) -> str:
    sys_if = root / "sys/class/net" / interface
    try:  # (Path.exists raises for a folder it may not enter, on Python 3.11)
        if (sys_if / "wireless").exists() or (sys_if / "phy80211").exists():
            return "wifi"
        if (sys_if / "tun_flags").exists():
            return "vpn"
        arp_type = int((sys_if / "type").read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return "other"
    return {_ARPHRD_ETHER: "wired", _ARPHRD_PPP: "mobile", _ARPHRD_NONE: "vpn"}.get(arp_type, "other")


def clean_ssid(raw: str) -> str | None:
    """An SSID made safe to show: UTF-8 (else Latin-1) text without control, format, bidirectional or line-break
    characters (a name could otherwise reverse or hide the text around it, or start a terminal sequence)."""
    text = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C" and unicodedata.category(ch) not in
                   ("Zl", "Zp")).strip()
    return text[:_MAX_SSID] or None


def _iw_bytes(value: str) -> str:
    """iw prints the SSID's bytes with ``\\xNN`` for anything not printable ASCII: undo just that."""
    raw = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]),
                 value.encode("utf-8", "replace"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_iw_link(output: str) -> str | None:
    """The SSID from ``iw dev IF link`` ("Connected to …\\n\\tSSID: CafeNet\\n…"); None when not connected, ""
    for a name with nothing showable in it."""
    for line in output.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key == "SSID":
            return clean_ssid(_iw_bytes(value.removeprefix(" "))) or ""
    return None


def _run(argv: list[str]) -> str | None:
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_TOOL_TIMEOUT,  # noqa: S603 (fixed argv)
                              check=False, errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def ask_tools(interface: str, run: Callable[[list[str]], str | None] = _run) -> str | None:
    """The name of the Wi-Fi network on ``interface`` from one tool only, so that the name never switches source:
    ``iw`` when installed (the SSID itself), else NetworkManager's connection name (usually the SSID). "" when
    the tool answered with no usable name; None when it could not answer."""
    if shutil.which("iw") is not None:
        out = run(["iw", "dev", interface, "link"])
        return parse_iw_link(out) if out else None
    out = run(["nmcli", "-t", "-g", "GENERAL.CONNECTION", "device", "show", interface])
    # nmcli -t escapes ":" and "\\" with a backslash
    return (clean_ssid(re.sub(r"\\(.)", r"\1", out.strip())) or "") if out is not None else None


class WifiNames:
    """Wi-Fi names, asked of the tools at every look (a move to another Wi-Fi behind the same gateway changes
    nothing else), but a tool that fails once (roaming, a busy NetworkManager) does not turn "Home" into a nameless
    network: the last name read for that interface is kept until another one is read. A flip would count as a
    network change: an extra round, a split episode, an allow rule that stops matching. A tool that answers "no
    name" (a hidden or blank SSID) is believed at once: such a network is nameless, never the last one's name."""

    def __init__(self, ask: Callable[[str], str | None] = ask_tools) -> None:
        self._ask = ask
        self._last: dict[str, str] = {}

    def __call__(self, interface: str) -> str | None:
        name = self._ask(interface)
        if name is None:  # the tool could not say
            return self._last.get(interface)
        if len(self._last) > 16:
            self._last.clear()
        if name:
            self._last[interface] = name
        else:
            self._last.pop(interface, None)
        return name or None


wifi_name = WifiNames()


def current_network(root: Path = Path("/"), name_of: Callable[[str], str | None] = wifi_name) -> Network:
    """The default routes now (IPv4, else IPv6), one link per interface, named by kind (``name_of`` gives a Wi-Fi
    interface's network name)."""
    v4 = _ipv4_defaults(root)
    if v4 is None:
        return Network(readable=False)
    routes = v4 or _ipv6_defaults(root)
    links = []
    seen: set[str] = set()
    for interface, gateway in routes:
        if interface in seen:  # two default routes on one interface (metrics) are one network
            continue
        seen.add(interface)
        medium = _medium(root, interface)
        ssid = name_of(interface) if medium == "wifi" else None
        no_gateway = gateway in ("0.0.0.0", "::")  # noqa: S104 (a point-to-point route, not a bind)
        links.append(Link(interface, None if no_gateway else gateway, medium, ssid))
    return Network(tuple(links))
