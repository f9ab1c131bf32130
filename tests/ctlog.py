"""Test CT logs: keys generated at run time, SCTs signed over the exact RFC 6962 §3.2 structure, and a log list
in Chrome's v3 schema."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pki
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtensionOID


@dataclass
class TestLog:
    description: str
    operator: str
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    state: str = "usable"
    state_since: datetime = pki.NOW - timedelta(days=400)
    tiled: bool = False

    @property
    def key_der(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def log_id(self) -> bytes:
        return hashlib.sha256(self.key_der).digest()

    def sign_sct(self, tbs: bytes, issuer_spki_der: bytes, when: datetime, corrupt: bool = False) -> bytes:
        ts = int(when.timestamp() * 1000)
        data = (struct.pack(">BBQH", 0, 0, ts, 1) + hashlib.sha256(issuer_spki_der).digest()
                + len(tbs).to_bytes(3, "big") + tbs + (0).to_bytes(2, "big"))
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            sig, alg = self.key.sign(data, ec.ECDSA(hashes.SHA256())), 3
        else:
            sig, alg = self.key.sign(data, padding.PKCS1v15(), hashes.SHA256()), 1
        if corrupt:
            sig = sig[:-1] + bytes([sig[-1] ^ 1])
        body = (bytes([0]) + self.log_id + struct.pack(">Q", ts) + (0).to_bytes(2, "big")
                + bytes([4, alg]) + len(sig).to_bytes(2, "big") + sig)
        return len(body).to_bytes(2, "big") + body

    def entry(self) -> dict[str, object]:
        return {"description": self.description, "log_id": base64.b64encode(self.log_id).decode(),
                "key": base64.b64encode(self.key_der).decode(), "url": "https://ct.example.test/",
                "mmd": 86400, "state": {self.state: {"timestamp": self.state_since.strftime("%Y-%m-%dT%H:%M:%SZ")}}}


def log_list(logs: list[TestLog], timestamp: datetime | None = None) -> bytes:
    operators: dict[str, dict[str, list[object]]] = {}
    for log in logs:
        op = operators.setdefault(log.operator, {"logs": [], "tiled_logs": []})
        op["tiled_logs" if log.tiled else "logs"].append(log.entry())
    doc = {"version": "test.1", "log_list_timestamp": (timestamp or pki.NOW).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "operators": [{"name": name, "email": ["ct@example.test"], **lists} for name, lists in operators.items()]}
    return json.dumps(doc).encode()


def _der_octet_string(payload: bytes) -> bytes:
    n = len(payload)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return b"\x04" + length + payload


def leaf_with_scts(issuer: pki.CA, host: str, logs: list[tuple[TestLog, datetime | None, bool]],
                   not_after: datetime | None = None) -> pki.Issued:
    """Issue a leaf with embedded SCTs: (log, timestamp or None for now-1h, corrupt signature?)."""
    key = pki.new_key()
    issued = issuer.leaf(host, key=key, not_after=not_after, serial=424242)
    # Same builder inputs + the SCT extension appended last: tbs_precertificate_bytes of the final certificate
    # then equals the TBS of the certificate without it, which is what the logs sign.
    tbs = issued.cert.tbs_certificate_bytes
    spki = issuer.key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    scts = b"".join(log.sign_sct(tbs, spki, when or pki.NOW - timedelta(hours=1), corrupt)
                    for log, when, corrupt in logs)
    ext = x509.UnrecognizedExtension(ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS,
                                     _der_octet_string(len(scts).to_bytes(2, "big") + scts))
    final = issuer.leaf(host, key=key, not_after=not_after, serial=424242, extra_extensions=[(ext, False)],
                        not_before=issued.cert.not_valid_before_utc)
    assert final.cert.tbs_precertificate_bytes == tbs, "test PKI must rebuild the same TBS"
    return final
