"""Per-site pinsets: which CA keys a site is expected to chain to.

A pin is checked against the SPKIs of the *verified public path* only (the leaf's real issuers up to the
anchor). Certificates the server sent but that are not on that path never count: an interceptor could append a
genuine root to satisfy a naive pin check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

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
class CARoots:
    """A certificate authority and the roots it issues TLS server certificates from today."""

    ca_id: str
    name: str
    roots: tuple[PinKey, ...]
    source: str


@dataclass(frozen=True)
class PinSet:
    name: str
    hosts: tuple[str, ...]
    include_subdomains: bool
    keys: tuple[PinKey, ...]
    bad_keys: tuple[PinKey, ...]
    confidence: str  # "high": enforced by Chrome too (a mismatch is an alarm); "medium": may lag behind the site
    source: str
    date: str
    cas: tuple[CARoots, ...] = ()  # the CA(s) the site uses today, with the roots each issues from

    def covers(self, host: str) -> bool:
        return any(certs.domain_matches(host, h, self.include_subdomains) for h in self.hosts)

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
                if certs.domain_matches(host, h, ps.include_subdomains) and len(h) > best_len:
                    best, best_len = ps, len(h)
        return best


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
        pinned = {k.spki_sha256 for k in ps.keys}
        # A CA the site uses issues from a root the pinset lacks: the pinset will cry wolf once the site's chain
        # ends there (github.com and Sectigo's Root E46, 2025).
        unpinned = [{"ca": ca.name, "id": k.key_id, "name": k.name, "spki_sha256": k.spki_sha256}
                    for ca in ps.cas for k in ca.roots if k.spki_sha256 not in pinned]
        sets.append({"name": ps.name, "hosts": list(ps.hosts), "confidence": ps.confidence, "source": ps.source,
                     "date": ps.date, "keys": keys, "stale": not any(k["in_mozilla"] for k in keys),
                     "cas": [ca.name for ca in ps.cas], "missing_ca_roots": unpinned})
    return {"anchors": anchors.source, "pins_sha256": db.sha256, "pinsets": sets,
            "keys_total": len(all_keys), "keys_not_in_mozilla": len(missing),
            "pinsets_missing_ca_roots": sum(1 for s in sets if s["missing_ca_roots"])}
