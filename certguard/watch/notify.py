"""Telling the user when a site gets worse: desktop notification, else the log. With cooldown, quiet mode and
allow rules ("my employer's Zscaler is expected on network N": recorded and shown, never alerted)."""

from __future__ import annotations

import fnmatch
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from certguard.errors import ConfigError
from certguard.i18n import Translator, available
from certguard.judge.models import InterceptorMatch, Status, Verdict

log = logging.getLogger(__name__)

Sender = Callable[[str, str], bool]  # (title, body) -> delivered?


def known_names(m: InterceptorMatch) -> set[str]:
    """The interceptor's name in every language certguard shows it in: a rule typed from what the window said
    ("Анализ HTTPS в Kaspersky") names the same interceptor as the data file's English name."""
    return {Translator(lang).interceptor_name(m) for lang in available()}


@dataclass(frozen=True)
class AllowRule:
    """Mutes alerts for an interceptor (name or id, shell pattern) on a network (pattern; ``*`` = any)."""

    interceptor: str
    network: str = "*"
    note: str = ""

    @classmethod
    def from_dict(cls, d: object) -> AllowRule:
        if not isinstance(d, dict) or not isinstance(d.get("interceptor"), str) or not d["interceptor"].strip():
            raise ConfigError("an allow rule needs an 'interceptor' (name or id; * and ? allowed)")
        network = d.get("network", "*")
        if not isinstance(network, str):
            raise ConfigError("an allow rule's 'network' must be text")
        return cls(d["interceptor"].strip(), network or "*", str(d.get("note", "")))

    def to_dict(self) -> dict[str, str]:
        return {"interceptor": self.interceptor, "network": self.network, "note": self.note}

    def matches(self, v: Verdict, network: str) -> bool:
        if v.interceptor is None or not fnmatch.fnmatchcase(network, self.network):
            return False
        # A name is whatever the server wrote into its chain: an attacker's root called "Zscaler Root CA" must not
        # be muted by the rule for the user's real Zscaler. Recognised by name only (or not at all), a chain is
        # muted only when it builds to a root this device itself trusts (the proxy's root, installed by the
        # organisation); recognised by key, the key is the proof.
        if not v.interceptor.match.strong and v.device_anchor is None:
            return False
        # The name as the data file has it, its id, or its name in any language the window may have shown it in.
        return any(fnmatch.fnmatch(n.lower(), self.interceptor.lower())
                   for n in (v.interceptor.name, v.interceptor.entry_id, *known_names(v.interceptor)))


def allowed(v: Verdict, network: str, rules: Sequence[AllowRule]) -> bool:
    return any(r.matches(v, network) for r in rules)


