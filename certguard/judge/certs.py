"""Pure X.509 helpers over ``cryptography``: loading, fingerprints, names, host-name matching.

No I/O except what callers hand in as bytes.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import ipaddress
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtensionOID, NameOID

from certguard.errors import DataError
from certguard.judge import der as der_mod
from certguard.judge.models import CertInfo

_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
_PEM_END = b"-----END CERTIFICATE-----"
# What a report shows for a name certguard could not decode.
UNREADABLE = "(unreadable)"
T = TypeVar("T")


def parse(der: bytes) -> x509.Certificate:
    """Parse one DER certificate.

    Raises:
        ValueError: the bytes are not a certificate cryptography can read.
    """
    with _lenient_serial():
        try:
            return x509.load_der_x509_certificate(der)
        except x509.InvalidVersion as exc:  # a version 4: not a ValueError, which every caller catches
            raise ValueError(str(exc)) from exc


def reason(exc: BaseException) -> str:
    """cryptography's parse error in words for one line of output: its message without the Rust debug dump
    (``ParseError { kind: ShortData { needed: 97 }, location: [...] }`` becomes ``ShortData``)."""
    text = str(exc)
    if "ParseError {" not in text:
        return text
    kind = re.search(r"kind: (\w+)", text)
    return f"{text.split(': ParseError', 1)[0]} ({kind.group(1) if kind else 'malformed'})"


@contextlib.contextmanager
def _lenient_serial() -> Iterator[None]:
    # Several roots in Mozilla's program (GoDaddy/Starfield G2, SECOM RootCA2, HARICA 2015) have a serial number
    # cryptography calls non-positive. They are real anchors, so accept them; only this one warning is silenced
    # (cryptography may emit it at parse time or lazily, on first access to the extensions), so that `-W error`
    # still catches everything else.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")
        yield


def der_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def sha256_hex(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def sha1_hex(der: bytes) -> str:
    """Only to look certificates up where a platform keys them by SHA-1 (macOS trust settings)."""
    return hashlib.sha1(der, usedforsecurity=False).hexdigest()


# Certificates compare and hash by their DER bytes, so these caches can only answer for the very same certificate;
# the judge asks for the same path and anchor fingerprints several times per chain, and for the same ones every round.
@functools.lru_cache(maxsize=512)
def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lowercase hex: the one canonical certificate fingerprint."""
    return sha256_hex(der_of(cert))


def spki_der(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@functools.lru_cache(maxsize=512)
def spki_sha256(cert: x509.Certificate) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo: the value Chromium's blocklist and HPKP-style pins use."""
    return hashlib.sha256(spki_der(cert)).hexdigest()


def raw_spki_sha256(der: bytes) -> str:
    """``spki_sha256`` from the SubjectPublicKeyInfo bytes as they stand in a certificate cryptography loaded: the
    same value, also for a key type it cannot load (a GOST root in a device store)."""
    return hashlib.sha256(der_mod.raw_fields(der).spki).hexdigest()


def name_str(name: x509.Name) -> str:
    return name.rfc4514_string()


def split_pem_or_der(data: bytes, source: str) -> list[bytes]:
    """Return the DER blocks in ``data`` (a PEM bundle, or DER certificates one after the other), in file order,
    *without* judging whether each is a certificate cryptography can read: a saved chain is judged exactly like a
    live probe, odd certificates included.

    Raises:
        DataError: nothing in ``data`` looks like a certificate, or a PEM block is truncated or not base64.
    """
    if _PEM_BEGIN in data:
        ders: list[bytes] = []
        pos = 0  # an offset, not a shrinking copy of the rest: a bundle of 120 roots was copied 120 times
        while (start := data.find(_PEM_BEGIN, pos)) != -1:
            end = data.find(_PEM_END, start)
            if end == -1:
                raise DataError(source, f"certificate #{len(ders) + 1} has no END line (truncated PEM)",
                                key="error.certs.no_end", number=len(ders) + 1)
            body = b"".join(data[start + len(_PEM_BEGIN):end].split())
            try:
                ders.append(base64.b64decode(body, validate=True))
            except ValueError as exc:
                raise DataError(source, f"certificate #{len(ders) + 1} is not valid base64 ({exc})",
                                key="error.certs.base64", number=len(ders) + 1) from exc
            pos = end + len(_PEM_END)
        return ders
    blocks = der_mod.split_concatenated(data)
    if not blocks:
        raise DataError(source, "neither a PEM bundle nor DER certificates", key="error.certs.not_certificates")
    return blocks


def readable_any(ders: Iterable[bytes]) -> bool:
    """Whether at least one block is a certificate cryptography can read: a file where none is, is not a saved
    chain at all (a wrong file), and is refused in one line rather than judged as a served chain."""
    for der in ders:
        try:
            parse(der)
        except ValueError:
            continue
        return True
    return False


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return None
    assert isinstance(san, x509.SubjectAlternativeName)
    return san


def dns_names(cert: x509.Certificate) -> list[str]:
    """The SAN DNS names, lower case. Only for certificates certguard trusts to be readable (anchors, verified
    paths); a received certificate goes through ``view()``, which turns every parse failure into a problem.

    Raises:
        ValueError (and cryptography's DuplicateExtension): the extensions cannot be read.
    """
    san = _san(cert)
    return [n.lower() for n in san.get_values_for_type(x509.DNSName)] if san else []


def _ip_names(cert: x509.Certificate) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    san = _san(cert)
    return [ip for ip in (san.get_values_for_type(x509.IPAddress) if san else [])
            if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)]


