"""Path building against one set of trust anchors, with the reason kept when there is no path.

Uses ``cryptography.x509.verification`` (RFC 5280 + CA/B Forum WebPKI profile). The received chain's order is
never assumed: the leaf and *every other* received certificate go to the path builder as untrusted
intermediates, and the builder finds the path (RFC 8446 §4.4.2 allows extra and out-of-order certificates).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from cryptography import x509
from cryptography.x509 import DNSName, IPAddress
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from certguard.errors import DataError
from certguard.judge import certs


class PathError(str, Enum):
    UNTRUSTED = "untrusted"  # no path to any anchor of this set (unknown issuer, or a policy violation)
    NAME_MISMATCH = "name_mismatch"  # trusted chain, but not for this host (or not a valid TLS server leaf)
    EXPIRED = "expired"  # trusted chain for a time inside its validity, not now
    NOT_YET_VALID = "not_yet_valid"
    NO_PATH = "no_path"  # no valid path for this host now; why was not asked (build_path(diagnose=False))


@dataclass(frozen=True, eq=False)
class AnchorSet:
    """Trust anchors with where they came from (``source`` such as ``mozilla (certifi 2026.10.19)``).

    The cryptography ``Store`` and the fingerprint sets are computed once here: building a Store over 120 roots
    is the expensive part of a verification.
    """

    source: str
    certs: tuple[x509.Certificate, ...]
    # The DER of each certificate when the caller has it (from_ders): saves re-encoding ~120 roots per load.
    ders: tuple[bytes, ...] = field(default=(), repr=False, compare=False)
    store: Store = field(init=False, repr=False)
    sha256s: frozenset[str] = field(init=False, repr=False)
    spki_sha256s: frozenset[str] = field(init=False, repr=False)
    subjects: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.certs:
            raise ValueError(f"anchor set {self.source!r} is empty")
        ders = self.ders if len(self.ders) == len(self.certs) else tuple(certs.der_of(c) for c in self.certs)
        object.__setattr__(self, "ders", ders)
        object.__setattr__(self, "store", Store(list(self.certs)))
        object.__setattr__(self, "subjects", {certs.sha256_hex(d): certs.name_str(c.subject)
                                              for c, d in zip(self.certs, ders, strict=True)})
        object.__setattr__(self, "sha256s", frozenset(self.subjects))
        # From the raw SubjectPublicKeyInfo: a store may hold a root whose key type cryptography cannot load (GOST).
        object.__setattr__(self, "spki_sha256s", frozenset(certs.raw_spki_sha256(d) for d in ders))

    def subject_of(self, sha256: str | None) -> str | None:
        """The subject of the anchor with this certificate hash (the UI names the root a chain ends at)."""
        return self.subjects.get(sha256 or "")

    @classmethod
    def from_ders(cls, source: str, ders: Sequence[bytes]) -> AnchorSet:
        """Raises:
            DataError: an anchor is not a certificate, or there are none.
        """
        parsed: dict[bytes, x509.Certificate] = {}  # by DER: the same certificate twice is one anchor
        for i, der in enumerate(ders):
            try:
                cert = certs.parse(der)
            except ValueError as exc:
                raise DataError(source, f"anchor #{i + 1} is not a certificate ({certs.reason(exc)})",
                                key="error.anchors.not_certificate", number=i + 1,
                                reason=certs.reason(exc)) from exc
            parsed.setdefault(der, cert)
        if not parsed:
            raise DataError(source, "contains no certificates", key="error.anchors.empty")
        return cls(source=source, certs=tuple(parsed.values()), ders=tuple(parsed))

    @classmethod
    def from_pem_file(cls, source: str, data: bytes) -> AnchorSet:
        return cls.from_ders(source, certs.split_pem_or_der(data, source))


@dataclass(frozen=True)
class PathResult:
    """Outcome of building a path from the received chain to one anchor set.

    Attributes:
        source: the anchor set's ``source``.
        path: leaf → anchor as built by cryptography; None if no valid path exists for ``host`` at ``now``.
        error: why there is no path; None on success.
        detail: cryptography's own words for the failure (kept for the evidence).
    """

    source: str
    path: tuple[x509.Certificate, ...] | None
    error: PathError | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.path is not None

    @property
    def anchor(self) -> x509.Certificate | None:
        return self.path[-1] if self.path else None


def _subject_for(host: str) -> DNSName | IPAddress:
    try:
        return IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return DNSName(host.lower().rstrip("."))


Path = tuple[x509.Certificate, ...]
_MakeVerifier = Callable[[Store, datetime], Callable[[x509.Certificate, list[x509.Certificate]], Path]]


def _for_host(host: str) -> _MakeVerifier:
    """The WebPKI server verifier for ``host`` (the name the user asked for, never one taken from the leaf)."""
    def make(store: Store, at: datetime) -> Callable[[x509.Certificate, list[x509.Certificate]], Path]:
        verifier = PolicyBuilder().store(store).time(at).build_server_verifier(_subject_for(host))
        return lambda leaf, others: tuple(verifier.verify(leaf, others))
    return make


def _any_name(store: Store, at: datetime) -> Callable[[x509.Certificate, list[x509.Certificate]], Path]:
    """Diagnosis only: does the chain lead to a trusted anchor at all, whatever the leaf's names and purpose?
    (The CA rules stay those of the WebPKI; the leaf's own extensions are not checked.)"""
    verifier = (PolicyBuilder().store(store).time(at)
                .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                    ee_policy=ExtensionPolicy.permit_all())
                .build_client_verifier())
    return lambda leaf, others: tuple(verifier.verify(leaf, others).chain)


