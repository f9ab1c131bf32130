"""The CLI's text output (issue 14): offline said once and first, findings grouped by culprit, one overall line
first, every status counted."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pki
from conftest import CheckRun

from certguard.i18n import Translator

EN = Translator("en")
HOSTS = [f"site{i}.example.org" for i in range(12)]


def closed_port() -> int:
    with socket.socket() as s:  # bound then closed: nobody listens there, connections are refused at once
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_offline_is_said_once_first_in_a_few_lines(run_cli: Callable[..., CheckRun], ca_bundle: Path) -> None:
    port = closed_port()
    args = [a for h in HOSTS for a in ("--connect-to", f"{h}:443:127.0.0.1:{port}")]
    run = run_cli("check", *HOSTS, *args, "--ca-bundle", str(ca_bundle), "--timeout", "2", "--lang", "en")
    lines = [ln for ln in run.output.splitlines() if ln.strip()]
    assert lines[0] == EN("ui.overall.offline"), lines[:3]
    assert len(lines) <= 4, lines
    assert run.output.count(EN("status.unreachable")) == 1, "one count, not a row per site"
    assert f"{len(HOSTS)} {EN('status.unreachable')}" in run.output
    assert run.exit_code != 1, "offline is not an interception"


def test_findings_grouped_by_culprit_and_every_status_counted(run_cli: Callable[..., CheckRun], ca_bundle: Path,
                                                               serve: Callable[..., Any],
                                                               public_issuing: pki.CA) -> None:
    qaznet = pki.root("Qaznet Trust Network", c="KZ")
    forged = qaznet.leaf(*HOSTS[:3])
    evil = serve("tls", [forged.cert], forged.key)
    genuine = public_issuing.leaf(HOSTS[3])
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    port = closed_port()
    # three sites behind one interceptor, one safe, one refused while others answer (blocked)
    args = [*[a for h in HOSTS[:3] for a in ("--connect-to", f"{h}:443:127.0.0.1:{evil.port}")],
            "--connect-to", f"{HOSTS[3]}:443:127.0.0.1:{good.port}", "--connect-to", f"{HOSTS[4]}:443:127.0.0.1:{port}"]
    run = run_cli("check", *HOSTS[:5], *args, "--ca-bundle", str(ca_bundle), "--timeout", "2", "--lang", "en")
    assert run.exit_code == 1
    out = run.output
    assert out.splitlines()[0] == EN("ui.overall.intercepted"), "one overall line first"
    assert out.count(EN("cli.what_to_do")) == 2, "one block for the culprit (not three), one for the blocked site"
    flat = " ".join(out.split())  # rich wraps long lines at the terminal's width
    assert flat.count("— " + EN("kind.state")) == 1, "the culprit is described once"
    assert ", ".join(HOSTS[:3]) in flat, "the block names every site it covers"
    last = out.strip().splitlines()[-1]
    counts = [f"1 {EN('status.ok')}", f"3 {EN('status.intercepted')}", f"1 {EN('status.blocked')}"]
    assert last == ", ".join(counts), last
    assert EN("status.captive_portal") not in last, "control: a status that did not occur is not listed"
    # the culprit's block covers three sites: its advice says "these sites"; the blocked site's block is about one
    assert " ".join(EN("advice.state.many").split()) in flat and " ".join(EN("advice.state").split()) not in flat
    assert " ".join(EN("advice.blocked").split()) in flat
