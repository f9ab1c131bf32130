"""Chrome's Certificate Transparency log list (v3 schema): parsing and checking it, with its provenance. Pure."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from certguard.errors import DataError
from certguard.judge.models import iso, parse_iso


@dataclass(frozen=True)
class CTLog:
    log_id: bytes  # SHA-256 of the DER SubjectPublicKeyInfo
    key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    description: str
    operator: str
    state: str  # usable, qualified, readonly, retired, pending, rejected
    state_since: datetime | None
    rfc6962: bool  # a "classic" log (as opposed to a static-ct-api tiled log)
    interval_start: datetime | None
    interval_end: datetime | None


@dataclass(frozen=True)
class CTLogList:
    """Chrome's log list (v3 schema), with its provenance."""

    version: str
    timestamp: datetime
    logs: tuple[CTLog, ...]
    source: str
    sha256: str

    def by_id(self, log_id: bytes) -> CTLog | None:
        return next((log for log in self.logs if log.log_id == log_id), None)

    def age(self, now: datetime) -> timedelta:
        return now - self.timestamp

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "timestamp": iso(self.timestamp), "logs": len(self.logs),
                "source": self.source, "sha256": self.sha256}

    @classmethod
    def from_json(cls, raw: bytes, source: str) -> CTLogList:
        """Parse and check a v3 log list: every log id must be the SHA-256 of its key.

        Raises:
            DataError: not JSON, not the v3 shape, or a log id that does not match its key.
        """
        try:
            doc = json.loads(raw)
            logs = []
            for op in doc["operators"]:
                for kind, rfc6962 in (("logs", True), ("tiled_logs", False)):
                    for entry in op.get(kind, []):
                        logs.append(_parse_log(entry, op["name"], rfc6962, source))
            version = str(doc.get("version", "?"))
            timestamp = parse_iso(doc["log_list_timestamp"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(source, f"not a CT log list in Chrome's v3 format ({type(exc).__name__}: {exc})") from exc
        if not logs:
            raise DataError(source, "the CT log list names no logs")
        return cls(version, timestamp, tuple(logs), source, hashlib.sha256(raw).hexdigest())


def _parse_log(entry: dict[str, Any], operator: str, rfc6962: bool, source: str) -> CTLog:
    key_der = base64.b64decode(entry["key"], validate=True)
    log_id = base64.b64decode(entry["log_id"], validate=True)
    if hashlib.sha256(key_der).digest() != log_id:
        raise DataError(source, f"log {entry.get('description')!r}: log_id is not the SHA-256 of its key")
    key = serialization.load_der_public_key(key_der)
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise DataError(source, f"log {entry.get('description')!r}: unsupported key type")
    state_name, state_since = "pending", None
    for name, body in (entry.get("state") or {}).items():
        state_name = name
        if isinstance(body, dict) and "timestamp" in body:
            state_since = parse_iso(body["timestamp"])
    interval = entry.get("temporal_interval") or {}
    return CTLog(
        log_id=log_id, key=key, description=str(entry.get("description", "")), operator=operator,
        state=state_name, state_since=state_since, rfc6962=rfc6962,
        interval_start=parse_iso(interval["start_inclusive"]) if "start_inclusive" in interval else None,
        interval_end=parse_iso(interval["end_exclusive"]) if "end_exclusive" in interval else None,
    )


