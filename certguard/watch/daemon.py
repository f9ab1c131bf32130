"""The daemon: probes on a schedule and on network changes, remembers, notifies, and serves the local API.

Threads: the scheduler (this module's loop), waitress's workers (the API), and the probe pool. They share the
``History`` (its own lock), the latest round (replaced whole, never mutated) and an ``EventBus`` for live updates.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import secrets
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from certguard.data.files import describe_os_error, write_atomic
from certguard.data.targets import load_site_list, parse_target
from certguard.device.network import Network, current_network
from certguard.errors import ConfigError
from certguard.i18n import Translator
from certguard.judge.analyze import TrustContext
from certguard.judge.audit import AuditReport
from certguard.judge.models import Status, Target, Verdict, iso, overall
from certguard.probe import tls as probe
from certguard.watch.events import EventBus
from certguard.watch.history import History, describe_sqlite_error
from certguard.watch.notify import Notifier, allowed
from certguard.watch.pipeline import Pipeline, RoundResult
from certguard.watch.settings import Settings, load_settings, save_settings

log = logging.getLogger(__name__)

try:  # advisory locks: POSIX only; Windows gets its single-instance check from the service manager
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


# Settings and the event bus live in their own modules; re-exported for the daemon's users.
__all__ = ["AlreadyRunning", "ConsentPending", "Daemon", "EventBus", "Round", "Settings", "load_settings",
           "save_settings"]

# ---- the daemon --------------------------------------------------------------------------------------------------

class ConsentPending(Exception):
    """The desktop app's first run, before the user has answered whether probing may begin."""


@dataclass
class Round:
    checked_at: datetime | None = None
    network: str = "unknown"
    verdicts: list[Verdict] = field(default_factory=list)
    running: bool = False


class AlreadyRunning(ConfigError):
    pass


@dataclass(frozen=True)
class _Call:
    """A method of the daemon as a pipeline observer."""

    fn: Callable[[RoundResult], object]

    def on_round(self, rnd: RoundResult) -> None:
        self.fn(rnd)


