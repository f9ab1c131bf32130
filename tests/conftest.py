"""Shared fixtures. Every network peer is a loopback server started here; no real hostname is resolved."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

import pki
import servers

from certguard.app.cli import cli
from certguard.data import intel, pins
from certguard.judge.analyze import TrustContext
from certguard.judge.verify import AnchorSet

if TYPE_CHECKING:
    from playwright.sync_api import Browser

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def public() -> pki.CA:
    """A test "public" root: the only anchor when tests pass --ca-bundle."""
    return pki.root("Test Public Root", "Test Public CA Inc", "US")


@pytest.fixture(scope="session")
def public_issuing(public: pki.CA) -> pki.CA:
    return public.child_ca("Test Public Issuing CA", "Test Public CA Inc", "US")


@pytest.fixture
def ca_bundle(tmp_path: Path, public: pki.CA) -> Path:
    return pki.write_bundle(tmp_path / "anchors.pem", [public.cert])


@pytest.fixture
def ctx_factory(public: pki.CA) -> Callable[..., TrustContext]:
    def make(anchors: list[Any] | None = None, device: list[Any] | None = None, pin_files: tuple[Path, ...] = (),
             intel_files: tuple[Path, ...] = (), ct_logs: Any = None) -> TrustContext:
        return TrustContext(
            mozilla=AnchorSet("test public", tuple(anchors or [public.cert])),
            device=AnchorSet("test device", tuple(device)) if device else None,
            pins=pins.load(pin_files), intel=intel.load(intel_files), ct_logs=ct_logs)
    return make


def spki_of(ca: pki.CA) -> str:
    from certguard.judge import certs

    return certs.spki_sha256(ca.cert)


def write_pins(path: Path, hosts: list[str], keys: list[str], bad: list[str] | None = None) -> Path:
    path.write_text(
        "[[pinsets]]\nname = \"test\"\ninclude_subdomains = true\n"
        f"hosts = {json.dumps(hosts)}\nkeys = {json.dumps(keys)}\nbad_keys = {json.dumps(bad or [])}\n")
    return path


def write_intel(path: Path, entry_id: str, kind: str, spki: str, country: str = "ZZ",
                legitimate: list[str] | None = None) -> Path:
    path.write_text(
        f"[[interceptor]]\nid = \"{entry_id}\"\nname = \"Test {entry_id}\"\nkind = \"{kind}\"\n"
        f"country = \"{country}\"\nspki_sha256 = [\"{spki}\"]\n"
        f"legitimate_domains = {json.dumps(legitimate or [])}\n")
    return path


class CheckRun:
    def __init__(self, exit_code: int, output: str, stderr: str) -> None:
        self.exit_code = exit_code
        self.output = output
        self.stderr = stderr

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.output)  # type: ignore[no-any-return]

    def result(self, host: str) -> dict[str, Any]:
        return next(r for r in self.doc["results"] if r["host"] == host)


@pytest.fixture
def run_cli() -> Callable[..., CheckRun]:
    def run(*args: str) -> CheckRun:
        res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return CheckRun(res.exit_code, res.stdout, res.stderr)
    return run


@pytest.fixture
def serve() -> Iterator[Callable[..., servers.Server]]:
    started: list[servers.Server] = []

    def start(mode: str = "tls", chain: Any = (), key: Any = None, host: str = "127.0.0.1") -> servers.Server:
        s = servers.Server(mode, chain, key, host).__enter__()
        started.append(s)
        return s
    yield start
    for s in started:
        s.__exit__(None, None, None)


def connect_to(host: str, server: servers.Server) -> str:
    return f"{host}:443:{server.host}:{server.port}"


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


# ---- real Chromium (Debian's), driven by Playwright without `playwright install` (TESTING.md) -------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def require(what: str, present: bool) -> None:
    """Skip locally when a system component is missing; in CI (which installs everything) that is a failure."""
    if not present:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing although CI installs it (scripts/test.sh)")
        pytest.skip(f"{what} is not installed (scripts/test.sh installs it)")


@pytest.fixture
def browser() -> Iterator[Browser]:
    require("Debian's chromium", Path(CHROMIUM).exists() and shutil.which("chromium") is not None)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()

