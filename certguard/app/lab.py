"""The workshop lab (``certguard lab``, the UI's Workshop page): interception shown safely, offline, on loopback.

Each scenario builds throwaway CAs in memory (``lab_pki``), writes the served chain and its key into a temporary
directory that is deleted when the run ends, starts one TLS server on 127.0.0.1 (``probe.labserver``), and runs
the ordinary pipeline against it with a *lab* ``TrustContext``:

- ``mozilla``: the lab's own two "public" roots stand in for Mozilla's program (so a "public" CA can be shown
  without any real one being involved);
- ``device``: an imaginary laptop's store, in memory only, holding the public roots plus the interceptor roots a
  scenario says were installed (as the Kazakh ISPs asked people to do). Nothing touches the real system bundle,
  certifi's file or any NSS database;
- ``pins`` / ``intel``: the shipped data plus a lab pinset (the lab site pinned to lab root A) and a lab intel entry
  knowing the lab's state root by key, loaded through the ordinary loaders from files in the temporary directory.

The verdict is certguard's, decided by the same rules and rendered through the same catalogs as ``check``; the lab
adds only the scenario's title, what it shows and "what your browser would have shown" (``lab.*`` keys).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from certguard.app.lab_pki import CA, Issued, key_pem, name, pem
from certguard.app.render import to_json
from certguard.data import intel, pins
from certguard.errors import ConfigError
from certguard.i18n import Translator
from certguard.judge import certs
from certguard.judge.analyze import TrustContext
from certguard.judge.models import Status, Target
from certguard.judge.rules import RuleId
from certguard.judge.verify import AnchorSet
from certguard.probe.labserver import LOOPBACK, LabServer
from certguard.probe.tls import ProbeOptions
from certguard.watch.pipeline import Pipeline, RoundResult

# A reserved name (RFC 2606): the lab never names a real site, so nothing can ever be resolved or reached.
SITE = "www.lab.example"
PORTAL = "login.hotspot.example"


@dataclass(frozen=True)
class Scenario:
    """One lab scenario. ``installed``: its CA is in the imaginary laptop's store. ``browser_warns``: whether a
    browser on that laptop would have shown a certificate warning (the lab's narrative, ``lab.browser.<id>``)."""

    id: str
    expect_status: Status
    expect_rule: RuleId
    installed: bool
    browser_warns: bool

    def describe(self, tr: Translator) -> dict[str, str]:
        return {"id": self.id, "title": tr(f"lab.title.{self.id}"), "what_it_shows": tr(f"lab.what.{self.id}")}


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("clean", Status.OK, RuleId.PUBLIC_OK, installed=False, browser_warns=False),
    Scenario("state", Status.INTERCEPTED, RuleId.KNOWN_INTERCEPTOR, installed=True, browser_warns=False),
    Scenario("antivirus", Status.INTERCEPTED, RuleId.NO_PUBLIC_ROOT, installed=True, browser_warns=False),
    Scenario("corporate", Status.INTERCEPTED, RuleId.NO_PUBLIC_ROOT, installed=True, browser_warns=False),
    Scenario("captive-portal", Status.CAPTIVE_PORTAL, RuleId.NOT_FOR_THIS_HOST, installed=False, browser_warns=True),
    Scenario("rogue-ca", Status.SUSPICIOUS, RuleId.PIN_MISMATCH, installed=False, browser_warns=False),
    Scenario("debugging", Status.INTERCEPTED, RuleId.NO_PUBLIC_ROOT, installed=True, browser_warns=False),
)
BY_ID = {s.id: s for s in SCENARIOS}


def scenario(scenario_id: str) -> Scenario:
    """Raises:
        ConfigError: no such scenario.
    """
    if scenario_id not in BY_ID:
        raise ConfigError(f"no lab scenario {scenario_id!r} (choose from {', '.join(BY_ID)})",
                          key="error.lab.unknown_scenario", scenario=scenario_id, choices=", ".join(BY_ID))
    return BY_ID[scenario_id]


def listing(tr: Translator) -> dict[str, Any]:
    """``lab list --json`` and the Workshop page: ``{"scenarios": [{"id", "title", "what_it_shows"}]}``."""
    return {"scenarios": [s.describe(tr) for s in SCENARIOS]}


@dataclass(frozen=True)
class LabRun:
    """A finished scenario: the round as the pipeline judged it, the lab's context, and the port the lab server
    used (closed by now: tests connect to it to prove it)."""

    scenario: Scenario
    round: RoundResult
    ctx: TrustContext
    port: int
    workdir: Path  # deleted by now

    def document(self, tr: Translator) -> dict[str, Any]:
        """The JSON of ``check`` for this round, plus a ``lab`` block (what the scenario shows, what a browser
        would have shown, what the lab expected)."""
        doc: dict[str, Any] = json.loads(to_json(self.round.verdicts, self.ctx, tr, self.round.checked_at))
        for result, v in zip(doc["results"], self.round.verdicts, strict=True):
            if v.interceptor is not None:  # the Workshop page shows the name: in the trainer's language
                result["interceptor"] |= {"name": tr.interceptor_name(v.interceptor), "data_name": v.interceptor.name}
        doc["lab"] = {**self.scenario.describe(tr), "browser": tr(f"lab.browser.{self.scenario.id}"),
                      "browser_warns": self.scenario.browser_warns,
                      "expected": {"status": self.scenario.expect_status.value,
                                   "rule": self.scenario.expect_rule.value}}
        return doc


