"""The shipped data in pinned_roots/: loads, has provenance, and agrees with certifi and FACTS.md."""

from __future__ import annotations

import json

import pytest
from conftest import SHARED_DATA

from certguard.data import anchors as truststores
from certguard.data import intel, pins
from certguard.data.targets import load_site_list
from certguard.judge.models import InterceptorKind
from certguard.judge.pins import audit_against

KAZAKH_SPKIS = {
    "8e12d0cb3b7df3ea2257579489fd8658c95603ea6cf4b73163a41eb7b7e93fee",
    "e47c5cd2dc8babb4e53f8a4983920275ef6ffaacb089e87a2c1fbe5a585f05ed",
    "39736588b94a4ce767f731cad53f4cbe44137e321eadcaef8ce79a229bbca989",
    "b13fa2e6131a888a01f3d62056fb0efbe999eb6b6e14927613e02ba8b8fb046e",
    "3472e4f16c570e0dd388aaaa4a64a34a4b939f1ca770996b5be0037c1aded9c1",
    "8928c59398b0f171c0f96fdae6ab8dd0f48ee06d174da10c404ac00143c7a749",
    "02a95f43431019e9dc225f05f419330190deb4a3f1869caac9842b403dcbee77",
    "ea12705de7c48f6fcce2cb8dbc542e0fc38ac38e08880dd04a02ef67c93ae135",
    "c56217b7a828c7341c0ae7a590d8790d4def536652e60ae5b8bdfa26978fe09c",
    "b5ba8dd7f89564c2889d3d6453c84998c77824919b64ea0835aa62986591be50",
}


def test_all_ten_kazakh_roots_are_known_as_state_kz() -> None:
    db = intel.load()
    found = {s: e for e in db.entries for s in e.spki_sha256 if s in KAZAKH_SPKIS}
    assert set(found) == KAZAKH_SPKIS
    assert {(e.kind, e.country) for e in found.values()} == {(InterceptorKind.STATE, "KZ")}


def test_every_intel_entry_has_a_reference_and_benign_kinds_are_not_state() -> None:
    for e in intel.load().entries:
        assert e.references, e.entry_id
        if e.entry_id.startswith(("av-", "corp-", "debug-", "adblock-")):
            assert e.kind is not InterceptorKind.STATE


def test_intel_against_chromium_blocklist_reference() -> None:
    path = SHARED_DATA / "chromium_cert_blocklist_subset.json"
    if not path.exists():
        pytest.skip("reference data ../shared/data is absent")
    text = path.read_text()
    ours = {s for e in intel.load().entries for s in e.spki_sha256}
    # every Kazakh SPKI we ship that Chromium lists is spelled the same way
    listed = {s for s in KAZAKH_SPKIS if s in text}
    assert listed and listed <= ours
    json.loads(text)


def test_pinned_keys_against_certifi() -> None:
    report = audit_against(pins.load(), truststores.mozilla())
    google = next(p for p in report["pinsets"] if p["name"] == "google")
    assert not google["stale"]
    assert all(not p["stale"] for p in report["pinsets"]), "a pinset lost every key from Mozilla's program"
    # FACTS.md §5: these left certifi; the report must say so rather than hide it
    gone = {k["name"] for p in report["pinsets"] for k in p["keys"] if not k["in_mozilla"]}
    assert {"GTS Root R2", "DigiCert Global Root CA", "DigiCert High Assurance EV Root CA"} <= gone


def test_google_pins_agree_with_chromium_reference() -> None:
    path = SHARED_DATA / "static_pins.json"
    if not path.exists():
        pytest.skip("reference data ../shared/data is absent")
    import base64

    text = path.read_text()
    google = next(p for p in pins.load().pinsets if p.name == "google")
    for key in google.keys:
        b64 = base64.b64encode(bytes.fromhex(key.spki_sha256)).decode()
        assert b64 in text or key.key_id == "globalsign_root_r1", key.name


def test_site_list() -> None:
    sites = load_site_list()
    hosts = {t.host for t in sites}
    assert len(sites) >= 40 and len(hosts) == len(sites)
    assert {"www.google.com", "vk.com", "rutracker.org", "www.torproject.org"} <= hosts
    assert {t.host for t in sites if t.sensitive} >= {"rutracker.org", "www.torproject.org"}
    assert not {t.host for t in sites if t.sensitive} & {"www.google.com", "www.wikipedia.org"}
    covered = [t.host for t in sites if pins.load().for_host(t.host)]
    assert "www.youtube.com" in covered and "www.facebook.com" in covered
