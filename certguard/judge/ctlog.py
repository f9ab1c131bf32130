"""Chrome's Certificate Transparency log list (v3 schema): parsing and checking it, with its provenance. Pure."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from certguard.errors import DataError
from certguard.judge.models import iso, parse_iso

# Chrome's list is ~60 KB; certguard update accepts a download of up to 8 MiB (data/update.py): the same bound here.
MAX_LIST_BYTES = 8 << 20


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
        """Parse and check a v3 log list: every field has the schema's type, every time is a readable moment, every
        log id is the SHA-256 of its key and every key is an EC or RSA public key.

        The file may come from anyone (``--ct-logs``, a stored download): whatever its bytes, the only exception is
        a ``DataError`` that names ``source`` and, where it applies, the log and the field.

        Raises:
            DataError: larger than ``MAX_LIST_BYTES``, not JSON, not the v3 shape, or a log whose id, key or times
                are wrong.
        """
        if len(raw) > MAX_LIST_BYTES:
            raise DataError(source, f"larger than {MAX_LIST_BYTES >> 20} MiB: not a CT log list",
                            key="error.ctlog.too_large", mib=MAX_LIST_BYTES >> 20)
        try:
            doc = json.loads(raw)
        except RecursionError as exc:
            # json's decoder recurses per nested array or object; 100,000 levels exhaust the stack.
            raise DataError(source, "not JSON: arrays or objects nested too deeply", key="error.ctlog.nested") from exc
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer of more than 4300 digits
            raise DataError(source, f"not JSON ({exc})", key="error.ctlog.json", detail=exc) from exc
        top = _object(doc, "the document", source)
        logs = []
        for i, op in enumerate(_array(top.get("operators"), "operators", source)):
            where = f"operators[{i}]"
            op = _object(op, where, source)
            name = op.get("name")
            if not isinstance(name, str):
                raise DataError(source, f"{where}.name: must be a string", key="error.ctlog.string",
                                where=f"{where}.name")
            for kind, rfc6962 in (("logs", True), ("tiled_logs", False)):
                for j, entry in enumerate(_array(op.get(kind, []), f"{where}.{kind}", source)):
                    logs.append(_parse_log(entry, f"{where}.{kind}[{j}]", name, rfc6962, source))
        version = top.get("version", "?")
        if not isinstance(version, str | int | float) or isinstance(version, bool):
            raise DataError(source, "version: must be a string", key="error.ctlog.string", where="version")
        timestamp = _time(top.get("log_list_timestamp"), "log_list_timestamp", source)
        if not logs:
            raise DataError(source, "the CT log list names no logs", key="error.ctlog.empty")
        return cls(str(version), timestamp, tuple(logs), source, hashlib.sha256(raw).hexdigest())


def _object(value: object, where: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DataError(source, f"{where}: must be a JSON object, not {_json_type(value)}"
                        " (not a CT log list in Chrome's v3 format?)", key="error.ctlog.object", where=where,
                        type=_json_type(value))
    return value


def _array(value: object, where: str, source: str) -> list[Any]:
    if not isinstance(value, list):
        raise DataError(source, f"{where}: must be a JSON array, not {_json_type(value)}"
                        " (not a CT log list in Chrome's v3 format?)", key="error.ctlog.array", where=where,
                        type=_json_type(value))
    return value


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return "missing or null" if value is None else names.get(type(value), type(value).__name__)


def _time(value: object, where: str, source: str) -> datetime:
    """An RFC 3339 time of the list. ``parse_iso`` alone would let through a number (AttributeError) and a year-1
    time with an offset (OverflowError when moved to UTC)."""
    if not isinstance(value, str):
        raise DataError(source, f"{where}: must be an RFC 3339 time string, not {_json_type(value)}",
                        key="error.ctlog.time_type", where=where, type=_json_type(value))
    try:
        return parse_iso(value)
    except (ValueError, OverflowError) as exc:
        raise DataError(source, f"{where}: {value[:40]!r} is not a time ({exc})", key="error.ctlog.time", where=where,
                        value=repr(value[:40]), detail=exc) from exc


def _base64(value: object, where: str, source: str) -> bytes:
    if not isinstance(value, str):
        raise DataError(source, f"{where}: must be a base64 string, not {_json_type(value)}",
                        key="error.ctlog.base64_type", where=where, type=_json_type(value))
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:  # binascii.Error, or non-ASCII text
        raise DataError(source, f"{where}: not valid base64 ({exc})", key="error.ctlog.base64", where=where,
                        detail=exc) from exc


def _parse_log(entry: object, where: str, operator: str, rfc6962: bool, source: str) -> CTLog:
    entry = _object(entry, where, source)
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise DataError(source, f"{where}.description: must be a string", key="error.ctlog.string",
                        where=f"{where}.description")

    def at(field: str) -> str:
        return f"{where}{field} (log {description[:60]!r})" if description else f"{where}{field}"

    key_der = _base64(entry.get("key"), at(".key"), source)
    log_id = _base64(entry.get("log_id"), at(".log_id"), source)
    if hashlib.sha256(key_der).digest() != log_id:
        raise DataError(source, f"{at('')}: log_id is not the SHA-256 of its key", key="error.ctlog.log_id",
                        where=at(''))
    try:
        key = serialization.load_der_public_key(key_der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise DataError(source, f"{at('.key')}: not a public key ({exc})", key="error.ctlog.key", where=at('.key'),
                        detail=exc) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise DataError(source, f"{at('.key')}: unsupported key type {type(key).__name__}", key="error.ctlog.key_type",
                        where=at('.key'), kind=type(key).__name__)
    state_name, state_since = "pending", None
    state = entry.get("state")
    if state is not None:
        # v3: exactly one of {"usable": {"timestamp": …}}, {"retired": {…}}, … (log_list_schema.json).
        state = _object(state, at(".state"), source)
        if len(state) != 1:
            raise DataError(source, f"{at('.state')}: must name exactly one state, not {len(state)}",
                            key="error.ctlog.state", where=at('.state'), count=len(state))
        ((state_name, body),) = state.items()
        body = _object(body, at(f".state.{state_name[:40]}"), source)
        if "timestamp" in body:
            state_since = _time(body["timestamp"], at(f".state.{state_name[:40]}.timestamp"), source)
    interval = entry.get("temporal_interval")
    start = end = None
    if interval is not None:
        interval = _object(interval, at(".temporal_interval"), source)
        if "start_inclusive" in interval:
            start = _time(interval["start_inclusive"], at(".temporal_interval.start_inclusive"), source)
        if "end_exclusive" in interval:
            end = _time(interval["end_exclusive"], at(".temporal_interval.end_exclusive"), source)
    return CTLog(
        log_id=log_id, key=key, description=description, operator=operator,
        state=state_name, state_since=state_since, rfc6962=rfc6962, interval_start=start, interval_end=end,
    )
