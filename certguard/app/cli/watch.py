"""``certguard daemon …`` and ``certguard ui``: the continuous watch and its window."""

from __future__ import annotations

import dataclasses
import logging
import os
import webbrowser
from pathlib import Path
from typing import Any

import click

from certguard.app import desktop, host
from certguard.app.cli import localized
from certguard.app.cli.common import done, existing_file, target_options
from certguard.app.cli.localized import option
from certguard.app.host import DaemonConfig
from certguard.data.context import data_dir as data_dir_of
from certguard.data.targets import ConnectTo, Resolve
from certguard.i18n import LANGUAGES, Translator
from certguard.judge.models import EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE
from certguard.watch import daemon, service


@click.group("daemon", cls=localized.Group, help_key="cli.help.daemon")
def daemon_group() -> None:
    """Watch continuously: probe on a schedule and on network changes, remember, notify, serve the local API."""


def _daemon_options(f: click.decorators.FC) -> click.decorators.FC:
    """The options of a daemon; ``ui`` takes them too, for when it has to start one in-process."""
    for opt in reversed([
        option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
               key="cli.opt.daemon.data-dir",
               help="Where history, settings, api.json and api.token live. Default: per user."),
        option("--interval", type=click.FloatRange(0.05, 86400), default=None,
               key="cli.opt.daemon.interval",
               help="Seconds between rounds (default 1800, or the saved setting), with ±10% jitter."),
        option("--api-port", type=click.IntRange(0, 65535), default=0, show_default=True,
               key="cli.opt.daemon.api-port",
               help="Port of the local API on 127.0.0.1 (0: any free port; see api.json)."),
        target_options,
        click.option("--workers", type=click.IntRange(1, 256), default=64, show_default=True),
        click.option("--ca-bundle", type=existing_file),
        click.option("--pins", "pin_files", type=existing_file, multiple=True),
        click.option("--intel", "intel_files", type=existing_file, multiple=True),
        click.option("--ct-logs", type=existing_file),
        click.option("--no-device-store", is_flag=True),
        option("--prometheus-textfile", type=click.Path(dir_okay=False, path_type=Path), default=None,
               key="cli.opt.daemon.prometheus-textfile",
               help="Also write the state for node_exporter's textfile collector to this file (opt-in)."),
    ]):
        f = opt(f)
    return f


def _daemon_config(data_dir: Path | None, interval: float | None, api_port: int, sites: Path | None,
                   low_profile: bool, connect_to: tuple[str, ...], resolve: tuple[str, ...], proxy: str | None,
                   timeout: float, workers: int, ca_bundle: Path | None, pin_files: tuple[Path, ...],
                   intel_files: tuple[Path, ...], ct_logs: Path | None, no_device_store: bool,
                   prometheus_textfile: Path | None) -> DaemonConfig:
    return DaemonConfig(data_dir_of(data_dir), interval, api_port, sites, low_profile,
                        tuple(ConnectTo.parse(c) for c in connect_to), tuple(Resolve.parse(r) for r in resolve),
                        timeout, workers, ca_bundle, pin_files, intel_files, ct_logs, not no_device_store,
                        prometheus_textfile, proxy=proxy)


@daemon_group.command("run", help_key="cli.help.daemon.run")
@_daemon_options
@option("--ask-first", is_flag=True, key="cli.opt.daemon.ask-first",
        help="On the first run, probe nothing until the notice that probing is visible has been answered in the UI.")
def daemon_run(ask_first: bool, **options: Any) -> None:
    """Run the daemon in the foreground until SIGTERM/SIGINT (a service manager starts it this way)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with host.hosted(dataclasses.replace(_daemon_config(**options), ask_first=ask_first)) as h:
        daemon.install_signal_handlers(h.stop)
        h.daemon.run()
    done(EXIT_OK)


@daemon_group.command("install", help_key="cli.help.daemon.install")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None, hidden=True)
@option("--no-enable", is_flag=True, key="cli.opt.daemon.no-enable",
        help="Only write the service file; do not enable or start it.")
def daemon_install(data_dir: Path | None, home: Path | None, no_enable: bool) -> None:
    """Install the daemon as your user's service (systemd user unit, launchd agent or logon task)."""
    tr = Translator()
    plan = service.plan(service.current_system(), home or Path.home(), data_dir)
    if plan.path is not None:
        plan.path.parent.mkdir(parents=True, exist_ok=True)
        plan.path.write_bytes(plan.content)
        click.echo(tr("cli.service_wrote", path=plan.path))
        if plan.system == "Linux":
            ok, output = service.verify_unit(plan.path)
            if not ok:
                raise click.ClickException(f"systemd-analyze verify rejected {plan.path}:\n{output}")
    failures = [] if no_enable else service.run_all(plan.enable)
    for f in failures:
        click.echo(tr("cli.warning", message=f), err=True)
    if not no_enable and not failures:
        click.echo(tr("cli.service_started"))
    done(EXIT_OK)


