"""mitmproxy as the real interceptor: a Qaznet-imitating CA in front of a genuine loopback site."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mitm
import pki
import pytest
from conftest import spki_of, write_intel

HOST = "www.google-imitation.test"

needs_mitm = pytest.mark.skipif(not mitm.MITMDUMP.exists() and not os.environ.get("CI"),
                                reason="mitmproxy venv (.venv-mitm) not installed; scripts/test.sh installs it")


@pytest.fixture
def genuine_site(serve: Any, tmp_path: Path, public: pki.CA, public_issuing: pki.CA) -> tuple[Any, Path]:
    """A genuine site on loopback and the bundle holding its (test) public root."""
    leaf = public_issuing.leaf(HOST)
    site = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)
    return site, pki.write_bundle(tmp_path / "anchors.pem", [public.cert])


@needs_mitm
@pytest.mark.mitm
def test_check_through_mitmproxy_reports_kazakh_imitation(run_cli: Any, tmp_path: Path,
                                                          genuine_site: tuple[Any, Path]) -> None:
    # Given a genuine site on loopback...
    site, bundle = genuine_site
    direct = run_cli("check", "--json", "--no-device-store", "--ca-bundle", str(bundle), HOST,
                     "--connect-to", f"{HOST}:443:127.0.0.1:{site.port}")
    assert direct.result(HOST)["status"] == "ok"  # negative control: without the middlebox all is well
    # ...and mitmproxy in front of it, re-signing with a CA that imitates the 2019 Kazakh root
    qaznet = pki.root("Qaznet Trust Network", None, "KZ")
    with mitm.Mitmdump(qaznet, tmp_path / "mitm", site.port, bundle) as proxy:
        res = run_cli("check", "--json", "--no-device-store", "--ca-bundle", str(bundle), "--timeout", "10",
                      HOST, "--connect-to", f"{HOST}:443:127.0.0.1:{proxy.port}")
    r = res.result(HOST)
    # Then certguard reports interception, names the Kazakh imitation, and shows the forged leaf
    assert res.exit_code == 1
    assert (r["status"], r["severity"]) == ("intercepted", "critical")
    assert (r["interceptor"]["kind"], r["interceptor"]["country"], r["interceptor"]["match"]) == ("state", "KZ", "name")
    assert "Qaznet" in r["interceptor"]["name"]
    assert r["chain"][0]["issuer"] == "CN=Qaznet Trust Network,C=KZ"
    assert HOST in r["chain"][0]["dns_names"]  # the forger copied the site's name
    assert len(r["chain"]) == 1  # mitmproxy serves only the forged leaf


@needs_mitm
@pytest.mark.mitm
def test_mitmproxy_with_known_key_is_a_strong_match(run_cli: Any, tmp_path: Path,
                                                    genuine_site: tuple[Any, Path]) -> None:
    site, bundle = genuine_site
    state = pki.root("Information Security Certification Authority", "ISCA", "KZ")
    intel_file = write_intel(tmp_path / "intel.toml", "kz-test-isca", "state", spki_of(state), "KZ")
    with mitm.Mitmdump(state, tmp_path / "mitm", site.port, bundle) as proxy:
        res = run_cli("check", "--json", "--no-device-store", "--ca-bundle", str(bundle), "--intel", str(intel_file),
                      HOST, "--connect-to", f"{HOST}:443:127.0.0.1:{proxy.port}")
    r = res.result(HOST)
    # mitmproxy signs its forged leaves with the CA's own key pair, so the served leaf carries the known SPKI:
    # a strong match even though the root itself is never sent.
    assert (r["status"], r["interceptor"]["match"], r["interceptor"]["country"]) == ("intercepted", "spki", "KZ")
    assert r["findings"][0]["id"] == "KNOWN_STATE_INTERCEPTOR"
    assert r["interceptor"]["certificate_sha256"] == r["chain"][0]["sha256"]
