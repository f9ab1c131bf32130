"""The daemon and its files under faults (issue 13): read-only and full disks (real mounts: a read-only bind mount
and a small tmpfs, made by the test as root), bad settings, a scrambled history, unknown platforms.

Each fault gives one clear line (exit 2) or the daemon's own message, never a traceback, and loses nothing: the
files are left as they were, and a round whose history could not be written still warns the user."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from certguard.errors import ConfigError, DataError
from certguard.judge.analyze import TrustContext
from certguard.probe import tls as probe
from certguard.watch import daemon, notify, service
from certguard.watch.history import History

ENV = {**os.environ, "CERTGUARD_LANG": "en", "PYTHONUNBUFFERED": "1"}


def _can_mount() -> bool:
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "--version"], capture_output=True, check=False).returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs root and mount(8) for a read-only bind mount / tmpfs")


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """``folder`` bind-mounted onto itself read-only (root ignores permission bits: only a mount stops it)."""
    subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "2m") -> Iterator[Path]:
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path) -> Path:
    """Fill the disk up to the last byte."""
    filler = folder / "filler"
    filler.touch()
    with open(filler, "wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 4096)
    with open(filler, "ab", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0")
    return filler


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "certguard", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV, check=False)


def one_error_line(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("certguard: error:")]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


# ---- start-up faults ------------------------------------------------------------------------------------------

@needs_mount
def test_a_read_only_data_folder_is_one_clear_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with read_only(data):
        one_error_line(cli("daemon", "run", "--data-dir", str(data), "--interval", "60"), "read-only file system")
    assert list(data.iterdir()) == []
    # control: the same folder writable starts (and is stopped right away by a bad interval? no: by SIGTERM below)


def test_bad_settings_files_name_the_file_and_are_left_alone(tmp_path: Path) -> None:
    deep = tmp_path / "deep"
    deep.mkdir()
    (deep / "settings.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        daemon.load_settings(deep / "settings.json")
    folder = tmp_path / "folder"
    (folder / "settings.json").mkdir(parents=True)
    with pytest.raises(ConfigError, match="is not a file"):
        daemon.load_settings(folder / "settings.json")
    one_error_line(cli("daemon", "run", "--data-dir", str(deep), "--interval", "60"), "settings.json")
    assert (deep / "settings.json").read_text().startswith("[[[")  # untouched
    # control: a valid file loads
    (tmp_path / "ok.json").write_text(json.dumps({"quiet": True}))
    assert daemon.load_settings(tmp_path / "ok.json").quiet is True


def test_a_scrambled_history_says_move_it_away_and_bad_rows_are_skipped(tmp_path: Path) -> None:
    good = History(tmp_path / "h.sqlite3")
    good.close()
    raw = bytearray((tmp_path / "h.sqlite3").read_bytes())
    raw[100:4096] = os.urandom(len(raw[100:4096]))  # scramble the schema page, keep the header
    (tmp_path / "h.sqlite3").write_bytes(bytes(raw))
    with pytest.raises(DataError, match="move it away"):
        History(tmp_path / "h.sqlite3")
    # rows whose JSON is damaged are skipped, not fatal, and stay in the file
    other = tmp_path / "rows"
    h = History(other / "h.sqlite3")
    h.close()
    db = sqlite3.connect(other / "h.sqlite3")
    db.execute("INSERT INTO verdicts(host, port, network, status, severity, signature, first_seen, last_seen, doc) "
               "VALUES ('a.test', 443, 'n', 'ok', 'info', 's', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '{')")
    db.execute("INSERT INTO verdicts(host, port, network, status, severity, signature, first_seen, last_seen, doc) "
               "VALUES ('b.test', 443, 'n', 'ok', 'info', 's', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '{}')")
    db.commit()
    db.close()
    h = History(other / "h.sqlite3")
    assert h.latest() == [] and h.count() == 2
    h.close()


@needs_mount
def test_a_full_disk_at_start_is_not_called_a_broken_database(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        History(disk / "h.sqlite3").close()
        size = (disk / "h.sqlite3").stat().st_size
        filler = fill(disk)
        # WAL mode needs room for the -wal/-shm files: opening the intact database on a full disk fails
        with pytest.raises(DataError) as err:
            History(disk / "h.sqlite3")
        assert "move it away" not in str(err.value) and (disk / "h.sqlite3").stat().st_size == size
        filler.unlink()
        History(disk / "h.sqlite3").close()  # control: with room again it opens


def test_service_on_an_unknown_platform_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Plan9"):
        service.plan("Plan9", tmp_path, None)
    assert service.plan("Linux", tmp_path, None).path is not None  # control


# ---- faults while running -----------------------------------------------------------------------------------------

@needs_mount
def test_a_full_disk_during_a_round_still_warns_and_recovers(tmp_path: Path,
                                                             ctx_factory: Callable[..., TrustContext]) -> None:
    from datetime import UTC, datetime

    from certguard.judge.models import ProbeAttempt, ProbeFailure, Target

    sent: list[str] = []

    def sender(title: str, body: str) -> bool:
        sent.append(title)
        return True

    with small_disk(tmp_path / "disk") as disk:
        d = daemon.Daemon(disk, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                          notifier=notify.Notifier(sender), settings=daemon.Settings())
        try:
            attempts = [ProbeAttempt(Target("a.test"), datetime.now(UTC), failure=ProbeFailure.RESET),
                        ProbeAttempt(Target("b.test"), datetime.now(UTC), chain=(b"\x30\x03bad",))]
            filler = fill(disk)
            rnd = d.pipeline.judge_round(attempts, "n")
            assert {v.host: v.status.value for v in rnd.verdicts} == {"a.test": "blocked", "b.test": "suspicious"}
            assert d.problem is not None and "disk full" in d.problem
            assert "certguard cannot save its history" in sent  # said once...
            assert any("b.test" in s for s in sent), "...and the round's own alert still went out"
            assert d.latest.verdicts and not d.latest.running
            d.pipeline.judge_round(attempts, "n")
            assert sent.count("certguard cannot save its history") == 1
            filler.unlink()
            d.pipeline.judge_round(attempts, "n")  # control: with room again it records and clears the problem
            assert getattr(d, "problem") is None and d.history.count() >= 2  # noqa: B009 (mypy narrowed it above)
        finally:
            d.history.close()


@needs_mount
def test_a_folder_that_turns_read_only_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "sites.txt").write_text("127.0.0.1:9\n")  # a closed port on loopback: probes fail fast, nothing leaves
    proc = subprocess.Popen([sys.executable, "-m", "certguard", "daemon", "run", "--data-dir", str(data),
                             "--sites", str(data / "sites.txt"), "--interval", "3600", "--timeout", "1",
                             "--no-device-store"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        deadline = time.monotonic() + 30
        while not (data / "api.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (data / "api.json").exists()
        time.sleep(1.0)  # api.json is written just before the signal handlers are installed
        with read_only(data):
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "could not remove api.json" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_turns_os_errors_into_one_line(tmp_path: Path, run_cli: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run_cli("daemon", "run", "--data-dir", str(blocker / "sub"))  # a path through a file: ENOTDIR
    assert res.exit_code == 2 and res.stderr.startswith("certguard: error: ") and "Traceback" not in res.output
