"""Judging a device's trust stores (``certguard audit``). Pure: the stores were read by ``stores``.

Each distinct certificate is judged once, with every place it is installed:
``expected`` (in Mozilla's program), ``extra`` (not in Mozilla, not known: review it) or ``interceptor`` (the intel
list knows it). A trusted state interception root is critical. When check results are given, each root is joined
to the observed chains it anchored ("this root, installed in Firefox profile X, signed the chains for google.com").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from certguard.judge import certs
from certguard.judge.intel import IntelDB
from certguard.judge.models import InterceptorKind, InterceptorMatch, MatchStrength, Severity, Verdict, iso
from certguard.judge.storescan import TRUSTED, Installed, Problem, StoreScan
from certguard.judge.verify import AnchorSet

EXPECTED, EXTRA, INTERCEPTOR = "expected", "extra", "interceptor"


@dataclass(frozen=True)
class Location:
    store: str
    location: str
    trust: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"store": self.store, "location": self.location, "trust": self.trust, "detail": self.detail}


@dataclass(frozen=True)
class AuditedRoot:
    subject: str
    issuer: str
    sha256: str
    spki_sha256: str
    not_after: datetime
    is_ca: bool
    locations: tuple[Location, ...]
    in_mozilla: bool
    verdict: str  # expected / extra / interceptor
    severity: Severity
    interceptor: InterceptorMatch | None
    anchored: tuple[str, ...] = ()  # host[:port] of observed chains this certificate anchored
    distribution: bool = False  # every copy came with the OS vendor's (older) Mozilla list

    @property
    def trusted(self) -> bool:
        return any(loc.trust == TRUSTED for loc in self.locations)

    def to_dict(self) -> dict[str, Any]:
        trust = TRUSTED if self.trusted else self.locations[0].trust
        return {
            "subject": self.subject, "issuer": self.issuer, "sha256": self.sha256, "spki_sha256": self.spki_sha256,
            "not_after": iso(self.not_after), "is_ca": self.is_ca,
            "store": self.locations[0].store, "location": self.locations[0].location, "trust": trust,
            "locations": [loc.to_dict() for loc in self.locations],
            "in_mozilla": self.in_mozilla, "verdict": self.verdict, "severity": self.severity.value,
            "interceptor": self.interceptor.to_dict() if self.interceptor else None,
            "anchored": list(self.anchored), "distribution": self.distribution,
        }


@dataclass(frozen=True)
class AuditReport:
    roots: tuple[AuditedRoot, ...]
    problems: tuple[Problem, ...]
    notes: tuple[Problem, ...]
    scanned: tuple[tuple[str, str], ...]

    @property
    def trusted_interceptors(self) -> list[AuditedRoot]:
        return [r for r in self.roots if r.verdict == INTERCEPTOR and r.trusted]

    def counts(self) -> dict[str, int]:
        return {v: sum(1 for r in self.roots if r.verdict == v) for v in (EXPECTED, EXTRA, INTERCEPTOR)} | {
            "trusted_interceptors": len(self.trusted_interceptors), "problems": len(self.problems),
            "distribution_outdated": sum(1 for r in self.roots if r.verdict == EXTRA and r.distribution)}


def _severity(verdict: str, trusted: bool, match: InterceptorMatch | None, distribution: bool) -> Severity:
    if verdict == INTERCEPTOR and match is not None:
        if not trusted:
            return Severity.WARNING  # present but not trusted: not in use, still worth removing
        return match.kind.severity if match.match is not MatchStrength.NAME else Severity.WARNING
    if verdict == EXTRA and trusted and not distribution:
        return Severity.WARNING
    return Severity.INFO


def _match(cert: x509.Certificate, in_mozilla: bool, intel: IntelDB) -> InterceptorMatch | None:
    v = certs.view(certs.der_of(cert))
    strong = intel.match_strong(v.sha256, v.spki_sha256)
    # A name pattern on a root Mozilla vouches for is a coincidence of names, not evidence.
    weak = [] if in_mozilla or v.issuer_name is None else intel.match_issuer_name(v.issuer_name, v.sha256)
    matches = strong or weak
    if not matches:
        return None
    return max(matches, key=lambda m: (m.kind.severity.rank, m.kind is not InterceptorKind.UNKNOWN))


def _served(verdicts: Sequence[Verdict]) -> list[tuple[str, Verdict, list[x509.Certificate]]]:
    """Each observed chain, parsed once (every root of the device is compared with all of them)."""
    out = []
    for v in verdicts:
        parsed = []
        for info in v.chain:
            try:
                parsed.append(x509.load_pem_x509_certificate(info.pem.encode()))
            except ValueError:
                continue
        out.append((v.host if v.port == 443 else f"{v.host}:{v.port}", v, parsed))
    return out


def _anchors(cert: x509.Certificate, sha256: str,
             served: Sequence[tuple[str, Verdict, list[x509.Certificate]]]) -> tuple[str, ...]:
    """Observed chains this certificate anchored: it is their path anchor, it was served in them, or it directly
    signed one of their certificates (an interceptor's forged leaf is signed by its root)."""
    hosts = []
    for label, v, chain in served:
        if sha256 in (v.public_anchor, v.device_anchor) or any(c.sha256 == sha256 for c in v.chain):
            hosts.append(label)
            continue
        for c in chain:
            try:
                if c.issuer == cert.subject:
                    c.verify_directly_issued_by(cert)
                    hosts.append(label)
                    break
            except (ValueError, TypeError, InvalidSignature):
                continue
    return tuple(dict.fromkeys(hosts))


def judge(scan: StoreScan, mozilla: AnchorSet, intel: IntelDB, verdicts: Sequence[Verdict] = ()) -> AuditReport:
    by_sha: dict[str, list[Installed]] = {}
    for entry in scan.entries:
        by_sha.setdefault(certs.sha256_hex(entry.der), []).append(entry)
    roots = []
    problems = list(scan.problems)
    served = _served(verdicts)
    for sha, entries in by_sha.items():
        try:
            cert = certs.parse(entries[0].der)
        except ValueError as exc:  # readers already dropped unparsable entries; stay safe anyway
            problems.append(Problem(entries[0].store, entries[0].location, f"not a readable certificate ({exc})"))
            continue
        spki = certs.spki_sha256(cert)
        in_mozilla = sha in mozilla.sha256s or spki in mozilla.spki_sha256s
        match = _match(cert, in_mozilla, intel)
        verdict = INTERCEPTOR if match else (EXPECTED if in_mozilla else EXTRA)
        locations = tuple(dict.fromkeys(Location(e.store, e.location, e.trust, e.detail) for e in entries))
        trusted = any(loc.trust == TRUSTED for loc in locations)
        distribution = all(e.distribution for e in entries)
        roots.append(AuditedRoot(
            subject=certs.name_str(cert.subject), issuer=certs.name_str(cert.issuer), sha256=sha, spki_sha256=spki,
            not_after=cert.not_valid_after_utc, is_ca=certs.is_ca(cert), locations=locations, in_mozilla=in_mozilla,
            verdict=verdict, severity=_severity(verdict, trusted, match, distribution), interceptor=match,
            anchored=_anchors(cert, sha, served), distribution=distribution))
    order = {INTERCEPTOR: 0, EXTRA: 1, EXPECTED: 2}
    roots.sort(key=lambda r: (order[r.verdict], r.distribution, -r.severity.rank, r.subject))
    return AuditReport(tuple(roots), tuple(problems), tuple(scan.notes), tuple(dict.fromkeys(scan.scanned)))
