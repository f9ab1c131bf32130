"""Per-site pinsets: which CA keys a site is expected to chain to.

A pin is checked against the SPKIs of the *verified public path* only (the leaf's real issuers up to the
anchor). Certificates the server sent but that are not on that path never count: an interceptor could append a
genuine root to satisfy a naive pin check.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from certguard.data import files as datafiles
from certguard.errors import DataError
from certguard.judge import certs
from certguard.judge.models import PinOutcome
from certguard.judge.verify import AnchorSet


@dataclass(frozen=True)
class PinKey:
    key_id: str
    name: str
    spki_sha256: str
    source: str


@dataclass(frozen=True)
class PinSet:
    name: str
    hosts: tuple[str, ...]
    include_subdomains: bool
    keys: tuple[PinKey, ...]
    bad_keys: tuple[PinKey, ...]
    confidence: str
    source: str
    date: str

    def covers(self, host: str) -> bool:
        return any(datafiles.domain_matches(host, h, self.include_subdomains) for h in self.hosts)

    def check(self, path: Sequence[x509.Certificate]) -> PinOutcome:
        """Match the issuers on a verified path (leaf excluded) against this pinset."""
        spkis = [certs.spki_sha256(c) for c in path[1:]]
        bad = {k.spki_sha256: k for k in self.bad_keys}
        for spki in spkis:
            if spki in bad:
                return PinOutcome(pinset=self.name, matched=False, bad_key=bad[spki].name)
        good = {k.spki_sha256: k for k in self.keys}
        for spki in spkis:
            if spki in good:
                return PinOutcome(pinset=self.name, matched=True, matched_key=good[spki].name)
        return PinOutcome(pinset=self.name, matched=False)


@dataclass(frozen=True)
class PinDB:
    pinsets: tuple[PinSet, ...]
    keys: tuple[PinKey, ...]
    sha256: str  # of the data file(s) used: provenance
    sources: tuple[str, ...]

    def for_host(self, host: str) -> PinSet | None:
        """The most specific pinset covering ``host`` (user pinsets come first and win ties)."""
        best: PinSet | None = None
        best_len = -1
        for ps in self.pinsets:
            for h in ps.hosts:
                if datafiles.domain_matches(host, h, ps.include_subdomains) and len(h) > best_len:
                    best, best_len = ps, len(h)
        return best


def _parse(loaded: datafiles.Loaded, known: dict[str, PinKey]) -> tuple[list[PinSet], dict[str, PinKey]]:
    src = loaded.source
    keys = dict(known)
    raw_keys = loaded.doc.get("keys", {})
    if not isinstance(raw_keys, dict):
        raise DataError(src, "'keys' must be a table of [keys.ID] tables")
    for key_id, table in raw_keys.items():
        if not isinstance(table, dict):
            raise DataError(src, f"keys.{key_id} must be a table")
        keys[key_id] = PinKey(
            key_id=key_id,
            name=datafiles.opt_str(table, "name", f"keys.{key_id}", src) or key_id,
            spki_sha256=datafiles.hex64(table.get("spki_sha256"), f"keys.{key_id}.spki_sha256", src),
            source=datafiles.opt_str(table, "source", f"keys.{key_id}", src) or src,
        )

    def resolve(refs: Iterable[str], where: str) -> tuple[PinKey, ...]:
        out = []
        for ref in refs:
            if ref in keys:
                out.append(keys[ref])
            else:
                # A raw hash is allowed so a user pin file can stay one table per site.
                out.append(PinKey(ref, ref[:16], datafiles.hex64(ref, f"{where}: unknown key or hash", src), src))
        return tuple(out)

    pinsets = []
    for i, t in enumerate(datafiles.tables(loaded.doc, "pinsets", src)):
        where = f"pinsets[{i}]"
        name = datafiles.opt_str(t, "name", where, src) or f"{src}#{i}"
        hosts = datafiles.str_list(t, "hosts", where, src)
        key_refs = datafiles.str_list(t, "keys", where, src)
        if not hosts or not key_refs:
            raise DataError(src, f"{where} ({name}): needs at least one host and one key")
        sub = t.get("include_subdomains", False)
        if not isinstance(sub, bool):
            raise DataError(src, f"{where}: include_subdomains must be true or false")
        pinsets.append(PinSet(
            name=name,
            hosts=tuple(h.lower() for h in hosts),
            include_subdomains=sub,
            keys=resolve(key_refs, where),
            bad_keys=resolve(datafiles.str_list(t, "bad_keys", where, src), where),
            confidence=datafiles.opt_str(t, "confidence", where, src) or "high",
            source=datafiles.opt_str(t, "source", where, src) or src,
            date=str(t.get("date", "")),
        ))
    return pinsets, keys


def load(extra: Sequence[Path] = ()) -> PinDB:
    """The shipped pinsets plus user files (``--pins``). User pinsets are listed first.

    Raises:
        DataError: a file is unreadable or malformed.
    """
    builtin = datafiles.load_builtin("pins.toml")
    pinsets, keys = _parse(builtin, {})
    loaded = [builtin]
    user_sets: list[PinSet] = []
    for p in extra:
        doc = datafiles.load_path(p)
        more, keys = _parse(doc, keys)
        user_sets.extend(more)
        loaded.append(doc)
    return PinDB(tuple(user_sets + pinsets), tuple(keys.values()), datafiles.combined_sha256(loaded),
                 tuple(d.source for d in loaded))


def audit_against(db: PinDB, anchors: AnchorSet) -> dict[str, Any]:
    """Which pinned keys are roots in ``anchors`` (Mozilla's program)? A key that is not may be a backup key
    or an intermediate; a pinset none of whose keys is there is stale (PINS_STALE)."""
    sets = []
    missing: set[str] = set()
    all_keys: set[str] = set()
    for ps in db.pinsets:
        all_keys.update(k.spki_sha256 for k in ps.keys)
        missing.update(k.spki_sha256 for k in ps.keys if k.spki_sha256 not in anchors.spki_sha256s)
        keys = [{"id": k.key_id, "name": k.name, "spki_sha256": k.spki_sha256,
                 "in_mozilla": k.spki_sha256 in anchors.spki_sha256s} for k in ps.keys]
        sets.append({"name": ps.name, "hosts": list(ps.hosts), "confidence": ps.confidence, "source": ps.source,
                     "date": ps.date, "keys": keys, "stale": not any(k["in_mozilla"] for k in keys)})
    return {"anchors": anchors.source, "pins_sha256": db.sha256, "pinsets": sets,
            "keys_total": len(all_keys), "keys_not_in_mozilla": len(missing)}
