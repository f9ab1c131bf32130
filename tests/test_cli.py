"""CLI details: inspect, pins, bad input (clear error, exit 2), the module entry point."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pki
import pytest

HOST = "www.example.test"


def test_inspect_pem_and_der(run_cli: Any, tmp_path: Path, ca_bundle: Path, public_issuing: pki.CA) -> None:
    leaf = public_issuing.leaf(HOST)
    pem = pki.write_bundle(tmp_path / "chain.pem", [leaf.cert, public_issuing.cert])
    res = run_cli("inspect", str(pem), "--host", HOST, "--json", "--no-device-store", "--ca-bundle", str(ca_bundle))
    assert (res.exit_code, res.result(HOST)["status"]) == (0, "ok")
    der = tmp_path / "leaf.der"
    der.write_bytes(pki.der(leaf.cert))  # leaf alone: the intermediate is missing, no path
    res = run_cli("inspect", str(der), "--host", HOST, "--json", "--no-device-store", "--ca-bundle", str(ca_bundle))
    assert res.result(HOST)["status"] == "intercepted"


def test_inspect_at_a_past_time(run_cli: Any, tmp_path: Path, ca_bundle: Path, public_issuing: pki.CA) -> None:
    leaf = public_issuing.leaf(HOST, not_before=pki.NOW - timedelta(days=100), not_after=pki.NOW - timedelta(days=10))
    pem = pki.write_bundle(tmp_path / "chain.pem", [leaf.cert, public_issuing.cert])
    args = ["inspect", str(pem), "--host", HOST, "--json", "--no-device-store", "--ca-bundle", str(ca_bundle)]
    assert run_cli(*args).result(HOST)["status"] == "misconfigured"
    at = (pki.NOW - timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert run_cli(*args, "--at", at).result(HOST)["status"] == "ok"
    bad = run_cli(*args, "--at", "last tuesday")
    assert bad.exit_code == 2 and "ISO-8601" in bad.stderr


@pytest.mark.parametrize("content", [b"", b"hello", b"-----BEGIN CERTIFICATE-----\nAAAA\n", b"\x30\x82\x01"])
def test_inspect_malformed_file_is_a_clear_error(run_cli: Any, tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "bad.pem"
    f.write_bytes(content)
    res = run_cli("inspect", str(f), "--host", HOST, "--no-device-store")
    assert res.exit_code == 2
    assert res.stderr.startswith("certguard: error:") and str(f) in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["a.test", "--connect-to", "nonsense"], "expected 4 fields"),
    (["a.test", "--resolve", "a.test:443:not-an-ip"], "not an IP address"),
    (["a.test", "--proxy", "socks5://127.0.0.1:9"], "only http://"),
    (["bad host name!"], "not a host name"),
    (["a.test:99999"], "not a port"),
])
def test_bad_options_exit_2(run_cli: Any, args: list[str], message: str) -> None:
    res = run_cli("check", "--no-device-store", *args)
    assert res.exit_code == 2
    assert message in res.stderr


def test_bad_data_files_exit_2(run_cli: Any, tmp_path: Path) -> None:
    pins_file = tmp_path / "pins.toml"
    pins_file.write_text('[[pinsets]]\nname = "x"\nhosts = ["a.test"]\nkeys = ["AB:CD"]\n')
    res = run_cli("check", "--no-device-store", "--pins", str(pins_file), "a.test")
    assert res.exit_code == 2 and "not a lowercase hex SHA-256" in res.stderr
    intel_file = tmp_path / "intel.toml"
    intel_file.write_text('[[interceptor]]\nid = "x"\nname = "X"\nkind = "spy"\nspki_sha256 = []\n')
    res = run_cli("check", "--no-device-store", "--intel", str(intel_file), "a.test")
    assert res.exit_code == 2 and "kind must be one of" in res.stderr
    sites = tmp_path / "sites.txt"
    sites.write_text("# nothing but a comment\n")
    res = run_cli("check", "--no-device-store", "--sites", str(sites))
    assert res.exit_code == 2 and "lists no sites" in res.stderr
    toml = tmp_path / "broken.toml"
    toml.write_text("[[site]\nhost=")
    res = run_cli("check", "--no-device-store", "--sites", str(toml))
    assert res.exit_code == 2 and "not valid TOML" in res.stderr


def test_sites_file_and_low_profile(run_cli: Any, serve: Any, tmp_path: Path, ca_bundle: Path,
                                    public_issuing: pki.CA) -> None:
    leaf = public_issuing.leaf("a.test", "b.test")
    srv = serve("tls", [leaf.cert, public_issuing.cert], leaf.key)
    sites = tmp_path / "sites.toml"
    sites.write_text('[[site]]\nhost = "a.test"\n\n[[site]]\nhost = "b.test"\nsensitive = true\n')
    base = ["check", "--json", "--no-device-store", "--ca-bundle", str(ca_bundle), "--sites", str(sites),
            "--connect-to", f"::127.0.0.1:{srv.port}"]
    assert [r["host"] for r in run_cli(*base).doc["results"]] == ["a.test", "b.test"]
    assert [r["host"] for r in run_cli(*base, "--low-profile").doc["results"]] == ["a.test"]
    lines = tmp_path / "sites.txt"
    lines.write_text("a.test  # the bank\nb.test:443\n")
    res = run_cli("check", "--json", "--no-device-store", "--ca-bundle", str(ca_bundle), "--sites", str(lines),
                  "--resolve", "a.test:443:127.0.0.1", "--connect-to", f"b.test:443:127.0.0.1:{srv.port}")
    assert res.result("b.test")["status"] == "ok"
    assert res.result("a.test")["status"] in ("unreachable", "blocked")  # 127.0.0.1:443: nothing listens


def test_pins_command_checks_against_certifi(run_cli: Any) -> None:
    res = run_cli("pins", "--json")
    assert res.exit_code == 0
    google = next(p for p in res.doc["pinsets"] if p["name"] == "google")
    state = {k["name"]: k["in_mozilla"] for k in google["keys"]}
    assert state["GTS Root R1"] is True
    assert state["Google backup key"] is False


def test_python_dash_m_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "certguard", "--version"], capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 0 and "certguard" in out.stdout


def test_process_exit_code_on_data_error(tmp_path: Path) -> None:
    """The installed entry point (not just click's runner) exits 2 on a data error."""
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"not a certificate")
    proc = subprocess.run([sys.executable, "-m", "certguard", "inspect", str(bad), "--host", "x.test"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("certguard: error: ")
