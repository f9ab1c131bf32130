"""Hosting a daemon: build it from its options, serve its API on 127.0.0.1, announce it in ``api.json``.

``certguard daemon run`` hosts one in the foreground; ``certguard ui`` hosts one in-process when none is running, so
the window always has a daemon behind it. Both go through ``hosted()`` so they behave the same (one per data
directory, a fresh token, ``api.json`` removed on the way out).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from waitress.server import TcpWSGIServer, create_server

from certguard import device
from certguard.app import api
from certguard.data.context import load_trust_context
from certguard.data.files import describe_os_error
from certguard.data.targets import ConnectTo, Resolve, apply_overrides
from certguard.judge import audit
from certguard.watch import daemon, notify
from certguard.watch.pipeline import probe_options

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DaemonConfig:
    """The options of ``daemon run`` (and of ``ui`` when it has to start a daemon itself)."""

    directory: Path
    interval: float | None = None
    api_port: int = 0
    sites: Path | None = None
    low_profile: bool = False
    connect_to: tuple[ConnectTo, ...] = ()
    resolve: tuple[Resolve, ...] = ()
    timeout: float = 10.0
    workers: int = 8
    ca_bundle: Path | None = None
    pin_files: tuple[Path, ...] = ()
    intel_files: tuple[Path, ...] = ()
    ct_logs: Path | None = None
    use_device_store: bool = True
    prometheus: Path | None = None
    proxy: str | None = None  # --proxy, else $HTTPS_PROXY (as for 'check')
    ask_first: bool = False  # first run: probe nothing before the user answered the consent notice (the UI)


@dataclass
class Hosted:
    daemon: daemon.Daemon
    url: str
    sessions: api.Sessions
    sender_name: str

    def stop(self) -> None:
        self.daemon.stop.set()
        self.daemon.trigger.set()


@contextlib.contextmanager
def hosted(cfg: DaemonConfig) -> Iterator[Hosted]:
    """A daemon with its API served on 127.0.0.1; the caller runs ``daemon.run()`` (in the foreground or a thread).

    Raises:
        AlreadyRunning: another daemon holds this data directory.
        ConfigError / DataError: bad settings, pins, intel or CT files (nothing is started then).
    """
    directory = cfg.directory
    with daemon.single_instance(directory):
        settings = daemon.load_settings(directory / "settings.json", cfg.interval)
        if cfg.low_profile:
            settings = dataclasses.replace(settings, low_profile=True)
        ctx = load_trust_context(ca_bundle=cfg.ca_bundle, pin_files=cfg.pin_files, intel_files=cfg.intel_files,
                                 ct_logs=cfg.ct_logs, use_device_store=cfg.use_device_store, directory=directory)
        base = daemon.site_targets(cfg.sites)
        sender_name, sender = notify.default_sender()
        d = daemon.Daemon(directory, ctx,
                          base_targets=lambda st: apply_overrides(base(st), list(cfg.connect_to), list(cfg.resolve)),
                          options=probe_options(cfg.timeout, cfg.proxy), notifier=notify.Notifier(sender),
                          settings=settings, workers=cfg.workers, prometheus=cfg.prometheus,
                          notifier_name=sender_name, ask_first=cfg.ask_first,
                          audit=lambda: audit.judge(device.read_device(), ctx.mozilla,
                                                    ctx.intel))
        token = daemon.new_token(directory)
        sessions = api.Sessions()
        # Each open UI holds one worker for its event stream: more workers than the EventBus admits listeners,
        # so the API always has workers left for ordinary requests.
        # max_request_body_size: waitress would otherwise buffer up to 1 GiB (to disk) before the app's own limit
        # could refuse it, for anyone on this machine, logged in or not.
        server = create_server(api.create_app(d, token, sessions=sessions), host="127.0.0.1", port=cfg.api_port,
                               max_request_body_size=api.MAX_BODY,
                               threads=d.events.max_subscribers + 8, ident="certguard")
        if not isinstance(server, TcpWSGIServer) or server.socket is None:  # one host:port gives one TCP server
            raise RuntimeError("unexpected waitress server type")
        url = f"http://127.0.0.1:{int(server.socket.getsockname()[1])}"
        daemon.write_api_info(directory, url)
        threading.Thread(target=server.run, name="api", daemon=True).start()
        log.info("API on %s, notifications via %s", url, sender_name)
        try:
            yield Hosted(d, url, sessions, sender_name)
        finally:
            d.stop.set()
            d.trigger.set()
            server.close()
            try:
                (directory / "api.json").unlink(missing_ok=True)
            except OSError as exc:  # a folder that became read-only: a stale api.json is detected by its pid later
                log.warning("could not remove api.json: %s", describe_os_error(exc, directory / "api.json"))
            d.history.close()


@contextlib.contextmanager
def in_background(h: Hosted, join_timeout: float) -> Iterator[None]:
    """Run the daemon's schedule in a thread for the duration (``certguard ui`` keeps the main thread for Qt)."""
    worker = threading.Thread(target=h.daemon.run, name="daemon", daemon=True)
    worker.start()
    try:
        yield
    finally:
        h.stop()
        worker.join(timeout=join_timeout)  # a round in progress ends within the probe timeout
