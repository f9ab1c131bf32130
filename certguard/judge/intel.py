"""Known interceptors: lookup of received certificates by SPKI / certificate hash (strong) or issuer name (weak)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from certguard.data import files as datafiles
from certguard.errors import DataError
from certguard.judge import certs
from certguard.judge.models import InterceptorKind, InterceptorMatch, MatchStrength


@dataclass(frozen=True)
class IssuerPattern:
    """All given parts must match the issuer name: ``cn``/``o`` are searched regexes, ``c`` is exact."""

    cn: re.Pattern[str] | None
    o: re.Pattern[str] | None
    c: str | None

    def matches(self, name: x509.Name) -> bool:
        def any_search(pattern: re.Pattern[str], oid: x509.ObjectIdentifier) -> bool:
            return any(pattern.search(v) for v in certs.attribute(name, oid))

        if self.cn is not None and not any_search(self.cn, NameOID.COMMON_NAME):
            return False
        if self.o is not None and not any_search(self.o, NameOID.ORGANIZATION_NAME):
            return False
        return self.c is None or self.c.upper() in (v.upper() for v in certs.attribute(name, NameOID.COUNTRY_NAME))


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
        return any(datafiles.domain_matches(host, d) for d in self.legitimate_domains)

    def as_match(self, strength: MatchStrength, cert_sha256: str) -> InterceptorMatch:
        return InterceptorMatch(self.entry_id, self.name, self.kind, self.country, strength, cert_sha256,
                                self.references)


@dataclass(frozen=True)
class IntelDB:
    entries: tuple[Interceptor, ...]
    sha256: str
    sources: tuple[str, ...]

    def by_id(self, entry_id: str) -> Interceptor:
        return next(e for e in self.entries if e.entry_id == entry_id)

    def match_strong(self, cert: x509.Certificate) -> list[InterceptorMatch]:
        """Entries that know this exact key or certificate."""
        spki = certs.spki_sha256(cert)
        fp = certs.fingerprint(cert)
        out = []
        for e in self.entries:
            if spki in e.spki_sha256:
                out.append(e.as_match(MatchStrength.SPKI, fp))
            elif fp in e.sha256:
                out.append(e.as_match(MatchStrength.CERTIFICATE, fp))
        return out

    def match_issuer_name(self, cert: x509.Certificate) -> list[InterceptorMatch]:
        """Entries whose issuer patterns match this certificate's *issuer* (weak: names can be copied)."""
        fp = certs.fingerprint(cert)
        return [e.as_match(MatchStrength.NAME, fp) for e in self.entries
                if any(p.matches(cert.issuer) for p in e.issuer_patterns)]


def _pattern(raw: Any, where: str, src: str) -> IssuerPattern:
    if not isinstance(raw, dict) or not raw or set(raw) - {"cn", "o", "c"}:
        raise DataError(src, f"{where}: an issuer pattern is a table with some of 'cn', 'o', 'c'")

    def rx(key: str) -> re.Pattern[str] | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise DataError(src, f"{where}.{key} must be a string")
        try:
            return re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise DataError(src, f"{where}.{key}: bad regular expression ({exc})") from exc

    c = raw.get("c")
    if c is not None and not isinstance(c, str):
        raise DataError(src, f"{where}.c must be a string")
    return IssuerPattern(rx("cn"), rx("o"), c)


def _parse(loaded: datafiles.Loaded) -> list[Interceptor]:
    src = loaded.source
    out = []
    for i, t in enumerate(datafiles.tables(loaded.doc, "interceptor", src)):
        where = f"interceptor[{i}]"
        entry_id = datafiles.opt_str(t, "id", where, src)
        name = datafiles.opt_str(t, "name", where, src)
        if not entry_id or not name:
            raise DataError(src, f"{where}: 'id' and 'name' are required")
        where = f"interceptor {entry_id}"
        try:
            kind = InterceptorKind(t.get("kind"))
        except ValueError as exc:
            kinds = ", ".join(k.value for k in InterceptorKind if k is not InterceptorKind.UNKNOWN)
            raise DataError(src, f"{where}: kind must be one of {kinds}") from exc
        spkis = frozenset(datafiles.hex64(v, f"{where}.spki_sha256", src)
                          for v in datafiles.str_list(t, "spki_sha256", where, src))
        fps = frozenset(datafiles.hex64(v, f"{where}.sha256", src) for v in datafiles.str_list(t, "sha256", where, src))
        raw_patterns = t.get("issuer_patterns", [])
        if not isinstance(raw_patterns, list):
            raise DataError(src, f"{where}: issuer_patterns must be a list")
        patterns = tuple(_pattern(p, f"{where}.issuer_patterns[{j}]", src) for j, p in enumerate(raw_patterns))
        if not (spkis or fps or patterns):
            raise DataError(src, f"{where}: needs spki_sha256, sha256 or issuer_patterns")
        out.append(Interceptor(
            entry_id=entry_id, name=name, kind=kind,
            country=datafiles.opt_str(t, "country", where, src),
            years=datafiles.opt_str(t, "years", where, src),
            spki_sha256=spkis, sha256=fps, issuer_patterns=patterns,
            legitimate_domains=datafiles.str_list(t, "legitimate_domains", where, src),
            references=datafiles.str_list(t, "references", where, src),
        ))
    return out


def load(extra: Sequence[Path] = ()) -> IntelDB:
    """The shipped interceptor list plus user files (``--intel``, same format).

    Raises:
        DataError: a file is unreadable or malformed, or two entries share an id.
    """
    loaded = [datafiles.load_builtin("interceptors.toml"), *(datafiles.load_path(p) for p in extra)]
    entries: list[Interceptor] = []
    for doc in loaded:
        entries.extend(_parse(doc))
    seen: set[str] = set()
    for e in entries:
        if e.entry_id in seen:
            raise DataError("intel", f"interceptor id {e.entry_id!r} is defined twice")
        seen.add(e.entry_id)
    return IntelDB(tuple(entries), datafiles.combined_sha256(loaded), tuple(d.source for d in loaded))
