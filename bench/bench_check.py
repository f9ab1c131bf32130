"""Benchmarks (not tests): probe throughput on loopback and decision-core throughput.

Run: .venv/bin/python bench/bench_check.py [--seconds 5]
Traffic goes only to a TLS server on 127.0.0.1 started here; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import pki
import servers

from certguard import device
from certguard.data import anchors as truststores
from certguard.data import intel, pins
from certguard.judge.analyze import TrustContext, analyze_chain
from certguard.judge.models import Target
from certguard.judge.verify import AnchorSet
from certguard.probe.tls import ProbeOptions, fetch_all, fetch_chain

MAX_ITERATIONS = 20_000


def bench_probe(seconds: float) -> None:
    chain = pki.site_chain("bench.example.test")
    with servers.serve("tls", chain.served, chain.leaf.key) as srv:
        target = Target("bench.example.test", 443, "127.0.0.1", srv.port)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds and n < MAX_ITERATIONS:
            assert fetch_chain(target, ProbeOptions(timeout=5)).ok
            n += 1
        dt = time.perf_counter() - t0
        print(f"probe, sequential: {n / dt:.0f} handshakes+captures/s ({n} in {dt:.1f} s)")
        batch = [target] * 200
        t0 = time.perf_counter()
        results = fetch_all(batch, ProbeOptions(timeout=5), workers=16)
        dt = time.perf_counter() - t0
        assert all(r.ok for r in results)
        print(f"probe, 200 targets with 16 workers: {dt * 1000:.0f} ms ({len(batch) / dt:.0f}/s)")


def bench_analyze(seconds: float) -> None:
    chain = pki.site_chain("bench.example.test")
    qaznet = pki.root("Qaznet Trust Network", None, "KZ")
    forged = qaznet.leaf("bench.example.test")
    ctx = TrustContext(mozilla=truststores.mozilla(), device=None, pins=pins.load(), intel=intel.load())
    ctx_test = TrustContext(mozilla=AnchorSet("bench", (chain.root.cert,)), device=None, pins=ctx.pins,
                            intel=ctx.intel)
    now = datetime.now(UTC)
    for label, c, ders in (("clean chain (test root)", ctx_test, [pki.der(x) for x in chain.served]),
                           ("forged Qaznet leaf vs certifi", ctx, [pki.der(forged.cert)])):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds and n < MAX_ITERATIONS:
            analyze_chain("bench.example.test", 443, ders, c, now)
            n += 1
        dt = time.perf_counter() - t0
        print(f"analyze, {label}: {n / dt:.0f} verdicts/s")
    t0 = time.perf_counter()
    TrustContext(mozilla=truststores.mozilla(), device=device.device_anchors(device.read_device()),
                 pins=pins.load(), intel=intel.load())
    print(f"load trust context (certifi + device store + pins + intel): {(time.perf_counter() - t0) * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    bench_probe(args.seconds)
    bench_analyze(args.seconds)
