"""Signals: everything the rules look at, computed once per chain (DESIGN.md §3).

``derive()`` reads each received certificate once into a safe ``CertView``, builds the public, legacy and device
paths, matches the intel list, checks pins and CT, and takes the history facts the caller hands in. It never
raises for anything a server sent: unreadable parts are findings (MALFORMED_CERTIFICATE) and can only make the
verdict louder. The rules (``rules.py``) then decide from this one value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from certguard.judge import certs
from certguard.judge.certs import CertView
from certguard.judge.ct import CTResult, check_ct
from certguard.judge.ctlog import CTLogList
from certguard.judge.exroots import ExRoot, ExRoots
from certguard.judge.findings import FindingId
from certguard.judge.intel import IntelDB
from certguard.judge.models import Finding, InterceptorMatch, MatchStrength, PinOutcome, Severity
from certguard.judge.pins import PinDB
from certguard.judge.verify import AnchorSet, PathError, PathResult, build_path


@dataclass(frozen=True)
class TrustContext:
    """Everything a decision depends on besides the chain and the time.

    Attributes:
        mozilla: the public anchors (certifi, or --ca-bundle): the reference for "publicly trusted".
        device: the device's trust stores, or None when they cannot be read (then "your device trusts it" is unknown).
        pins: per-site pinsets.
        intel: known interceptors.
        ct_logs: Chrome's CT log list, or None when CT is not checked.
        exroots: roots that left Mozilla's program (retired: still vouch by signature; distrusted: only named).
    """

    mozilla: AnchorSet
    device: AnchorSet | None
    pins: PinDB
    intel: IntelDB
    ct_logs: CTLogList | None = None
    exroots: ExRoots | None = None


@dataclass(frozen=True)
class HistoryFacts:
    """What the history knows of this (host, port) on this network, handed in by the caller: the judge reads no
    database. ``issuer_key`` is the issuing key seen before, unchanged from ``stable_since`` to ``last_seen``."""

    issuer_key: str
    stable_since: datetime
    last_seen: datetime


def f(fid: FindingId, severity: Severity, **evidence: object) -> Finding:
    """A finding with its evidence as sorted (name, text) pairs; None values are left out."""
    return Finding(fid.value, severity, tuple(sorted((k, str(v)) for k, v in evidence.items() if v is not None)))


@dataclass(frozen=True)
class Signals:
    """The facts about one served chain. ``public`` is the path to Mozilla's anchors, or to a retired root
    (``public_via``) when only that one vouches; None when the leaf cannot be read at all."""

    host: str
    port: int
    now: datetime
    views: tuple[CertView, ...]
    public: PathResult | None
    public_via: ExRoot | None
    distrusted: ExRoot | None
    device: PathResult | None
    claims_host: bool
    strong: tuple[InterceptorMatch, ...]  # hostile, matched by key or certificate hash
    weak: tuple[InterceptorMatch, ...]  # hostile, matched by issuer name only
    legit: tuple[InterceptorMatch, ...]  # a state CA on a domain it legitimately serves
    legit_path: bool  # ... and the chain really builds to that CA
    ct: CTResult | None
    pins: PinOutcome
    pin_confidence: str | None
    history: HistoryFacts | None

    @property
    def leaf(self) -> CertView | None:
        return self.views[0] if self.views else None

    @property
    def leaf_readable(self) -> bool:
        return self.leaf is not None and self.leaf.cert is not None

    @property
    def public_ok(self) -> bool:
        return self.public is not None and self.public.ok

    @property
    def public_error(self) -> PathError | None:
        return self.public.error if self.public is not None else PathError.UNTRUSTED

    @property
    def leaf_has_valid_scts(self) -> bool:
        return self.ct is not None and self.ct.valid_count > 0

    @property
    def device_trusts(self) -> bool:
        return self.device is not None and self.device.ok

    @property
    def top(self) -> CertView | None:
        """The last received certificate: who the chain says vouches for it when no trusted path exists."""
        return self.views[-1] if self.views else None

    def malformed(self) -> list[Finding]:
        """MALFORMED_CERTIFICATE for every received certificate that did not read cleanly (the leaf critical)."""
        return [f(FindingId.MALFORMED_CERTIFICATE, Severity.CRITICAL if v.position == 0 else Severity.WARNING,
                  position=v.position, sha256=v.sha256, detail="; ".join(v.problems))
                for v in self.views if v.problems]

    def chain_shape(self) -> list[Finding]:
        """Informational: extra certificates (not on the verified path) and out-of-order chains (RFC 8446 §4.4.2
        allows both; an interceptor appending a genuine root is one reason to note them)."""
        if self.public is None or not self.public.path:
            return []
        on_path = [certs.fingerprint(c) for c in self.public.path]
        received = [v.sha256 for v in self.views]
        out = []
        extras = [fp for fp in received if fp not in on_path]
        if extras:
            out.append(f(FindingId.EXTRA_CERTIFICATES, Severity.INFO, count=len(extras), sha256=", ".join(extras)))
        served_path = [fp for fp in received if fp in on_path]
        if served_path != [fp for fp in on_path if fp in served_path]:
            out.append(f(FindingId.CHAIN_OUT_OF_ORDER, Severity.INFO))
        return out


def derive(host: str, port: int, chain_der: Sequence[bytes], ctx: TrustContext, now: datetime,
           history: HistoryFacts | None = None) -> Signals:
    """Compute the signals for a chain (DER as received, leaf first) served for ``host`` at ``now``."""
    views = tuple(certs.view(der, i) for i, der in enumerate(chain_der))
    leaf = views[0].cert if views else None
    others = [v.cert for v in views[1:] if v.cert is not None]
    clean = [v.cert for v in views[1:] if v.clean and v.cert is not None]

    def path(anchors: AnchorSet | None, diagnose: bool = True) -> PathResult | None:
        if anchors is None or leaf is None:
            return None
        return build_path(leaf, others, anchors, host, now, clean=clean, diagnose=diagnose)

    public = path(ctx.mozilla)
    public_via = distrusted = None
    ex = ctx.exroots
    if ex is not None and public is not None and public.error is PathError.UNTRUSTED:
        legacy = path(ex.retired)
        if legacy is not None and legacy.error is not PathError.UNTRUSTED:
            public = legacy
            public_via = ex.about(_anchor_sha(legacy)) if legacy.ok else _ended_at(legacy, views, ex)
        else:
            gone = path(ex.distrusted)
            if gone is not None and gone.error is not PathError.UNTRUSTED:
                distrusted = ex.about(_anchor_sha(gone)) or _ended_at(gone, views, ex)
    # The rules ask of the device path only whether it exists and where it ends ("your device trusts it"), never
    # why it does not: no diagnosis, which cost three more verifications per chain the device does not trust.
    device = path(ctx.device, diagnose=False)

    anchors = [p.anchor for p in (public, device) if p is not None and p.anchor is not None]
    candidates = list(views) + [certs.view(certs.der_of(a)) for a in anchors]
    seen: set[str] = set()
    strong: list[InterceptorMatch] = []
    weak: list[InterceptorMatch] = []
    for v in candidates:
        if v.sha256 in seen:
            continue
        seen.add(v.sha256)
        strong += ctx.intel.match_strong(v.sha256, v.spki_sha256)
        if v.issuer_name is not None:
            weak += ctx.intel.match_issuer_name(v.issuer_name, v.sha256)
    legit = [m for m in strong + weak if ctx.intel.by_id(m.entry_id).legitimate_for(host)]
    strong_ids = {m.entry_id for m in strong}
    hostile_strong = [m for m in strong if m not in legit]
    hostile_weak = [m for m in weak if m not in legit and m.entry_id not in strong_ids]
    legit_path = bool(legit) and leaf is not None and _builds_to_legit(leaf, others, candidates, legit, host, now)

    public_path = public.path if public is not None else None
    ct = check_ct([leaf, *others], public_path, ctx.ct_logs, now) if ctx.ct_logs and leaf is not None else None
    pinset = ctx.pins.for_host(host)
    pins = (pinset.check(public_path) if pinset and public_path
            else PinOutcome(pinset=pinset.name if pinset else None, matched=None))
    claims = views[0].claims(host) if views else False
    return Signals(host, port, now, views, public, public_via, distrusted, device, claims, tuple(hostile_strong),
                   tuple(hostile_weak), tuple(legit), legit_path, ct, pins,
                   pinset.confidence if pinset else None, history)


def _anchor_sha(p: PathResult | None) -> str | None:
    return certs.fingerprint(p.anchor) if p is not None and p.anchor is not None else None


def _ended_at(p: PathResult, views: Sequence[CertView], ex: ExRoots) -> ExRoot | None:
    """Which ex-Mozilla root a chain that failed for another reason (expired, name) would have ended at: the one
    it was served with, else the first whose subject is the top certificate's issuer."""
    for v in views:
        if (root := ex.about(v.sha256)) is not None:
            return root
    return None


def _builds_to_legit(leaf: x509.Certificate, others: list[x509.Certificate], candidates: Sequence[CertView],
                     legit: Sequence[InterceptorMatch], host: str, now: datetime) -> bool:
    """Does the chain validate for ``host`` when the state CA it names is the only anchor? (The CA's own
    certificate is in the chain or the device store; the intel list holds only its hashes.)

    Only a match by key or certificate hash identifies the CA's own certificate. A name match points at the
    certificate whose *issuer* carries the name, which anyone can make with their own key: as an anchor it would
    let any forger pass for the state CA on its domains."""
    shas = {m.cert_sha256 for m in legit if m.match is not MatchStrength.NAME}
    anchors = [v.cert for v in candidates if v.sha256 in shas and v.cert is not None and v.clean]
    return bool(anchors) and build_path(leaf, others, AnchorSet("intel (legitimate use)", tuple(anchors)),
                                        host, now).ok
