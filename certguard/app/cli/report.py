"""``certguard report`` (evidence for auditors) and ``certguard report verify`` (a colleague checks it).

``report`` writes ``--out DIR/report.html`` and ``DIR/evidence.json`` from a fresh check (same target and trust
options as ``check``) plus the audit of this device, or from the daemon's history (``--from-history``). Exit code
as ``check``. ``report verify FILE`` exits 0 when the document, its data and every re-judged verdict match, and 2
(a damaged or altered file) with one line per difference otherwise — never 1, which means interception.
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from certguard import device
from certguard.app import report, report_html
from certguard.app.cli import localized
from certguard.app.cli.check import resolve_targets
from certguard.app.cli.common import context, done, target_options, trust_options
from certguard.app.cli.localized import option
from certguard.app.render import audit_document
from certguard.data.context import data_dir as default_data_dir
from certguard.data.files import describe_os_error, write_atomic
from certguard.errors import ConfigError
from certguard.i18n import LANGUAGES, Translator
from certguard.judge import audit, certs
from certguard.judge.analyze import TrustContext
from certguard.judge.models import EXIT_OK, EXIT_USAGE, Verdict, exit_code, iso, parse_iso
from certguard.watch.history import History
from certguard.watch.networks import network_label
from certguard.watch.pipeline import Pipeline, probe_options

HISTORY_FILE = "history.sqlite3"


class _ReportGroup(localized.Group):
    """``report [options]`` makes a report; ``report verify FILE`` checks one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group("report", cls=_ReportGroup, help_key="cli.help.report")
def report_group() -> None:
    """Write evidence (report.html and evidence.json) or verify it: 'certguard report verify DIR/evidence.json'."""


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_iso(value)
    except (ValueError, OverflowError) as exc:
        raise click.BadParameter(Translator()("error.cli.bad_time", value=repr(value)), param_hint=name) from exc


def _chain_der(v: Verdict) -> tuple[bytes, ...]:
    return tuple(d for c in v.chain for d in certs.split_pem_or_der(c.pem.encode("ascii"), v.label))


def _from_history(history: History, ctx: TrustContext, since: datetime | None,
                  until: datetime | None) -> list[report.Entry]:
    """Every stored chain seen in the window, judged again through the pipeline with the report's data at the
    time it was last seen (history facts are not replayed: the daemon's own verdict is kept beside it)."""
    entries = []
    for latest in history.latest():
        for row in history.history(latest.host):
            first, last = parse_iso(row["first_seen"]), parse_iso(row["last_seen"])
            if (since and last < since) or (until and first > until) or row["port"] != latest.port:
                continue
            stored = Verdict.from_dict(row)
            recorded = {"status": stored.status.value, "rule": stored.rule, "network": row["network"],
                        "first_seen": row["first_seen"], "last_seen": row["last_seen"], "seen": row["seen"]}
            chain = _chain_der(stored)
            if not chain:  # a probe failure: nothing to judge again, kept as the daemon judged it
                entries.append(report.Entry(stored, (), stored.observed_at, recorded))
                continue
            at = stored.observed_at  # when the daemon last saw this chain: the moment it is judged as of
            v = Pipeline(ctx, clock=report.stopped_clock(at)).judge_chain(stored.host, stored.port, chain,
                                                                           source=stored.source).verdicts[0]
            entries.append(report.Entry(v, chain, at, recorded))
    return entries


def _episodes(history: History | None, since: datetime | None, until: datetime | None,
              tr: Translator) -> list[dict[str, Any]]:
    """The daemon's episodes in the window, each with its network named for people ("Wi-Fi “CafeNet”")."""
    if history is None:
        return []
    networks = dict(history.networks())
    return [e.to_dict() | {"network_label": network_label(tr, e.network, networks.get(e.network))}
            for e in history.episodes()
            if not (since and (e.ended_at or e.last_seen) < since) and not (until and e.started_at > until)]


@report_group.command("create", help_key="cli.help.report.create")
@click.argument("hosts", nargs=-1)
@option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
        key="cli.opt.report.out", help="Folder to write report.html and evidence.json into (created if needed).")
@option("--from-history", is_flag=True, key="cli.opt.report.from-history",
        help="Report the daemon's history instead of checking now.")
@option("--since", default=None, metavar="ISO8601", key="cli.opt.report.since",
        help="With --from-history: from this time.")
@option("--until", default=None, metavar="ISO8601", key="cli.opt.report.until",
        help="With --from-history: up to this time.")