@dataclass(frozen=True)
class _Built:
    served: list[x509.Certificate]
    key: Issued
    installed_roots: tuple[x509.Certificate, ...]
    state_keys: tuple[str, ...] = ()


def _build(sid: str, now: datetime, public_a: CA, issuing_a: CA, public_b: CA) -> _Built:
    real = issuing_a.leaf((SITE,), now)
    if sid == "clean":
        return _Built([real.cert, issuing_a.cert], real, ())
    if sid == "state":
        # The 2019 chain: forged leaf → "Security Certificate" (C=KZ) → "Qaznet Trust Network" (FACTS.md §1).
        root = CA.root(name("Qaznet Trust Network (lab copy)", c="KZ"), now)
        inter = root.child(name("Security Certificate", c="KZ"), now)
        forged = inter.forge_like_2019(real.cert)
        return _Built([forged.cert, inter.cert], forged, (root.cert,),
                      (certs.spki_sha256(root.cert), certs.spki_sha256(inter.cert)))
    if sid in ("antivirus", "corporate", "debugging"):
        subject = {"antivirus": name("ESET SSL Filter CA", "ESET spol. s r. o. (lab copy)", "SK"),
                   "corporate": name("Zscaler Root CA", "Zscaler Inc. (lab copy)", "US"),
                   "debugging": name("mitmproxy", "mitmproxy")}[sid]
        root = CA.root(subject, now)
        forged = root.leaf((SITE,), now)
        # mitmproxy serves only its forged leaf; the products send their root along, as most do.
        return _Built([forged.cert] if sid == "debugging" else [forged.cert, root.cert], forged, (root.cert,))
    if sid == "captive-portal":
        root = CA.root(name("Hotspot Login CA", "Airport Wi-Fi (lab)"), now)
        page = root.leaf((PORTAL,), now)
        return _Built([page.cert, root.cert], page, ())
    if sid == "rogue-ca":
        # A second "public" CA, trusted like any other, that the lab site's pinset does not name.
        issuing_b = public_b.child(name("Lab Trust Services Issuing CA B", "Lab Trust Services", "NL"), now)
        rogue = issuing_b.leaf((SITE,), now)
        return _Built([rogue.cert, issuing_b.cert], rogue, ())
    raise ConfigError(f"no lab scenario {sid!r}", key="error.lab.unknown_scenario", scenario=sid,
                      choices=", ".join(BY_ID))


def _data_files(work: Path, public_a: CA, built: _Built, now: datetime) -> tuple[Path, list[Path]]:
    """The lab pinset (always) and, for the state scenario, a lab intel entry knowing its root by key."""
    pin_file, intel_file = work / "lab-pins.toml", work / "lab-intel.toml"
    pin_file.write_text(
        "[[pinsets]]\n"
        f'name = "lab: {SITE}"\nhosts = ["{SITE}"]\n'
        f'keys = ["{certs.spki_sha256(public_a.cert)}"]\n'
        f'confidence = "high"\nsource = "certguard lab (generated for this run)"\ndate = "{now.date().isoformat()}"\n',
        encoding="utf-8")
    if not built.state_keys:
        return pin_file, []
    # certguard knows the real Qaznet and ISCA roots by key (pinned_roots/interceptors.toml); the lab's copy is
    # known the same way, through the same loader.
    intel_file.write_text(
        "[[interceptor]]\n"
        'id = "lab-state-root"\nname = "Lab copy of a state root (Qaznet-style)"\nkind = "state"\n'
        f'country = "KZ"\nspki_sha256 = [{", ".join(json.dumps(k) for k in built.state_keys)}]\n'
        'references = ["certguard lab: generated for this run, never installed"]\n',
        encoding="utf-8")
    return pin_file, [intel_file]


def run(scenario_id: str, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = 5.0) -> LabRun:
    """Run one scenario end to end on loopback. The server and the temporary directory are gone on return.

    Raises:
        ConfigError: no such scenario.
    """
    sc = scenario(scenario_id)
    now = clock().replace(microsecond=0)
    public_a = CA.root(name("Lab Public Root CA A", "Lab Trust Services", "NL"), now)
    issuing_a = public_a.child(name("Lab Public Issuing CA A", "Lab Trust Services", "NL"), now)
    public_b = CA.root(name("Lab Trust Services Root B", "Lab Trust Services", "NL"), now)
    built = _build(sc.id, now, public_a, issuing_a, public_b)
    with tempfile.TemporaryDirectory(prefix="certguard-lab-") as tmp:
        work = Path(tmp)
        chain_file, key_file = work / "served.pem", work / "served.key"
        chain_file.write_bytes(b"".join(pem(c) for c in built.served))
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem(built.key.key))
        pin_file, intel_files = _data_files(work, public_a, built, now)
        public = (public_a.cert, public_b.cert)
        ctx = TrustContext(
            mozilla=AnchorSet("lab: public roots A and B (in memory, stand-ins for Mozilla's)", public),
            device=AnchorSet("lab: the imaginary laptop's trust store (in memory, never installed)",
                             public + (built.installed_roots if sc.installed else ())),
            pins=pins.load([pin_file]), intel=intel.load(intel_files), ct_logs=None, exroots=None)
        pipeline = Pipeline(ctx, ProbeOptions(timeout=timeout), workers=1, clock=clock)
        with LabServer(chain_file, key_file) as server:
            rnd = pipeline.run([Target(SITE, 443, address=LOOPBACK, address_port=server.port)], network="lab")
            port = server.port
    return LabRun(sc, rnd, ctx, port, work)
