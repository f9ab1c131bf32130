"""The browser companion's decisions: what the browser saw against certguard's own probe, and the probe cache.

Both the native-messaging host (judging in-process) and the daemon's ``/api/observed`` use this module, so "the
browser saw another issuer than our probe" is decided in one place, like a rule, and never in a renderer.

Why the comparison matters: an antivirus that filters only browsers (or a browser extension, or malware injected
into the browser) gives the browser a forged chain while certguard's own connection, made by another program on the
same computer and the same network, gets the real one. The interceptor then sits between the browser and the
network on this computer, not on the network.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from certguard.data.files import write_atomic
from certguard.judge.findings import FindingId
from certguard.judge.models import Finding, Severity, Target, Verdict
from certguard.watch.pipeline import Pipeline

log = logging.getLogger(__name__)

# "At about the same time": a probe older than this says nothing about what the browser sees now (the user may
# have changed networks); the cache below keeps probes for less than that.
WINDOW = timedelta(minutes=10)
PROBE_TTL = 300.0  # seconds a probe of one host is reused (a few minutes: browsing a site is many page loads)
PROBES_PER_MINUTE = 20  # at most this many fresh probes in any minute, whatever the browser asks
MAX_ENTRIES = 256


def issuing_identity(v: Verdict) -> tuple[str, str | None] | None:
    """Who issued the leaf: its issuer name and, when the chain carries the issuing certificate, that one's key."""
    if not v.chain:
        return None
    leaf = v.chain[0]
    issuer = next((c for c in v.chain[1:] if c.subject == leaf.issuer), None)
    return leaf.issuer, issuer.spki_sha256 if issuer is not None else None


def browser_probe_difference(browser: Verdict, probe: Verdict | None, window: timedelta = WINDOW) -> Finding | None:
    """The one rule comparing the browser's chain with certguard's own probe of the same host.

    A finding when both saw a chain within ``window`` of each other and the leaf was issued by someone else (another
    issuer name, or the same name with another key: an interceptor copying the real CA's name is still caught).
    Nothing when the probe saw no chain: a failed probe proves nothing either way, and the browser's own verdict
    stands as judged (this finding only ever adds a warning, it never makes anything quieter).
    """
    if probe is None or browser.source == "probe" or probe.source != "probe":
        return None
    if (browser.host, browser.port) != (probe.host, probe.port):
        return None
    if abs(browser.observed_at - probe.observed_at) > window:
        return None
    seen, probed = issuing_identity(browser), issuing_identity(probe)
    if seen is None or probed is None or browser.chain[0].sha256 == probe.chain[0].sha256:
        return None
    same_name = seen[0] == probed[0]
    same_key = seen[1] is None or probed[1] is None or seen[1] == probed[1]
    if same_name and same_key:
        return None
    severity = Severity.CRITICAL if browser.status.alarming or probe.status.alarming else Severity.WARNING
    evidence = {"browser_issuer": seen[0], "probe_issuer": probed[0], "browser": browser.source}
    return Finding(FindingId.BROWSER_PROBE_DIFFER.value, severity, tuple(sorted(evidence.items())))


class RateLimited(Exception):
    """Too many fresh probes in the last minute: the caller answers with an error instead of probing."""


@dataclass(frozen=True)
class Observation:
    """What the companion answers: the verdict on what the browser saw (or on certguard's probe, when the browser
    cannot show its chain), the probe it was compared with, and the difference finding if any."""

    verdict: Verdict
    probe: Verdict | None
    difference: Finding | None


class ProbeCache:
    """Probes per (host, port), reused for ``ttl`` seconds and rate-limited overall.

    With ``path`` the cache lives in a file too: the browsers start one native-host process per message, so a cache
    in memory alone would never be hit. The file holds verdicts certguard made itself; a corrupt or foreign file is
    ignored (a fresh probe is only slower, never quieter).
    """

    def __init__(self, path: Path | None = None, ttl: float = PROBE_TTL, per_minute: int = PROBES_PER_MINUTE,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.ttl = ttl
        self.per_minute = per_minute
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Verdict]] = {}
        self._recent: list[float] = []
        self._load()

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            entries = {str(k): (float(at), Verdict.from_dict(doc)) for k, (at, doc) in raw["entries"].items()}
            recent = [float(t) for t in raw["recent"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            if self.path.exists():
                log.warning("ignoring the probe cache %s: %s", self.path, exc)
            return
        # Only our own probes: anything else in the file (hand-edited) is dropped, never trusted as a probe.
        self._entries = {k: e for k, e in entries.items() if e[1].source == "probe"}
        self._recent = recent

    def _save(self) -> None:
        if self.path is None:
            return
        doc = {"entries": {k: [at, v.to_dict()] for k, (at, v) in self._entries.items()}, "recent": self._recent}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(doc).encode())
        except OSError as exc:  # a read-only data folder makes probes slower, not wrong
            log.warning("could not save the probe cache: %s", exc)

    def fresh(self, host: str, port: int) -> Verdict | None:
        with self._lock:
            entry = self._entries.get(f"{host}:{port}")
            return entry[1] if entry is not None and self.clock() - entry[0] < self.ttl else None

    def probe(self, pipeline: Pipeline, host: str, port: int) -> Verdict:
        """The cached probe of host:port, or a fresh one.

        Raises:
            RateLimited: the cache has nothing fresh and the budget of fresh probes is spent.
        """
        cached = self.fresh(host, port)
        if cached is not None:
            return cached
        with self._lock:
            now = self.clock()
            self._recent = [t for t in self._recent if now - t < 60.0]
            if len(self._recent) >= self.per_minute:
                raise RateLimited(f"more than {self.per_minute} probes in a minute")
            self._recent.append(now)
        verdict = pipeline.run([Target(host=host, port=port)]).verdicts[0]
        with self._lock:
            now = self.clock()
            self._entries = {k: e for k, e in self._entries.items() if now - e[0] < self.ttl}
            self._entries[f"{host}:{port}"] = (now, verdict)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.pop(min(self._entries, key=lambda k: self._entries[k][0]))
            self._save()
        return verdict


def observe(browser: Verdict, probe: Callable[[], Verdict]) -> Observation:
    """The browser's verdict with the comparison against a probe; a probe refused by the rate limit leaves the
    comparison out (the browser's verdict stands on its own)."""
    try:
        probed: Verdict | None = probe()
    except RateLimited as exc:
        log.info("no comparison probe for %s: %s", browser.label, exc)
        probed = None
    return Observation(browser, probed, browser_probe_difference(browser, probed))