@option("--no-audit", is_flag=True, key="cli.opt.report.no-audit",
        help="Leave out the audit of this device's trust stores.")
@option("--home", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
        key="cli.opt.report.home", help="Audit the browser profiles in this home directory (default: yours).")
@target_options
@trust_options
def create(hosts: tuple[str, ...], out_dir: Path, from_history: bool, since: str | None, until: str | None,
           no_audit: bool, home: Path | None, sites: Path | None, low_profile: bool, connect_to: tuple[str, ...],
           resolve: tuple[str, ...], proxy: str | None, timeout: float, ca_bundle: Path | None,
           pin_files: tuple[Path, ...], intel_files: tuple[Path, ...], ct_logs: Path | None, no_device_store: bool,
           data_dir: Path | None, as_json: bool, lang: str | None) -> None:
    """Check the sites (or read the daemon's history) and write DIR/report.html and DIR/evidence.json. Both hold
    details of this device and network: treat them as sensitive. Verify with 'certguard report verify'."""
    tr = Translator(lang)
    t_since, t_until = _when(since, "--since"), _when(until, "--until")
    if (t_since or t_until) and not from_history:
        raise click.UsageError(tr("error.cli.since_needs_history"))
    ctx = context(ca_bundle, pin_files, intel_files, ct_logs, no_device_store, data_dir)
    history_path = default_data_dir(data_dir) / HISTORY_FILE
    history = History(history_path) if history_path.is_file() else None
    try:
        if from_history:
            if history is None:
                raise ConfigError(f"no daemon history in {history_path.parent} (see 'certguard daemon')",
                                  key="error.report.no_history", directory=history_path.parent)
            entries = _from_history(history, ctx, t_since, t_until)
        else:
            targets = resolve_targets(hosts, sites, low_profile, connect_to, resolve)
            rnd = Pipeline(ctx, probe_options(timeout, proxy)).run(targets)
            entries = [report.Entry(v, _chain_der(v), rnd.checked_at) for v in rnd.verdicts]
        episodes = _episodes(history, t_since, t_until, tr)
    finally:
        if history is not None:
            history.close()
    now = datetime.now(UTC)
    verdicts = [e.verdict for e in entries]
    audit_doc = None
    if not no_audit:
        scan = device.read_device(platform.system(), home or Path.home())
        audit_doc = audit_document(audit.judge(scan, ctx.mozilla, ctx.intel, verdicts), tr, now, ctx.mozilla.source)
    window = {"since": iso(t_since) if t_since else None, "until": iso(t_until) if t_until else None} \
        if from_history else None
    doc = report.build(entries, ctx, tr, now, source="history" if from_history else "check",
                       network=report.network_context(), audit=audit_doc, episodes=episodes, window=window)
    sealed = report.serialise(doc)
    digest = json.loads(sealed)[report.HASH_KEY]
    html_path, evidence_path = out_dir / report.HTML_FILE, out_dir / report.EVIDENCE_FILE
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(evidence_path, sealed)  # 0600, like the page: both describe this device and network
        write_atomic(html_path, report_html.render(doc, digest, tr).encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write the report: {describe_os_error(exc, out_dir)}", key="error.report.write",
                          detail=describe_os_error(exc, out_dir, tr)) from exc
    if as_json:
        click.echo(json.dumps({"report": str(html_path), "evidence": str(evidence_path),
                               "document_sha256": digest, "summary": doc["summary"]}, indent=2))
    else:
        click.echo(tr("report.written", html=str(html_path), evidence=str(evidence_path)))
        click.echo(tr("report.sensitive"), err=True)
    done(exit_code(verdicts))


@report_group.command("verify", help_key="cli.help.report.verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(list(LANGUAGES)), default=None)
def verify_command(file: Path, lang: str | None) -> None:
    """Check an evidence.json: its hash, the data hashes, and every chain judged again offline with the recorded
    data at the recorded time. Exit 0 when everything matches, 2 with one line per difference otherwise."""
    tr = Translator(lang)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {describe_os_error(exc, file)}", key="error.report.read",
                          detail=describe_os_error(exc, file, tr)) from exc
    diffs, judged = report.verify(raw, tr)
    for line in diffs:
        click.echo(line)
    if diffs:
        click.echo(tr("report.verify.failed", count=len(diffs)), err=True)
        done(EXIT_USAGE)
    click.echo(tr("report.verify.ok", judged=judged))
    done(EXIT_OK)
