"""Verdicts that hold on the real world (issue 12): genuine chains to roots that left Mozilla's program, CT judged at
a past moment against a newer list, and pinsets that do not cry wolf. Each with its negative control."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from importlib import resources
from typing import Any

import ctlog
import pki
import pytest
from conftest import spki_of, write_pins
from cryptography import x509

from certguard.data import anchors
from certguard.data import pins as pin_data
from certguard.judge import certs
from certguard.judge.analyze import TrustContext, analyze_chain
from certguard.judge.ctlog import CTLogList
from certguard.judge.exroots import ExRoot, ExRoots
from certguard.judge.pins import audit_against
from certguard.judge.verify import AnchorSet

HOST = "www.example.test"


def ids(v: Any) -> set[str]:
    return {f.id for f in v.findings}


def _exroots(root: pki.CA, reason: str) -> ExRoots:
    sha = certs.fingerprint(root.cert)
    info = {sha: ExRoot("Old Test Root", sha, spki_of(root), reason, "2025.01.01", "2026.04.22")}
    anchor_set = AnchorSet(f"test {reason}", (root.cert,))
    return ExRoots(retired=anchor_set if reason == "retired" else None,
                   distrusted=anchor_set if reason == "distrusted" else None, info=info, sha256="0" * 64, source="t")


def test_a_chain_to_a_retired_root_is_genuine_and_a_distrusted_one_is_not(ctx_factory: Any, now: Any) -> None:
    old = pki.root("Old Test Root", "Old CA", "US")
    issuing = old.child_ca("Old Issuing CA", "Old CA", "US")
    chain = [pki.der(issuing.leaf(HOST).cert), pki.der(issuing.cert)]
    base: TrustContext = ctx_factory()  # Mozilla's set (the test public root) lacks the old root
    without = analyze_chain(HOST, 443, chain, base, now)
    assert (without.status.value, without.rule) == ("intercepted", "no_public_root"), "the bug of issue 12.2"

    retired = analyze_chain(HOST, 443, chain, TrustContext(**{**base.__dict__, "exroots": _exroots(old, "retired")}),
                            now)
    assert (retired.status.value, retired.severity.value, retired.rule) == ("ok", "info", "legacy_root")
    assert "LEGACY_ROOT" in ids(retired) and "DEVICE_TRUSTS_INTERCEPTOR" not in ids(retired)

    distrusted = analyze_chain(HOST, 443, chain,
                               TrustContext(**{**base.__dict__, "exroots": _exroots(old, "distrusted")}), now)
    assert (distrusted.status.value, distrusted.rule) == ("intercepted", "no_public_root")
    assert "DISTRUSTED_ROOT" in ids(distrusted)


def test_shipped_ex_mozilla_roots_match_their_hashes_and_skip_current_ones() -> None:
    doc = tomllib.loads(resources.files("certguard.pinned_roots").joinpath("legacy_roots.toml").read_text("utf-8"))
    entries = doc["root"]
    assert {e["reason"] for e in entries} == {"retired", "distrusted"}
    for e in entries:
        [der] = certs.split_pem_or_der(e["pem"].encode(), e["name"])
        view = certs.view(der)
        assert (view.sha256, view.spki_sha256) == (e["sha256"], e["spki_sha256"]), e["name"]
    names = {e["name"] for e in entries if e["reason"] == "retired"}
    assert {"DigiCert Global Root CA", "Baltimore CyberTrust Root"} <= names  # FACTS.md §5
    mozilla = anchors.mozilla()
    ex = anchors.exroots(mozilla)
    assert not set(ex.info) & mozilla.sha256s, "a root back in Mozilla's set is Mozilla's, not an ex-root"
    # control: with a Mozilla set that holds one of them, that one is left out
    first = next(e for e in entries if e["reason"] == "retired")
    [der] = certs.split_pem_or_der(first["pem"].encode(), "x")
    with_it = AnchorSet("t", (*mozilla.certs, x509.load_der_x509_certificate(der)))
    assert first["sha256"] not in anchors.exroots(with_it).info and first["sha256"] in ex.info


@pytest.fixture
def logs() -> dict[str, ctlog.TestLog]:
    return {"a": ctlog.TestLog("Log A", "Operator A"), "b": ctlog.TestLog("Log B", "Operator B")}


def test_ct_is_not_enforced_against_a_list_much_newer_than_the_moment(ctx_factory: Any, public_issuing: pki.CA,
                                                                       logs: dict[str, ctlog.TestLog]) -> None:
    """Judged in the past with a newer list whose logs of that time are gone: not judgeable, never suspicious."""
    leaf = ctlog.leaf_with_scts(public_issuing, HOST, [(logs["a"], None, False), (logs["b"], None, False)])
    chain = [pki.der(leaf.cert), pki.der(public_issuing.cert)]
    at = pki.NOW
    only_other = CTLogList.from_json(ctlog.log_list([ctlog.TestLog("Later log", "Operator C")],
                                                    timestamp=at + timedelta(days=200)), "newer")
    v = analyze_chain(HOST, 443, chain, ctx_factory(ct_logs=only_other), at)
    assert (v.status.value, v.rule) == ("ok", "public_ok") and "CT_LIST_TOO_NEW" in ids(v)
    assert v.ct is not None and v.ct["not_judgeable"] == "list_too_new" and not v.ct["enforced"]
    # control: the same list dated a few days after the moment describes it, and the missing SCTs count
    near = CTLogList.from_json(ctlog.log_list([ctlog.TestLog("Later log", "Operator C")],
                                              timestamp=at + timedelta(days=5)), "near")
    v = analyze_chain(HOST, 443, chain, ctx_factory(ct_logs=near), at)
    assert (v.status.value, v.rule) == ("suspicious", "ct_missing") and "CT_INSUFFICIENT" in ids(v)


def test_a_pin_mismatch_on_a_logged_public_chain_is_a_warning_unless_the_pinset_is_high(
        tmp_path: Any, ctx_factory: Any, public: pki.CA, public_issuing: pki.CA,
        logs: dict[str, ctlog.TestLog]) -> None:
    leaf = ctlog.leaf_with_scts(public_issuing, HOST, [(logs["a"], None, False), (logs["b"], None, False)])
    chain = [pki.der(leaf.cert), pki.der(public_issuing.cert)]
    lst = CTLogList.from_json(ctlog.log_list(list(logs.values())), "t")
    elsewhere = spki_of(pki.root("Some Other CA"))
    medium = write_pins(tmp_path / "m.toml", ["example.test"], [elsewhere])
    v = analyze_chain(HOST, 443, chain, ctx_factory(pin_files=(medium,), ct_logs=lst), pki.NOW)
    assert (v.status.value, v.severity.value, v.rule) == ("ok", "warning", "pins_outdated")
    assert "PINS_OUTDATED" in ids(v)
    high = tmp_path / "h.toml"
    high.write_text(medium.read_text().replace('name = "test"', 'name = "test"\nconfidence = "high"'))
    v = analyze_chain(HOST, 443, chain, ctx_factory(pin_files=(high,), ct_logs=lst), pki.NOW)
    assert (v.status.value, v.rule) == ("suspicious", "pin_mismatch")
    # control: without CT proofs a medium pinset's mismatch is still suspicious
    plain = [pki.der(public_issuing.leaf(HOST).cert), pki.der(public_issuing.cert)]
    v = analyze_chain(HOST, 443, plain, ctx_factory(pin_files=(medium,), ct_logs=lst), pki.NOW)
    assert v.status.value == "suspicious" and v.rule in ("rogue_public_ca", "pin_mismatch")


def test_shipped_pinsets_cover_the_roots_their_cas_issue_from(tmp_path: Any) -> None:
    """github.com's 2026 chain ends at Sectigo Root E46: its pinset must hold it (issue 12.4), and no pinset may
    miss a root its own CA issues from (``certguard pins`` reports that drift)."""
    db = pin_data.load()
    github = next(p for p in db.pinsets if p.name == "github")
    e46 = "b0b56335468561f5bb9fa12d801784a633a572705d34f32b643445dfa8b005d1"
    assert e46 in {k.spki_sha256 for k in github.keys}
    meta = next(p for p in db.pinsets if p.name == "meta")
    assert len(meta.keys) >= 20
    report = audit_against(db, anchors.mozilla())
    assert report["pinsets_missing_ca_roots"] == 0, [s["missing_ca_roots"] for s in report["pinsets"]]
    assert {p.name: p.confidence for p in db.pinsets}["google"] == "high"
    assert all(p.confidence == "medium" for p in db.pinsets if p.name != "google")
    # control: a pinset that names its CA but lacks one of that CA's roots is reported
    drift = tmp_path / "drift.toml"
    drift.write_text('[cas.testca]\nname = "Test CA"\nroots = ["isrg_root_x1", "isrg_root_x2"]\n'
                     '[[pinsets]]\nname = "drift"\nhosts = ["drift.test"]\nkeys = ["isrg_root_x1"]\ncas = ["testca"]\n')
    report = audit_against(pin_data.load([drift]), anchors.mozilla())
    [missing] = next(s for s in report["pinsets"] if s["name"] == "drift")["missing_ca_roots"]
    assert missing["id"] == "isrg_root_x2" and report["pinsets_missing_ca_roots"] == 1


def test_json_names_the_deciding_rule_for_every_result(run_cli: Any, tmp_path: Any, ca_bundle: Any,
                                                       public_issuing: pki.CA) -> None:
    genuine = pki.write_bundle(tmp_path / "g.pem", [public_issuing.leaf(HOST).cert, public_issuing.cert])
    forged = pki.write_bundle(tmp_path / "f.pem", [pki.root("Qaznet Trust Network", None, "KZ").leaf(HOST).cert])
    common = ["--host", HOST, "--ca-bundle", str(ca_bundle), "--no-device-store", "--json"]
    ok = run_cli("inspect", str(genuine), *common)
    bad = run_cli("inspect", str(forged), *common)
    assert (ok.exit_code, [r["rule"] for r in ok.doc["results"]]) == (0, ["public_ok"])
    assert (bad.exit_code, [r["rule"] for r in bad.doc["results"]]) == (1, ["no_public_root"])
    assert bad.doc["results"][0]["source"] == "file"
