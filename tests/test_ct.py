"""CT: real SCTs over the RFC 6962 structure, from logs the tests create, judged by Chrome's policy."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import ctlog
import pki
import pytest
from conftest import SHARED_DATA
from cryptography import x509

from certguard.errors import DataError
from certguard.judge import ct
from certguard.judge.ctlog import CTLogList

HOST = "ct.example.test"


@pytest.fixture
def logs() -> dict[str, ctlog.TestLog]:
    return {
        "a": ctlog.TestLog("Op A log", "Operator A"),
        "b": ctlog.TestLog("Op B log (RSA)", "Operator B", key=pki.new_key("rsa")),
        "a2": ctlog.TestLog("Op A second log", "Operator A"),
        "retired": ctlog.TestLog("Retired log", "Operator C", state="retired",
                                 state_since=pki.NOW - timedelta(days=30)),
        "tiled": ctlog.TestLog("Tiled log", "Operator D", tiled=True),
    }


@pytest.fixture
def issuer() -> pki.CA:
    return pki.root("CT Root").child_ca("CT Issuing CA")


def judge(issuer: pki.CA, logs: dict[str, ctlog.TestLog], scts: list[tuple[str, Any, bool]],
          known: list[str] | None = None, **kw: Any) -> ct.CTResult:
    leaf = ctlog.leaf_with_scts(issuer, HOST, [(logs[n], when, bad) for n, when, bad in scts], **kw)
    listed = [logs[n] for n in (known if known is not None else list(logs))]
    return ct.check_ct([leaf.cert, issuer.cert], None, CTLogList.from_json(ctlog.log_list(listed), "test"),
                       pki.NOW)


def test_two_valid_scts_from_two_operators_meet_policy(issuer: pki.CA, logs: Any) -> None:
    r = judge(issuer, logs, [("a", None, False), ("b", None, False)])
    assert r.policy_met and r.valid_count == 2 and r.required == 2
    assert [s.reason for s in r.scts] == ["ok", "ok"]
    assert {s.operator for s in r.scts} == {"Operator A", "Operator B"}


def test_bad_signature_is_caught(issuer: pki.CA, logs: Any) -> None:
    r = judge(issuer, logs, [("a", None, False), ("b", None, True)])
    assert [s.reason for s in r.scts] == ["ok", "bad_signature"]
    assert not r.policy_met
    assert {f.id for f in r.findings()} == {"CT_INVALID_SCT", "CT_INSUFFICIENT"}


def test_copied_scts_do_not_verify_over_a_forged_leaf(issuer: pki.CA, logs: Any) -> None:
    # A forger copies the genuine SCT extension into its own leaf (same names, its own key and issuer)
    genuine = ctlog.leaf_with_scts(issuer, HOST, [(logs["a"], None, False), (logs["b"], None, False)])
    forger = pki.root("Qaznet Trust Network", None, "KZ")
    sct_ext = genuine.cert.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps)
    raw = x509.UnrecognizedExtension(sct_ext.oid, sct_ext.value.public_bytes())
    forged = forger.leaf(HOST, extra_extensions=[(raw, False)])
    lst = CTLogList.from_json(ctlog.log_list(list(logs.values())), "t")
    r = ct.check_ct([forged.cert], None, lst, pki.NOW)
    assert r.valid_count == 0 and not r.policy_met
    assert {s.reason for s in r.scts} <= {"issuer_unknown", "bad_signature"}
    r2 = ct.check_ct([forged.cert, forger.cert], None, lst, pki.NOW)
    assert [s.reason for s in r2.scts] == ["bad_signature", "bad_signature"]


def test_remembered_sct_checks_are_never_reused_for_another_issuer_or_signature(issuer: pki.CA, logs: Any) -> None:
    """SCT outcomes are remembered (a daemon re-judges the same chains each round), keyed by the log, the leaf, the
    issuer and the signature: a remembered "valid" never vouches for the same leaf under an impostor issuer (same
    name, other key), and a remembered "bad" stays bad."""
    leaf = ctlog.leaf_with_scts(issuer, HOST, [(logs["a"], None, False), (logs["b"], None, True)])
    lst = CTLogList.from_json(ctlog.log_list(list(logs.values())), "t")
    ct._sct_outcomes.clear()
    first = ct.check_ct([leaf.cert, issuer.cert], None, lst, pki.NOW)
    assert [s.reason for s in first.scts] == ["ok", "bad_signature"] and len(ct._sct_outcomes) == 2
    again = ct.check_ct([leaf.cert, issuer.cert], None, lst, pki.NOW)
    assert [s.reason for s in again.scts] == ["ok", "bad_signature"], "the same answers from memory"
    impostor = pki.root("CT Root").child_ca("CT Issuing CA")  # same names as the issuer, another key
    forged_path = ct.check_ct([leaf.cert, impostor.cert], [leaf.cert, impostor.cert], lst, pki.NOW)
    assert [s.reason for s in forged_path.scts] == ["bad_signature", "bad_signature"]
    assert len(ct._sct_outcomes) == 4, "checked afresh, under a key of its own"


def test_unknown_log(issuer: pki.CA, logs: Any) -> None:
    r = judge(issuer, logs, [("a", None, False), ("b", None, False)], known=["a"])
    assert [s.reason for s in r.scts] == ["ok", "unknown_log"] and not r.policy_met


def test_retired_log_counts_only_before_retirement(issuer: pki.CA, logs: Any) -> None:
    before = pki.NOW - timedelta(days=40)
    after = pki.NOW - timedelta(days=1)
    r = judge(issuer, logs, [("a", None, False), ("retired", before, False)])
    assert r.policy_met, r.reasons
    r = judge(issuer, logs, [("a", None, False), ("retired", after, False)])
    assert [s.reason for s in r.scts] == ["ok", "after_log_retired"] and not r.policy_met


def test_too_few_scts_for_a_long_lived_certificate(issuer: pki.CA, logs: Any) -> None:
    r = judge(issuer, logs, [("a", None, False), ("b", None, False)], not_after=pki.NOW + timedelta(days=365))
    assert r.required == 3 and not r.policy_met
    assert "2 valid SCTs, 3 required" in r.reasons


def test_single_operator_is_not_enough(issuer: pki.CA, logs: Any) -> None:
    r = judge(issuer, logs, [("a", None, False), ("a2", None, False)])
    assert r.valid_count == 2 and not r.policy_met
    assert "all valid SCTs come from one log operator" in r.reasons


def test_needs_one_rfc6962_log(issuer: pki.CA, logs: Any) -> None:
    logs["b"].tiled = True
    r = judge(issuer, logs, [("tiled", None, False), ("b", None, False)])
    assert not r.policy_met and "no valid SCT from an RFC 6962 log" in r.reasons
    logs["b"].tiled = False
    assert judge(issuer, logs, [("tiled", None, False), ("b", None, False)]).policy_met


def test_timestamp_after_expiry(issuer: pki.CA, logs: Any) -> None:
    late = pki.NOW + timedelta(days=100)
    r = judge(issuer, logs, [("a", None, False), ("b", late, False)], not_after=pki.NOW + timedelta(days=50))
    assert r.scts[1].reason in ("timestamp_after_expiry", "timestamp_in_future") and not r.policy_met


def test_no_scts(issuer: pki.CA, logs: Any) -> None:
    leaf = issuer.leaf(HOST)
    r = ct.check_ct([leaf.cert, issuer.cert], None, CTLogList.from_json(ctlog.log_list([logs["a"]]), "t"), pki.NOW)
    assert not r.policy_met and r.reasons == ("the certificate carries no SCTs",)


def test_stale_list_is_reported_not_enforced(issuer: pki.CA, logs: Any) -> None:
    leaf = issuer.leaf(HOST)
    old = CTLogList.from_json(ctlog.log_list([logs["a"]], timestamp=pki.NOW - timedelta(days=71)), "t")
    r = ct.check_ct([leaf.cert, issuer.cert], None, old, pki.NOW)
    assert r.list_stale and not r.enforced
    severities = {f.id: f.severity.value for f in r.findings()}
    assert severities == {"CT_INSUFFICIENT": "info", "CT_LIST_STALE": "info"}


def test_log_list_rejects_id_not_matching_key(logs: Any) -> None:
    doc = json.loads(ctlog.log_list([logs["a"], logs["b"]]))
    doc["operators"][0]["logs"][0]["log_id"] = doc["operators"][1]["logs"][0]["log_id"]
    with pytest.raises(DataError, match="log_id is not the SHA-256 of its key"):
        CTLogList.from_json(json.dumps(doc).encode(), "tampered")
    with pytest.raises(DataError, match="v3 format"):
        CTLogList.from_json(b'{"operators": 5}', "garbage")
    with pytest.raises(DataError):
        CTLogList.from_json(b"\xff\xfe not json", "binary")


def test_reference_log_list_loads_and_ids_match_keys() -> None:
    path = SHARED_DATA / "ct_log_list.json"
    if not path.exists():
        pytest.skip("reference data ../shared/data is absent")
    lst = CTLogList.from_json(path.read_bytes(), str(path))  # from_json checks every id against its key
    assert len(lst.logs) == 75
    assert lst.version.startswith("81")
    assert any(log.rfc6962 for log in lst.logs) and len({log.operator for log in lst.logs}) >= 3