class Daemon:
    def __init__(self, data_dir: Path, ctx: TrustContext, *, base_targets: Callable[[Settings], list[Target]],
                 options: probe.ProbeOptions, notifier: Notifier, settings: Settings,
                 network: Callable[[], Network] = current_network, workers: int = 8,
                 prometheus: Path | None = None, notifier_name: str = "log",
                 audit: Callable[[], AuditReport] | None = None, ask_first: bool = False) -> None:
        self.data_dir = data_dir
        self.ctx = ctx
        self.base_targets = base_targets
        self.options = options
        self.notifier = notifier
        self.settings = settings
        self.network = network
        self._networks: dict[str, Network] = {}  # what each network key seen since start stood for
        self._networks_lock = threading.Lock()  # the scheduler writes it, API threads read it
        self.workers = workers
        self.prometheus = prometheus
        self.notifier_name = notifier_name
        self._audit = audit
        self._audit_cache: tuple[float, AuditReport] | None = None
        self.history = History(data_dir / "history.sqlite3")
        self.events = EventBus()
        # What was last known survives a restart: the UI has something to show, and an interception that is still
        # going on is not announced again as new.
        self.latest = Round(verdicts=self.history.latest())
        # An empty history: certguard's first run here, when the UI says once that probing is visible (consent).
        self.first_run = not self.latest.verdicts
        # ask_first (the desktop app): on that first run, no site is probed before the user has answered.
        self.ask_first = ask_first
        self.stop = threading.Event()
        self.trigger = threading.Event()
        self._round_lock = threading.Lock()
        self._previous: dict[tuple[str, int], Status] = {}
        self._settings_lock = threading.Lock()
        self.problem: str | None = None  # what went wrong in the last round (a full disk): shown, not hidden
        self.pipeline = Pipeline(ctx, options, workers, history=self.history,
                                 observers=[_Call(self._record), _Call(self._notify), _Call(self._show)])

    # -- one round

    def check_now(self) -> Round:
        """Probe every target once, then record, notify and publish (the pipeline's observers). Serialised: a
        second caller waits for the first."""
        with self._round_lock:
            settings = self.settings
            targets = self.base_targets(settings)
            if settings.low_profile:
                targets = [t for t in targets if not t.sensitive]
            network = self.network_key()
            self.latest = replace(self.latest, running=True)
            self.events.publish({"type": "check_started", "targets": len(targets)})
            self._previous = {(v.host, v.port): v.status for v in self.latest.verdicts}
            self.pipeline.run(targets, network)
            # _show (an observer) has replaced the round; should it have failed, the UI must not spin forever.
            self.latest = replace(self.latest, running=False)
            return self.latest

    def receive(self, host: str, port: int, chain: Sequence[bytes], source: str) -> Verdict:
        """A chain captured elsewhere (the browser companion): judged, recorded, notified and shown like a probe's,
        marked with its ``source``."""
        if self.awaiting_consent:
            # Nothing before the first-run answer: not even a chain from the browser (recording it would make the
            # next start no longer a first run, and skip the notice).
            raise ConsentPending
        with self._round_lock:
            self._previous = {(v.host, v.port): v.status for v in self.latest.verdicts}
            rnd = self.pipeline.judge_chain(host, port, chain, source=source, network=self.network_key())
            return rnd.verdicts[0]

    def network_key(self) -> str:
        """The key of the network we are on now; what it stands for is kept for the history (to name it). Never
        raises: a network that cannot be read is "unknown", and the watch goes on."""
        try:
            net = self.network()
        except Exception:  # a reader bug must not end the watch (no rounds, no alerts)
            log.exception("cannot tell which network this is")
            net = Network(readable=False)
        with self._networks_lock:
            self._networks.pop(net.key, None)  # re-inserted: the last entry is the network seen last
            self._networks[net.key] = net
            while len(self._networks) > 64:  # a bound, for a laptop that roams all year without a restart
                del self._networks[next(iter(self._networks))]
        return net.key

    def current_network(self) -> Network | None:
        """What the latest round's network key stood for (before any round: the network seen last), when this run
        has seen it."""
        with self._networks_lock:
            if self.latest.checked_at is None and self._networks:
                return next(reversed(self._networks.values()))
            return self._networks.get(self.latest.network)

    # -- the pipeline's observers, in order: remember, tell the user, show

    def _record(self, rnd: RoundResult) -> None:
        """Remember the round. A full disk or a read-only folder must not cost the round's notifications: the
        failure is logged, shown in the status (``problem``), notified once, and the next round tries again."""
        try:
            known = self._networks.get(rnd.network)
            self.history.record_round(rnd.verdicts, rnd.network, rnd.checked_at,
                                      known.to_dict() if known is not None else None)
        except (sqlite3.Error, OSError) as exc:
            detail = (describe_sqlite_error(exc, self.history.path) if isinstance(exc, sqlite3.Error)
                      else describe_os_error(exc, self.history.path))
            log.error("could not record the round: %s", detail)
            if self.problem is None:
                tr = Translator(self.settings.language)
                body = tr("notify.history_failed", detail=detail)
                if not self.notifier.send(tr("notify.history_failed_title"), body):
                    log.warning("%s", body)
            self.problem = detail
            self.events.publish({"type": "problem", "problem": detail})
            return
        if self.problem is not None:
            log.info("recording works again")
            self.problem = None

    def _notify(self, rnd: RoundResult) -> None:
        settings = self.settings
        tr = Translator(settings.language)
        # One notification per culprit for the whole round, not one per site.
        self.notifier.consider_round(self._previous, rnd.verdicts, rnd.network, quiet=settings.quiet,
                                     rules=settings.allow, tr=tr)

    def _show(self, rnd: RoundResult) -> Round:
        if len(rnd.verdicts) == 1 and rnd.verdicts[0].source != "probe":
            # One chain from the browser: it joins the current round instead of replacing it.
            key = (rnd.verdicts[0].host, rnd.verdicts[0].port)
            merged = [v for v in self.latest.verdicts if (v.host, v.port) != key] + list(rnd.verdicts)
            shown = replace(self.latest, verdicts=sorted(merged, key=lambda v: (v.host, v.port)))
        else:
            shown = Round(rnd.checked_at, rnd.network, list(rnd.verdicts), running=False)
        # The textfile first: whoever sees the new round in the API finds it in the textfile too. A textfile that
        # cannot be written (full disk, folder gone) is reported and never keeps the round from the window.
        if self.prometheus:
            try:
                write_prometheus(self.prometheus, shown, self.settings)
            except OSError as exc:
                detail = describe_os_error(exc, self.prometheus)
                log.error("could not write the Prometheus textfile: %s", detail)
                self.problem = detail
        self.latest = shown
        self.events.publish({"type": "status", "overall": self.headline()["overall"],
                             "checked_at": iso(rnd.checked_at)})
        return self.latest

    def audit(self) -> AuditReport | None:
        """The device trust-store audit (None: not available), recomputed at most every 10 minutes (it runs certutil
        per profile). The report, not a rendering: each API caller renders it in its own language."""
        if self._audit is None:
            return None
        now = time.monotonic()
        if self._audit_cache is None or now - self._audit_cache[0] > 600:
            self._audit_cache = (now, self._audit())
        return self._audit_cache[1]

    def request_check(self) -> None:
        """A round as soon as the scheduler wakes (the API's "Check now")."""
        self.trigger.set()

    def anchor_subjects(self, v: Verdict) -> tuple[str | None, str | None]:
        """The names of the Mozilla and device roots the verdict's chain built to (servers rarely send the root)."""
        device = self.ctx.device
        return self.ctx.mozilla.subject_of(v.public_anchor), device.subject_of(v.device_anchor) if device else None

    def update_settings(self, changes: dict[str, Any]) -> Settings:
        """Validate, save, and only then apply: a change that could not be written (full disk, read-only data
        folder) is not live either.

        Raises:
            SettingsError: a bad value (nothing saved, nothing changed).
            OSError: the file could not be written (nothing changed); its message names the reason.
        """
        with self._settings_lock:
            new = self.settings.updated(changes)
            save_settings(self.data_dir / "settings.json", new)
            answered = self.settings.consent is None and new.consent is not None
            self.settings = new
        self.events.publish({"type": "settings"})
        if answered:
            self.trigger.set()  # the first round may begin (run() waits for the answer)
        return new

    @property
    def awaiting_consent(self) -> bool:
        """The first run of the desktop app, before the user answered the notice that probing is visible."""
        return self.ask_first and self.first_run and self.settings.consent is None

    def is_allowed(self, v: Verdict) -> bool:
        return allowed(v, self.latest.network, self.settings.allow)

    def headline(self) -> dict[str, Any]:
        """What the Status page leads with, decided here once: the worst verdict by the one ordering, an
        interceptor the user allowed (their employer's proxy) ranking below anything not allowed, so the headline
        and its advice always speak of the same site."""
        verdicts = self.latest.verdicts
        notable = [v for v in verdicts if v.status.rank > Status.UNREACHABLE.rank]
        culprit = max(notable, key=lambda v: (not self.is_allowed(v), v.order), default=None)
        word = culprit.status.value if culprit is not None else overall(verdicts)
        # How many sites share the headline's cause (its interceptor, else its status): advice for several sites
        # says "these sites".
        def cause(v: Verdict) -> object:
            return v.interceptor.entry_id if v.interceptor else v.status

        sites = sum(1 for v in notable if culprit is not None and cause(v) == cause(culprit))
        return {"overall": word, "sites": sites,
                "host": culprit.host if culprit else None, "port": culprit.port if culprit else None,
                "rule": culprit.rule if culprit else None, "allowed": self.is_allowed(culprit) if culprit else False,
                "interceptor": culprit.interceptor.to_dict() if culprit and culprit.interceptor else None}

    # -- the schedule

    def next_delay(self, rnd: Round, offline_streak: int) -> float:
        interval = self.settings.interval
        if rnd.verdicts and all(v.status is Status.UNREACHABLE for v in rnd.verdicts):
            # Offline: retry soon, backing off (1, 2, 4 … min) but never beyond the normal interval.
            return min(interval, 60.0 * float(2 ** min(offline_streak, 6)))
        return interval * random.uniform(0.9, 1.1)  # noqa: S311 (jitter, not cryptography)

    def run(self, poll: float = 5.0) -> None:
        """Until ``stop``: a round now, then on schedule, on ``trigger`` (API) or when the network changes."""
        offline = 0
        seen_network = self.network_key()
        while self.awaiting_consent and not self.stop.is_set():  # OONI's informed-consent step: nothing before it
            if self.trigger.wait(timeout=poll):
                self.trigger.clear()
        while not self.stop.is_set():
            try:
                rnd = self.check_now()
            except Exception:  # one bad round must not end the watch
                log.exception("check round failed")
                rnd = Round()
            offline = offline + 1 if rnd.verdicts and all(v.status is Status.UNREACHABLE for v in rnd.verdicts) else 0
            deadline = time.monotonic() + self.next_delay(rnd, offline)
            while not self.stop.is_set() and time.monotonic() < deadline:
                if self.trigger.wait(timeout=min(poll, max(0.0, deadline - time.monotonic()))):
                    self.trigger.clear()
                    break
                current = self.network_key()
                if current != seen_network:
                    log.info("network changed: %s -> %s", seen_network, current)
                    seen_network = current
                    self.events.publish({"type": "network_changed", "network": current})
                    break


