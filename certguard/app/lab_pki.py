"""Throwaway certificate authorities for the workshop lab (``certguard lab``).

Everything here is built in memory at run time for one lab run and written only into that run's temporary
directory (the lab server needs its key in a file for Python's ``ssl``). Nothing is ever installed into a system
or browser trust store: the lab's "public" roots and its "installed" interceptor roots reach certguard only
through the lab's own ``TrustContext`` (see ``certguard.app.lab``).

Leaves follow the WebPKI profile cryptography's verifier enforces (non-critical SAN, EKU serverAuth, AKI/SKI), so
a lab chain that certguard rejects is rejected for the reason the scenario shows, not for a profile slip — except
the state-style forgery, which deliberately drops those extensions as the 2019 Kazakh middlebox did (FACTS.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_CA_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False)
_LEAF_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                            encipher_only=False, decipher_only=False)


def new_key() -> PrivateKey:
    # P-256: fast to generate, so a whole lab run (a dozen keys) takes well under a second.
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


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: PrivateKey


@dataclass(frozen=True)
class CA:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def subject(self) -> x509.Name:
        return self.cert.subject

    @classmethod
    def root(cls, subject: x509.Name, now: datetime, key: PrivateKey | None = None) -> CA:
        key = key or new_key()
        return cls(_ca_cert(subject, subject, key, key, now), key)

    def child(self, subject: x509.Name, now: datetime) -> CA:
        key = new_key()
        return CA(_ca_cert(subject, self.subject, key, self.key, now), key)

    def leaf(self, hosts: tuple[str, ...], now: datetime, *, subject: x509.Name | None = None) -> Issued:
        """A WebPKI-style server certificate for ``hosts`` (the first is the subject CN unless given)."""
        key = new_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject or name(hosts[0]))
            .issuer_name(self.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=10))
            .not_valid_after(now + timedelta(days=80))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_LEAF_USAGE, critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
        )
        return Issued(builder.sign(self.key, hashes.SHA256()), key)

    def forge_like_2019(self, real: x509.Certificate) -> Issued:
        """The 2019 Kazakh middlebox's forgery of ``real`` (FACTS.md §1): same subject and SAN, validity shifted
        6 hours earlier, an RSA-2048 key with public exponent 3, the serial's last 4 bytes changed, every other
        extension dropped."""
        key = rsa.generate_private_key(public_exponent=3, key_size=2048)
        serial = (real.serial_number & ~0xFFFFFFFF) | ((real.serial_number + 0x5A5A5A5A) & 0xFFFFFFFF)
        shift = timedelta(hours=6)
        builder = (
            x509.CertificateBuilder()
            .subject_name(real.subject)
            .issuer_name(self.subject)
            .public_key(key.public_key())
            .serial_number(serial or 1)
            .not_valid_before(real.not_valid_before_utc - shift)
            .not_valid_after(real.not_valid_after_utc - shift)
        )
        san = real.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        builder = builder.add_extension(san.value, critical=san.critical)
        return Issued(builder.sign(self.key, hashes.SHA256()), key)


def _ca_cert(subject: x509.Name, issuer: x509.Name, key: PrivateKey, signer: PrivateKey,
             now: datetime) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=365))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
        .sign(signer, hashes.SHA256())
    )
