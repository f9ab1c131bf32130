"""Options and helpers shared by the commands: the same target and trust options everywhere."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console

from certguard.app.cli.localized import option
from certguard.app.render import render_text, to_json
from certguard.data.context import load_trust_context
from certguard.i18n import LANGUAGES, Translator
from certguard.judge.analyze import TrustContext
from certguard.judge.models import Verdict

existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def trust_options(f: click.decorators.FC) -> click.decorators.FC:
    for opt in reversed([
        option("--ca-bundle", type=existing_file,
               key="cli.opt.ca-bundle",
               help="Use the roots in FILE (PEM) instead of Mozilla's (certifi) as the public anchors."),
        option("--pins", "pin_files", type=existing_file, multiple=True,
               key="cli.opt.pins", help="Extra pinsets (TOML, as pinned_roots/pins.toml). Repeatable."),
        option("--intel", "intel_files", type=existing_file, multiple=True,
               key="cli.opt.intel",
               help="Extra known interceptors (TOML, as pinned_roots/interceptors.toml). Repeatable."),
        option("--ct-logs", type=existing_file,
               key="cli.opt.ct-logs",
               help="CT log list (Chrome v3 JSON). Default: the copy stored by 'certguard update'."),
        option("--no-device-store", is_flag=True, key="cli.opt.no-device-store",
               help="Do not read this device's trust stores."),
        option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
               key="cli.opt.data-dir",
               help="certguard's data directory (stored CT log list, history). Default: per user."),
        option("--json", "as_json", is_flag=True, key="cli.opt.json",
               help="Print JSON (stable contract) instead of a table."),
        option("--lang", type=click.Choice(list(LANGUAGES)), default=None,
               key="cli.opt.lang", help="Language of the messages (default: the system locale)."),
    ]):
        f = opt(f)
    return f


def target_options(f: click.decorators.FC) -> click.decorators.FC:
    """Where to connect and how: the same for check, audit --check, the daemon and ui."""
    for opt in reversed([
        option("--sites", type=existing_file, key="cli.opt.sites",
               help="Site list: TOML ([[site]]) or one HOST[:PORT] per line."),
        option("--low-profile", is_flag=True,
               key="cli.opt.low-profile",
               help="Skip sites flagged sensitive (probing is visible to the network)."),
        option("--connect-to", "connect_to", multiple=True, metavar="HOST:PORT:ADDR:ADDRPORT",
               key="cli.opt.connect-to",
               help="Connect to ADDR:ADDRPORT instead (SNI and names still HOST), as in curl. Repeatable."),
        option("--resolve", "resolve", multiple=True, metavar="HOST:PORT:ADDR",
               key="cli.opt.resolve", help="Use ADDR for HOST:PORT instead of DNS, as in curl. Repeatable."),
        option("--proxy", default=None, metavar="URL",
               key="cli.opt.proxy", help="HTTP proxy for CONNECT tunnels (default: $HTTPS_PROXY)."),
        option("--timeout", type=click.FloatRange(0.1, 120), default=10.0, show_default=True,
               key="cli.opt.timeout",
               help="Seconds allowed for the connection and, separately, for the TLS handshake."),
    ]):
        f = opt(f)
    return f


def context(ca_bundle: Path | None, pin_files: Sequence[Path], intel_files: Sequence[Path],
            ct_logs: Path | None, no_device_store: bool, data_dir: Path | None) -> TrustContext:
    return load_trust_context(ca_bundle=ca_bundle, pin_files=pin_files, intel_files=intel_files, ct_logs=ct_logs,
                              use_device_store=not no_device_store, directory=data_dir)


def emit(verdicts: Sequence[Verdict], ctx: TrustContext, tr: Translator, as_json: bool, now: datetime) -> None:
    if as_json:
        click.echo(to_json(verdicts, ctx, tr, now))
    else:
        render_text(verdicts, tr, Console(highlight=False))


def done(code: int) -> None:
    sys.exit(code)
