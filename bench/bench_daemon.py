"""Benchmarks (not tests) for the daemon: history size after a simulated month, and idle CPU / RSS of the real
process. Run: .venv/bin/python bench/bench_daemon.py [--idle-seconds 20]

Loopback only: the daemon probes TLS servers started here on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import pki
import servers

from certguard.judge import certs
from certguard.judge.models import InterceptorKind, InterceptorMatch, MatchStrength, Severity, Status, Verdict
from certguard.watch.history import History

SITES = 40
ROUNDS_PER_DAY = 48  # every 30 minutes
DAYS = 30


def bench_month(directory: Path) -> None:
    issuing = pki.root("Bench Root").child_ca("Bench Issuing CA")
    qaznet = pki.root("Qaznet Trust Network", c="KZ")
    genuine = {i: (certs.cert_info(issuing.leaf(f"s{i}.test").cert), certs.cert_info(issuing.cert))
               for i in range(SITES)}
    forged = {i: (certs.cert_info(qaznet.leaf(f"s{i}.test").cert),) for i in range(SITES)}
    match = InterceptorMatch("kz", "Qaznet", InterceptorKind.STATE, "KZ", MatchStrength.SPKI, "00" * 32, ())
    h = History(directory / "history.sqlite3")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    for r in range(ROUNDS_PER_DAY * DAYS):
        now = t0 + timedelta(minutes=30 * r)
        # an interception of 5 sites for 4 hours every third day, on one of two networks
        intercepting = (r // ROUNDS_PER_DAY) % 3 == 0 and 20 <= r % ROUNDS_PER_DAY < 28
        network = "wlan0 via gw-cafe" if (r // ROUNDS_PER_DAY) % 2 else "eth0 via gw-home"
        verdicts = []
        for i in range(SITES):
            if intercepting and i < 5:
                verdicts.append(Verdict(f"s{i}.test", 443, "127.0.0.1", Status.INTERCEPTED, Severity.CRITICAL, now,
                                        match, forged[i]))
            else:
                verdicts.append(Verdict(f"s{i}.test", 443, "127.0.0.1", Status.OK, Severity.INFO, now, None,
                                        genuine[i]))
        h.record_round(verdicts, network, now)
    elapsed = time.perf_counter() - started
    rounds = ROUNDS_PER_DAY * DAYS
    episodes = len(h.episodes(limit=10_000))
    h.close()
    size = sum(p.stat().st_size for p in directory.glob("history.sqlite3*"))
    print(f"history: {rounds} rounds x {SITES} sites ({rounds * SITES} verdicts) over {DAYS} days -> "
          f"{size / 1024:.0f} KiB on disk, {episodes} episodes; {rounds / elapsed:.0f} rounds/s recorded")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bench_idle(directory: Path, seconds: float) -> None:
    chains = {f"s{i}.test": pki.site_chain(f"s{i}.test") for i in range(5)}
    srvs = {h: servers.Server("tls", c.served, c.leaf.key).__enter__() for h, c in chains.items()}
    sites = directory / "sites.txt"
    sites.write_text("\n".join(chains) + "\n")
    anchors = pki.write_bundle(directory / "anchors.pem", [c.root.cert for c in chains.values()])
    args = [sys.executable, "-m", "certguard", "daemon", "run", "--data-dir", str(directory / "d"), "--interval",
            "3600", "--sites", str(sites), "--ca-bundle", str(anchors), "--no-device-store", "--timeout", "3"]
    for h, s in srvs.items():
        args += ["--connect-to", f"{h}:443:127.0.0.1:{s.port}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (directory / "d" / "api.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(3)  # first round done; from now on the daemon only waits
        cpu0, t0 = _cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        cpu = _cpu_seconds(proc.pid) - cpu0
        wall = time.monotonic() - t0
        print(f"daemon idle: {cpu:.2f} s CPU in {wall:.0f} s ({100 * cpu / wall:.2f}% of one core), "
              f"RSS {_rss_kib(proc.pid) / 1024:.1f} MiB")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        for s in srvs.values():
            s.__exit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        bench_month(Path(d))
    with tempfile.TemporaryDirectory() as d:
        bench_idle(Path(d), args.idle_seconds)


if __name__ == "__main__":
    main()
