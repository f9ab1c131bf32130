"""Value types shared by every layer: targets, probe attempts, certificates, findings, verdicts.

Everything here is a frozen dataclass or a ``str`` Enum, so a verdict can be stored, sent over the local API and
rendered by every front end without anyone mutating it on the way. ``to_dict`` gives the JSON contract of
DESIGN.md §4 (fields may be added, never renamed); ``from_dict`` reads it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Status(str, Enum):
    """The one-word answer for a (host, port); see the status table in DESIGN.md §3.

    ``rank`` is THE ordering of statuses: notifications (tell when a site gets worse), the overall status, the
    history, the exit code and the UI all use it and nothing else. ``error`` (a bug in certguard: we could not
    decide) ranks just below ``intercepted`` and above everything else, so a verdict we failed to reach is never
    quieter than one we reached.
    """

    OK = "ok"
    INTERCEPTED = "intercepted"
    CAPTIVE_PORTAL = "captive_portal"
    SUSPICIOUS = "suspicious"
    MISCONFIGURED = "misconfigured"
    BLOCKED = "blocked"
    UNREACHABLE = "unreachable"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]

    @property
    def alarming(self) -> bool:
        """Interception or a suspicious chain: what exit code 1 means, and what forms episodes in the history."""
        return self in (Status.INTERCEPTED, Status.SUSPICIOUS)

    @property
    def notifies(self) -> bool:
        """Worth a desktop notification when a site gets to this status."""
        return self.rank >= Status.BLOCKED.rank


_STATUS_RANK = {Status.OK: 0, Status.UNREACHABLE: 1, Status.MISCONFIGURED: 2, Status.CAPTIVE_PORTAL: 3,
                Status.BLOCKED: 4, Status.SUSPICIOUS: 5, Status.ERROR: 6, Status.INTERCEPTED: 7}


class InterceptorKind(str, Enum):
    STATE = "state"
    ROGUE_CA = "rogue_ca"
    ANTIVIRUS = "antivirus"
    CORPORATE = "corporate"
    DEBUGGING = "debugging"
    MALWARE = "malware"
    CAPTIVE_PORTAL = "captive_portal"
    UNKNOWN = "unknown"

    @property
    def severity(self) -> Severity:
        # Products the user (or their employer) chose still decrypt everything, but they are not an attack on
        # the user: warn. State, malware, rogue CAs and anything we cannot name are treated as attacks.
        if self in (InterceptorKind.ANTIVIRUS, InterceptorKind.CORPORATE, InterceptorKind.DEBUGGING,
                    InterceptorKind.CAPTIVE_PORTAL):
            return Severity.WARNING
        return Severity.CRITICAL


class MatchStrength(str, Enum):
    """How an interceptor was recognised. ``name`` is weak: anybody can put any name in a certificate."""

    SPKI = "spki"
    CERTIFICATE = "certificate"
    NAME = "name"
    NONE = "none"  # not in the intel list at all: an unknown issuer that no public root vouches for

    @property
    def strong(self) -> bool:
        return self in (MatchStrength.SPKI, MatchStrength.CERTIFICATE)


class ProbeFailure(str, Enum):
    """Why a probe produced no chain. Expected network outcomes are values, never exceptions."""

    DNS = "dns"
    REFUSED = "refused"
    CONNECT_TIMEOUT = "connect_timeout"
    NETWORK_UNREACHABLE = "network_unreachable"
    RESET = "reset"
    HANDSHAKE_TIMEOUT = "handshake_timeout"
    TLS_ALERT = "tls_alert"
    NOT_TLS = "not_tls"
    HANDSHAKE_FAILED = "handshake_failed"
    NO_CERTIFICATE = "no_certificate"
    # The server sent a handshake message over OpenSSL's limit (100 KiB for the certificate chain): its chain
    # cannot be captured, which no censor needs and an interceptor hiding its chain would want (issue 13).
    OVERSIZED_CHAIN = "oversized_chain"
    PROXY_ERROR = "proxy_error"
    INTERNAL_ERROR = "internal_error"

    @property
    def looks_blocked(self) -> bool:
        """Failures a censor produces (DNS tampering, RST injection, black-holing, block pages).

        A proxy error is the user's own setup and an internal error is ours: neither says anything about the site.
        """
        return self not in (ProbeFailure.PROXY_ERROR, ProbeFailure.INTERNAL_ERROR, ProbeFailure.OVERSIZED_CHAIN)


@dataclass(frozen=True)
class Target:
    """What to probe. ``address``/``address_port`` override where to connect (curl's --connect-to/--resolve);
    the SNI and the name checked are always ``host``."""

    host: str
    port: int = 443
    address: str | None = None
    address_port: int | None = None
    sensitive: bool = False

    @property
    def label(self) -> str:
        return self.host if self.port == 443 else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class TLSInfo:
    version: str
    cipher: str
    alpn: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "cipher": self.cipher, "alpn": self.alpn}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TLSInfo:
        return cls(version=d["version"], cipher=d["cipher"], alpn=d.get("alpn"))


@dataclass(frozen=True)
class ProbeAttempt:
    """One TCP+TLS attempt. Either ``chain`` holds the DER certificates exactly as the server sent them (order
    and extras untouched), or ``failure`` says why there is none."""

    target: Target
    started_at: datetime
    address: str | None = None
    chain: tuple[bytes, ...] = ()
    tls: TLSInfo | None = None
    failure: ProbeFailure | None = None
    detail: str = ""
    connect_ms: float | None = None
    handshake_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class CertInfo:
    """What the user and the reports see of one certificate. Hashes are lowercase hex SHA-256 without colons."""

    subject: str
    issuer: str
    sha256: str
    spki_sha256: str
    not_before: datetime | None  # None: unreadable
    not_after: datetime | None
    pem: str
    dns_names: tuple[str, ...] = ()
    is_ca: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "sha256": self.sha256,
            "spki_sha256": self.spki_sha256,
            "not_before": iso(self.not_before) if self.not_before else None,
            "not_after": iso(self.not_after) if self.not_after else None,
            "pem": self.pem,
            "dns_names": list(self.dns_names),
            "is_ca": self.is_ca,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CertInfo:
        return cls(
            subject=d["subject"],
            issuer=d["issuer"],
            sha256=d["sha256"],
            spki_sha256=d["spki_sha256"],
            not_before=parse_iso(d["not_before"]) if d.get("not_before") else None,
            not_after=parse_iso(d["not_after"]) if d.get("not_after") else None,
            pem=d["pem"],
            dns_names=tuple(d.get("dns_names", ())),
            is_ca=bool(d.get("is_ca", False)),
        )


@dataclass(frozen=True)
class InterceptorMatch:
    """A received certificate (or a path anchor) that the intel list knows."""

    entry_id: str
    name: str
    kind: InterceptorKind
    country: str | None
    match: MatchStrength
    cert_sha256: str
    references: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.entry_id,
            "name": self.name,
            "kind": self.kind.value,
            "country": self.country,
            "match": self.match.value,
            "certificate_sha256": self.cert_sha256,
            "references": list(self.references),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InterceptorMatch:
        return cls(
            entry_id=d["id"],
            name=d["name"],
            kind=InterceptorKind(d["kind"]),
            country=d.get("country"),
            match=MatchStrength(d["match"]),
            cert_sha256=d["certificate_sha256"],
            references=tuple(d.get("references", ())),
        )


@dataclass(frozen=True)
class Finding:
    """One observation with a stable id (see ``findings.FindingId``). ``evidence`` holds the facts the
    translated message is formatted with (hashes, names, reasons), so every renderer says the same thing."""

    id: str
    severity: Severity
    evidence: tuple[tuple[str, str], ...] = ()

    @property
    def evidence_dict(self) -> dict[str, str]:
        return dict(self.evidence)

    def to_dict(self, message: str) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity.value, "message": message,
                "evidence": self.evidence_dict}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(id=d["id"], severity=Severity(d["severity"]),
                   evidence=tuple(sorted((str(k), str(v)) for k, v in d.get("evidence", {}).items())))


@dataclass(frozen=True)
class PinOutcome:
    """Result of the pin check for one host: ``pinset`` is None when the host has no pins."""

    pinset: str | None
    matched: bool | None  # None: not evaluated (no pins, or no public path to check them against)
    matched_key: str | None = None
    bad_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"pinset": self.pinset, "matched": self.matched, "matched_key": self.matched_key,
                "bad_key": self.bad_key}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PinOutcome:
        return cls(pinset=d.get("pinset"), matched=d.get("matched"), matched_key=d.get("matched_key"),
                   bad_key=d.get("bad_key"))


@dataclass(frozen=True)
class Verdict:
    """The decision for one probe. Every front end renders this and nothing else."""

    host: str
    port: int
    address: str | None
    status: Status
    severity: Severity
    observed_at: datetime
    interceptor: InterceptorMatch | None = None
    chain: tuple[CertInfo, ...] = ()
    findings: tuple[Finding, ...] = ()
    tls: TLSInfo | None = None
    failure: ProbeFailure | None = None
    public_anchor: str | None = None  # sha256 of the Mozilla anchor the chain built to
    device_anchor: str | None = None  # sha256 of the device trust-store anchor the chain built to
    pins: PinOutcome = field(default_factory=lambda: PinOutcome(pinset=None, matched=None))
    ct: dict[str, Any] | None = None
    rule: str = ""  # the RuleId that decided (rules.py): "why was this site called suspicious?"
    source: str = "probe"  # who captured the chain: certguard's own probe, a saved file, or a browser

    def finding(self, finding_id: str) -> Finding | None:
        return next((f for f in self.findings if f.id == finding_id), None)

    @property
    def label(self) -> str:
        return self.host if self.port == 443 else f"{self.host}:{self.port}"

    @property
    def issuer_key(self) -> str | None:
        """The key that vouched for the leaf: the issuing certificate's SPKI when sent, else the leaf's issuer
        name. A new one after a long time with the same one is CHAIN_CHANGED."""
        if len(self.chain) > 1:
            return self.chain[1].spki_sha256
        return self.chain[0].issuer if self.chain else None

    @property
    def culprit(self) -> str:
        """Who is behind this verdict, for grouping: the interceptor, else the top issuer, else the status."""
        if self.interceptor is not None:
            return self.interceptor.name
        return self.chain[-1].issuer if self.chain else self.status.value

    @property
    def order(self) -> tuple[int, int]:
        """Sort key, worst last: status rank, then severity."""
        return (self.status.rank, self.severity.rank)

    def to_dict(self, messages: dict[str, str] | None = None) -> dict[str, Any]:
        """The JSON contract. ``messages`` maps finding ids to rendered text (from ``i18n``)."""
        messages = messages or {}
        return {
            "host": self.host,
            "port": self.port,
            "address": self.address,
            "status": self.status.value,
            "severity": self.severity.value,
            "observed_at": iso(self.observed_at),
            "interceptor": self.interceptor.to_dict() if self.interceptor else None,
            "chain": [c.to_dict() for c in self.chain],
            "findings": [f.to_dict(messages.get(f.id, f.id)) for f in self.findings],
            "tls": self.tls.to_dict() if self.tls else None,
            "failure": self.failure.value if self.failure else None,
            "public_anchor": self.public_anchor,
            "device_anchor": self.device_anchor,
            "pins": self.pins.to_dict(),
            "ct": self.ct,
            "rule": self.rule,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        return cls(
            host=d["host"],
            port=int(d["port"]),
            address=d.get("address"),
            status=Status(d["status"]),
            severity=Severity(d["severity"]),
            observed_at=parse_iso(d["observed_at"]),
            interceptor=InterceptorMatch.from_dict(d["interceptor"]) if d.get("interceptor") else None,
            chain=tuple(CertInfo.from_dict(c) for c in d.get("chain", ())),
            findings=tuple(Finding.from_dict(f) for f in d.get("findings", ())),
            tls=TLSInfo.from_dict(d["tls"]) if d.get("tls") else None,
            failure=ProbeFailure(d["failure"]) if d.get("failure") else None,
            public_anchor=d.get("public_anchor"),
            device_anchor=d.get("device_anchor"),
            pins=PinOutcome.from_dict(d.get("pins") or {}),
            ct=d.get("ct"),
            rule=str(d.get("rule", "")),
            source=str(d.get("source", "probe")),
        )


def worst(verdicts: Sequence[Verdict]) -> Verdict | None:
    """The verdict that speaks for a whole round (the one ordering: ``Status.rank``, then severity)."""
    return max(verdicts, key=lambda v: v.order, default=None)


# What the overall status of a round can be (the UI has a headline for each: ``ui.overall.<value>``).
OVERALL = ("ok", "intercepted", "suspicious", "captive_portal", "misconfigured", "blocked", "error", "offline",
           "unknown")


def overall(verdicts: Sequence[Verdict]) -> str:
    """One word for a round: the worst status, "offline" when nothing answered, "unknown" before any round."""
    w = worst(verdicts)
    if w is None:
        return "unknown"
    if w.status is Status.UNREACHABLE:  # nothing worse than unreachable: offline only if nothing answered at all
        return "offline" if all(v.status is Status.UNREACHABLE for v in verdicts) else "ok"
    return str(w.status.value)


EXIT_OK, EXIT_FOUND, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def exit_code(verdicts: Sequence[Verdict]) -> int:
    """Exit codes (DESIGN.md §4): 1 means interception or a suspicious chain and nothing else; 2 when certguard
    could not decide (a bug: never 0); 3 when nothing answered."""
    if any(v.status.alarming for v in verdicts):
        return EXIT_FOUND
    if any(v.status is Status.ERROR for v in verdicts):
        return EXIT_USAGE
    if verdicts and overall(verdicts) == "offline":
        return EXIT_UNREACHABLE
    return EXIT_OK


def iso(t: datetime) -> str:
    """UTC ISO-8601 with a 'Z', the only time format in certguard's output."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s: str) -> datetime:
    t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC)