def _common_names(cert: x509.Certificate) -> list[str]:
    return [str(a.value).lower() for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def _dns_match(pattern: str, host: str) -> bool:
    # RFC 6125 §6.4.3 as browsers apply it: a wildcard only as the whole left-most label, matching one label.
    pattern = pattern.rstrip(".")
    if pattern.startswith("*."):
        suffix = pattern[1:]
        return host.endswith(suffix) and "." not in host[: -len(suffix)] and len(host) > len(suffix)
    return pattern == host


def is_ca(cert: x509.Certificate) -> bool:
    try:
        with _lenient_serial():
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return bc.ca


@dataclass(frozen=True)
class CertView:
    """One received certificate, read once, where every field that can fail to parse is an explicit "unreadable"
    (None, with the reason in ``problems``) instead of an exception.

    An interceptor chooses every byte of what it sends; a field certguard cannot read must become evidence
    (MALFORMED_CERTIFICATE), never a crash that turns an interception into a quieter verdict.

    Attributes:
        position: index in the chain as received (0 = the leaf).
        der: the bytes as received.
        cert: cryptography's object, or None when cryptography refuses the certificate as a whole.
        spki_sha256: from the raw SubjectPublicKeyInfo bytes (readable even when the key type is unknown).
        subject, issuer: RFC 4514 text; None when the name cannot be decoded.
        issuer_name: the parsed issuer (for name patterns); None when unreadable.
        dns_names / ip_names / common_names: the names the certificate claims; empty when unreadable.
        names_readable: False when the SAN or subject could not be read (then ``claims`` falls back to the bytes).
        problems: what could not be read, in cryptography's words.
    """

    position: int
    der: bytes
    sha256: str
    cert: x509.Certificate | None
    spki_sha256: str | None
    subject: str | None
    issuer: str | None
    issuer_name: x509.Name | None
    dns_names: tuple[str, ...]
    ip_names: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]
    common_names: tuple[str, ...]
    names_readable: bool
    not_before: datetime | None
    not_after: datetime | None
    is_ca: bool
    problems: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return self.cert is not None and not self.problems

    def claims(self, host: str) -> bool:
        """Does the certificate claim to be ``host``?

        Used to tell a forged leaf (copies the real site's names) from a captive portal's (its own name). Unlike
        path validation this falls back to the subject CN when there is no SAN: a forger that skips the SAN is still
        forging. When the names cannot be read, the host's name appearing anywhere in the certificate counts as a
        claim (fail closed: a forger must not escape by making its names unreadable).
        """
        host = host.lower().rstrip(".")
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if not self.names_readable and any(b in self.der.lower() for b in _claim_bytes(host, ip)):
            return True
        if ip is not None:
            return ip in self.ip_names or host in self.common_names
        names = self.dns_names or self.common_names
        return any(_dns_match(n, host) for n in names)


def _host_bytes(host: str) -> bytes:
    """The host as it would stand in a certificate (IDNA A-labels)."""
    try:
        return host.encode("idna")
    except UnicodeError:
        return host.encode("utf-8")


