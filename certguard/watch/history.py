"""The daemon's memory: verdict history and interception episodes in SQLite.

Design choices, and why:
- WAL and one transaction per check round: a killed daemon loses at most the round in flight, never a committed
  verdict, and readers (the API) never block the writer.
- Chains are stored once, keyed by the fingerprints of their certificates; a verdict row points at its chain.
- A verdict identical to the host's previous one (same network, status, chain and findings) extends that row
  (``last_seen``, ``seen``) instead of adding one: a month of "all is well" every 30 minutes stays a few rows.
- Schema changes are numbered migrations applied in order (``PRAGMA user_version``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from certguard.errors import DataError
from certguard.judge.models import Status, Verdict, iso, parse_iso
from certguard.judge.signals import HistoryFacts

log = logging.getLogger(__name__)

_MIGRATIONS: tuple[str, ...] = (
    # 1: first schema
    """
    CREATE TABLE chains (id TEXT PRIMARY KEY, certs TEXT NOT NULL);
    CREATE TABLE verdicts (
        id INTEGER PRIMARY KEY,
        host TEXT NOT NULL, port INTEGER NOT NULL, network TEXT NOT NULL,
        status TEXT NOT NULL, severity TEXT NOT NULL,
        issuer_key TEXT, chain_id TEXT REFERENCES chains(id), signature TEXT NOT NULL,
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, seen INTEGER NOT NULL DEFAULT 1,
        doc TEXT NOT NULL
    );
    CREATE INDEX verdicts_host ON verdicts(host, port, last_seen);
    CREATE TABLE episodes (
        id INTEGER PRIMARY KEY,
        network TEXT NOT NULL, culprit TEXT NOT NULL, kind TEXT, status TEXT NOT NULL,
        hosts TEXT NOT NULL, started_at TEXT NOT NULL, last_seen TEXT NOT NULL, ended_at TEXT
    );
    CREATE INDEX episodes_open ON episodes(network, culprit, ended_at);
    """,
    # 2: what each network key stood for (Wi-Fi name, gateway, kind of link), so that it can be named for people
    """
    CREATE TABLE networks (key TEXT PRIMARY KEY, info TEXT NOT NULL, last_seen TEXT NOT NULL);
    """,
)



@dataclass(frozen=True)
class Retention:
    ok_days: int = 30  # unremarkable history
    alarm_days: int = 365  # anything not ok, and episodes


@dataclass(frozen=True)
class Episode:
    id: int
    network: str
    culprit: str
    kind: str | None
    status: str
    hosts: tuple[str, ...]
    started_at: datetime
    last_seen: datetime
    ended_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "network": self.network, "culprit": self.culprit, "kind": self.kind,
                "status": self.status, "hosts": list(self.hosts), "started_at": iso(self.started_at),
                "last_seen": iso(self.last_seen), "ended_at": iso(self.ended_at) if self.ended_at else None}


def _sqlite_reason(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "disk is full" in text or "database or disk is full" in text:
        return "disk full"
    if "readonly" in text or "read-only" in text:
        return "read-only file system"
    return text


def describe_sqlite_error(exc: sqlite3.Error, path: Path) -> str:
    """One line for the user about a failed write to the history (the daemon reports it, then retries)."""
    return f"{path}: {_sqlite_reason(exc)}"


class History:
    """Thread-safe: one connection, one lock (SQLite serialises writers anyway)."""

    def __init__(self, path: Path, retention: Retention | None = None) -> None:
        self.path = path
        self.retention = retention or Retention()
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            # A scrambled file may open fine and fail only on the first real read: read once now, inside the guard.
            self._db.execute("SELECT COUNT(*) FROM verdicts").fetchone()
        except sqlite3.Error as exc:
            # Never leave the file open behind a refusal (the caller may move it, or unmount its disk).
            with contextlib.suppress(AttributeError, sqlite3.Error):
                self._db.close()
            if not isinstance(exc, sqlite3.OperationalError):
                raise DataError(str(path), f"history database unusable ({exc}); move it away to start afresh") from exc
            # Full disk, read-only folder, locked or unreadable file: the database itself may be intact.
            raise DataError(str(path), f"cannot use the history database ({_sqlite_reason(exc)}); "
                                       "the file was left as it is") from exc

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(_MIGRATIONS):
            raise sqlite3.DatabaseError(f"schema version {version} is newer than this certguard knows")
        for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
            self._db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- writing

    def record_round(self, verdicts: Sequence[Verdict], network: str, now: datetime,
                     network_info: dict[str, Any] | None = None) -> list[Verdict]:
        """Store one round atomically (verdicts, episodes, pruning, and what ``network`` stands for). The verdicts
        are stored as judged: history facts reach the judge *before* judging (``facts``), so this never changes a
        decision."""
        with self._tx() as db:
            if network_info is not None:
                db.execute("INSERT INTO networks (key, info, last_seen) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE "
                           "SET info=excluded.info, last_seen=excluded.last_seen",
                           (network, json.dumps(network_info, sort_keys=True), iso(now)))
            for v in verdicts:
                self._store(db, v, network)
            self._update_episodes(db, verdicts, network, now)
            self._prune(db, now)
        return list(verdicts)

    def facts(self, host: str, port: int, network: str) -> HistoryFacts | None:
        """The issuing key last seen for (host, port) on ``network`` and since when it has not changed."""
        with self._lock:
            rows = self._db.execute("SELECT issuer_key, first_seen, last_seen FROM verdicts WHERE host=? AND port=? "
                                    "AND network=? AND issuer_key IS NOT NULL ORDER BY last_seen DESC, id DESC "
                                    "LIMIT 50", (host, port, network)).fetchall()
        if not rows:
            return None
        previous = rows[0][0]
        stable_since = parse_iso(rows[0][1])
        for k, first, _ in rows:
            if k != previous:
                break
            stable_since = parse_iso(first)
        return HistoryFacts(previous, stable_since, parse_iso(rows[0][2]))

    def facts_for(self, targets: Sequence[tuple[str, int]], network: str) -> dict[tuple[str, int], HistoryFacts]:
        out = {}
        for host, port in targets:
            if (found := self.facts(host, port, network)) is not None:
                out[(host, port)] = found
        return out

    def _store(self, db: sqlite3.Connection, v: Verdict, network: str) -> None:
        chain_id = None
        if v.chain:
            chain_id = hashlib.sha256("".join(c.sha256 for c in v.chain).encode()).hexdigest()
            db.execute("INSERT OR IGNORE INTO chains(id, certs) VALUES (?, ?)",
                       (chain_id, json.dumps([c.to_dict() for c in v.chain])))
        doc = v.to_dict()
        doc.pop("chain")
        signature = json.dumps([v.status.value, chain_id, sorted(f.id for f in v.findings),
                                v.interceptor.entry_id if v.interceptor else None])
        seen = iso(v.observed_at)
        last = db.execute("SELECT id, signature FROM verdicts WHERE host=? AND port=? AND network=? "
                          "ORDER BY last_seen DESC, id DESC LIMIT 1", (v.host, v.port, network)).fetchone()
        if last and last[1] == signature:
            db.execute("UPDATE verdicts SET last_seen=?, seen=seen+1, doc=? WHERE id=?",
                       (seen, json.dumps(doc), last[0]))
        else:
            db.execute("INSERT INTO verdicts(host, port, network, status, severity, issuer_key, chain_id, signature,"
                       " first_seen, last_seen, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       (v.host, v.port, network, v.status.value, v.severity.value, v.issuer_key, chain_id,
                        signature, seen, seen, json.dumps(doc)))

    def _update_episodes(self, db: sqlite3.Connection, verdicts: Sequence[Verdict], network: str,
                         now: datetime) -> None:
        """Open or extend an episode per culprit seen this round; close those whose hosts all came back clean.

        A host that could not be probed this round neither extends nor ends an episode."""
        current: dict[str, tuple[str | None, str, set[str]]] = {}
        clean = set()
        for v in verdicts:
            if v.status.alarming:
                kind = v.interceptor.kind.value if v.interceptor else None
                current.setdefault(v.culprit, (kind, v.status.value, set()))[2].add(v.host)
            elif v.status in (Status.OK, Status.MISCONFIGURED, Status.CAPTIVE_PORTAL):
                clean.add(v.host)
        stamp = iso(now)
        for culprit, (kind, status, hosts) in current.items():
            row = db.execute("SELECT id, hosts FROM episodes WHERE network=? AND culprit=? AND ended_at IS NULL",
                             (network, culprit)).fetchone()
            if row:
                merged = sorted(set(json.loads(row[1])) | hosts)
                db.execute("UPDATE episodes SET hosts=?, last_seen=? WHERE id=?", (json.dumps(merged), stamp, row[0]))
            else:
                db.execute("INSERT INTO episodes(network, culprit, kind, status, hosts, started_at, last_seen) "
                           "VALUES (?,?,?,?,?,?,?)", (network, culprit, kind, status, json.dumps(sorted(hosts)),
                                                      stamp, stamp))
        for ep_id, culprit, hosts in db.execute("SELECT id, culprit, hosts FROM episodes WHERE network=? AND "
                                                "ended_at IS NULL", (network,)).fetchall():
            if culprit not in current and set(json.loads(hosts)) <= clean:
                db.execute("UPDATE episodes SET ended_at=? WHERE id=?", (stamp, ep_id))

    def _prune(self, db: sqlite3.Connection, now: datetime) -> None:
        ok_cut = iso(now - timedelta(days=self.retention.ok_days))
        alarm_cut = iso(now - timedelta(days=self.retention.alarm_days))
        db.execute("DELETE FROM verdicts WHERE last_seen < ? AND (status = 'ok' OR last_seen < ?)", (ok_cut, alarm_cut))
        db.execute("DELETE FROM episodes WHERE ended_at IS NOT NULL AND ended_at < ?", (alarm_cut,))
        db.execute("DELETE FROM chains WHERE id NOT IN (SELECT chain_id FROM verdicts WHERE chain_id IS NOT NULL)")
        db.execute("DELETE FROM networks WHERE last_seen < ? AND key NOT IN (SELECT network FROM verdicts) "
                   "AND key NOT IN (SELECT network FROM episodes)", (alarm_cut,))

    # ---- reading

    def _chain(self, chain_id: str | None) -> list[dict[str, Any]]:
        if chain_id is None:
            return []
        row = self._db.execute("SELECT certs FROM chains WHERE id=?", (chain_id,)).fetchone()
        return json.loads(row[0]) if row else []

    def history(self, host: str, limit: int = 200) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT network, first_seen, last_seen, seen, chain_id, doc FROM verdicts "
                                    "WHERE host=? ORDER BY last_seen DESC, id DESC LIMIT ?", (host, limit)).fetchall()
            return [{**json.loads(doc), "network": net, "first_seen": first, "last_seen": last, "seen": seen,
                     "chain": self._chain(chain_id)} for net, first, last, seen, chain_id, doc in rows]

    def latest(self) -> list[Verdict]:
        """The newest verdict per (host, port), as the API's status shows it."""
        with self._lock:
            # Times have one-second resolution: ties are broken by row id (newer rows have larger ids).
            rows = self._db.execute(
                "SELECT chain_id, doc FROM (SELECT chain_id, doc, host, ROW_NUMBER() OVER (PARTITION BY host, port "
                "ORDER BY last_seen DESC, id DESC) AS rn FROM verdicts) WHERE rn = 1 ORDER BY host").fetchall()
            out = []
            for cid, doc in rows:
                try:
                    out.append(Verdict.from_dict({**json.loads(doc), "chain": self._chain(cid)}))
                except (ValueError, KeyError, TypeError) as exc:  # a damaged row: skipped, left in place, said
                    log.warning("history: skipping an unreadable stored verdict (%s: %s)", type(exc).__name__, exc)
            return out

    def episodes(self, limit: int = 200) -> list[Episode]:
        with self._lock:
            rows = self._db.execute("SELECT id, network, culprit, kind, status, hosts, started_at, last_seen, "
                                    "ended_at FROM episodes ORDER BY started_at DESC LIMIT ?", (limit,)).fetchall()
        return [Episode(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), parse_iso(r[6]), parse_iso(r[7]),
                        parse_iso(r[8]) if r[8] else None) for r in rows]

    def networks(self, limit: int = 100) -> list[tuple[str, dict[str, Any] | None]]:
        """The networks this device was on, most recent first: each key with what it stood for (None for keys
        recorded before version 2 of the schema, or unreadable)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, info, last_seen FROM networks UNION ALL "
                "SELECT network, NULL, MAX(last_seen) FROM verdicts "
                "WHERE network NOT IN (SELECT key FROM networks WHERE key IS NOT NULL) "
                "GROUP BY network ORDER BY 3 DESC LIMIT ?", (limit,)).fetchall()
        out: list[tuple[str, dict[str, Any] | None]] = []
        for key, info, _ in rows:
            if not isinstance(key, str):  # SQLite lets a TEXT primary key be NULL: a row nobody can name or pick
                continue
            try:
                doc = json.loads(info) if isinstance(info, str) else None
            except (ValueError, RecursionError):
                doc = None
            out.append((key, doc if isinstance(doc, dict) else None))
        return out

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(SUM(seen), 0) FROM verdicts").fetchone()[0])
