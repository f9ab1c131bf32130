"""``certguard lab``: the workshop lab (``lab list``, ``lab run ID``), on loopback with throwaway CAs."""

from __future__ import annotations

import json

import click
from rich.console import Console

from certguard.app import lab
from certguard.app.cli import localized
from certguard.app.cli.common import done
from certguard.app.cli.localized import option
from certguard.app.render import render_text
from certguard.i18n import LANGUAGES, Translator
from certguard.judge.models import exit_code

_lang = option("--lang", type=click.Choice(list(LANGUAGES)), default=None,
                     key="cli.opt.lab.lang", help="Language of the texts (default: the system locale).")
_json = option("--json", "as_json", is_flag=True, key="cli.opt.lab.json", help="Print JSON instead of text.")


@click.group("lab", cls=localized.Group, help_key="cli.help.lab")
def lab_group() -> None:
    """Workshop mode: show interception safely. Every scenario runs on 127.0.0.1 with throwaway CAs kept in a
    temporary directory; nothing is installed anywhere."""


@lab_group.command("list", help_key="cli.help.lab.list")
@_json
@_lang
def list_command(as_json: bool, lang: str | None) -> None:
    """List the scenarios."""
    tr = Translator(lang)
    doc = lab.listing(tr)
    if as_json:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    for s in doc["scenarios"]:
        click.echo(f"{s['id']:<15} {s['title']}")
        click.echo(f"{'':<15} {s['what_it_shows']}")


@lab_group.command("run", help_key="cli.help.lab.run")
@click.argument("scenario_id", metavar="ID")
@_json
@_lang
def run_command(scenario_id: str, as_json: bool, lang: str | None) -> None:
    """Run scenario ID and show certguard's verdict beside what a browser would have shown. Exit code as
    'check': 1 when the scenario shows an interception or a suspicious chain."""
    tr = Translator(lang)
    result = lab.run(lab.scenario(scenario_id).id)
    doc = result.document(tr)
    if as_json:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        info = doc["lab"]
        click.echo(f"{info['title']}\n{info['what_it_shows']}\n")
        click.echo(tr("lab.certguard_says"))
        render_text(result.round.verdicts, tr, Console(highlight=False))
        click.echo(f"\n{tr('lab.browser_says')}\n  {info['browser']}")
    done(exit_code(result.round.verdicts))
