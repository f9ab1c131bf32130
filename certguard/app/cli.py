"""The ``certguard`` command. Thin: parse options, call the layers, render, set the exit code.

Exit codes (DESIGN.md §4):
    0  nothing wrong found
    1  interception or a suspicious chain found
    2  usage or data error (bad option, unreadable or malformed file), or certguard could not decide
    3  nothing reachable (offline, or every site failed)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import sys
import webbrowser
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import certifi
import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from certguard import __version__, device
from certguard.app import desktop
from certguard.app.render import audit_to_json, render_audit_text, render_text, to_json
from certguard.data import anchors
from certguard.data import pins as pin_data
from certguard.data import update as update_mod
from certguard.data.context import data_dir as data_dir_of
from certguard.data.context import load_trust_context
from certguard.data.targets import ConnectTo, Resolve, apply_overrides, load_site_list, parse_target
from certguard.errors import CertguardError
from certguard.i18n import LANGUAGES, Translator
from certguard.judge import audit, certs, pins
from certguard.judge.analyze import TrustContext, analyze_batch, analyze_chain
from certguard.judge.models import ProbeAttempt, Status, Target, Verdict, iso, parse_iso
from certguard.judge.storescan import StoreScan
from certguard.probe import tls as probe
from certguard.watch import daemon, host, service
from certguard.watch.host import DaemonConfig

EXIT_OK, EXIT_FOUND, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

_existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def _trust_options(f: click.decorators.FC) -> click.decorators.FC:
    for opt in reversed([
        click.option("--ca-bundle", type=_existing_file,
                     help="Use the roots in FILE (PEM) instead of Mozilla's (certifi) as the public anchors."),
        click.option("--pins", "pin_files", type=_existing_file, multiple=True,
                     help="Extra pinsets (TOML, as pinned_roots/pins.toml). Repeatable."),
        click.option("--intel", "intel_files", type=_existing_file, multiple=True,
                     help="Extra known interceptors (TOML, as pinned_roots/interceptors.toml). Repeatable."),
        click.option("--ct-logs", type=_existing_file,
                     help="CT log list (Chrome v3 JSON). Default: the copy stored by 'certguard update'."),
        click.option("--no-device-store", is_flag=True, help="Do not read this device's trust store."),
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="certguard's data directory (stored CT log list, history). Default: per user."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON (stable contract) instead of a table."),
        click.option("--lang", type=click.Choice(list(LANGUAGES)), default=None,
                     help="Language of the messages (default: the system locale)."),
    ]):
        f = opt(f)
    return f


def _context(ca_bundle: Path | None, pin_files: Sequence[Path], intel_files: Sequence[Path],
             ct_logs: Path | None, no_device_store: bool, data_dir: Path | None) -> TrustContext:
    return load_trust_context(ca_bundle=ca_bundle, pin_files=pin_files, intel_files=intel_files, ct_logs=ct_logs,
                              use_device_store=not no_device_store, directory=data_dir)


def _exit_code(verdicts: Sequence[Verdict]) -> int:
    statuses = {v.status for v in verdicts}
    if statuses & {Status.INTERCEPTED, Status.SUSPICIOUS}:
        return EXIT_FOUND
    if Status.ERROR in statuses:
        return EXIT_USAGE
    if verdicts and statuses <= {Status.UNREACHABLE}:
        return EXIT_UNREACHABLE
    return EXIT_OK


def _emit(verdicts: Sequence[Verdict], ctx: TrustContext, tr: Translator, as_json: bool, now: datetime) -> None:
    if as_json:
        click.echo(to_json(verdicts, ctx, tr, now))
    else:
        render_text(verdicts, tr, Console(highlight=False))


class _Group(click.Group):
    """Turns certguard's own errors into one clear line and exit code 2, without a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CertguardError as exc:
            click.echo(f"certguard: error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="certguard")
def cli() -> None:
    """Find out whether your TLS connections are being intercepted, by whom, and what to do about it."""


@cli.command()
@click.argument("hosts", nargs=-1)
@click.option("--sites", type=_existing_file, help="Site list: TOML ([[site]]) or one HOST[:PORT] per line.")
@click.option("--low-profile", is_flag=True, help="Skip sites flagged sensitive (probing is visible to the network).")
@click.option("--connect-to", "connect_to", multiple=True, metavar="HOST:PORT:ADDR:ADDRPORT",
              help="Connect to ADDR:ADDRPORT instead (SNI and names still HOST), as in curl. Repeatable.")
@click.option("--resolve", "resolve", multiple=True, metavar="HOST:PORT:ADDR",
              help="Use ADDR for HOST:PORT instead of DNS, as in curl. Repeatable.")
@click.option("--proxy", default=None, metavar="URL",
              help="HTTP proxy for CONNECT tunnels (default: $HTTPS_PROXY).")
@click.option("--timeout", type=click.FloatRange(0.1, 120), default=10.0, show_default=True,
              help="Seconds allowed for the connection and, separately, for the TLS handshake.")
@click.option("--workers", type=click.IntRange(1, 64), default=16, show_default=True,
              help="Sites probed at once.")
@_trust_options
def check(hosts: tuple[str, ...], sites: Path | None, low_profile: bool, connect_to: tuple[str, ...],
          resolve: tuple[str, ...], proxy: str | None, timeout: float, workers: int, ca_bundle: Path | None,
          pin_files: tuple[Path, ...], intel_files: tuple[Path, ...], ct_logs: Path | None, no_device_store: bool,
          data_dir: Path | None, as_json: bool, lang: str | None) -> None:
    """Probe sites (default: the built-in list) and say whether the connection to each is intercepted."""
    tr = Translator(lang)
    targets = [parse_target(h) for h in hosts] if hosts else load_site_list(sites)
    if hosts and sites:
        targets += load_site_list(sites)
    if low_profile:
        targets = [t for t in targets if not t.sensitive]
    targets = apply_overrides(targets, [ConnectTo.parse(c) for c in connect_to], [Resolve.parse(r) for r in resolve])
    proxy_url = proxy or os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    options = probe.ProbeOptions(timeout=timeout, proxy=probe.Proxy.from_url(proxy_url) if proxy_url else None)
    ctx = _context(ca_bundle, pin_files, intel_files, ct_logs, no_device_store, data_dir)

    attempts = _probe_with_progress(targets, options, workers, tr, show=not as_json and sys.stderr.isatty())
    now = datetime.now(UTC)
    verdicts = analyze_batch(attempts, ctx, now)
    _emit(verdicts, ctx, tr, as_json, now)
    code = _exit_code(verdicts)
    if code == EXIT_UNREACHABLE and not as_json:
        click.echo(tr("cli.offline"), err=True)
    if not as_json and not low_profile and not hosts:
        click.echo(tr("cli.visibility"), err=True)
    sys.exit(code)


def _probe_with_progress(targets: Sequence[Target], options: probe.ProbeOptions, workers: int,
                         tr: Translator, show: bool) -> list[ProbeAttempt]:
    if not show:
        return probe.fetch_all(targets, options, workers=workers)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(tr("cli.checking", count=len(targets)), total=len(targets))
        return probe.fetch_all(targets, options, workers=workers,
                               on_done=lambda a: progress.update(task, advance=1, description=a.target.label))


@cli.command()
@click.argument("file", type=_existing_file)
@click.option("--host", required=True, help="The host name the chain was served for.")
@click.option("--port", type=click.IntRange(1, 65535), default=443, show_default=True)
@click.option("--at", "at", default=None, metavar="ISO8601", help="Judge as of this time (default: now).")
@_trust_options
def inspect(file: Path, host: str, port: int, at: str | None, ca_bundle: Path | None, pin_files: tuple[Path, ...],
            intel_files: tuple[Path, ...], ct_logs: Path | None, no_device_store: bool, data_dir: Path | None,
            as_json: bool, lang: str | None) -> None:
    """Judge a saved chain (PEM bundle, leaf first, or one DER certificate) as if HOST had served it."""
    tr = Translator(lang)
    try:
        when = parse_iso(at) if at else datetime.now(UTC)
    except ValueError as exc:
        raise click.BadParameter(f"{at!r} is not an ISO-8601 time", param_hint="--at") from exc
    chain = certs.split_pem_or_der(file.read_bytes(), str(file))
    target = parse_target(host)
    ctx = _context(ca_bundle, pin_files, intel_files, ct_logs, no_device_store, data_dir)
    verdict = analyze_chain(target.host, port, chain, ctx, when)
    _emit([verdict], ctx, tr, as_json, when)
    sys.exit(_exit_code([verdict]))


@cli.command("pins")
@click.option("--pins", "pin_files", type=_existing_file, multiple=True, help="Extra pinsets to include.")
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
        console.print("\n" + tr("cli.pins_summary", missing=report["keys_not_in_mozilla"], total=report["keys_total"],
                                anchors=report["anchors"]), markup=False)
    sys.exit(EXIT_OK)


@cli.command("audit")
@click.option("--store", "store_paths", type=click.Path(exists=True, path_type=Path), multiple=True,
              help="Audit this store only: a PEM/DER file, a folder of them, or an NSS database folder. Repeatable.")
@click.option("--root", "linux_root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Read the Linux system stores under this directory (a mounted disk image) instead of /.")
@click.option("--home", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Look for Firefox and Chromium profiles in this home directory (default: yours).")
@click.option("--check", "with_check", is_flag=True,
              help="Also probe the sites and say which installed root signed which observed connection.")
@click.option("--sites", type=_existing_file, help="With --check: the site list.")
@click.option("--connect-to", "connect_to", multiple=True, metavar="HOST:PORT:ADDR:ADDRPORT",
              help="With --check: as in 'check'.")
@click.option("--timeout", type=click.FloatRange(0.1, 120), default=10.0, show_default=True)
@click.option("--ca-bundle", type=_existing_file, help="Judge against these roots instead of Mozilla's (certifi).")
@click.option("--intel", "intel_files", type=_existing_file, multiple=True, help="Extra known interceptors (TOML).")
@click.option("--all", "show_all", is_flag=True, help="List the certificates from Mozilla's program too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (roots[] with store, trust and verdict).")
@click.option("--lang", type=click.Choice(list(LANGUAGES)), default=None)
def audit_command(store_paths: tuple[Path, ...], linux_root: Path | None, home: Path | None, with_check: bool,
                  sites: Path | None, connect_to: tuple[str, ...], timeout: float, ca_bundle: Path | None,
                  intel_files: tuple[Path, ...], show_all: bool, as_json: bool, lang: str | None) -> None:
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
    verdicts: list[Verdict] = []
    if with_check:
        targets = apply_overrides(load_site_list(sites), [ConnectTo.parse(c) for c in connect_to], [])
        attempts = probe.fetch_all(targets, probe.ProbeOptions(timeout=timeout))
        verdicts = analyze_batch(attempts, ctx, datetime.now(UTC))
    report = audit.judge(scan, ctx.mozilla, ctx.intel, verdicts)
    if as_json:
        click.echo(audit_to_json(report, tr, datetime.now(UTC), ctx.mozilla.source))
    else:
        render_audit_text(report, tr, Console(highlight=False), show_all)
    sys.exit(EXIT_FOUND if report.trusted_interceptors else EXIT_OK)


@cli.group("daemon")
def daemon_group() -> None:
    """Watch continuously: probe on a schedule and on network changes, remember, notify, serve the local API."""


def _daemon_options(f: click.decorators.FC) -> click.decorators.FC:
    """The options of a daemon; ``ui`` takes them too, for when it has to start one in-process."""
    for option in reversed([
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Where history, settings, api.json and api.token live. Default: per user."),
        click.option("--interval", type=click.FloatRange(0.05, 86400), default=None,
                     help="Seconds between rounds (default 1800, or the saved setting), with ±10% jitter."),
        click.option("--api-port", type=click.IntRange(0, 65535), default=0, show_default=True,
                     help="Port of the local API on 127.0.0.1 (0: any free port; see api.json)."),
        click.option("--sites", type=_existing_file, help="Site list: TOML ([[site]]) or one HOST[:PORT] per line."),
        click.option("--low-profile", is_flag=True, help="Skip sites flagged sensitive."),
        click.option("--connect-to", "connect_to", multiple=True, metavar="HOST:PORT:ADDR:ADDRPORT"),
        click.option("--resolve", "resolve", multiple=True, metavar="HOST:PORT:ADDR"),
        click.option("--timeout", type=click.FloatRange(0.1, 120), default=10.0, show_default=True),
        click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True),
        click.option("--ca-bundle", type=_existing_file),
        click.option("--pins", "pin_files", type=_existing_file, multiple=True),
        click.option("--intel", "intel_files", type=_existing_file, multiple=True),
        click.option("--ct-logs", type=_existing_file),
        click.option("--no-device-store", is_flag=True),
        click.option("--prometheus-textfile", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Also write the state for node_exporter's textfile collector to this file (opt-in)."),
    ]):
        f = option(f)
    return f


def _daemon_config(data_dir: Path | None, interval: float | None, api_port: int, sites: Path | None,
                   low_profile: bool, connect_to: tuple[str, ...], resolve: tuple[str, ...], timeout: float,
                   workers: int, ca_bundle: Path | None, pin_files: tuple[Path, ...], intel_files: tuple[Path, ...],
                   ct_logs: Path | None, no_device_store: bool, prometheus_textfile: Path | None) -> DaemonConfig:
    return DaemonConfig(data_dir_of(data_dir), interval, api_port, sites, low_profile,
                        tuple(ConnectTo.parse(c) for c in connect_to), tuple(Resolve.parse(r) for r in resolve),
                        timeout, workers, ca_bundle, pin_files, intel_files, ct_logs, not no_device_store,
                        prometheus_textfile)


@daemon_group.command("run")
@_daemon_options
def daemon_run(**options: Any) -> None:
    """Run the daemon in the foreground until SIGTERM/SIGINT (a service manager starts it this way)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with host.hosted(_daemon_config(**options)) as h:
        daemon.install_signal_handlers(h.stop)
        h.daemon.run()
    sys.exit(EXIT_OK)


@daemon_group.command("install")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None, hidden=True)
@click.option("--no-enable", is_flag=True, help="Only write the service file; do not enable or start it.")
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
    sys.exit(EXIT_OK)


@daemon_group.command("uninstall")
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
    sys.exit(EXIT_OK)


@daemon_group.command("status")
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
        sys.exit(EXIT_OK)
    click.echo(Translator()("cli.daemon_not_running", directory=directory))
    sys.exit(EXIT_UNREACHABLE)


@cli.command("ui")
@click.option("--browser", "use_browser", is_flag=True,
              help="Open the UI in your default browser (a one-time login link) instead of a window.")
@click.option("--print-url", is_flag=True, help="Print the one-time login URL instead of opening anything.")
@click.option("--lang", type=click.Choice(list(LANGUAGES)), default=None, help="Language of the UI.")
@click.option("--screenshot", type=click.Path(dir_okay=False, path_type=Path), default=None, hidden=True,
              help="Save the window as PNG once a verdict shows, then close it (tests, documentation).")
@_daemon_options
def ui_command(use_browser: bool, print_url: bool, lang: str | None, screenshot: Path | None,
               **options: Any) -> None:
    """Open certguard's window on the daemon for --data-dir (starting one in-process if none runs).

    The daemon options apply only when the window has to start the daemon itself.
    """
    tr = Translator(lang)
    cfg = _daemon_config(**options)
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
            sys.exit(EXIT_OK)
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
        click.echo(tr(exc.key, detail=exc.detail), err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK)


@cli.command("update")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to store the data. Default: certguard's per-user data directory.")
@click.option("--url", default=update_mod.CT_LOG_LIST.url, show_default=True, help="Where the CT log list is.")
@click.option("--signature-url", default=update_mod.CT_LOG_LIST.signature_url, show_default=True,
              help="Where its detached signature is.")
@click.option("--file", "from_file", type=_existing_file, default=None,
              help="Import a log list carried here by other means (verified exactly like a download).")
@click.option("--signature-file", type=_existing_file, default=None, help="The signature for --file.")
@click.option("--ca-bundle", type=_existing_file, default=None,
              help="TLS anchors for the download (default: Mozilla's, from certifi; never the OS store).")
@click.option("--signing-key", type=_existing_file, default=None, hidden=True,
              help="PEM public key of a mirror that signs with its own key (default: Google's log-list key).")
@click.option("--proxy", default=None, metavar="URL", help="HTTP proxy for CONNECT tunnels (default: $HTTPS_PROXY).")
@click.option("--timeout", type=click.FloatRange(1, 600), default=60.0, show_default=True,
              help="Seconds allowed for each download.")
@click.option("--json", "as_json", is_flag=True)
def update_command(data_dir: Path | None, url: str, signature_url: str, from_file: Path | None,
                   signature_file: Path | None, ca_bundle: Path | None, signing_key: Path | None, proxy: str | None,
                   timeout: float, as_json: bool) -> None:
    """Download Chrome's CT log list, check Google's signature on it, and store it for 'check' and 'inspect'.

    Nothing is stored unless the signature verifies and the list is newer than the stored one: an intercepted
    network can stop an update but cannot change the data.
    """
    if (from_file is None) != (signature_file is None):
        raise click.UsageError("--file and --signature-file go together")
    feed = dataclasses.replace(update_mod.CT_LOG_LIST, url=url, signature_url=signature_url)
    if signing_key is not None:
        feed = dataclasses.replace(feed, key_pem=update_mod.load_key(signing_key))
    fetch = probe.https_get
    if from_file is not None and signature_file is not None:
        feed = dataclasses.replace(feed, url=str(from_file), signature_url=str(signature_file))
        fetch = update_mod.local_fetch({feed.url: from_file, feed.signature_url: signature_file},
                                       feed.content_types[0])
    proxy_url = proxy or os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    result = update_mod.update(feed, data_dir_of(data_dir), datetime.now(UTC),
                               cafile=str(ca_bundle) if ca_bundle else certifi.where(), timeout=timeout,
                               proxy=probe.Proxy.from_url(proxy_url) if proxy_url else None, fetch=fetch)
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
    sys.exit(EXIT_OK)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (for tests and ``python -m certguard``)."""
    try:
        # standalone_mode=False: click returns instead of exiting, except for our own sys.exit(code)
        rv = cli.main(args=list(argv) if argv is not None else None, prog_name="certguard", standalone_mode=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_USAGE)
    except click.exceptions.Abort:
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    # ctx.exit(code) (our error path) comes back as the return value in non-standalone mode
    return rv if isinstance(rv, int) else EXIT_OK
