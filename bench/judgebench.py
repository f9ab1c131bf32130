"""Judging one chain (verify + pins + CT + intel), in process: the decision core alone, no I/O.

The trust context is the real one (certifi's roots, the shipped ex-Mozilla roots, pins and intel) plus a test root
(added to the Mozilla set), a pinset for the bench host and a test CT log list, so that every step really runs:
path building over ~120 anchors, the pin check, two SCT signatures, the intel lookup. Used by bench/run.py.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import certifi
import ctlog
import pki
from conftest import spki_of, write_pins

from certguard.data import anchors, intel, pins
from certguard.judge import certs, ct
from certguard.judge.analyze import TrustContext, analyze_chain
from certguard.judge.ctlog import CTLogList
from certguard.judge.verify import AnchorSet

HOST = "www.bench.test"
MAX_ITERATIONS = 20_000


def _per_call(fn: Callable[[], object], seconds: float) -> float:
    """CPU seconds of this thread per call: what the judge costs, whatever else loads the machine."""
    fn()  # warm-up (first-use caches, lazy imports)
    n, t0 = 0, time.thread_time()
    while time.thread_time() - t0 < seconds and n < MAX_ITERATIONS:
        fn()
        n += 1
    return (time.thread_time() - t0) / n


def run(seconds: float) -> list[tuple[str, float, str]]:
    root = pki.root("Bench Public Root", "Bench CA Inc", "US")
    issuing = root.child_ca("Bench Issuing CA", "Bench CA Inc", "US")
    logs = [ctlog.TestLog("Bench Log A", "Bench Op A"), ctlog.TestLog("Bench Log B", "Bench Op B")]
    leaf = ctlog.leaf_with_scts(issuing, HOST, [(logs[0], None, False), (logs[1], None, False)])
    qaznet = pki.root("Qaznet Trust Network", None, "KZ")
    forged = qaznet.leaf(HOST)
    mozilla = anchors.mozilla()
    public = AnchorSet(mozilla.source + " + bench root", (*mozilla.certs, root.cert))
    with tempfile.TemporaryDirectory() as d:
        pinfile = write_pins(Path(d) / "pins.toml", [HOST], [spki_of(root)])
        ctx = TrustContext(mozilla=public, device=None, pins=pins.load([pinfile]), intel=intel.load(),
                           ct_logs=CTLogList.from_json(ctlog.log_list(logs), "bench logs"),
                           exroots=anchors.exroots(mozilla))
    now = datetime.now(UTC)
    genuine = [pki.der(leaf.cert), pki.der(issuing.cert)]
    cases = [("genuine chain (ok: path, pin, 2 SCTs, intel)", genuine, "ok", "public_ok"),
             ("forged 'Qaznet' leaf (intercepted: failing path diagnosed)", [pki.der(forged.cert)], "intercepted",
              None),
             ("forged leaf + the genuine chain appended", [pki.der(forged.cert), *genuine], "intercepted", None)]
    out = []
    for label, chain, status, rule in cases:
        v = analyze_chain(HOST, 443, chain, ctx, now)
        if v.status.value != status or (rule is not None and v.rule != rule):
            raise RuntimeError(f"judge bench: {label} judged {v.status.value}/{v.rule}")
        out.append((label, _per_call(lambda c=chain: analyze_chain(HOST, 443, c, ctx, now), seconds),  # type: ignore[misc]
                    f"rule {v.rule}"))
    # Cold: what certificates never seen before cost (the per-process caches keyed by DER, and the remembered SCT
    # checks, emptied before each call).
    def cold() -> None:
        for cache in (certs._view_at_0, certs.fingerprint, certs.spki_sha256):
            cache.cache_clear()
        ct._sct_outcomes.clear()  # the remembered SCT signature checks too
        analyze_chain(HOST, 443, genuine, ctx, now)

    out.append(("genuine chain, certificates never seen before (caches emptied)", _per_call(cold, seconds),
                "rule public_ok"))
    started = time.thread_time()
    anchors.exroots(AnchorSet.from_pem_file("bench", Path(certifi.where()).read_bytes()))
    out.append(("(trust anchors: certifi parsed + ex-Mozilla roots read, uncached)", time.thread_time() - started,
                "once per process, and the ex-Mozilla roots only when a chain needs them"))
    return out
