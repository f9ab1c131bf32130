"""The ``certguard`` command. Thin: parse options, call the layers, render, set the exit code.

Exit codes (DESIGN.md §4):
    0  nothing wrong found
    1  interception or a suspicious chain found (and nothing else)
    2  usage or data error (bad option, unreadable or malformed file), or certguard could not decide
    3  nothing reachable (offline, or every site failed)

Each command lives in its own module and is imported only when it runs: ``certguard --version`` or ``check``
never load Flask, waitress, the daemon or Qt.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from certguard import __version__
from certguard.app.cli import localized
from certguard.data.files import describe_os_error
from certguard.errors import CertguardError
from certguard.i18n import Translator
from certguard.judge.models import EXIT_OK, EXIT_USAGE

localized.install()  # before any command module builds its click types (see localized.install)

# command name → (module in certguard.app.cli, attribute, one-line help shown by --help without importing it;
# its catalog key is short_help_key(name))
_COMMANDS = {
    "check": ("check", "check", "Probe sites and say whether the connection to each is intercepted."),
    "inspect": ("check", "inspect", "Judge a saved chain (PEM or DER) as if HOST had served it."),
    "audit": ("audit", "audit_command", "List the roots this device trusts beyond Mozilla's, and whose they are."),
    "pins": ("data", "pins_command", "Show the pinsets and check every pinned key against Mozilla's roots."),
    "update": ("data", "update_command", "Download Chrome's CT log list, check its signature, store it."),
    "daemon": ("watch", "daemon_group", "Watch continuously: schedule, history, notifications, local API."),
    "ui": ("watch", "ui_command", "Open certguard's window (or --browser) on the daemon."),
    "native-host": ("extension", "native_host_command", "Answer the browser extension (native messaging)."),
    "extension": ("extension", "extension_group",
                  "Install, remove or show the browser extension's native host."),
    "report": ("report", "report_group",
               "Write evidence for auditors (an HTML page and evidence.json), or verify it."),
    "lab": ("lab", "lab_group",
            "Workshop mode: interception shown on loopback with throwaway CAs, nothing installed."),
}


def short_help_key(name: str) -> str:
    return f"cli.help.short.{name}"


class _Group(localized.Group):
    """Loads each command on first use, and turns certguard's own errors into one clear line and exit code 2,
    without a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module, attr, _ = _COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"certguard.app.cli.{module}"), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section(localized.click_gettext("Commands")):
            formatter.write_dl([(name, localized.text(short_help_key(name), help_))
                                for name, (_, _, help_) in _COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CertguardError as exc:
            tr = Translator(localized.language())
            click.echo(tr("error.line", message=exc.localized(tr)), err=True)
            ctx.exit(EXIT_USAGE)
        except OSError as exc:  # the machine's doing (full disk, read-only folder): one line, never a traceback
            tr = Translator(localized.language())
            click.echo(tr("error.line", message=describe_os_error(exc, exc.filename or "-", tr)), err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=_Group, help_key="cli.help.certguard")
@click.version_option(__version__, prog_name="certguard", cls=localized.Option, help_key="click.version_option",
                      help="Show the version and exit.")
def cli() -> None:
    """Find out whether your TLS connections are being intercepted, by whom, and what to do about it."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (for tests and ``python -m certguard``)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    with localized.language_of(args):
        return _main(args)


def _main(args: list[str]) -> int:
    try:
        # standalone_mode=False: click returns instead of exiting, except for our own sys.exit(code)
        rv = cli.main(args=args, prog_name="certguard", standalone_mode=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_USAGE)
    except click.exceptions.Abort:
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    # ctx.exit(code) (our error path) comes back as the return value in non-standalone mode
    return rv if isinstance(rv, int) else EXIT_OK
