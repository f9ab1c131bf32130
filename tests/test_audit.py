"""`certguard audit`: real NSS databases made with certutil, fake Linux trees, recorded macOS output, injected
Windows store contents. Every positive case has a control that differs in exactly the judged property."""

from __future__ import annotations

import plistlib
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pki
import pytest
from conftest import CheckRun, connect_to, spki_of, write_intel

from certguard import device
from certguard.app.render import audit_document
from certguard.data import anchors as truststores
from certguard.data import intel
from certguard.device import linux, macos, nss
from certguard.i18n import Translator
from certguard.judge import audit, certs, storescan, verify

QAZNET_SUBJECT = ("Qaznet Trust Network", None, "KZ")


@pytest.fixture(scope="module")
def qaznet() -> pki.CA:
    return pki.root(*QAZNET_SUBJECT)


@pytest.fixture(scope="module")
def mozilla_root() -> Any:
    return truststores.mozilla().certs[0]


def nss_db(path: Path, entries: Sequence[tuple[str, Any, str]]) -> Path:
    """A real cert9.db: entries are (nickname, certificate, certutil trust flags)."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{path}", "--empty-password"], check=True, capture_output=True)
    for nick, cert, flags in entries:
        pem = path / "import.pem"
        pki.write_bundle(pem, [cert])
        subprocess.run(["certutil", "-A", "-d", f"sql:{path}", "-n", nick, "-t", flags, "-i", str(pem)],
                       check=True, capture_output=True)
        pem.unlink()
    return path


def by_subject(report: audit.AuditReport, cn: str) -> audit.AuditedRoot:
    return next(r for r in report.roots if f"CN={cn}" in r.subject.replace("\\,", ","))


def judge(scan: storescan.StoreScan, intel_files: Sequence[Path] = (),
          verdicts: Sequence[Any] = ()) -> audit.AuditReport:
    return audit.judge(scan, truststores.mozilla(), intel.load(intel_files), verdicts)


# ---- NSS -------------------------------------------------------------------------------------------------

def test_nss_trust_flags_decide_tls_trust(tmp_path: Path, qaznet: pki.CA, mozilla_root: Any) -> None:
    other = pki.root("Other, Untrusted CA")
    client_only = pki.root("Client Auth Only CA")
    db = nss_db(tmp_path / "db", [("Qaznet Trust Network", qaznet.cert, "CT,C,C"),
                                  ("Other, Untrusted CA", other.cert, ",,"),
                                  ("Client Auth Only CA", client_only.cert, "T,,"),
                                  ("Mozilla root", mozilla_root, "C,,")])
    report = judge(device.read_path(db))
    q = by_subject(report, "Qaznet Trust Network")
    assert q.verdict == audit.INTERCEPTOR and q.trusted and q.locations[0].detail == "CT,C,C"
    assert q.interceptor is not None and q.interceptor.entry_id == "kz-qaznet-2019"
    assert q.interceptor.match.value == "name"  # an imitation: same name, another key
    o = by_subject(report, "Other, Untrusted CA")
    assert o.verdict == audit.EXTRA and not o.trusted, "a nickname with a comma must still parse"
    assert not by_subject(report, "Client Auth Only CA").trusted, "T (client auth) is not trust for websites"
    expected = [r for r in report.roots if r.verdict == audit.EXPECTED]
    assert len(expected) == 1 and expected[0].sha256 == certs.fingerprint(mozilla_root)
    assert report.trusted_interceptors == [q]


def test_strong_match_is_critical_and_exit_code_follows_trust(tmp_path: Path, qaznet: pki.CA,
                                                               run_cli: Callable[..., CheckRun]) -> None:
    intel_file = write_intel(tmp_path / "intel.toml", "kz-test", "state", spki_of(qaznet), "KZ")
    trusted = nss_db(tmp_path / "trusted", [("Qaznet Trust Network", qaznet.cert, "CT,C,C")])
    untrusted = nss_db(tmp_path / "untrusted", [("Qaznet Trust Network", qaznet.cert, ",,")])

    run = run_cli("audit", "--store", str(trusted), "--intel", str(intel_file), "--json")
    assert run.exit_code == 1
    root = run.doc["roots"][0]
    assert root["verdict"] == "interceptor" and root["trust"] == "trusted" and root["severity"] == "critical"
    assert root["interceptor"]["match"] == "spki" and root["interceptor"]["kind"] == "state"
    assert root["store"] == "nss" and root["spki_sha256"] == spki_of(qaznet) and root["in_mozilla"] is False
    assert "certutil -D" in root["how_to_remove"]["nss"]

    control = run_cli("audit", "--store", str(untrusted), "--intel", str(intel_file), "--json")
    assert control.exit_code == 0, "present but not trusted for TLS: reported, not counted as trusted"
    assert control.doc["roots"][0]["verdict"] == "interceptor" and control.doc["roots"][0]["trust"] == "untrusted"


def test_corrupt_nss_database_is_a_problem_not_a_crash(tmp_path: Path, qaznet: pki.CA,
                                                      run_cli: Callable[..., CheckRun]) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "cert9.db").write_bytes(b"this is not sqlite" * 100)
    good = pki.write_bundle(tmp_path / "good.pem", [qaznet.cert])
    run = run_cli("audit", "--store", str(broken), "--store", str(good), "--json")
    assert run.exit_code == 1  # the readable store still counts
    assert [p["location"] for p in run.doc["problems"]] == [str(broken)]
    assert "certutil cannot read it" in run.doc["problems"][0]["message"]
    assert run.doc["problems"][0]["text"].startswith("certutil cannot read it (")
    kk = run_cli("audit", "--store", str(broken), "--lang", "kk")
    assert "certutil оны оқи алмайды" in kk.output and "certutil cannot read it" not in kk.output
    assert len(run.doc["roots"]) == 1


def test_parse_certutil_listing_with_odd_nicknames() -> None:
    listing = ("\nCertificate Nickname                                         Trust Attributes\n"
               "                                                             SSL,S/MIME,JAR/XPI\n\n"
               "Qaznet Trust Network                                         CT,C,C\n"
               "Other, untrusted                                             ,,   \n"
               "Peer exception - example.test                                P,,\n")
    assert nss.parse_certutil_list(listing) == [("Qaznet Trust Network", "CT,C,C"), ("Other, untrusted", ",,"),
                                                ("Peer exception - example.test", "P,,")]
    assert nss.nss_trust("CT,C,C") == storescan.TRUSTED
    assert nss.nss_trust("P,,") == storescan.TRUSTED
    assert nss.nss_trust("p,p,p") == storescan.DISTRUSTED
    assert nss.nss_trust("c,c,c") == storescan.UNTRUSTED
    assert nss.nss_trust(",C,") == storescan.UNTRUSTED  # trusted for e-mail only


ISCA_SUBJECT = pki.name("Information Security Certification Authority", "ISCA", "KZ")


@pytest.mark.parametrize(("nick_a", "nick_b"), [("ISCA trusted", "ISCA untrusted"), ("ISCA", "ISCA")])
def test_nss_trust_is_per_certificate_when_two_roots_share_a_subject(tmp_path: Path, nick_a: str,
                                                                     nick_b: str) -> None:
    """Two Kazakh "ISCA" roots with one subject: one trusted (C,,), one present but untrusted (,,). NSS keeps
    certificates in subject lists, so each nickname prints both; trust must follow the certificate (also when
    both were imported under one nickname)."""
    trusted, untrusted = pki.CA(subject=ISCA_SUBJECT), pki.CA(subject=ISCA_SUBJECT)
    assert trusted.cert.subject == untrusted.cert.subject and pki.der(trusted.cert) != pki.der(untrusted.cert)
    db = nss_db(tmp_path / "db", [(nick_a, trusted.cert, "C,,"), (nick_b, untrusted.cert, ",,")])
    # Given: the trap is real, certutil exports both certificates for either nickname
    for nick in (nick_a, nick_b):
        pem = subprocess.run(["certutil", "-L", "-d", f"sql:{db}", "-n", nick, "-a"], check=True,
                             capture_output=True).stdout
        assert pem.count(b"-----BEGIN CERTIFICATE-----") == 2

    # When
    scan = device.read_path(db)

    # Then: one entry per certificate, each with its own flags and nickname
    got = sorted((e.trust, certs.sha256_hex(e.der), e.location, e.detail) for e in scan.entries)
    assert got == sorted([
        (storescan.TRUSTED, certs.fingerprint(trusted.cert), f"{db}: {nick_a}", "C,,"),
        (storescan.UNTRUSTED, certs.fingerprint(untrusted.cert), f"{db}: {nick_b}", ",,"),
    ])
    assert scan.problems == []
    assert [r.sha256 for r in judge(scan).roots if r.trusted] == [certs.fingerprint(trusted.cert)]
    anchors = device.device_anchors(scan)
    assert anchors is not None and anchors.sha256s == {certs.fingerprint(trusted.cert)}


def _certutil_runner(listing: str, pems: dict[str, bytes], text: str) -> device.Runner:
    """certutil that lists ``listing``, exports ``pems[nick]`` and prints ``text`` for every ``-n NICK``."""
    def run(argv: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
        if "-n" not in argv:
            return subprocess.CompletedProcess(argv, 0, listing.encode(), b"")
        nick = argv[argv.index("-n") + 1]
        out = pems[nick] if "-a" in argv else text.encode()
        return subprocess.CompletedProcess(argv, 0, out, b"")
    return run


def test_nss_without_per_certificate_flags_never_guesses_trust(tmp_path: Path) -> None:
    """If certutil's text gives no trust block for a certificate, a nickname naming exactly one certificate keeps
    its listing flags; one naming several (shared subject) is not counted as trusted, and says why."""
    (tmp_path / "cert9.db").write_bytes(b"")
    a, b = pki.CA(subject=ISCA_SUBJECT), pki.CA(subject=ISCA_SUBJECT)
    header = "\nCertificate Nickname    Trust Attributes\n                        SSL,S/MIME,JAR/XPI\n\n"
    single = _certutil_runner(header + "ISCA trusted    C,,\n", {"ISCA trusted": pki.pem(a.cert)}, "garbled")
    one = device.read_path(tmp_path, run=single)
    assert [(e.trust, e.detail) for e in one.entries] == [(storescan.TRUSTED, "C,,")] and one.problems == []

    both = pki.pem(a.cert) + pki.pem(b.cert)
    shared = _certutil_runner(header + "ISCA trusted    C,,\nISCA untrusted    ,,\n",
                              {"ISCA trusted": both, "ISCA untrusted": both}, "garbled")
    scan = device.read_path(tmp_path, run=shared)
    assert sorted(certs.sha256_hex(e.der) for e in scan.entries) == sorted(
        [certs.fingerprint(a.cert), certs.fingerprint(b.cert)]), "each certificate once"
    assert {e.trust for e in scan.entries} == {storescan.UNTRUSTED}
    assert len(scan.problems) == 2 and all("printed no trust flags" in p.message for p in scan.problems)


# ---- Firefox / Chromium profiles and a Linux tree ----------------------------------------------------------

def fake_linux(root: Path, bundle: Sequence[Any], anchors: dict[str, bytes], shipped: Sequence[Any] = ()) -> Path:
    (root / "etc/ssl/certs").mkdir(parents=True, exist_ok=True)
    pki.write_bundle(root / "etc/ssl/certs/ca-certificates.crt", list(bundle))
    (root / "usr/local/share/ca-certificates").mkdir(parents=True, exist_ok=True)
    for name, data in anchors.items():
        (root / "usr/local/share/ca-certificates" / name).write_bytes(data)
    (root / "usr/share/ca-certificates/mozilla").mkdir(parents=True, exist_ok=True)
    for i, cert in enumerate(shipped):
        pki.write_bundle(root / f"usr/share/ca-certificates/mozilla/shipped{i}.crt", [cert])
    return root


def test_linux_tree_bundle_anchors_and_malformed_files(tmp_path: Path, qaznet: pki.CA, mozilla_root: Any) -> None:
    removed_from_mozilla = pki.root("Old Root Removed From Mozilla")
    local = pki.root("Corporate Inspection CA", "ACME Corp")
    root = fake_linux(tmp_path / "fs", [mozilla_root, removed_from_mozilla.cert, local.cert, qaznet.cert], {
        "acme.crt": pki.pem(local.cert),
        "qaznet.der": pki.der(qaznet.cert),
        "garbage.pem": b"-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n",
        "truncated.der": pki.der(local.cert)[:100],
    }, shipped=[mozilla_root, removed_from_mozilla.cert])
    (root / "usr/local/share/ca-certificates/dangling.crt").symlink_to(tmp_path / "nowhere.crt")
    report = judge(linux.read_linux(root))

    assert by_subject(report, "Qaznet Trust Network").verdict == audit.INTERCEPTOR
    acme = by_subject(report, "Corporate Inspection CA")
    assert acme.verdict == audit.EXTRA and not acme.distribution and acme.severity.value == "warning"
    assert {loc.location for loc in acme.locations} == {str(root / "etc/ssl/certs/ca-certificates.crt"),
                                                        str(root / "usr/local/share/ca-certificates/acme.crt")}
    old = by_subject(report, "Old Root Removed From Mozilla")
    assert old.verdict == audit.EXTRA and old.distribution and old.severity.value == "info"
    problems = {Path(p.location.split(" #")[0]).name for p in report.problems}
    assert problems == {"garbage.pem", "truncated.der", "dangling.crt"}


def test_firefox_profiles_snap_chromium_and_enterprise_roots(tmp_path: Path, qaznet: pki.CA) -> None:
    home = tmp_path / "home"
    deb = home / ".mozilla/firefox"
    nss_db(deb / "abcd.default-release", [("Qaznet Trust Network", qaznet.cert, "C,,")])
    (deb / "profiles.ini").write_text("[General]\nStartWithLastProfile=1\n\n[Profile0]\nName=default-release\n"
                                      "IsRelative=1\nPath=abcd.default-release\nDefault=1\n")
    (deb / "abcd.default-release/prefs.js").write_text(
        'user_pref("browser.startup.page", 3);\nuser_pref("security.enterprise_roots.enabled", true);\n')
    snap = home / "snap/firefox/common/.mozilla/firefox"
    other = pki.root("Snap Only CA")
    nss_db(snap / "zz.default", [("Snap Only CA", other.cert, "C,,")])
    (snap / "profiles.ini").write_text("[Profile0]\nName=default\nIsRelative=0\nPath=" + str(snap / "zz.default")
                                       + "\n")
    nss_db(home / ".pki/nssdb", [("Qaznet Trust Network", qaznet.cert, "CT,C,C")])

    report = judge(device.read_device("Linux", home, linux_root=tmp_path / "empty-fs"))
    q = by_subject(report, "Qaznet Trust Network")
    assert {loc.store for loc in q.locations} == {"nss-firefox", "nss-chromium"}
    assert any("default-release" in loc.location for loc in q.locations)
    assert by_subject(report, "Snap Only CA").locations[0].location.startswith("Firefox profile default (")
    assert [n.message for n in report.notes] == [
        "security.enterprise_roots.enabled is true: this Firefox also trusts every root of the operating "
        "system's store"]
    # what a person reads is in their language; the English message stays for audit --json and logs
    fr, en = Translator("fr"), Translator("en")
    assert report.notes[0].text(fr) == fr("problem.enterprise_roots") and "Firefox approuve aussi" in \
        report.notes[0].text(fr)
    assert report.notes[0].text(en) == en("problem.enterprise_roots") != report.notes[0].text(fr)
    doc = audit_document(report, Translator("ru"), datetime.now(UTC), "test")
    assert doc["notes"][0]["message"] == report.notes[0].message, "the JSON message stays English"
    assert doc["notes"][0]["text"] == Translator("ru")("problem.enterprise_roots")


def test_no_profiles_no_notes(tmp_path: Path) -> None:
    """Control: an empty home yields no store, no note, and no crash."""
    scan = device.read_device("Linux", tmp_path, linux_root=tmp_path)
    assert scan.entries == [] and scan.notes == [] and scan.problems == []


def test_device_anchors_include_a_root_only_in_chromium_nss(tmp_path: Path, mozilla_root: Any) -> None:
    """`check`'s device anchors come from the same scan as `audit`: a root only in ~/.pki/nssdb counts."""
    inspector = pki.root("Chromium Only Inspection CA", "ACME Corp", "KZ")
    forged = inspector.leaf("www.google.com")
    fs = fake_linux(tmp_path / "fs", [mozilla_root], {})
    nss_db(tmp_path / ".pki/nssdb", [("ACME inspection", inspector.cert, "C,,")])

    anchors = device.device_anchors(device.read_device("Linux", tmp_path, linux_root=fs))

    assert anchors is not None and anchors.source == "device (linux, nss-chromium)"
    assert anchors.sha256s == {certs.fingerprint(inspector.cert), certs.fingerprint(mozilla_root)}
    assert verify.build_path(forged.cert, [], anchors, "www.google.com", pki.NOW).ok


