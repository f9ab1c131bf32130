"""The daemon as a real process: idle CPU and RSS, and the same with many sites and a year of history (memory,
``GET /api/status`` latency). Used by bench/run.py; loopback only, every wait bounded.

A year is simulated as one round a day on the home network rather than every 30 minutes: identical consecutive
verdicts share one row, so the rows, chains and episodes of the database are those of a year; only the ``seen``
counters are smaller. Every tenth day 5 % of the sites are intercepted (a forged "Qaznet" chain) on a café network
for one round, and found clean there 4 hours later (37 episodes).
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pki

from certguard.device.network import Link, current_network
from certguard.judge import certs
from certguard.judge.models import InterceptorKind, InterceptorMatch, MatchStrength, Severity, Status, Target, Verdict
from certguard.probe.tls import ProbeOptions, fetch_chain
from certguard.watch.history import History

START_TIMEOUT = 120.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Running:
    """A ``certguard daemon run`` watching ``sites`` names on one loopback port."""

    def __init__(self, directory: Path, port: int, root: Path, sites: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.data = directory / "data"
        sites_file = directory / "sites.txt"
        sites_file.write_text("".join(f"s{i}.bench.test:{port}\n" for i in range(sites)))
        args = [sys.executable, "-m", "certguard", "daemon", "run", "--data-dir", str(self.data), "--interval",
                "3600", "--sites", str(sites_file), "--ca-bundle", str(root), "--no-device-store", "--timeout", "10",
                "--resolve", f"*:{port}:127.0.0.1"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started = time.monotonic()
        deadline = self.started + START_TIMEOUT
        while not (self.data / "api.json").exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("daemon did not start")
            time.sleep(0.05)
        self.port = int(json.loads((self.data / "api.json").read_text())["url"].rsplit(":", 1)[1])
        self.token = (self.data / "api.token").read_text().strip()

    def status(self) -> tuple[float, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        started = time.perf_counter()
        conn.request("GET", "/api/status", headers={"Authorization": f"Bearer {self.token}"})
        body = conn.getresponse().read()
        conn.close()
        return time.perf_counter() - started, body

    def wait_first_round(self) -> float:
        deadline = self.started + START_TIMEOUT
        while time.monotonic() < deadline:
            doc = json.loads(self.status()[1])
            if doc.get("checked_at") and not doc.get("running"):
                return time.monotonic() - self.started
            time.sleep(0.2)
        raise RuntimeError("the daemon's first round did not finish")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Idle:
    rss_mib: float
    cpu_percent: float
    wall: float


def idle(directory: Path, port: int, root: Path, sites: int, seconds: float) -> Idle:
    d = Running(directory, port, root, sites)
    try:
        d.wait_first_round()
        time.sleep(1.0)
        cpu0, t0 = cpu_seconds(d.proc.pid), time.monotonic()
        time.sleep(seconds)
        cpu, wall = cpu_seconds(d.proc.pid) - cpu0, time.monotonic() - t0
        return Idle(rss_mib(d.proc.pid), 100 * cpu / wall, wall)
    finally:
        d.stop()


@dataclass
class Scale:
    rss_mib: float
    status_ms: float
    status_kib: float
    samples: int
    history_kib: float
    rows: int
    episodes: int
    first_round: float


def write_year(path: Path, port: int, sites: int) -> tuple[int, int]:
    """A year of daily rounds for ``sites`` sites, with the chain the bench server really serves."""
    attempt = fetch_chain(Target("s0.bench.test", port, "127.0.0.1"), ProbeOptions(timeout=10))
    if not attempt.ok:
        raise RuntimeError(f"cannot capture the bench chain: {attempt.detail}")
    genuine = tuple(certs.cert_info(certs.view(der, i)) for i, der in enumerate(attempt.chain))
    qaznet = pki.root("Qaznet Trust Network", None, "KZ")
    forged = (certs.cert_info(qaznet.leaf("*.bench.test").cert),)
    match = InterceptorMatch("kz-qaznet", "Qaznet Trust Network", InterceptorKind.STATE, "KZ", MatchStrength.SPKI,
                             forged[0].sha256, ())
    home, cafe = current_network().key, Link("wlan0", "192.0.2.1", "wifi", "Café").key
    h = History(path)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=365)
    try:
        for day in range(365):
            # every tenth day a café network intercepts 5 % of the sites, then lets them go 4 hours later
            rounds = [(t0 + timedelta(days=day), home, False)]
            if day % 10 == 0:
                rounds = [(t0 + timedelta(days=day), cafe, True), (t0 + timedelta(days=day, hours=4), cafe, False)]
            for now, network, intercepted in rounds:
                verdicts = []
                for i in range(sites):
                    host = f"s{i}.bench.test"
                    if intercepted and i < max(1, sites // 20):
                        verdicts.append(Verdict(host, port, "127.0.0.1", Status.INTERCEPTED, Severity.CRITICAL, now,
                                                match, forged, rule="known_interceptor"))
                    else:
                        verdicts.append(Verdict(host, port, "127.0.0.1", Status.OK, Severity.INFO, now, None,
                                                genuine, rule="public_ok"))
                h.record_round(verdicts, network, now)
        episodes = len(h.episodes(limit=100_000))
    finally:
        h.close()
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]), episodes


def scale(directory: Path, port: int, root: Path, sites: int, samples: int = 30) -> Scale:
    data = directory / "data"
    data.mkdir(parents=True)
    rows, episodes = write_year(data / "history.sqlite3", port, sites)
    size = sum(p.stat().st_size for p in data.glob("history.sqlite3*"))
    d = Running(directory, port, root, sites)
    try:
        first = d.wait_first_round()
        d.status()
        times, body = [], b""
        for _ in range(samples):
            t, body = d.status()
            times.append(t)
        return Scale(rss_mib(d.proc.pid), statistics.median(times) * 1000, len(body) / 1024, samples, size / 1024,
                     rows, episodes, first)
    finally:
        d.stop()