def write_prometheus(path: Path, rnd: Round, settings: Settings) -> None:
    """node_exporter textfile collector format, written atomically (the collector may read at any moment)."""
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    lines = ["# HELP certguard_site_status 1 for the current status of each probed site.",
             "# TYPE certguard_site_status gauge"]
    for v in rnd.verdicts:
        who = v.interceptor.name if v.interceptor else ""
        lines.append(f'certguard_site_status{{host="{esc(v.host)}",port="{v.port}",status="{v.status.value}",'
                     f'interceptor="{esc(who)}",allowed="{str(allowed(v, rnd.network, settings.allow)).lower()}"}} 1')
    lines += ["# HELP certguard_intercepted_sites Sites whose connection is intercepted.",
              "# TYPE certguard_intercepted_sites gauge",
              f"certguard_intercepted_sites {sum(1 for v in rnd.verdicts if v.status is Status.INTERCEPTED)}",
              "# HELP certguard_last_check_timestamp_seconds When the last round finished.",
              "# TYPE certguard_last_check_timestamp_seconds gauge",
              f"certguard_last_check_timestamp_seconds {rnd.checked_at.timestamp() if rnd.checked_at else 0:.0f}"]
    write_atomic(path, ("\n".join(lines) + "\n").encode(), mode=0o644)  # node_exporter runs as another user