@daemon_group.command("uninstall", help_key="cli.help.daemon.uninstall")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None, hidden=True)
def daemon_uninstall(home: Path | None) -> None:
    """Stop and remove the service (history and settings stay in the data directory)."""
    tr = Translator()
    plan = service.plan(service.current_system(), home or Path.home(), None)
    for f in service.run_all(plan.disable):
        click.echo(tr("cli.warning", message=f), err=True)
    if plan.path is not None and plan.path.exists():
        plan.path.unlink()
        click.echo(tr("cli.service_removed", path=plan.path))
    done(EXIT_OK)


@daemon_group.command("status", help_key="cli.help.daemon.status")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def daemon_status(data_dir: Path | None) -> None:
    """Say whether a daemon runs for this data directory, and where its API is. Exit 0 if running, 3 if not."""
    directory = data_dir_of(data_dir)
    info = daemon.read_api_info(directory)
    pid = info.get("pid") if info else None
    alive = False
    if isinstance(pid, int):
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
    if alive and info:
        click.echo(Translator()("cli.daemon_running", pid=pid, url=info.get("url")))
        done(EXIT_OK)
    click.echo(Translator()("cli.daemon_not_running", directory=directory))
    done(EXIT_UNREACHABLE)


@click.command("ui", cls=localized.Command, help_key="cli.help.ui")
@option("--browser", "use_browser", is_flag=True,
        key="cli.opt.ui.browser",
        help="Open the UI in your default browser (a one-time login link) instead of a window.")
@option("--print-url", is_flag=True, key="cli.opt.ui.print-url",
        help="Print the one-time login URL instead of opening anything.")
@option("--lang", type=click.Choice(list(LANGUAGES)), default=None, key="cli.opt.ui.lang", help="Language of the UI.")
@click.option("--screenshot", type=click.Path(dir_okay=False, path_type=Path), default=None, hidden=True,
              help="Save the window as PNG once a verdict shows, then close it (tests, documentation).")
@_daemon_options
def ui_command(use_browser: bool, print_url: bool, lang: str | None, screenshot: Path | None,
               **options: Any) -> None:
    """Open certguard's window on the daemon for --data-dir (starting one in-process if none runs).

    The daemon options apply only when the window has to start the daemon itself.
    """
    tr = Translator(lang)
    # A daemon the window starts itself is the desktop app's: on its first run it probes nothing before the user
    # has answered the notice that probing is visible (OONI's informed-consent step).
    cfg = dataclasses.replace(_daemon_config(**options), ask_first=True)
    window = not (use_browser or print_url)

    def show(url: str) -> None:
        if print_url:
            click.echo(url)
        elif use_browser:
            if not webbrowser.open(url):
                click.echo(tr("cli.ui_no_browser"), err=True)
                click.echo(url)
        else:
            desktop.open_window(url, tr("ui.title"), screenshot)

    try:
        if window:
            desktop.check_gui()
        url = desktop.login_url(cfg.directory, lang)
        if url is not None:
            show(url)
            done(EXIT_OK)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        with host.hosted(cfg) as h, host.in_background(h, cfg.timeout + 5):
            url = f"{h.url}/login?code={h.sessions.new_code(lang)}"
            if window:
                show(url)  # returns when the window is closed; the in-process daemon stops with it
            else:
                # The daemon lives in this process: keep it serving the browser until Ctrl-C / SIGTERM.
                daemon.install_signal_handlers(h.stop)
                show(url)
                click.echo(tr("cli.ui_serving", url=h.url), err=True)
                # Wake up now and then: a signal may be delivered to another thread, and Python runs its handler
                # only when the main thread executes bytecode (an untimed wait could sleep through SIGTERM).
                while not h.daemon.stop.wait(timeout=0.5):
                    pass
    except desktop.GuiUnavailable as exc:
        click.echo(tr(exc.key, detail=exc.detail) if exc.key else str(exc), err=True)
        done(EXIT_USAGE)
    done(EXIT_OK)