def _attempt(make: _MakeVerifier, store: Store, at: datetime, leaf: x509.Certificate,
             others: list[x509.Certificate], clean: list[x509.Certificate]) -> tuple[Path | None, str]:
    """One verification. cryptography raises more than VerificationError on input it cannot handle (odd names,
    duplicate extensions): that is the server's doing, so it means "no path", with the reason, never a crash.
    An odd *extra* certificate must not sink a genuine chain either: retry once without the unclean ones."""
    try:
        return make(store, at)(leaf, others), ""
    except VerificationError as exc:
        return None, str(exc)
    except Exception as exc:  # server-controlled input: every failure is a reason, never a crash
        detail = f"{type(exc).__name__}: {exc}"
    if clean != others:
        path, again = _attempt(make, store, at, leaf, clean, clean)
        return path, again if path is None else ""
    return None, detail


def build_path(leaf: x509.Certificate, others: Sequence[x509.Certificate], anchors: AnchorSet, host: str,
               now: datetime, *, clean: Sequence[x509.Certificate] | None = None, diagnose: bool = True) -> PathResult:
    """Build leaf → anchor for ``host`` at ``now``; if impossible, find out whether the chain is otherwise
    trusted (then the time, the name or the leaf's profile is the problem) or not trusted at all.

    ``others`` are every other received certificate, handed over unordered; ``clean`` is the subset that read
    without problems (tried again when an odd one makes the verifier fail). ``diagnose=False`` skips the up to
    three further verifications that find out why there is no path (``NO_PATH``): for callers that only ask
    whether a path exists.
    """
    rest, tidy = list(others), list(clean) if clean is not None else list(others)
    store = anchors.store
    path, detail = _attempt(_for_host(host), store, now, leaf, rest, tidy)
    if path is not None:
        return PathResult(anchors.source, path, None)
    if not diagnose:
        return PathResult(anchors.source, None, PathError.NO_PATH, detail)
    try:
        mid = leaf.not_valid_before_utc + (leaf.not_valid_after_utc - leaf.not_valid_before_utc) / 2
    except Exception:  # a validity Python cannot hold (year 0): the server's bytes; no moment inside it to try
        mid = None
    then = _attempt(_for_host(host), store, mid, leaf, rest, tidy)[0] if mid is not None else None
    if then is not None:
        # The chain is good for this host at some moment inside its validity: only the clock is the problem.
        expired = any(now > c.not_valid_after_utc for c in then)
        return PathResult(anchors.source, None, PathError.EXPIRED if expired else PathError.NOT_YET_VALID, detail)
    if _attempt(_any_name, store, now, leaf, rest, tidy)[0] is not None:
        return PathResult(anchors.source, None, PathError.NAME_MISMATCH, detail)
    return PathResult(anchors.source, None, PathError.UNTRUSTED, detail)
