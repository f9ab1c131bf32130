"""Just enough DER to find the raw fields of a certificate that a full parser may refuse.

Why: an interceptor controls every byte it sends. When ``cryptography`` cannot load a certificate (an unknown
curve, a version 4, a name it rejects), the certificate is still evidence: its SHA-256, the SHA-256 of its
SubjectPublicKeyInfo (what Chromium's blocklist and our intel list match on) and its names must still be
readable. This walks the outer TLV structure of RFC 5280 §4.1 and nothing more; any surprise is a ``ValueError``.
"""

from __future__ import annotations

from dataclasses import dataclass

_SEQUENCE = 0x30
_VERSION_TAG = 0xA0  # [0] EXPLICIT Version


def _tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the element at ``offset``. Definite lengths only (DER)."""
    if offset + 2 > len(data):
        raise ValueError("truncated element")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers do not occur in a certificate's outer structure")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:  # indefinite length (BER) or more than 4 GiB
            raise ValueError("not a DER length")
        if pos + count > len(data):
            raise ValueError("truncated length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise ValueError("element runs past the end of the data")
    return tag, pos, end


def _children(data: bytes, start: int, end: int, limit: int) -> list[tuple[int, int, int]]:
    """The first ``limit`` elements inside [start, end), each as (tag, element start, element end)."""
    out: list[tuple[int, int, int]] = []
    pos = start
    while pos < end and len(out) < limit:
        tag, _, value_end = _tlv(data, pos)
        out.append((tag, pos, value_end))
        pos = value_end
    return out


@dataclass(frozen=True)
class RawFields:
    """The DER encodings (tag and length included) of a certificate's issuer, subject and public key."""

    issuer: bytes
    subject: bytes
    spki: bytes


def raw_fields(der: bytes) -> RawFields:
    """Find the raw issuer, subject and SubjectPublicKeyInfo of a DER certificate.

    Raises:
        ValueError: the bytes do not have the outer shape of a certificate.
    """
    tag, start, end = _tlv(der, 0)
    if tag != _SEQUENCE:
        raise ValueError("a certificate is a SEQUENCE")
    tbs_tag, tbs_start, tbs_end = _tlv(der, start)
    if tbs_tag != _SEQUENCE or tbs_end > end:
        raise ValueError("the TBSCertificate is not a SEQUENCE")
    fields = _children(der, tbs_start, tbs_end, 7)
    if fields and fields[0][0] == _VERSION_TAG:
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    if len(fields) < 6 or any(f[0] != _SEQUENCE for f in (fields[1], fields[2], fields[3], fields[4], fields[5])):
        raise ValueError("the TBSCertificate does not have the fields of RFC 5280 §4.1")
    issuer, subject, spki = fields[2], fields[4], fields[5]
    return RawFields(issuer=der[issuer[1]:issuer[2]], subject=der[subject[1]:subject[2]], spki=der[spki[1]:spki[2]])


def split_concatenated(data: bytes) -> list[bytes]:
    """Split DER certificates stored one after the other; [] when ``data`` is not such a sequence."""
    out = []
    pos = 0
    while pos < len(data):
        try:
            tag, _, end = _tlv(data, pos)
        except ValueError:
            return []
        if tag != _SEQUENCE:
            return []
        out.append(data[pos:end])
        pos = end
    return out
