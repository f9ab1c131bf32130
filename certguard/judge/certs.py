"""Pure X.509 helpers over ``cryptography``: loading, fingerprints, names, host-name matching.

No I/O except what callers hand in as bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import warnings
from collections.abc import Iterable, Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtensionOID, NameOID

from certguard.errors import DataError
from certguard.judge.models import CertInfo

_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
_PEM_END = b"-----END CERTIFICATE-----"


def parse(der: bytes) -> x509.Certificate:
    """Parse one DER certificate.

    Raises:
        ValueError: the bytes are not a certificate cryptography can read.
    """
    with _lenient_serial():
        return x509.load_der_x509_certificate(der)


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


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lowercase hex: the one canonical certificate fingerprint."""
    return sha256_hex(der_of(cert))


def spki_der(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki_sha256(cert: x509.Certificate) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo: the value Chromium's blocklist and HPKP-style pins use."""
    return hashlib.sha256(spki_der(cert)).hexdigest()


def name_str(name: x509.Name) -> str:
    return name.rfc4514_string()


def split_pem_or_der(data: bytes, source: str) -> list[bytes]:
    """Return the DER certificates in ``data`` (a PEM bundle, or one DER certificate), in file order.

    Raises:
        DataError: nothing in ``data`` is a certificate, or a PEM block is corrupt.
    """
    if _PEM_BEGIN in data:
        ders: list[bytes] = []
        rest = data
        index = 0
        while (start := rest.find(_PEM_BEGIN)) != -1:
            end = rest.find(_PEM_END, start)
            if end == -1:
                raise DataError(source, f"certificate #{index + 1} has no END line (truncated PEM)")
            block = rest[start:end + len(_PEM_END)] + b"\n"
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")
                    cert = x509.load_pem_x509_certificate(block)
            except ValueError as exc:
                raise DataError(source, f"certificate #{index + 1} is not a valid certificate ({exc})") from exc
            ders.append(der_of(cert))
            rest = rest[end + len(_PEM_END):]
            index += 1
        return ders
    try:
        parse(data)
    except ValueError as exc:
        raise DataError(source, f"neither a PEM bundle nor a DER certificate ({exc})") from exc
    return [data]


def dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    assert isinstance(san, x509.SubjectAlternativeName)
    return [n.lower() for n in san.get_values_for_type(x509.DNSName)]


def _ip_names(cert: x509.Certificate) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    assert isinstance(san, x509.SubjectAlternativeName)
    return [ip for ip in san.get_values_for_type(x509.IPAddress)
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


def names_host(cert: x509.Certificate, host: str) -> bool:
    """Does the certificate claim to be ``host``?

    Used to tell a forged leaf (copies the real site's names) from a captive portal's (its own name). Unlike path
    validation this falls back to the subject CN when there is no SAN: a forger that skips the SAN is still forging.
    """
    host = host.lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return ip in _ip_names(cert) or host in _common_names(cert)
    names = dns_names(cert) or _common_names(cert)
    return any(_dns_match(n, host) for n in names)


def is_ca(cert: x509.Certificate) -> bool:
    try:
        with _lenient_serial():
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return bc.ca


def cert_info(cert: x509.Certificate) -> CertInfo:
    der = der_of(cert)
    return CertInfo(
        subject=name_str(cert.subject),
        issuer=name_str(cert.issuer),
        sha256=sha256_hex(der),
        spki_sha256=spki_sha256(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        dns_names=tuple(dns_names(cert)),
        is_ca=is_ca(cert),
    )


def attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def unique_by_fingerprint(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    seen: set[bytes] = set()
    out: list[x509.Certificate] = []
    for c in certs:
        fp = c.fingerprint(hashes.SHA256())
        if fp not in seen:
            seen.add(fp)
            out.append(c)
    return out

