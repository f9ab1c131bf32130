"""Known interceptors: lookup of received certificates by SPKI / certificate hash (strong) or issuer name (weak)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import NameOID

from certguard.judge import certs
from certguard.judge.models import InterceptorKind, InterceptorMatch, MatchStrength


@dataclass(frozen=True)
class IssuerPattern:
    """All given parts must match the issuer name: ``cn``/``o`` are searched regexes, ``c`` is exact."""

    cn: re.Pattern[str] | None
    o: re.Pattern[str] | None
    c: str | None

    def matches(self, name: x509.Name) -> bool:
        return self.matches_parts(NameParts.of(name))

    def matches_parts(self, parts: NameParts) -> bool:
        if self.cn is not None and not any(self.cn.search(v) for v in parts.cn):
            return False
        if self.o is not None and not any(self.o.search(v) for v in parts.o):
            return False
        return self.c is None or self.c.upper() in parts.c_upper


@dataclass(frozen=True)
class NameParts:
    """The attributes issuer patterns look at, read from a name once (not once per pattern: the list has dozens)."""

    cn: tuple[str, ...]
    o: tuple[str, ...]
    c_upper: tuple[str, ...]

    @classmethod
    def of(cls, name: x509.Name) -> NameParts:
        return cls(tuple(certs.attribute(name, NameOID.COMMON_NAME)),
                   tuple(certs.attribute(name, NameOID.ORGANIZATION_NAME)),
                   tuple(v.upper() for v in certs.attribute(name, NameOID.COUNTRY_NAME)))


@dataclass(frozen=True)
class Interceptor:
    entry_id: str
    name: str
    kind: InterceptorKind
    country: str | None
    years: str | None
    spki_sha256: frozenset[str]
    sha256: frozenset[str]
    issuer_patterns: tuple[IssuerPattern, ...]
    legitimate_domains: tuple[str, ...]
    references: tuple[str, ...]

    def legitimate_for(self, host: str) -> bool:
        return any(certs.domain_matches(host, d) for d in self.legitimate_domains)

    def as_match(self, strength: MatchStrength, cert_sha256: str) -> InterceptorMatch:
        return InterceptorMatch(self.entry_id, self.name, self.kind, self.country, strength, cert_sha256,
                                self.references)


# Distinct issuer names remembered per IntelDB (their matching entries): a handful of issuers sign most chains.
NAME_CACHE_SIZE = 1024


@dataclass(frozen=True)
class IntelDB:
    entries: tuple[Interceptor, ...]
    sha256: str
    sources: tuple[str, ...]
    # NameParts -> indexes of the entries whose patterns match it. The entries never change after loading, and the
    # key is everything the patterns read, so a cached answer is the answer.
    _by_name: dict[NameParts, tuple[int, ...]] = field(default_factory=dict, init=False, repr=False, compare=False,
                                                       hash=False)

    def by_id(self, entry_id: str) -> Interceptor:
        return next(e for e in self.entries if e.entry_id == entry_id)

    def match_strong(self, sha256: str, spki_sha256: str | None) -> list[InterceptorMatch]:
        """Entries that know this exact key or certificate (hashes, so an unparseable certificate still matches)."""
        out = []
        for e in self.entries:
            if spki_sha256 is not None and spki_sha256 in e.spki_sha256:
                out.append(e.as_match(MatchStrength.SPKI, sha256))
            elif sha256 in e.sha256:
                out.append(e.as_match(MatchStrength.CERTIFICATE, sha256))
        return out

    def match_issuer_name(self, issuer: x509.Name, sha256: str) -> list[InterceptorMatch]:
        """Entries whose issuer patterns match a certificate's *issuer* (weak: names can be copied)."""
        parts = NameParts.of(issuer)
        hits = self._by_name.get(parts)
        if hits is None:
            hits = tuple(i for i, e in enumerate(self.entries)
                         if any(p.matches_parts(parts) for p in e.issuer_patterns))
            if len(self._by_name) >= NAME_CACHE_SIZE:
                self._by_name.clear()
            self._by_name[parts] = hits
        return [self.entries[i].as_match(MatchStrength.NAME, sha256) for i in hits]
