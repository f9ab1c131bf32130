"""Issue 12, "one crafted certificate turns an interception into error": regression tests for every known evasion.

An interceptor chooses every byte it sends. Each case below is a forged leaf for ``www.example.test`` from a root
that no public root vouches for, plus ONE odd thing: an extra certificate or a field of the leaf that a parser may
refuse. Whatever it is, the verdict must stay ``intercepted`` (rule ``no_public_root``, or ``known_interceptor`` when
the intel list knows the forger), carry ``MALFORMED_CERTIFICATE`` evidence where a certificate was odd, and serialise
to JSON; never ``error`` (a crash), never quieter. The negative control of each family is the same oddity on a
genuine chain from the test public root: not intercepted, which proves the test can tell the two apart.

cryptography refuses to *build* most of these oddities, so a normal certificate is built and its DER edited with the
small helper below (re-signed where the signature matters: a leaf on a genuine chain).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ctlog
import pki
import pytest
from click.testing import CliRunner
from conftest import CheckRun, spki_of, write_intel
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID

from certguard.app.cli import cli
from certguard.data.context import load_trust_context
from certguard.judge.analyze import TrustContext, analyze_chain
from certguard.judge.ctlog import CTLogList
from certguard.judge.models import Verdict

HOST = "www.example.test"
Ctx = Callable[..., TrustContext]

# --- a small DER editor ----------------------------------------------------------------------------------------


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element (definite length)."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def _bounds(data: bytes, offset: int) -> tuple[int, int]:
    """(start, end) of the content of the element at ``offset``."""
    first = data[offset + 1]
    if first < 0x80:
        return offset + 2, offset + 2 + first
    start = offset + 2 + (first & 0x7F)
    return start, start + int.from_bytes(data[offset + 2:start], "big")


def kids(element: bytes) -> list[bytes]:
    """The elements inside a constructed element."""
    start, end = _bounds(element, 0)
    out, pos = [], start
    while pos < end:
        _, stop = _bounds(element, pos)
        out.append(element[pos:stop])
        pos = stop
    return out


def same_tag(element: bytes, children: list[bytes]) -> bytes:
    """``element`` with new children (lengths recomputed)."""
    return tlv(element[0], b"".join(children))


# The TBSCertificate fields of a v3 certificate, as cryptography writes them.
VERSION, SERIAL, SIG_ALG, ISSUER, VALIDITY, SUBJECT, SPKI, EXTENSIONS = range(8)
Edit = Callable[[list[bytes]], list[bytes]]


def edited(der: bytes, edit: Edit, signer: pki.PrivateKey | None = None) -> bytes:
    """The certificate with its TBSCertificate fields edited; re-signed by ``signer`` (ECDSA-SHA256, as the test PKI
    signs) when given, else with the old signature (which then no longer verifies)."""
    tbs_old, alg, sig = kids(der)
    tbs = same_tag(tbs_old, edit(kids(tbs_old)))
    if signer is not None:
        assert isinstance(signer, ec.EllipticCurvePrivateKey)
        sig = tlv(0x03, b"\x00" + signer.sign(tbs, ec.ECDSA(hashes.SHA256())))
    return tlv(0x30, tbs + alg + sig)


def field(index: int, change: Callable[[bytes], bytes]) -> Edit:
    def edit(fields: list[bytes]) -> list[bytes]:
        out = list(fields)
        out[index] = change(fields[index])
        return out
    return edit


def oid(dotted: str) -> bytes:
    first, second, *rest = (int(p) for p in dotted.split("."))
    body = bytearray([40 * first + second])
    for arc in rest:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.insert(0, 0x80 | (arc & 0x7F))
        body += bytes(chunk)
    return tlv(0x06, bytes(body))


def _spki_alg(change: Callable[[list[bytes]], list[bytes]]) -> Edit:
    def spki(element: bytes) -> bytes:
        alg, bits = kids(element)
        return same_tag(element, [same_tag(alg, change(kids(alg))), bits])
    return field(SPKI, spki)


def _rdn(attr_oid: str, tag: int, value: bytes) -> bytes:
    return tlv(0x31, tlv(0x30, oid(attr_oid) + tlv(tag, value)))


def _prepend_rdn(rdn: bytes) -> Edit:
    return field(SUBJECT, lambda name: same_tag(name, [rdn, *kids(name)]))


def _two_key_usages(fields: list[bytes]) -> list[bytes]:
    wrapper = fields[EXTENSIONS]
    (exts,) = kids(wrapper)
    items = kids(exts)
    ku = next(e for e in items if kids(e)[0] == oid("2.5.29.15"))
    return [*fields[:EXTENSIONS], same_tag(wrapper, [same_tag(exts, [*items, ku])])]


def _year_zero(validity: bytes) -> bytes:
    _, not_after = kids(validity)
    return same_tag(validity, [tlv(0x18, b"00000101000000Z"), not_after])


@dataclass(frozen=True)
class Oddity:
    """One crafted oddity; certguard cannot read a certificate carrying it cleanly (MALFORMED_CERTIFICATE expected).
    ``readable_leaf``: a *genuine* public leaf carrying it still reads well enough to verify (else a genuine leaf
    with it is judged fail-closed: intercepted, like any leaf no public root can vouch for)."""

    name: str
    edit: Edit
    readable_leaf: bool = False


ODDITIES = [
    # The path builder never loads a leaf's own key: a genuine leaf with an odd key still verifies (and would fail
    # the TLS handshake instead).
    Oddity("a-unknown-named-curve", _spki_alg(lambda a: [a[0], oid("1.2.840.10045.3.1.127")]), readable_leaf=True),
    Oddity("b-unknown-key-algorithm", _spki_alg(lambda a: [oid("1.3.6.1.4.1.55555.1"), *a[1:]]), readable_leaf=True),
    # (0, 0) is not on P-256 (y² = x³ - 3x + b would need b = 0)
    Oddity("c-invalid-ec-point", field(SPKI, lambda s: same_tag(s, [kids(s)[0], tlv(0x03, b"\x00\x04" + bytes(64))])),
           readable_leaf=True),
    Oddity("d-version-4", field(VERSION, lambda _: bytes.fromhex("a003020103"))),
    Oddity("e-issuer-as-bit-string", field(ISSUER, lambda n: tlv(0x03, b"\x00" + n))),
    Oddity("e-subject-as-bit-string", field(SUBJECT, lambda n: tlv(0x03, b"\x00" + n))),
    Oddity("f-printable-string-with-at", _prepend_rdn(_rdn("2.5.4.10", 0x13, b"evil@corp"))),
    Oddity("h-two-key-usages", _two_key_usages),
    # cryptography loads the certificate, then refuses the subject (an invalid UTF8String) when asked for it
    Oddity("j-unparseable-subject", _prepend_rdn(_rdn("2.5.4.10", 0x0C, b"\xff\xfe")), readable_leaf=True),
    # a notBefore in year 0: valid DER, but no Python datetime can hold it
    Oddity("k-validity-year-0", field(VALIDITY, _year_zero), readable_leaf=True),
]
ODDITY_IDS = [o.name for o in ODDITIES]

# --- verdict checks --------------------------------------------------------------------------------------------


def ids(v: Verdict) -> list[str]:
    return [f.id for f in v.findings]


def malformed_at(v: Verdict) -> set[int]:
    return {int(f.evidence_dict["position"]) for f in v.findings if f.id == "MALFORMED_CERTIFICATE"}


def assert_serialisable(v: Verdict) -> None:
    text = json.dumps(v.to_dict(), ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogates either: the CLI writes this as UTF-8
    assert json.loads(text)["status"] == v.status.value


def assert_intercepted(v: Verdict, known: bool, odd_position: int | None) -> None:
    assert_serialisable(v)
    if known:
        assert (v.status.value, v.rule) == ("intercepted", "known_interceptor"), ids(v)
        assert ids(v)[0] == "KNOWN_STATE_INTERCEPTOR"
        assert v.interceptor is not None and v.interceptor.entry_id == "test-forger"
    else:
        assert (v.status.value, v.rule) == ("intercepted", "no_public_root"), ids(v)
        assert ids(v)[0] == "UNTRUSTED_ROOT"
    assert v.severity.value == "critical"
    if odd_position is not None:
        assert odd_position in malformed_at(v), ids(v)


# --- the PKI: an unknown forger, optionally known to the intel list ----------------------------------------------


@pytest.fixture(scope="module")
def forger() -> pki.CA:
    return pki.root("Forger Root", "Nobody", "ZZ")


@pytest.fixture(params=["unknown-forger", "known-forger"])
def forger_ctx(request: pytest.FixtureRequest, ctx_factory: Ctx, forger: pki.CA, tmp_path: Path) -> tuple[bool, Any]:
    known = request.param == "known-forger"
    if not known:
        return False, ctx_factory()
    intel_file = write_intel(tmp_path / "intel.toml", "test-forger", "state", spki_of(forger))
    return True, ctx_factory(intel_files=(intel_file,))


def odd_twin(ca: pki.CA, oddity: Oddity) -> bytes:
    """An extra certificate with the same subject as ``ca`` (so the path builder tries it as the issuer), made odd.
    Extras are not re-signed: nothing verifies them."""
    return edited(pki.der(pki.CA(subject=ca.subject).cert), oddity.edit)


# --- (a)-(f), (h), (j), (k) as an EXTRA certificate ----------------------------------------------------------------


@pytest.mark.parametrize("oddity", ODDITIES, ids=ODDITY_IDS)
def test_forged_chain_with_an_odd_extra_is_intercepted(oddity: Oddity, forger: pki.CA, forger_ctx: Any,
                                                       now: datetime) -> None:
    known, ctx = forger_ctx
    leaf = forger.leaf(HOST)
    v = analyze_chain(HOST, 443, [pki.der(leaf.cert), odd_twin(forger, oddity), pki.der(forger.cert)], ctx, now)
    assert_intercepted(v, known, 1)


@pytest.mark.parametrize("oddity", ODDITIES, ids=ODDITY_IDS)
def test_genuine_chain_with_the_same_odd_extra_is_ok(oddity: Oddity, public_issuing: pki.CA, ctx_factory: Ctx,
                                                     now: datetime) -> None:
    leaf = public_issuing.leaf(HOST)
    chain = [pki.der(leaf.cert), odd_twin(public_issuing, oddity), pki.der(public_issuing.cert)]
    v = analyze_chain(HOST, 443, chain, ctx_factory(), now)
    assert_serialisable(v)
    assert (v.status.value, v.rule) == ("ok", "public_ok"), ids(v)
    assert malformed_at(v) == {1}
    assert [f.severity.value for f in v.findings if f.id == "MALFORMED_CERTIFICATE"] == ["warning"]


# --- the same oddities in the LEAF --------------------------------------------------------------------------------


@pytest.mark.parametrize("oddity", ODDITIES, ids=ODDITY_IDS)
def test_forged_leaf_with_an_odd_field_is_intercepted(oddity: Oddity, forger: pki.CA, forger_ctx: Any,
                                                      now: datetime) -> None:
    known, ctx = forger_ctx
    leaf = edited(pki.der(forger.leaf(HOST).cert), oddity.edit, forger.key)
    v = analyze_chain(HOST, 443, [leaf, pki.der(forger.cert)], ctx, now)
    assert_intercepted(v, known, 0)
    assert [f.severity.value for f in v.findings if f.id == "MALFORMED_CERTIFICATE"] == ["critical"]


@pytest.mark.parametrize("oddity", ODDITIES, ids=ODDITY_IDS)
def test_genuine_leaf_with_the_same_odd_field(oddity: Oddity, public_issuing: pki.CA, ctx_factory: Ctx,
                                              now: datetime) -> None:
    genuine = pki.der(public_issuing.leaf(HOST).cert)
    clean = analyze_chain(HOST, 443, [genuine, pki.der(public_issuing.cert)], ctx_factory(), now)
    assert (clean.status.value, clean.rule, malformed_at(clean)) == ("ok", "public_ok", set())
    odd = edited(genuine, oddity.edit, public_issuing.key)  # a real signature from the public issuing CA
    v = analyze_chain(HOST, 443, [odd, pki.der(public_issuing.cert)], ctx_factory(), now)
    assert_serialisable(v)
    assert malformed_at(v) == {0}
    if oddity.readable_leaf:
        assert (v.status.value, v.rule) == ("ok", "public_ok"), ids(v)
    else:
        # No parser certguard has can verify this leaf, so no public root vouches for it: fail closed (louder than
        # a browser, which rejects these leaves too), never quieter.
        assert (v.status.value, v.rule) == ("intercepted", "no_public_root"), ids(v)


# --- (g) an odd FIRST SAN, followed by the real host ---------------------------------------------------------------

ODD_FIRST_SANS = ["a..b", "*", "x_y.example.com", "f*o.example.com"]


@pytest.mark.parametrize("first", ODD_FIRST_SANS)
def test_odd_first_san_does_not_hide_the_host(first: str, forger: pki.CA, forger_ctx: Any, public_issuing: pki.CA,
                                              ctx_factory: Ctx, now: datetime) -> None:
    known, ctx = forger_ctx
    forged = forger.leaf(first, HOST)
    assert forged.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == [first, HOST]
    v = analyze_chain(HOST, 443, [pki.der(forged.cert), pki.der(forger.cert)], ctx, now)
    assert_intercepted(v, known, None)
    # negative control: the same names from the public issuing CA
    genuine = public_issuing.leaf(first, HOST)
    v2 = analyze_chain(HOST, 443, [pki.der(genuine.cert), pki.der(public_issuing.cert)], ctx_factory(), now)
    assert_serialisable(v2)
    assert (v2.status.value, v2.rule) == ("ok", "public_ok"), ids(v2)


# --- names certguard cannot read, naming the host only through a wildcard ------------------------------------------


def _malformed_ip_in_san(fields: list[bytes]) -> list[bytes]:
    """Append an iPAddress of 5 bytes to the SAN: cryptography then refuses the whole SAN."""
    wrapper = fields[EXTENSIONS]
    (exts,) = kids(wrapper)
    items = kids(exts)

    def fix(ext: bytes) -> bytes:
        ext_oid, *flags, value = kids(ext)
        if ext_oid != oid("2.5.29.17"):
            return ext
        (names,) = kids(value)
        bad_ip = tlv(0x87, b"\x01\x02\x03\x04\x05")
        return same_tag(ext, [ext_oid, *flags, tlv(0x04, same_tag(names, [*kids(names), bad_ip]))])
    return [*fields[:EXTENSIONS], same_tag(wrapper, [same_tag(exts, [fix(e) for e in items])])]


def _subject_cn(cn: str) -> Edit:
    return field(SUBJECT, lambda _: pki.name(cn).public_bytes())


@pytest.mark.parametrize("unreadable", [_two_key_usages, _malformed_ip_in_san], ids=["two-key-usages", "bad-ip-san"])
def test_wildcard_leaf_with_unreadable_names_still_claims_the_host(unreadable: Edit, forger: pki.CA,
                                                                   ctx_factory: Ctx, now: datetime) -> None:
    # Open before the fix: the SAN could not be read, the subject CN is not the host, and the name bytes of
    # www.example.test are nowhere in a *.example.test certificate: "captive portal" instead of interception.
    def forge(san: str) -> bytes:
        der = pki.der(forger.leaf(san).cert)
        return edited(edited(der, _subject_cn("Some Organisation")), unreadable, forger.key)

    v = analyze_chain(HOST, 443, [forge("*.example.test"), pki.der(forger.cert)], ctx_factory(), now)
    assert_intercepted(v, False, 0)
    # negative control: a wildcard for another domain, equally unreadable, does not claim the host
    v2 = analyze_chain(HOST, 443, [forge("*.other.test"), pki.der(forger.cert)], ctx_factory(), now)
    assert (v2.status.value, v2.rule, ids(v2)[0]) == ("captive_portal", "not_for_this_host", "NAME_MISMATCH")


def test_unreadable_names_of_an_ip_host_are_found_by_address(forger: pki.CA, ctx_factory: Ctx,
                                                             now: datetime) -> None:
    host = "192.0.2.7"
    der = edited(edited(pki.der(forger.leaf(host).cert), _subject_cn("Some Organisation")), _two_key_usages,
                 forger.key)
    v = analyze_chain(host, 443, [der, pki.der(forger.cert)], ctx_factory(), now)
    assert (v.status.value, v.rule) == ("intercepted", "no_public_root") and 0 in malformed_at(v)
    v2 = analyze_chain("192.0.2.8", 443, [der, pki.der(forger.cert)], ctx_factory(), now)
    assert (v2.status.value, v2.rule) == ("captive_portal", "not_for_this_host")


# --- (i) an SCT whose timestamp is 2^63 ms ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_logs() -> tuple[ctlog.TestLog, ctlog.TestLog, CTLogList]:
    a, b = ctlog.TestLog("A", "Operator A"), ctlog.TestLog("B", "Operator B")
    return a, b, CTLogList.from_json(ctlog.log_list([a, b]), "test")


def _sct(log: ctlog.TestLog, ms: int) -> bytes:
    """A v1 SCT from ``log`` at ``ms`` (milliseconds since the epoch) with a junk ECDSA signature."""
    sig = bytes.fromhex("3006020101020101")
    body = bytes([0]) + log.log_id + struct.pack(">Q", ms) + b"\x00\x00" + bytes([4, 3]) + struct.pack(">H", len(sig))
    return struct.pack(">H", len(body + sig)) + body + sig


def leaf_with_scts(issuer: pki.CA, logs: list[ctlog.TestLog], extra: bytes) -> bytes:
    """A leaf whose SCT list holds a valid SCT from each of ``logs`` (signed over the precertificate TBS, which
    leaves the SCT extension out) and then ``extra`` (raw SCT bytes)."""
    key = pki.new_key()
    first = issuer.leaf(HOST, key=key, serial=4242)
    tbs = first.cert.tbs_certificate_bytes
    spki = issuer.key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    scts = b"".join(log.sign_sct(tbs, spki, pki.NOW - timedelta(hours=1)) for log in logs) + extra
    ext = x509.UnrecognizedExtension(ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS,
                                     tlv(0x04, struct.pack(">H", len(scts)) + scts))
    final = issuer.leaf(HOST, key=key, serial=4242, extra_extensions=[(ext, False)],
                        not_before=first.cert.not_valid_before_utc)
    assert final.cert.tbs_precertificate_bytes == tbs
    return pki.der(final.cert)


@pytest.mark.parametrize("ms", [2**63, 2**63 - 1, 2**64 - 1])
def test_sct_timestamp_no_datetime_can_hold(ms: int, forger: pki.CA, public_issuing: pki.CA, ctx_factory: Ctx,
                                            two_logs: Any, now: datetime, tmp_path: Path) -> None:
    a, b, lst = two_logs
    forged = leaf_with_scts(forger, [], _sct(a, ms))
    v = analyze_chain(HOST, 443, [forged, pki.der(forger.cert)], ctx_factory(ct_logs=lst), now)
    assert_intercepted(v, False, None)
    assert v.ct is not None and [s["reason"] for s in v.ct["scts"]] == ["unreadable (ValueError)"]
    known = ctx_factory(ct_logs=lst, intel_files=(write_intel(tmp_path / "i.toml", "test-forger", "state",
                                                              spki_of(forger)),))
    assert_intercepted(analyze_chain(HOST, 443, [forged, pki.der(forger.cert)], known, now), True, None)
    # negative control: a genuine leaf logged by two operators, with the same odd SCT after the good ones
    genuine = leaf_with_scts(public_issuing, [a, b], _sct(a, ms))
    v2 = analyze_chain(HOST, 443, [genuine, pki.der(public_issuing.cert)], ctx_factory(ct_logs=lst), now)
    assert_serialisable(v2)
    assert (v2.status.value, v2.rule) == ("ok", "public_ok"), ids(v2)
    assert v2.ct is not None and v2.ct["policy_met"] is True
    assert [s["valid"] for s in v2.ct["scts"]] == [True, True, False]


def test_year_0_leaf_with_ct_checked_is_judged(forger: pki.CA, ctx_factory: Ctx, two_logs: Any,
                                               now: datetime) -> None:
    # Open before the fix: the CT policy computed the leaf's lifetime from a validity Python cannot hold.
    _, _, lst = two_logs
    leaf = edited(pki.der(forger.leaf(HOST).cert), field(VALIDITY, _year_zero), forger.key)
    v = analyze_chain(HOST, 443, [leaf, pki.der(forger.cert)], ctx_factory(ct_logs=lst), now)
    assert_intercepted(v, False, 0)
    assert "validity" in next(f for f in v.findings if f.id == "MALFORMED_CERTIFICATE").evidence_dict["detail"]


# --- state CAs: a copied name is not the CA ------------------------------------------------------------------------

RU_HOST = "www.gosuslugi.ru"  # a legitimate domain of the shipped "Russian Trusted Root CA" intel entry


def test_a_copied_state_ca_name_is_not_its_own_domain(ctx_factory: Ctx, now: datetime, tmp_path: Path) -> None:
    # Open before the fix: the intel entry matches the *issuer name* "Russian Trusted Root CA" (weak) and the
    # certificate carrying that issuer name was used as the trust anchor: anyone's key, so any forger got "ok".
    copy = pki.root("Russian Trusted Root CA", "The Ministry of Digital Development and Communications", "RU")
    sub = copy.child_ca("Forger Issuing CA")
    leaf = sub.leaf(RU_HOST)
    for chain in ([leaf.cert, sub.cert], [leaf.cert, sub.cert, copy.cert]):
        v = analyze_chain(RU_HOST, 443, [pki.der(c) for c in chain], ctx_factory(), now)
        assert (v.status.value, v.rule, ids(v)[0]) == ("intercepted", "no_public_root", "UNTRUSTED_ROOT"), ids(v)
    # negative control: the same chain when the intel list knows this root by its key (the real CA) is its own
    intel_file = write_intel(tmp_path / "i.toml", "test-ru", "state", spki_of(copy), "RU", ["gosuslugi.ru"])
    v2 = analyze_chain(RU_HOST, 443, [pki.der(leaf.cert), pki.der(sub.cert), pki.der(copy.cert)],
                       ctx_factory(intel_files=(intel_file,)), now)
    assert (v2.status.value, v2.rule, ids(v2)[0]) == ("ok", "state_ca_own_domain", "STATE_CA_LEGITIMATE")


def test_odd_extra_named_after_a_state_ca_is_evidence_not_a_crash(forger: pki.CA, ctx_factory: Ctx,
                                                                  now: datetime) -> None:
    # Open before the fix: the odd extra became a trust anchor, and loading its key raised (verdict "error").
    copy = pki.root("Russian Trusted Root CA", "The Ministry", "RU")
    extra = edited(pki.der(copy.child_ca("Odd").cert), ODDITIES[0].edit)
    v = analyze_chain(RU_HOST, 443, [pki.der(forger.leaf(RU_HOST).cert), extra], ctx_factory(), now)
    assert_serialisable(v)
    assert (v.status.value, v.rule) == ("intercepted", "no_public_root") and malformed_at(v) == {1}


def test_device_store_root_with_an_unknown_key_type_is_no_crash(forger: pki.CA, ctx_factory: Ctx,
                                                               now: datetime) -> None:
    # A GOST root in the OS store loads as a certificate but not as a key: the anchor set must still build.
    odd_root = x509.load_der_x509_certificate(edited(pki.der(pki.root("GOST-like Root").cert), ODDITIES[1].edit))
    ctx = ctx_factory(device=[odd_root, forger.cert])
    v = analyze_chain(HOST, 443, [pki.der(forger.leaf(HOST).cert)], ctx, now)
    assert (v.status.value, v.rule) == ("intercepted", "no_public_root")
    assert "DEVICE_TRUSTS_INTERCEPTOR" in ids(v)


# --- the CLI: a saved chain is judged like a live one ----------------------------------------------------------------

AT = "2026-06-01T12:00:00Z"


def _inspect(run_cli: Callable[..., CheckRun], path: Path, ca_bundle: Path, data_dir: Path, *extra: str) -> CheckRun:
    return run_cli("inspect", str(path), "--host", HOST, "--json", "--no-device-store", "--ca-bundle", str(ca_bundle),
                   "--data-dir", str(data_dir), *extra)


def test_inspect_pem_with_an_unparseable_third_certificate(run_cli: Callable[..., CheckRun], tmp_path: Path,
                                                           ca_bundle: Path, forger: pki.CA) -> None:
    at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    leaf = forger.leaf(HOST, not_before=at - timedelta(days=10), not_after=at + timedelta(days=80))
    third = edited(pki.der(pki.root("Odd Extra").cert), ODDITIES[3].edit)  # version 4: cryptography refuses it
    with pytest.raises(x509.InvalidVersion):
        x509.load_der_x509_certificate(third)
    chain = [pki.der(leaf.cert), pki.der(forger.cert), third]
    pem = tmp_path / "chain.pem"
    pem.write_bytes(b"".join(_pem(d) for d in chain))
    der = tmp_path / "chain.der"
    der.write_bytes(b"".join(chain))
    results = []
    for path in (pem, der):
        res = _inspect(run_cli, path, ca_bundle, tmp_path / "data", "--at", AT)
        assert "Traceback" not in res.output + res.stderr
        assert res.exit_code == 1, res.stderr
        r = res.result(HOST)
        assert (r["status"], r["rule"], r["findings"][0]["id"]) == ("intercepted", "no_public_root", "UNTRUSTED_ROOT")
        assert [f["evidence"]["position"] for f in r["findings"] if f["id"] == "MALFORMED_CERTIFICATE"] == ["2"]
        results.append(r)
    # same chain, same verdict: PEM, DER blocks and the core on the raw DERs
    ctx = load_trust_context(ca_bundle=ca_bundle, use_device_store=False, directory=tmp_path / "data")
    core = analyze_chain(HOST, 443, chain, ctx, at).to_dict()
    for r in results:
        assert [c["sha256"] for c in r["chain"]] == [hashlib.sha256(d).hexdigest() for d in chain]
        for key in ("status", "severity", "rule", "interceptor", "chain", "public_anchor", "ct", "pins"):
            assert r[key] == core[key], key
        assert [(f["id"], f["evidence"]) for f in r["findings"]] == [(f["id"], f["evidence"]) for f in core["findings"]]


def _pem(der: bytes) -> bytes:
    b64 = base64.encodebytes(der)
    return b"-----BEGIN CERTIFICATE-----\n" + b64 + b"-----END CERTIFICATE-----\n"


GARBAGE = {
    "text": b"this is not a certificate\n",
    "binary": bytes(range(1, 200)),
    "truncated-der": b"\x30\x82\x01\x00\x02\x01",
    "pem-without-end": b"-----BEGIN CERTIFICATE-----\nMIIB\n",
    "pem-not-base64": b"-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
}


@pytest.mark.parametrize("where", ["file", "ca-bundle"])
@pytest.mark.parametrize("content", list(GARBAGE.values()), ids=list(GARBAGE))
def test_inspect_on_garbage_is_one_error_line(where: str, content: bytes, run_cli: Callable[..., CheckRun],
                                              tmp_path: Path, ca_bundle: Path, public_issuing: pki.CA) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(content)
    if where == "file":
        res = _inspect(run_cli, garbage, ca_bundle, tmp_path / "data")
    else:
        good = pki.write_bundle(tmp_path / "chain.pem", [public_issuing.leaf(HOST).cert, public_issuing.cert])
        res = _inspect(run_cli, good, garbage, tmp_path / "data")
    assert res.exit_code == 2
    assert res.output == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("certguard: error: ") and str(garbage) in lines[0]
    for leak in ("ParseError {", "Traceback"):
        assert leak not in res.stderr


@pytest.mark.parametrize("anchor", ["short-tbs", "version-4"])
def test_inspect_on_a_ca_bundle_cryptography_refuses_names_the_reason(anchor: str, run_cli: Callable[..., CheckRun],
                                                                      tmp_path: Path, public_issuing: pki.CA) -> None:
    # Open before the fix: "short-tbs" printed cryptography's Rust debug dump ("ParseError { kind: ... }"), and
    # "version-4" raised InvalidVersion (not a ValueError) straight through as a traceback.
    der = (b"\x30\x03\x02\x01\x01" if anchor == "short-tbs"
           else edited(pki.der(pki.root("V4 Root").cert), ODDITIES[3].edit))
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(_pem(der))
    good = pki.write_bundle(tmp_path / "chain.pem", [public_issuing.leaf(HOST).cert, public_issuing.cert])
    res = CliRunner().invoke(cli, ["inspect", str(good), "--host", HOST, "--json", "--no-device-store",
                                   "--ca-bundle", str(bundle), "--data-dir", str(tmp_path / "data")])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 2
    assert res.stderr.startswith(f"certguard: error: ca-bundle {bundle}: anchor #1 is not a certificate (")
    assert len(res.stderr.splitlines()) == 1
    assert "ParseError {" not in res.stderr and "Traceback" not in res.output + res.stderr


def test_text_output_of_an_issuer_name_that_looks_like_markup(run_cli: Callable[..., CheckRun], tmp_path: Path,
                                                              ca_bundle: Path) -> None:
    forger = pki.root("Evil [/x] Root")
    chain = pki.write_bundle(tmp_path / "chain.pem", [forger.leaf(HOST).cert, forger.cert])
    res = run_cli("inspect", str(chain), "--host", HOST, "--no-device-store", "--ca-bundle", str(ca_bundle),
                  "--data-dir", str(tmp_path / "data"))
    assert res.exit_code == 1 and "Evil [/x] Root" in res.output
