"""Certificate Transparency: verify embedded SCTs (RFC 6962 §3.2) and apply Chrome's CT policy. Pure.

Why it matters: a locally installed interception root cannot obtain SCTs for its forged leaves, and a forger that
copies the real certificate's SCT extension is caught because those signatures do not verify over the forged
TBSCertificate. A publicly trusted chain without valid SCTs is the signature of a rogue public CA.

Only SCTs embedded in the leaf are checked: pyOpenSSL does not expose SCTs delivered in the TLS extension or in a
stapled OCSP response.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.certificate_transparency import SignedCertificateTimestamp

from certguard.judge import certs
from certguard.judge.ctlog import CTLog, CTLogList
from certguard.judge.findings import FindingId
from certguard.judge.models import Finding, Severity, iso

# Chrome stops enforcing CT when its log list is older than this (and so do we: a stale list misjudges new logs).
MAX_LIST_AGE = timedelta(days=70)
# A list newer than the judged moment by more than this may no longer name logs that were in use then: Chrome
# drops a log some months after its shard expires (the 2026-01 list has no 2024 or 2025h1 shards), and shards
# are half-year wide, so a month keeps the dropped-log window out while still letting a list describe the weeks
# right before it was signed. Past it, CT is "not judgeable" for that moment (valid SCTs still count for the chain).
MAX_LIST_LEAD = timedelta(days=30)
_COUNTING_STATES = ("usable", "qualified", "readonly", "retired")


@dataclass(frozen=True)
class SCTCheck:
    log_id: str  # lowercase hex
    operator: str | None
    log: str | None
    timestamp: datetime | None  # None: unreadable (the server chose the bytes)
    valid: bool
    reason: str  # "ok" or why it does not count

    def to_dict(self) -> dict[str, Any]:
        return {"log_id": self.log_id, "operator": self.operator, "log": self.log,
                "timestamp": iso(self.timestamp) if self.timestamp else None, "valid": self.valid,
                "reason": self.reason}


@dataclass(frozen=True)
class CTResult:
    scts: tuple[SCTCheck, ...]
    required: int
    policy_met: bool
    reasons: tuple[str, ...]  # why the policy is not met
    enforced: bool  # False when the log list does not describe the judged moment: a failure is then not held
    list_version: str
    list_stale: bool  # the list is older than MAX_LIST_AGE at the judged moment
    not_judgeable: str | None = None  # why CT cannot be enforced now: "list_too_old" / "list_too_new"; None: it can

    @property
    def valid_count(self) -> int:
        return sum(1 for s in self.scts if s.valid)

    def to_dict(self) -> dict[str, Any]:
        return {"scts": [s.to_dict() for s in self.scts], "required": self.required,
                "policy_met": self.policy_met, "reasons": list(self.reasons), "enforced": self.enforced,
                "log_list_version": self.list_version, "log_list_stale": self.list_stale,
                "not_judgeable": self.not_judgeable, "operators": sorted(self.valid_operators)}

    @property
    def valid_operators(self) -> set[str]:
        return {s.operator for s in self.scts if s.valid and s.operator}

    @property
    def vouches(self) -> bool:
        """Valid SCTs from at least two log operators: the certificate was logged publicly, which a locally made
        forgery cannot be (its SCTs would not verify over the forged TBSCertificate)."""
        return len(self.valid_operators) >= 2

    def findings(self) -> list[Finding]:
        out = []
        bad = [s for s in self.scts if s.reason == "bad_signature"]
        if bad:
            out.append(Finding(FindingId.CT_INVALID_SCT.value, Severity.WARNING,
                               (("count", str(len(bad))), ("logs", ", ".join(s.log or s.log_id for s in bad)))))
        if not self.policy_met:
            out.append(Finding(FindingId.CT_INSUFFICIENT.value,
                               Severity.WARNING if self.enforced else Severity.INFO,
                               (("reasons", "; ".join(self.reasons)), ("required", str(self.required)),
                                ("valid", str(self.valid_count)))))
        if self.list_stale:
            out.append(Finding(FindingId.CT_LIST_STALE.value, Severity.INFO, (("version", self.list_version),)))
        elif self.not_judgeable == "list_too_new":
            out.append(Finding(FindingId.CT_LIST_TOO_NEW.value, Severity.INFO, (("version", self.list_version),)))
        return out


def _ms(t: datetime) -> int:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def signed_data(sct: SignedCertificateTimestamp, leaf: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """The bytes an embedded SCT signs (RFC 6962 §3.2, entry type precert_entry)."""
    tbs: bytes = leaf.tbs_precertificate_bytes
    issuer_key_hash = hashlib.sha256(certs.spki_der(issuer)).digest()
    ext: bytes = sct.extension_bytes
    return (
        struct.pack(">BBQH", 0, 0, _ms(sct.timestamp), 1)  # v1, certificate_timestamp, timestamp, precert_entry
        + issuer_key_hash
        + len(tbs).to_bytes(3, "big") + tbs
        + len(ext).to_bytes(2, "big") + ext
    )


def _signature_ok(log: CTLog, sct: SignedCertificateTimestamp, data: bytes) -> bool:
    if not isinstance(sct.signature_hash_algorithm, hashes.SHA256):
        return False
    try:
        if isinstance(log.key, ec.EllipticCurvePublicKey):
            log.key.verify(sct.signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            log.key.verify(sct.signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


# Outcomes of SCT signature checks, keyed by everything the check depends on: the log (its id is the SHA-256 of its
# key, checked when the list is loaded), the leaf's DER (its TBS, the SCT's timestamp and extensions), the issuer's
# DER (its key hash) and the signature. A daemon re-judges the same chains every round: two ECDSA verifications and
# the precertificate rebuild were a third of judging a genuine chain (bench/judgebench.py). Bounded: emptied when full.
_SCT_CACHE_SIZE = 4096
_sct_outcomes: dict[tuple[bytes, bytes, bytes, bytes], bool] = {}


def _verified(log: CTLog, sct: SignedCertificateTimestamp, leaf: x509.Certificate, issuer: x509.Certificate) -> bool:
    key = (log.log_id, leaf.fingerprint(hashes.SHA256()), issuer.fingerprint(hashes.SHA256()), bytes(sct.signature))
    known = _sct_outcomes.get(key)
    if known is None:
        known = _signature_ok(log, sct, signed_data(sct, leaf, issuer))
        if len(_sct_outcomes) >= _SCT_CACHE_SIZE:
            _sct_outcomes.clear()
        _sct_outcomes[key] = known
    return known


def _issuer(leaf: x509.Certificate, chain: Sequence[x509.Certificate],
            path: Sequence[x509.Certificate] | None) -> x509.Certificate | None:
    if path and len(path) > 1:
        return path[1]
    for c in chain[1:]:
        if c.subject == leaf.issuer:
            try:
                leaf.verify_directly_issued_by(c)
                return c
            except (ValueError, TypeError, InvalidSignature):
                continue
    return None


def _check_one(sct: SignedCertificateTimestamp, leaf: x509.Certificate, issuer: x509.Certificate | None,
               logs: CTLogList, now: datetime) -> SCTCheck:
    """One SCT. Every field is the server's choice (a timestamp of 2^63 ms, a broken extension): anything that
    cannot be read makes this SCT not count, never an exception."""
    try:
        return _check_readable(sct, leaf, issuer, logs, now)
    except Exception as exc:  # server-controlled bytes: an unreadable SCT simply does not count
        try:
            log_id = sct.log_id.hex()
        except Exception:  # the log id itself is unreadable
            log_id = ""
        return SCTCheck(log_id, None, None, None, False, f"unreadable ({type(exc).__name__})")


def _check_readable(sct: SignedCertificateTimestamp, leaf: x509.Certificate, issuer: x509.Certificate | None,
                    logs: CTLogList, now: datetime) -> SCTCheck:
    log = logs.by_id(sct.log_id)
    ts = sct.timestamp.replace(tzinfo=UTC) if sct.timestamp.tzinfo is None else sct.timestamp

    def result(valid: bool, reason: str) -> SCTCheck:
        return SCTCheck(sct.log_id.hex(), log.operator if log else None, log.description if log else None,
                        ts, valid, reason)

    if log is None:
        return result(False, "unknown_log")
    if issuer is None:
        return result(False, "issuer_unknown")
    if not _verified(log, sct, leaf, issuer):
        return result(False, "bad_signature")
    if log.state not in _COUNTING_STATES:
        return result(False, f"log_{log.state}")
    if log.state in ("retired", "readonly") and log.state_since is not None and ts >= log.state_since:
        return result(False, f"after_log_{log.state}")
    if ts > now:
        return result(False, "timestamp_in_future")
    if ts > leaf.not_valid_after_utc:
        return result(False, "timestamp_after_expiry")
    if (log.interval_start and leaf.not_valid_after_utc < log.interval_start) or \
            (log.interval_end and leaf.not_valid_after_utc >= log.interval_end):
        return result(False, "outside_log_interval")
    return result(True, "ok")


def check_ct(chain: Sequence[x509.Certificate], path: Sequence[x509.Certificate] | None, logs: CTLogList,
             now: datetime) -> CTResult:
    """Verify the leaf's embedded SCTs and apply Chrome's policy: 2 valid SCTs for a certificate valid at most
    180 days, 3 above; from at least 2 distinct operators; at least one from an RFC 6962 log."""
    leaf = chain[0]
    try:
        ext = leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
        raw = list(ext)
    except Exception:  # absent or unreadable (server-controlled): no SCT counts
        raw = []
    try:
        issuer = _issuer(leaf, chain, path)
    except Exception:  # an odd certificate in the chain: the issuer is unknown, no SCT verifies
        issuer = None
    checks = tuple(_check_one(s, leaf, issuer, logs, now) for s in raw)
    try:
        lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    except Exception:  # a validity Python cannot hold (year 0): the server's bytes; ask for the most
        lifetime = timedelta.max
    required = 2 if lifetime <= timedelta(days=180) else 3
    valid = [c for c in checks if c.valid]
    reasons = []
    if not raw:
        reasons.append("the certificate carries no SCTs")
    elif len(valid) < required:
        reasons.append(f"{len(valid)} valid SCTs, {required} required")
    if valid and len({c.operator for c in valid}) < 2:
        reasons.append("all valid SCTs come from one log operator")
    valid_logs = [logs.by_id(bytes.fromhex(c.log_id)) for c in valid]
    if valid and not any(log is not None and log.rfc6962 for log in valid_logs):
        reasons.append("no valid SCT from an RFC 6962 log")
    stale = logs.age(now) > MAX_LIST_AGE
    too_new = -logs.age(now) > MAX_LIST_LEAD
    not_judgeable = "list_too_old" if stale else "list_too_new" if too_new else None
    return CTResult(checks, required, not reasons, tuple(reasons), enforced=not_judgeable is None,
                    list_version=logs.version, list_stale=stale, not_judgeable=not_judgeable)
