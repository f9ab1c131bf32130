"""``certguard native-host`` (what the browser starts) and ``certguard extension install|uninstall|status``."""

from __future__ import annotations

import logging
import platform
from pathlib import Path

import click

from certguard.app import hostinstall, nativehost
from certguard.app.cli import localized
from certguard.app.cli.common import context, done, existing_file
from certguard.app.cli.localized import option
from certguard.data.context import data_dir as data_dir_of
from certguard.i18n import LANGUAGES, Translator
from certguard.judge.models import EXIT_OK, EXIT_UNREACHABLE
from certguard.watch.pipeline import probe_options

_EXTENSION_DIR = Path(__file__).resolve().parents[3] / "extension"


@click.command("native-host", cls=localized.Command, help_key="cli.help.native-host",
               context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--ca-bundle", type=existing_file)
@click.option("--pins", "pin_files", type=existing_file, multiple=True)
@click.option("--intel", "intel_files", type=existing_file, multiple=True)
@click.option("--ct-logs", type=existing_file)
@click.option("--no-device-store", is_flag=True)
@click.option("--timeout", type=click.FloatRange(0.1, 120), default=10.0, show_default=True)
@click.option("--proxy", default=None, metavar="URL")
@click.option("--lang", type=click.Choice(list(LANGUAGES)), default=None)
@click.option("--message-timeout", type=click.FloatRange(0.1, 600), default=nativehost.MESSAGE_TIMEOUT, hidden=True)
@click.option("--idle-timeout", type=click.FloatRange(0.1, 86400), default=nativehost.IDLE_TIMEOUT, hidden=True)
@click.argument("caller", nargs=-1, type=click.UNPROCESSED)
def native_host_command(data_dir: Path | None, ca_bundle: Path | None, pin_files: tuple[Path, ...],
                        intel_files: tuple[Path, ...], ct_logs: Path | None, no_device_store: bool, timeout: float,
                        proxy: str | None, lang: str | None, message_timeout: float, idle_timeout: float,
                        caller: tuple[str, ...]) -> None:
    """Speak the browsers' native-messaging protocol on stdin/stdout (the browser starts this; see
    'certguard extension install'). CALLER is what the browser passes: the extension's origin."""
    # Logs go to stderr, which the browsers keep out of the page (Firefox shows it in its browser console).
    logging.basicConfig(level=logging.WARNING, format="certguard native-host: %(levelname)s %(message)s")
    logging.getLogger(__name__).debug("started by %s", " ".join(caller))
    directory = data_dir_of(data_dir)
    host = nativehost.NativeHost(
        directory,
        lambda: context(ca_bundle, pin_files, intel_files, ct_logs, no_device_store, directory),
        probe_options(timeout, proxy), lang)
    done(nativehost.run(host, idle=idle_timeout, timeout=message_timeout))


@click.group("extension", cls=localized.Group, help_key="cli.help.extension")
def extension_group() -> None:
    """Connect the browser extension to certguard: install, remove or show the native-messaging host."""


def _browser_options(f: click.decorators.FC) -> click.decorators.FC:
    for opt in reversed([
        click.option("--browser", type=click.Choice(list(hostinstall.BROWSERS)), required=True),
        option("--user-data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
               key="cli.opt.extension.user-data-dir",
               help="The browser's --user-data-dir, if it runs with one (Chromium-based browsers)."),
        option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
               key="cli.opt.extension.data-dir",
               help="certguard's data directory the host should use (and whose daemon it talks to)."),
        click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None, hidden=True),
    ]):
        f = opt(f)
    return f


def _plan(browser: str, user_data_dir: Path | None, data_dir: Path | None, home: Path | None,
          extra: tuple[str, ...] = ()) -> hostinstall.Plan:
    try:
        return hostinstall.plan(browser, platform.system(), home or Path.home(), data_dir_of(data_dir).resolve(),
                                user_data_dir.resolve() if user_data_dir else None, extra=extra)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@extension_group.command("install", help_key="cli.help.extension.install")
@_browser_options
@click.option("--host-arg", "host_args", multiple=True, hidden=True,
              help="An extra option for the native host (--ca-bundle FILE, --intel FILE: tests, odd setups).")
def extension_install(browser: str, user_data_dir: Path | None, data_dir: Path | None, home: Path | None,
                      host_args: tuple[str, ...]) -> None:
    """Write the native-messaging host manifest (and its launcher) for the current user."""
    tr = Translator()
    p = _plan(browser, user_data_dir, data_dir, home, host_args)
    hostinstall.apply(p)
    click.echo(tr("cli.extension_installed", browser=browser, path=p.manifest_path))
    if p.registry_key:
        click.echo(tr("cli.extension_registry", entry=f"HKEY_CURRENT_USER\\{p.registry_key}"))
    if _EXTENSION_DIR.is_dir():
        click.echo(tr("cli.extension_next", path=_EXTENSION_DIR))
    done(EXIT_OK)


@extension_group.command("uninstall", help_key="cli.help.extension.uninstall")
@_browser_options
def extension_uninstall(browser: str, user_data_dir: Path | None, data_dir: Path | None, home: Path | None) -> None:
    """Remove the native-messaging host manifest for the current user."""
    tr = Translator()
    p = _plan(browser, user_data_dir, data_dir, home)
    if hostinstall.remove(p):
        click.echo(tr("cli.extension_removed", browser=browser, path=p.manifest_path))
    else:
        click.echo(tr("cli.extension_not_installed", browser=browser, path=p.manifest_path))
    done(EXIT_OK)


@extension_group.command("status", help_key="cli.help.extension.status")
@_browser_options
def extension_status(browser: str, user_data_dir: Path | None, data_dir: Path | None, home: Path | None) -> None:
    """Say whether the host is installed for this browser. Exit 0 if it is, 3 if not."""
    tr = Translator()
    p = _plan(browser, user_data_dir, data_dir, home)
    launcher = hostinstall.installed(p)
    if launcher is None:
        click.echo(tr("cli.extension_not_installed", browser=browser, path=p.manifest_path))
        done(EXIT_UNREACHABLE)
    click.echo(tr("cli.extension_status", browser=browser, path=p.manifest_path, launcher=launcher))
    done(EXIT_OK)
