"""The decision core: ``(attempt, TrustContext, now) → Verdict``. Pure: no I/O, no clock, no globals.

``signals.derive`` computes the facts once; ``rules.decide`` applies the status table (first match wins) and
names the rule that decided. Every front end renders the Verdict; none of them decides anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from certguard.judge import certs
from certguard.judge.findings import FindingId
from certguard.judge.models import ProbeAttempt, ProbeFailure, Severity, Status, TLSInfo, Verdict
from certguard.judge.rules import RuleId, decide, ex_root_finding
from certguard.judge.signals import HistoryFacts, TrustContext, derive, f

__all__ = ["HistoryFacts", "TrustContext", "analyze", "analyze_batch", "analyze_chain", "internal_error"]

log = logging.getLogger(__name__)


def _failure_verdict(attempt: ProbeAttempt, others_reachable: bool) -> Verdict:
    t, failure = attempt.target, attempt.failure
    assert failure is not None
    base = Verdict(host=t.host, port=t.port, address=attempt.address, observed_at=attempt.started_at,
                   failure=failure, status=Status.UNREACHABLE, severity=Severity.INFO, rule=RuleId.UNREACHABLE.value)
    if failure is ProbeFailure.INTERNAL_ERROR:
        return replace(base, status=Status.ERROR, severity=Severity.WARNING, rule=RuleId.INTERNAL_ERROR.value,
                       findings=(f(FindingId.INTERNAL_ERROR, Severity.WARNING, detail=attempt.detail),))
    if failure is ProbeFailure.OVERSIZED_CHAIN:
        # Fail closed: padding a chain past what certguard can read must not turn an interception into "blocked".
        # Like an unreadable leaf (rules.unreadable_leaf): no browser-grade chain needs 100 KiB, and it could hide
        # anything.
        return replace(base, status=Status.SUSPICIOUS, severity=Severity.CRITICAL, rule=RuleId.OVERSIZED_CHAIN.value,
                       findings=(f(FindingId.OVERSIZED_CHAIN, Severity.CRITICAL, detail=attempt.detail,
                                   address=attempt.address),))
    if failure is ProbeFailure.PROXY_ERROR:
        return replace(base, rule=RuleId.PROXY_FAILED.value,
                       findings=(f(FindingId.PROXY_FAILED, Severity.INFO, detail=attempt.detail),))
    if failure.looks_blocked and others_reachable:
        return replace(base, status=Status.BLOCKED, severity=Severity.WARNING, rule=RuleId.BLOCKED.value,
                       findings=(f(FindingId.HANDSHAKE_BLOCKED, Severity.WARNING, failure=failure.value,
                                   detail=attempt.detail),))
    return replace(base, findings=(f(FindingId.UNREACHABLE, Severity.INFO, failure=failure.value,
                                     detail=attempt.detail),))


def analyze(attempt: ProbeAttempt, ctx: TrustContext, now: datetime, *, others_reachable: bool = False,
            history: HistoryFacts | None = None) -> Verdict:
    """Judge one probe attempt. ``others_reachable``: did other hosts in the same run answer (then a failure
    here looks like blocking rather than being offline)? ``history``: what the daemon saw before, if anything."""
    if not attempt.ok:
        return _failure_verdict(attempt, others_reachable)
    t = attempt.target
    return analyze_chain(t.host, t.port, attempt.chain, ctx, now, tls=attempt.tls, address=attempt.address,
                         observed_at=attempt.started_at, history=history)


def analyze_chain(host: str, port: int, chain_der: Sequence[bytes], ctx: TrustContext, now: datetime, *,
                  tls: TLSInfo | None = None, address: str | None = None, observed_at: datetime | None = None,
                  history: HistoryFacts | None = None, source: str = "probe") -> Verdict:
    """Judge a chain (DER, as received, leaf first) served for ``host`` at ``now``."""
    s = derive(host, port, chain_der, ctx, now, history)
    decision = decide(s)
    base = Verdict(host=host, port=port, address=address, observed_at=observed_at or now, tls=tls, source=source,
                   status=Status.ERROR, severity=Severity.WARNING, chain=tuple(certs.cert_info(v) for v in s.views),
                   public_anchor=_anchor_sha(s.public), device_anchor=_anchor_sha(s.device), pins=s.pins,
                   ct=s.ct.to_dict() if s.ct else None)
    if decision is None:
        # A gap in the rule table is certguard's bug: say so, never pick a quieter status.
        log.error("no rule decided for %s (public=%s, claims_host=%s)", host, s.public_error, s.claims_host)
        return replace(base, rule=RuleId.INTERNAL_ERROR.value, findings=(
            f(FindingId.INTERNAL_ERROR, Severity.WARNING, detail="no rule matched"), *s.malformed()))
    findings = [*decision.lead, *s.malformed(), *s.chain_shape(), *(s.ct.findings() if s.ct else ()),
                *ex_root_finding(FindingId.DISTRUSTED_ROOT, s.distrusted), *decision.tail]
    return replace(base, status=decision.status, severity=decision.severity, interceptor=decision.interceptor,
                   rule=decision.rule.value, findings=tuple(findings))


def _anchor_sha(p: object) -> str | None:
    anchor = getattr(p, "anchor", None)
    return certs.fingerprint(anchor) if anchor is not None else None


def internal_error(host: str, port: int, observed_at: datetime, exc: BaseException, *,
                   address: str | None = None, tls: TLSInfo | None = None) -> Verdict:
    """The verdict for a bug in certguard: ``error``, which ranks just below ``intercepted``."""
    return Verdict(host=host, port=port, address=address, status=Status.ERROR, severity=Severity.WARNING,
                   observed_at=observed_at, tls=tls, rule=RuleId.INTERNAL_ERROR.value,
                   findings=(f(FindingId.INTERNAL_ERROR, Severity.WARNING, detail=f"{type(exc).__name__}: {exc}"),))


def analyze_batch(attempts: Sequence[ProbeAttempt], ctx: TrustContext, now: datetime,
                  history: dict[tuple[str, int], HistoryFacts] | None = None) -> list[Verdict]:
    """Judge a run. A failure counts as blocking only when other hosts of the same run answered; a bug in the
    decision core becomes an ``error`` verdict for that host, never another status."""
    reachable = sum(1 for a in attempts if a.ok)
    out = []
    for a in attempts:
        try:
            out.append(analyze(a, ctx, now, others_reachable=reachable - (1 if a.ok else 0) > 0,
                               history=(history or {}).get((a.target.host, a.target.port))))
        except Exception as exc:
            log.exception("internal error while judging %s", a.target.label)
            out.append(internal_error(a.target.host, a.target.port, a.started_at, exc, address=a.address, tls=a.tls))
    return out