def test_device_anchors_leave_out_an_untrusted_nss_root(tmp_path: Path) -> None:
    """Control: the same root in Chromium's database with ``,,`` is read (audit lists it) but is no anchor."""
    inspector = pki.root("Chromium Only Inspection CA", "ACME Corp", "KZ")
    home = tmp_path / "home"
    nss_db(home / ".pki/nssdb", [("ACME inspection", inspector.cert, ",,")])

    scan = device.read_device("Linux", home, linux_root=tmp_path / "empty-fs")

    assert [(e.store, e.trust) for e in scan.entries] == [("nss-chromium", storescan.UNTRUSTED)]
    assert device.device_anchors(scan) is None


def test_device_anchors_skip_unloadable_and_duplicate_certificates(qaznet: pki.CA) -> None:
    good = storescan.Installed(pki.der(qaznet.cert), "linux", "/etc/ssl/certs/ca-certificates.crt", storescan.TRUSTED)
    again = storescan.Installed(pki.der(qaznet.cert), "nss-chromium", "nssdb: Qaznet", storescan.TRUSTED)
    bad = storescan.Installed(b"\x30\x03garbage", "file", "/tmp/bad.der", storescan.TRUSTED)
    scan = storescan.StoreScan(entries=[bad, good, again], scanned=[("file", "/tmp/bad.der"), ("linux", "x")])
    assert scan.trusted_ders() == [b"\x30\x03garbage", pki.der(qaznet.cert)]
    anchors = device.device_anchors(scan)
    assert anchors is not None and [certs.fingerprint(c) for c in anchors.certs] == [certs.fingerprint(qaznet.cert)]
    assert device.device_anchors(storescan.StoreScan(entries=[bad])) is None, "nothing loadable: no anchors"


