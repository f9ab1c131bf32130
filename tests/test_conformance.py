"""Conformance: the x509-limbo suite (C2SP/x509-limbo, ../shared/data/x509-limbo/limbo.json) through the decision core.

certguard is not a path validator of its own (cryptography's is), but every limbo chain is a chain a server could
send. Each SERVER case is judged as if ``expected_peer_name`` had served it, with the case's trusted certificates as
the only "Mozilla" anchors. The contract (docs/conformance.md):

(i)   no case raises, none is ``error``;
(ii)  an expected SUCCESS is never ``intercepted``;
(iii) an expected FAILURE in the name-matching families (``::san::``, ``::cn::``, wildcard rules) is never ``ok``;

each with the few documented exceptions below, whose *reason* is asserted. Every other disagreement (FAILURE judged
``ok``, SUCCESS judged anything but ``ok``) is listed, grouped and explained in docs/conformance.md; the table
``DISAGREEMENTS`` here is that list, so a new disagreement, or one that went away, fails until the document says so.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_DATA
from cryptography import x509

from certguard.data import intel, pins
from certguard.judge.analyze import TrustContext, analyze_chain
from certguard.judge.intel import IntelDB
from certguard.judge.models import Status, Verdict
from certguard.judge.pins import PinDB
from certguard.judge.verify import AnchorSet

LIMBO = SHARED_DATA / "x509-limbo" / "limbo.json"
DOC = Path(__file__).resolve().parent.parent / "docs" / "conformance.md"
if not LIMBO.is_file():
    pytest.skip(f"x509-limbo reference data not found at {LIMBO}", allow_module_level=True)

CASES: dict[str, dict[str, Any]] = {c["id"]: c for c in json.loads(LIMBO.read_text("utf-8"))["testcases"]}
NOW = datetime.now(UTC)  # for cases without a validation_time (their certificates are valid for centuries)
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def der(pem: str) -> bytes:
    """The DER of a PEM certificate, without parsing it: odd certificates reach the judge as a server sends them."""
    m = _PEM.search(pem)
    assert m is not None
    return base64.b64decode("".join(m.group(1).split()))


def name_family(case_id: str) -> bool:
    return "::san::" in case_id or "::cn::" in case_id or "wildcard" in case_id


def skip_reason(case: dict[str, Any]) -> str | None:
    if case["validation_kind"] != "SERVER":
        return f"{case['validation_kind']} case: certguard judges servers only"
    peer = case["expected_peer_name"]
    if peer is None or peer["kind"] not in ("DNS", "IP"):
        return "no DNS name or IP address to judge the chain for"
    return None


@functools.cache
def _data() -> tuple[PinDB, IntelDB]:
    return pins.load(()), intel.load(())


@functools.cache
def judge(case_id: str) -> Verdict:
    case = CASES[case_id]
    pin_db, intel_db = _data()
    ctx = TrustContext(mozilla=AnchorSet.from_ders(f"limbo {case_id}", [der(p) for p in case["trusted_certs"]]),
                       device=None, pins=pin_db, intel=intel_db, ct_logs=None, exroots=None)
    when = datetime.fromisoformat(case["validation_time"]) if case["validation_time"] else NOW
    chain = [der(case["peer_certificate"]), *(der(p) for p in case["untrusted_intermediates"])]
    return analyze_chain(case["expected_peer_name"]["value"], 443, chain, ctx, when)


def agrees(case: dict[str, Any], v: Verdict) -> bool:
    expected: str = case["expected_result"]
    return (v.status is Status.OK) == (expected == "SUCCESS")


# --- the documented disagreements (docs/conformance.md), id -> (group, status certguard gives) ------------------------

_GROUPS: dict[str, tuple[str, list[str]]] = {
    # (ii) exceptions: expected SUCCESS, judged intercepted (reason asserted in _false_alarm_reason)
    "webpki-ca-profile": ("intercepted", ["crl::issuer-no-keyusage-extension"]),
    "self-issued-intermediate": ("intercepted", ["pathlen::self-issued-certs-pathlen"]),
    # (iii) exceptions: expected FAILURE in a name family, judged ok although the SAN names the peer
    "cn-content": ("ok", [f"webpki::cn::{n}" for n in (
        "ipv4-hex-mismatch", "ipv4-leading-zeros-mismatch", "ipv6-uppercase-mismatch", "ipv6-uncompressed-mismatch",
        "ipv6-non-rfc5952-mismatch", "punycode-not-in-san", "utf8-vs-punycode-mismatch", "not-in-san",
        "case-mismatch")]),
    "public-suffix-wildcard": ("ok", [f"webpki::san::{n}" for n in (
        "public-suffix-wildcard-san", "public-suffix-multi-label-wildcard-san",
        "public-suffix-private-namespace-wildcard-san")]),
    # other disagreements
    "ca-as-leaf": ("misconfigured", ["pathlen::validation-ignores-pathlen-in-leaf", "rfc5280::ca-as-leaf"]),
    "revocation": ("ok", ["crl::revoked-certificate-with-crl", "crl::crlnumber-missing", "crl::crlnumber-critical",
                          "crl::issuer-missing-crlsign"]),
    "harness-max-depth": ("ok", ["pathlen::max-chain-depth-0-exhausted", "pathlen::max-chain-depth-1-exhausted"]),
    "key-identifiers": ("ok", ["rfc5280::aki::intermediate-missing-aki", "rfc5280::aki::cross-signed-root-missing-aki",
                               "rfc5280::ski::root-missing-ski", "rfc5280::ski::intermediate-missing-ski",
                               "webpki::aki::root-with-aki-authoritycertissuer",
                               "webpki::aki::root-with-aki-authoritycertserialnumber",
                               "webpki::aki::root-with-aki-all-fields", "webpki::aki::root-with-aki-ski-mismatch"]),
    "criticality": ("ok", ["rfc5280::nc::permitted-dns-match-noncritical", "rfc5280::pc::ica-noncritical-pc"]),
    "serial-zero": ("ok", ["rfc5280::serial::zero"]),
    "eku-pedantic": ("ok", ["webpki::eku::ee-anyeku", "webpki::eku::ee-without-eku", "webpki::eku::root-has-eku"]),
    "subscriber-key": ("ok", ["webpki::forbidden-p192-leaf", "webpki::forbidden-dsa-leaf",
                              "webpki::forbidden-weak-rsa-in-leaf", "webpki::forbidden-rsa-not-divisible-by-8-in-root",
                              "webpki::forbidden-rsa-key-not-divisible-by-8-in-leaf"]),
}
DISAGREEMENTS: dict[str, tuple[str, str]] = {cid: (group, status) for group, (status, cids) in _GROUPS.items()
                                             for cid in cids}
FALSE_ALARMS = {**dict.fromkeys(_GROUPS["webpki-ca-profile"][1], "missing required extension"),
                **dict.fromkeys(_GROUPS["self-issued-intermediate"][1], "signature does not match")}
NAME_PROFILE_ONLY = set(_GROUPS["cn-content"][1]) | set(_GROUPS["public-suffix-wildcard"][1])


def _leaf_names(case: dict[str, Any]) -> tuple[list[str], list[str]]:
    leaf = x509.load_der_x509_certificate(der(case["peer_certificate"]))
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.DNSName), [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def _assert_name_profile_reason(case: dict[str, Any], v: Verdict) -> None:
    """An ok on a name-family FAILURE is allowed only where the SAN does name the peer: for ``cn`` cases literally
    (the failure is the CN's *content*, BR 7.1.4.3, which browsers ignore), for the public-suffix cases through a
    wildcard over a suffix that only a public suffix list can tell (limbo flags them pedantic)."""
    assert (v.status.value, v.rule) == ("ok", "public_ok")
    dns, ips = _leaf_names(case)
    peer = case["expected_peer_name"]["value"]
    if "::cn::" in case["id"]:
        assert peer in dns or peer in ips, (dns, ips)
    else:
        assert "pedantic-public-suffix-wildcard" in case["features"]
        assert any(n.startswith("*.") and peer.split(".", 1)[1] == n[2:] for n in dns), dns


# Which rule gives which status, and the finding that must come first to explain it (None: no alarm to explain).
EXPLAINED: dict[str, tuple[str, frozenset[str] | None]] = {
    "no_public_root": ("intercepted", frozenset({"UNTRUSTED_ROOT"})),
    "not_for_this_host": ("captive_portal", frozenset({"NAME_MISMATCH"})),
    "site_certificate_problem": ("misconfigured", frozenset({"NAME_MISMATCH", "CERT_EXPIRED", "CERT_NOT_YET_VALID"})),
    "unreadable_leaf": ("suspicious", frozenset({"UNREADABLE_LEAF"})),
    "public_ok": ("ok", None),
}
# limbo families whose failure has one obvious reason
REASONS = {"::validity::expired-leaf": "CERT_EXPIRED", "::validity::expired-1-second": "CERT_EXPIRED",
           "::validity::expired-5-seconds": "CERT_EXPIRED", "::validity::not-yet-valid": "CERT_NOT_YET_VALID",
           "::validity::notbefore-fractional": "CERT_NOT_YET_VALID"}


def _assert_explained(case_id: str, v: Verdict) -> None:
    assert v.rule in EXPLAINED, f"{case_id}: unexpected rule {v.rule}"
    status, first = EXPLAINED[v.rule]
    assert v.status.value == status
    if first is None:
        assert all(f.severity.value == "info" for f in v.findings), [f.id for f in v.findings]
    else:
        assert v.findings and v.findings[0].id in first, [f.id for f in v.findings]
    for fragment, fid in REASONS.items():
        if fragment in case_id:
            assert v.findings[0].id == fid, [f.id for f in v.findings]


@pytest.mark.parametrize("case_id", list(CASES))
def test_limbo_case(case_id: str) -> None:
    case = CASES[case_id]
    if (why := skip_reason(case)) is not None:
        pytest.skip(why)
    v = judge(case_id)
    # (i) no case raises (judge() would), none is certguard's own error
    assert v.status is not Status.ERROR and v.rule != "internal_error", [f.id for f in v.findings]
    json.dumps(v.to_dict())
    _assert_explained(case_id, v)
    expected = case["expected_result"]
    # (ii) a chain that validates is never called an interception
    if expected == "SUCCESS":
        if case_id in FALSE_ALARMS:
            assert (v.status.value, v.rule, v.findings[0].id) == ("intercepted", "no_public_root", "UNTRUSTED_ROOT")
            assert FALSE_ALARMS[case_id] in v.findings[0].evidence_dict["detail"]
        else:
            assert v.status is not Status.INTERCEPTED, (v.rule, [f.id for f in v.findings])
    # (iii) a name that does not match is never ok
    if expected == "FAILURE" and name_family(case_id):
        if case_id in NAME_PROFILE_ONLY:
            _assert_name_profile_reason(case, v)
        else:
            assert v.status is not Status.OK, (v.rule, [f.id for f in v.findings])
            assert v.findings[0].id in ("NAME_MISMATCH", "UNTRUSTED_ROOT")
    # every other disagreement is the documented one, with the status documented
    documented = DISAGREEMENTS.get(case_id)
    if agrees(case, v):
        assert documented is None, f"{case_id} now agrees with limbo: take it out of docs/conformance.md"
    else:
        assert documented is not None, f"undocumented disagreement: {expected} judged {v.status.value}/{v.rule}"
        assert v.status.value == documented[1], f"{case_id} ({documented[0]}) is now {v.status.value}/{v.rule}"


def family(case_id: str) -> str:
    return case_id.split("::", 1)[0]


def test_the_document_states_the_counts() -> None:
    """docs/conformance.md carries one table row per limbo family: judged, agree, disagree, skipped."""
    rows: Counter[tuple[str, str]] = Counter()
    for cid, case in CASES.items():
        if skip_reason(case) is not None:
            rows[family(cid), "skipped"] += 1
            continue
        rows[family(cid), "agree" if agrees(case, judge(cid)) else "disagree"] += 1
    doc = DOC.read_text("utf-8")
    families = sorted({family(c) for c in CASES})
    for fam in [*families, "total"]:
        def count(what: str, fam: str = fam) -> int:
            return sum(n for (f, w), n in rows.items() if w == what and fam in (f, "total"))
        judged = count("agree") + count("disagree")
        row = f"| {fam} | {judged + count('skipped')} | {judged} | {count('agree')} | {count('disagree')} |"
        assert row in doc, f"docs/conformance.md should have the row {row!r}"
