"""``certguard pins`` and ``certguard update``: the reviewed data and the signed CT log list."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import certifi
import click
from rich.console import Console
from rich.text import Text

from certguard.app.cli import localized
from certguard.app.cli.common import done, existing_file
from certguard.app.cli.localized import option
from certguard.data import anchors
from certguard.data import pins as pin_data
from certguard.data import update as update_mod
from certguard.data.context import data_dir as data_dir_of
from certguard.i18n import Translator
from certguard.judge import pins
from certguard.judge.models import EXIT_OK, iso
from certguard.probe import https
from certguard.watch.pipeline import probe_options


@click.command("pins", cls=localized.Command, help_key="cli.help.pins")
@option("--pins", "pin_files", type=existing_file, multiple=True, key="cli.opt.pins.pins",
        help="Extra pinsets to include.")
@click.option("--json", "as_json", is_flag=True)
def pins_command(pin_files: tuple[Path, ...], as_json: bool) -> None:
    """Show the pinsets and check every pinned key against Mozilla's roots (certifi)."""
    db = pin_data.load(pin_files)
    report = pins.audit_against(db, anchors.mozilla())
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        console = Console(highlight=False)
        tr = Translator()
        for ps in report["pinsets"]:
            console.print(Text(f"{ps['name']} ({ps['confidence']}): {', '.join(ps['hosts'])}", style="bold"))
            for k in ps["keys"]:
                mark = tr("cli.pins_in_mozilla") if k["in_mozilla"] else tr("cli.pins_not_in_mozilla")
                console.print(f"  {k['spki_sha256']}  {k['name']}: {mark}", markup=False)
            if ps["stale"]:
                console.print(Text("  " + tr("cli.pins_stale"), style="yellow"))
            for k in ps["missing_ca_roots"]:
                console.print(Text("  " + tr("cli.pins_missing_ca_root", ca=k["ca"], name=k["name"],
                                             spki=k["spki_sha256"]), style="yellow"))
        console.print("\n" + tr("cli.pins_summary", missing=report["keys_not_in_mozilla"], total=report["keys_total"],
                                anchors=report["anchors"]), markup=False)
    done(EXIT_OK)



@click.command("update", cls=localized.Command, help_key="cli.help.update")
@option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        key="cli.opt.update.data-dir",
        help="Where to store the data. Default: certguard's per-user data directory.")
@option("--url", default=update_mod.CT_LOG_LIST.url, show_default=True, key="cli.opt.update.url",
        help="Where the CT log list is.")
@option("--signature-url", default=update_mod.CT_LOG_LIST.signature_url, show_default=True,
        key="cli.opt.update.signature-url", help="Where its detached signature is.")
@option("--file", "from_file", type=existing_file, default=None,
        key="cli.opt.update.file",
        help="Import a log list carried here by other means (verified exactly like a download).")
@option("--signature-file", type=existing_file, default=None, key="cli.opt.update.signature-file",
        help="The signature for --file.")
@option("--ca-bundle", type=existing_file, default=None,
        key="cli.opt.update.ca-bundle",
        help="TLS anchors for the download (default: Mozilla's, from certifi; never the OS store).")
@click.option("--signing-key", type=existing_file, default=None, hidden=True,
              help="PEM public key of a mirror that signs with its own key (default: Google's log-list key).")
@option("--proxy", default=None, metavar="URL", key="cli.opt.proxy",
        help="HTTP proxy for CONNECT tunnels (default: $HTTPS_PROXY).")
@option("--timeout", type=click.FloatRange(1, 600), default=60.0, show_default=True,
        key="cli.opt.update.timeout", help="Seconds allowed for each download.")
@click.option("--json", "as_json", is_flag=True)
def update_command(data_dir: Path | None, url: str, signature_url: str, from_file: Path | None,
                   signature_file: Path | None, ca_bundle: Path | None, signing_key: Path | None, proxy: str | None,
                   timeout: float, as_json: bool) -> None:
    """Download Chrome's CT log list, check Google's signature on it, and store it for 'check' and 'inspect'.

    Nothing is stored unless the signature verifies and the list is newer than the stored one: an intercepted
    network can stop an update but cannot change the data.
    """
    if (from_file is None) != (signature_file is None):
        raise click.UsageError(Translator()("error.cli.file_and_signature"))
    feed = dataclasses.replace(update_mod.CT_LOG_LIST, url=url, signature_url=signature_url)
    if signing_key is not None:
        feed = dataclasses.replace(feed, key_pem=update_mod.load_key(signing_key))
    fetch = https.https_get
    if from_file is not None and signature_file is not None:
        feed = dataclasses.replace(feed, url=str(from_file), signature_url=str(signature_file))
        fetch = update_mod.local_fetch({feed.url: from_file, feed.signature_url: signature_file},
                                       feed.content_types[0])
    result = update_mod.update(feed, data_dir_of(data_dir), datetime.now(UTC),
                               cafile=str(ca_bundle) if ca_bundle else certifi.where(), timeout=timeout,
                               proxy=probe_options(timeout, proxy).proxy, fetch=fetch)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif result.changed:
        tr = Translator()
        click.echo(tr("cli.update_stored", feed=result.feed, version=result.version, summary=result.summary,
                      signed=iso(result.timestamp), path=result.path))
        if result.previous_version:
            click.echo(tr("cli.update_previous", version=result.previous_version))
    else:
        click.echo(Translator()("cli.update_same", feed=result.feed, version=result.version, path=result.path))
    done(EXIT_OK)


