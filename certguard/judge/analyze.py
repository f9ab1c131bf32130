"""The decision core: ``(attempt, TrustContext, now) → Verdict``. Pure: no I/O, no clock, no globals.

It derives the signals of DESIGN.md §3 (public path, device path, intel, pins, CT) and applies the status table,
first match wins. Every front end renders the Verdict; none of them decides anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography import x509

from certguard.judge import certs
from certguard.judge.ct import CTLogList, CTResult, check_ct
from certguard.judge.findings import FindingId
from certguard.judge.intel import IntelDB
from certguard.judge.models import (
    Finding,
    InterceptorKind,
    InterceptorMatch,
    MatchStrength,
    PinOutcome,
    ProbeAttempt,
    ProbeFailure,
    Severity,
    Status,
    TLSInfo,
    Verdict,
)
from certguard.judge.pins import PinDB
from certguard.judge.verify import AnchorSet, PathError, PathResult, build_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrustContext:
    """Everything a decision depends on besides the chain and the time.

    Attributes:
        mozilla: the public anchors (certifi, or --ca-bundle): the reference for "publicly trusted".
        device: the OS trust store, or None when it cannot be read (then "your device trusts it" is unknown).
        pins: per-site pinsets.
        intel: known interceptors.
        ct_logs: Chrome's CT log list, or None when CT is not checked.
    """

    mozilla: AnchorSet
    device: AnchorSet | None
    pins: PinDB
    intel: IntelDB
    ct_logs: CTLogList | None = None


def _f(fid: FindingId, severity: Severity, **evidence: object) -> Finding:
    return Finding(fid.value, severity, tuple(sorted((k, str(v)) for k, v in evidence.items() if v is not None)))


def _worst(matches: Sequence[InterceptorMatch]) -> InterceptorMatch:
    """The match to report: the most severe kind first (so a state root is never hidden behind a benign one),
    then the strongest evidence."""
    strength = {MatchStrength.SPKI: 0, MatchStrength.CERTIFICATE: 1, MatchStrength.NAME: 2, MatchStrength.NONE: 3}
    return min(matches, key=lambda m: (-m.kind.severity.rank, m.kind is not InterceptorKind.STATE,
                                       strength[m.match]))


def _failure_verdict(attempt: ProbeAttempt, others_reachable: bool) -> Verdict:
    t, failure = attempt.target, attempt.failure
    assert failure is not None
    base = Verdict(host=t.host, port=t.port, address=attempt.address, observed_at=attempt.started_at,
                   failure=failure, status=Status.UNREACHABLE, severity=Severity.INFO)
    if failure is ProbeFailure.INTERNAL_ERROR:
        return replace(base, status=Status.ERROR, severity=Severity.WARNING,
                       findings=(_f(FindingId.INTERNAL_ERROR, Severity.WARNING, detail=attempt.detail),))
    if failure is ProbeFailure.PROXY_ERROR:
        return replace(base, findings=(_f(FindingId.PROXY_FAILED, Severity.INFO, detail=attempt.detail),))
    if failure.looks_blocked and others_reachable:
        return replace(base, status=Status.BLOCKED, severity=Severity.WARNING,
                       findings=(_f(FindingId.HANDSHAKE_BLOCKED, Severity.WARNING, failure=failure.value,
                                    detail=attempt.detail),))
    return replace(base, findings=(_f(FindingId.UNREACHABLE, Severity.INFO, failure=failure.value,
                                      detail=attempt.detail),))


def analyze(attempt: ProbeAttempt, ctx: TrustContext, now: datetime, *, others_reachable: bool = False) -> Verdict:
    """Judge one probe attempt. ``others_reachable``: did other hosts in the same run answer (then a failure
    here looks like blocking rather than being offline)?"""
    if not attempt.ok:
        return _failure_verdict(attempt, others_reachable)
    t = attempt.target
    return analyze_chain(t.host, t.port, attempt.chain, ctx, now, tls=attempt.tls, address=attempt.address,
                         observed_at=attempt.started_at)


def analyze_chain(host: str, port: int, chain_der: Sequence[bytes], ctx: TrustContext, now: datetime, *,
                  tls: TLSInfo | None = None, address: str | None = None,
                  observed_at: datetime | None = None) -> Verdict:
    """Judge a chain (DER, as received, leaf first) served for ``host`` at ``now``."""
    findings: list[Finding] = []
    parsed: list[x509.Certificate] = []
    for i, der in enumerate(chain_der):
        try:
            parsed.append(certs.parse(der))
        except ValueError as exc:
            findings.append(_f(FindingId.MALFORMED_CERTIFICATE, Severity.WARNING if i else Severity.CRITICAL,
                               position=i, sha256=certs.sha256_hex(der), detail=str(exc)))
    # The "error" status is only the starting point: _judge replaces it with the real decision.
    base = Verdict(host=host, port=port, address=address, observed_at=observed_at or now, tls=tls,
                   status=Status.ERROR, severity=Severity.WARNING)
    leaf_unreadable = not chain_der or (bool(findings) and findings[0].evidence_dict["position"] == "0")
    if leaf_unreadable:
        # Without a readable leaf there is nothing to judge; say so rather than guess.
        return replace(base, findings=tuple(findings), chain=tuple(certs.cert_info(c) for c in parsed))
    return _judge(host, parsed, ctx, now, findings, base)


def _judge(host: str, parsed: list[x509.Certificate], ctx: TrustContext, now: datetime,
           findings: list[Finding], base: Verdict) -> Verdict:
    leaf = parsed[0]
    chain_info = tuple(certs.cert_info(c) for c in parsed)
    public = build_path(parsed, ctx.mozilla, host, now)
    device = build_path(parsed, ctx.device, host, now) if ctx.device else None
    claims_host = certs.names_host(leaf, host)

    # --- intel: received certificates and the anchors of both paths --------------------------------------
    candidates = certs.unique_by_fingerprint(
        parsed + [p.anchor for p in (public, device) if p is not None and p.anchor is not None])
    strong = [m for c in candidates for m in ctx.intel.match_strong(c)]
    weak = [m for c in candidates for m in ctx.intel.match_issuer_name(c)]
    legit = [m for m in strong + weak if ctx.intel.by_id(m.entry_id).legitimate_for(host)]
    hostile_strong = [m for m in strong if m not in legit]
    hostile_weak = [m for m in weak if m not in legit and m.entry_id not in {s.entry_id for s in strong}]

    # --- CT and pins ----------------------------------------------------------------------------------------
    ct: CTResult | None = check_ct(parsed, public.path, ctx.ct_logs, now) if ctx.ct_logs else None
    leaf_has_valid_scts = ct is not None and ct.valid_count > 0
    pinset = ctx.pins.for_host(host)
    pins = (pinset.check(public.path) if pinset and public.path
            else PinOutcome(pinset=pinset.name if pinset else None, matched=None))

    base = replace(base, public_anchor=_anchor_sha(public), device_anchor=_anchor_sha(device), pins=pins,
                   chain=chain_info, ct=ct.to_dict() if ct else None)
    device_trusts = device is not None and device.ok

    def verdict(status: Status, severity: Severity, interceptor: InterceptorMatch | None = None) -> Verdict:
        return replace(base, status=status, severity=severity, interceptor=interceptor, findings=tuple(findings))

    def device_finding(m: InterceptorMatch) -> None:
        if device_trusts and device is not None and device.anchor is not None:
            findings.append(_f(FindingId.DEVICE_TRUSTS_INTERCEPTOR, m.kind.severity,
                               anchor=certs.name_str(device.anchor.subject), source=device.source,
                               anchor_sha256=_anchor_sha(device)))

    _chain_shape_findings(parsed, public, findings)
    if ct is not None:
        findings.extend(ct.findings())

    # 1. A certificate the intel list knows by key or hash, for a domain it does not legitimately serve.
    if hostile_strong:
        m = _worst(hostile_strong)
        fid = FindingId.KNOWN_STATE_INTERCEPTOR if m.kind is InterceptorKind.STATE else FindingId.KNOWN_INTERCEPTOR
        findings.insert(0, _f(fid, m.kind.severity, name=m.name, kind=m.kind.value, country=m.country,
                              match=m.match.value, certificate_sha256=m.cert_sha256))
        device_finding(m)
        return verdict(Status.INTERCEPTED, m.kind.severity, m)

    # 2. A state CA on one of its own domains (Russia's root for gosuslugi.ru): not interception.
    if not public.ok and legit and _builds_to_legit(parsed, candidates, legit, host, now):
        m = legit[0]
        findings.insert(0, _f(FindingId.STATE_CA_LEGITIMATE, Severity.INFO, name=m.name, country=m.country))
        return verdict(Status.OK, Severity.INFO)

    # 3. No public root vouches for a leaf that claims to be the site, and CT does not vouch for it either.
    if not public.ok and public.error is PathError.UNTRUSTED and claims_host and not leaf_has_valid_scts:
        top = parsed[-1] if len(parsed) > 1 else leaf
        if hostile_weak:
            m = _worst(hostile_weak)
            findings.insert(0, _f(FindingId.INTERCEPTOR_NAME_MATCH, m.kind.severity, name=m.name,
                                  kind=m.kind.value, country=m.country, issuer=_issuer_of(parsed, m)))
        else:
            issuer = certs.name_str((device.anchor if device_trusts and device and device.anchor else top).issuer)
            m = InterceptorMatch("unknown", issuer, InterceptorKind.UNKNOWN, None, MatchStrength.NONE,
                                 certs.fingerprint(top))
        findings.insert(0, _f(FindingId.UNTRUSTED_ROOT, m.kind.severity, issuer=certs.name_str(top.issuer),
                              detail=public.detail))
        device_finding(m)
        return verdict(Status.INTERCEPTED, m.kind.severity, m)

    # 4. Not the site's certificate at all: a login page (hotel, airport) or a block page.
    if not public.ok and not claims_host:
        findings.insert(0, _f(FindingId.NAME_MISMATCH, Severity.WARNING, names=", ".join(certs.dns_names(leaf)),
                              subject=certs.name_str(leaf.subject)))
        return verdict(Status.CAPTIVE_PORTAL, Severity.WARNING)

    # 5. Publicly trusted, but not the CA the site uses, or not logged: a rogue public CA (DigiNotar).
    if public.ok:
        pin_failed = pins.matched is False
        ct_failed = ct is not None and ct.enforced and not ct.policy_met
        if pin_failed:
            fid = FindingId.PIN_BAD_KEY if pins.bad_key else FindingId.PIN_MISMATCH
            assert public.anchor is not None
            findings.insert(0, _f(fid, Severity.WARNING, pinset=pins.pinset, bad_key=pins.bad_key,
                                  anchor=certs.name_str(public.anchor.subject)))
        if pin_failed or ct_failed:
            severity = Severity.CRITICAL if pin_failed and ct_failed else Severity.WARNING
            return verdict(Status.SUSPICIOUS, severity)
        if hostile_weak:
            # A public chain whose issuer merely resembles an interceptor's name: worth a note, not an alarm.
            m = _worst(hostile_weak)
            findings.append(_f(FindingId.INTERCEPTOR_NAME_MATCH, Severity.INFO, name=m.name, kind=m.kind.value,
                               issuer=_issuer_of(parsed, m)))
        return verdict(Status.OK, Severity.INFO)

    # 6. Site-side problems: clock, name, or a root that left Mozilla while CT shows the leaf is public.
    if public.error in (PathError.EXPIRED, PathError.NOT_YET_VALID, PathError.NAME_MISMATCH):
        fid = {PathError.EXPIRED: FindingId.CERT_EXPIRED, PathError.NOT_YET_VALID: FindingId.CERT_NOT_YET_VALID,
               PathError.NAME_MISMATCH: FindingId.NAME_MISMATCH}[public.error]
        findings.insert(0, _f(fid, Severity.WARNING, not_before=leaf.not_valid_before_utc.isoformat(),
                              not_after=leaf.not_valid_after_utc.isoformat(), detail=public.detail))
        return verdict(Status.MISCONFIGURED, Severity.WARNING)
    if leaf_has_valid_scts:
        findings.insert(0, _f(FindingId.ROOT_NOT_IN_MOZILLA, Severity.WARNING, issuer=certs.name_str(parsed[-1].issuer),
                              detail=public.detail))
        return verdict(Status.MISCONFIGURED, Severity.WARNING)
    raise AssertionError(f"no status rule matched (public={public.error}, claims_host={claims_host})")


def _anchor_sha(p: PathResult | None) -> str | None:
    return certs.fingerprint(p.anchor) if p is not None and p.anchor is not None else None


def _issuer_of(parsed: Sequence[x509.Certificate], m: InterceptorMatch) -> str:
    for c in parsed:
        if certs.fingerprint(c) == m.cert_sha256:
            return certs.name_str(c.issuer)
    return ""


def _builds_to_legit(parsed: list[x509.Certificate], candidates: list[x509.Certificate],
                     legit: list[InterceptorMatch], host: str, now: datetime) -> bool:
    """Does the chain validate for ``host`` when the state CA it names is the only anchor? (The CA's own
    certificate is in the chain or the device store; the intel list holds only its hashes.)"""
    shas = {m.cert_sha256 for m in legit}
    anchors = [c for c in candidates if certs.fingerprint(c) in shas]
    return bool(anchors) and build_path(parsed, AnchorSet("intel (legitimate use)", tuple(anchors)), host, now).ok


def _chain_shape_findings(parsed: list[x509.Certificate], public: PathResult, findings: list[Finding]) -> None:
    """Informational: extra certificates (not on the verified path) and out-of-order chains (RFC 8446 §4.4.2
    allows both; an interceptor appending a genuine root is one reason to note them)."""
    if not public.path:
        return
    on_path = [certs.fingerprint(c) for c in public.path]
    received = [certs.fingerprint(c) for c in parsed]
    extras = [fp for fp in received if fp not in on_path]
    if extras:
        findings.append(_f(FindingId.EXTRA_CERTIFICATES, Severity.INFO, count=len(extras), sha256=", ".join(extras)))
    served_path = [fp for fp in received if fp in on_path]
    if served_path != [fp for fp in on_path if fp in served_path]:
        findings.append(_f(FindingId.CHAIN_OUT_OF_ORDER, Severity.INFO))


def analyze_batch(attempts: Sequence[ProbeAttempt], ctx: TrustContext, now: datetime) -> list[Verdict]:
    """Judge a run. A failure counts as blocking only when other hosts of the same run answered; a bug in the
    decision core becomes an ``error`` verdict for that host, never another status."""
    reachable = sum(1 for a in attempts if a.ok)
    out = []
    for a in attempts:
        try:
            out.append(analyze(a, ctx, now, others_reachable=reachable - (1 if a.ok else 0) > 0))
        except Exception as exc:
            log.exception("internal error while judging %s", a.target.label)
            out.append(Verdict(host=a.target.host, port=a.target.port, address=a.address, status=Status.ERROR,
                               severity=Severity.WARNING, observed_at=a.started_at, tls=a.tls,
                               findings=(_f(FindingId.INTERNAL_ERROR, Severity.WARNING,
                                            detail=f"{type(exc).__name__}: {exc}"),)))
    return out