def _claim_bytes(host: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> list[bytes]:
    """What a certificate naming ``host`` contains somewhere, for when its names cannot be read: the host itself,
    the wildcard that covers it (``*.example.com``: the name bytes of ``www.example.com`` are then nowhere in the
    certificate), and for an address the SAN iPAddress entry ([7] IMPLICIT OCTET STRING, lower-cased like the rest)."""
    if ip is not None:
        return [host.encode("ascii"), (bytes([0x87, len(ip.packed)]) + ip.packed).lower()]
    name = _host_bytes(host)
    return [name] + ([b"*." + name.split(b".", 1)[1]] if b"." in name else [])


def _guard(problems: list[str], what: str, read: Callable[[], T], default: T) -> T:
    # Called inside view()'s one _lenient_serial() block: entering warnings.catch_warnings per field cost more
    # than reading the fields.
    try:
        return read()
    except Exception as exc:  # server-controlled bytes: every failure is evidence, never a crash
        problems.append(f"{what}: {type(exc).__name__}: {exc}")
        return default


# Views of recently seen certificates, keyed by their exact DER bytes: the same intermediates (and, in the daemon,
# the same leaves) come back in every round. A view is a pure function of the bytes, so a different byte is a
# different key and can never be served a stale view. Bounded: a few MiB at most.
VIEW_CACHE_SIZE = 256


def view(der: bytes, position: int = 0) -> CertView:
    """Read a received certificate into a ``CertView``. Never raises."""
    v = _view_at_0(bytes(der))
    return v if position == 0 else replace(v, position=position)


@functools.lru_cache(maxsize=VIEW_CACHE_SIZE)
def _view_at_0(der: bytes) -> CertView:
    with _lenient_serial():
        return _read_view(der)


def _load(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except x509.InvalidVersion as exc:
        raise ValueError(str(exc)) from exc


def _read_view(der: bytes) -> CertView:
    position = 0
    problems: list[str] = []
    raw = _guard(problems, "structure", lambda: der_mod.raw_fields(der), None)
    cert = _guard(problems, "certificate", lambda: _load(der), None)
    spki = hashlib.sha256(raw.spki).hexdigest() if raw else None
    if cert is None:
        return CertView(position, der, sha256_hex(der), None, spki, None, None, None, (), (), (), False, None, None,
                        False, tuple(problems))
    subject = _guard(problems, "subject", lambda: name_str(cert.subject), None)
    issuer_name = _guard(problems, "issuer", lambda: cert.issuer, None)
    issuer = _guard(problems, "issuer", lambda: name_str(issuer_name), None) if issuer_name is not None else None
    before = len(problems)
    no_names: list[str] = []
    no_ips: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    dns = tuple(_guard(problems, "subjectAltName", lambda: dns_names(cert), no_names))
    ips = tuple(_guard(problems, "subjectAltName", lambda: _ip_names(cert), no_ips))
    cns = tuple(_guard(problems, "subject CN", lambda: _common_names(cert), no_names))
    names_readable = len(problems) == before and subject is not None
    not_before = _guard(problems, "validity", lambda: cert.not_valid_before_utc, None)
    not_after = _guard(problems, "validity", lambda: cert.not_valid_after_utc, None)
    ca = _guard(problems, "basicConstraints", lambda: _strict_is_ca(cert), False)
    # An unknown curve or key type, or a point off the curve, loads as a certificate but is still odd: evidence,
    # and not "clean" (the path builder is retried without it).
    _guard(problems, "public key", cert.public_key, None)
    # Reading every extension once surfaces duplicates and unparseable values the other fields did not touch.
    _guard(problems, "extensions", lambda: len(cert.extensions), 0)
    return CertView(position, der, sha256_hex(der), cert, spki, subject, issuer, issuer_name, dns, ips, cns,
                    names_readable, not_before, not_after, ca, tuple(dict.fromkeys(problems)))


def _strict_is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def names_host(cert: x509.Certificate, host: str) -> bool:
    """``CertView.claims`` for a certificate already in hand."""
    return view(der_of(cert)).claims(host)


def cert_info(v: CertView | x509.Certificate) -> CertInfo:
    """What reports show of a certificate; unreadable fields say so instead of failing."""
    if isinstance(v, x509.Certificate):
        v = view(der_of(v))
    b64 = base64.b64encode(v.der).decode("ascii")
    body = "".join(b64[i:i + 64] + "\n" for i in range(0, len(b64), 64))
    return CertInfo(
        subject=v.subject if v.subject is not None else UNREADABLE,
        issuer=v.issuer if v.issuer is not None else UNREADABLE,
        sha256=v.sha256,
        spki_sha256=v.spki_sha256 or "",
        not_before=v.not_before,
        not_after=v.not_after,
        pem=f"{_PEM_BEGIN.decode()}\n{body}{_PEM_END.decode()}\n",
        dns_names=v.dns_names,
        is_ca=v.is_ca,
    )


def attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    """The values of one attribute type, each cut to 1 KiB: names are the server's, and intel patterns search
    them (a megabyte CN must not cost seconds)."""
    return [str(a.value)[:1024] for a in name.get_attributes_for_oid(oid)]


def unique_by_fingerprint(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    seen: set[bytes] = set()
    out: list[x509.Certificate] = []
    for c in certs:
        fp = c.fingerprint(hashes.SHA256())
        if fp not in seen:
            seen.add(fp)
            out.append(c)
    return out


def domain_matches(host: str, domain: str, include_subdomains: bool = True) -> bool:
    host = host.lower().rstrip(".")
    domain = domain.lower().rstrip(".")
    return host == domain or (include_subdomains and host.endswith("." + domain))