# ---- macOS (recorded `security` behaviour) ------------------------------------------------------------------

def _policy(oid_der: bytes, name: str, result: int | None) -> dict[str, Any]:
    d: dict[str, Any] = {"kSecTrustSettingsPolicy": oid_der, "kSecTrustSettingsPolicyName": name}
    if result is not None:
        d["kSecTrustSettingsResult"] = result
    return d


SSL_OID = bytes.fromhex("2a864886f763640103")  # 1.2.840.113635.100.1.3 (AppleX509SSL), content octets
SMIME_OID = bytes.fromhex("2a864886f763640108")  # 1.2.840.113635.100.1.8 (SMIME)


def macos_runner(keychains: dict[str, list[Any]], admin: dict[str, Any] | None) -> device.Runner:
    """Answers like /usr/bin/security: find-certificate -a -p prints PEM; trust-settings-export writes the
    plist in the format of SecTrustSettingsCreateExternalRepresentation, or fails with no settings."""
    def run(argv: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
        if argv[1] == "find-certificate":
            certs_ = keychains.get(argv[-1])
            if certs_ is None:
                return subprocess.CompletedProcess(argv, 50, b"", b"security: SecKeychainOpen: not found")
            return subprocess.CompletedProcess(argv, 0, b"".join(pki.pem(c) for c in certs_), b"")
        if argv[1] == "trust-settings-export":
            if "-d" in argv and admin is not None:
                Path(argv[-1]).write_bytes(plistlib.dumps({"trustList": admin, "trustVersion": 1}))
                return subprocess.CompletedProcess(argv, 0, b"", b"")
            return subprocess.CompletedProcess(argv, 1, b"", b"SecTrustSettingsCreateExternalRepresentation: "
                                               b"No Trust Settings were found.")
        raise AssertionError(argv)
    return run


def test_macos_keychains_and_trust_settings(tmp_path: Path, qaznet: pki.CA, mozilla_root: Any) -> None:
    denied = pki.root("Denied CA")
    no_setting = pki.root("No Setting CA")
    smime_only = pki.root("SMIME Only CA")

    def sha1(c: Any) -> str:
        return certs.sha1_hex(certs.der_of(c)).upper()
    admin = {
        sha1(qaznet.cert): {"trustSettings": [_policy(SSL_OID, "sslServer", 1)]},
        sha1(denied.cert): {"trustSettings": [_policy(SSL_OID, "sslServer", 3)]},
        sha1(smime_only.cert): {"trustSettings": [_policy(SMIME_OID, "SMIME", 1)]},
    }
    run = macos_runner({macos.MACOS_SYSTEM_ROOTS: [mozilla_root],
                        macos.MACOS_SYSTEM: [qaznet.cert, denied.cert, no_setting.cert, smime_only.cert]}, admin)
    report = judge(device.read_device("Darwin", tmp_path, run=run))
    assert by_subject(report, "Qaznet Trust Network").trusted
    assert by_subject(report, "Denied CA").locations[0].trust == storescan.DISTRUSTED
    assert not by_subject(report, "No Setting CA").trusted, "in System.keychain without a trust setting"
    assert not by_subject(report, "SMIME Only CA").trusted
    assert [r.trusted for r in report.roots if r.verdict == audit.EXPECTED] == [True]
    assert report.problems == (), "a missing login keychain is not a problem"
    # control: without the admin trust settings the same Qaznet copy is not trusted
    plain = judge(device.read_device("Darwin", tmp_path, run=macos_runner(
        {macos.MACOS_SYSTEM_ROOTS: [], macos.MACOS_SYSTEM: [qaznet.cert]}, None)))
    assert not by_subject(plain, "Qaznet Trust Network").trusted


def test_trust_settings_rules() -> None:
    plist = plistlib.dumps({"trustList": {
        "AA": {"trustSettings": []},  # empty: always trust
        "BB": {"trustSettings": [{"kSecTrustSettingsPolicy": SSL_OID}]},  # no result: TrustRoot
        "CC": {"trustSettings": [_policy(SSL_OID, "sslServer", 4)]},  # unspecified
        "DD": {"trustSettings": [_policy(SSL_OID, "sslServer", 1), _policy(SSL_OID, "sslServer", 3)]},
    }, "trustVersion": 1})
    got = {k: v[0] for k, v in macos.parse_trust_settings(plist).items()}
    assert got == {"AA": storescan.TRUSTED, "BB": storescan.TRUSTED, "CC": storescan.UNTRUSTED,
                   "DD": storescan.DISTRUSTED}
    with pytest.raises(Exception, match="not a trust-settings plist"):
        macos.parse_trust_settings(b"<html>")


# ---- Windows (injected store contents, as ssl.enum_certificates returns them) ------------------------------

def test_windows_stores(qaznet: pki.CA, mozilla_root: Any) -> None:
    client_only = pki.root("Client Only CA")
    inter = pki.root("Some Root").child_ca("Windows Intermediate CA")
    contents: dict[str, list[tuple[bytes, str, bool | set[str]]]] = {
        "ROOT": [(pki.der(qaznet.cert), "x509_asn", True), (certs.der_of(mozilla_root), "x509_asn", True),
                 (pki.der(client_only.cert), "x509_asn", {"1.3.6.1.5.5.7.3.2"}),
                 (b"\x30\x03\x02\x01\x00", "x509_asn", True), (b"pkcs7", "pkcs_7_asn", True)],
        "CA": [(pki.der(inter.cert), "x509_asn", True)],
    }
    report = judge(device.read_device("Windows", Path("/nonexistent"), enum=lambda name: contents[name]))
    assert by_subject(report, "Qaznet Trust Network").trusted
    assert not by_subject(report, "Client Only CA").trusted
    assert not by_subject(report, "Windows Intermediate CA").trusted
    assert len(report.problems) == 1 and "ROOT" in report.problems[0].location


def test_unknown_platform_is_reported() -> None:
    scan = device.read_device(system="Plan9")
    assert scan.entries == [] and scan.scanned == []
    assert [(p.store, p.message) for p in scan.problems] == [("Plan9", "no trust-store reader for 'Plan9'")]


def test_this_platform_is_the_default(tmp_path: Path) -> None:
    """Control for the unknown platform: with no system given, this device's reader runs (local files and
    commands only) and reports no missing reader."""
    scan = device.read_device(home=tmp_path)
    assert not any("no trust-store reader" in p.message for p in scan.problems)
    assert {store for store, _ in scan.scanned} <= set(storescan.STORES)


# ---- the joined view ----------------------------------------------------------------------------------------

def test_audit_check_joins_roots_to_observed_chains(tmp_path: Path, qaznet: pki.CA, public_issuing: pki.CA,
                                                    serve: Callable[..., Any], ca_bundle: Path,
                                                    run_cli: Callable[..., CheckRun]) -> None:
    forged = qaznet.leaf("www.google.com")
    genuine = public_issuing.leaf("example.org")
    s1 = serve("tls", [forged.cert], forged.key)
    s2 = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    sites = tmp_path / "sites.txt"
    sites.write_text("www.google.com\nexample.org\n")
    db = nss_db(tmp_path / "db", [("Qaznet Trust Network", qaznet.cert, "CT,C,C")])
    run = run_cli("audit", "--store", str(db), "--check", "--sites", str(sites), "--ca-bundle", str(ca_bundle),
                  "--connect-to", connect_to("www.google.com", s1), "--connect-to", connect_to("example.org", s2),
                  "--timeout", "5", "--json")
    assert run.exit_code == 1
    assert run.doc["roots"][0]["anchored"] == ["www.google.com"]
    text = run_cli("audit", "--store", str(db), "--check", "--sites", str(sites), "--ca-bundle", str(ca_bundle),
                   "--connect-to", connect_to("www.google.com", s1), "--connect-to", connect_to("example.org", s2),
                   "--timeout", "5")
    assert "It signed the connections seen for: www.google.com" in text.output


def test_an_unreadable_entry_handed_to_judge_is_a_problem_not_a_crash(qaznet: pki.CA) -> None:
    # Readers drop unparsable certificates themselves; judge must not crash if one slips through anyway.
    good = storescan.Installed(certs.der_of(qaznet.cert), "file", "/tmp/roots.pem", storescan.TRUSTED)
    bad = storescan.Installed(b"\x30\x03garbage", "file", "/tmp/bad.der", storescan.TRUSTED)
    report = judge(storescan.StoreScan(entries=[bad, good]))
    assert [p.location for p in report.problems] == ["/tmp/bad.der"]
    assert "not a readable certificate" in report.problems[0].message
    assert [r.sha256 for r in report.roots] == [certs.fingerprint(qaznet.cert)], "the readable one still counts"
