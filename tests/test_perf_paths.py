"""The fast paths of issue 17 give the same answers as the slow ones, and never a stale one.

Each cache is keyed by everything its answer depends on (exact DER bytes, a certificate's DER, a name's parts, a
file's content); each test changes exactly that key and checks the answer follows (the negative control).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pki
import pytest
import servers
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certguard.data import anchors
from certguard.data import intel as intel_data
from certguard.errors import DataError
from certguard.judge import certs
from certguard.judge import intel as intel_mod
from certguard.judge.models import InterceptorKind, Target
from certguard.judge.verify import AnchorSet
from certguard.probe import tls
from certguard.probe.tls import ProbeOptions, fetch_chain

HOST = "site.example.test"


# ---- certificate views

def test_a_view_is_served_from_cache_only_for_the_very_same_bytes() -> None:
    s = pki.site_chain(HOST)
    der = pki.der(s.leaf.cert)
    first, again = certs.view(der), certs.view(bytes(der))
    assert again is first  # the same bytes: the cached view
    # One byte changed (inside the signature): another certificate, another view, and it says so.
    tampered = der[:-1] + bytes([der[-1] ^ 0x01])
    other = certs.view(tampered)
    assert other is not first and other.sha256 == certs.sha256_hex(tampered) != first.sha256


def test_a_cached_view_keeps_its_position_per_call() -> None:
    s = pki.site_chain(HOST)
    der = pki.der(s.intermediate.cert)
    at_2 = certs.view(der, 2)
    at_0 = certs.view(der)
    assert (at_2.position, at_0.position) == (2, 0)
    assert at_2.sha256 == at_0.sha256 and at_2.cert is at_0.cert


def test_an_unreadable_certificate_is_as_unreadable_from_the_cache() -> None:
    garbage = b"\x30\x82\x01\x00" + b"\x00" * 256
    first, again = certs.view(garbage, 1), certs.view(garbage, 1)
    assert first == again and first.cert is None and first.problems
    assert not certs.view(pki.der(pki.site_chain(HOST).leaf.cert)).problems  # control: a good one reads clean


def test_the_view_cache_is_bounded() -> None:
    root = pki.root("Many Leaves Root")
    ders = [pki.der(root.leaf(f"h{i}.example.test").cert) for i in range(certs.VIEW_CACHE_SIZE + 10)]
    for d in ders:
        certs.view(d)
    info = certs._view_at_0.cache_info()
    assert info.currsize <= certs.VIEW_CACHE_SIZE


def test_fingerprints_from_the_cache_match_the_bytes() -> None:
    a, b = pki.site_chain(HOST).leaf.cert, pki.site_chain(HOST).leaf.cert  # same names, different certificates
    for c in (a, b, a, b):
        der = c.public_bytes(serialization.Encoding.DER)
        assert certs.fingerprint(c) == certs.sha256_hex(der)
        spki = c.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
        assert certs.spki_sha256(c) == certs.sha256_hex(spki)
    assert certs.fingerprint(a) != certs.fingerprint(b) and certs.spki_sha256(a) != certs.spki_sha256(b)


# ---- intel name matching

def _issuer(cn: str, c: str | None = None, o: str | None = None) -> x509.Name:
    return pki.name(cn, o, c)


def _slow_match(db: intel_mod.IntelDB, name: x509.Name) -> list[str]:
    return [e.entry_id for e in db.entries if any(p.matches(name) for p in e.issuer_patterns)]


def test_cached_name_matches_equal_the_pattern_by_pattern_answer() -> None:
    db = intel_data.load()
    names = [_issuer("Qaznet Trust Network", "KZ"), _issuer("Qaznet Trust Network"),
             _issuer("R11", "US", "Let's Encrypt"), _issuer("Qaznet Trust Network", "KZ"),
             _issuer("Fiddler Root Certificate Authority"), _issuer("R11", "US", "Let's Encrypt")]
    answers = [[m.entry_id for m in db.match_issuer_name(n, "00" * 32)] for n in names]
    assert answers == [_slow_match(db, n) for n in names]
    # the control that makes this meaningful: some names match and some do not
    assert any(answers) and not all(answers)


def test_a_name_that_differs_only_by_country_is_not_served_another_names_answer() -> None:
    pattern = intel_mod.IssuerPattern(cn=None, o=None, c="KZ")
    entry = intel_mod.Interceptor("t", "Test", InterceptorKind.STATE, "KZ", None, frozenset(), frozenset(),
                                  (pattern,), (), ())
    db = intel_mod.IntelDB((entry,), "0" * 64, ("test",))
    assert db.match_issuer_name(_issuer("Same Name", "US"), "00" * 32) == []
    assert [m.entry_id for m in db.match_issuer_name(_issuer("Same Name", "KZ"), "00" * 32)] == ["t"]
    assert db.match_issuer_name(_issuer("Same Name", "US"), "00" * 32) == []


def test_the_name_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intel_mod, "NAME_CACHE_SIZE", 4)
    db = intel_data.load()
    for i in range(10):
        db.match_issuer_name(_issuer(f"Issuer {i}"), "00" * 32)
    assert len(db._by_name) <= 4
    assert [m.entry_id for m in db.match_issuer_name(_issuer("Qaznet Trust Network", "KZ"), "00" * 32)] == \
        _slow_match(db, _issuer("Qaznet Trust Network", "KZ"))


# ---- trust anchors

def test_a_changed_bundle_file_is_not_served_from_a_stale_cache(tmp_path: Path) -> None:
    one, two = pki.root("Bundle Root One"), pki.root("Bundle Root Two")
    bundle = pki.write_bundle(tmp_path / "anchors.pem", [one.cert])
    first = anchors.mozilla(bundle)
    assert anchors.mozilla(bundle) is first  # unchanged content: the same AnchorSet, no second parse
    pki.write_bundle(bundle, [one.cert, two.cert])  # same path, new content
    second = anchors.mozilla(bundle)
    assert second is not first and certs.fingerprint(two.cert) in second.sha256s
    assert certs.fingerprint(two.cert) not in first.sha256s


def test_an_unreadable_bundle_is_still_an_error_after_a_good_read(tmp_path: Path) -> None:
    bundle = pki.write_bundle(tmp_path / "anchors.pem", [pki.root("Bundle Root").cert])
    anchors.mozilla(bundle)
    bundle.write_bytes(b"not a certificate")
    with pytest.raises(DataError):
        anchors.mozilla(bundle)


def test_lazy_ex_mozilla_roots_read_the_file_once_and_only_when_asked() -> None:
    mozilla = anchors.mozilla()
    calls: list[int] = []

    def load() -> Any:
        calls.append(1)
        return anchors.exroots(mozilla)

    lazy = anchors.LazyExRoots(load)
    assert calls == []  # building the context reads nothing
    eager = anchors.exroots(mozilla)
    assert lazy.sha256 == eager.sha256 and set(lazy.info) == set(eager.info)
    assert lazy.retired is not None and eager.retired is not None
    assert lazy.retired.sha256s == eager.retired.sha256s
    sha = next(iter(eager.info))
    assert lazy.about(sha) == eager.about(sha) and lazy.about("00" * 32) is None
    assert calls == [1]  # once, however many attributes were read


# ---- the probe's shared context

def test_one_client_context_serves_every_probe_and_never_resumes(serve: Any) -> None:
    # A resumed session would skip the Certificate message: every probe must capture the chain anew.
    s = pki.site_chain(HOST)
    srv: servers.Server = serve("tls", s.served, s.leaf.key)
    first = fetch_chain(Target(HOST, 443, srv.host, srv.port), ProbeOptions(timeout=5))
    context = tls._context()
    second = fetch_chain(Target(HOST, 443, srv.host, srv.port), ProbeOptions(timeout=5))
    assert tls._context() is context
    assert first.ok and second.ok and first.chain == second.chain == tuple(pki.der(c) for c in s.served)
    assert srv.connections == 2


def test_anchor_fingerprints_from_the_bundle_bytes_equal_those_from_the_certificates() -> None:
    roots = [pki.root(f"Anchor Root {i}") for i in range(3)]
    ders = [pki.der(r.cert) for r in roots]
    fast = AnchorSet.from_ders("fast", [*ders, ders[0]])  # a duplicate is one anchor
    slow = AnchorSet("slow", tuple(r.cert for r in roots))
    assert len(fast.certs) == 3
    assert fast.sha256s == slow.sha256s == {certs.fingerprint(r.cert) for r in roots}
    assert fast.spki_sha256s == slow.spki_sha256s == {certs.spki_sha256(r.cert) for r in roots}
    assert fast.subjects == slow.subjects
    # negative control: a different root set has other fingerprints
    other = AnchorSet.from_ders("other", [pki.der(pki.root("Anchor Root 0").cert)])
    assert other.sha256s.isdisjoint(fast.sha256s)


# ---- the device path is not diagnosed

def test_the_device_path_skips_the_diagnosis_and_the_verdict_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from certguard.data import pins
    from certguard.judge import signals, verify
    from certguard.judge.analyze import TrustContext, analyze_chain

    site = pki.site_chain(HOST)
    expired = pki.site_chain(HOST, not_before=pki.NOW - timedelta(days=60), not_after=pki.NOW - timedelta(days=1))
    forger = pki.root("Device Installed Root")
    forged = forger.leaf(HOST)
    device = AnchorSet("device", (forger.cert, expired.root.cert))
    ctx = TrustContext(mozilla=AnchorSet("public", (site.root.cert, expired.root.cert)), device=device,
                       pins=pins.load(), intel=intel_data.load())
    chains = {"genuine": [pki.der(c) for c in site.served], "expired": [pki.der(c) for c in expired.served],
              "forged": [pki.der(forged.cert)]}
    fast = {k: analyze_chain(HOST, 443, c, ctx, pki.NOW) for k, c in chains.items()}
    real = verify.build_path
    monkeypatch.setattr(signals, "build_path", lambda *a, **kw: real(*a, **{**kw, "diagnose": True}))
    slow = {k: analyze_chain(HOST, 443, c, ctx, pki.NOW) for k, c in chains.items()}
    assert {k: v.to_dict() for k, v in fast.items()} == {k: v.to_dict() for k, v in slow.items()}
    # and the cases differ where they should: the device trusts the forgery and not the genuine chain
    assert fast["forged"].device_anchor == certs.fingerprint(forger.cert) and fast["genuine"].device_anchor is None
    assert fast["forged"].status.value == "intercepted" and fast["genuine"].status.value == "ok"
    leaf = site.leaf.cert
    assert verify.build_path(leaf, [site.intermediate.cert], device, HOST, pki.NOW, diagnose=False).error \
        is verify.PathError.NO_PATH
    assert verify.build_path(leaf, [site.intermediate.cert], device, HOST, pki.NOW).error is verify.PathError.UNTRUSTED
