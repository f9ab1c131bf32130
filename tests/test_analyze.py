"""The pure decision core, with in-memory chains (no server): each status rule and its negative control."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import ctlog
import pki
import pytest
from conftest import spki_of, write_intel, write_pins

from certguard.judge import signals as signals_mod
from certguard.judge.analyze import analyze_batch, analyze_chain
from certguard.judge.ctlog import CTLogList
from certguard.judge.models import ProbeAttempt, ProbeFailure, Target, Verdict

HOST = "www.example.test"


def ders(*certs: Any) -> list[bytes]:
    return [pki.der(c) for c in certs]


def ids(v: Verdict) -> list[str]:
    return [f.id for f in v.findings]


def test_device_trusting_the_interceptor_is_said(ctx_factory: Any, now: Any) -> None:
    rogue = pki.root("Corp Root Nobody Knows")
    leaf = rogue.leaf(HOST)
    v = analyze_chain(HOST, 443, ders(leaf.cert), ctx_factory(device=[rogue.cert]), now)
    assert v.status.value == "intercepted" and "DEVICE_TRUSTS_INTERCEPTOR" in ids(v)
    assert v.device_anchor is not None
    v2 = analyze_chain(HOST, 443, ders(leaf.cert), ctx_factory(), now)  # negative control: device not trusting
    assert "DEVICE_TRUSTS_INTERCEPTOR" not in ids(v2) and v2.device_anchor is None


def test_state_ca_on_its_own_domain_is_ok_elsewhere_interception(ctx_factory: Any, now: Any, tmp_path: Path) -> None:
    state = pki.root("National Trusted Root CA", "Ministry", "ZZ")
    intel_file = write_intel(tmp_path / "i.toml", "zz-national", "state", spki_of(state), "ZZ", ["gov.test"])
    ctx = ctx_factory(intel_files=(intel_file,))
    own = state.leaf("www.gov.test")
    v = analyze_chain("www.gov.test", 443, ders(own.cert, state.cert), ctx, now)
    assert (v.status.value, ids(v)[0]) == ("ok", "STATE_CA_LEGITIMATE")
    foreign = state.leaf(HOST)
    v2 = analyze_chain(HOST, 443, ders(foreign.cert, state.cert), ctx, now)
    assert (v2.status.value, v2.interceptor and v2.interceptor.kind.value) == ("intercepted", "state")


def test_state_beats_benign_when_both_match(ctx_factory: Any, now: Any, tmp_path: Path) -> None:
    av = pki.root("ESET SSL Filter CA")
    state = av.child_ca("Information Security Certification Authority", "ISCA", "KZ")
    leaf = state.leaf(HOST)
    v = analyze_chain(HOST, 443, ders(leaf.cert, state.cert), ctx_factory(), now)
    assert v.interceptor is not None and v.interceptor.kind.value == "state"


def test_unreadable_leaf_is_loud_never_error(ctx_factory: Any, now: Any, public_issuing: pki.CA) -> None:
    # A leaf nobody can read is the server's doing, not certguard's bug: never "error", never quiet.
    v = analyze_chain(HOST, 443, [b"\x30\x03garbage"], ctx_factory(), now)
    assert (v.status.value, v.severity.value, v.rule) == ("suspicious", "critical", "unreadable_leaf")
    assert ids(v) == ["UNREADABLE_LEAF", "MALFORMED_CERTIFICATE"]
    # ... and when the unreadable leaf carries the site's name, it is a forgery that hid its names: intercepted.
    forged = pki.der(pki.root("Forger").leaf(HOST).cert)
    broken = forged[:4] + b"\x02" + forged[5:]  # the TBSCertificate is no longer a SEQUENCE: nothing parses
    v = analyze_chain(HOST, 443, [broken], ctx_factory(), now)
    assert (v.status.value, v.rule) == ("intercepted", "no_public_root")
    leaf = public_issuing.leaf(HOST)
    v2 = analyze_chain(HOST, 443, [pki.der(leaf.cert), b"not a cert", pki.der(public_issuing.cert)], ctx_factory(), now)
    assert v2.status.value == "ok" and "MALFORMED_CERTIFICATE" in ids(v2)


def test_out_of_order_and_extras_are_noted_not_alarming(ctx_factory: Any, now: Any, public: pki.CA,
                                                        public_issuing: pki.CA) -> None:
    mid2 = public_issuing.child_ca("Second Level CA")
    leaf = mid2.leaf(HOST)
    v = analyze_chain(HOST, 443, ders(leaf.cert, public_issuing.cert, mid2.cert, pki.root("Stray").cert),
                      ctx_factory(), now)
    assert v.status.value == "ok"
    assert {"CHAIN_OUT_OF_ORDER", "EXTRA_CERTIFICATES"} <= set(ids(v))
    v2 = analyze_chain(HOST, 443, ders(leaf.cert, mid2.cert, public_issuing.cert), ctx_factory(), now)
    assert not {"CHAIN_OUT_OF_ORDER", "EXTRA_CERTIFICATES"} & set(ids(v2))


def test_not_yet_valid_is_misconfigured(ctx_factory: Any, now: Any, public_issuing: pki.CA) -> None:
    leaf = public_issuing.leaf(HOST, not_before=now + timedelta(days=2), not_after=now + timedelta(days=50))
    v = analyze_chain(HOST, 443, ders(leaf.cert, public_issuing.cert), ctx_factory(), now)
    assert (v.status.value, ids(v)[0]) == ("misconfigured", "CERT_NOT_YET_VALID")


def test_weak_name_on_public_chain_is_only_a_note(ctx_factory: Any, now: Any) -> None:
    weird_public = pki.root("Some Public Root")
    mid = weird_public.child_ca("Zscaler Intermediate Test")  # a public CA whose name resembles a product
    leaf = mid.leaf(HOST)
    v = analyze_chain(HOST, 443, ders(leaf.cert, mid.cert), ctx_factory(anchors=[weird_public.cert]), now)
    assert v.status.value == "ok" and v.interceptor is None
    assert [f.severity.value for f in v.findings if f.id == "INTERCEPTOR_NAME_MATCH"] == ["info"]


# --- CT in the verdict ---------------------------------------------------------------------------------------

@pytest.fixture
def two_logs() -> tuple[ctlog.TestLog, ctlog.TestLog, CTLogList]:
    a, b = ctlog.TestLog("A", "Operator A"), ctlog.TestLog("B", "Operator B")
    return a, b, CTLogList.from_json(ctlog.log_list([a, b]), "test")


def test_public_chain_without_scts_is_suspicious(ctx_factory: Any, now: Any, public_issuing: pki.CA,
                                                 two_logs: Any) -> None:
    a, b, lst = two_logs
    leaf = public_issuing.leaf(HOST)
    v = analyze_chain(HOST, 443, ders(leaf.cert, public_issuing.cert), ctx_factory(ct_logs=lst), now)
    assert (v.status.value, v.severity.value) == ("suspicious", "warning")
    assert "CT_INSUFFICIENT" in ids(v)
    logged = ctlog.leaf_with_scts(public_issuing, HOST, [(a, None, False), (b, None, False)])
    v2 = analyze_chain(HOST, 443, ders(logged.cert, public_issuing.cert), ctx_factory(ct_logs=lst), now)
    assert v2.status.value == "ok" and v2.ct is not None and v2.ct["policy_met"] is True


def test_pin_and_ct_failing_together_is_a_rogue_public_ca(ctx_factory: Any, now: Any, public: pki.CA,
                                                          tmp_path: Path, two_logs: Any) -> None:
    _, _, lst = two_logs
    rogue_public = pki.root("DigiNotar-like Public Root")
    leaf = rogue_public.leaf(HOST)
    pins_file = write_pins(tmp_path / "p.toml", [HOST], [spki_of(public)])
    ctx = ctx_factory(anchors=[public.cert, rogue_public.cert], pin_files=(pins_file,), ct_logs=lst)
    v = analyze_chain(HOST, 443, ders(leaf.cert), ctx, now)
    assert (v.status.value, v.severity.value) == ("suspicious", "critical")
    assert {"PIN_MISMATCH", "CT_INSUFFICIENT"} <= set(ids(v))


def test_root_missing_from_mozilla_but_logged_is_misconfigured(ctx_factory: Any, now: Any, two_logs: Any) -> None:
    a, b, lst = two_logs
    retired_root = pki.root("Root Removed From Mozilla")
    mid = retired_root.child_ca("Its Issuing CA")
    logged = ctlog.leaf_with_scts(mid, HOST, [(a, None, False), (b, None, False)])
    v = analyze_chain(HOST, 443, ders(logged.cert, mid.cert), ctx_factory(ct_logs=lst), now)
    assert (v.status.value, ids(v)[0]) == ("misconfigured", "ROOT_NOT_IN_MOZILLA")
    # Negative control: the same chain with forged (bad) SCTs is interception
    forged = ctlog.leaf_with_scts(mid, HOST, [(a, None, True), (b, None, True)])
    v2 = analyze_chain(HOST, 443, ders(forged.cert, mid.cert), ctx_factory(ct_logs=lst), now)
    assert v2.status.value == "intercepted" and "CT_INVALID_SCT" in ids(v2)


# --- batch semantics ------------------------------------------------------------------------------------------

def _failed(host: str, failure: ProbeFailure, now: Any) -> ProbeAttempt:
    return ProbeAttempt(Target(host), now, failure=failure, detail="x")


def test_blocked_needs_another_host_to_work(ctx_factory: Any, now: Any, public_issuing: pki.CA) -> None:
    leaf = public_issuing.leaf("ok.test")
    ok = ProbeAttempt(Target("ok.test"), now, "127.0.0.1", tuple(ders(leaf.cert, public_issuing.cert)))
    v = analyze_batch([ok, _failed("x.test", ProbeFailure.DNS, now)], ctx_factory(), now)
    assert [x.status.value for x in v] == ["ok", "blocked"]
    alone = analyze_batch([_failed("x.test", ProbeFailure.DNS, now)], ctx_factory(), now)
    assert alone[0].status.value == "unreachable"
    proxy = analyze_batch([ok, _failed("y.test", ProbeFailure.PROXY_ERROR, now)], ctx_factory(), now)
    assert proxy[1].status.value == "unreachable"  # our proxy failing is not the site being blocked


def test_a_bug_in_the_core_is_an_error_verdict(ctx_factory: Any, now: Any, public_issuing: pki.CA,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    leaf = public_issuing.leaf(HOST)
    attempt = ProbeAttempt(Target(HOST), now, "127.0.0.1", tuple(ders(leaf.cert)))

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(signals_mod, "build_path", boom)
    v = analyze_batch([attempt], ctx_factory(), now)[0]
    assert (v.status.value, ids(v)) == ("error", ["INTERNAL_ERROR"])
    assert "simulated bug" in v.findings[0].evidence_dict["detail"]


def test_internal_probe_error_is_error(ctx_factory: Any, now: Any) -> None:
    v = analyze_batch([_failed("x.test", ProbeFailure.INTERNAL_ERROR, now)], ctx_factory(), now)[0]
    assert v.status.value == "error"


def test_verdict_round_trips_through_json(ctx_factory: Any, now: Any, tmp_path: Path, two_logs: Any) -> None:
    import json

    a, _, lst = two_logs
    qaznet = pki.root("Qaznet Trust Network", None, "KZ")
    leaf = ctlog.leaf_with_scts(qaznet, HOST, [(a, None, True)])
    v = analyze_chain(HOST, 443, ders(leaf.cert), ctx_factory(device=[qaznet.cert], ct_logs=lst), now)
    again = Verdict.from_dict(json.loads(json.dumps(v.to_dict())))
    assert again.to_dict() == v.to_dict()
    assert again.status == v.status and again.interceptor == v.interceptor and again.findings == v.findings
