"""``certguard audit``: the device's trust stores, judged; with --check, which root signed which connection."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from certguard import device
from certguard.app.cli import localized
from certguard.app.cli.check import resolve_targets
from certguard.app.cli.common import done, existing_file, target_options
from certguard.app.cli.localized import option
from certguard.app.render import audit_to_json, render_audit_text
from certguard.data.context import load_trust_context
from certguard.i18n import LANGUAGES, Translator
from certguard.judge import audit
from certguard.judge.models import EXIT_FOUND, EXIT_OK, Verdict
from certguard.judge.storescan import StoreScan
from certguard.watch.pipeline import Pipeline, probe_options


@click.command("audit", cls=localized.Command, help_key="cli.help.audit")
@option("--store", "store_paths", type=click.Path(exists=True, path_type=Path), multiple=True,
        key="cli.opt.audit.store",
        help="Audit this store only: a PEM/DER file, a folder of them, or an NSS database folder. Repeatable.")
@option("--root", "linux_root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
        key="cli.opt.audit.root",
        help="Read the Linux system stores under this directory (a mounted disk image) instead of /.")
@option("--home", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
        key="cli.opt.audit.home",
        help="Look for Firefox and Chromium profiles in this home directory (default: yours).")
@option("--check", "with_check", is_flag=True,
        key="cli.opt.audit.check",
        help="Also probe the sites and say which installed root signed which observed connection.")
@target_options
@option("--ca-bundle", type=existing_file, key="cli.opt.audit.ca-bundle",
        help="Judge against these roots instead of Mozilla's (certifi).")
@option("--intel", "intel_files", type=existing_file, multiple=True, key="cli.opt.audit.intel",
        help="Extra known interceptors (TOML).")
@option("--all", "show_all", is_flag=True, key="cli.opt.audit.all",
        help="List the certificates from Mozilla's program too.")
@option("--json", "as_json", is_flag=True, key="cli.opt.audit.json",
        help="Print JSON (roots[] with store, trust and verdict).")
@click.option("--lang", type=click.Choice(list(LANGUAGES)), default=None)
def audit_command(store_paths: tuple[Path, ...], linux_root: Path | None, home: Path | None, with_check: bool,
                  sites: Path | None, low_profile: bool, connect_to: tuple[str, ...], resolve: tuple[str, ...],
                  proxy: str | None, timeout: float, ca_bundle: Path | None, intel_files: tuple[Path, ...],
                  show_all: bool, as_json: bool, lang: str | None) -> None:
    """List the roots this device trusts beyond Mozilla's program, spot known interceptors, and say how to
    remove them. Exit code 1 when a known interceptor root is trusted."""
    tr = Translator(lang)
    if store_paths:
        scan = StoreScan()
        for path in store_paths:
            scan.extend(device.read_path(path))
    else:
        system = "Linux" if linux_root else platform.system()
        scan = device.read_device(system, home or Path.home(), linux_root=linux_root or Path("/"))
    ctx = load_trust_context(ca_bundle=ca_bundle, intel_files=intel_files, use_device_store=False)
    verdicts: tuple[Verdict, ...] = ()
    if with_check:
        targets = resolve_targets((), sites, low_profile, connect_to, resolve)
        verdicts = Pipeline(ctx, probe_options(timeout, proxy)).run(targets).verdicts
    report = audit.judge(scan, ctx.mozilla, ctx.intel, verdicts)
    if as_json:
        click.echo(audit_to_json(report, tr, datetime.now(UTC), ctx.mozilla.source))
    else:
        render_audit_text(report, tr, Console(highlight=False), show_all)
    done(EXIT_FOUND if report.trusted_interceptors else EXIT_OK)
