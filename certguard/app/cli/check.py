"""``certguard check`` and ``certguard inspect``: one verdict per site, through the one pipeline."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from certguard.app.cli import localized
from certguard.app.cli.common import context, done, emit, existing_file, target_options, trust_options
from certguard.app.cli.localized import option
from certguard.data.files import read_bounded
from certguard.data.targets import ConnectTo, Resolve, apply_overrides, load_site_list, parse_target
from certguard.errors import DataError
from certguard.i18n import Translator
from certguard.judge import certs
from certguard.judge.models import EXIT_UNREACHABLE, ProbeAttempt, Target, exit_code, parse_iso
from certguard.watch.pipeline import Pipeline, RoundResult, probe_options


def resolve_targets(hosts: Sequence[str], sites: Path | None, low_profile: bool, connect_to: Sequence[str],
                    resolve: Sequence[str]) -> list[Target]:
    """HOST arguments (and/or --sites, else the built-in list), less sensitive sites in low-profile mode, with
    curl's --connect-to/--resolve applied."""
    targets = [parse_target(h) for h in hosts] if hosts else load_site_list(sites)
    if hosts and sites:
        targets += load_site_list(sites)
    if low_profile:
        targets = [t for t in targets if not t.sensitive]
    return apply_overrides(targets, [ConnectTo.parse(c) for c in connect_to], [Resolve.parse(r) for r in resolve])


@click.command(cls=localized.Command, help_key="cli.help.check")
@click.argument("hosts", nargs=-1)
@target_options
@option("--workers", type=click.IntRange(1, 256), default=64, show_default=True, key="cli.opt.check.workers",
        help="Sites probed at once.")
@trust_options
def check(hosts: tuple[str, ...], sites: Path | None, low_profile: bool, connect_to: tuple[str, ...],
          resolve: tuple[str, ...], proxy: str | None, timeout: float, workers: int, ca_bundle: Path | None,
          pin_files: tuple[Path, ...], intel_files: tuple[Path, ...], ct_logs: Path | None, no_device_store: bool,
          data_dir: Path | None, as_json: bool, lang: str | None) -> None:
    """Probe sites (default: the built-in list) and say whether the connection to each is intercepted."""
    tr = Translator(lang)
    targets = resolve_targets(hosts, sites, low_profile, connect_to, resolve)
    pipeline = Pipeline(context(ca_bundle, pin_files, intel_files, ct_logs, no_device_store, data_dir),
                        probe_options(timeout, proxy), workers)
    rnd = _run_with_progress(pipeline, targets, tr, show=not as_json and sys.stderr.isatty())
    code = exit_code(rnd.verdicts)
    if code == EXIT_UNREACHABLE and not as_json:
        click.echo(tr("cli.offline"), err=True)
    emit(rnd.verdicts, pipeline.ctx, tr, as_json, rnd.checked_at)
    if not as_json and not low_profile and not hosts:
        click.echo(tr("cli.visibility"), err=True)
    done(code)


def _run_with_progress(pipeline: Pipeline, targets: Sequence[Target], tr: Translator, show: bool) -> RoundResult:
    if not show:
        return pipeline.run(targets)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(tr("cli.checking", count=len(targets)), total=len(targets))

        def advance(a: ProbeAttempt) -> None:
            progress.update(task, advance=1, description=a.target.label)

        return pipeline.run(targets, on_done=advance)


@click.command(cls=localized.Command, help_key="cli.help.inspect")
@click.argument("file", type=existing_file)
@option("--host", required=True, key="cli.opt.inspect.host", help="The host name the chain was served for.")
@click.option("--port", type=click.IntRange(1, 65535), default=443, show_default=True)
@option("--at", "at", default=None, metavar="ISO8601", key="cli.opt.inspect.at",
        help="Judge as of this time (default: now).")
@trust_options
def inspect(file: Path, host: str, port: int, at: str | None, ca_bundle: Path | None, pin_files: tuple[Path, ...],
            intel_files: tuple[Path, ...], ct_logs: Path | None, no_device_store: bool, data_dir: Path | None,
            as_json: bool, lang: str | None) -> None:
    """Judge a saved chain (PEM bundle, leaf first, or DER certificates) as if HOST had served it."""
    tr = Translator(lang)
    try:
        when = parse_iso(at) if at else datetime.now(UTC)
    except (ValueError, OverflowError) as exc:
        raise click.BadParameter(tr("error.cli.bad_time", value=repr(at)), param_hint="--at") from exc
    raw = read_bounded(file)  # bounded: a saved chain is kilobytes, /dev/zero must not hang
    # Raw DER blocks, judged exactly like a live probe's capture: same chain, same verdict.
    chain = certs.split_pem_or_der(raw, str(file))
    if not certs.readable_any(chain):  # not a chain at all: one line, not a verdict full of parser internals
        raise DataError(str(file), "no block is a certificate certguard can read", key="error.certs.none_readable")
    target = parse_target(host)
    pipeline = Pipeline(context(ca_bundle, pin_files, intel_files, ct_logs, no_device_store, data_dir),
                        clock=lambda: when)
    rnd = pipeline.judge_chain(target.host, port, chain, source="file")
    emit(rnd.verdicts, pipeline.ctx, tr, as_json, when)
    done(exit_code(rnd.verdicts))