# ---- process-level pieces: one daemon per data dir, the API files, signals ---------------------------------------

@contextlib.contextmanager
def single_instance(data_dir: Path) -> Iterator[None]:
    """Raises:
        AlreadyRunning: another daemon holds this data directory.
    """
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = open(data_dir / "daemon.lock", "a+")  # noqa: SIM115 (held for the daemon's lifetime)
    except OSError as exc:
        raise ConfigError(f"cannot use the data folder: {describe_os_error(exc, exc.filename or data_dir)}") from exc
    try:
        if fcntl is not None:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                info = read_api_info(data_dir)
                pid = info.get("pid") if info else "?"
                raise AlreadyRunning(f"a certguard daemon is already running for {data_dir} (pid {pid})") from exc
        yield
    finally:
        lock.close()


def new_token(data_dir: Path) -> str:
    token = secrets.token_urlsafe(32)
    path = data_dir / "api.token"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, even briefly
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


def write_api_info(data_dir: Path, url: str) -> None:
    write_atomic(data_dir / "api.json", json.dumps({"url": url, "pid": os.getpid()}).encode())


def read_api_info(data_dir: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((data_dir / "api.json").read_text(encoding="utf-8"))
        return info if isinstance(info, dict) else None
    except (OSError, ValueError):
        return None


def install_signal_handlers(stop: Callable[[], None]) -> None:
    def handler(signum: int, frame: object) -> None:
        log.info("signal %d: stopping", signum)
        stop()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def site_targets(sites_file: Path | None) -> Callable[[Settings], list[Target]]:
    def targets(settings: Settings) -> list[Target]:
        if settings.sites:
            return [parse_target(s) for s in settings.sites]
        return load_site_list(sites_file)
    return targets
