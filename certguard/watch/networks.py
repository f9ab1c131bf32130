"""Networks named for people, in the user's language: the one renderer of a network key for the UI, reports and
the allow-rule picker."""

from __future__ import annotations

import re
from typing import Any

from certguard.device.network import Link, Network
from certguard.i18n import Translator


def _link_label(tr: Translator, link: Link) -> str:
    gateway = link.gateway or tr("network.no_gateway")
    if link.medium == "wifi":
        # The gateway too: a name alone is the access point's choice, and another one can take it.
        return tr("network.wifi", ssid=link.ssid, gateway=gateway) if link.ssid else tr("network.wifi_unnamed",
                                                                                         gateway=gateway)
    if link.medium in ("wired", "vpn", "mobile"):
        return tr(f"network.{link.medium}", gateway=gateway, interface=link.interface)
    return tr("network.other", gateway=gateway, interface=link.interface)


def network_label(tr: Translator, key: str, info: dict[str, Any] | Network | None = None) -> str:
    """"Wi-Fi “CafeNet”", "wired network (gateway 192.0.2.1)"; a key recorded before networks were described (or
    described in a way this version cannot read) is shown as it is, never guessed at."""
    if key == "offline":
        return tr("network.offline")
    if key == "unknown":
        return tr("network.unknown")
    net = info if isinstance(info, Network) else Network.from_dict(info)
    if net is None or net.key != key or not net.links:
        return key
    return " + ".join(_link_label(tr, link) for link in net.links)


def exact_pattern(key: str) -> str:
    """An allow-rule pattern that matches ``key`` and nothing else: a Wi-Fi may be named "Lab [2]", which as a
    pattern would also match "Lab 2"."""
    return re.sub(r"([*?\[])", r"[\1]", key)


def known_networks(tr: Translator, known: list[tuple[str, dict[str, Any] | None]],
                   current: Network | None) -> list[dict[str, Any]]:
    """The networks to choose from in an allow rule, the current one first, then those in the history; ``rule`` is
    the pattern an allow rule stores to mean exactly that network."""
    out: list[dict[str, Any]] = []
    if current is not None:
        out.append({"key": current.key, "label": network_label(tr, current.key, current), "current": True})
    for key, info in known:
        if current is None or key != current.key:
            out.append({"key": key, "label": network_label(tr, key, info), "current": False})
    return [n | {"rule": exact_pattern(n["key"])} for n in out]
