"""Test-only PKI built at run time with ``cryptography`` (no private key is ever committed).

Leaves follow the WebPKI profile that cryptography's verifier enforces (non-critical SAN, EKU serverAuth,
AKI/SKI): with trustme's raw leaves a "chain is rejected" test would pass for the wrong reason (TESTING.md).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

NOW = datetime.now(UTC).replace(microsecond=0)


def new_key(kind: str = "ec") -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def name(cn: str, o: str | None = None, c: str | None = None) -> x509.Name:
    attrs = []
    if c:
        attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, c))
    if o:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass
class Issued:
    cert: x509.Certificate
    key: PrivateKey


@dataclass
class CA:
    subject: x509.Name
    key: PrivateKey = field(default_factory=new_key)
    parent: CA | None = None
    not_before: datetime = NOW - timedelta(days=365)
    not_after: datetime = NOW + timedelta(days=3650)
    cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        issuer_name = self.parent.subject if self.parent else self.subject
        signing_key = self.parent.key if self.parent else self.key
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        builder = (
            x509.CertificateBuilder()
            .subject_name(self.subject)
            .issuer_name(issuer_name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(self.not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
        )
        if self.parent:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.parent.key.public_key()), critical=False)
        else:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        self.cert = builder.sign(signing_key, hashes.SHA256())

    def child_ca(self, cn: str, o: str | None = None, c: str | None = None, **kw: datetime) -> CA:
        return CA(subject=name(cn, o, c), parent=self, **kw)  # type: ignore[arg-type]

    def leaf(self, *hosts: str, not_before: datetime | None = None, not_after: datetime | None = None,
             key: PrivateKey | None = None, extra_extensions: list[tuple[x509.ExtensionType, bool]] | None = None,
             precert_poison: bool = False, serial: int | None = None) -> Issued:
        key = key or new_key()
        sans: list[x509.GeneralName] = []
        for h in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                sans.append(x509.DNSName(h))
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(hosts[0]) if hosts else name("no-name"))
            .issuer_name(self.subject)
            .public_key(key.public_key())
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(not_before or NOW - timedelta(days=10))
            .not_valid_after(not_after or NOW + timedelta(days=80))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                           critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        if precert_poison:
            builder = builder.add_extension(x509.PrecertPoison(), critical=True)
        for ext, critical in extra_extensions or []:
            builder = builder.add_extension(ext, critical=critical)
        return Issued(builder.sign(self.key, hashes.SHA256()), key)


def root(cn: str, o: str | None = None, c: str | None = None, **kw: datetime) -> CA:
    return CA(subject=name(cn, o, c), **kw)  # type: ignore[arg-type]


@dataclass
class SiteChain:
    """A "public" root, an intermediate and a leaf for ``host``: what a normal site serves."""

    root: CA
    intermediate: CA
    leaf: Issued

    @property
    def served(self) -> list[x509.Certificate]:
        return [self.leaf.cert, self.intermediate.cert]


def site_chain(*hosts: str, root_cn: str = "Test Public Root", **leaf_kw: datetime) -> SiteChain:
    r = root(root_cn, "Test Public CA Inc", "US")
    i = r.child_ca(root_cn + " Issuing CA", "Test Public CA Inc", "US")
    return SiteChain(r, i, i.leaf(*hosts, **leaf_kw))  # type: ignore[arg-type]


def write_bundle(path: Path, certs: list[x509.Certificate]) -> Path:
    path.write_bytes(b"".join(pem(c) for c in certs))
    return path