class Notifier:
    def __init__(self, send: Sender, cooldown: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.send = send
        self.cooldown = cooldown
        self.clock = clock
        self._last: dict[str, float] = {}

    def consider(self, previous: Status | None, v: Verdict, network: str, *, quiet: bool,
                 rules: Sequence[AllowRule], tr: Translator | None = None) -> bool:
        """Notify when ``v`` is worse than ``previous`` (a first sighting counts from ok); True if sent."""
        if v.status.rank <= (previous or Status.OK).rank or not v.status.notifies:
            return False
        if quiet or allowed(v, network, rules):
            return False
        key = f"{v.host}:{v.port}"
        now = self.clock()
        if key in self._last and now - self._last[key] < self.cooldown:
            return False
        tr = tr or Translator()
        status = tr(f"status.{v.status.value}")
        title = (tr("notify.title_by", host=v.host, status=status,
                    name=tr.interceptor_name(v.interceptor)) if v.interceptor
                 else tr("notify.title", host=v.host, status=status))
        body = tr("notify.intercepted" if v.status is Status.INTERCEPTED else "notify.other")
        self._last[key] = now
        if not self.send(title, body):
            log.warning("%s: %s", title, body)
        return True

    def consider_round(self, previous: Mapping[tuple[str, int], Status], verdicts: Sequence[Verdict], network: str,
                       *, quiet: bool, rules: Sequence[AllowRule], tr: Translator | None = None) -> int:
        """Notify for the verdicts worse than before, one notification per culprit (interceptor, else status), so five
        sites behind one Kaspersky are one message; the number sent."""
        groups: dict[str, list[Verdict]] = {}
        for v in verdicts:
            if v.status.rank <= previous.get((v.host, v.port), Status.OK).rank or not v.status.notifies:
                continue
            if quiet or allowed(v, network, rules):
                continue
            key = f"interceptor:{v.interceptor.entry_id}" if v.interceptor else f"status:{v.status.value}"
            groups.setdefault(key, []).append(v)
        tr = tr or Translator()
        sent = 0
        now = self.clock()
        for key, members in groups.items():
            if key in self._last and now - self._last[key] < self.cooldown:
                continue
            self._last[key] = now
            title, body = self._words(members, tr)
            if not self.send(title, body):
                log.warning("%s: %s", title, body)
            sent += 1
        return sent

    @staticmethod
    def _words(members: Sequence[Verdict], tr: Translator) -> tuple[str, str]:
        first = members[0]
        hosts = ", ".join(v.host if v.port == 443 else f"{v.host}:{v.port}" for v in members)
        if first.interceptor is None:
            status = tr(f"status.{first.status.value}")
            return (tr("notify.title", host=hosts, status=status),
                    tr("notify.intercepted" if first.status is Status.INTERCEPTED else "notify.other"))
        kind = first.interceptor.kind.value
        headline = tr(_KIND_TITLE[kind]) if kind in _KIND_TITLE else tr("ui.overall.intercepted")
        # what the user reads is in their language; allow rules (above) still match the English name and the id
        title = tr("notify.group_title", headline=headline, name=tr.interceptor_name(first.interceptor))
        return title, tr("notify.group_body", hosts=hosts, lead=tr(_KIND_LEAD.get(kind, "ui.kind_lead.unknown")))


# The same words as the Status page (ui/pages/status.js): per kind its own headline and lead, so antivirus HTTPS
# scanning never reads like the state on the network. Literal keys: tests/test_i18n.py sees them used.
_KIND_TITLE = {"antivirus": "ui.kind_title.antivirus", "corporate": "ui.kind_title.corporate",
               "debugging": "ui.kind_title.debugging", "captive_portal": "ui.kind_title.captive_portal"}
_KIND_LEAD = {"state": "ui.kind_lead.state", "rogue_ca": "ui.kind_lead.rogue_ca", "malware": "ui.kind_lead.malware",
              "unknown": "ui.kind_lead.unknown", "antivirus": "ui.kind_lead.antivirus",
              "corporate": "ui.kind_lead.corporate", "debugging": "ui.kind_lead.debugging",
              "captive_portal": "ui.kind_lead.captive_portal"}


def _has_notification_service() -> bool:
    """notify-send and desktop-notifier fail silently without a session bus or a notification daemon: ask D-Bus
    whether anyone owns org.freedesktop.Notifications before trusting them."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") or not shutil.which("dbus-send"):
        return False
    proc = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",  # noqa: S607
                           "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                           "string:org.freedesktop.Notifications"], capture_output=True, timeout=5, check=False)
    return proc.returncode == 0 and b"boolean true" in proc.stdout


def _notify_send(title: str, body: str) -> bool:
    proc = subprocess.run(["notify-send", "--app-name=certguard", "--urgency=critical", title, body],  # noqa: S603,S607
                          capture_output=True, timeout=10, check=False)
    return proc.returncode == 0


def _dbus_send(title: str, body: str) -> bool:
    """org.freedesktop.Notifications.Notify through dbus-send, for systems without notify-send."""
    proc = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.Notifications",  # noqa: S603,S607
                           "/org/freedesktop/Notifications", "org.freedesktop.Notifications.Notify",
                           "string:certguard", "uint32:0", "string:dialog-warning", f"string:{title}",
                           f"string:{body}", "array:string:", "dict:string:string:", "int32:-1"],
                          capture_output=True, timeout=10, check=False)
    return proc.returncode == 0


def _log_only(title: str, body: str) -> bool:
    return False  # the Notifier logs undelivered notifications


def default_sender() -> tuple[str, Sender]:
    """The best available way to reach the user, and its name (shown in the daemon's status)."""
    if _has_notification_service():
        if shutil.which("notify-send"):
            return "notify-send", _notify_send
        return "dbus", _dbus_send
    return "log", _log_only
