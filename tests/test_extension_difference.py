"""The one rule comparing what the browser saw with certguard's own probe, and the probe cache behind it (real
chains judged by the real judge; real probes of loopback servers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pki
import pytest

from certguard.judge.analyze import TrustContext, analyze_chain
from certguard.judge.findings import FindingId
from certguard.judge.models import Severity, Verdict
from certguard.probe import tls as probe
from certguard.watch.companion import ProbeCache, RateLimited, browser_probe_difference
from certguard.watch.pipeline import Pipeline

HOST = "localhost"


def judged(ctx: TrustContext, chain: list[Any], now: datetime, source: str) -> Verdict:
    return analyze_chain(HOST, 443, [pki.der(c) for c in chain], ctx, now, source=source)


def test_another_issuer_in_the_browser_is_a_finding_the_same_is_not(
        ctx_factory: Callable[..., TrustContext], public_issuing: pki.CA, now: datetime) -> None:
    ctx = ctx_factory()
    av = pki.root("Test Antivirus Root")
    genuine, forged, renewed = public_issuing.leaf(HOST), av.leaf(HOST), public_issuing.leaf(HOST)
    probed = judged(ctx, [genuine.cert, public_issuing.cert], now, "probe")
    seen = judged(ctx, [forged.cert, av.cert], now, "browser:firefox")
    f = browser_probe_difference(seen, probed)
    assert f is not None and f.id == FindingId.BROWSER_PROBE_DIFFER.value
    assert f.evidence_dict["browser"] == "browser:firefox"
    assert "Test Antivirus Root" in f.evidence_dict["browser_issuer"]
    assert f.severity is Severity.CRITICAL  # the browser's chain is an interception
    # controls: the same chain, another leaf from the same issuing key (a CDN node), no probe, a stale probe
    assert browser_probe_difference(judged(ctx, [genuine.cert, public_issuing.cert], now, "browser:firefox"),
                                    probed) is None
    assert browser_probe_difference(judged(ctx, [renewed.cert, public_issuing.cert], now, "browser:x"), probed) is None
    assert browser_probe_difference(seen, None) is None
    assert browser_probe_difference(seen, replace(probed, observed_at=now - timedelta(hours=1))) is None
    # two probes are not a browser-vs-probe comparison; a failed probe (no chain) proves nothing
    assert browser_probe_difference(replace(seen, source="probe"), probed) is None
    assert browser_probe_difference(seen, replace(probed, chain=())) is None


def test_an_interceptor_copying_the_issuer_name_is_still_caught(
        ctx_factory: Callable[..., TrustContext], public_issuing: pki.CA, now: datetime) -> None:
    ctx = ctx_factory()
    impostor = pki.CA(subject=public_issuing.subject)  # the same name, another key
    probed = judged(ctx, [public_issuing.leaf(HOST).cert, public_issuing.cert], now, "probe")
    seen = judged(ctx, [impostor.leaf(HOST).cert, impostor.cert], now, "browser:firefox")
    f = browser_probe_difference(seen, probed)
    assert f is not None and f.evidence_dict["browser_issuer"] == f.evidence_dict["probe_issuer"]


def test_probe_cache_reuses_per_host_and_rate_limits(tmp_path: Path, ctx_factory: Callable[..., TrustContext],
                                                     public_issuing: pki.CA, serve: Callable[..., Any]) -> None:
    leaf = public_issuing.leaf(HOST)
    server = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)
    pipeline = Pipeline(ctx_factory(), probe.ProbeOptions(timeout=3), workers=1)
    clock = [1000.0]
    cache = ProbeCache(tmp_path / "probes.json", ttl=300, per_minute=2, clock=lambda: clock[0])
    first = cache.probe(pipeline, HOST, server.port)
    assert first.status.value == "ok" and server.connections == 1
    assert cache.probe(pipeline, HOST, server.port) == first and server.connections == 1
    # another process (the browsers start one per message) finds it in the file
    reloaded = ProbeCache(tmp_path / "probes.json", clock=lambda: clock[0]).fresh(HOST, server.port)
    assert reloaded is not None and reloaded.to_dict() == first.to_dict()
    clock[0] += 301  # expired: probed again
    cache.probe(pipeline, HOST, server.port)
    assert server.connections == 2
    clock[0] += 301
    cache.per_minute = 0  # no budget left: an expired entry is not probed again, the caller gets an error
    with pytest.raises(RateLimited):
        cache.probe(pipeline, HOST, server.port)
    assert server.connections == 2
    # a hand-edited file cannot plant a "probe" made by someone else
    (tmp_path / "probes.json").write_text('{"entries": {"x:1": [1e12, {"source": "browser:x"}]}, "recent": []}')
    assert ProbeCache(tmp_path / "probes.json").fresh("x", 1) is None
